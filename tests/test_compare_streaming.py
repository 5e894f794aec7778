"""The streaming analysis of a trajectory file (compare/streaming.py) against the in-memory one (issue 23, item 4).

Planted trajectories are written to trajectory.h5 and analysed both ways: read whole into a Trajectory (in memory)
and from the path in blocks of a few hundred rows (streaming). Tolerances: the densities' counts and bins, every
verdict, status and text are equal; every number is equal to a relative 1e-9 (the fits see the same samples and
agree to the bit; sums over blocks — delta_rms, the Welch P(f) and its exponents, the lag-1 autocorrelation — differ
from one-pass sums in the last bits, 1e-15 to 1e-13 measured). Beyond ``fit_rows`` / ``stationarity_rows`` the
streaming fits and stationarity tests are those of the stated subsample (every m-th sample / row), checked exactly.
"""

import warnings

import numpy as np
import pytest

from statmech_nn.compare.analysis import AnalysisOptions, analyze_trajectory
from statmech_nn.compare.columns import fit_table
from statmech_nn.compare.planted.decay_truths import decay_mixture
from statmech_nn.compare.planted.dynamics_truths import heavy_ball
from statmech_nn.errors import DataError
from statmech_nn.io import Dynamics, Trajectory, TrajectoryReader
from statmech_nn.observables.stationarity import stationarity_rows

RELATIVE = 1e-9
FAST = {"figures": False, "peak_bootstrap": 0}


def _both(trajectory: Trajectory, path, **options):
    trajectory.save(path)
    chosen = AnalysisOptions(**{**FAST, "block_rows": 300, **options})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze_trajectory(Trajectory.load(path), chosen), analyze_trajectory(path, chosen)


def _same_number(a, b) -> bool:
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        a, b = float(a), float(b)
        return (np.isnan(a) and np.isnan(b)) or a == b or abs(a - b) <= RELATIVE * max(abs(a), abs(b))
    return a == b


def _assert_same(memory, stream):
    for v, w in zip(memory.verdicts(), stream.verdicts(), strict=True):
        assert (v.id, v.verdict, v.test) == (w.id, w.verdict, w.test)
        assert v.numbers.keys() == w.numbers.keys()
        for key in v.numbers:
            assert _same_number(v.numbers[key], w.numbers[key]), (v.id, key, v.numbers[key], w.numbers[key])
    assert memory.decay.source == stream.decay.source
    np.testing.assert_allclose(memory.decay.kappa, stream.decay.kappa, rtol=RELATIVE)
    for row_m, row_s in zip(memory.rows, stream.rows, strict=True):
        assert row_m.keys() == row_s.keys()
        for key in row_m:
            if key.endswith("reason"):    # texts print numbers to 3-4 digits
                continue
            assert _same_number(row_m[key], row_s[key]), (row_m["name"], key, row_m[key], row_s[key])
    for name in ("count_abs", "count_sq", "abs_delta_lo", "abs_delta_hi", "delta_sq_lo", "n_samples", "n_zero"):
        np.testing.assert_array_equal(memory.densities[name].values, stream.densities[name].values)
    for name in ("density_abs", "density_sq", "delta_rms"):
        np.testing.assert_allclose(memory.densities[name].values, stream.densities[name].values, rtol=RELATIVE)
    scale = float(np.max(memory.densities["delta_rms"].values))   # a mean near 0 is compared on the scale of the rms
    np.testing.assert_allclose(memory.densities["delta_mean"].values, stream.densities["delta_mean"].values,
                               rtol=RELATIVE, atol=RELATIVE * scale)
    np.testing.assert_array_equal(memory.spectra["frequency"].values, stream.spectra["frequency"].values)
    np.testing.assert_allclose(memory.spectra["psd"].values, stream.spectra["psd"].values, rtol=RELATIVE, atol=0)


@pytest.mark.parametrize("recorded", [True, False], ids=["kappa-recorded", "kappa-from-mode"])
def test_decay_mixture_agrees(tmp_path, recorded):
    memory, stream = _both(decay_mixture(np.random.default_rng(1), 2500, 4, recorded), tmp_path / "trajectory.h5")
    assert stream.decay.source == ("recorded dynamics" if recorded else "mode of -delta/w")
    _assert_same(memory, stream)


def test_heavy_ball_filter_state_carries_across_blocks(tmp_path):
    memory, stream = _both(heavy_ball(np.random.default_rng(2), 2500, 3, True), tmp_path / "trajectory.h5")
    assert stream.steps.filtered
    _assert_same(memory, stream)


