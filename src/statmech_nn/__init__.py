"""statmech-nn: the statistical mechanics of learning, theory next to experiment.

Analytic models (``quartic``, ``meanfield``, ``linearized``), sources of data
(``sampling``, ``networks``) and one comparison layer (``observables``,
``compare``) that reads every source through the same Trajectory contract
(``statmech_nn.io``).

Track any torch model in your own training loop with ``statmech_nn.track``
(:mod:`statmech_nn.networks.tracker`) and analyse what it recorded, in memory, with
``statmech_nn.analyze(trajectory | array (T, K) | path)`` (:func:`statmech_nn.report.analysis_figures.analyze`).
Both are imported on first use, so that ``import statmech_nn`` stays light (no torch, numba or matplotlib).
"""

from .lazy import lazy_exports

__version__ = "0.1.0"

__getattr__, __dir__ = lazy_exports(__name__, {"track": "networks.tracker", "analyze": "report.analysis_figures",
                                               "AnalysisOptions": "compare.analysis"})
