"""Heat-bath Monte Carlo (numba, seeded) against exact sums, enumeration and mean field; its run kernel against
its pure sweep replayed from the same streams."""

import numpy as np
import pytest

from statmech_nn.errors import ParameterError
from statmech_nn.meanfield import CurieWeiss, GeneralCouplings
from statmech_nn.rng import chain_states, fill_uniforms
from statmech_nn.sampling.spins import (
    couplings_monte_carlo, couplings_kernel, couplings_sweep, curie_weiss_kernel, curie_weiss_monte_carlo,
    curie_weiss_sweep,
)


def within(estimate, error, reference, sigmas=4.0, floor=0.0):
    return abs(estimate - reference) <= sigmas * error + floor


@pytest.mark.parametrize("temperature,b", [(1.6, 0.0), (1.6, 0.1), (0.7, 0.1)])
def test_curie_weiss_chains_agree_with_the_exact_sums(temperature, b):
    """Stated tolerance: 4 jackknife standard errors (plus 2e-3 on the free energy for the quadrature)."""
    n, beta = 100, 1.0 / temperature
    mc = curie_weiss_monte_carlo(CurieWeiss(1.0, b), n, beta, sweeps=6000, burn_in=300, chains=4, seed=11)
    exact = CurieWeiss(1.0, b).exact(n, beta)
    assert within(mc.m, mc.m_err, exact.m)
    assert within(mc.m_abs, mc.m_abs_err, exact.m_abs)
    assert within(mc.chi, mc.chi_err, exact.chi, floor=0.02 * exact.chi)
    assert within(mc.energy_per_spin, mc.energy_err, exact.observables["energy_per_spin"])
    assert within(mc.free_energy_per_spin, mc.free_energy_err, exact.free_energy_per_spin, floor=2e-3)


def test_same_seed_same_bits_and_different_seed_different_chains():
    first = curie_weiss_monte_carlo(CurieWeiss(), 200, 1.1, sweeps=200, burn_in=10, seed=4, free_energy=False)
    again = curie_weiss_monte_carlo(CurieWeiss(), 200, 1.1, sweeps=200, burn_in=10, seed=4, free_energy=False)
    other = curie_weiss_monte_carlo(CurieWeiss(), 200, 1.1, sweeps=200, burn_in=10, seed=5, free_energy=False)
    np.testing.assert_array_equal(first.m_series, again.m_series)
    assert not np.array_equal(first.m_series, other.m_series)


def test_large_n_chains_agree_with_mean_field():
    """N = 10^4 away from T_c: Monte Carlo against the N → ∞ solution (tolerance 4σ + 1/N effects)."""
    model = CurieWeiss(1.0, 0.05)
    for temperature in (0.8, 1.4):
        mc = curie_weiss_monte_carlo(model, 10**4, 1 / temperature, sweeps=400, burn_in=100, chains=2, seed=2,
                                     free_energy=False)
        mf = model.mean_field(1 / temperature)
        assert within(mc.m, mc.m_err, mf.m, floor=1e-3)
        assert within(mc.chi, mc.chi_err, mf.chi, floor=0.05 * mf.chi)


def test_general_couplings_chains_agree_with_exact_enumeration():
    rng = np.random.default_rng(8)
    n = 12
    model = GeneralCouplings(1.0 + rng.normal(size=(n, n)), rng.normal(0.0, 0.1, n))
    beta = 1.0 / 1.5
    mc = couplings_monte_carlo(model, beta, sweeps=8000, burn_in=200, chains=4, seed=1)
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
        mc = couplings_monte_carlo(model, 1 / temperature, sweeps=200, burn_in=40, chains=2, initial="up",
                                   free_energy=False, seed=3)
        assert within(mc.m, mc.m_err, points.m, floor=3e-3)
        assert np.sqrt(np.mean((mc.sites - points.V) ** 2)) < 0.08


def test_bad_initial_states_and_run_lengths_are_clear_errors():
    with pytest.raises(ParameterError, match="initial"):
        curie_weiss_monte_carlo(CurieWeiss(), 10, 1.0, initial="sideways", sweeps=100)
    with pytest.raises(ParameterError, match="initial"):
        curie_weiss_monte_carlo(CurieWeiss(), 10, 1.0, initial=np.zeros(10), sweeps=100)
    with pytest.raises(ParameterError, match="sweeps"):
        curie_weiss_monte_carlo(CurieWeiss(), 10, 1.0, sweeps=5)


def test_the_run_kernels_are_their_sweeps_fed_each_chains_stream():
    """Each chain draws N uniforms per sweep from its own stream; replaying them into the pure sweeps gives the same
    magnetizations (Curie–Weiss) and the same spins (general couplings)."""
    n, chains, sweeps, beta = 30, 3, 6, 0.9
    spins0 = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(chains, n))
    states = chain_states(2, chains)
    uniforms = np.empty((chains, n * sweeps))
    fill_uniforms(states.copy(), uniforms)
    status = np.zeros(chains, np.int64)

    model = CurieWeiss(1.0, 0.1)
    fields = model.local_field((np.arange(2 * n + 1) - n) / n)
    spins, out = spins0.copy(), np.empty((sweeps, chains, 1))
    curie_weiss_kernel(spins, np.full(chains, beta), fields, states.copy(), sweeps, 1, out, out[:, :, :0], status)
    for c in range(chains):
        s, total = spins0[c].copy(), int(spins0[c].sum())
        p_up = 1.0 / (1.0 + np.exp(-2.0 * beta * fields))
        for t in range(sweeps):
            total = curie_weiss_sweep(s, p_up, total, uniforms[c, t * n:(t + 1) * n])
            assert out[t, c, 0] == total / n
        np.testing.assert_array_equal(s, spins[c])

    couplings = GeneralCouplings(1.0 + np.random.default_rng(1).normal(size=(n, n)), 0.05)
    a, h = couplings.weights / n, couplings.field
    spins, out = spins0.copy(), np.empty((sweeps, chains, 2))
    couplings_kernel(a, h, spins, np.full(chains, beta), states.copy(), np.zeros((chains, n)), np.zeros((chains, n)),
                     sweeps, 1, out, out[:, :, :0], status)
    for c in range(chains):
        s = spins0[c].copy()
        for t in range(sweeps):
            couplings_sweep(a, h, beta, s, a @ s.astype(float), uniforms[c, t * n:(t + 1) * n])
            assert out[t, c, 0] == pytest.approx(s.mean(), abs=1e-15)
            assert out[t, c, 1] == pytest.approx(couplings.energy(s.astype(float)) / n, rel=1e-12)
        np.testing.assert_array_equal(s, spins[c])
    assert not np.array_equal(spins, spins0)
