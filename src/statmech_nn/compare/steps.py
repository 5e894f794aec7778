"""Which optimizer steps of a tracked weight are pure weight decay (002 Fig. 2's peak and its origin, §2).

With SGD and an L2 term λ, one step is w(t+1) = w(t) - η (∂L/∂w + λ w(t)). When the gradient of the
loss is exactly zero for that step (a first-layer weight whose input pixel is 0 for the sample, a
weight into or out of a ReLU unit that is off), the increment is deterministic:

    Δ(t) = w(t+1) - w(t) = -κ w(t),   κ = η λ,

equal to it up to the rounding of the stored dtype (|Δ + κ w| ≤ a few units in the last place of
w). Those steps pile up at |Δ| ≈ κ|w|, far below the gradient steps: a sharp peak at very small
fluctuations that has nothing to do with the frustrated regime of 002 §2.

κ comes from the trajectory's metadata (``lr`` × ``weight_decay`` of plain SGD) when present, else
from the trajectory alone: a column whose every increment satisfies Δ = -κ̂ w to rounding for its own
least-squares κ̂ > 0 is decay-only, and the median κ̂ of those columns identifies the decay steps of
the others. Without either, no step is labelled decay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ULPS = 2.0  # the fast engine and torch round one step to within one unit in the last place of w


@dataclass(frozen=True)
class DecaySplit:
    """Per lag-1 increment (T-1, K): ``decay`` True where Δ = -κ w to rounding; κ per column (NaN: none)."""

    decay: np.ndarray
    kappa: np.ndarray
    source: str          # where κ came from: "metadata (lr * weight_decay)", "decay-only columns", or "none"

    @property
    def decay_only(self) -> np.ndarray:
        """Columns whose every step is decay (and that moved)."""
        return self.decay.all(axis=0) & np.isfinite(self.kappa) & (self.kappa > 0)


def metadata_rate(parameters: dict | None) -> float | None:
    """κ = lr · weight_decay of a plain-SGD run (no momentum), from a trajectory's parameters; else None."""
    parameters = parameters or {}
    try:
        lr, decay = float(parameters.get("lr")), float(parameters.get("weight_decay"))
    except (TypeError, ValueError):
        return None
    if str(parameters.get("optimizer", "sgd")).lower() != "sgd" or float(parameters.get("momentum") or 0.0) != 0.0:
        return None
    return lr * decay if np.isfinite(lr * decay) and lr * decay > 0 else None


def _rounding(q: np.ndarray, ulps: float) -> np.ndarray:
    """ulps units in the last place (of q's own dtype) of the larger |w| at the two ends of each step."""
    dtype = q.dtype if np.issubdtype(q.dtype, np.floating) else np.dtype(float)
    larger = np.maximum(np.abs(q[1:]), np.abs(q[:-1])).astype(dtype)
    return ulps * np.spacing(larger).astype(float)


def _matches(q: np.ndarray, kappa, ulps: float) -> np.ndarray:
    w = q[:-1].astype(float)
    delta = q[1:].astype(float) - w
    return np.abs(delta + np.asarray(kappa, float) * w) <= _rounding(q, ulps)


def column_rates(q: np.ndarray) -> np.ndarray:
    """Least-squares κ̂ of Δ = -κ w per column (NaN for a column at w = 0 throughout)."""
    w = q[:-1].astype(float)
    delta = q[1:].astype(float) - w
    norm = np.sum(w * w, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, -np.sum(delta * w, axis=0) / norm, np.nan)


def split_decay_steps(q, parameters: dict | None = None, ulps: float = ULPS) -> DecaySplit:
    """Label every lag-1 increment of q (T, K) as weight decay or gradient step (see the module docstring)."""
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.floating):
        q = q.astype(float)
    k = q.shape[1]
    own = column_rates(q)
    with np.errstate(invalid="ignore"):
        own_fits = (own > 0) & _matches(q, np.nan_to_num(own), ulps).all(axis=0)
    kappa = metadata_rate(parameters)
    source = "metadata (lr * weight_decay)"
    if kappa is None and own_fits.any():
        kappa, source = float(np.median(own[own_fits])), "decay-only columns"
    if kappa is None:
        decay = np.zeros((q.shape[0] - 1, k), bool)
        decay[:, own_fits] = True
        return DecaySplit(decay, np.where(own_fits, own, np.nan), "decay-only columns" if own_fits.any() else "none")
    decay = _matches(q, kappa, ulps)
    decay[:, own_fits] = True
    return DecaySplit(decay, np.where(own_fits, own, kappa), source)
