"""The scan engine: grids over dotted keys, blocks, the resumable Zarr store, and the executors with real
worker processes (a Dask LocalCluster of 2 workers on loopback, and the local process pool): a driver killed
mid-scan resumes to the uninterrupted result with every cell computed once, a worker killed mid-task is retried,
a failing cell is recorded while the rest completes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scan_helpers import scan_status

from statmech_nn.errors import DataError, ParameterError
from statmech_nn.params import GridAxis
from statmech_nn.scan.engine import load_scan, run_scan
from statmech_nn.scan.executors import DaskExecutor, LocalPool
from statmech_nn.scan.scan_spec import ScanSpec
from statmech_nn.scan.scan_store import block_shape

import scan_tasks  # noqa: F401 - a user's task module is imported by the program before a spec names it (issue 20)

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
PYTHONPATH = os.pathsep.join([str(SRC), str(TESTS)])


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 single-threaded worker processes on 127.0.0.1 (workers import tests/scan_tasks.py)."""
    from distributed import LocalCluster

    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = PYTHONPATH
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as local:
            yield local
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def _spec(task="scan_tasks:square", cells=8, **base):
    return ScanSpec.from_dict({"scan": {"task": task}, "x": 0.0, **base}, [f"x=0:{cells - 1}:{cells}"])


def test_grid_axes_lists_and_dotted_keys():
    axis = GridAxis.parse("training.lr=1e-3,3e-3,1e-2")
    assert axis.name == "training.lr" and axis.scale == "log" and np.allclose(axis.values, [1e-3, 3e-3, 1e-2])
    assert GridAxis.parse("training.optimizer=sgd,adam").values.tolist() == ["sgd", "adam"]
    assert GridAxis.parse("model.alpha=0.1:1:4log").scale == "log"
    assert GridAxis.parse("b=1,2,3").scale == "linear"
    with pytest.raises(ParameterError):
        GridAxis.parse("b=1,1")
    spec = ScanSpec.from_dict({"scan": {"task": "network-soc"}, "training": {"lr": 1e-3, "batch_size": 1}},
                              ["training.lr=1e-3:1e-2:2log", "training.batch_size=1,4"])
    cell = spec.cell_spec((1, 1))
    assert cell["training"]["lr"] == pytest.approx(1e-2) and cell["training"]["batch_size"] == 4
    assert isinstance(cell["training"]["batch_size"], int) and spec.base["training"]["lr"] == 1e-3
    with pytest.raises(ParameterError):
        ScanSpec.from_dict({"scan": {"task": "t"}, "training": 1.0}, ["training.lr=1,2"])
    with pytest.raises(DataError):
        ScanSpec.from_dict({"grid": {"x": [1, 2]}})


def test_set_pins_an_axis_of_the_spec_grid_and_refuses_a_command_line_axis():
    tables = {"scan": {"task": "network-soc"},
              "grid": {"training.lr": [1e-3, 1e-2], "training.weight_decay": [0, 1e-4]},
              "training": {"lr": 1e-3, "weight_decay": 0.0}}
    spec = ScanSpec.from_dict(tables, ["training.batch_size=1,4"], {"training.weight_decay": 1e-4})
    assert [axis.name for axis in spec.axes] == ["training.lr", "training.batch_size"]
    assert spec.base["training"]["weight_decay"] == 1e-4 and spec.shape == (2, 2)
    with pytest.raises(ParameterError, match="--grid"):
        ScanSpec.from_dict(tables, ["training.batch_size=1,4"], {"training.batch_size": 2})


@pytest.mark.parametrize("shape, cells, expected", [((10, 20), 1, (1, 1)), ((10, 20), 45, (2, 20)),
                                                    ((10, 20), 15, (1, 15)), ((3, 4), 10**6, (3, 4))])
def test_blocks_take_whole_trailing_axes(shape, cells, expected):
    assert block_shape(shape, cells) == expected


def test_blocks_tile_the_grid_once(tmp_path):
    from statmech_nn.scan.scan_store import ScanStore

    spec = ScanSpec.from_dict({"scan": {"task": "quartic"}, "model": {}}, ["model.g=1:2:7", "model.alpha=1:2:5"])
    store = ScanStore.open(tmp_path / "s.zarr", spec, 8)
    indices = np.concatenate([b.indices for b in store.blocks()])
    assert np.array_equal(np.sort(indices), np.arange(35))


