"""Composite Gauss–Legendre quadrature of the quartic marginal over t = |q - q̄|, vectorized over parameter points.

The unnormalized density exp(-αF(β, q)) (002 eq. (6)) changes character at several scales (the
frustration boundary, the quartic scale, the Lambert-W and log-slope crossovers, the Gaussian width),
which can lie many decades apart. The half-line t ∈ [0, ∞) is cut at all of them; every point of a
batch gets the same panel structure, so one NumPy expression integrates a whole grid:

- a head panel [0, T0] in the variable v with t = T0 v^{1/(p+1)}, where p is the density's power at
  t → 0 (p = -α/β when λx = μ = 0, where p(q) ∝ |q - q̄|^{-α/β} is integrably singular; else p = 0);
- log-spaced panels (variable log t) between consecutive scales, up to T1;
- a tail panel [T1, ∞) with t = T1 v^{1/(p+1)}, p = -α/β when λq = 0 (a pure power-law tail),
  otherwise any p < -1 (T1 is far beyond the Gaussian width, the tail carries < e^{-100} of the mass).

Cutting at the regime boundaries makes the probability mass of each regime a sum of whole panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import logsumexp

from .regimes import frustration_boundary, gauss_crossover, quartic_scale, slope_crossover

HEAD, LOG, TAIL = 0, 1, 2
_TAIL_MASS_EXPONENT = 100.0  # T1 is where the Gaussian factor has fallen by e^{-100}
_POWER_TAIL_REACH = 1e4      # with λq = 0, T1 is this many times the largest finite scale


@dataclass(frozen=True)
class Params:
    """Quartic-model parameters as 1-D arrays of one common length (one entry per point)."""

    lambda_x: np.ndarray
    g: np.ndarray
    lambda_q: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    mu: np.ndarray

    @classmethod
    def of(cls, lambda_x, g, lambda_q, alpha, beta, mu) -> "Params":
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (lambda_x, g, lambda_q, alpha, beta, mu)))
        return cls(*(a.ravel().copy() for a in arrays))

    def __len__(self) -> int:
        return self.lambda_x.shape[0]

    def take(self, index) -> "Params":
        return Params(*(getattr(self, f)[index] for f in ("lambda_x", "g", "lambda_q", "alpha", "beta", "mu")))

    def column(self) -> "Params":
        """The same parameters shaped (P, 1, 1), to broadcast against (P, panels, nodes) arrays."""
        return Params(*(getattr(self, f)[:, None, None] for f in ("lambda_x", "g", "lambda_q", "alpha", "beta", "mu")))


def scale_candidates(p: Params) -> np.ndarray:
    """(P, 8) scales in u where the density changes character; NaN or ≤ 0 where a scale does not exist."""
    u_mu = quartic_scale(p.g, p.beta, p.mu)
    u_frustration = frustration_boundary(p.lambda_x, p.g)
    with np.errstate(divide="ignore", invalid="ignore"):
        gaussian_width = np.where(p.lambda_q > 0, 1.0 / (p.alpha * p.lambda_q), np.inf)
        # With λx < 0 and μ > 0, -αF ≈ α(λx + g u)²/(4μ) near u = 0: it falls by e over this u.
        frustrated_decay = np.where((p.lambda_x < 0) & (p.mu > 0), 2.0 * p.mu / (p.alpha * np.abs(p.lambda_x) * p.g), np.nan)
    return np.stack([
        np.abs(p.lambda_x) / p.g, u_mu,
        gauss_crossover(p.lambda_x, p.g, p.lambda_q, p.beta), slope_crossover(p.lambda_x, p.g, p.lambda_q, p.beta),
        gaussian_width, frustrated_decay, u_frustration - u_mu, u_frustration + u_mu,
    ], axis=1)


@dataclass(frozen=True)
class Panels:
    """Per-point panels covering t ∈ [0, ∞): one head, log panels, one tail; all arrays (P, n_panels).

    ``kind`` says how t depends on the panel variable v: LOG panels use v = log t, HEAD and TAIL
    panels t = anchor · v^{1/(power+1)} with v ∈ [0, 1].
    """

    kind: np.ndarray
    anchor: np.ndarray
    power: np.ndarray
    v_lo: np.ndarray
    v_hi: np.ndarray
    edges: np.ndarray  # (P, n_panels + 1): t at the panel boundaries, 0 ... inf

    def select(self, panel_index: np.ndarray, point_index: np.ndarray) -> "Panels":
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


def panel_map(kind, anchor, power, v):
    """t(v) and log |dt/dv| for each panel kind (all arguments broadcast together)."""
    with np.errstate(divide="ignore", over="ignore"):
        power_t = anchor * np.abs(v) ** (1.0 / (power + 1.0))
        t = np.where(kind == LOG, np.exp(v), power_t)
        power_jacobian = np.log(t) - np.log(np.abs(power + 1.0)) - np.log(np.abs(v))
    return t, np.where(kind == LOG, v, power_jacobian)


def build_panels(p: Params, panels_per_segment: int) -> Panels:
    """Cut [0, ∞) at every scale of :func:`scale_candidates`, with ``panels_per_segment`` log panels between two."""
    with np.errstate(invalid="ignore"):
        scales_u = scale_candidates(p)
        usable = np.isfinite(scales_u) & (scales_u > 0)
        scales_t = np.sqrt(np.where(usable, scales_u, np.nan))
    t_head = np.nanmin(scales_t, axis=1) / 8.0
    largest_u = np.nanmax(np.where(usable, scales_u, np.nan), axis=1)
    with np.errstate(divide="ignore"):
        gaussian_reach = largest_u + 2.0 * _TAIL_MASS_EXPONENT / (p.alpha * p.lambda_q)
    t_tail = np.where(p.lambda_q > 0, np.sqrt(gaussian_reach), _POWER_TAIL_REACH * np.sqrt(largest_u))
    breaks = np.sort(np.clip(np.where(np.isnan(scales_t), t_head[:, None], scales_t), t_head[:, None], t_tail[:, None]), axis=1)
    log_knots = np.log(np.concatenate([t_head[:, None], breaks, t_tail[:, None]], axis=1))
    # each segment between consecutive knots is split into equal panels in log t
    fractions = np.arange(panels_per_segment + 1) / panels_per_segment
    log_edges = log_knots[:, :-1, None] + (log_knots[:, 1:, None] - log_knots[:, :-1, None]) * fractions
    log_lo = log_edges[:, :, :-1].reshape(len(p), -1)
    log_hi = log_edges[:, :, 1:].reshape(len(p), -1)
    n_points, n_log = log_lo.shape
    column = np.ones((n_points, 1))
    head_power = np.where((p.lambda_x == 0) & (p.mu == 0), -p.alpha / p.beta, 0.0)[:, None]
    tail_power = np.where(p.lambda_q > 0, -3.0, -p.alpha / p.beta)[:, None]
    return Panels(
        kind=np.concatenate([HEAD * column, np.full((n_points, n_log), LOG), TAIL * column], axis=1).astype(np.int8),
        anchor=np.concatenate([t_head[:, None], column.repeat(n_log, 1), t_tail[:, None]], axis=1),
        power=np.concatenate([head_power, np.zeros((n_points, n_log)), tail_power], axis=1),
        v_lo=np.concatenate([0 * column, log_lo, column], axis=1),
        v_hi=np.concatenate([column, log_hi, 0 * column], axis=1),
        edges=np.concatenate([0 * column, np.exp(log_lo), t_tail[:, None], np.inf * column], axis=1),
    )


LogDensity = Callable[[np.ndarray, Params], np.ndarray]


def log_integrals(panels: Panels, log_density: LogDensity, p: Params, n_nodes: int,
                  v_lo=None, v_hi=None, u_power: int = 0) -> np.ndarray:
    """log ∫ u^k exp(log_density(t)) dt over each panel, or over [v_lo, v_hi] of its variable; shape (P, n_panels)."""
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    v_lo = panels.v_lo if v_lo is None else v_lo
    v_hi = panels.v_hi if v_hi is None else v_hi
    half = 0.5 * (v_hi - v_lo)[..., None]
    v = 0.5 * (v_hi + v_lo)[..., None] + half * x
    t, log_jacobian = panel_map(panels.kind[..., None], panels.anchor[..., None], panels.power[..., None], v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_terms = log_density(t, p.column()) + log_jacobian + np.log(np.abs(half)) + np.log(w)
        if u_power:
            log_terms = log_terms + 2.0 * u_power * np.log(t)
        # zero-width panels (coinciding scales) give -inf + finite; nothing else may be NaN
        log_terms = np.where(half == 0, -np.inf, log_terms)
    return logsumexp(log_terms, axis=-1)
