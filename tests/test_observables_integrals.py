"""The special functions under the fits: the Hurwitz zeta kernel and the half-line quadrature."""

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from statmech_nn.errors import NotNormalizableError
from statmech_nn.observables._numerics.halfline import integrate_half_line, log_tricomi_integral
from statmech_nn.observables._numerics.hurwitz import log_hurwitz_zeta, zeta_terms


@pytest.mark.parametrize("s", [1.05, 1.5, 2.0, 2.7, 4.0, 9.0])
@pytest.mark.parametrize("a", [1.0, 2.0, 7.0, 40.0, 350.0])
def test_hurwitz_zeta_and_its_s_derivatives_match_mpmath(s, a):
    """log ζ, ζ'/ζ and ζ''/ζ to 1e-12 relative against mpmath at 30 digits."""
    mp.mp.dps = 30
    log_z, d1, d2 = zeta_terms(s, a)
    z = mp.zeta(s, a)
    assert log_z == pytest.approx(float(mp.log(z)), rel=1e-12)
    assert d1 == pytest.approx(float(mp.zeta(s, a, 1) / z), rel=1e-12)
    assert d2 == pytest.approx(float(mp.zeta(s, a, 2) / z), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(1.01, 60.0), st.floats(1.0, 1e6))
def test_hurwitz_zeta_satisfies_its_recurrence_and_matches_scipy(s, a):
    """ζ(s, a) = a^{-s} + ζ(s, a+1) in log space (also where ζ underflows), and scipy's ζ where it is finite."""
    lhs = log_hurwitz_zeta(s, a)
    rhs = np.logaddexp(-s * np.log(a), log_hurwitz_zeta(s, a + 1.0))
    assert lhs == pytest.approx(rhs, rel=1e-13, abs=1e-13)
    reference = special.zeta(s, a)
    if 1e-300 < reference < 1e300:
        assert lhs == pytest.approx(np.log(reference), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("a, p, k, v0", [
    (0.5, 0.0, 2.0, 0.0), (0.5, 1.3, 1e-6, 0.0), (0.5, 3.0, 1e3, 0.0), (0.5, -1.0, 0.5, 0.0),
    (1.0, 2.5, 1e-8, 0.0), (1.0, 0.0, 1.0, 0.0), (1.0, -2.0, 3.0, 0.0), (1.0, 1.7, 1e-3, 0.0),
    (0.5, 1.2, 1e-3, 4.0), (1.0, 2.0, 0.1, 50.0), (0.5, 0.5, 1.0, 1e-6),
])
def test_tricomi_integral_matches_adaptive_quadrature(a, p, k, v0):
    """log ∫_{v0}^∞ v^{a-1}(1+v)^{-p} e^{-kv} dv against scipy.integrate.quad (Gauss-Kronrod) in u = log(v - v0),
    split at the scales 1 and 1/k, scaled by the integrand's peak so that quad works near 1."""
    def log_integrand(u):
        v = v0 + np.exp(u)
        return u + (a - 1.0) * np.log(v) - p * np.log1p(v) - k * v
    grid = np.linspace(-60, 60, 2401)
    peak = log_integrand(grid).max()
    cuts = sorted({-60.0, 0.0, float(np.log(1.0 / k)), float(np.log(30.0 / k)), 60.0})
    total = sum(integrate.quad(lambda u: np.exp(log_integrand(u) - peak), lo, hi, limit=400, epsabs=0, epsrel=1e-13)[0]
                for lo, hi in zip(cuts, cuts[1:]))
    assert log_tricomi_integral(a, p, k, v0) == pytest.approx(peak + np.log(total), rel=1e-10, abs=1e-10)


def test_tricomi_integral_closed_forms():
    """a = 1, p = 0: e^{-k v0}/k; a = 1/2, p = 0, v0 = 0: √(π/k); Γ(a) U(a, a+1-p, z) from mpmath (scipy's
    hyperu is off by 6e-11 at U(1/2, -1, 3) and worse elsewhere)."""
    k = np.array([1e-6, 0.3, 5.0, 800.0])
    v0 = np.array([0.0, 2.0, 30.0, 1.0])
    np.testing.assert_allclose(log_tricomi_integral(1.0, 0.0, k, v0), -k * v0 - np.log(k), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(log_tricomi_integral(0.5, 0.0, k), 0.5 * np.log(np.pi / k), rtol=1e-13)
    mp.mp.dps = 30
    for a, p, z in [(0.5, 0.7, 0.2), (0.5, 2.5, 3.0), (0.5, 1.5, 40.0), (1.0, 3.2, 0.01), (1.0, -0.5, 7.0)]:
        expected = float(mp.log(mp.gamma(a) * mp.hyperu(a, a + 1 - p, z)))
        assert log_tricomi_integral(a, p, z) == pytest.approx(expected, rel=1e-13, abs=1e-14)


def test_half_line_moments_are_derivatives_of_the_log_integral():
    """∂ log K/∂p = -E[log(1+v)], ∂ log K/∂k = -E[v]; second derivatives = covariances (central differences)."""
    a, p, k = 0.5, 1.4, 0.02
    _, mean, cov = log_tricomi_integral(a, p, k, moments=True)
    h = 1e-4
    dp = (log_tricomi_integral(a, p + h, k) - log_tricomi_integral(a, p - h, k)) / (2 * h)
    dk = (log_tricomi_integral(a, p, k + h * k) - log_tricomi_integral(a, p, k - h * k)) / (2 * h * k)
    assert dp == pytest.approx(-mean[0], rel=1e-7)
    assert dk == pytest.approx(-mean[1], rel=1e-7)
    dpp = (log_tricomi_integral(a, p + h, k) - 2 * log_tricomi_integral(a, p, k)
           + log_tricomi_integral(a, p - h, k)) / h**2
    assert dpp == pytest.approx(cov[0, 0], rel=1e-4)


def test_divergent_integrals_are_a_clear_error():
    with pytest.raises(NotNormalizableError):
        log_tricomi_integral(1.0, 0.5, 0.0)  # ∫ (1+v)^{-1/2} dv diverges
    with pytest.raises(NotNormalizableError):
        integrate_half_line(lambda v: 0.0 * v)
