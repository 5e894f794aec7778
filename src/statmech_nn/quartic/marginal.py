"""The marginal p(q) ∝ exp(-αF(β, q)) of the quartic toy model as a scipy.stats-like distribution (002 eqs. (5)-(6)).

F is the exact free energy (:func:`statmech_nn.quartic.free_energy.free_energy_exact`), so the density is
defined also in the frustrated regime when μ > 0. The density is symmetric about q̄; everything is
computed on t = |q - q̄| with the panel quadrature of :mod:`statmech_nn.quartic.quadrature`:

- the normalization and <(q - q̄)²> from whole panels;
- the tail probability S(t) = P(|q - q̄| > t) as a table at panel edges plus one partial panel,
  in log space, so that cdf(q) carries no cancellation in either tail;
- a Legendre interpolant of the density at each panel's Gauss nodes, whose antiderivative gives the
  in-panel CDF as a polynomial: rvs inverts it (error < 1e-12 in probability, no density evaluations),
  ppf starts from it and polishes by safeguarded Newton iteration on the exact log S.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.polynomial import legendre
from scipy.special import logsumexp

from ..distributions import Distribution
from ..errors import NotNormalizableError, ParameterError
from .free_energy import log_unnormalized_marginal
from .parameters import COMPUTABLE, require_computable
from .quadrature import LOG, Params, build_panels, log_integrals, panel_log_jacobian, panel_t

PANELS_PER_SEGMENT = 12
NODES_PER_PANEL = 24
_NEWTON_ITERATIONS = 60
_NEWTON_TOLERANCE = 1e-14
_POLYNOMIAL_ITERATIONS = 100

NORMALIZABILITY_PROBLEMS = {
    1: "p(x|q) is not normalizable where lambda_x + g (q - q_bar)^2 <= 0, which lambda_x < 0 "
       "(the frustrated regime) implies: set mu > 0",
    2: ("p(q) ~ |q - q_bar|^(-alpha/beta) is not integrable at q_bar: with lambda_x = 0 and mu = 0 "
        "it needs alpha < beta"),
    3: "the tail p(q) ~ |q - q_bar|^(-alpha/beta) is not integrable: with lambda_q = 0 it needs alpha > beta",
}


def normalizability_codes(lambda_x, lambda_q, alpha, beta, mu) -> np.ndarray:
    """0 where p(q) is normalizable, else the key of the reason in :data:`NORMALIZABILITY_PROBLEMS` (g > 0 assumed)."""
    lambda_x, lambda_q, alpha, beta, mu = np.broadcast_arrays(
        *(np.asarray(v, float) for v in (lambda_x, lambda_q, alpha, beta, mu)))
    codes = np.zeros(lambda_x.shape, np.int8)
    codes[(lambda_q == 0) & (alpha <= beta)] = 3
    codes[(mu == 0) & (lambda_x == 0) & (alpha >= beta)] = 2
    codes[(mu == 0) & (lambda_x < 0)] = 1
    return codes


_CLENSHAW_A = (2.0 * np.arange(NODES_PER_PANEL + 1) + 1.0) / (np.arange(NODES_PER_PANEL + 1) + 1.0)
_CLENSHAW_B = (np.arange(NODES_PER_PANEL + 1) + 1.0) / (np.arange(NODES_PER_PANEL + 1) + 2.0)


@numba.njit(cache=True)
def _legendre_series(x, coefficients):
    """Σ c_k P_k(x) by Clenshaw's recurrence (P_{k+1} = ((2k+1) x P_k - k P_{k-1})/(k+1))."""
    b1 = 0.0
    b2 = 0.0
    for k in range(coefficients.shape[0] - 1, 0, -1):
        b0 = coefficients[k] + _CLENSHAW_A[k] * x * b1 - _CLENSHAW_B[k] * b2
        b2 = b1
        b1 = b0
    return coefficients[0] + x * b1 - 0.5 * b2


