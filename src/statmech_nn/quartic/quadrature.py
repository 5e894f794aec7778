"""Composite Gauss–Legendre quadrature of the quartic marginal over t = |q - q̄|, vectorized over parameter points.

The unnormalized density exp(-αF(β, q)) (002 eq. (6)) changes character at several scales (the
frustration boundary, the quartic scale, the Lambert-W and log-slope crossovers, the Gaussian width),
which can lie many decades apart. The half-line t ∈ [0, ∞) is cut at all of them; every point of a
batch gets the same panel structure, so one NumPy expression integrates a whole grid:

- a head panel [0, T0] in the variable v with t = T0 v^{1/(p+1)}, where p is the density's power at
  t → 0 (p = -α/β when λx = μ = 0, where p(q) ∝ |q - q̄|^{-α/β} is integrably singular; else p = 0);
- between consecutive scales, equal panels in the variable log t, up to T1; where a segment is so wide
  that a rising t·p(t) would grow by more than e^4 across one such panel (scales hundreds of decades
  apart, e.g. |λx| or μ near the float minimum), equal panels in v = (t/t_hi)^b instead, with
  b = d log(t·p)/d log t measured inside the segment: p is close to a power law between two of its
  scales, so the integrand is then nearly constant in v;
- a tail panel [T1, ∞) with t = T1 v^{1/(p+1)}, p = -α/β when λq = 0 (a pure power-law tail),
  otherwise any p < -1 (T1 is far beyond the Gaussian width, the tail carries < e^{-100} of the mass).

Cutting at the regime boundaries makes the probability mass of each regime a sum of whole panels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, make_dataclass

import numba
import numpy as np

from ..errors import ParameterError
from .free_energy import log_unnormalized_marginal, log_unnormalized_marginal_scalar
from .parameters import BY_NAME, NAMES, SHAPE_PARAMETERS
from .regimes import frustration_boundary, gauss_crossover, quartic_scale, slope_crossover

HEAD, LOG, TAIL = 0, 1, 2
_TAIL_MASS_EXPONENT = 100.0  # T1 is where the Gaussian factor has fallen by e^{-100}
_POWER_TAIL_REACH = 1e4      # with λq = 0, T1 is this many times the largest finite scale
_MAX_LOG_GROWTH = 4.0        # largest change of log(t·p) across one log-t panel before power panels take over
_SMALLEST_V = 1e-300         # power-panel variables are kept above this (below it t·p is negligible)


class _PointArrays:
    """The methods of :class:`Params` (its fields come from the parameter table)."""

    @classmethod
    def of(cls, parameters: Mapping) -> Params:
        """From a mapping of the table's names to values or arrays (broadcast together, flattened); a shape
        parameter left out takes the table's default (μ = 0) or is refused; the centres x̄, q̄ are accepted and
        ignored (they only shift p(q)), so a model's ``to_dict()`` will do."""
        unknown = sorted(set(parameters) - set(NAMES))
        if unknown:
            raise ParameterError(unknown[0], parameters[unknown[0]], "one of " + ", ".join(NAMES))
        missing = [name for name in SHAPE_PARAMETERS if name not in parameters and BY_NAME[name].required]
        if missing:
            raise ParameterError(missing[0], None, "given (a required parameter of the quartic model)")
        values = (parameters.get(name, BY_NAME[name].default) for name in SHAPE_PARAMETERS)
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in values))
        return cls(**{name: a.ravel().copy() for name, a in zip(SHAPE_PARAMETERS, arrays)})

    def __len__(self) -> int:
        return self.lambda_x.shape[0]

    def take(self, index) -> Params:
        return type(self)(**{name: getattr(self, name)[index] for name in SHAPE_PARAMETERS})

    def positional(self) -> tuple[np.ndarray, ...]:
        """The arrays in the table's order: the argument list of the kernels that take them positionally
        (:func:`_log_integrals_kernel`, :func:`~.free_energy.log_unnormalized_marginal`), built here only."""
        return tuple(getattr(self, name) for name in SHAPE_PARAMETERS)


Params = make_dataclass("Params", [(name, np.ndarray) for name in SHAPE_PARAMETERS], bases=(_PointArrays,),
                        frozen=True)
Params.__module__ = __name__
Params.__doc__ = """Quartic-model parameters as 1-D arrays of one common length (one entry per point); its fields
    are the table's :data:`~.parameters.SHAPE_PARAMETERS`, in its order, made from it."""