@pytest.mark.slow
def test_a_failing_cell_is_recorded_and_the_rest_completes(cluster, tmp_path):
    spec = _spec(bad=3.0)
    with DaskExecutor(address=cluster.scheduler_address) as executor:
        outcome = run_scan(spec, tmp_path / "s.zarr", executor, retries=1, progress=False)
    assert (outcome.done, outcome.failed) == (7, 1)
    scan = load_scan(tmp_path / "s.zarr")
    assert scan["status"].values.tolist() == [1, 1, 1, 2, 1, 1, 1, 1]
    assert "x = 3.0 is the bad cell" in str(scan["error"].values[3]) and scan["attempts"].values[3] == 2
    assert np.isnan(scan["y"].values[3]) and scan["y"].values[5] == 25.0
    assert scan["curve"].dims == ("x", "k") and scan["curve"].values[2].tolist() == [0.0, 2.0, 4.0]
    assert scan["label"].values[6] == "big"


@pytest.mark.slow
def test_a_worker_killed_mid_task_is_retried(cluster, tmp_path):
    spec = _spec("scan_tasks:die_once", cells=4, marker_dir=str(tmp_path))
    with DaskExecutor(address=cluster.scheduler_address) as executor:
        outcome = run_scan(spec, tmp_path / "s.zarr", executor, progress=False)
    assert (tmp_path / "attempt_1").exists(), "the first attempt did not run"
    assert (outcome.done, outcome.failed) == (4, 0)
    assert load_scan(tmp_path / "s.zarr")["y"].values.tolist() == [0.0, 2.0, 4.0, 6.0]


