"""Replicas as scan cells (issue 23, item 2): a ``replica`` axis of a network scan trains each replica (or block of
replicas) as a cell on the scan engine, keeps its run in ``STORE/cells/i``, and :func:`scan_ensemble` reads the
replicas of a grid point back as one trajectory, bit for bit the one of ``train --replicas R`` with the same seed
and initialization (the replicas do not depend on how they are scheduled); a bad replica axis is refused before
any cell runs (exit 2, one line)."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.errors import DataError, ParameterError
from statmech_nn.io import Trajectory
from statmech_nn.networks import TrainConfig, train
from statmech_nn.scan.cell_runs import cell_directory, train_cell
from statmech_nn.scan.engine import load_scan, run_scan
from statmech_nn.scan.ensemble import scan_ensemble, write_ensemble
from statmech_nn.scan.executors import DaskExecutor, LocalPool
from statmech_nn.scan.scan_spec import ScanSpec
from statmech_nn.scan.tasks import check_spec, resolve

TRAINING = dict(arch="mlp:64-8-10", dataset="digits", lr=0.01, track=16, warmup_epochs=1, steps=300,
                backend="fast", device="cpu", seed=3, torch_threads=1)
ANALYSIS = {"gof_bootstrap": 0}


def _spec(grid: dict, **training) -> ScanSpec:
    return ScanSpec.from_dict({"scan": {"task": "network-soc"}, "grid": grid, "training": {**TRAINING, **training},
                               "analysis": ANALYSIS})


def _joint(out, **training) -> Trajectory:
    train(TrainConfig(**{**TRAINING, **training, "out": str(out)}), progress=False)
    return Trajectory.load(out / "trajectory.h5")


def _assert_same_ensemble(ensemble: Trajectory, joint: Trajectory) -> None:
    np.testing.assert_array_equal(ensemble.q, joint.q)
    np.testing.assert_array_equal(ensemble.t, joint.t)
    np.testing.assert_array_equal(ensemble.chain, joint.chain)
    assert ensemble.names == joint.names and ensemble.q.dtype == joint.q.dtype
    for key in ("replicas", "replica_init"):
        assert ensemble.metadata[key] == joint.metadata[key]


@pytest.mark.slow
def test_replica_cells_on_a_dask_cluster_are_the_replicas_of_one_run_bitwise(tmp_path, capsys):
    store = tmp_path / "scan.zarr"
    spec = _spec({"training.lr": [0.01], "replica": [0, 1]}, replica_init="shared", warmup_epochs=0)
    with DaskExecutor(local_cluster=2) as executor:
        outcome = run_scan(spec, store, executor, progress=False)
    assert (outcome.done, outcome.failed) == (2, 0)
    assert (cell_directory(store, 1) / "trajectory.h5").is_file()     # the cells' runs are kept in the store
    ensemble = scan_ensemble(store, lr=0.01)
    _assert_same_ensemble(ensemble, _joint(tmp_path / "joint", replicas=2, replica_init="shared",
                                                  warmup_epochs=0))
    assert ensemble.metadata["replica_cells"] == ["cells/0", "cells/1"]
    np.testing.assert_array_equal(ensemble.q[0, :16], ensemble.q[0, 16:])   # shared initial weights (row 0: step 0)

    written = Trajectory.load(write_ensemble(store, tmp_path / "ensemble.h5", block_rows=7, lr=0.01))  # in blocks
    _assert_same_ensemble(written, ensemble)
    assert written.parameters["replicas"] == 2 and written.metadata["replica_cells"] == ["cells/0", "cells/1"]

    again = run_scan(spec, store, LocalPool(1), progress=False)            # a re-run reuses the finished cells
    assert (again.computed, again.done) == (0, 2)

    with pytest.raises(DataError, match="not a value of the scan's grid"):
        scan_ensemble(store, lr=0.02)
    with pytest.raises(DataError, match="not axes of the scan"):
        scan_ensemble(store, lr=0.01, batch_size=4)

    assert main(["analyze", str(store), "--point", "lr=0.01", "--out", str(tmp_path / "analysis"), "--no-figures",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["verdicts"] and (tmp_path / "analysis" / "trajectory.h5").is_file()
    assert main(["analyze", str(store), "--point", "lr=1", "--out", str(tmp_path / "bad"), "--no-figures"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.slow
def test_blocks_of_replicas_on_a_process_pool_are_the_replicas_of_one_run_bitwise(tmp_path):
    store = tmp_path / "scan.zarr"
    spec = _spec({"replica": [0, 2]}, replicas=2, steps=100)                # 2 cells of 2 replicas: replicas 0-3
    outcome = run_scan(spec, store, LocalPool(2), progress=False)
    assert (outcome.done, outcome.failed) == (2, 0), load_scan(store)["error"].values
    _assert_same_ensemble(scan_ensemble(store), _joint(tmp_path / "joint", replicas=4, steps=100))


@pytest.mark.slow
def test_one_replica_cell_in_the_driver_is_that_replica_of_one_run_bitwise(tmp_path):
    spec = _spec({"replica": [1]}, steps=100)                              # one task: run serially, in the driver
    outcome = run_scan(spec, tmp_path / "scan.zarr", LocalPool(), progress=False)
    assert (outcome.done, outcome.failed) == (1, 0)
    ensemble, joint = scan_ensemble(tmp_path / "scan.zarr"), _joint(tmp_path / "joint", replicas=2, steps=100)
    np.testing.assert_array_equal(ensemble.q, joint.q[:, joint.chain == 1])
    np.testing.assert_array_equal(ensemble.chain, joint.chain[joint.chain == 1])
    assert ensemble.metadata["replicas"] == 1 and ensemble.parameters["replica_offset"] == 1


@pytest.mark.slow
def test_a_pending_cell_resumes_its_kept_run_without_training_again(tmp_path):
    config = TrainConfig(**{**TRAINING, "replica_offset": 1, "out": str(tmp_path / "cell")})
    first = train_cell(config)
    rows = Trajectory.load(tmp_path / "cell" / "trajectory.h5")
    again = train_cell(config)                  # the driver died after the run completed: nothing is trained again
    assert again.steps == first.steps and again.trajectory_rows == first.trajectory_rows
    np.testing.assert_array_equal(Trajectory.load(tmp_path / "cell" / "trajectory.h5").q, rows.q)


@pytest.mark.parametrize("grid, training, message", [
    ({"replica": [0, 0.5]}, {}, "integers >= 0"),
    ({"replica": [-1, 0]}, {}, "integers >= 0"),
    ({"replica": [0, 1]}, {"replicas": 2}, "at least training.replicas = 2 apart"),
    ({"replica": [0, 1]}, {"replica_offset": 1}, "not set with a 'replica' axis"),
    ({"replica": [0, 2], "training.replicas": [1, 2]}, {}, "not an axis"),
    ({"replica": [0, 2]}, {"replicas": 0}, "a positive integer"),
])
def test_a_bad_replica_axis_is_refused_before_any_cell_runs(grid, training, message):
    spec = _spec(grid, **training)
    with pytest.raises(ParameterError, match=message):
        check_spec(spec, resolve(spec.task))


def test_the_command_line_refuses_a_bad_replica_axis_with_one_line(tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text('[scan]\ntask = "network-soc"\n[grid]\nreplica = [0, 0.5]\n[training]\narch = "mlp:64-8-10"\n'
                    'dataset = "digits"\n')
    assert main(["scan", str(path), "--out", str(tmp_path / "scan.zarr"), "--no-figures"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "replica" in err
    assert not (tmp_path / "scan.zarr" / "cells").exists()