def scale_candidates(p: Params) -> np.ndarray:
    """(P, 8) scales in u where the density changes character; NaN or ≤ 0 where a scale does not exist."""
    u_mu = quartic_scale(p.g, p.beta, p.mu)
    u_frustration = frustration_boundary(p.lambda_x, p.g)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gaussian_width = np.where(p.lambda_q > 0, 1.0 / (p.alpha * p.lambda_q), np.inf)
        # With λx < 0 and μ > 0, -αF ≈ α(λx + g u)²/(4μ) near u = 0: it falls by e over this u.
        frustrated_decay = np.where((p.lambda_x < 0) & (p.mu > 0),
                                    2.0 * p.mu / (p.alpha * np.abs(p.lambda_x) * p.g), np.nan)
    return np.stack([
        np.abs(p.lambda_x) / p.g, u_mu,
        gauss_crossover(p.lambda_x, p.g, p.lambda_q, p.beta), slope_crossover(p.lambda_x, p.g, p.lambda_q, p.beta),
        gaussian_width, frustrated_decay, u_frustration - u_mu, u_frustration + u_mu,
    ], axis=1)


@dataclass(frozen=True)
class Panels:
    """Per-point panels covering t ∈ [0, ∞): one head, log panels, one tail; all arrays (P, n_panels).

    ``kind`` says how t depends on the panel variable v: LOG panels use v = log t, HEAD and TAIL
    panels t = anchor · v^{1/(power+1)} with v ∈ [0, 1] (the power panels of wide segments are HEAD
    panels over part of that range).
    """

    kind: np.ndarray
    anchor: np.ndarray
    power: np.ndarray
    v_lo: np.ndarray
    v_hi: np.ndarray
    edges: np.ndarray  # (P, n_panels + 1): t at the panel boundaries, 0 ... inf

    def select(self, panel_index: np.ndarray, point_index: np.ndarray) -> Panels:
        """One panel per row: row i of the result is panel ``panel_index[i]`` of point ``point_index[i]``."""
        rows = np.asarray(point_index)[:, None]
        cols = np.asarray(panel_index)[:, None]
        return Panels(self.kind[rows, cols], self.anchor[rows, cols], self.power[rows, cols],
                      self.v_lo[rows, cols], self.v_hi[rows, cols],
                      np.concatenate([self.edges[rows, cols], self.edges[rows, cols + 1]], axis=1))

    def v_of(self, t: np.ndarray) -> np.ndarray:
        """The panel variable of t (same shape as the panel arrays)."""
        with np.errstate(divide="ignore"):
            return np.where(self.kind == LOG, np.log(t), (t / self.anchor) ** (self.power + 1.0))


def build_panels(p: Params, panels_per_segment: int) -> Panels:
    """Cut [0, ∞) at every scale of :func:`scale_candidates`, with ``panels_per_segment`` panels between two."""
    with np.errstate(invalid="ignore"):
        scales_u = scale_candidates(p)
        usable = np.isfinite(scales_u) & (scales_u > 0)
        scales_t = np.sqrt(np.where(usable, scales_u, np.nan))
    t_head = np.nanmin(scales_t, axis=1) / 8.0
    # -αF decreases strictly in u (∂F/∂u = (λq + g<y²>)/2 > 0), so beyond u_reach = 2·100/(αλq) past the
    # last scale that lies inside it the Gaussian factor alone bounds the rest by e^{-100}
    with np.errstate(divide="ignore"):
        u_reach = 2.0 * _TAIL_MASS_EXPONENT / (p.alpha * p.lambda_q)
    inside = usable & (scales_u < u_reach[:, None])
    largest_u = np.nanmax(np.where(inside, scales_u, np.nan), axis=1)
    t_tail = np.where(p.lambda_q > 0, np.sqrt(largest_u + u_reach), _POWER_TAIL_REACH * np.sqrt(largest_u))
    scales_or_head = np.where(np.isnan(scales_t), t_head[:, None], scales_t)
    breaks = np.sort(np.clip(scales_or_head, t_head[:, None], t_tail[:, None]), axis=1)
    log_knots = np.log(np.concatenate([t_head[:, None], breaks, t_tail[:, None]], axis=1))
    kind, anchor, power, v_lo, v_hi, log_t_lo = _segment_panels(p, log_knots, panels_per_segment)
    n_points = kind.shape[0]
    column = np.ones((n_points, 1))
    head_power = np.where((p.lambda_x == 0) & (p.mu == 0), -p.alpha / p.beta, 0.0)[:, None]
    tail_power = np.where(p.lambda_q > 0, -3.0, -p.alpha / p.beta)[:, None]
    return Panels(
        kind=np.concatenate([HEAD * column, kind, TAIL * column], axis=1).astype(np.int8),
        anchor=np.concatenate([t_head[:, None], anchor, t_tail[:, None]], axis=1),
        power=np.concatenate([head_power, power, tail_power], axis=1),
        v_lo=np.concatenate([0 * column, v_lo, column], axis=1),
        v_hi=np.concatenate([column, v_hi, 0 * column], axis=1),
        edges=np.concatenate([0 * column, np.exp(log_t_lo), t_tail[:, None], np.inf * column], axis=1),
    )


