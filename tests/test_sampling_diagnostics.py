"""τ, ESS, split R̂ and the KS distance (statmech_nn.sampling.diagnostics) against closed forms and scipy."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from statmech_nn.errors import ConvergenceError, ParameterError, StatmechError
from statmech_nn.sampling.chains import RunLength
from statmech_nn.autocorrelation import ChainTooShortError, ChainTooShortWarning, autocorrelation, integrated_time
from statmech_nn.sampling.diagnostics import diagnose, effective_sample_size, ks_distance, split_rhat


def ar1(rho, n, chains, seed):
    """x_t = ρ x_{t-1} + √(1-ρ²) ξ_t started in equilibrium: τ = (1+ρ)/(1-ρ), ρ(t) = ρ^t exactly."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, chains))
    x[0] = rng.standard_normal(chains)
    noise = np.sqrt(1 - rho**2) * rng.standard_normal((n, chains))
    for t in range(1, n):
        x[t] = rho * x[t - 1] + noise[t]
    return x


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_integrated_time_of_ar1_matches_the_closed_form(rho):
    x = ar1(rho, 20000, 8, seed=1)
    exact = (1 + rho) / (1 - rho)
    assert integrated_time(x) == pytest.approx(exact, rel=0.08)
    np.testing.assert_allclose(autocorrelation(x)[:4], rho ** np.arange(4), atol=0.03)
    assert effective_sample_size(x) == pytest.approx(x.size / exact, rel=0.08)


def test_short_chain_is_said_loudly():
    x = ar1(0.99, 500, 4, seed=2)          # τ ≈ 199 samples, far more than 500/50
    with pytest.raises(ChainTooShortError, match="too short"):
        integrated_time(x)
    assert issubclass(ChainTooShortError, StatmechError)
    with pytest.warns(ChainTooShortWarning):
        tau = integrated_time(x, quiet=True)
    assert tau > 10
    report = diagnose(x)
    assert not report.reliable and "too short" in report.message


def test_split_rhat_flags_chains_that_disagree():
    rng = np.random.default_rng(3)
    mixed = rng.standard_normal((2000, 4))
    assert split_rhat(mixed) == pytest.approx(1.0, abs=0.01)
    shifted = mixed + np.array([0, 0, 0, 1.0])
    assert split_rhat(shifted) > 1.05
    # a chain that drifts within itself is caught by splitting it
    drifting = mixed + np.linspace(0, 2, 2000)[:, None]
    assert split_rhat(drifting) > 1.1
    # the tail (folded) version catches chains that differ only in scale
    scaled = mixed * np.array([1, 1, 1, 3.0])
    assert split_rhat(scaled) > 1.05
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert diagnose(mixed).reliable


def test_ks_distance_agrees_with_scipy_and_reports_its_resolution():
    x = np.random.default_rng(4).standard_normal((5000, 4))
    distance, resolution = ks_distance(x, stats.norm.cdf)
    exact = stats.kstest(x.ravel(), "norm").statistic
    assert abs(distance - exact) <= resolution
    assert resolution < 2e-3
    assert ks_distance(x + 0.5, stats.norm.cdf)[0] > 0.15


def test_bad_samples_are_clear_errors():
    with pytest.raises(ConvergenceError, match="NaN"):
        integrated_time(np.array([[0.0], [np.nan], [1.0], [2.0], [3.0]]))
    with pytest.raises(StatmechError, match="n_samples"):
        integrated_time(np.zeros((2, 3)))
    stuck = np.ones((100, 2))
    with pytest.warns(ChainTooShortWarning):
        assert integrated_time(stuck, quiet=True) == np.inf
    assert not diagnose(stuck).reliable


@settings(max_examples=60, deadline=None)
@given(chains=st.integers(1, 50), steps=st.integers(8, 10**6), burn=st.floats(0, 0.9), thin=st.integers(1, 100))
def test_run_length_accounts_for_every_step(chains, steps, burn, thin):
    burn_in = int(burn * steps)
    try:
        length = RunLength.of(chains, steps, burn_in, thin)
    except ParameterError:
        assert (steps - burn_in) // thin < 4
        return
    assert length.burn_in + length.samples * length.thin == steps
    assert length.burn_in >= burn_in and length.samples >= 4


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-2, 2), seed=st.integers(0, 2**32 - 1))
def test_ks_distance_is_a_distance_between_cdfs(shift, seed):
    x = np.random.default_rng(seed).standard_normal((300, 2)) + shift
    distance, resolution = ks_distance(x, stats.norm.cdf)
    assert 0 <= distance <= 1
    assert abs(distance - stats.kstest(x.ravel(), "norm").statistic) <= resolution + 1e-12
