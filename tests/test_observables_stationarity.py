"""Stationarity of tracked weights (issue 10 item 3, calibrated in issue 19): drift, τ, split R̂ over segments,
halves KS, Holm over the family, the drift bound, verdict."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.signal import lfilter

from statmech_nn.autocorrelation import (
    DRIFT_LIMIT,
    column_times,
    drift_ratio,
    integrated_time,
    segment_rhat,
    split_rhat,
)
from statmech_nn.errors import DataError
from statmech_nn.observables.stationarity import (
    DRIFT_BOUND,
    MIN_ROWS,
    _two_sample_ks,
    holm,
    stationarity_dataset,
    stationarity_rows,
    stationarity_verdict,
)


def ou(rng, n, rho, k=1, scale=1.0):
    """A stationary AR(1) (the sampled Ornstein–Uhlenbeck process): τ = (1 + ρ)/(1 − ρ), unit variance."""
    noise = rng.standard_normal((n, k)) * np.sqrt(1 - rho ** 2)
    start = rng.standard_normal(k)
    series = lfilter([1.0], [1.0, -rho], noise, axis=0, zi=(rho * start)[None, :])[0]
    return scale * series


def test_stationary_ou_with_a_long_window_is_stationary():
    rng = np.random.default_rng(1)
    q = ou(rng, 40_000, 0.8, k=6)                      # τ = 9: the window is ~4000 τ
    rows = stationarity_rows(q)
    assert all(row["stationary"] for row in rows), [row["reason"] for row in rows]
    assert all(row["reason"] == "" and row["failed"] == [] for row in rows)
    np.testing.assert_allclose([row["tau_w"] for row in rows], 9.0, rtol=0.15)
    verdict = stationarity_verdict(rows)
    assert verdict["verdict"] == "supported" and verdict["stationary"] == verdict["total"] == 6


def test_ou_plus_a_linear_trend_is_flagged_as_drifting():
    rng = np.random.default_rng(2)
    n = 40_000
    q = ou(rng, n, 0.8) + np.linspace(0.0, 3.0, n)[:, None]       # the trend moves w by ~3 sd
    (row,) = stationarity_rows(q, names=["fc1.weight[0,1]"])
    assert not row["stationary"] and "drift" in row["failed"] and row["reason"].startswith("drift")
    assert row["name"] == "fc1.weight[0,1]" and row["drift_ratio"] == pytest.approx(3.0, rel=0.1)
    assert stationarity_verdict([row])["verdict"] == "not supported"


def test_a_random_walk_is_never_stationary():
    """τ of a random walk fills the window: it cannot be bounded, whatever its drift tests say."""
    walk = np.cumsum(np.random.default_rng(3).standard_normal((20_000, 1)), axis=0)
    (row,) = stationarity_rows(walk)
    assert not row["stationary"] and {"window", "bound"} <= set(row["failed"])
    assert row["window_over_tau"] < 10
    assert stationarity_verdict([row])["verdict"] != "supported"


def test_a_short_window_is_flagged_for_tau_and_the_verdict_is_inconclusive():
    rng = np.random.default_rng(4)
    q = ou(rng, 2_000, 0.98, k=3)                      # τ ≈ 99: 2000 rows are ~20 τ
    rows = stationarity_rows(q)
    assert all("window" in row["failed"] for row in rows)
    assert all(row["window_over_tau"] < 50 for row in rows)
    assert "window shorter than 50 tau" in rows[0]["reason"]
    assert stationarity_verdict(rows)["verdict"] == "inconclusive"


def test_a_change_of_the_increment_law_between_the_halves_is_detected():
    rng = np.random.default_rng(5)
    steps = np.concatenate([rng.standard_normal(20_000), 3.0 * rng.standard_normal(20_000)])
    q = lfilter([1.0], [1.0, -0.5], steps)[:, None]      # stationary AR(1) whose noise triples halfway
    (row,) = stationarity_rows(q)
    assert "halves" in row["failed"] and row["halves_ks_q"] < 1e-6


def test_constant_decay_only_nonfinite_and_tiny_columns_get_rows_not_exceptions():
    n = 5_000
    rng = np.random.default_rng(6)
    q = np.column_stack([np.full(n, 0.25), 0.4 * (1 - 1e-5) ** np.arange(n), ou(rng, n, 0.5)[:, 0],
                         np.r_[np.nan, np.ones(n - 1)]])
    rows = stationarity_rows(q, names=["dead", "decay", "ok", "nan"])
    by_name = {row["name"]: row for row in rows}
    assert by_name["dead"]["failed"] == ["constant"] and "never moves" in by_name["dead"]["reason"]
    assert np.isnan(by_name["dead"]["tau_w"])
    # a smooth exponential: its τ fills the window, it is never resolved as stationary
    assert not by_name["decay"]["stationary"] and "window" in by_name["decay"]["failed"]
    assert by_name["nan"]["failed"] == ["nonfinite"]
    assert by_name["ok"]["stationary"]
    tiny = stationarity_rows(np.arange(MIN_ROWS - 1, dtype=float)[:, None] ** 2)
    assert tiny[0]["failed"] == ["rows"]
    assert stationarity_verdict(tiny)["verdict"] == "inconclusive"
    assert stationarity_verdict([by_name["dead"]])["judged"] == 0
    with pytest.raises(DataError):
        stationarity_rows(np.zeros((3, 3, 3)))
    with pytest.raises(DataError):
        stationarity_rows(np.zeros((100, 2)), names=["one"])


def test_verdict_counts_and_dataset_for_netcdf(tmp_path):
    from statmech_nn.io import load_dataset, save_dataset

    rng = np.random.default_rng(7)
    n = 30_000
    q = np.column_stack([ou(rng, n, 0.7, k=3), ou(rng, n, 0.7)[:, 0] + np.linspace(0, 4, n), np.zeros(n)])
    rows = stationarity_rows(q)
    verdict = stationarity_verdict(rows)
    assert verdict["verdict"] == "not supported"
    assert (verdict["stationary"], verdict["total"], verdict["judged"], verdict["drifting"]) == (3, 5, 4, 1)
    assert verdict["question"] == "weights stationary in the tracked window" and "KS" in verdict["test"]
    assert "Holm" in verdict["test"] and f"{DRIFT_BOUND:g} sd" in verdict["test"]
    dataset = stationarity_dataset(rows)
    assert dataset["stationary"].dims == ("column",) and dataset.sizes["column"] == 5
    save_dataset(dataset, tmp_path / "observables.nc")
    back = load_dataset(tmp_path / "observables.nc")
    np.testing.assert_array_equal(back["stationary"].values, [True, True, True, False, False])
    assert back["failed"].values[-1] == "constant"


def test_vectorized_helpers_agree_with_their_column_by_column_definitions():
    rng = np.random.default_rng(8)
    q = np.column_stack([ou(rng, 3_000, rho)[:, 0] for rho in (0.0, 0.5, 0.9)])
    np.testing.assert_allclose(column_times(q), [integrated_time(q[:, [j]], quiet=True) for j in range(3)],
                               rtol=1e-12)
    first, second = q[:1500], q[1500:] + 0.1
    np.testing.assert_allclose(_two_sample_ks(first, second),
                               [stats.ks_2samp(first[:, j], second[:, j]).statistic for j in range(3)], rtol=1e-12)
    ties = np.round(q * 2) / 2
    np.testing.assert_allclose(_two_sample_ks(ties[:1500], ties[1500:]),
                               [stats.ks_2samp(ties[:1500, j], ties[1500:, j]).statistic for j in range(3)])
    # segment R̂ with 4 segments is split R̂ of the two halves taken as chains
    for j in range(3):
        halves = np.column_stack([q[:1500, j], q[1500:, j]])
        assert segment_rhat(q[:, [j]])[0] == pytest.approx(split_rhat(halves), rel=1e-12)
    slope = np.polyfit(np.arange(3_000), q, 1)[0]
    residual = q - np.polyval(np.polyfit(np.arange(3_000), q[:, 0], 1), np.arange(3_000))[:, None]
    expected = abs(slope[0]) * 2_999 / np.sqrt((residual[:, 0] ** 2).sum() / 2_998)
    assert drift_ratio(q)[0] == pytest.approx(expected, rel=1e-9)


def test_the_drift_ratio_of_a_stationary_series_follows_its_null():
    """r ≈ |N(0,1)| √(12 τ / n): over many independent white-noise series its mean is √(2/π) √(12/n)."""
    rng = np.random.default_rng(9)
    n = 2_000
    ratios = drift_ratio(rng.standard_normal((n, 400)))
    assert ratios.mean() == pytest.approx(np.sqrt(2 / np.pi) * np.sqrt(12 / n), rel=0.1)
    assert ratios.max() < DRIFT_LIMIT


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(1e-4, 1e4) | st.floats(-1e4, -1e-4), offset=st.floats(-100, 100), seed=st.integers(0, 2**16))
def test_flags_are_invariant_under_affine_rescaling_of_w(scale, offset, seed):
    rng = np.random.default_rng(seed)
    n = 4_000
    q = np.column_stack([ou(rng, n, 0.6)[:, 0], ou(rng, n, 0.6)[:, 0] + np.linspace(0, 2, n),
                         np.cumsum(rng.standard_normal(n))])
    base = stationarity_rows(q)
    moved = stationarity_rows(scale * (offset + q))
    assert [row["failed"] for row in moved] == [row["failed"] for row in base]
    for a, b in zip(base, moved):
        for key in ("drift_ratio", "tau_w", "tau_innovation", "split_rhat", "halves_ks_stat", "drift_p"):
            # the two values either side of the median are equidistant from it: rounding may swap their ranks
            assert b[key] == pytest.approx(a[key], rel=1e-3)


def test_holm_matches_its_step_down_definition():
    """Holm (1979): the i-th smallest p times (m − i + 1), made monotone, capped at 1."""
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    expected = {3: 0.025, 0: 0.04, 2: 0.09, 1: 0.09, 4: 0.5}
    np.testing.assert_allclose(holm(p), [expected[j] for j in range(5)])
    assert holm(np.array([0.9, 0.8]))[0] == 1.0


def test_the_verdict_refits_holm_over_the_columns_it_judges():
    """Leaving a column out (the network path drops decay-only weights) re-adjusts the family: a drift whose
    p passes Holm over 2 columns but not over 40 is evidence in the first family only."""
    rows = stationarity_rows(ou(np.random.default_rng(10), 20_000, 0.9, k=40))
    rows[-1] = {**rows[-1], "drift_p": 1e-3}            # 6 × 1e-3 < 0.01 < 120 × 1e-3
    assert stationarity_verdict(rows)["drifting"] == 0
    assert stationarity_verdict(rows[-2:])["drifting"] == 1
    assert stationarity_verdict(rows[-2:])["verdict"] == "not supported"