def _segment_panels(p: Params, log_knots: np.ndarray, panels_per_segment: int):
    """Equal panels between consecutive knots: in log t, or in (t/t_hi)^b where log t would be too coarse.

    Returns kind, anchor, power, the panel variable at each panel's two ends and log t at its lower end,
    each (P, S·n) for S segments of n panels.
    """
    n_points = log_knots.shape[0]
    lo, hi = log_knots[:, :-1], log_knots[:, 1:]
    fractions = np.arange(panels_per_segment + 1) / panels_per_segment
    log_t_grid = lo[:, :, None] + (hi - lo)[:, :, None] * fractions  # (P, S, n + 1)
    v_grid = log_t_grid  # log-t panels: the variable is log t
    kind = np.full(lo.shape, LOG, dtype=np.int8)
    anchor, power = np.ones(lo.shape), np.zeros(lo.shape)
    by_power, b = _power_segments(p, lo, hi, panels_per_segment)
    if by_power.any():  # replace those segments' log-t panels by power panels
        seg_lo, seg_hi, seg_b = lo[by_power], hi[by_power], b[by_power]
        # v = exp(b (log t - log t_hi)) runs from v(t_lo) to 1
        v_start = np.maximum(np.exp(seg_b * (seg_lo - seg_hi)), _SMALLEST_V)[:, None]
        v_grid, log_t_grid = v_grid.copy(), log_t_grid.copy()
        v_grid[by_power] = v_start + (1.0 - v_start) * fractions
        log_t_grid[by_power] = seg_hi[:, None] + np.log(v_grid[by_power]) / seg_b[:, None]
        kind[by_power], anchor[by_power], power[by_power] = HEAD, np.exp(seg_hi), seg_b - 1.0

    def per_panel(segment_values):
        return np.repeat(segment_values, panels_per_segment, axis=1)

    return (per_panel(kind), per_panel(anchor), per_panel(power), v_grid[:, :, :-1].reshape(n_points, -1),
            v_grid[:, :, 1:].reshape(n_points, -1), log_t_grid[:, :, :-1].reshape(n_points, -1))


def _power_segments(p: Params, lo: np.ndarray, hi: np.ndarray, panels_per_segment: int):
    """Which segments [lo, hi] (in log t) need power panels, and their exponent b (1 elsewhere).

    b = d log(t p) / d log t between the quarter and middle points, away from the transitions at the
    knots: v^{1/b - 1} is then smooth where the segment's mass lies (near its top, where p is smooth in
    t and so in v). Only rising t·p (b > 0): there u·p·dt/dv ∝ v^{2/b} is smooth too, while for b < 0 it
    would be singular at the far end. As b ≤ 1 (p never rises with t), only segments wider than the
    growth limit can qualify.
    """
    width = hi - lo
    limit = _MAX_LOG_GROWTH * panels_per_segment
    wide = np.nonzero(width > limit)
    by_power = np.zeros(width.shape, dtype=bool)
    b = np.ones(width.shape)
    if wide[0].size:
        parameters = p.take(wide[0]).positional()
        seg_lo, seg_width = lo[wide], width[wide]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            quarter, middle = (log_unnormalized_marginal(np.exp(seg_lo + f * seg_width), *parameters)
                               for f in (0.25, 0.5))
        seg_b = (middle - quarter) / (0.25 * seg_width) + 1.0
        rising = np.isfinite(seg_b) & (seg_b * seg_width > limit)
        by_power[wide] = rising
        b[wide] = np.where(rising, seg_b, 1.0)
    return by_power, b


