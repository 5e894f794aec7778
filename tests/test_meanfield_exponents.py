"""Critical exponents by fits close to T_c, and finite-size scaling of the exact Curie–Weiss solution."""

import numpy as np
import pytest

from statmech_nn.errors import ParameterError
from statmech_nn.meanfield.exponents import (
    BINDER_AT_TC, binder_crossing, exact_exponents, finite_size_scaling, log_log_slope, mean_field_exponents,
)


def test_log_log_slope_recovers_a_power_law_exactly():
    x = np.geomspace(1e-3, 1, 12)
    slope, err = log_log_slope(x, 3.0 * x**-1.7)
    assert slope == pytest.approx(-1.7, abs=1e-12) and err < 1e-10


@pytest.mark.parametrize("j", [1.0, 2.5])
def test_mean_field_exponents_within_5_percent(j):
    fits = mean_field_exponents(j)
    assert {k: round(v.value, 2) for k, v in fits.items()} == {"beta": 0.5, "gamma": 1.0, "delta": 3.0}
    assert max(fit.relative_error for fit in fits.values()) < 0.05


def test_exact_exponents_at_a_million_spins_within_5_percent():
    fits = exact_exponents(10**6, points=8)
    for name, expected in (("beta", 0.5), ("gamma", 1.0), ("delta", 3.0)):
        assert fits[name].value == pytest.approx(expected, rel=0.05), name


def test_finite_size_scaling_chi_peak_grows_as_root_n_and_binder_cumulants_cross_at_tc():
    scaling = finite_size_scaling([1000, 4000, 16000, 64000])
    # χ'_max ∝ N^{γ/ν̄} = N^{1/2} in mean field (ν̄ = 2 in units of N)
    assert scaling.attrs["chi_peak_exponent"] == pytest.approx(0.5, rel=0.05)
    # the peak approaches T_c = J from below as T_c(1 - c N^{-1/2})
    shift = 1.0 - scaling["t_peak"].values
    assert np.all(shift > 0) and np.all(np.diff(shift) < 0)
    assert np.polyfit(np.log(scaling["n"]), np.log(shift), 1)[0] == pytest.approx(-0.5, abs=0.03)
    # Binder crossings converge on T_c = J, the cumulant at the crossing on U* = 1 - Γ(1/4)²/(12 Γ(3/4)²)
    distance = np.abs(scaling["binder_crossing"].values - 1.0)
    assert np.all(np.diff(distance) < 0) and distance[-1] < 1e-3
    assert scaling["binder_at_crossing"].values[-1] == pytest.approx(BINDER_AT_TC, abs=0.01)
    assert BINDER_AT_TC == pytest.approx(0.2705, abs=1e-4)


def test_binder_crossing_scales_with_j():
    assert binder_crossing(2000, 20000, j=2.0) == pytest.approx(2 * binder_crossing(2000, 20000, j=1.0), rel=1e-9)


def test_finite_size_scaling_needs_two_sizes():
    with pytest.raises(ParameterError, match="sizes"):
        finite_size_scaling([100, 100])
