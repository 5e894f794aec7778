"""The quartic model's scan quantities at many parameter points at once (002 eqs. (6)-(7)).

For each point: normalizability, the regime boundaries u_F, u_low, u_G, u_S (in u = (q - q̄)²), the
power-law exponent and its width in decades, <(q - q̄)²>, and the probability mass of each regime.
Points are evaluated in chunks with one fixed-order panel quadrature (:mod:`statmech_nn.quartic.quadrature`),
whose panels are cut at the regime boundaries, so each regime's mass is a sum of whole panels.
The result matches :class:`~statmech_nn.quartic.marginal.QuarticMarginal` (the precise single-point path,
24 nodes × 12 panels per segment) to ~1e-9 relative at the default order (see the tests and the benchmark).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import regimes as rg
from .marginal import normalizability_codes
from .quadrature import Params, build_panels, log_integrals

PANELS_PER_SEGMENT = 2
NODES_PER_PANEL = 12
CHUNK_POINTS = 4096

QUANTITIES = {
    "normalizable": ("1", "1 where p(q) is normalizable, 0 otherwise"),
    "u_frustration": ("q^2", "frustration boundary -lambda_x/g (NaN when lambda_x >= 0)"),
    "u_low": ("q^2", "lower end of the power law max(|lambda_x|, sqrt(2 mu/beta))/g"),
    "u_gauss": ("q^2", "Lambert-W crossover: -log(g u + lambda_x) = beta lambda_q u"),
    "u_slope": ("q^2", "equal log-slope crossover 1/(beta lambda_q) - lambda_x/g"),
    "powerlaw_exponent": ("1", "intermediate-scale exponent of p(q) in |q - q_bar|: -alpha/beta"),
    "powerlaw_decades": ("decades", "log10(u_gauss/u_low), 0 when the range is empty"),
    "q2_mean": ("q^2", "<(q - q_bar)^2> under p(q)"),
    "mass_below": ("1", "P(u < u_low): frustrated (lambda_x < 0) or core (lambda_x >= 0)"),
    "mass_powerlaw": ("1", "P(u_low <= u < u_gauss)"),
    "mass_gauss": ("1", "P(u >= max(u_gauss, u_low))"),
}


def evaluate(parameters: Mapping, *, panels_per_segment: int = PANELS_PER_SEGMENT,
             nodes_per_panel: int = NODES_PER_PANEL, chunk: int = CHUNK_POINTS) -> dict[str, np.ndarray]:
    """Every quantity of :data:`QUANTITIES` at the parameter arrays ``parameters`` (a mapping by the table's names,
    :class:`~.quadrature.Params`: broadcast together, their shape preserved; μ defaults to 0, centres ignored)."""
    shape = np.broadcast_shapes(*(np.shape(value) for value in parameters.values()))
    p = Params.of(parameters)
    codes = normalizability_codes(p.lambda_x, p.lambda_q, p.alpha, p.beta, p.mu)
    u_low = rg.lower_scale(p.lambda_x, p.g, p.beta, p.mu)
    u_gauss = rg.gauss_crossover(p.lambda_x, p.g, p.lambda_q, p.beta)
    out = {
        "normalizable": (codes == 0).astype(float),
        "u_frustration": rg.frustration_boundary(p.lambda_x, p.g),
        "u_low": u_low,
        "u_gauss": u_gauss,
        "u_slope": rg.slope_crossover(p.lambda_x, p.g, p.lambda_q, p.beta),
        "powerlaw_exponent": rg.powerlaw_exponent(p.alpha, p.beta),
        "powerlaw_decades": rg.powerlaw_decades(p.lambda_x, p.g, p.lambda_q, p.beta, p.mu),
    }
    integrals = {name: np.full(len(p), np.nan) for name in ("q2_mean", "mass_below", "mass_powerlaw", "mass_gauss")}
    good = np.flatnonzero(codes == 0)
    for start in range(0, good.size, chunk):
        index = good[start:start + chunk]
        for name, values in _integrals(p.take(index), u_low[index], u_gauss[index], panels_per_segment,
                                       nodes_per_panel).items():
            integrals[name][index] = values
    heavy_tail = (p.lambda_q == 0) & (p.alpha <= 3.0 * p.beta)
    integrals["q2_mean"][heavy_tail & (codes == 0)] = np.inf
    out.update(integrals)
    return {name: np.broadcast_to(np.asarray(value, float), (len(p),)).reshape(shape) for name, value in out.items()}


def _integrals(p: Params, u_low, u_gauss, panels_per_segment, nodes_per_panel) -> dict[str, np.ndarray]:
    panels = build_panels(p, panels_per_segment)
    log_mass, log_u_moment = log_integrals(panels, p, nodes_per_panel)
    log_norm = _logsumexp_rows(log_mass)
    log_u = _logsumexp_rows(log_u_moment)
    fraction = np.exp(log_mass - log_norm[:, None])
    # the regime boundaries are panel edges: classify each panel by its midpoint
    with np.errstate(over="ignore", invalid="ignore"):
        midpoint = 0.5 * (panels.edges[:, :-1] + panels.edges[:, 1:])
    midpoint_u = midpoint**2
    below = midpoint_u < u_low[:, None]
    upper = np.maximum(u_gauss, u_low)[:, None]
    powerlaw = ~below & (midpoint_u < upper)
    return {
        "q2_mean": np.exp(log_u - log_norm),
        "mass_below": np.sum(fraction * below, axis=1),
        "mass_powerlaw": np.sum(fraction * powerlaw, axis=1),
        "mass_gauss": np.sum(fraction * ~(below | powerlaw), axis=1),
    }


def _logsumexp_rows(values: np.ndarray) -> np.ndarray:
    """log Σ_k exp(values[:, k]) for rows with at least one finite entry."""
    largest = np.max(values, axis=1)
    return largest + np.log(np.sum(np.exp(values - largest[:, None]), axis=1))
