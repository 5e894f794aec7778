"""Free energy of the quartic toy model (002 eqs. (1)-(4)), as numba kernels with NumPy ufunc faces.

With y = x - x̄ and u = (q - q̄)², the Hamiltonian of 002 eq. (1), extended by our quartic
term μy⁴/4, is H = a(u) y²/2 + μ y⁴/4 + λq u/2 with the effective curvature a(u) = λx + g u.
Integrating out x at inverse temperature β,

    F(β, q) = -(1/β) log ∫ exp(-βH) dx = λq u/2 - (1/β) log Z(A, B),
    Z(A, B) = ∫ exp(-A y² - B y⁴) dy,   A = β a(u)/2,   B = β μ/4.

Z has closed forms in modified Bessel functions (derived in :mod:`statmech_nn.quartic.symbolic`):

    A > 0:  Z = ½ √(A/B) e^{z} K_{1/4}(z),                      z = A²/(8B)
    A < 0:  Z = (π/2) √(|A|/(2B)) e^{z} [I_{-1/4}(z) + I_{1/4}(z)]
    B = 0:  Z = √(π/A)  (A > 0 only: the Gaussian of 002 eq. (3))

With y = (2B)^{-1/4} s, Z = (2B)^{-1/4} φ(x) for a function of the single variable x = A/√(2B):

    φ(x) = ∫ exp(-x s² - s⁴/2) ds = √(x/2) e^{x²/4} K_{1/4}(x²/4)                    (x > 0)
                                  = (π/2) √|x| e^{x²/4} [I_{-1/4} + I_{1/4}](x²/4)    (x < 0)

log φ is evaluated (in numba, so that samplers and quadrature kernels can call it) from a piecewise
Chebyshev table on |x| < 20, built once at import from scipy's exponentially scaled Bessel functions,
and from Hankel's asymptotic expansions for |x| ≥ 20 (z = x²/4 ≥ 100, where 8 terms are exact to
double precision):

    log φ(x) = ½ log(π/x) + log Σ_k a_k/z^k                 (x → +∞)
    log φ(x) = ½ log(2π/|x|) + x²/2 + log Σ_k (-1)^k a_k/z^k   (x → -∞),   a_k = Π_{j≤k}(¼ - (2j-1)²)/(k! 8^k)

The scalar kernels (``*_scalar``) are what other numba code calls; the ufuncs of the same names
without the suffix broadcast over NumPy arrays. There is one implementation of each formula.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.polynomial import chebyshev
from scipy import special

_TABLE_REACH = 20.0     # the table covers |x| < 20
_TABLE_DEGREE = 24      # Chebyshev degree on each unit interval
_HANKEL_TERMS = 8
_HANKEL_COEFFICIENTS = np.cumprod([1.0] + [(0.25 - (2 * k - 1) ** 2) / (8.0 * k) for k in range(1, _HANKEL_TERMS + 1)])


def _log_phi_bessel(x):
    """log φ(x) from the Bessel closed forms (NumPy, scipy; x ≠ 0, |x| ≤ 20): builds the table."""
    z = 0.25 * x * x
    with np.errstate(invalid="ignore", divide="ignore"):
        positive = 0.5 * np.log(np.abs(x) / 2.0) + np.log(special.kve(0.25, z))
        negative = (np.log(np.pi / 2.0) + 0.5 * np.log(np.abs(x)) + 2.0 * z
                    + np.log(special.ive(-0.25, z) + special.ive(0.25, z)))
    return np.where(x > 0, positive, negative)


def _chebyshev_table(function, reach, degree):
    """Coefficients (intervals, degree + 1) of ``function`` on the unit intervals of [-reach, reach]."""
    lefts = np.arange(-reach, reach)
    return np.array([chebyshev.chebinterpolate(lambda s, a=a: function(a + 0.5 * (s + 1.0)), degree) for a in lefts])


_LOG_PHI_TABLE = _chebyshev_table(_log_phi_bessel, int(_TABLE_REACH), _TABLE_DEGREE)
# d log φ / dx: the derivative of each interval's series (ds/dx = 2 on unit intervals)
_DLOG_PHI_TABLE = np.array([np.append(2.0 * chebyshev.chebder(c), 0.0) for c in _LOG_PHI_TABLE])


@numba.njit(cache=True)
def _chebyshev_series(s, coefficients):
    """Σ c_k T_k(s) by Clenshaw's recurrence."""
    b1 = 0.0
    b2 = 0.0
    for k in range(coefficients.shape[0] - 1, 0, -1):
        b0 = coefficients[k] + 2.0 * s * b1 - b2
        b2 = b1
        b1 = b0
    return coefficients[0] + s * b1 - b2


@numba.njit(cache=True)
def _hankel(z, sign):
    """Σ_k sign^k a_k / z^k and its z-derivative (the asymptotic series of e^z K_{1/4} and e^{-z} I_{±1/4})."""
    total = 0.0
    derivative = 0.0
    power = 1.0
    for k in range(_HANKEL_TERMS + 1):
        term = _HANKEL_COEFFICIENTS[k] * power
        total += term
        derivative -= k * term / z
        power *= sign / z
    return total, derivative


