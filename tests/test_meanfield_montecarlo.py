"""Heat-bath Monte Carlo (numba, seeded) against exact sums, enumeration and mean field."""

import numpy as np
import pytest

from statmech_nn.errors import ParameterError
from statmech_nn.meanfield import CurieWeiss, GeneralCouplings
from statmech_nn.meanfield.montecarlo import curie_weiss_monte_carlo


def within(estimate, error, reference, sigmas=4.0, floor=0.0):
    return abs(estimate - reference) <= sigmas * error + floor


@pytest.mark.parametrize("temperature,b", [(1.6, 0.0), (1.6, 0.1), (0.7, 0.1)])
def test_curie_weiss_chains_agree_with_the_exact_sums(temperature, b):
    """Stated tolerance: 4 jackknife standard errors (plus 2e-3 on the free energy for the quadrature)."""
    n, beta = 100, 1.0 / temperature
    mc = curie_weiss_monte_carlo(n, beta, 1.0, b, sweeps=6000, burn_in=300, chains=4, seed=11)
    exact = CurieWeiss(1.0, b).exact(n, beta)
    assert within(mc.m, mc.m_err, exact.m)
    assert within(mc.m_abs, mc.m_abs_err, exact.m_abs)
    assert within(mc.chi, mc.chi_err, exact.chi, floor=0.02 * exact.chi)
    assert within(mc.energy_per_spin, mc.energy_err, exact.observables["energy_per_spin"])
    assert within(mc.free_energy_per_spin, mc.free_energy_err, exact.free_energy_per_spin, floor=2e-3)


def test_same_seed_same_bits_and_different_seed_different_chains():
    first = curie_weiss_monte_carlo(200, 1.1, sweeps=200, burn_in=10, seed=4, free_energy=False)
    again = curie_weiss_monte_carlo(200, 1.1, sweeps=200, burn_in=10, seed=4, free_energy=False)
    other = curie_weiss_monte_carlo(200, 1.1, sweeps=200, burn_in=10, seed=5, free_energy=False)
    np.testing.assert_array_equal(first.m_series, again.m_series)
    assert not np.array_equal(first.m_series, other.m_series)


def test_large_n_chains_agree_with_mean_field():
    """N = 10^4 away from T_c: Monte Carlo against the N → ∞ solution (tolerance 4σ + 1/N effects)."""
    model = CurieWeiss(1.0, 0.05)
    for temperature in (0.8, 1.4):
        mc = model.monte_carlo(10**4, 1 / temperature, sweeps=400, burn_in=100, chains=2, seed=2, free_energy=False)
        mf = model.mean_field(1 / temperature)
        assert within(mc.m, mc.m_err, mf.m, floor=1e-3)
        assert within(mc.chi, mc.chi_err, mf.chi, floor=0.05 * mf.chi)


def test_general_couplings_chains_agree_with_exact_enumeration():
    rng = np.random.default_rng(8)
    n = 12
    model = GeneralCouplings(1.0 + rng.normal(size=(n, n)), rng.normal(0.0, 0.1, n))
    beta = 1.0 / 1.5
    mc = model.monte_carlo(beta, sweeps=8000, burn_in=200, chains=4, seed=1)
    exact = model.exact(beta)
    assert within(mc.m, mc.m_err, exact.m)
    assert within(mc.chi, mc.chi_err, exact.chi, floor=0.02 * exact.chi)
    assert within(mc.energy_per_spin, mc.energy_err, exact.energy_per_spin)
    assert within(mc.free_energy_per_spin, mc.free_energy_err, exact.free_energy_per_spin, floor=2e-3)
    np.testing.assert_allclose(mc.sites, exact.sites, atol=0.02)
    np.testing.assert_allclose(mc.site_chi, exact.site_chi, atol=0.1)


@pytest.mark.slow
def test_general_couplings_chains_agree_with_the_saddle_point_at_large_n():
    """N = 3000, couplings 1 + G/√2 (G symmetric, standard normal entries): Monte Carlo against the saddle point.

    m to 4σ + 3e-3; per site, the rms of <s_i>_MC - V_i is the sampling noise of 400 sweeps (< 0.08).
    """
    rng = np.random.default_rng(0)
    n = 3000
    W = rng.normal(0.0, 0.5, size=(n, n))
    W = 1.0 + 0.5 * (W + W.T)
    model = GeneralCouplings(W, 0.05)
    for temperature in (0.7, 1.5):
        points = model.saddle_points(1 / temperature, random_starts=1)
        mc = model.monte_carlo(1 / temperature, sweeps=200, burn_in=40, chains=2, initial="up", free_energy=False,
                               seed=3)
        assert within(mc.m, mc.m_err, points.m, floor=3e-3)
        assert np.sqrt(np.mean((mc.sites - points.V) ** 2)) < 0.08


def test_bad_initial_states_and_run_lengths_are_clear_errors():
    with pytest.raises(ParameterError, match="initial"):
        curie_weiss_monte_carlo(10, 1.0, initial="sideways", sweeps=100)
    with pytest.raises(ParameterError, match="initial"):
        curie_weiss_monte_carlo(10, 1.0, initial=np.zeros(10), sweeps=100)
    with pytest.raises(ParameterError, match="sweeps"):
        curie_weiss_monte_carlo(10, 1.0, sweeps=5)