@numba.njit(cache=True)
def _map_scalar(kind, anchor, power, v):
    """t(v), log t and log |dt/dv| for one panel variable value (see :class:`Panels`)."""
    if kind == LOG:
        return math.exp(v), v, v
    log_t = math.log(anchor) + math.log(abs(v)) / (power + 1.0)
    return math.exp(log_t), log_t, log_t - math.log(abs(power + 1.0)) - math.log(abs(v))


@numba.njit(cache=True, parallel=True)
def _log_integrals_kernel(kind, anchor, power, v_lo, v_hi, lambda_x, g, lambda_q, alpha, beta, mu, nodes, weights,
                          log_mass, log_u_moment):
    rows, n_panels = kind.shape
    n = nodes.shape[0]
    log_weights = np.log(weights)
    for r in numba.prange(rows):
        terms = np.empty(n)
        t_values = np.empty(n)
        for k in range(n_panels):
            half = 0.5 * (v_hi[r, k] - v_lo[r, k])
            if half == 0.0:
                log_mass[r, k] = -np.inf
                log_u_moment[r, k] = -np.inf
                continue
            mid = 0.5 * (v_hi[r, k] + v_lo[r, k])
            log_half = math.log(abs(half))
            largest = -np.inf
            largest_u = -np.inf
            for j in range(n):
                t, log_t, log_jacobian = _map_scalar(kind[r, k], anchor[r, k], power[r, k], mid + half * nodes[j])
                terms[j] = (log_unnormalized_marginal_scalar(t, lambda_x[r], g[r], lambda_q[r], alpha[r], beta[r],
                                                             mu[r])
                            + log_jacobian + log_half + log_weights[j])
                t_values[j] = t
                largest = max(largest, terms[j])
                largest_u = max(largest_u, terms[j] + 2.0 * log_t)
            if largest == -np.inf:
                log_mass[r, k] = -np.inf
                log_u_moment[r, k] = -np.inf
                continue
            total = 0.0
            total_u = 0.0
            u_scale = math.exp(largest - largest_u)  # exp(term - largest_u) = exp(term - largest) · that
            for j in range(n):
                weight = math.exp(terms[j] - largest)
                total += weight
                if u_scale < 1e300:
                    total_u += weight * t_values[j] * t_values[j] * u_scale
                else:  # a panel at t < 1e-150: u and the scale are out of float range, go through logs
                    total_u += math.exp(terms[j] + 2.0 * math.log(t_values[j]) - largest_u)
            log_mass[r, k] = largest + math.log(total)
            log_u_moment[r, k] = largest_u + math.log(total_u)


@numba.njit(cache=True)
def _panel_t_scalar(kind, anchor, power, v):
    return _map_scalar(kind, anchor, power, v)[0]


@numba.njit(cache=True)
def _panel_log_jacobian_scalar(kind, anchor, power, v):
    return _map_scalar(kind, anchor, power, v)[2]


_MAP_SIGNATURE = ["float64(float64, float64, float64, float64)"]
panel_t = numba.vectorize(_MAP_SIGNATURE, cache=True)(_panel_t_scalar)
panel_t.__doc__ = "t at panel variable v: panel_t(kind, anchor, power, v), broadcasting."
panel_log_jacobian = numba.vectorize(_MAP_SIGNATURE, cache=True)(_panel_log_jacobian_scalar)
panel_log_jacobian.__doc__ = ("log |dt/dv| at panel variable v: panel_log_jacobian(kind, anchor, power, v), "
                              "broadcasting.")


def log_integrals(panels: Panels, p: Params, n_nodes: int, v_lo=None) -> tuple[np.ndarray, np.ndarray]:
    """log ∫ exp(-αF) dt and log ∫ u exp(-αF) dt over each panel, each (rows, n_panels).

    ``p`` has one entry per row of ``panels``. With ``v_lo`` (rows, n_panels) the integrals run from
    that value of each panel's variable to the panel's far end instead (a partial panel).
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    shape = panels.kind.shape
    log_mass, log_u_moment = np.empty(shape), np.empty(shape)
    start = panels.v_lo if v_lo is None else np.asarray(v_lo, float)
    _log_integrals_kernel(panels.kind, panels.anchor, panels.power, np.ascontiguousarray(start, float),
                          panels.v_hi, *p.positional(), nodes, weights, log_mass, log_u_moment)
    return log_mass, log_u_moment
