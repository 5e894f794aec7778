"""Numba kernels of the power-law fitter: MLE exponents for every x_min, the KS distance, the x_min scan, sampling.

Clauset, Shalizi & Newman (2009) choose x_min among the distinct data values by minimizing the
Kolmogorov-Smirnov distance between the data above x_min and the power law fitted to them. Done
naively (refit and recompute D for each candidate) that is O(n²). Here, on the sorted distinct values
u_0 < u_1 < ... with b_m = #{x < u_m}:

- the continuous MLE for every candidate comes from suffix sums of log x (compensated), O(n) in all:
  α_j = 1 + n_j / Σ_{x ≥ u_j} log(x/u_j), n_j = n - b_j (CSN eq. (3.1));
- the discrete MLE solves ζ'(α, u_j)/ζ(α, u_j) = -<log x>_j (CSN eq. (3.5)) by safeguarded Newton;
- D_j = max_{m ≥ j} |T_j(u_m) - E_j(u_m)| with E_j(u_m) = (b_m - b_j)/n_j, the fraction of the tail
  strictly below u_m (the convention of CSN's reference code and of the ``powerlaw`` package), and
  T_j the model CDF. Both T_j and E_j increase with m, so on an index segment [a, b]
  T_j(a) - E_j(b) ≤ T_j - E_j ≤ T_j(b) - E_j(a). This bounds |T - E| on whole segments: D_j is found
  exactly by branch and bound (start from 17 evenly spaced tail points and the index where the best
  candidate so far deviated most; bisect, largest bound first, only segments whose bound exceeds the
  largest deviation seen), abandoned as soon as it exceeds the best D of the candidates already done.
- Candidates are visited in increasing order of a lower bound (the deviation at 5 evenly spaced tail
  points), and the scan stops when that bound exceeds the best D found.

The whole fit is then O(n log n) for the sort plus O(5 n) for the bounds plus the branch and bound of
the candidates that survive the bound: on |T| samples with n = 10⁵ (1 to 5 degrees of freedom) 0.4-16%
of the candidates are looked at, most abandoned after a few points, and 12-35 evaluated to the end;
the answer is then exact (the same x_min and D as the naive scan). Data whose candidates are nearly
tied in D (a pure power law) would need O(n) exact evaluations of O(n) each; a budget of
``SCAN_BUDGET`` · U log₂ U model-CDF evaluations keeps every scan O(n log n), and a scan cut short
says so (``complete`` False) with the gap between its D and the best any unexamined x_min could reach.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .hurwitz import log_zeta, zeta_terms

COARSE_POINTS = 17
BOUND_POINTS = 5
SCAN_BUDGET = 2  # model-CDF evaluations per U log2 U for the exact distances of the x_min scan
_NEWTON_STEPS = 100


@numba.njit(cache=True)
def suffix_log_sums(sorted_data):
    """S_i = Σ_{i' ≥ i} log x_{i'} (Kahan-compensated), with S_n = 0."""
    n = sorted_data.shape[0]
    suffix = np.empty(n + 1)
    suffix[n] = 0.0
    total = 0.0
    carry = 0.0
    for i in range(n - 1, -1, -1):
        y = math.log(sorted_data[i]) - carry
        t = total + y
        carry = (t - total) - y
        total = t
        suffix[i] = total
    return suffix


@numba.njit(cache=True)
def continuous_alphas(suffix, below, values):
    """α_j = 1 + n_j / Σ_{x ≥ u_j} log(x/u_j) for every distinct value u_j (CSN eq. (3.1))."""
    n = below[-1]
    alphas = np.empty(values.shape[0])
    for j in range(values.shape[0]):
        count = n - below[j]
        alphas[j] = 1.0 + count / (suffix[below[j]] - count * math.log(values[j]))
    return alphas


@numba.njit(cache=True)
def discrete_alpha(mean_log, xmin, count):
    """(α, σ) of the discrete power law above integer xmin: the root of ζ'/ζ(α, xmin) + <log x> = 0
    (CSN eq. (3.5)) and σ = 1/√(n Var_α(log x)) (CSN eq. (3.6)); NaN when all x equal xmin."""
    if not mean_log > math.log(xmin):
        return np.nan, np.nan
    lo, hi = 1.0, np.inf
    alpha = 1.0 + 1.0 / (mean_log - math.log(xmin - 0.5)) if xmin > 0.5 else 2.0  # CSN eq. (3.7)
    alpha = max(alpha, 1.0 + 1e-6)
    for _ in range(_NEWTON_STEPS):
        _, d1, d2 = zeta_terms(alpha, xmin)
        residual = d1 + mean_log  # increases with alpha: d/dα (ζ'/ζ) = Var(log x) > 0
        if residual > 0:
            hi = alpha
        else:
            lo = alpha
        newton = alpha - residual / (d2 - d1 * d1)
        if not (lo < newton < hi):
            newton = 0.5 * (lo + hi) if hi < np.inf else 2.0 * alpha
        if abs(newton - alpha) <= 1e-15 * alpha:
            alpha = newton
            break
        alpha = newton
    _, d1, d2 = zeta_terms(alpha, xmin)
    return alpha, 1.0 / math.sqrt(count * (d2 - d1 * d1))


@numba.njit(cache=True)
def discrete_alphas(suffix, below, values):
    """Discrete (α_j, σ_j) for every distinct value u_j as x_min."""
    n = below[-1]
    alphas = np.empty(values.shape[0])
    sigmas = np.empty(values.shape[0])
    for j in range(values.shape[0]):
        count = n - below[j]
        alphas[j], sigmas[j] = discrete_alpha(suffix[below[j]] / count, values[j], count)
    return alphas, sigmas


@numba.njit(cache=True)
def _model_cdf(values, log_values, m, alpha, log_xmin, log_zeta_xmin, discrete):
    """P(X < u_m) of the power law above xmin: 1 - (u_m/xmin)^{1-α}, or 1 - ζ(α, u_m)/ζ(α, xmin) if discrete."""
    if discrete:
        return 1.0 - math.exp(log_zeta(alpha, values[m]) - log_zeta_xmin)
    return -math.expm1((1.0 - alpha) * (log_values[m] - log_xmin))


@numba.njit(cache=True)
def _empirical_cdf(below, start, n_tail, m):
    """E(u_m): the fraction of the tail (every x ≥ u_start) below u_m."""
    return (below[m] - below[start]) / n_tail


@numba.njit(cache=True)
def ks_distance(values, log_values, below, start, alpha, xmin, discrete, cutoff, hint=-1):
    """D = max_{m ≥ start} |T(u_m) - E(u_m)|, by branch and bound over index segments.

    ``values``: distinct sorted data u (U,) and their logs; ``below``: (U+1,) with below[m] = #{x < u_m}
    and below[U] = n; the tail is every u_m ≥ u_start, fitted by (alpha, xmin). ``hint``: an index
    to look at first (where a similar candidate deviated most). Returns (D, argmax, True, evaluations)
    with D exact, or (bound, index, False, evaluations) as soon as a deviation exceeds ``cutoff`` (then
    D ≥ bound > cutoff); ``evaluations`` counts the model-CDF evaluations spent. Segments are explored
    largest bound first, so a large deviation is met early.
    """
    last = values.shape[0] - 1
    n_tail = float(below[-1] - below[start])
    log_xmin = math.log(xmin)
    log_zeta_xmin = log_zeta(alpha, xmin) if discrete else 0.0
    best = 0.0
    where = start
    evaluations = 0
    if start <= hint <= last:
        evaluations += 1
        best = abs(_model_cdf(values, log_values, hint, alpha, log_xmin, log_zeta_xmin, discrete)
                   - _empirical_cdf(below, start, n_tail, hint))
        where = hint
        if best > cutoff:
            return best, where, False, evaluations
    size = COARSE_POINTS + 4 * 64
    seg_a = np.empty(size, np.int64)
    seg_b = np.empty(size, np.int64)
    seg_ta = np.empty(size)
    seg_tb = np.empty(size)
    span = last - start
    points = min(COARSE_POINTS, span + 1)
    top = 0
    prev_m = -1
    prev_t = 0.0
    for i in range(points):  # the coarse grid: a first bound, and the first segments
        m = start + (span * i) // (points - 1) if points > 1 else start
        evaluations += 1
        t = _model_cdf(values, log_values, m, alpha, log_xmin, log_zeta_xmin, discrete)
        d = abs(t - _empirical_cdf(below, start, n_tail, m))
        if d > best:
            best, where = d, m
            if best > cutoff:
                return best, where, False, evaluations
        if prev_m >= 0 and m - prev_m > 1:
            seg_a[top], seg_b[top], seg_ta[top], seg_tb[top] = prev_m, m, prev_t, t
            top += 1
        prev_m, prev_t = m, t
    while top > 0:
        top -= 1
        a, b, ta, tb = seg_a[top], seg_b[top], seg_ta[top], seg_tb[top]
        if _segment_bound(below, start, n_tail, a, b, ta, tb) <= best:  # nothing inside can deviate more
            continue
        mid = (a + b) // 2
        evaluations += 1
        tm = _model_cdf(values, log_values, mid, alpha, log_xmin, log_zeta_xmin, discrete)
        d = abs(tm - _empirical_cdf(below, start, n_tail, mid))
        if d > best:
            best, where = d, mid
            if best > cutoff:
                return best, where, False, evaluations
        left = _segment_bound(below, start, n_tail, a, mid, ta, tm) if mid - a > 1 else -1.0
        right = _segment_bound(below, start, n_tail, mid, b, tm, tb) if b - mid > 1 else -1.0
        # push the smaller bound first, so that the larger one is explored next
        for first in (left <= right, left > right):
            if first and left > best:
                seg_a[top], seg_b[top], seg_ta[top], seg_tb[top] = a, mid, ta, tm
                top += 1
            elif not first and right > best:
                seg_a[top], seg_b[top], seg_ta[top], seg_tb[top] = mid, b, tm, tb
                top += 1
    return best, where, True, evaluations


@numba.njit(cache=True)
def _segment_bound(below, start, n_tail, a, b, ta, tb):
    """max |T - E| can reach strictly inside [a, b]: T and E both increase with the index."""
    return max(tb - _empirical_cdf(below, start, n_tail, a), _empirical_cdf(below, start, n_tail, b) - ta)


@numba.njit(cache=True)
def _coarse_bound(values, log_values, below, start, alpha, discrete, points):
    """A lower bound of D for x_min = u_start: the largest deviation on ``points`` evenly spaced tail indices."""
    last = values.shape[0] - 1
    n_tail = float(below[-1] - below[start])
    log_zeta_xmin = log_zeta(alpha, values[start]) if discrete else 0.0
    span = last - start
    points = min(points, span + 1)
    best = 0.0
    for i in range(1, points):
        m = start + (span * i) // (points - 1)
        t = _model_cdf(values, log_values, m, alpha, log_values[start], log_zeta_xmin, discrete)
        best = max(best, abs(t - (below[m] - below[start]) / n_tail))
    return best


@numba.njit(cache=True)
def scan_xmin(values, log_values, below, alphas, usable, discrete, budget, points=BOUND_POINTS):
    """x_min minimizing the KS distance over candidates j with usable[j] (x_min = u_j).

    Returns (j, D_j, complete, gap): (-1, inf, True, 0) if no candidate is usable. The exact distances
    may spend at most ``budget`` model-CDF evaluations in all (the caller passes O(U log U)); a scan
    cut short returns the best candidate found, ``complete`` False and ``gap`` = D_j minus the smallest
    lower bound of the candidates not examined: no other x_min can have a D smaller than D_j - gap.
    Ties go to the smallest x_min, as with ``numpy.argmin`` over all candidates.
    """
    candidates = np.flatnonzero(usable)
    bounds = np.empty(candidates.shape[0])
    for c in range(candidates.shape[0]):
        j = candidates[c]
        bounds[c] = _coarse_bound(values, log_values, below, j, alphas[j], discrete, points)
    order = np.argsort(bounds, kind="mergesort")
    best_d = np.inf
    best_j = -1
    hint = -1
    spent = 0
    for c in order:
        j = candidates[c]
        if bounds[c] > best_d or (bounds[c] == best_d and j > best_j):
            break
        if spent > budget and best_j >= 0:
            return best_j, best_d, False, best_d - bounds[c]
        # a later (larger) x_min must beat best_d strictly, an earlier one may tie it
        cutoff = best_d if j < best_j else np.nextafter(best_d, -np.inf)
        d, where, exact, evaluations = ks_distance(values, log_values, below, j, alphas[j], values[j], discrete,
                                                   cutoff, hint)
        spent += evaluations
        if exact and (d < best_d or (d == best_d and j < best_j)):
            best_d, best_j, hint = d, j, where
    return best_j, best_d, True, 0.0


@numba.njit(cache=True)
def _log_survival(value, alpha, log_zeta_xmin):
    """log P(X ≥ value) = log ζ(α, value) - log ζ(α, xmin) for the discrete law."""
    return log_zeta(alpha, value) - log_zeta_xmin


@numba.njit(cache=True)
def sample_discrete(alpha, xmin, uniforms):
    """Exact draws from p(x) = x^{-α}/ζ(α, xmin) on integers x ≥ xmin, by inverting P(X ≥ x) = r.

    ``uniforms`` in (0, 1]. CSN's approximation (xmin - 1/2) r^{-1/(α-1)} + 1/2 gives the start; a
    galloping search and bisection over integers then find x with P(X ≥ x) ≥ r > P(X ≥ x + 1).
    """
    log_zeta_xmin = log_zeta(alpha, xmin)
    ceiling = 2.0 ** 52
    out = np.empty(uniforms.shape[0])
    for i in range(uniforms.shape[0]):
        log_r = math.log(uniforms[i])
        guess = (xmin - 0.5) * math.exp(-log_r / (alpha - 1.0)) + 0.5
        x = math.floor(min(max(guess, xmin), ceiling))
        if _log_survival(x, alpha, log_zeta_xmin) >= log_r:
            lo, step = x, 1.0
            hi = min(x + step, ceiling)
            while hi < ceiling and _log_survival(hi, alpha, log_zeta_xmin) >= log_r:
                lo = hi
                step *= 2.0
                hi = min(x + step, ceiling)
        else:
            hi, step = x, 1.0
            lo = max(x - step, xmin)
            while lo > xmin and _log_survival(lo, alpha, log_zeta_xmin) < log_r:
                hi = lo
                step *= 2.0
                lo = max(x - step, xmin)
        while hi - lo > 1.0:
            mid = math.floor(0.5 * (lo + hi))
            if _log_survival(mid, alpha, log_zeta_xmin) >= log_r:
                lo = mid
            else:
                hi = mid
        out[i] = lo
    return out
