"""Integrals over a half-line, ∫_{v0}^∞ exp(φ(v)) dv, in log space, with the mean and covariance of statistics.

Every normalization in the comparison layer is of this kind: the exponential-family tails of
:mod:`statmech_nn.observables.tail_models` (log-normal, truncated power law) and the increment theory
of 002 eqs. (6), (21) in :mod:`statmech_nn.compare.fits`. With v = v0 + e^t the integrand becomes a
smooth function of t ∈ ℝ that decays at both ends; for the integrands used here it is analytic and
bounded in the strip |Im t| < π/4, so the trapezoidal rule converges geometrically, with relative
error ~ exp(-π²/(2h)) (h = 0.1: ~1e-21). The window in t is found per parameter set on a coarse grid
(where φ + t is within 45 of its maximum: e^{-45} ≈ 3e-20), so scales many decades apart need no tuning, and the same
nodes give E[T] and Cov[T] of statistics T(v) under the normalized integrand (the gradient and Hessian
of the log-normalizer of an exponential family).

:func:`log_tricomi_integral` is the case φ = (a-1) log v - p log(1+v) - kv, Γ(a) U(a, a+1-p, k) at
v0 = 0; ``scipy.special.hyperu`` is not used, since it loses all accuracy at some parameters (e.g.
U(1, 0, 1e-6) is wrong by 94%, U(1, -2, z) is NaN).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ...errors import NotNormalizableError

STEP = 0.1             # trapezoid step in t = log(v - v0)
_COARSE = np.arange(-350.0, 350.5, 1.0)
_DROP = 45.0           # the window keeps t where the log-integrand is within this of its maximum


def _window(log_integrand: Callable, v0: np.ndarray):
    """Per row, the t-range outside which the integrand is below e^{-45} of its peak, from a coarse grid."""
    coarse = log_integrand(v0 + np.exp(_COARSE)[None, :]) + _COARSE[None, :]
    coarse = np.where(np.isnan(coarse), -np.inf, coarse)
    peak = np.max(coarse, axis=1, keepdims=True)
    if not np.all(np.isfinite(peak)):
        raise NotNormalizableError("a half-line integrand is zero or infinite everywhere on v - v0 in [e^-350, e^350]")
    keep = coarse > peak - _DROP
    if np.any(keep[:, 0] | keep[:, -1]):
        raise NotNormalizableError("a half-line integral has mass beyond v - v0 = e^±350: the density is not "
                                   "normalizable with these parameters (or its scales are out of range)")
    first = np.argmax(keep, axis=1)
    last = keep.shape[1] - 1 - np.argmax(keep[:, ::-1], axis=1)
    return _COARSE[first - 1], _COARSE[last + 1]


def integrate_half_line(log_integrand: Callable, v0=0.0, statistics: Callable | None = None, rows: int = 1,
                        step: float = STEP):
    """log ∫_{v0}^∞ exp(log_integrand(v)) dv for ``rows`` parameter sets at once.

    ``log_integrand(v)`` maps a (rows, m) array of v to (rows, m) log-values (its parameters shaped
    (rows, 1)); ``v0``: scalar or (rows,). With ``statistics`` (a map of v (rows, m) to (rows, m, S)),
    also returns the mean (rows, S) and covariance (rows, S, S) of those statistics under the
    normalized integrand. Raises :class:`NotNormalizableError` where the integral diverges.
    """
    v0 = np.broadcast_to(np.asarray(v0, float), (rows,))[:, None]
    t_lo, t_hi = _window(log_integrand, v0)
    nodes = int(np.ceil(np.max(t_hi - t_lo) / step)) + 1
    h = (t_hi - t_lo) / (nodes - 1)
    t = t_lo[:, None] + h[:, None] * np.arange(nodes)[None, :]
    v = v0 + np.exp(t)
    log_f = log_integrand(v) + t
    peak = np.max(log_f, axis=1, keepdims=True)
    weights = np.exp(log_f - peak)
    total = weights.sum(axis=1)
    log_integral = peak[:, 0] + np.log(total) + np.log(h)
    if statistics is None:
        return log_integral
    weights /= total[:, None]
    values = statistics(v)
    mean = np.einsum("rm,rms->rs", weights, values)
    centred = values - mean[:, None, :]
    covariance = np.einsum("rm,rms,rmu->rsu", weights, centred, centred)
    return log_integral, mean, covariance


def _tricomi_statistics(v):
    return np.stack([np.log1p(v), v], axis=-1)


def log_tricomi_integral(a, p, k, v0=0.0, moments: bool = False):
    """log ∫_{v0}^∞ v^{a-1} (1+v)^{-p} e^{-kv} dv elementwise over broadcast arguments.

    With ``moments=True`` also the mean (…, 2) and covariance (…, 2, 2) of (log(1+v), v):
    ∂ log K/∂p = -E[log(1+v)], ∂ log K/∂k = -E[v], and the second derivatives are their covariances.
    """
    a, p, k, v0 = np.broadcast_arrays(*(np.asarray(x, float) for x in (a, p, k, v0)))
    shape = a.shape
    a, p, k = (x.ravel()[:, None] for x in (a, p, k))

    def log_integrand(v):
        return (a - 1.0) * np.log(v) - p * np.log1p(v) - k * v

    out = integrate_half_line(log_integrand, v0.ravel(), _tricomi_statistics if moments else None, rows=a.shape[0])
    if not moments:
        return out.reshape(shape)[()]
    log_k, mean, covariance = out
    return log_k.reshape(shape)[()], mean.reshape(shape + (2,)), covariance.reshape(shape + (2, 2))