@numba.njit(cache=True, parallel=True)
def _invert_panel_polynomials(cumulative, density, panel, target):
    """x ∈ [-1, 1] with Σ cumulative[panel_i] P_k(x) = target_i: Newton's method inside a shrinking bracket."""
    out = np.empty(target.shape[0])
    for i in numba.prange(target.shape[0]):
        c, d, goal = cumulative[panel[i]], density[panel[i]], target[i]
        lo, hi = -1.0, 1.0
        total = _legendre_series(1.0, c)
        x = min(max(2.0 * goal / total - 1.0, -1.0), 1.0) if total > 0 else 0.0
        for _ in range(_POLYNOMIAL_ITERATIONS):
            residual = _legendre_series(x, c) - goal
            if residual < 0:
                lo = x
            else:
                hi = x
            slope = _legendre_series(x, d)
            step_ok = slope > 0
            newton = x - residual / slope if step_ok else x
            if not (step_ok and lo < newton < hi):
                newton = 0.5 * (lo + hi)
            if abs(newton - x) <= 1e-14 or hi - lo <= 1e-15:
                x = newton
                break
            x = newton
        out[i] = x
    return out


MAX_PEAK_LOG_HEIGHT = 1e13  # beyond this, -αF's O(1) variations fall below its float resolution


def _require_resolvable_peak(model) -> None:
    """With λx < 0, -αF(q̄) ≈ αλx²/(4μ) (002 eq. (6) with the exact F: the double well's depth); its O(1)
    structure must survive rounding."""
    if model.lambda_x < 0 and model.mu > 0:
        height = model.alpha * model.lambda_x**2 / (4.0 * model.mu)
        if height > MAX_PEAK_LOG_HEIGHT:
            raise ParameterError("mu", model.mu, f"at least αλx²/(4·{MAX_PEAK_LOG_HEIGHT:g}) = "
                                 f"{model.alpha * model.lambda_x**2 / (4.0 * MAX_PEAK_LOG_HEIGHT):.3g} for λx < 0: "
                                 f"log p(q̄) ≈ αλx²/(4μ) = {height:.3g} leaves no float resolution for p(q)")


