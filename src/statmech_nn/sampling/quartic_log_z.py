"""log Z(A, B) = log ∫ exp(-A y² - B y⁴) dy inside numba kernels, by a verified interpolation table.

The exact formula lives in one place, :func:`statmech_nn.toy.free_energy.log_quartic_integral` (Bessel
closed forms, 002 eqs. (1)-(4) with the μ term). Kernels cannot call scipy, so this module tabulates it
once. With y = (2B)^{-1/4} w, for B > 0,

    log Z(A, B) = -¼ log(2B) + φ(s),   φ(s) = log ∫ exp(-s w² - w⁴/2) dw = log Z(s, ½),   s = A/√(2B),

a function of one variable. φ is tabulated (derivatives by fourth-order finite differences of the
tabulated values) and interpolated by cubic Hermite polynomials on three pieces that together cover
the whole real line:

- |s| ≤ S_MID: φ itself on a uniform grid in s;
- s > S_MID: ψ₊(r) = φ(s) - ½ log(π r) on a uniform grid in r = 1/s ∈ [0, 1/S_MID] (ψ₊ → 0 as r → 0:
  the Gaussian limit √(π/s));
- s < -S_MID: ψ₋(r) = φ(s) - s²/2 - ½ log(2π r), r = 1/|s| (ψ₋ → 0: two Gaussians at w² = |s|).

B = 0 is the Gaussian integral log √(π/A). The table agrees with ``log_quartic_integral`` to ~1e-11
(tested).
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

from ..toy.free_energy import log_quartic_integral

S_MID = 4.0
MID_NODES = 2049
TAIL_NODES = 2049
_LOG_PI = float(np.log(np.pi))
_LOG_2PI = float(np.log(2.0 * np.pi))


def _slopes(values: np.ndarray, h: float) -> np.ndarray:
    """Derivatives of tabulated values by fourth-order finite differences (one-sided at the ends)."""
    f = values
    d = np.empty_like(f)
    d[2:-2] = (f[:-4] - 8.0 * f[1:-3] + 8.0 * f[3:-1] - f[4:]) / 12.0
    d[0] = (-25.0 * f[0] + 48.0 * f[1] - 36.0 * f[2] + 16.0 * f[3] - 3.0 * f[4]) / 12.0
    d[1] = (-3.0 * f[0] - 10.0 * f[1] + 18.0 * f[2] - 6.0 * f[3] + f[4]) / 12.0
    d[-1] = (25.0 * f[-1] - 48.0 * f[-2] + 36.0 * f[-3] - 16.0 * f[-4] + 3.0 * f[-5]) / 12.0
    d[-2] = (3.0 * f[-1] + 10.0 * f[-2] - 18.0 * f[-3] + 6.0 * f[-4] - f[-5]) / 12.0
    return d / h


def _table(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.stack([values, _slopes(values, (hi - lo) / (values.size - 1))])


@lru_cache(maxsize=1)
def log_z_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mid, pos, neg): three (2, nodes) arrays of values and derivatives for :func:`log_z`."""
    s = np.linspace(-S_MID, S_MID, MID_NODES)
    mid = _table(log_quartic_integral(s, 0.5), -S_MID, S_MID)
    r = np.linspace(0.0, 1.0 / S_MID, TAIL_NODES)
    inner = r[1:]
    psi_pos = np.zeros(TAIL_NODES)   # ψ₊(0) = ψ₋(0) = 0: the Gaussian limits
    psi_neg = np.zeros(TAIL_NODES)
    psi_pos[1:] = log_quartic_integral(1.0 / inner, 0.5) - 0.5 * (_LOG_PI + np.log(inner))
    psi_neg[1:] = log_quartic_integral(-1.0 / inner, 0.5) - 0.5 / inner**2 - 0.5 * (_LOG_2PI + np.log(inner))
    return mid, _table(psi_pos, 0.0, 1.0 / S_MID), _table(psi_neg, 0.0, 1.0 / S_MID)


@numba.njit(cache=True)
def _hermite(table, x, lo, hi):
    """Cubic Hermite interpolation of table[0] (values) and table[1] (derivatives) on a uniform grid [lo, hi]."""
    n = table.shape[1]
    h = (hi - lo) / (n - 1)
    position = (x - lo) / h
    i = min(max(int(position), 0), n - 2)
    t = position - i
    t2 = t * t
    t3 = t2 * t
    return ((2.0 * t3 - 3.0 * t2 + 1.0) * table[0, i] + (t3 - 2.0 * t2 + t) * h * table[1, i]
            + (3.0 * t2 - 2.0 * t3) * table[0, i + 1] + (t3 - t2) * h * table[1, i + 1])


@numba.njit(cache=True)
def scaled_log_z(s, mid, pos, neg):
    """φ(s) = log ∫ exp(-s w² - w⁴/2) dw from the tables, for any real s."""
    if abs(s) <= S_MID:
        return _hermite(mid, s, -S_MID, S_MID)
    r = 1.0 / abs(s)
    if s > 0:
        return _hermite(pos, r, 0.0, 1.0 / S_MID) + 0.5 * (_LOG_PI + np.log(r))
    return _hermite(neg, r, 0.0, 1.0 / S_MID) + 0.5 * s * s + 0.5 * (_LOG_2PI + np.log(r))


@numba.njit(cache=True)
def log_z(A, B, mid, pos, neg):
    """log ∫ exp(-A y² - B y⁴) dy for B ≥ 0; +inf where it diverges (B = 0, A ≤ 0)."""
    if B == 0.0:
        return 0.5 * (_LOG_PI - np.log(A)) if A > 0.0 else np.inf
    root = np.sqrt(2.0 * B)
    return scaled_log_z(A / root, mid, pos, neg) - 0.5 * np.log(root)


@numba.njit(cache=True)
def _log_z_many(A, B, mid, pos, neg, out):
    for i in range(A.shape[0]):
        out[i] = log_z(A[i], B[i], mid, pos, neg)


def tabulated_log_z(A, B) -> np.ndarray:
    """The table's log Z(A, B), elementwise (to test it against ``log_quartic_integral``)."""
    A, B = np.broadcast_arrays(np.asarray(A, float), np.asarray(B, float))
    out = np.empty(A.size)
    _log_z_many(np.ascontiguousarray(A).ravel(), np.ascontiguousarray(B).ravel(), *log_z_tables(), out)
    return out.reshape(A.shape)[()]
