"""The quartic model's command line: JSON contracts, files written, and one-line errors with exit status 2."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.io import load_dataset
from statmech_nn.quartic import QuarticModel

MODEL = ["--lambda-x", "-0.05", "--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--beta", "1", "--mu", "0.01"]


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_pdf_json(capsys):
    status, out, _ = run(capsys, "quartic", "pdf", *MODEL, "--q", "-1", "0", "0.25", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"q", "pdf"}
    expected = QuarticModel(-0.05, 1, 1, 0.5, 1, mu=0.01).marginal().pdf(np.array([-1, 0, 0.25]))
    assert np.allclose(payload["pdf"], expected, rtol=1e-14)


def test_boundaries_json(capsys):
    status, out, _ = run(capsys, "quartic", "boundaries", *MODEL, "--json")
    payload = json.loads(out)
    assert status == 0
    assert {"u_frustration", "u_gauss", "u_slope", "powerlaw_exponent"} <= set(payload)
    assert payload["u_frustration"] == pytest.approx(0.05) and payload["powerlaw_exponent"] == -0.5
    regimes = QuarticModel(-0.05, 1, 1, 0.5, 1, mu=0.01).regimes().to_dict()
    assert {key: payload[key] for key in regimes} == pytest.approx(regimes, rel=1e-14)
    status, out, _ = run(capsys, "quartic", "boundaries", "--lambda-x", "0.05", *MODEL[2:], "--json")
    assert json.loads(out)["u_frustration"] is None


def test_model_spec_file_and_override(capsys, tmp_path):
    spec = tmp_path / "m.toml"
    spec.write_text("[parameters]\nlambda_x = 0.1\ng = 1.0\nlambda_q = 1.0\nalpha = 0.5\nbeta = 1.0\n")
    status, out, _ = run(capsys, "quartic", "pdf", "--model", str(spec), "--beta", "2", "--q", "0", "--json")
    assert status == 0
    assert json.loads(out)["pdf"][0] == pytest.approx(QuarticModel(0.1, 1, 1, 0.5, 2).marginal().pdf(0.0), rel=1e-14)


def test_curves_write_netcdf_and_figures(capsys, tmp_path):
    status, out, _ = run(capsys, "quartic", "curves", *MODEL, "--out", str(tmp_path / "c"), "--json")
    files = json.loads(out)["files"]
    assert status == 0 and {p.rsplit("/", 1)[1] for p in files} == {"curves.nc", "marginal.png", "conditional.png",
                                                                    "free_energy.png"}
    assert all((tmp_path / "c" / name).stat().st_size > 1000 for name in ("marginal.png", "curves.nc"))
    curves = load_dataset(tmp_path / "c" / "curves.nc")
    model = QuarticModel(-0.05, 1, 1, 0.5, 1, mu=0.01)
    np.testing.assert_allclose(curves["pdf_q"], model.marginal().pdf(curves["q"].values), rtol=1e-13)
    np.testing.assert_allclose(curves["free_energy_exact"], model.free_energy(curves["q"].values), rtol=1e-13)
    slices = curves["pdf_x_given_q"]
    np.testing.assert_allclose(slices[-1], model.conditional(float(curves["q_slice"][-1])).pdf(curves["x"].values),
                               rtol=1e-13)


@pytest.mark.slow
def test_derive_prints_the_lambert_w_crossover(capsys):
    status, out, _ = run(capsys, "derive", "quartic")
    assert status == 0 and "LambertW(beta*lambda_q*exp(beta*lambda_q*lambda_x/g)/g)" in out


@pytest.mark.parametrize("argv, fragment", [
    (["quartic", "pdf", "--lambda-x", "1", "--g", "0", "--lambda-q", "1", "--alpha", "1", "--beta", "1", "--q", "0"],
     "g=0.0"),
    (["quartic", "pdf", "--lambda-x", "-1", "--g", "1", "--lambda-q", "1", "--alpha", "1", "--beta", "1", "--q", "0"],
     "mu > 0"),
    (["quartic", "pdf", "--lambda-x", "1", "--q", "0"], "missing --g"),
    (["quartic", "pdf", "--lambda-x", "abc", "--q", "0"], "must be a finite number"),
    (["quartic", "boundaries", "--model", "/nonexistent.toml"], "no model spec"),
    (["quartic"], "required"),
    (["derive", "cw"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and err.count("\n") == 1 and fragment in err and "Traceback" not in err