def _walk_trajectory(rng, n: int, k: int, dtype, dynamics=None) -> Trajectory:
    """Random-walk weights with a decay-only column (w ← (1 - κ) w), a constant one and a diverging one."""
    q = np.cumsum(rng.standard_t(3, (n, k)) * 1e-3, axis=0) + rng.normal(0, 1, k)
    q[:, 1] = 0.7 * (1.0 - 1e-4) ** np.arange(n)
    q[:, 2] = 0.25
    q[n // 2:, 3] = np.nan
    return Trajectory(q=q.astype(dtype), t=np.arange(n) * 5, names=[f"w{j}" for j in range(k)], chain=None,
                      source="test", dynamics=dynamics or Dynamics())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decay_only_constant_and_diverged_columns_agree(tmp_path, dtype):
    memory, stream = _both(_walk_trajectory(np.random.default_rng(3), 2000, 6, dtype), tmp_path / "trajectory.h5")
    assert [row["status"] for row in stream.rows][1:4] == ["decay-only", "unresolved", "unresolved"]
    assert stream.decay.source == "decay-only columns"
    _assert_same(memory, stream)


@pytest.mark.parametrize("mode", ["running_mean", "mean"])
def test_other_fluctuation_modes_agree(tmp_path, mode):
    trajectory = _walk_trajectory(np.random.default_rng(4), 2000, 5, np.float64)
    memory, stream = _both(trajectory, tmp_path / "trajectory.h5", mode=mode, window=37)
    _assert_same(memory, stream)


def test_beyond_the_caps_fits_and_stationarity_see_the_stated_subsample(tmp_path):
    """n above fit_rows and stationarity_rows: the rows are the in-memory fits of every m_f-th increment and the
    stationarity rows of every m_s-th row, exactly; the densities and spectra still use every row."""
    trajectory = _walk_trajectory(np.random.default_rng(5), 4001, 4, np.float64)
    path = tmp_path / "trajectory.h5"
    trajectory.save(path)
    options = AnalysisOptions(**FAST, block_rows=256, fit_rows=1000, stationarity_rows=1500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream = analyze_trajectory(path, options)
        whole = analyze_trajectory(trajectory, AnalysisOptions(**FAST))
    increments = np.diff(trajectory.q, axis=0)
    finite = np.all(np.isfinite(trajectory.q), axis=0)
    expected, _ = fit_table(increments[::4], trajectory.names, decay=stream.decay.decay,
                            decay_only=np.array([False, True, False, False]))
    station = stationarity_rows(trajectory.q[::3], trajectory.names)
    assert stream.decay.decay.shape == (1000, 4)
    for row, fit, still in zip(stream.rows, expected, station):
        for key, value in fit.items():
            assert _same_number(value, row[key]), (key, value, row[key])
        assert row["stationarity_tau_w"] == still["tau_w"] or not np.isfinite(still["tau_w"])
        assert row["stationarity_stationary"] == still["stationary"]
    assert stream.trajectory.q.shape == (1334, 4)
    np.testing.assert_array_equal(whole.densities["count_abs"].values[finite],
                                  stream.densities["count_abs"].values[finite])
    np.testing.assert_allclose(whole.spectra["psd"].values, stream.spectra["psd"].values, rtol=RELATIVE)


def test_reader_blocks_and_bad_files(tmp_path):
    trajectory = _walk_trajectory(np.random.default_rng(6), 1000, 4, np.float32)
    path = tmp_path / "trajectory.h5"
    trajectory.save(path)
    with TrajectoryReader(tmp_path) as reader:
        assert (reader.n_rows, reader.n_columns, reader.dtype) == (1000, 4, np.float32)
        blocks = list(reader.blocks(300))
        assert [start for start, _, _ in blocks] == [0, 300, 600, 900]
        np.testing.assert_array_equal(np.concatenate([q for _, _, q in blocks]), trajectory.q)
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataError):
        TrajectoryReader(tmp_path / "bad.h5")
    with pytest.raises(DataError):
        analyze_trajectory(tmp_path / "missing.h5", AnalysisOptions(**FAST))
    with pytest.raises(DataError, match="segment"):
        analyze_trajectory(path, AnalysisOptions(**FAST, segment=4096))


def test_the_cli_reads_in_blocks_and_refuses_a_bad_block_size(tmp_path, capsys):
    from statmech_nn.cli import main
    from statmech_nn.io import read_json

    (tmp_path / "run").mkdir()
    _walk_trajectory(np.random.default_rng(7), 1500, 4, np.float32).save(tmp_path / "run" / "trajectory.h5")
    assert main(["analyze", str(tmp_path / "run"), "--out", str(tmp_path / "bad"), "--block-rows", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "block_rows" in err
    assert main(["analyze", str(tmp_path / "run"), "--out", str(tmp_path / "out"), "--no-figures", "--block-rows",
                 "100", "--fit-rows", "1000", "--stationarity-rows", "1000", "--json"]) == 0
    summary = read_json(tmp_path / "out" / "summary.json")
    assert summary["n_samples"] == 1499 and {v["id"] for v in summary["verdicts"]} >= {"Q1", "S", "D"}
    assert read_json(tmp_path / "out" / "analysis.json")["options"]["fit_rows"] == 1000