@numba.njit(cache=True)
def _log_phi_and_slope(x):
    """log φ(x) and d log φ/dx."""
    if x >= _TABLE_REACH or x <= -_TABLE_REACH:
        z = 0.25 * x * x
        if x > 0:
            series, dseries = _hankel(z, 1.0)
            return 0.5 * np.log(np.pi / x) + np.log(series), -0.5 / x + 0.5 * x * dseries / series
        series, dseries = _hankel(z, -1.0)
        return 0.5 * np.log(2.0 * np.pi / -x) + 0.5 * x * x + np.log(series), -0.5 / x + x + 0.5 * x * dseries / series
    position = x + _TABLE_REACH
    interval = min(int(position), _LOG_PHI_TABLE.shape[0] - 1)
    s = 2.0 * (position - interval) - 1.0
    return _chebyshev_series(s, _LOG_PHI_TABLE[interval]), _chebyshev_series(s, _DLOG_PHI_TABLE[interval])


@numba.njit(cache=True)
def log_quartic_integral_scalar(A, B):
    """log Z(A, B) = log ∫ exp(-A y² - B y⁴) dy; +inf where the integral diverges (B = 0, A ≤ 0)."""
    if B == 0.0:
        return 0.5 * np.log(np.pi / A) if A > 0.0 else np.inf
    return -0.25 * np.log(2.0 * B) + _log_phi_and_slope(A / np.sqrt(2.0 * B))[0]


@numba.njit(cache=True)
def quartic_second_moment_scalar(A, B):
    """<y²> under exp(-A y² - B y⁴)/Z, i.e. -∂ log Z/∂A; +inf where Z diverges."""
    if B == 0.0:
        return 0.5 / A if A > 0.0 else np.inf
    root = np.sqrt(2.0 * B)
    return -_log_phi_and_slope(A / root)[1] / root


@numba.njit(cache=True)
def free_energy_scalar(u, lambda_x, g, lambda_q, beta, mu):
    """F(β, q) = λq u/2 - (1/β) log ∫ exp(-βH) dx at u = (q - q̄)², exactly (002 eq. (4) without approximation)."""
    return 0.5 * lambda_q * u - log_quartic_integral_scalar(0.5 * beta * (lambda_x + g * u), 0.25 * beta * mu) / beta


@numba.njit(cache=True)
def log_unnormalized_marginal_scalar(t, lambda_x, g, lambda_q, alpha, beta, mu):
    """-αF(β, q̄ + t) with the exact F: the log of p(q) before normalization (002 eq. (6))."""
    return -alpha * free_energy_scalar(t * t, lambda_x, g, lambda_q, beta, mu)


_SIGNATURE = ["float64(float64, float64)"]
log_quartic_integral = numba.vectorize(_SIGNATURE, cache=True)(log_quartic_integral_scalar)
log_quartic_integral.__doc__ = log_quartic_integral_scalar.__doc__
quartic_second_moment = numba.vectorize(_SIGNATURE, cache=True)(quartic_second_moment_scalar)
quartic_second_moment.__doc__ = quartic_second_moment_scalar.__doc__
free_energy_exact = numba.vectorize(["float64(" + ", ".join(["float64"] * 6) + ")"], cache=True)(free_energy_scalar)
free_energy_exact.__doc__ = ("free_energy_exact(u, lambda_x, g, lambda_q, beta, mu) = F(β, q), broadcasting "
                             "(002 eq. (4) without approximation).")
log_unnormalized_marginal = numba.vectorize(["float64(" + ", ".join(["float64"] * 7) + ")"], cache=True)(
    log_unnormalized_marginal_scalar)
log_unnormalized_marginal.__doc__ = ("log_unnormalized_marginal(t, lambda_x, g, lambda_q, alpha, beta, mu) "
                                     "= -αF(β, q̄ + t), broadcasting (002 eq. (6) with the exact F).")


def effective_curvature(u, lambda_x, g):
    """a(u) = λx + g u: the curvature of H in x at fixed q (002 eq. (1))."""
    return lambda_x + g * u


def free_energy_eq4(u, lambda_x, g, lambda_q, beta):
    """The source's F (002 eq. (4)): (1/2β) log(g u + λx) + λq u/2 + (1/2β) log β.

    It equals the exact μ = 0 free energy plus log(2π)/(2β): eq. (4) drops the constant
    -(1/2β) log 2π of the Gaussian integral. NaN where g u + λx ≤ 0 (outside its validity).
    """
    a = effective_curvature(np.asarray(u, float), lambda_x, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1.0)), np.nan)
    return 0.5 * log_a / beta + 0.5 * lambda_q * u + 0.5 * np.log(beta) / beta


def free_energy_derivative_u(u, lambda_x, g, lambda_q, beta, mu):
    """∂F/∂u = λq/2 + g <y²>_q / 2 (∂/∂u of -(1/β) log Z is (1/β)(∂A/∂u)<y²> with ∂A/∂u = βg/2)."""
    A = 0.5 * beta * effective_curvature(np.asarray(u, float), lambda_x, g)
    B = 0.25 * beta * np.asarray(mu, float)
    return 0.5 * lambda_q + 0.5 * g * quartic_second_moment(A, B)
