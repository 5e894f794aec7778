"""Fluctuation samples and their densities in both views (002 §5, Figs. 2-3), and the log-binning helper."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from statmech_nn.errors import DataError
from statmech_nn.io import Trajectory
from statmech_nn.observables._numerics.binning import log_binned_density, log_binned_mean, log_edges
from statmech_nn.observables.fluctuations import (fluctuation_densities, fluctuation_samples, increments,
                                                  mean_deviations, running_mean_deviations)


def test_increments_and_running_mean_deviations_match_direct_loops():
    q = np.random.default_rng(0).normal(size=(50, 3)).cumsum(axis=0)
    np.testing.assert_allclose(increments(q, 3), np.array([q[t + 3] - q[t] for t in range(47)]))
    window = 7
    expected = np.array([q[t + 1] - q[t - window + 1: t + 1].mean(axis=0) for t in range(window - 1, 49)])
    np.testing.assert_allclose(running_mean_deviations(q, window), expected, atol=1e-12)
    np.testing.assert_allclose(mean_deviations(q), q - np.array([q[:, k].mean() for k in range(3)]), atol=1e-12)
    trajectory = Trajectory(q=q, t=np.arange(50), names=["a", "b", "c"], chain=None, source="test")
    np.testing.assert_array_equal(fluctuation_samples(trajectory, "mean"), mean_deviations(q))
    with pytest.raises(DataError, match="unknown fluctuation mode"):
        fluctuation_samples(trajectory, "median")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 5))
def test_log_binned_density_integrates_to_the_positive_fraction(seed, per_decade):
    rng = np.random.default_rng(seed)
    x = np.abs(rng.standard_t(2.0, size=(500, 2)))
    x[:25, 0] = 0.0
    out = log_binned_density(x, per_decade)
    widths = out["hi"] - out["lo"]
    mass = np.nansum(out["density"] * widths, axis=1)
    np.testing.assert_allclose(mass, [(x[:, 0] > 0).mean(), 1.0], rtol=1e-12)
    assert out["count"].sum() == np.count_nonzero(x)
    # every bin spans 1/per_decade of a decade (the last one may be wider to reach the maximum)
    ratios = np.log10(out["hi"] / out["lo"])[:, :-1]
    assert np.allclose(ratios[np.isfinite(ratios)], 1.0 / per_decade)


def test_log_binned_mean_averages_and_errors():
    x = np.arange(1.0, 1001.0)
    y = np.vstack([np.ones_like(x) * 2.0, x])
    out = log_binned_mean(x, y, per_decade=2)
    assert np.allclose(out["mean"][0], 2.0) and np.all(out["error"][0][out["count"] > 1] == 0)
    lo_edges = log_edges(1.0, 1000.0, 2)
    first = (x >= lo_edges[0]) & (x < lo_edges[1])
    assert out["mean"][1][0] == pytest.approx(x[first].mean())
    assert out["error"][1][0] == pytest.approx(x[first].std(ddof=1) / np.sqrt(first.sum()))


def test_densities_of_gaussian_samples_follow_the_gaussian_in_both_views():
    """n = 2e5 draws of N(0, 1): every bin with ≥ 100 counts within 5 Poisson errors of the exact bin average."""
    delta = np.random.default_rng(1).normal(size=(200_000, 2))
    ds = fluctuation_densities(delta, names=["a", "b"], per_decade=5, quadratic_bins=20)
    lo, hi = ds["abs_delta_lo"].values, ds["abs_delta_hi"].values
    exact = (stats.norm.cdf(hi) - stats.norm.cdf(lo)) / (hi - lo)
    enough = ds["count_abs"].values >= 100
    pulls = (ds["density_abs"].values - exact)[enough] / ds["density_abs_err"].values[enough]
    assert np.all(np.abs(pulls) < 5)
    sq_lo, sq_hi = np.sqrt(ds["delta_sq_lo"].values), np.sqrt(ds["delta_sq_hi"].values)
    exact_sq = (stats.norm.cdf(sq_hi) - stats.norm.cdf(sq_lo)) / (sq_hi - sq_lo)
    enough = ds["count_sq"].values >= 100
    pulls = (ds["density_sq"].values - exact_sq)[enough] / ds["density_sq_err"].values[enough]
    assert np.all(np.abs(pulls) < 5)
    assert ds["density_abs"].attrs["units"] == "1/q" and ds["delta_sq"].attrs["units"] == "q^2"
    assert list(ds["name"].values) == ["a", "b"]


def test_exact_zeros_are_counted_but_not_binned():
    delta = np.r_[np.zeros(100), np.random.default_rng(2).normal(size=900)][:, None]
    ds = fluctuation_densities(delta)
    assert int(ds["n_zero"].values[0]) == 100
    widths = ds["abs_delta_hi"].values - ds["abs_delta_lo"].values
    assert np.nansum(2 * ds["density_abs"].values * widths) == pytest.approx(0.9)


def test_trajectory_samples_need_a_uniform_time_grid(tmp_path):
    q = np.zeros((10, 2))
    uneven = Trajectory(q=q, t=[0, 1, 2, 4, 5, 6, 7, 8, 9, 10], names=["a", "b"], chain=None, source="test")
    with pytest.raises(DataError, match="evenly spaced"):
        fluctuation_samples(uneven)
    even = Trajectory(q=q, t=np.arange(10) * 5, names=["a", "b"], chain=None, source="test")
    assert fluctuation_samples(even, "running_mean", window=3).shape == (7, 2)
    with pytest.raises(DataError, match="unknown fluctuation mode"):
        fluctuation_samples(even, "jumps")


def test_bad_samples_are_clear_errors():
    with pytest.raises(DataError, match="NaN"):
        fluctuation_densities(np.array([[0.1], [np.nan], [0.3]]))
    with pytest.raises(DataError, match="no increments"):
        increments(np.zeros((2, 1)), lag=2)
    with pytest.raises(DataError, match="running mean"):
        running_mean_deviations(np.zeros((3, 1)), window=3)
