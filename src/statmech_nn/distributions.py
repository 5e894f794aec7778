"""One base class for every distribution of the package, with scipy.stats's names (DESIGN: model objects).

A subclass states its support and implements what it knows in closed form or by its own fast method:
``_logpdf`` (or ``_logpmf`` for a discrete law), and any of ``_cdf``, ``_sf``, ``_logsf``, ``_ppf``,
``_isf``, ``_rvs``, ``_moment``, ``_mean``, ``_var``. The base class derives the rest, as scipy.stats does:

- ``pdf = exp(logpdf)``; ``logcdf``/``logsf`` are logs of ``cdf``/``sf`` unless overridden;
- ``sf = 1 - cdf`` and ``cdf = 1 - sf`` when only one is given (a subclass that must stay accurate in a far
  tail overrides both, or ``_logsf``);
- ``ppf`` by a bracket and bisection on ``cdf`` (vectorized, also over array parameters) unless given;
  ``isf(p) = ppf(1 - p)`` unless given;
- ``rvs(size, random_state)`` by inversion of uniforms through ``ppf`` unless given;
- ``moment(n)`` by adaptive quadrature of xⁿ p(x) over the support (a sum for a discrete law);
  ``mean``, ``var``, ``std``, ``median`` and ``interval(confidence)`` (a probability interval, as in scipy)
  follow.

Every method takes arrays and returns a scalar for scalar input. ``repr`` shows the class and its parameters
(``_parameters()``).

Besides the base classes: :class:`Normal` and :class:`StudentT` about 0 (scipy's closed forms behind this
interface; the Gaussian and Student-t fits of the fluctuations, :mod:`statmech_nn.compare.fits`), and
:class:`Folded`, the law of |X| of a law symmetric about 0 (what a fluctuation model says about |Δ|).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from .errors import ParameterError
from .params import require_positive, rng_from

_MAX_DOUBLINGS = 1030   # 2^1024 overflows: every float is bracketed
_BISECTIONS = 2200     # enough to reach the tolerance from any bracket


def _scalar(value):
    """A 0-d result as a Python-like scalar, anything else unchanged."""
    value = np.asarray(value)
    return value[()] if value.ndim == 0 else value


class Distribution:
    """A univariate continuous law with scipy.stats's interface (see the module docstring)."""

    discrete = False

    # what a subclass provides ----------------------------------------------------------------
    def _parameters(self) -> dict:
        """The parameters shown by ``repr``."""
        return {}

    def support(self) -> tuple[float, float]:
        """The interval (a, b) outside which the density is zero."""
        return (-np.inf, np.inf)

    def _logpdf(self, x):
        raise NotImplementedError(f"{type(self).__name__} defines no density")

    # densities ---------------------------------------------------------------------------------
    def logpdf(self, x):
        x = np.asarray(x, float)
        a, b = self.support()
        with np.errstate(divide="ignore"):
            inside = (x >= a) & (x <= b)
            out = np.where(inside, self._logpdf(np.where(inside, x, self._inner_point())), -np.inf)
        return _scalar(out)

    def pdf(self, x):
        return _scalar(np.exp(self.logpdf(x)))

    def _inner_point(self) -> float:
        a, b = self.support()
        if np.isfinite(a) and np.isfinite(b):
            return 0.5 * (a + b)
        return a + 1.0 if np.isfinite(a) else (b - 1.0 if np.isfinite(b) else 0.0)

    # probabilities -----------------------------------------------------------------------------
    def cdf(self, x):
        x = np.asarray(x, float)
        if type(self)._cdf is not Distribution._cdf:
            return _scalar(self._cdf(x))
        return _scalar(1.0 - self.sf(x))

    def sf(self, x):
        x = np.asarray(x, float)
        if type(self)._sf is not Distribution._sf:
            return _scalar(self._sf(x))
        if type(self)._logsf is not Distribution._logsf:
            return _scalar(np.exp(self._logsf(x)))
        if type(self)._cdf is not Distribution._cdf:
            return _scalar(1.0 - self._cdf(x))
        return _scalar(self._sf(x))

    def logcdf(self, x):
        with np.errstate(divide="ignore"):
            return _scalar(np.log(self.cdf(x)))

    def logsf(self, x):
        if type(self)._logsf is not Distribution._logsf:
            return _scalar(self._logsf(np.asarray(x, float)))
        with np.errstate(divide="ignore"):
            return _scalar(np.log(self.sf(x)))

    def _cdf(self, x):  # pragma: no cover - replaced by the dispatch above
        raise NotImplementedError

    def _logsf(self, x):  # pragma: no cover - replaced by the dispatch above
        raise NotImplementedError

    def _sf(self, x):
        """P(X > x) by quadrature of the density (the fallback when a law gives neither cdf nor sf)."""
        a, b = self.support()

        def upper(value):
            if value >= b:
                return 0.0
            return integrate.quad(self.pdf, max(value, a), b, limit=200, epsabs=0.0, epsrel=1e-12)[0]
        return np.vectorize(upper, otypes=[float])(x)

    # quantiles ----------------------------------------------------------------------------------
    def ppf(self, prob):
        prob = self._probabilities(prob)
        if type(self)._ppf is not Distribution._ppf:
            return _scalar(self._ppf(prob))
        return _scalar(self._invert_cdf(prob))

    def isf(self, prob):
        prob = self._probabilities(prob)
        if type(self)._isf is not Distribution._isf:
            return _scalar(self._isf(prob))
        return _scalar(self.ppf(1.0 - prob))

    def _ppf(self, prob):  # pragma: no cover - replaced by the dispatch above
        raise NotImplementedError

    def _isf(self, prob):  # pragma: no cover - replaced by the dispatch above
        raise NotImplementedError

    @staticmethod
    def _probabilities(prob):
        prob = np.asarray(prob, float)
        if np.any(~((prob >= 0) & (prob <= 1))):
            raise ValueError("quantiles need probabilities in [0, 1]")
        return prob

    def _invert_cdf(self, prob):
        """x with cdf(x) = p, vectorized (also over array parameters): a bracket grown by doubling steps from
        an inner point, then bisection to the last representable digit."""
        a, b = self.support()
        center = self._inner_point()
        shape = np.broadcast_shapes(prob.shape, np.shape(self.cdf(center)))
        p = np.broadcast_to(prob, shape)
        lo, hi = np.full(shape, center), np.full(shape, center)
        for exponent in range(_MAX_DOUBLINGS):
            low, high = self.cdf(lo) > p, self.cdf(hi) < p
            if not (low.any() or high.any()):
                break
            lo = np.where(low, np.maximum(center - 2.0**exponent, a), lo)
            hi = np.where(high, np.minimum(center + 2.0**exponent, b), hi)
        # the last digit of the quantile, or 1e-15 of the bracket's first width where it is near 0
        tolerance = 1e-15 * (hi - lo)
        for _ in range(_BISECTIONS):
            middle = 0.5 * (lo + hi)
            if np.all(hi - lo <= np.maximum(tolerance, 4e-16 * np.maximum(np.abs(lo), np.abs(hi)))):
                break
            below = self.cdf(middle) < p
            lo, hi = np.where(below, middle, lo), np.where(below, hi, middle)
        return np.where(p == 0, a, np.where(p == 1, b, 0.5 * (lo + hi)))

    # sampling -----------------------------------------------------------------------------------
    def rvs(self, size=None, random_state=None):
        """Draws from a seed or ``numpy.random.Generator``; by inversion unless the law has its own method."""
        rng = rng_from(random_state)
        if type(self)._rvs is not Distribution._rvs:
            return _scalar(self._rvs(size, rng))
        return _scalar(self.ppf(rng.random(size)))

    def _rvs(self, size, rng):  # pragma: no cover - replaced by the dispatch above
        raise NotImplementedError

    # moments ------------------------------------------------------------------------------------
    def moment(self, order: int) -> float:
        """E[Xⁿ] (non-central)."""
        if type(self)._moment is not Distribution._moment:
            return float(self._moment(int(order)))
        return self._quadrature_moment(int(order))

    def _quadrature_moment(self, order: int) -> float:
        """E[Xⁿ] by adaptive quadrature over the support, split at an inner point."""
        a, b = self.support()
        integrand = lambda x: x**order * self.pdf(x)  # noqa: E731
        center = self._inner_point()
        return float(sum(integrate.quad(integrand, lo, hi, limit=200, epsabs=0.0, epsrel=1e-11)[0]
                         for lo, hi in ((a, center), (center, b)) if lo < hi))

    def _moment(self, order):  # pragma: no cover - replaced by the dispatch above
        raise NotImplementedError

    def mean(self) -> float:
        return float(self.moment(1))

    def var(self) -> float:
        mean = self.mean()
        return float(self.moment(2) - mean * mean)

    def std(self) -> float:
        return float(np.sqrt(self.var()))

    def median(self) -> float:
        return float(self.ppf(0.5))

    def interval(self, confidence: float) -> tuple[float, float]:
        """The central interval holding probability ``confidence`` (scipy.stats's ``interval``)."""
        if not 0.0 <= confidence <= 1.0:
            raise ValueError("interval needs a confidence in [0, 1]")
        return (float(self.ppf(0.5 - confidence / 2.0)), float(self.ppf(0.5 + confidence / 2.0)))

    def __repr__(self) -> str:
        parameters = ", ".join(f"{key}={value:.6g}" if isinstance(value, float) else f"{key}={value!r}"
                               for key, value in self._parameters().items())
        return f"{type(self).__name__}({parameters})"


