"""log Z(A, B) = log ∫ exp(-Ay² - By⁴) dy and <y²> against mpmath quadrature (002 eqs. (3)-(4))."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mp_reference as ref
from statmech_nn.quartic.free_energy import (free_energy_eq4, free_energy_exact, log_quartic_integral,
                                             quartic_second_moment)

# x = A/sqrt(2B) spans the Chebyshev table (|x| < 20), its seams, the Hankel branches and deep double wells
X_VALUES = [-300.0, -60.0, -20.0001, -20.0, -19.9999, -7.3, -1.0, -1e-9, 0.0, 1e-9, 0.37, 3.0, 19.999, 20.0, 20.001,
            75.0, 1e4]


@pytest.mark.parametrize("x", X_VALUES)
@pytest.mark.parametrize("B", [1e-3, 0.3, 7.0])
def test_log_quartic_integral_matches_mpmath_to_1e13(x, B):
    A = x * np.sqrt(2 * B)
    expected = float(ref.log_quartic_integral(A, B))
    assert abs(log_quartic_integral(A, B) - expected) <= 1e-13 * max(1.0, abs(expected))


@pytest.mark.parametrize("x", X_VALUES)
def test_second_moment_matches_mpmath_to_1e10(x):
    B = 0.3
    A = x * np.sqrt(2 * B)
    assert quartic_second_moment(A, B) == pytest.approx(float(ref.quartic_second_moment(A, B)), rel=1e-10)


def test_gaussian_limit_and_divergence():
    assert log_quartic_integral(2.0, 0.0) == pytest.approx(0.5 * np.log(np.pi / 2.0), rel=1e-15)
    assert quartic_second_moment(2.0, 0.0) == pytest.approx(0.25, rel=1e-15)
    assert np.isinf(log_quartic_integral(-1.0, 0.0)) and np.isinf(log_quartic_integral(0.0, 0.0))
    # B -> 0+ approaches the Gaussian continuously
    assert log_quartic_integral(2.0, 1e-14) == pytest.approx(log_quartic_integral(2.0, 0.0), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(-40, 40), st.floats(1e-3, 10.0))
def test_second_moment_is_minus_the_A_derivative(x, B):
    A, h = x * np.sqrt(2 * B), 1e-5 * max(1.0, abs(x)) * np.sqrt(2 * B)
    slope = (log_quartic_integral(A + h, B) - log_quartic_integral(A - h, B)) / (2 * h)
    assert quartic_second_moment(A, B) == pytest.approx(-slope, rel=1e-6, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(-40, 40), st.floats(1e-3, 10.0))
def test_integration_by_parts_identity(x, B):
    """1 = 2A<y²> + 4B<y⁴>, with <y⁴> = -∂ log Z/∂B by finite differences."""
    A, h = x * np.sqrt(2 * B), 1e-6 * B
    fourth = -(log_quartic_integral(A, B + h) - log_quartic_integral(A, B - h)) / (2 * h)
    assert (2 * A * quartic_second_moment(A, B) + 4 * B * fourth
            == pytest.approx(1.0, abs=1e-5 * max(1.0, abs(A) / np.sqrt(B))))


def test_exact_free_energy_is_eq4_minus_log_2pi_over_2beta():
    u, beta = np.linspace(0, 5, 11), 1.7
    exact = free_energy_exact(u, 0.3, 1.2, 0.8, beta, 0.0)
    assert np.allclose(exact, free_energy_eq4(u, 0.3, 1.2, 0.8, beta) - np.log(2 * np.pi) / (2 * beta),
                       rtol=0, atol=1e-14)
    assert np.all(np.isnan(free_energy_eq4(np.array([0.0, 0.05]), -0.1, 1.0, 1.0, 1.0)))
