"""p(x|q) ∝ exp(-βH(x, q)) of the quartic toy model, exactly normalized (002 eq. (3), with our μ x⁴/4 term).

With y = x - x̄, A = β a(u)/2 and B = βμ/4 (:mod:`statmech_nn.toy.free_energy`),
p(x|q) = exp(-A y² - B y⁴) / Z(A, B): a Gaussian when μ = 0, and bimodal, with modes at
y = ±√(-a/μ), exactly when a(u) = λx + g (q - q̄)² < 0 and μ > 0.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import ndtr

from ..errors import NotNormalizableError
from ..params import rng_from
from .free_energy import effective_curvature, log_quartic_integral, quartic_second_moment

_REJECTION_BATCH_FACTOR = 2.0


class QuarticConditional:
    """The distribution of x at fixed q (scalar q): pdf, logpdf, cdf, rvs, mean, var, modes."""

    def __init__(self, model, q):
        q = float(q)
        self.model, self.q = model, q
        self.curvature = float(effective_curvature((q - model.q_bar) ** 2, model.lambda_x, model.g))
        self._A = 0.5 * model.beta * self.curvature
        self._B = 0.25 * model.beta * model.mu
        self._log_norm = float(log_quartic_integral(self._A, self._B))
        if not np.isfinite(self._log_norm):
            raise NotNormalizableError(
                f"p(x|q) at q={q} is not normalizable: lambda_x + g (q - q_bar)^2 = {self.curvature} <= 0 and mu = 0"
            )

    @property
    def is_bimodal(self) -> bool:
        """True exactly when λx + g (q - q̄)² < 0 (and μ > 0, which normalizability then requires)."""
        return self.curvature < 0

    def modes(self) -> np.ndarray:
        """The maxima of p(x|q): x̄ alone, or x̄ ± √(-a/μ) in the frustrated regime."""
        if not self.is_bimodal:
            return np.array([self.model.x_bar])
        half_gap = np.sqrt(-self.curvature / self.model.mu)
        return self.model.x_bar + np.array([-half_gap, half_gap])

    def logpdf(self, x):
        y = np.asarray(x, float) - self.model.x_bar
        y2 = y * y
        return -self._A * y2 - self._B * y2 * y2 - self._log_norm

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def cdf(self, x):
        """Normal CDF when μ = 0; adaptive quadrature from x̄ otherwise (the density is even in y)."""
        y = np.asarray(x, float) - self.model.x_bar
        if self._B == 0:
            return ndtr(y * np.sqrt(2.0 * self._A))
        half = np.vectorize(lambda b: integrate.quad(lambda s: np.exp(-self._A * s * s - self._B * s**4 - self._log_norm),
                                                     0.0, b, epsabs=0, epsrel=1e-12, limit=200)[0])
        return (0.5 + np.sign(y) * half(np.abs(y)))[()]

    def mean(self) -> float:
        return float(self.model.x_bar)

    def var(self) -> float:
        return float(quartic_second_moment(self._A, self._B))

    def rvs(self, size=None, random_state=None):
        """Exact samples: Gaussian when μ = 0, else rejection from an optimal Gaussian envelope.

        With y⁴ ≥ 2s²y² - s⁴ the target exp(-A y² - B y⁴) is bounded by exp(B s⁴) exp(-(A + 2Bs²) y²);
        a proposal y is accepted with probability exp(-B (y² - s²)²). The envelope's mass is least at
        s² = (-A + √(A² + 4B)) / (4B), which keeps the acceptance rate finite in the frustrated regime.
        """
        rng = rng_from(random_state)
        shape = () if size is None else size
        n = int(np.prod(shape))
        if self._B == 0:
            return self.model.x_bar + rng.standard_normal(shape) / np.sqrt(2.0 * self._A)
        s2 = (-self._A + np.sqrt(self._A**2 + 4.0 * self._B)) / (4.0 * self._B)
        precision = 2.0 * (self._A + 2.0 * self._B * s2)
        log_acceptance = self._log_norm - (self._B * s2 * s2 + 0.5 * np.log(2.0 * np.pi / precision))
        accepted = np.empty(0)
        while accepted.size < n:
            batch = int(_REJECTION_BATCH_FACTOR * (n - accepted.size) / np.exp(log_acceptance)) + 16
            y = rng.standard_normal(batch) / np.sqrt(precision)
            keep = rng.random(batch) < np.exp(-self._B * (y * y - s2) ** 2)
            accepted = np.concatenate([accepted, y[keep]])
        return (self.model.x_bar + accepted[:n].reshape(shape))[()]
