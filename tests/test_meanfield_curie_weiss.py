"""Curie–Weiss (001 slide 'Simple (relevant) model'): exact sector sums, mean field, and their agreement."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from statmech_nn.errors import ParameterError
from statmech_nn.meanfield import CurieWeiss
from statmech_nn.meanfield.cw_exact import CurieWeissExact, exact_observables
from statmech_nn.meanfield.cw_mean_field import (
    CurieWeissMeanField, bragg_williams_free_energy, hs_free_energy, mean_field_grid, mean_field_roots,
    spinodal_field,
)


def brute_force(n, beta, j, b):
    """Every observable by summing over all 2^N spin states (independent of the sector sums)."""
    states = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    M = states.sum(axis=1).astype(float)
    energy = -j / (2 * n) * M**2 - b * M
    log_w = -beta * energy
    log_z = logsumexp(log_w)
    p = np.exp(log_w - log_z)
    m = M / n
    mean, m2, m4 = p @ m, p @ m**2, p @ m**4
    e = energy / n
    return {"log_partition": log_z, "m": mean, "m_abs": p @ np.abs(m), "chi": n * beta * (m2 - mean**2),
            "energy_per_spin": p @ e, "specific_heat": n * beta**2 * (p @ e**2 - (p @ e) ** 2),
            "binder": 1 - m4 / (3 * m2**2), "free_energy_per_spin": -log_z / (beta * n)}


@pytest.mark.parametrize("n", [1, 2, 5, 12])
@pytest.mark.parametrize("beta,j,b", [(0.7, 1.0, 0.0), (1.6, 1.3, -0.2), (2.5, -0.8, 0.4)])
def test_sector_sums_equal_enumeration_of_all_states(n, beta, j, b):
    exact = exact_observables(n, beta, j, b)
    reference = brute_force(n, beta, j, b)
    for key, value in reference.items():
        assert exact[key] == pytest.approx(value, rel=1e-11, abs=1e-12), key


def test_exact_observables_broadcast_over_a_grid_like_pointwise_calls():
    beta, b = np.meshgrid([0.5, 1.0, 1.5], [-0.1, 0.0, 0.2], indexing="ij")
    grid = exact_observables(40, beta, 1.0, b)
    assert grid["chi"].shape == (3, 3)
    for index in np.ndindex(3, 3):
        point = exact_observables(40, beta[index], 1.0, b[index])
        assert grid["chi"][index] == pytest.approx(point["chi"], rel=1e-13)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), beta=st.floats(0.05, 5.0), b=st.floats(-1.0, 1.0))
def test_magnetization_distribution_is_normalized_with_consistent_moments(n, beta, b):
    law = CurieWeissExact(n, beta, 1.0, b)
    pmf = law.pmf(law.values())
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert law.cdf(1.0) == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(law.cdf(law.values())) >= -1e-15)
    assert law.mean() == pytest.approx(pmf @ law.values(), abs=1e-12)
    assert law.var() == pytest.approx(pmf @ (law.values() - law.mean()) ** 2, abs=1e-12)
    assert law.chi >= 0


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 200), beta=st.floats(0.1, 4.0), b=st.floats(0.0, 1.0))
def test_field_reversal_symmetry_and_monotone_magnetization(n, beta, b):
    up, down = CurieWeissExact(n, beta, 1.0, b), CurieWeissExact(n, beta, 1.0, -b)
    assert up.m == pytest.approx(-down.m, abs=1e-12)
    np.testing.assert_allclose(up.pmf(up.values()), down.pmf(-up.values()), atol=1e-13)
    assert CurieWeissExact(n, beta, 1.0, b + 0.05).m >= up.m - 1e-13


def test_pmf_off_support_and_sampling_by_seed():
    law = CurieWeissExact(10, 1.2, 1.0, 0.1)
    assert law.logpmf(0.15) == -np.inf and law.pmf(2.0) == 0.0
    draws = law.rvs(size=20000, random_state=5)
    np.testing.assert_array_equal(draws, law.rvs(size=20000, random_state=5))
    assert draws.mean() == pytest.approx(law.mean(), abs=4 * np.sqrt(law.var() / 20000))


@pytest.mark.parametrize("beta,j,b", [(0.5, 1.0, 0.0), (1.25, 1.0, 0.0), (1.25, 1.0, 0.03), (3.0, 1.0, -0.2),
                                      (0.9, 1.0, 0.5), (20.0, 1.0, 0.01), (0.5, -2.0, 0.3)])
def test_roots_solve_the_mean_field_equation_and_are_complete(beta, j, b):
    roots, count = mean_field_roots(beta, j, b)
    found = roots[:count]
    np.testing.assert_allclose(found, np.tanh(beta * (j * found + b)), atol=1e-14)
    # completeness: every sign change of g(m) = m - tanh(β(Jm + b)) on a fine grid is one root
    grid = np.linspace(-1, 1, 200000)  # 0 is not a grid point
    g = grid - np.tanh(beta * (j * grid + b))
    assert count == max(1, np.count_nonzero(np.sign(g[:-1]) != np.sign(g[1:])))
    spinodal = spinodal_field(1.0 / beta, j)
    three = (1.0 / beta < j) and abs(b) < spinodal
    assert count == (3 if three else 1)


def test_stability_free_energies_and_susceptibility_of_each_solution():
    mf = CurieWeissMeanField(1.25, 1.0, 0.02)
    assert mf.stability == ["metastable", "unstable", "stable"]
    # the Bragg–Williams and Hubbard–Stratonovich free energies agree at every solution
    np.testing.assert_allclose(mf.free_energies, hs_free_energy(mf.solutions, 1.25, 1.0, 0.02), atol=1e-14)
    # stable = the global minimum of f(m) on a fine grid
    grid = np.linspace(-0.999, 0.999, 200001)
    assert grid[np.argmin(bragg_williams_free_energy(grid, 1.25, 1.0, 0.02))] == pytest.approx(mf.m, abs=2e-5)
    # χ = dm/db by a central difference of the stable root
    step = 1e-6
    shifted = [CurieWeissMeanField(1.25, 1.0, 0.02 + s).m for s in (step, -step)]
    numeric = (shifted[0] - shifted[1]) / (2 * step)
    assert mf.chi == pytest.approx(numeric, rel=1e-7)


def test_zero_field_below_tc_reports_the_positive_branch_and_critical_point_diverges():
    mf = CurieWeissMeanField(1.25, 1.0, 0.0)
    assert mf.stability == ["stable", "unstable", "stable"] and mf.m > 0.7
    at_tc = CurieWeissMeanField(1.0, 1.0, 0.0)
    assert at_tc.solutions.tolist() == [0.0] and at_tc.stability == ["stable"] and np.isinf(at_tc.chi)
    grid = mean_field_grid(np.array([1.25, 1.25]), 1.0, np.array([0.0, 0.02]))
    assert np.isnan(grid["m_metastable"][0]) and grid["m_metastable"][1] < 0
    assert grid["n_minima"].tolist() == [2, 2]


@pytest.mark.parametrize("temperature,b", [(1.5, 0.0), (1.5, 0.1), (0.7, 0.05), (0.5, -0.3), (2.5, 0.4)])
def test_exact_solution_converges_to_mean_field_at_large_n(temperature, b):
    """Stated tolerances at N = 10^6, away from T_c: m to 1e-4, χ to 1%, f to 2e-5 (it is O(ln N / N))."""
    model = CurieWeiss(1.0, b)
    exact = model.exact(10**6, 1.0 / temperature)
    mf = model.mean_field(1.0 / temperature)
    if b == 0 and temperature < 1:
        assert exact.m_abs == pytest.approx(mf.m, abs=1e-4)
        assert exact.observables["chi_abs"] == pytest.approx(mf.chi, rel=1e-2)
    else:
        assert exact.m == pytest.approx(mf.m, abs=1e-4)
        assert exact.chi == pytest.approx(mf.chi, rel=1e-2)
    assert exact.free_energy_per_spin == pytest.approx(mf.free_energy_per_spin, abs=2e-5)


def test_free_energy_error_shrinks_like_log_n_over_n():
    mf = CurieWeissMeanField(1.0 / 0.7, 1.0, 0.05).free_energy_per_spin
    errors = [abs(CurieWeissExact(n, 1.0 / 0.7, 1.0, 0.05).free_energy_per_spin - mf) for n in (10**3, 10**4, 10**5)]
    assert errors[0] > 5 * errors[1] > 25 * errors[2]


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ParameterError, match="n="):
        exact_observables(0, 1.0)
    with pytest.raises(ParameterError, match="beta"):
        CurieWeissExact(10, -1.0)
    with pytest.raises(ParameterError, match="j"):
        CurieWeiss(float("nan"))
    with pytest.raises(ParameterError, match="method"):
        CurieWeiss().observables("magic", 1.0, 10)
    with pytest.raises(ParameterError, match="n=None"):
        CurieWeiss().observables("exact", 1.0)


def test_model_spec_file_builds_the_model_and_states_its_critical_point():
    import tomllib

    from statmech_nn.meanfield.exponents import BINDER_AT_TC
    from statmech_nn.package_data import find_spec

    spec = tomllib.loads(find_spec("curie_weiss", "model").read_text())
    p = spec["parameters"]
    model = CurieWeiss(p["j"], p["b"])
    assert model.critical_temperature == p["j"]
    assert model.exact(p["n"], p["beta"]).m_abs > 0.5  # β > β_c: ordered
    assert spec["finite_size_scaling"]["binder_at_tc"] == pytest.approx(BINDER_AT_TC, abs=1e-4)
    assert spec["critical_exponents"] == {"beta": 0.5, "gamma": 1.0, "delta": 3.0}