@pytest.mark.slow
def test_the_local_pool_retries_a_cell_whose_worker_died(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", PYTHONPATH)
    monkeypatch.syspath_prepend(str(TESTS))
    spec = _spec("scan_tasks:die_once", cells=3, marker_dir=str(tmp_path))
    outcome = run_scan(spec, tmp_path / "s.zarr", LocalPool(2), retries=2, progress=False)
    assert (outcome.done, outcome.failed) == (3, 0)
    assert load_scan(tmp_path / "s.zarr")["y"].values.tolist() == [0.0, 2.0, 4.0]


def test_a_cell_that_failed_and_then_succeeds_keeps_no_stale_error(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    spec = _spec("scan_tasks:fail_once", cells=1, marker_dir=str(tmp_path))
    first = run_scan(spec, tmp_path / "s.zarr", LocalPool(2), progress=False)
    assert (first.done, first.failed) == (0, 1)
    assert "first attempt at x = 0.0" in str(load_scan(tmp_path / "s.zarr")["error"].values[0])
    again = run_scan(spec, tmp_path / "s.zarr", LocalPool(2), progress=False)   # re-running resumes
    scan = load_scan(tmp_path / "s.zarr")
    assert (again.done, again.failed, again.computed) == (1, 0, 1)
    assert scan["error"].values.tolist() == [""] and scan["y"].values.tolist() == [0.0]


@pytest.mark.slow
def test_a_started_pool_serves_several_scans_and_stays_open(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", PYTHONPATH)
    with LocalPool(2) as pool:
        run_scan(_spec(cells=2), tmp_path / "a.zarr", pool, progress=False)
        workers = set(pool._pool._processes)
        run_scan(_spec(cells=4), tmp_path / "b.zarr", pool, progress=False)
        assert pool.started and set(pool._pool._processes) == workers   # the same worker processes
    assert not pool.started
    assert load_scan(tmp_path / "b.zarr")["y"].values.tolist() == [0.0, 1.0, 4.0, 9.0]


@pytest.mark.slow
def test_a_driver_killed_mid_scan_resumes_to_the_uninterrupted_result(cluster, tmp_path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text('x = 0.0\ndelay = 0.4\n[scan]\ntask = "scan_tasks:square"\n[grid]\nx = "0:11:12"\n')
    store = tmp_path / "killed.zarr"
    command = [sys.executable, "-m", "statmech_nn", "scan", str(spec_file), "--out", str(store),
               "--local-cluster", "2", "--no-figures", "--json", "--import", "scan_tasks"]
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while np.sum(scan_status(store) == 1) < 3:
            assert driver.poll() is None, "the driver finished before it could be killed"
            assert time.monotonic() < deadline, "no cell done within 120 s"
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)   # the driver only; its cluster goes with its session below
        driver.wait(30)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.stdout.close()
    before = scan_status(store)
    assert 3 <= np.sum(before == 1) < 12
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, start_new_session=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    result = json.loads(rerun.stdout)
    assert result["done"] == 12 and result["failed"] == 0
    assert result["computed"] == 12 - np.sum(before == 1), "a cell done before the kill was computed again"
    with DaskExecutor(address=cluster.scheduler_address) as executor:
        run_scan(ScanSpec.load(spec_file), tmp_path / "whole.zarr", executor, progress=False)
    resumed, whole = load_scan(store), load_scan(tmp_path / "whole.zarr")
    for name in ("y", "curve", "label"):
        assert np.array_equal(resumed[name].values, whole[name].values)
    assert resumed["attempts"].values.tolist() == [1] * 12


def test_a_store_of_another_scan_is_refused(tmp_path):
    spec = ScanSpec.from_dict({"scan": {"task": "quartic"}, "model": {"g": 1.0, "lambda_q": 1.0, "alpha": 0.5,
                                                                     "beta": 1.0, "mu": 0.0}},
                              ["model.lambda_x=-0.1:0.1:5"])
    first = run_scan(spec, tmp_path / "s.zarr", LocalPool(1), progress=False)
    again = run_scan(spec, tmp_path / "s.zarr", LocalPool(1), progress=False)
    assert (first.computed, again.computed, again.done) == (5, 0, 5)
    other = ScanSpec.from_dict({"scan": {"task": "quartic"}, "model": spec.base["model"]}, ["model.lambda_x=0:1:5"])
    with pytest.raises(DataError, match="another scan"):
        run_scan(other, tmp_path / "s.zarr", LocalPool(1), progress=False)


@pytest.mark.slow
def test_scan_command_on_a_spec_file(tmp_path, capsys):
    from statmech_nn.cli import main

    spec_file = tmp_path / "quartic.toml"
    spec_file.write_text('[scan]\ntask = "quartic"\nboundaries = [{variable = "normalizable", level = 0.5}]\n'
                         '[model]\ng = 1.0\nlambda_q = 1.0\nalpha = 0.5\nbeta = 1.0\nmu = 0.0\nlambda_x = 0.0\n'
                         '[grid]\n"model.lambda_x" = "-0.05:0.05:9"\n')
    out = tmp_path / "s.zarr"
    assert main(["scan", str(spec_file), "--grid", "model.alpha=0.1:1:4log", "--out", str(out), "--workers", "1",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {"out", "cells", "done", "failed", "seconds", "cells_per_s", "figures"} <= set(payload)
    assert (payload["cells"], payload["done"], payload["failed"]) == (36, 36, 0)
    assert all(Path(f).is_file() for f in payload["figures"]) and len(payload["figures"]) >= 10
    scan = load_scan(out)
    assert scan["q2_mean"].dims == ("lambda_x", "alpha") and scan["alpha"].attrs["scale"] == "log"
    assert scan["normalizable"].values[:4].sum() == 0 and scan["normalizable"].values[5:].min() == 1
    for bad in (["--grid", "model.alpha=1:2"], ["--workers", "0"], ["--scheduler", "nowhere"]):
        assert main(["scan", str(spec_file), "--out", str(tmp_path / "t.zarr"), *bad]) == 2
        assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("reference", ["os:system", "builtins:eval", "scan_tasks:unmarked", "subprocess:run",
                                       "no_such_module:f", "quartic_block"])
def test_a_spec_runs_scan_tasks_and_nothing_else(reference, monkeypatch):
    """A spec file can name a marked scan task only: nothing else is called."""
    from statmech_nn.scan.tasks import resolve

    monkeypatch.syspath_prepend(str(TESTS))
    with pytest.raises(ParameterError):
        resolve(reference)


def test_the_exponent_trend_figure_has_a_line_per_batch_size(tmp_path, monkeypatch):
    import xarray as xr

    from statmech_nn.report import scan_figures

    lr, batch = np.array([1e-3, 1e-2]), np.array([1, 4, 16])
    exponent = 1.0 + np.log10(lr)[:, None] * 0.1 + np.log2(batch)[None, :] * 0.02
    exponent[0, 2] = np.nan   # an unresolved cell
    dims = ("lr", "batch_size")
    scan = xr.Dataset({"median_exponent_2s": (dims, exponent), "exponent_2s_lo": (dims, exponent - 0.05),
                       "exponent_2s_hi": (dims, exponent + 0.05), "status": (dims, np.ones((2, 3), np.int8))},
                      coords={"lr": lr, "batch_size": batch})
    drawn = []
    monkeypatch.setattr(scan_figures, "save_figure", lambda fig, path: drawn.append(fig) or Path(path))
    scan_figures.exponent_trend_figure(scan, tmp_path / "trend.png")
    ax = drawn[0].axes[0]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["batch_size = 1", "batch_size = 16",
                                                                        "batch_size = 4"]
    assert ax.get_xlabel() == "lr / batch_size" and ax.get_xscale() == "log"
    x = [line.get_xdata() for line in ax.get_lines() if len(line.get_xdata()) == 2]
    assert any(np.allclose(sorted(v), [1e-3 / 4, 1e-2 / 4]) for v in x)
