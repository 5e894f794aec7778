"""The quartic toy model of 002 §2: symbolic derivation, exact numerics, regimes and batch evaluation."""

from ..lazy import lazy_exports

_EXPORTS = {"QuarticModel": "model", "QuarticRegimes": "model"}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
