"""The quartic toy model of 002 §2: symbolic derivation, exact numerics, regimes and batch evaluation."""

from .model import QuarticModel, QuarticRegimes

__all__ = ["QuarticModel", "QuarticRegimes"]