class DiscreteDistribution(Distribution):
    """A law on finitely many points ``values()`` with probabilities from ``_logpmf``: scipy's rv_discrete names
    (``pmf``, ``logpmf``; cdf, sf, ppf, rvs, moments from the table)."""

    discrete = True

    def values(self) -> np.ndarray:
        """The support points, ascending."""
        raise NotImplementedError

    def _log_probabilities(self) -> np.ndarray:
        """log P of each support point (normalized)."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        values = self.values()
        return (float(values[0]), float(values[-1]))

    def _index(self, x):
        """The index of the support point equal to x (to rounding), or -1."""
        values = self.values()
        x = np.asarray(x, float)
        index = np.clip(np.searchsorted(values, x), 0, values.size - 1)
        below = np.clip(index - 1, 0, values.size - 1)
        nearest = np.where(np.abs(values[below] - x) < np.abs(values[index] - x), below, index)
        tolerance = 1e-9 * max(1.0, float(np.min(np.diff(values))) if values.size > 1 else 1.0)
        return np.where(np.abs(values[nearest] - x) <= tolerance, nearest, -1)

    def logpmf(self, x):
        index = self._index(x)
        return _scalar(np.where(index >= 0, self._log_probabilities()[np.maximum(index, 0)], -np.inf))

    def pmf(self, x):
        return _scalar(np.exp(self.logpmf(x)))

    def logpdf(self, x):
        raise TypeError(f"{type(self).__name__} is discrete: use logpmf")

    def _cumulative(self) -> np.ndarray:
        return np.cumsum(np.exp(self._log_probabilities()))

    def _position(self, x):
        """How many support points are ≤ x (with the tolerance of :meth:`_index`)."""
        values = self.values()
        x = np.asarray(x, float)
        index = self._index(x)
        return np.where(index >= 0, index + 1, np.searchsorted(values, x, side="right"))

    def _cdf(self, x):
        position = self._position(x)
        cumulative = np.concatenate([[0.0], self._cumulative()])
        return np.minimum(cumulative[position], 1.0)

    def _sf(self, x):
        position = self._position(x)
        tail = np.concatenate([np.cumsum(np.exp(self._log_probabilities())[::-1])[::-1], [0.0]])
        return tail[position]

    def _ppf(self, prob):
        """The least support point with cdf ≥ p."""
        cumulative = self._cumulative()
        index = np.searchsorted(cumulative, prob * (1.0 - 1e-12), side="left")  # rounding of the running sum
        return self.values()[np.minimum(index, self.values().size - 1)]

    def _moment(self, order):
        return float(np.exp(self._log_probabilities()) @ self.values() ** order)


class _ScipyLaw(Distribution):
    """A law whose every quantity is a frozen scipy.stats law's, with our parameter names (shown by ``repr``)."""

    def __init__(self, frozen, **parameters):
        self._frozen, self._named = frozen, parameters
        self.__dict__.update(parameters)

    def _parameters(self) -> dict:
        return dict(self._named)

    def _logpdf(self, x):
        return self._frozen.logpdf(x)

    def _cdf(self, x):
        return self._frozen.cdf(x)

    def _sf(self, x):
        return self._frozen.sf(x)

    def _logsf(self, x):
        return self._frozen.logsf(x)

    def _ppf(self, prob):
        return self._frozen.ppf(prob)

    def _isf(self, prob):
        return self._frozen.isf(prob)

    def _rvs(self, size, rng):
        return self._frozen.rvs(size=size, random_state=rng)

    def _moment(self, order):
        return self._frozen.moment(order)


