"""`statmech-nn check`: every claim evaluates to its documented verdict; malformed claim files are clear errors."""

import json

import pytest

from statmech_nn.cli import main
from statmech_nn.compare.claims import FAILS, load_claims, run_claims
from statmech_nn.errors import DataError


def test_every_claim_has_its_expected_verdict():
    outcomes = run_claims()
    assert outcomes, "no claims found"
    for outcome in outcomes:
        assert outcome.as_expected, (outcome.claim.id, outcome.status, outcome.deviation, outcome.detail)
    assert any(o.status == FAILS for o in outcomes)  # the printed general crossover of eq. (7) is refuted


def test_check_command_json(capsys):
    assert main(["check", "--select", "quartic-eq4", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["all_as_expected"] and payload["claims"][0]["status"] == "holds under assumption"


@pytest.mark.parametrize("content, message", [
    ('[[claims]]\nid = "a"\n', "lacks"),
    ('[[claims]]\nid = "a"\nsource="x"\nequation="y"\nstatement="z"\ncheck="m:f"\ntolerance=1\n' * 2, "used twice"),
    ("[[claims]\n", "not valid TOML"),
])
def test_malformed_claim_files(tmp_path, content, message):
    (tmp_path / "c.toml").write_text(content)
    with pytest.raises(DataError, match=message):
        load_claims(tmp_path)


def test_unknown_check_and_selection(tmp_path, capsys):
    (tmp_path / "c.toml").write_text('[[claims]]\nid = "a"\nsource="x"\nequation="y"\nstatement="z"\n'
                                     'check="statmech_nn.nothing:here"\ntolerance=1\n')
    assert main(["check", "--claims-dir", str(tmp_path)]) == 2
    assert "cannot be loaded" in capsys.readouterr().err
    assert main(["check", "--select", "no-such-claim"]) == 2
