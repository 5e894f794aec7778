"""Which analysed steps of a tracked weight are pure weight decay (002 Fig. 2's peak and its origin, §2).

With SGD and an L2 term λ, one step is w(t+1) = w(t) - η (∂L/∂w + λ w(t)). When the gradient of the
loss is exactly zero for that step (a first-layer weight whose input pixel is 0 for the sample, a
weight into or out of a ReLU unit that is off), the increment is deterministic:

    Δ(t) = w(t+1) - w(t) = -κ w(t),   κ = η λ,

equal to it up to the rounding of the stored dtype (|Δ + κ w| ≤ a few units in the last place of
w). Those steps pile up at |Δ| ≈ κ|w|, far below the gradient steps: a sharp peak at very small
fluctuations that has nothing to do with the frustrated regime of 002 §2. With momentum the same holds for the
step's innovation (:mod:`statmech_nn.compare.dynamics`: y = -κw with κ = η(1-d)λ, to the filter's rounding).

κ comes, in this order, from

1. the run header's dynamics (lr × weight_decay of SGD with an L2 term; :func:`statmech_nn.compare.dynamics.
   treatment`): "recorded dynamics" (a recorded weight decay of 0: no step is decay);
2. the trajectory's decay-only columns: a column whose every step satisfies Δ = -κ̂ w to rounding for its own
   least-squares κ̂ > 0; the median κ̂ of those columns;
3. the trajectory's steps: Δ = -κw is shared by every weight and exact to rounding, so r = -Δ/w has a sharp
   mode at κ across weights and steps (notes/calibration.md). :func:`decay_rate_mode` finds the point covered
   by the most intervals r ± rounding/|w| (a sweep over their ends) and keeps it when the count is at least
   :data:`MODE_MIN_STEPS` and improbable under the smooth density of r around it: a Poisson tail with the
   expected coincidences (the density of the other r within a factor 3, per unit log r, times the window's
   log-width), Bonferroni-corrected for the number of such windows across the range of r, below
   :data:`MODE_ALPHA`.

Without any, no step is labelled decay (there are no exact decay steps to find).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

ULPS = 2.0            # the fast engine and torch round one step to within one unit in the last place of w
MODE_MIN_STEPS = 20   # steps a decay rate found from the data must explain
MODE_ALPHA = 1e-3     # ... at this significance against coincidences of a smooth density of -Δ/w
_MODE_BAND = 3.0      # the background density of r is counted within this factor of the mode


@dataclass(frozen=True)
class DecaySplit:
    """Per analysed step (T-1, K): ``decay`` True where Δ = -κ w to rounding; κ per column (NaN: none)."""

    decay: np.ndarray
    kappa: np.ndarray
    source: str          # where κ came from: "recorded dynamics", "decay-only columns", "mode of -Δ/w", or "none"

    @property
    def decay_only(self) -> np.ndarray:
        """Columns whose every step is decay (and that moved)."""
        return self.decay.all(axis=0) & np.isfinite(self.kappa) & (self.kappa > 0)


def rounding(q: np.ndarray, ulps: float = ULPS) -> np.ndarray:
    """ulps units in the last place (of q's own dtype) of the larger |w| at the two ends of each step."""
    dtype = q.dtype if np.issubdtype(q.dtype, np.floating) else np.dtype(float)
    larger = np.maximum(np.abs(q[1:]), np.abs(q[:-1])).astype(dtype)
    return ulps * np.spacing(larger).astype(float)


def _matches(w: np.ndarray, delta: np.ndarray, tolerance: np.ndarray, kappa) -> np.ndarray:
    return np.abs(delta + np.asarray(kappa, float) * w) <= tolerance


def column_rates(w: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Least-squares κ̂ of Δ = -κ w per column (NaN for a column at w = 0 throughout)."""
    return rates_from_sums(np.sum(w * w, axis=0), np.sum(delta * w, axis=0))


def rates_from_sums(norm: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """:func:`column_rates` from the column sums Σw² (``norm``) and ΣΔw (``cross``), e.g. accumulated by blocks."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, -cross / norm, np.nan)


def decay_rate_mode(w: np.ndarray, delta: np.ndarray, tolerance: np.ndarray) -> dict | None:
    """The sharp mode of r = -Δ/w across weights and steps (see the module docstring): {kappa, steps, p}, or
    None when no point is covered by :data:`MODE_MIN_STEPS` intervals significantly."""
    usable = np.isfinite(w) & np.isfinite(delta) & (w != 0) & (delta * w < 0)
    if usable.sum() < MODE_MIN_STEPS:
        return None
    r = -delta[usable] / w[usable]
    half = tolerance[usable] / np.abs(w[usable])
    ends = np.concatenate([r - half, r + half])
    sign = np.concatenate([np.ones(r.size, np.int64), -np.ones(r.size, np.int64)])
    order = np.lexsort((-sign, ends))            # at a tie an interval opens before another closes (closed ends)
    depth = np.cumsum(sign[order])
    best = int(np.argmax(depth))
    if depth[best] < MODE_MIN_STEPS:
        return None
    point = ends[order][best]
    kappa = float(np.median(r[(r - half <= point) & (r + half >= point)]))
    covered = np.abs(r - kappa) <= half
    steps = int(covered.sum())
    near = ~covered & (r > kappa / _MODE_BAND) & (r < kappa * _MODE_BAND)
    width = float(np.median(2.0 * half[covered] / r[covered]))   # log-width of the coincidence window
    expected = near.sum() / np.log(_MODE_BAND ** 2) * width
    windows = max(1.0, np.log(r.max() / r.min()) / width)
    p = float(min(1.0, windows * stats.poisson.sf(steps - 1, max(expected, 1e-300))))
    if steps < MODE_MIN_STEPS or p >= MODE_ALPHA:
        return None
    return {"kappa": kappa, "steps": steps, "p": p}


def own_rates_fit(w, delta, tolerance, own: np.ndarray) -> np.ndarray:
    """Per column: whether every step matches Δ = -κ̂ w to rounding for the column's own κ̂ > 0 (a block of steps;
    a column is decay-only when this holds in every block)."""
    with np.errstate(invalid="ignore"):
        return (own > 0) & _matches(w, delta, tolerance, np.nan_to_num(own)).all(axis=0)


def decay_rate(kappa, own: np.ndarray, own_fits: np.ndarray, w, delta, tolerance) -> tuple:
    """(κ or None, where it came from) by the order of the module docstring: the recorded ``kappa``, the median own
    rate of the decay-only columns ``own_fits``, or the mode of -Δ/w of the steps (w, delta, tolerance)."""
    if kappa is not None and kappa <= 0:
        return None, "recorded dynamics: no weight decay"
    if kappa is not None:
        return kappa, "recorded dynamics"
    if own_fits.any():
        return float(np.median(own[own_fits])), "decay-only columns"
    mode = decay_rate_mode(w, delta, tolerance)
    return (None, "none") if mode is None else (mode["kappa"], "mode of -delta/w")


def label_decay(w, delta, tolerance, kappa, own: np.ndarray, own_fits: np.ndarray, source: str) -> DecaySplit:
    """The split of the steps (w, delta, tolerance) at the decay rate ``kappa`` (None: only decay-only columns)."""
    if kappa is None:
        decay = np.zeros(np.shape(delta), bool)
        decay[:, own_fits] = True
        return DecaySplit(decay, np.where(own_fits, own, np.nan), source)
    decay = _matches(w, delta, tolerance, kappa)
    decay[:, own_fits] = True
    return DecaySplit(decay, np.where(own_fits, own, kappa), source)


def split_decay_steps(w, delta, tolerance, kappa: float | None = None) -> DecaySplit:
    """Label every analysed step ``delta`` (T-1, K) of the weights ``w`` before it as weight decay or gradient step,
    to ``tolerance`` (see the module docstring); ``kappa``: the recorded decay rate, if any (0: no decay)."""
    w, delta, tolerance = (np.asarray(a, float) for a in (w, delta, tolerance))
    own = column_rates(w, delta)
    own_fits = own_rates_fit(w, delta, tolerance, own)
    kappa, source = decay_rate(kappa, own, own_fits, w, delta, tolerance)
    return label_decay(w, delta, tolerance, kappa, own, own_fits, source)
