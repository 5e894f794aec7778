"""The one run-directory helper: the re-run command, run.json, resume checks, results at their places."""

import argparse

import numpy as np
import pytest
import xarray as xr

from statmech_nn.errors import DataError
from statmech_nn.io import read_json
from statmech_nn.runs.directory import command_line, figure_path, open_run, save_results


def test_the_command_reads_back_to_the_same_options():
    options = {"lambda_x": -0.3, "b": "-0.5:0.5:81", "grid": ["epsilon=0.1:1:2", "dt=0.01:0.02:2"], "strict": True,
               "resume": False, "thin": None, "random_starts": 2}
    argv = command_line(["sample", "quartic"], options)
    assert argv[:3] == ["statmech-nn", "sample", "quartic"]
    assert "--lambda-x=-0.3" in argv and "--random-starts" in argv and "--resume" not in argv and "--thin" not in argv
    parser = argparse.ArgumentParser()
    for name in ("--lambda-x", "--b", "--random-starts"):
        parser.add_argument(name)
    parser.add_argument("--grid", action="append")
    parser.add_argument("--strict", action="store_true")
    parsed = parser.parse_args(argv[3:])
    assert parsed.lambda_x == "-0.3" and parsed.b == "-0.5:0.5:81" and parsed.random_starts == "2"
    assert parsed.grid == options["grid"] and parsed.strict is True


def test_run_json_resume_check_and_results(tmp_path):
    parameters = {"model": {"g": np.float64(1.0), "mu": float("nan")}, "chains": 4, "grid": ("a", "b")}
    directory = open_run(tmp_path / "run", command=["statmech-nn", "x"], parameters=parameters, seed=3)
    info = read_json(directory.run_file)
    assert info["command"] == ["statmech-nn", "x"] and info["seed"] == 3
    assert info["parameters"] == {"model": {"g": 1.0, "mu": None}, "chains": 4, "grid": ["a", "b"]}
    assert open_run(tmp_path / "run", command=[], parameters=parameters, resume=True).path == directory.path
    with pytest.raises(DataError, match="chains differ"):
        open_run(tmp_path / "run", command=[], parameters={**parameters, "chains": 5}, resume=True)
    dataset = xr.Dataset({"m": ("T", np.arange(3.0))})

    def plot(data, path):
        path.write_bytes(b"png")
        return path

    written = save_results(directory, dataset=dataset, figures={figure_path("curves"): plot}, summary={"ok": True})
    assert written["figures"] == [str(directory.path / "figures" / "curves.png")]
    assert xr.load_dataset(written["netcdf"])["m"].values.tolist() == [0.0, 1.0, 2.0]
    assert read_json(written["summary"]) == {"ok": True}
