"""Free energy of the quartic toy model, vectorized (002 eqs. (1)-(4)).

With y = x - x̄ and u = (q - q̄)², the Hamiltonian of 002 eq. (1), extended by our quartic
term μy⁴/4, is H = a(u) y²/2 + μ y⁴/4 + λq u/2 with the effective curvature a(u) = λx + g u.
Integrating out x at inverse temperature β,

    F(β, q) = -(1/β) log ∫ exp(-βH) dx = λq u/2 - (1/β) log Z(A, B),
    Z(A, B) = ∫ exp(-A y² - B y⁴) dy,   A = β a(u)/2,   B = β μ/4.

Z has closed forms in modified Bessel functions (derived in :mod:`statmech_nn.toy.symbolic`):

    A > 0:  Z = ½ √(A/B) e^{z} K_{1/4}(z),                      z = A²/(8B)
    A < 0:  Z = (π/2) √(|A|/(2B)) e^{z} [I_{-1/4}(z) + I_{1/4}(z)]
    A = 0:  Z = Γ(1/4) / (2 B^{1/4})
    B = 0:  Z = √(π/A)  (A > 0 only: the Gaussian of 002 eq. (3))

evaluated here in log space with exponentially scaled Bessel functions, so nothing overflows.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.special import gammaln

_LOG_HALF_GAMMA_QUARTER = gammaln(0.25) - np.log(2.0)
# <y²> and <y⁴> at A = 0: Γ(3/4)/(Γ(1/4)√B) and 1/(4B) (from 1 = 2A<y²> + 4B<y⁴>).
_M2_AT_ZERO = np.exp(gammaln(0.75) - gammaln(0.25))
# Below |A|/√(2B) = this, a second-order Taylor expansion about A = 0 replaces the Bessel forms
# (whose argument z = A²/8B would underflow); its truncation error is below 1e-18.
_SMALL_X = 1e-6
# scipy's kve/ive return NaN beyond z ≈ 1e9; from here on the Hankel expansion (5 terms) is exact
# to double precision.
_LARGE_Z = 1e5
_HANKEL_TERMS = 5


def _hankel_series(nu, z, sign):
    """Σ_k sign^k a_k(ν) / z^k with a_k(ν) = Π_{j≤k} (4ν² - (2j-1)²) / (k! 8^k)."""
    total, term = np.ones_like(z), np.ones_like(z)
    for k in range(1, _HANKEL_TERMS + 1):
        term = term * sign * (4.0 * nu * nu - (2 * k - 1) ** 2) / (k * 8.0 * z)
        total = total + term
    return total


def kve(nu, z):
    """e^z K_ν(z) for z > 0, valid for every z (scipy below _LARGE_Z, Hankel's expansion above)."""
    z = np.asarray(z, float)
    large = z > _LARGE_Z
    safe = np.where(large, 1.0, z)
    return np.where(large, np.sqrt(np.pi / (2.0 * np.where(large, z, 1.0))) * _hankel_series(nu, np.where(large, z, 1.0), 1.0),
                    special.kve(nu, safe))


def ive(nu, z):
    """e^{-z} I_ν(z) for z > 0, valid for every z (scipy below _LARGE_Z, Hankel's expansion above)."""
    z = np.asarray(z, float)
    large = z > _LARGE_Z
    safe = np.where(large, 1.0, z)
    zl = np.where(large, z, 1.0)
    return np.where(large, _hankel_series(nu, zl, -1.0) / np.sqrt(2.0 * np.pi * zl), special.ive(nu, safe))


def log_quartic_integral(A, B):
    """log Z(A, B) = log ∫ exp(-A y² - B y⁴) dy, elementwise; +inf where the integral diverges."""
    A, B = np.broadcast_arrays(np.asarray(A, float), np.asarray(B, float))
    out = np.full(A.shape, np.inf)
    gaussian = B == 0
    ok = gaussian & (A > 0)
    out[ok] = 0.5 * np.log(np.pi / A[ok])
    quartic = B > 0
    x = np.zeros(A.shape)
    x[quartic] = A[quartic] / np.sqrt(2.0 * B[quartic])
    small = quartic & (np.abs(x) < _SMALL_X)
    if small.any():
        a, b = A[small], B[small]
        m2 = _M2_AT_ZERO / np.sqrt(b)
        m4 = 0.25 / b
        out[small] = _LOG_HALF_GAMMA_QUARTER - 0.25 * np.log(b) - a * m2 + 0.5 * a * a * (m4 - m2 * m2)
    pos = quartic & (x >= _SMALL_X)
    if pos.any():
        a, b = A[pos], B[pos]
        z = a * a / (8.0 * b)
        out[pos] = np.log(0.5) + 0.5 * np.log(a / b) + np.log(kve(0.25, z))
    neg = quartic & (x <= -_SMALL_X)
    if neg.any():
        c, b = -A[neg], B[neg]
        z = c * c / (8.0 * b)
        out[neg] = np.log(np.pi / 2) + 0.5 * np.log(c / (2.0 * b)) + 2.0 * z + np.log(ive(-0.25, z) + ive(0.25, z))
    return out[()] if out.ndim == 0 else out


def quartic_second_moment(A, B):
    """<y²> under exp(-A y² - B y⁴) / Z, i.e. -∂ log Z / ∂A, elementwise (inf where Z diverges)."""
    A, B = np.broadcast_arrays(np.asarray(A, float), np.asarray(B, float))
    out = np.full(A.shape, np.inf)
    ok = (B == 0) & (A > 0)
    out[ok] = 0.5 / A[ok]
    quartic = B > 0
    x = np.zeros(A.shape)
    x[quartic] = A[quartic] / np.sqrt(2.0 * B[quartic])
    small = quartic & (np.abs(x) < _SMALL_X)
    if small.any():
        a, b = A[small], B[small]
        m2 = _M2_AT_ZERO / np.sqrt(b)
        out[small] = m2 - a * (0.25 / b - m2 * m2)
    pos = quartic & (x >= _SMALL_X)
    if pos.any():
        a, b = A[pos], B[pos]
        z = a * a / (8.0 * b)
        # d/dA [½ log A + log K_{1/4}(z) + z], with K'_ν = -(K_{ν-1} + K_{ν+1})/2 and K_{-3/4} = K_{3/4}.
        ratio = (kve(0.75, z) + kve(1.25, z)) / (2.0 * kve(0.25, z))
        out[pos] = -(0.5 / a + (2.0 * z / a) * (1.0 - ratio))
    neg = quartic & (x <= -_SMALL_X)
    if neg.any():
        a, b = A[neg], B[neg]
        z = a * a / (8.0 * b)
        # d/dA [½ log|A| + z + log(I_{-1/4}(z) + I_{1/4}(z))], with I'_ν = (I_{ν-1} + I_{ν+1})/2.
        numerator = ive(-1.25, z) + ive(0.75, z) + ive(-0.75, z) + ive(1.25, z)
        ratio = numerator / (2.0 * (ive(-0.25, z) + ive(0.25, z)))
        out[neg] = -(0.5 / a + (2.0 * z / a) * (1.0 + ratio))
    return out[()] if out.ndim == 0 else out


def effective_curvature(u, lambda_x, g):
    """a(u) = λx + g u: the curvature of H in x at fixed q (002 eq. (1))."""
    return lambda_x + g * u


def free_energy_exact(u, lambda_x, g, lambda_q, beta, mu):
    """F(β, q) = λq u/2 - (1/β) log ∫ exp(-β H) dx, exactly (002 eq. (4) without approximation)."""
    A = 0.5 * beta * effective_curvature(u, lambda_x, g)
    B = 0.25 * beta * np.asarray(mu, float)
    return 0.5 * lambda_q * u - log_quartic_integral(A, B) / beta


def free_energy_eq4(u, lambda_x, g, lambda_q, beta):
    """The source's F (002 eq. (4)): (1/2β) log(g u + λx) + λq u/2 + (1/2β) log β.

    It equals the exact μ = 0 free energy plus log(2π)/(2β): eq. (4) drops the constant
    -(1/2β) log 2π of the Gaussian integral. NaN where g u + λx ≤ 0 (outside its validity).
    """
    a = effective_curvature(u, lambda_x, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1.0)), np.nan)
    return 0.5 * log_a / beta + 0.5 * lambda_q * u + 0.5 * np.log(beta) / beta


def free_energy_derivative_u(u, lambda_x, g, lambda_q, beta, mu):
    """∂F/∂u = λq/2 + g <y²>_q / 2 (since ∂/∂u of -(1/β) log Z is (1/β) ∂A/∂u <y²> with ∂A/∂u = βg/2)."""
    A = 0.5 * beta * effective_curvature(u, lambda_x, g)
    B = 0.25 * beta * np.asarray(mu, float)
    return 0.5 * lambda_q + 0.5 * g * quartic_second_moment(A, B)
