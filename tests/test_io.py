"""The Trajectory contract (HDF5), NetCDF results and run directories (DESIGN: contracts)."""

import h5py
import numpy as np
import pytest
import xarray as xr

from statmech_nn.errors import DataError
from statmech_nn.io import Dynamics, RunHeader, Trajectory, TrajectoryWriter, load_dataset, save_dataset
from statmech_nn.runs.directory import RunDirectory


def test_trajectory_round_trip_keeps_every_field(tmp_path):
    rng = np.random.default_rng(0)
    original = Trajectory(q=rng.normal(size=(50, 3)), t=np.arange(50) * 2, names=["a", "b", "a"], chain=[0, 0, 1],
                          source="test", parameters={"beta": 1.5, "nested": {"k": [1, 2]}}, seed=7,
                          dynamics=Dynamics("langevin", dt=0.1, epsilon=0.02), x=rng.normal(size=(20, 4)),
                          metadata={"flag": True, "note": "n"})
    original.save(tmp_path / "trajectory.h5")
    loaded = Trajectory.load(tmp_path)
    np.testing.assert_array_equal(loaded.q, original.q)
    np.testing.assert_array_equal(loaded.t, original.t)
    np.testing.assert_array_equal(loaded.x, original.x)
    np.testing.assert_array_equal(loaded.chain, [0, 0, 1])
    assert loaded.names == ["a", "b", "a"]
    assert loaded.parameters == {"beta": 1.5, "nested": {"k": [1, 2]}}
    assert (loaded.seed, loaded.step_size, loaded.source) == (7, 0.1, "test")
    assert loaded.header == original.header and loaded.dynamics.epsilon == 0.02
    assert loaded.metadata == {"flag": True, "note": "n"}


def test_writer_appends_in_chunks_and_resumes_from_a_checkpoint(tmp_path):
    path = tmp_path / "trajectory.h5"
    with TrajectoryWriter.create(path, ["w0", "w1"], header=RunHeader("test")) as writer:
        writer.append([0, 1], [[0.0, 1.0], [2.0, 3.0]])
        writer.append([2], [[4.0, 5.0]])
    with h5py.File(path) as f:  # each chunk is flushed: readable by another handle
        assert f["q"].shape == (3, 2)
    with TrajectoryWriter.open_existing(path, keep_rows=2) as writer:
        writer.append([2, 3], [[6.0, 7.0], [8.0, 9.0]])
    loaded = Trajectory.load(path)
    np.testing.assert_array_equal(loaded.t, [0, 1, 2, 3])
    np.testing.assert_array_equal(loaded.q[:, 0], [0.0, 2.0, 6.0, 8.0])


def test_resume_truncates_x_samples_too(tmp_path):
    path = tmp_path / "trajectory.h5"
    with TrajectoryWriter.create(path, ["q"], header=RunHeader("test"), x_dim=2) as writer:
        writer.append([0, 1, 2], [[0.0], [1.0], [2.0]])
        writer.append_x(np.arange(12.0).reshape(6, 2))
    with TrajectoryWriter.open_existing(path, keep_rows=2, keep_x_rows=4) as writer:
        writer.append_x([[-1.0, -1.0]])
    loaded = Trajectory.load(path)
    assert loaded.q.shape == (2, 1) and loaded.x.shape == (5, 2) and loaded.x[-1, 0] == -1.0
    with pytest.raises(DataError, match="rows of x"):
        TrajectoryWriter.open_existing(path, keep_rows=1, keep_x_rows=99)


def test_bad_trajectories_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no trajectory file"):
        Trajectory.load(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataError, match="not a valid trajectory"):
        Trajectory.load(tmp_path / "junk.h5")
    with pytest.raises(DataError, match="names"):
        Trajectory(q=np.zeros((3, 2)), t=np.arange(3), names=["a"], chain=None, source="x")
    with pytest.raises(DataError, match="cannot resume"):
        TrajectoryWriter.open_existing(tmp_path / "absent.h5", keep_rows=1)


def test_netcdf_round_trip_encodes_attributes(tmp_path):
    dataset = xr.Dataset({"p": ("q", np.linspace(0, 1, 5), {"units": "1", "fit": {"alpha": 1.5}})},
                         coords={"q": np.arange(5.0)}, attrs={"ok": True, "params": [1, 2]})
    loaded = load_dataset(save_dataset(dataset, tmp_path / "out.nc"))
    np.testing.assert_array_equal(loaded["p"].values, dataset["p"].values)
    assert loaded.attrs == {"ok": True, "params": [1, 2]}
    assert loaded["p"].attrs["fit"] == {"alpha": 1.5}


def test_run_directory_records_how_to_rerun(tmp_path):
    run = RunDirectory(tmp_path / "run").create()
    run.write_run_info(command=["statmech-nn", "x"], parameters={"a": 1}, seed=3)
    info = run.read_run_info()
    assert info["command"] == ["statmech-nn", "x"] and info["seed"] == 3 and "package_version" in info
    assert run.figures.is_dir()
