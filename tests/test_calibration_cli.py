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


def test_the_shipped_table_and_the_reports_trust_column():
    from statmech_nn.compare.calibration import trust_text
    from statmech_nn.compare.planted import verdict_ids
    from statmech_nn.package_data import calibration_table
    from statmech_nn.report.trust import trust_table

    shipped = calibration_table()
    assert shipped is not None and {r["verdict"] for r in shipped["rows"]} <= set(verdict_ids())
    rows = calibration.calibrate(names=["op-tracks-risk", "op-no-trend"], replicates=4, seed=3)
    table = {"rows": [r.to_dict() for r in rows]}
    text = trust_text("P5", table)
    assert text.startswith("2 planted scenarios, 4 sets each") and "op-tracks-risk" in text
    assert trust_text("Q9", table).startswith("not calibrated")
    rendered = trust_table(["P5", "P5"], table)
    assert len(rendered.rows) == 2 and rendered.rows[0][0] == "P5"
    assert rendered.rows[0][4].startswith(f"{rows[0].wrong_rate:.2f} [")