class QuarticMarginal(Distribution):
    """p(q) of a :class:`~statmech_nn.quartic.model.QuarticModel` with scipy.stats's interface
    (:class:`~statmech_nn.distributions.Distribution`); both tails in log space, so sf and logsf keep their
    relative accuracy where 1 - cdf would not."""

    def __init__(self, model):
        code = int(normalizability_codes(model.lambda_x, model.lambda_q, model.alpha, model.beta, model.mu))
        if code:
            raise NotNormalizableError(NORMALIZABILITY_PROBLEMS[code])
        _require_resolvable_peak(model)
        for name in COMPUTABLE:
            require_computable(name, getattr(model, name))
        self.model = model
        self.q_bar = model.q_bar
        self._params = Params.of(model.to_dict())
        self._panels = build_panels(self._params, PANELS_PER_SEGMENT)
        log_mass, log_u_moment = (a[0] for a in log_integrals(self._panels, self._params, NODES_PER_PANEL))
        self._log_half_norm = logsumexp(log_mass)
        if not np.isfinite(self._log_half_norm):
            raise NotNormalizableError(f"the normalization of p(q) evaluated to {self._log_half_norm}")
        fractions = log_mass - self._log_half_norm
        # log S at each panel's left edge: the mass of that panel and of all panels after it
        self._log_sf_at_edges = np.append(np.logaddexp.accumulate(fractions[::-1])[::-1], -np.inf)
        log_u = logsumexp(log_u_moment)
        # with λq = 0 the tail ~ |q - q̄|^{-α/β} has a finite second moment only for α/β > 3
        heavy_tail = model.lambda_q == 0 and model.alpha <= 3.0 * model.beta
        self._second_moment = np.inf if heavy_tail else float(np.exp(log_u - self._log_half_norm))
        self._build_panel_cdf(fractions)

    def _build_panel_cdf(self, log_fractions):
        """Per panel: Legendre coefficients of the probability density in x ∈ [-1, 1] and of its antiderivative."""
        x, w = np.polynomial.legendre.leggauss(NODES_PER_PANEL)
        panels = self._panels
        half = 0.5 * (panels.v_hi - panels.v_lo)[0][:, None]
        v = 0.5 * (panels.v_hi + panels.v_lo)[0][:, None] + half * x
        geometry = (panels.kind[0][:, None], panels.anchor[0][:, None], panels.power[0][:, None], v)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_g = (self._log_density(panel_t(*geometry)) + panel_log_jacobian(*geometry) + np.log(np.abs(half))
                     - self._log_half_norm)
        log_g = np.where(half == 0, -np.inf, log_g)
        self._panel_log_scale = np.max(log_g, axis=1)
        finite_scale = np.where(np.isfinite(self._panel_log_scale), self._panel_log_scale, 0.0)
        values = np.exp(log_g - finite_scale[:, None])
        basis = legendre.legvander(x, NODES_PER_PANEL - 1)  # (nodes, degree + 1)
        self._density_coef = (values * w) @ basis * (2 * np.arange(NODES_PER_PANEL) + 1) / 2.0
        self._cumulative_coef = legendre.legint(self._density_coef, lbnd=-1, axis=1)
        self._cdf_at_edges = np.concatenate([[0.0], np.cumsum(np.exp(log_fractions))])

    # densities -------------------------------------------------------------------------------
    def _log_density(self, t):
        """log exp(-αF(β, q̄ + t)), unnormalized."""
        m = self.model
        return log_unnormalized_marginal(t, m.lambda_x, m.g, m.lambda_q, m.alpha, m.beta, m.mu)

    def _parameters(self) -> dict:
        return self.model.to_dict()

    def _logpdf(self, q):
        t = np.abs(q - self.q_bar)
        return self._log_density(t) - np.log(2.0) - self._log_half_norm

    # probabilities ---------------------------------------------------------------------------
    def _panel_of(self, t):
        return np.clip(np.searchsorted(self._panels.edges[0], t, side="right") - 1, 0, self._panels.kind.shape[1] - 1)

    def _log_tail(self, t):
        """log P(|q - q̄| > t), elementwise for t ≥ 0."""
        t = np.asarray(t, float)
        flat = t.ravel()
        panel = self._panel_of(flat)
        selected = self._panels.select(panel, np.zeros_like(panel))
        partial = log_integrals(selected, self._params.take(np.zeros_like(panel)), NODES_PER_PANEL,
                                v_lo=selected.v_of(flat[:, None]))[0][:, 0]
        out = np.logaddexp(self._log_sf_at_edges[panel + 1], partial - self._log_half_norm)
        out = np.where(flat <= 0, 0.0, np.minimum(out, 0.0))
        return out.reshape(t.shape)[()]

    def _logcdf_of_deviation(self, deviation):
        """log P(q - q̄ ≤ deviation): log(S/2) below q̄, log(1 - S/2) above, S the two-sided tail."""
        log_half_tail = np.log(0.5) + self._log_tail(np.abs(deviation))
        return np.where(deviation < 0, log_half_tail, np.log1p(-np.exp(log_half_tail)))

    def _cdf(self, q):
        return np.exp(self._logcdf_of_deviation(q - self.q_bar))

    def _logsf(self, q):
        return self._logcdf_of_deviation(self.q_bar - q)

    def logcdf(self, q):
        return self._logcdf_of_deviation(np.asarray(q, float) - self.q_bar)[()]

    def mass_between(self, u_lo, u_hi):
        """P(u_lo ≤ (q - q̄)² < u_hi) for 0 ≤ u_lo ≤ u_hi (u_hi may be inf)."""
        t_lo, t_hi = np.sqrt(np.asarray(u_lo, float)), np.sqrt(np.asarray(u_hi, float))
        return (np.exp(self._log_tail(t_lo)) - np.exp(self._log_tail(t_hi)))[()]

    def _ppf(self, prob):
        """The quantile function, exact to ~1e-12 in probability (Newton on log S, bisection safeguard)."""
        flat = prob.ravel()
        log_target = np.log(2.0 * np.minimum(flat, 1.0 - flat))
        t = self._tail_inverse(log_target)
        q = self.q_bar + np.where(flat < 0.5, -t, t)
        return q.reshape(prob.shape)

    def _isf(self, prob):
        """By the symmetry about q̄: isf(p) = 2q̄ - ppf(p), without the rounding of 1 - p."""
        return 2.0 * self.q_bar - self._ppf(prob)

    def _tail_inverse(self, log_target):
        """t with log S(t) = log_target (vectorized); log_target = 0 gives 0, -inf gives inf."""
        out = np.zeros_like(log_target)
        out[np.isneginf(log_target)] = np.inf
        todo = np.flatnonzero((log_target < 0) & np.isfinite(log_target))
        if todo.size == 0:
            return out
        target = log_target[todo]
        # the panel k with S(edge_k) >= target > S(edge_{k+1}); S decreases along the edges
        panel = np.clip(np.searchsorted(-self._log_sf_at_edges, -target, side="right") - 1, 0,
                        self._panels.kind.shape[1] - 1)
        selected = self._panels.select(panel, np.zeros_like(panel))
        kind, anchor, power = selected.kind[:, 0], selected.anchor[:, 0], selected.power[:, 0]
        # t grows with v on head and log panels, shrinks with v on the tail panel
        orientation = np.where((kind == LOG) | (power > -1.0), 1.0, -1.0)
        lo, hi = selected.v_lo[:, 0].copy(), selected.v_hi[:, 0].copy()
        v = selected.v_of(self._interpolated_t(-np.expm1(target))[:, None])[:, 0]
        v = np.where(np.isfinite(v) & ((v - lo) * (v - hi) <= 0), v, 0.5 * (lo + hi))
        for _ in range(_NEWTON_ITERATIONS):
            t, log_dt_dv = panel_t(kind, anchor, power, v), panel_log_jacobian(kind, anchor, power, v)
            residual = self._log_tail(t) - target
            if np.all(np.abs(residual) < _NEWTON_TOLERANCE):
                break
            # S decreases in t; moving v from v_lo to v_hi always moves t outward
            toward_hi = residual > 0
            lo = np.where(toward_hi, v, lo)
            hi = np.where(toward_hi, hi, v)
            log_density = self._log_density(t) - self._log_half_norm
            # d log S / dv = -p(t)/S(t) · dt/dv
            slope_v = -orientation * np.exp(log_density - (residual + target) + log_dt_dv)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                newton = v - residual / slope_v
            inside = np.isfinite(newton) & ((newton - lo) * (newton - hi) <= 0)
            converged = np.abs(residual) < _NEWTON_TOLERANCE
            v = np.where(converged, v, np.where(inside, newton, 0.5 * (lo + hi)))
        out[todo] = panel_t(kind, anchor, power, v)
        return out

    def _interpolated_t(self, inner_mass):
        """t with P(|q - q̄| ≤ t) = inner_mass, from the panel polynomials (error < 1e-12 in probability)."""
        panel = np.clip(np.searchsorted(self._cdf_at_edges, inner_mass, side="right") - 1,
                        0, self._panels.kind.shape[1] - 1)
        scale = np.exp(np.where(np.isfinite(self._panel_log_scale[panel]), self._panel_log_scale[panel], -np.inf))
        with np.errstate(divide="ignore", invalid="ignore"):
            target = (inner_mass - self._cdf_at_edges[panel]) / scale
        x = _invert_panel_polynomials(self._cumulative_coef, self._density_coef, panel, target)
        selected = self._panels.select(panel, np.zeros_like(panel))
        v = 0.5 * (selected.v_lo[:, 0] + selected.v_hi[:, 0]) + 0.5 * (selected.v_hi[:, 0] - selected.v_lo[:, 0]) * x
        return panel_t(selected.kind[:, 0], selected.anchor[:, 0], selected.power[:, 0], v)

    def _rvs(self, size, rng):
        """Samples by inverse CDF (panel polynomials)."""
        uniform = np.asarray(rng.random(size), float)
        t = self._interpolated_t(np.abs(2.0 * uniform.ravel() - 1.0)).reshape(uniform.shape)
        return self.q_bar + np.where(uniform < 0.5, -t, t)

    # moments ---------------------------------------------------------------------------------
    def mean(self) -> float:
        return float(self.q_bar)

    def var(self) -> float:
        """<(q - q̄)²>."""
        return self._second_moment

    def moment(self, order: int) -> float:
        """E[qⁿ] from the central moments (odd ones vanish): only n ≤ 2 from the panels, higher by quadrature."""
        if order <= 2:
            return float(self.q_bar**order + (self._second_moment if order == 2 else 0.0))
        return super().moment(order)
