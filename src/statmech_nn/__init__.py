"""statmech-nn: the statistical mechanics of learning, theory next to experiment.

Analytic models (``toy``, ``meanfield``, ``linearized``), sources of data
(``sampling``, ``networks``) and one comparison layer (``observables``,
``compare``) that reads every source through the same Trajectory contract
(``statmech_nn.io``).

``statmech_nn.analyze(trajectory | array (T, K) | path)`` analyses tracked variables in memory
(:func:`statmech_nn.report.analysis.analyze`); it is imported on first use, so that importing the
package stays light (no torch, numba or matplotlib).
"""

__version__ = "0.1.0"

_LAZY = {"analyze": ("statmech_nn.report.analysis", "analyze"),
         "AnalysisOptions": ("statmech_nn.report.analysis", "AnalysisOptions")}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'statmech_nn' has no attribute {name!r}")
