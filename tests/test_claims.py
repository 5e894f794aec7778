"""`statmech-nn check`: every claim evaluates to its documented verdict; malformed claim files are clear errors."""

import json

import pytest

from statmech_nn.cli import main
from statmech_nn.compare.claims import FAILS, load_claims, run_claims
from statmech_nn.errors import DataError


@pytest.mark.slow
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
    assert "not a registered check" in capsys.readouterr().err
    assert main(["check", "--select", "no-such-claim"]) == 2


_CLAIM = '[[claims]]\nid = "evil"\nsource="x"\nequation="y"\nstatement="z"\ncheck="{check}"\ntolerance=1\n'


@pytest.mark.parametrize("check", [
    "os:system",                                     # a shell command
    "builtins:eval",
    "claims_outside_the_package:run",                # a module outside the package, importable from sys.path
    "statmech_nn.io:write_json",                     # a function of the package that is not a registered check
    "statmech_nn.quartic.quartic_claims:QuarticModel",       # a name in a claims module that is not a registered check
    "statmech_nn.quartic.quartic_claims",                    # no function at all
])
def test_only_registered_checks_run(tmp_path, monkeypatch, capsys, check):
    """A claims file names a check; anything but a check registered in the package is refused, nothing runs."""
    import os

    calls = []
    monkeypatch.setattr(os, "system", lambda *a, **k: calls.append(a) or 0)
    outside = tmp_path / "outside"
    outside.mkdir()
    marker = tmp_path / "imported"
    (outside / "claims_outside_the_package.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        f"def run():\n    open({str(marker)!r}, 'a').write('ran')\n    return 0.0\n")
    monkeypatch.syspath_prepend(str(outside))
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "c.toml").write_text(_CLAIM.format(check=check) + '[claims.params]\ncommand = "touch pwned"\n')
    assert main(["check", "--claims-dir", str(claims)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evil" in err[0] and check in err[0] and "registered" in err[0]
    assert not calls and not marker.exists()


def test_registered_checks_name_every_claim():
    """Every check named by the shipped claims is registered, and carries the marker."""
    from statmech_nn.compare.claims import resolve_check

    for claim in load_claims():
        assert getattr(resolve_check(claim), "registered_check", False) is True


@pytest.mark.parametrize("extra, message", [
    ('check="statmech_nn.quartic.quartic_claims:eq4_up_to_constant"\ntolerance=1\ntolerence=2\n', "unknown key"),
    ('check="statmech_nn.quartic.quartic_claims:eq4_up_to_constant"\ntolerance="small"\n', "tolerance"),
    ('check="statmech_nn.quartic.quartic_claims:eq4_up_to_constant"\ntolerance=1\nparams=5\n', "params a table"),
    ('check=5\ntolerance=1\n', "check must be"),
    ('check="statmech_nn.quartic.quartic_claims:eq4_up_to_constant"\ntolerance=1\n[claims.params]\nbogus=1\n',
     "params do not fit"),
])
def test_malformed_claims_are_one_line_errors(tmp_path, capsys, extra, message):
    (tmp_path / "c.toml").write_text('[[claims]]\nid = "a"\nsource="x"\nequation="y"\nstatement="z"\n' + extra)
    assert main(["check", "--claims-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_claims_must_be_tables_and_utf8(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("claims = 5\n")
    assert main(["check", "--claims-dir", str(tmp_path)]) == 2
    assert "array of tables" in capsys.readouterr().err
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe[[claims]]\n")
    assert main(["check", "--claims-dir", str(tmp_path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
