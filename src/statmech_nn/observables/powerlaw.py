"""Power-law fits after Clauset, Shalizi & Newman (2009, "CSN"): α by maximum likelihood, x_min by the
minimum KS distance, standard error, bootstrap goodness of fit and likelihood-ratio tests.

``fit_powerlaw(data, discrete=False, xmin=None)`` returns a :class:`PowerLawFit`. Conventions (chosen to
agree with CSN's reference code and the ``powerlaw`` package, against which the tests check α and x_min):

- zeros are left out (a power law lives on x > 0; |Δ| of a weight that did not move is 0); negative
  or non-finite values are an error; ``n`` counts the positive values;
- x_min candidates are the distinct values except the largest; with ``alpha_range`` (lo, hi) only
  candidates with lo < α̂ < hi count (the ``powerlaw`` package restricts to (0, 3));
- D is max |T - E| over the distinct tail values, E the fraction of the tail strictly below each;
- σ = (α - 1)/√n_tail (continuous, CSN eq. (3.2)) or 1/√(n_tail Var_α(log x)) (discrete, CSN eq. (3.6),
  where ``powerlaw`` prints (α - 1)/√n_tail instead);
- discrete α is the exact MLE with the Hurwitz zeta (CSN eq. (3.5)), not the approximation (3.7).

The x_min scan runs in the numba kernels of :mod:`statmech_nn.observables._numerics.powerlaw_kernels`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from ..distributions import Distribution
from ..errors import DataError
from ..params import require_int, require_positive, rng_from
from ._numerics import powerlaw_kernels as kernels
from .tail_models import LikelihoodRatio, TailData, TailModel, fit_alternative, likelihood_ratio


class XminScanWarning(UserWarning):
    """The x_min scan stopped at its O(n log n) budget: the x_min found is within ``xmin_gap`` of the best D."""


@dataclass(frozen=True)
class PowerLawFit:
    """A fitted power law p(x) ∝ x^{-alpha} for x ≥ xmin, with the data it was fitted to."""

    alpha: float
    xmin: float
    sigma: float
    D: float
    ntail: int
    n: int
    discrete: bool
    xmin_fixed: bool
    alpha_range: tuple
    data: np.ndarray = field(repr=False, compare=False)  # sorted positive values
    xmin_gap: float = 0.0  # > 0 when the scan stopped at its budget (see XminScanWarning)

    def to_dict(self) -> dict:
        """The summary printed by ``statmech-nn fit-powerlaw --json``."""
        summary = {"alpha": self.alpha, "xmin": self.xmin, "sigma": self.sigma, "D": self.D,
                   "ntail": self.ntail, "n": self.n}
        if self.xmin_gap > 0:
            summary["xmin_gap"] = self.xmin_gap
        return summary

    @property
    def tail(self) -> np.ndarray:
        return self.data[np.searchsorted(self.data, self.xmin, side="left"):]

    def tail_data(self) -> TailData:
        return TailData.of(self.data, self.xmin, self.discrete)

    def model(self) -> TailModel:
        """The fitted power law as a :class:`~statmech_nn.observables.tail_models.TailModel`."""
        return TailModel("power_law", (self.alpha,), self.tail_data())

    @property
    def law(self) -> PowerLaw:
        """The fitted continuous law above xmin as a distribution (a discrete fit has no such object)."""
        if self.discrete:
            raise DataError("a discrete power-law fit has no continuous law object; use sample() to draw from it")
        return PowerLaw(self.alpha, self.xmin)

    def alternative(self, name: str) -> TailModel:
        """The MLE fit of ``name`` (one of ``lognormal``, ``exponential``, ``truncated_power_law``) to the tail."""
        return fit_alternative(name, self.tail_data(), self.alpha)

    def compare(self, alternative: str) -> LikelihoodRatio:
        """(R, p): normalized log-likelihood ratio power law vs ``alternative`` on the tail (R > 0 favours the
        power law) and its p-value; Wilks' nested test for ``truncated_power_law``, Vuong's otherwise."""
        data = self.tail_data()
        other = fit_alternative(alternative, data, self.alpha)
        mine = TailModel("power_law", (self.alpha,), data)
        return likelihood_ratio(mine.logpdf(data.values), other.logpdf(data.values), data.counts,
                                nested=alternative == "truncated_power_law")

    def gof_pvalue(self, n_boot: int = 1000, seed=None, progress: bool = False) -> float:
        """CSN §4.1 semi-parametric bootstrap: the fraction of synthetic data sets whose refitted D is ≥ this D.

        Each synthetic set has n values: with probability ntail/n a draw from the fitted power law, else a
        draw (with replacement) from the data below xmin; it is refitted exactly as this fit was (x_min
        scanned, or fixed). p ≳ 0.1 means the power law is plausible (CSN's rule of thumb).
        """
        n_boot = require_int("n_boot", n_boot, 1)
        rng = rng_from(seed)
        body = self.data[: self.n - self.ntail]
        distances = np.empty(n_boot)
        with warnings.catch_warnings(record=True) as caught:   # one summary line, not one per refit
            warnings.simplefilter("always")
            for b in tqdm(range(n_boot), desc="bootstrap", unit="fit", disable=not progress):
                n_tail = self.n if body.size == 0 else int(rng.binomial(self.n, self.ntail / self.n))
                synthetic = np.concatenate([self.sample(n_tail, rng),
                                            body[rng.integers(0, body.size, self.n - n_tail)]])
                refit = fit_powerlaw(synthetic, discrete=self.discrete, xmin=self.xmin if self.xmin_fixed else None,
                                     alpha_range=self.alpha_range)
                distances[b] = refit.D
        if caught:
            warnings.warn(f"{len(caught)} warnings in {n_boot} bootstrap refits, the first: {caught[0].message}",
                          stacklevel=2)
        return float(np.mean(distances >= self.D))

    def sample(self, size: int, seed=None) -> np.ndarray:
        """Draws from the fitted power law above xmin."""
        return sample_powerlaw(self.alpha, self.xmin, size, self.discrete, seed)


class PowerLaw(Distribution):
    """p(x) = (α - 1)/x_min (x/x_min)^{-α} on [x_min, ∞) (CSN eq. (2.2)), with scipy.stats's interface
    (scipy's ``pareto(α - 1, scale=x_min)``); every quantity in closed form."""

    def __init__(self, alpha: float, xmin: float):
        self.alpha, self.xmin = require_positive("alpha", alpha), require_positive("xmin", xmin)
        if self.alpha <= 1.0:
            raise DataError(f"alpha={alpha} must be > 1 for a normalizable power law")

    def _parameters(self) -> dict:
        return {"alpha": self.alpha, "xmin": self.xmin}

    def support(self) -> tuple[float, float]:
        return (self.xmin, np.inf)

    def _logpdf(self, x):
        return np.log((self.alpha - 1.0) / self.xmin) - self.alpha * np.log(x / self.xmin)

    def _logsf(self, x):
        return np.where(x <= self.xmin, 0.0, (1.0 - self.alpha) * np.log(np.maximum(x, self.xmin) / self.xmin))

    def _cdf(self, x):
        return -np.expm1(self._logsf(x))

    def _ppf(self, prob):
        with np.errstate(divide="ignore"):
            return self.xmin * np.exp(-np.log1p(-prob) / (self.alpha - 1.0))

    def _isf(self, prob):
        with np.errstate(divide="ignore"):
            return self.xmin * prob ** (-1.0 / (self.alpha - 1.0))

    def _rvs(self, size, rng):
        return self._isf(1.0 - rng.random(size))

    def _moment(self, order):
        """x_min^n (α - 1)/(α - 1 - n), infinite for n ≥ α - 1."""
        if order >= self.alpha - 1.0:
            return np.inf
        return self.xmin**order * (self.alpha - 1.0) / (self.alpha - 1.0 - order)


def sample_powerlaw(alpha: float, xmin: float, size: int, discrete: bool = False, seed=None) -> np.ndarray:
    """Draws from p(x) ∝ x^{-α}, x ≥ x_min: inverse CDF (continuous), or exact inversion of ζ(α, x)/ζ(α, x_min)
    over the integers (discrete; CSN's eq. (D.6) is only a starting guess)."""
    alpha = require_positive("alpha", alpha)
    if alpha <= 1.0:
        raise DataError(f"alpha={alpha} must be > 1 for a normalizable power law")
    xmin = require_positive("xmin", xmin)
    if discrete and xmin != round(xmin):
        raise DataError(f"xmin={xmin} must be an integer for a discrete power law")
    uniforms = 1.0 - rng_from(seed).random(require_int("size", size, 0))  # in (0, 1]
    if discrete:
        return kernels.sample_discrete(alpha, xmin, uniforms)
    return PowerLaw(alpha, xmin).isf(uniforms)


def _clean(data, discrete: bool) -> np.ndarray:
    values = np.asarray(data, float).ravel()
    if values.size == 0:
        raise DataError("power-law fit got no data")
    if not np.all(np.isfinite(values)):
        raise DataError("power-law data must be finite (found NaN or inf)")
    if np.any(values < 0):
        raise DataError("power-law data must be >= 0 (fit |x| for signed data)")
    values = np.sort(values[values > 0])
    if discrete and np.any(values != np.round(values)):
        raise DataError("discrete=True needs integer data")
    if values.size < 2 or values[0] == values[-1]:
        raise DataError("power-law fit needs at least two distinct positive values")
    return values


def _alpha_bounds(alpha_range) -> tuple:
    lo, hi = alpha_range
    lo = -np.inf if lo is None else float(lo)
    hi = np.inf if hi is None else float(hi)
    if not lo < hi:
        raise DataError(f"alpha_range={alpha_range!r} is empty")
    return lo, hi


def fit_powerlaw(data, discrete: bool = False, xmin=None, alpha_range=(1.0, None)) -> PowerLawFit:
    """Fit p(x) ∝ x^{-α}, x ≥ x_min, to positive ``data`` (CSN); see the module docstring for conventions.

    ``xmin``: fix x_min instead of scanning it; ``alpha_range``: (lo, hi), either None, the open interval
    an x_min candidate's α̂ must lie in (default α > 1, where the law is normalizable).
    """
    values = _clean(data, discrete)
    lo, hi = _alpha_bounds(alpha_range)
    distinct, below = np.unique(values, return_index=True)
    below = np.append(below, values.size).astype(np.int64)
    suffix = kernels.suffix_log_sums(values)
    n = values.size
    if xmin is not None:
        xmin = require_positive("xmin", xmin)
        if discrete and xmin != round(xmin):
            raise DataError(f"xmin={xmin} must be an integer for discrete data")
        start = int(np.searchsorted(distinct, xmin, side="left"))
        if start >= distinct.size - 1:
            raise DataError(f"xmin={xmin} leaves fewer than two distinct values in the tail")
        alpha, sigma = _alpha_at(suffix, below, start, xmin, discrete)
        distance = kernels.ks_distance(distinct, np.log(distinct), below, start, alpha, xmin, discrete, np.inf)[0]
        return PowerLawFit(alpha, xmin, sigma, float(distance), int(n - below[start]), n, discrete, True,
                           (lo if lo > -np.inf else None, hi if hi < np.inf else None), values)
    candidates = distinct[:-1]
    if discrete:
        alphas, sigmas = kernels.discrete_alphas(suffix, below, candidates)
    else:
        alphas = kernels.continuous_alphas(suffix, below, candidates)
    usable = np.isfinite(alphas) & (alphas > lo) & (alphas < hi)
    budget = kernels.SCAN_BUDGET * distinct.size * max(1.0, np.log2(distinct.size))
    best, distance, complete, gap = kernels.scan_xmin(distinct, np.log(distinct), below, alphas, usable, discrete,
                                                      budget)
    if best < 0:
        raise DataError(f"no xmin candidate gives an exponent inside alpha_range=({lo}, {hi})")
    count = int(n - below[best])
    sigma = float(sigmas[best]) if discrete else float((alphas[best] - 1.0) / np.sqrt(count))
    if not complete:
        warnings.warn(f"the xmin scan reached its O(n log n) budget: no other xmin has a KS distance below "
                      f"{distance - gap:.3g} (this one: {distance:.3g})", XminScanWarning, stacklevel=2)
    return PowerLawFit(float(alphas[best]), float(distinct[best]), sigma, float(distance), count, n, discrete,
                       False, (lo if lo > -np.inf else None, hi if hi < np.inf else None), values,
                       xmin_gap=float(gap))


def _alpha_at(suffix, below, start, xmin, discrete):
    """(α, σ) of the tail from distinct index ``start`` on, with a given x_min."""
    n = below[-1]
    count = n - below[start]
    sum_log = suffix[below[start]]
    if discrete:
        alpha, sigma = kernels.discrete_alpha(sum_log / count, xmin, count)
        return float(alpha), float(sigma)
    alpha = 1.0 + count / (sum_log - count * np.log(xmin))
    return float(alpha), float((alpha - 1.0) / np.sqrt(count))
