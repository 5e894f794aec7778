"""Distributions of the tail x ≥ x_min that a power law is tested against (Clauset, Shalizi & Newman 2009 §5).

Each is fitted by maximum likelihood to the tail, conditioned on x ≥ x_min:

- ``power_law`` p ∝ x^{-α}: continuous (α-1)/x_min (x/x_min)^{-α}, discrete x^{-α}/ζ(α, x_min);
- ``exponential`` p ∝ e^{-λx}: continuous λ e^{-λ(x - x_min)}, discrete (1 - e^{-λ}) e^{-λ(x - x_min)};
  closed-form MLEs;
- ``lognormal`` p ∝ x^{-a} e^{-b log²(x/x0)} = the log-normal density with σ² = 1/2b, μ = log x0 - (a-1)σ²,
  written in its natural parameters (a, b ≥ 0) so that b = 0 (σ → ∞) is the power law itself
  instead of a ridge at infinity on which optimizers in (μ, σ) get lost;
- ``truncated_power_law`` p ∝ x^{-α} e^{-λx}, natural parameters (α, λ ≥ 0).

The last two are exponential families: in the continuous case their log-likelihood is concave, its
gradient and Hessian come from the mean and covariance of the sufficient statistics under the
model (computed with the normalization by :func:`~statmech_nn.observables._numerics.halfline.integrate_half_line`),
and a bounded Newton iteration (:mod:`~statmech_nn.observables._numerics.newton`) finds the MLE from the data's
sums alone. Discrete versions put on each integer x the continuous mass of [x - 1/2, x + 1/2)
(16-point Gauss-Legendre), normalized on [x_min - 1/2, ∞) (the ``powerlaw`` package's default
"round" discretization), with the same Newton iteration on distinct values.

:func:`likelihood_ratio` is Vuong's normalized log-likelihood-ratio test (CSN eq. (5.4)), or Wilks'
χ²(1) test for nested models (the power law inside the truncated power law).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import stats
from scipy.special import erfc

from ..errors import DataError, NotNormalizableError
from ._numerics.halfline import integrate_half_line
from ._numerics.hurwitz import log_hurwitz_zeta
from ._numerics.newton import maximize_with_bound

ALTERNATIVES = ("lognormal", "exponential", "truncated_power_law")
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)


class LikelihoodRatio(NamedTuple):
    """R: log-likelihood ratio (power law minus alternative) normalized by √n·sd; p: its significance."""

    R: float
    p: float


@dataclass(frozen=True)
class TailData:
    """The tail x ≥ x_min as distinct values with counts."""

    values: np.ndarray
    counts: np.ndarray
    xmin: float
    discrete: bool

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def reference(self) -> float:
        """x0, where the continuous density starts: x_min, or x_min - 1/2 for rounded discrete families."""
        return self.xmin - 0.5 if self.discrete else self.xmin

    @classmethod
    def of(cls, sorted_data, xmin: float, discrete: bool) -> TailData:
        tail = sorted_data[np.searchsorted(sorted_data, xmin, side="left"):]
        if tail.size < 2:
            raise DataError(f"the tail above xmin={xmin} holds {tail.size} value(s); at least 2 are needed")
        values, counts = np.unique(tail, return_counts=True)
        return cls(values, counts.astype(float), float(xmin), bool(discrete))


# exponential families: log f(x; θ, x0), sufficient statistics T(x; x0), log ∫_{x0}^∞ f ----------------------
@dataclass(frozen=True)
class _Family:
    """p(x) = exp(-θ·T(x) + base(x)) / Z(θ) on x ≥ x0, θ = (θ0, θ1 ≥ 0); θ1 = 0 is the power law."""

    name: str
    statistics: callable        # (x, x0) -> (..., 2)
    base: callable              # (x, x0) -> (...)
    half_line: callable         # (x0, θ0, θ1) -> (log-integrand of v, statistics of v) with x = x0 + ...
    parameters: callable        # (θ, x0) -> dict

    def log_f(self, x, theta, x0):
        return self.base(x, x0) - self.statistics(x, x0) @ np.asarray(theta, float)

    def log_normalizer(self, theta, x0, moments: bool = False):
        log_integrand, statistics = self.half_line(x0, theta[0], theta[1])
        out = integrate_half_line(log_integrand, 0.0, statistics if moments else None)
        return (out[0][0], out[1][0], out[2][0]) if moments else out[0]


def _lognormal_half_line(x0, a, b):
    # x = x0 e^v: dx = x0 e^v dv, and f(x) = e^{-a v - b v²}/x0
    return (lambda v: -(a - 1.0) * v - b * v * v), (lambda v: np.stack([v, v * v], axis=-1))


def _lognormal_parameters(theta, x0):
    a, b = theta
    sigma = np.inf if b <= 0 else 1.0 / np.sqrt(2.0 * b)
    mu = -np.inf if b <= 0 else np.log(x0) - (a - 1.0) * sigma * sigma
    return {"mu": float(mu), "sigma": float(sigma), "a": float(a), "b": float(b)}


def _tpl_half_line(x0, alpha, lam):
    # x = x0 (1 + v): dx = x0 dv
    log_x0 = np.log(x0)
    return ((lambda v: log_x0 - alpha * (log_x0 + np.log1p(v)) - lam * x0 * (1.0 + v)),
            (lambda v: np.stack([log_x0 + np.log1p(v), x0 * (1.0 + v)], axis=-1)))


_FAMILIES = {
    "lognormal": _Family(
        "lognormal",
        statistics=lambda x, x0: np.stack([np.log(x / x0), np.log(x / x0) ** 2], axis=-1),
        base=lambda x, x0: -np.log(x0) + 0.0 * x,
        half_line=_lognormal_half_line,
        parameters=_lognormal_parameters),
    "truncated_power_law": _Family(
        "truncated_power_law",
        statistics=lambda x, x0: np.stack([np.log(x), x], axis=-1),
        base=lambda x, x0: 0.0 * x,
        half_line=_tpl_half_line,
        parameters=lambda theta, x0: {"alpha": float(theta[0]), "lam": float(theta[1])}),
}


def _bin_log_mass(family: _Family, theta, values, x0, moments: bool = False):
    """log ∫_{x-1/2}^{x+1/2} f and, with ``moments``, the mean and covariance of T over each bin."""
    y = values[:, None] + 0.5 * _NODES[None, :]
    log_f = family.log_f(y, theta, x0) + np.log(0.5 * _WEIGHTS)
    peak = np.max(log_f, axis=1, keepdims=True)
    weights = np.exp(log_f - peak)
    total = weights.sum(axis=1)
    log_mass = peak[:, 0] + np.log(total)
    if not moments:
        return log_mass
    weights /= total[:, None]
    t = family.statistics(y, x0)
    mean = np.einsum("bm,bms->bs", weights, t)
    centred = t - mean[:, None, :]
    return log_mass, mean, np.einsum("bm,bms,bmu->bsu", weights, centred, centred)


def _family_objective(family: _Family, data: TailData):
    """θ -> (log-likelihood, gradient, Hessian) of the tail, or (-inf, None, None) where not normalizable."""
    x0 = data.reference
    if data.discrete:
        def evaluate(theta):
            try:
                log_z, mean_z, cov_z = family.log_normalizer(theta, x0, moments=True)
            except NotNormalizableError:
                return -np.inf, None, None
            log_mass, mean_b, cov_b = _bin_log_mass(family, theta, data.values, x0, moments=True)
            value = data.counts @ log_mass - data.n * log_z
            gradient = data.n * mean_z - data.counts @ mean_b
            hessian = np.einsum("b,bsu->su", data.counts, cov_b) - data.n * cov_z
            return float(value), gradient, hessian
        return evaluate
    totals = data.counts @ family.statistics(data.values, x0)
    base = float(data.counts @ family.base(data.values, x0))

    def evaluate(theta):
        try:
            log_z, mean_z, cov_z = family.log_normalizer(theta, x0, moments=True)
        except NotNormalizableError:
            return -np.inf, None, None
        return float(base - totals @ theta - data.n * log_z), data.n * mean_z - totals, -data.n * cov_z
    return evaluate


# fitted models -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TailModel:
    """A fitted tail distribution: its name, parameters (natural ones in ``theta``), log-density, data."""

    name: str
    theta: tuple
    data: TailData = field(repr=False)

    @property
    def parameters(self) -> dict:
        if self.name in _FAMILIES:
            return _FAMILIES[self.name].parameters(self.theta, self.data.reference)
        return {"alpha" if self.name == "power_law" else "lam": float(self.theta[0])}

    @property
    def n_parameters(self) -> int:
        return len(self.theta)

    def logpdf(self, x) -> np.ndarray:
        """log p(x | x ≥ x_min) (a probability mass for discrete data)."""
        x = np.asarray(x, float)
        xmin, discrete = self.data.xmin, self.data.discrete
        if self.name == "power_law":
            alpha = self.theta[0]
            if discrete:
                return -alpha * np.log(x) - log_hurwitz_zeta(alpha, xmin)
            return np.log((alpha - 1.0) / xmin) - alpha * np.log(x / xmin)
        if self.name == "exponential":
            lam = self.theta[0]
            return (np.log(-np.expm1(-lam)) if discrete else np.log(lam)) - lam * (x - xmin)
        family, x0 = _FAMILIES[self.name], self.data.reference
        log_z = family.log_normalizer(self.theta, x0)
        if discrete:
            return _bin_log_mass(family, self.theta, np.atleast_1d(x), x0).reshape(x.shape) - log_z
        return family.log_f(x, self.theta, x0) - log_z

    def loglikelihood(self) -> float:
        return float(self.data.counts @ self.logpdf(self.data.values))


def fit_exponential(data: TailData) -> TailModel:
    """Closed-form MLE: λ = 1/<x - x_min> (continuous), λ = log(1 + 1/<x - x_min>) (discrete)."""
    excess = float(data.counts @ data.values) / data.n - data.xmin
    return TailModel("exponential", (float(np.log1p(1.0 / excess) if data.discrete else 1.0 / excess),), data)


def _family_start(name: str, data: TailData, alpha: float):
    x0 = data.reference
    if name == "lognormal":
        # the untruncated normal in log(x/x0) with the data's mean and variance (always normalizable)
        t = np.log(data.values / x0)
        mean = data.counts @ t / data.n
        variance = max(data.counts @ (t - mean) ** 2 / data.n, 1e-12)
        return (1.0 - mean / variance, 0.5 / variance)
    return (alpha, 0.1 * data.n / float(data.counts @ data.values))


def fit_family(name: str, data: TailData, alpha: float) -> TailModel:
    """MLE of ``lognormal`` or ``truncated_power_law`` on the tail; ``alpha`` (the power law's) seeds it."""
    family = _FAMILIES[name]
    start = _family_start(name, data, alpha)
    if data.discrete:  # start from the continuous fit to the same values above x_min - 1/2
        continuous = TailData(data.values, data.counts, data.reference, False)
        start, _ = maximize_with_bound(_family_objective(family, continuous), start, name)
    theta, _ = maximize_with_bound(_family_objective(family, data), start, name)
    return TailModel(name, tuple(float(v) for v in theta), data)


def fit_alternative(name: str, data: TailData, alpha: float) -> TailModel:
    """Fit one of :data:`ALTERNATIVES` to the tail."""
    if name == "exponential":
        return fit_exponential(data)
    if name in _FAMILIES:
        return fit_family(name, data, alpha)
    raise DataError(f"unknown alternative {name!r}: choose one of {', '.join(ALTERNATIVES)}")


def likelihood_ratio(loglik_1, loglik_2, counts=None, nested: bool = False) -> LikelihoodRatio:
    """Vuong's test of Σ(ℓ1 - ℓ2) (normalized R, two-sided p, CSN eq. (5.4)); nested: Wilks' χ²(1) p-value.

    ``loglik_1``, ``loglik_2``: per-observation log-likelihoods (or per distinct value, with ``counts``).
    """
    diff = np.asarray(loglik_1, float) - np.asarray(loglik_2, float)
    counts = np.ones_like(diff) if counts is None else np.asarray(counts, float)
    n = counts.sum()
    total = float(counts @ diff)
    variance = float(counts @ (diff - total / n) ** 2) / n
    if variance <= 1e-300 or abs(total) <= 1e-12 * n:
        return LikelihoodRatio(0.0, 1.0)
    normalized = total / np.sqrt(n * variance)
    p = float(stats.chi2.sf(abs(2 * total), 1)) if nested else float(erfc(abs(normalized) / np.sqrt(2)))
    return LikelihoodRatio(float(normalized), p)