class Normal(_ScipyLaw):
    """N(0, scale²)."""

    def __init__(self, scale: float):
        scale = require_positive("scale", scale)
        super().__init__(stats.norm(scale=scale), scale=scale)


class StudentT(_ScipyLaw):
    """Student's t with ``nu`` degrees of freedom about 0, scaled by ``scale`` (moments of order ≥ ν infinite)."""

    def __init__(self, nu: float, scale: float):
        nu, scale = require_positive("nu", nu), require_positive("scale", scale)
        super().__init__(stats.t(nu, scale=scale), nu=nu, scale=scale)


class Folded(Distribution):
    """The law of |X| for a continuous X symmetric about 0 (``law``): p(x) = 2 p_X(x) and P(|X| ≥ x) = 2 P(X ≥ x)
    on [0, ∞), with the tail's relative accuracy of ``law``'s sf."""

    def __init__(self, law: Distribution):
        a, b = law.support()
        if law.discrete or a != -b:
            raise ParameterError("law", repr(law), "a continuous law on an interval symmetric about 0")
        self.law = law

    def _parameters(self) -> dict:
        return {"law": self.law}

    def support(self) -> tuple[float, float]:
        return (0.0, self.law.support()[1])

    def _logpdf(self, x):
        return np.log(2.0) + self.law.logpdf(x)

    def _sf(self, x):
        return 2.0 * self.law.sf(x)

    def _logsf(self, x):
        return np.log(2.0) + self.law.logsf(x)

    def _cdf(self, x):
        return -np.expm1(self._logsf(x))

    def _ppf(self, prob):
        return self.law.isf(0.5 * (1.0 - prob))

    def _isf(self, prob):
        return self.law.isf(0.5 * prob)

    def _rvs(self, size, rng):
        return np.abs(self.law.rvs(size, rng))

    def _moment(self, order):
        """E|X|ⁿ: the law's own moment for even n, quadrature for odd n."""
        return self.law.moment(order) if order % 2 == 0 else self._quadrature_moment(order)
