"""statmech-nn calibrate, in process: JSON rows, exit 1 when a row is outside its design, no progress bar off a
terminal, hostile flags → exit 2 with one line."""

import json

import pytest

from statmech_nn.cli import main
from statmech_nn.compare import calibration


def test_json_rows_and_exit_zero_within_design(capsys):
    status = main(["calibrate", "--scenario", "op-tracks-risk", "--replicates", "6", "--json"])
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert status == 0 and payload["all_within_design"] and captured.err == ""   # no bar: stderr is no terminal
    (row,) = payload["rows"]
    assert row["verdict"] == "P5" and row["replicates"] == 6 and sum(row["counts"].values()) == 6
    low, high = row["intervals"]["supported"]
    assert low <= row["rates"]["supported"] <= high


def test_a_row_outside_its_design_exits_one(capsys, monkeypatch):
    monkeypatch.setattr(calibration, "MIN_POWER", 1.01)   # no powered row can meet this
    status = main(["calibrate", "--scenario", "op-equals-risk", "--replicates", "3"])
    assert status == 1 and "OUTSIDE DESIGN" in capsys.readouterr().out


def test_list_names_the_plasticity_scenarios(capsys):
    assert main(["calibrate", "--list", "--verdict", "P4", "--json"]) == 0
    names = {s["scenario"] for s in json.loads(capsys.readouterr().out)["scenarios"]}
    assert {"hessian-sparse-densifying", "hessian-dense"} <= names


@pytest.mark.parametrize("flags", [
    ["--replicates", "0"], ["--replicates", "-3"], ["--replicates", "abc"], ["--replicates", "1000000000"],
    ["--verdict", "ZZ"], ["--scenario", "nope"], ["--size", "huge"], ["--workers", "0"], ["--workers", "100000"],
    ["--seed", "-1"], ["--seed", "1e400"], ["--bogus"],
])
def test_hostile_flags_exit_two_with_one_line(capsys, flags):
    status = main(["calibrate", *flags])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
