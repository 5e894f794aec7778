"""statmech-nn: the statistical mechanics of learning, theory next to experiment.

Analytic models (``quartic``, ``meanfield``, ``linearized``), sources of data
(``sampling``, ``networks``) and one comparison layer (``observables``,
``compare``) that reads every source through the same Trajectory contract
(``statmech_nn.io``).

Track any torch model in your own training loop with ``statmech_nn.track``
(:mod:`statmech_nn.networks.tracker`) and analyse what it recorded, in memory, with
``statmech_nn.analyze(trajectory | array (T, K) | path)`` (:func:`statmech_nn.report.analysis.analyze`).
Both are imported on first use, so that ``import statmech_nn`` stays light (no torch, numba or matplotlib).
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {"track": "statmech_nn.networks.tracker",
         "analyze": "statmech_nn.report.analysis",
         "AnalysisOptions": "statmech_nn.compare.analysis"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
