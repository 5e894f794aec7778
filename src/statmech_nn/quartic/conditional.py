"""p(x|q) ∝ exp(-βH(x, q)) of the quartic toy model, exactly normalized (002 eq. (3), with our μ x⁴/4 term).

With y = x - x̄, A = β a(u)/2 and B = βμ/4 (:mod:`statmech_nn.quartic.free_energy`),
p(x|q) = exp(-A y² - B y⁴) / Z(A, B): a Gaussian when μ = 0, and bimodal, with modes at
y = ±√(-a/μ), exactly when a(u) = λx + g (q - q̄)² < 0 and μ > 0.

``q`` may be an array: every method broadcasts x against it, and ``rvs`` draws one x per q.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import ndtr

from ..distributions import Distribution
from ..errors import NotNormalizableError
from .free_energy import effective_curvature, log_quartic_integral, quartic_second_moment



class QuarticConditional(Distribution):
    """The distribution of x at fixed q (scalar or array), with scipy.stats's interface
    (:class:`~statmech_nn.distributions.Distribution`; every method broadcasts against q), and ``modes``."""

    def __init__(self, model, q):
        self.model = model
        self.q = np.asarray(q, float)
        self.curvature = effective_curvature((self.q - model.q_bar) ** 2, model.lambda_x, model.g)
        self._A = 0.5 * model.beta * self.curvature
        self._B = 0.25 * model.beta * model.mu
        self._log_norm = log_quartic_integral(self._A, self._B)
        bad = ~np.isfinite(self._log_norm)
        if np.any(bad):
            first = np.flatnonzero(np.ravel(bad))[0]
            raise NotNormalizableError(
                f"p(x|q) at q={np.ravel(self.q)[first]} is not normalizable: "
                f"lambda_x + g (q - q_bar)^2 = {np.ravel(self.curvature)[first]} <= 0 and mu = 0"
            )

    @property
    def is_bimodal(self):
        """True exactly where λx + g (q - q̄)² < 0 (and μ > 0, which normalizability then requires)."""
        return (self.curvature < 0)[()]

    def modes(self) -> np.ndarray:
        """The maxima of p(x|q) for a scalar q: x̄ alone, or x̄ ± √(-a/μ) in the frustrated regime."""
        if self.q.ndim:
            raise ValueError("modes() needs a scalar q")
        if not self.is_bimodal:
            return np.array([self.model.x_bar])
        half_gap = np.sqrt(-self.curvature / self.model.mu)
        return self.model.x_bar + np.array([-half_gap, half_gap])

    def _parameters(self) -> dict:
        return {"q": self.q.tolist() if self.q.ndim else float(self.q), **self.model.to_dict()}

    def _logpdf(self, x):
        y2 = (x - self.model.x_bar) ** 2
        return -self._A * y2 - self._B * y2 * y2 - self._log_norm

    def _cdf(self, x):
        """Normal CDF when μ = 0; adaptive quadrature from x̄ otherwise (the density is even in y)."""
        y = np.asarray(x, float) - self.model.x_bar
        if self._B == 0:
            return ndtr(y * np.sqrt(2.0 * self._A))
        y, A, log_norm = np.broadcast_arrays(y, self._A, self._log_norm)

        def half_mass(b, a, log_z):
            integrand = lambda s: np.exp(-a * s * s - self._B * s**4 - log_z)  # noqa: E731
            return integrate.quad(integrand, 0.0, b, epsabs=0, epsrel=1e-12, limit=200)[0]

        return (0.5 + np.sign(y) * np.vectorize(half_mass)(np.abs(y), A, log_norm))[()]

    def mean(self):
        return (self.model.x_bar + 0.0 * self.q)[()]

    def var(self):
        return quartic_second_moment(self._A, self._B)

    def std(self):
        return np.sqrt(self.var())

    def _moment(self, order):
        """E[xⁿ] for n ≤ 2 (the law is even about x̄); higher orders are not needed and not provided."""
        if order > 2:
            raise NotImplementedError("QuarticConditional gives moments up to order 2")
        return self.model.x_bar**order + (self.var() if order == 2 else 0.0)

    def _rvs(self, size, rng):
        """Exact samples, one per q (shape: ``size`` broadcast with q's shape).

        μ = 0: Gaussian. μ > 0: rejection from an optimal Gaussian envelope: with y⁴ ≥ 2s²y² - s⁴ the target
        exp(-A y² - B y⁴) is bounded by exp(B s⁴) exp(-(A + 2Bs²) y²), and a proposal y is accepted with
        probability exp(-B (y² - s²)²). The envelope's mass is least at s² = (-A + √(A² + 4B)) / (4B), which
        keeps the acceptance rate finite in the frustrated regime.
        """
        shape = np.broadcast_shapes(() if size is None else tuple(np.atleast_1d(size)), self.q.shape)
        A = np.broadcast_to(self._A, shape).ravel()
        if self._B == 0:
            return (self.model.x_bar + rng.standard_normal(A.shape) / np.sqrt(2.0 * A)).reshape(shape)
        B = self._B
        s2 = (-A + np.sqrt(A * A + 4.0 * B)) / (4.0 * B)
        scale = 1.0 / np.sqrt(2.0 * (A + 2.0 * B * s2))
        out = np.empty(A.shape)
        pending = np.arange(A.size)
        while pending.size:
            y = rng.standard_normal(pending.size) * scale[pending]
            keep = rng.random(pending.size) < np.exp(-B * (y * y - s2[pending]) ** 2)
            out[pending[keep]] = y[keep]
            pending = pending[~keep]
        return (self.model.x_bar + out).reshape(shape)
