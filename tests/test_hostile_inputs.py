"""Issue 12, hostile input: each defect found by the hostile run, as a test that failed before its fix.

Silently wrong numbers are refused (a stated validity domain, checked up front, naming the parameter) or computed;
damaged files and out-of-range options end in exit status 2 and one line; sizes beyond the budget
(:func:`statmech_nn.params.require_budget`) are refused before any allocation unless ``--yes-large`` confirms them.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest

import mp_reference as ref
from statmech_nn.errors import BudgetError, DataError, ParameterError
from statmech_nn.params import LARGE_FLAG, memory_budget, require_budget, require_number
from statmech_nn.quartic import QuarticModel
from test_cli_fuzz import QUARTIC, run_cli


def refused(argv, match: str) -> None:
    status, err, left = run_cli(argv)
    assert status == 2, (argv, status, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0], (argv, err)
    assert left == []


# --- silently wrong numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta", ["nan", "inf", "-1", "1e308"])
def test_scan_validates_its_fixed_parameters(beta):
    refused(["scan", "quartic", "--grid", "alpha=1:2:3", "--lambda-x", "0.1", "--g", "1", "--lambda-q", "1",
             f"--beta={beta}", "--out", "s.nc", "--no-figures"], "beta")


def test_scan_defaults_mu_to_zero(tmp_path):
    status, err, _ = run_cli(["scan", "quartic", "--grid", "alpha=1:2:2", "--lambda-x", "0.1", "--g", "1",
                              "--lambda-q", "1", "--beta", "1", "--out", str(tmp_path / "s.nc"), "--no-figures"])
    assert status == 0, err
    assert (tmp_path / "s.nc").is_file()


def test_cw_phase_diagram_refuses_nan_coupling():
    refused(["cw", "phase-diagram", "--j=nan", "--out", "o"], "--j")


def test_cw_result_is_refused_or_finite_never_null():
    refused(["cw", "--n", "100", "--beta", "1e308", "--json"], "beta")
    status, err, _ = run_cli(["cw", "--n", "100", "--beta", "1e90", "--json"])
    assert status == 0, err


@pytest.mark.parametrize("name, value", [("beta", 1e308), ("g", 1e308), ("alpha", 1e-306)])
def test_quartic_pdf_outside_its_validity_domain_is_refused(name, value):
    parameters = dict(lambda_x=0.1, g=1.0, lambda_q=1.0, alpha=2.5, beta=1.0) | {name: value}
    with pytest.raises(ParameterError, match=name):
        QuarticModel(**parameters).marginal()
    refused(["quartic", "pdf", *QUARTIC, f"--{name.replace('_', '-')}={value}", "--q", "0"], name)


@pytest.mark.parametrize("name, value", [("beta", 1e300), ("g", 1e30), ("alpha", 1e-30)])
def test_quartic_pdf_at_the_edge_of_its_domain_matches_40_digit_quadrature(name, value):
    """Inside the domain the answer holds to 1e-8 against mpmath at 40 digits."""
    parameters = dict(lambda_x=0.1, g=1.0, lambda_q=1.0, alpha=2.5, beta=1.0) | {name: value}
    model = QuarticModel(**parameters)
    scales = [np.sqrt(0.1 / model.g), 1 / np.sqrt(model.alpha), 1.0, 0.1]
    q = np.array([0.0, 0.3 * scales[0], scales[0], 0.3 * scales[1], scales[1]])
    with mp.workdps(40), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ref.Marginal(model, scales)
        expected = np.array([float(reference.pdf(v)) for v in q])
    assert np.max(np.abs(model.marginal().pdf(q) / expected - 1.0)) < 1e-8


def test_toml_booleans_are_not_numbers(tmp_path):
    spec = tmp_path / "m.toml"
    spec.write_text("[parameters]\nlambda_x = true\ng = 1\nlambda_q = 1\nalpha = 1\nbeta = 1\n")
    refused(["quartic", "pdf", "--model", str(spec), "--q", "0"], "lambda_x")
    with pytest.raises(ParameterError):
        require_number("x", True)


LINEARIZED = ("[model]\nneurons = {n}\nalpha = 1\nbeta = 1\n{extra}\n[base]\nseed = 1\nscale = 1\n"
              "[trainable]\nentries = [[0, 1]]\n[activation]\nslopes = 1\n[potentials]\nv_x = 1\nv_q = 1\n")


def test_linearized_spec_refuses_unknown_keys_and_booleans(tmp_path):
    from statmech_nn.linearized import load_model
    spec = tmp_path / "lin.toml"
    spec.write_text(LINEARIZED.format(n=4, extra="bogus = 1"))
    with pytest.raises(DataError, match="model.bogus"):
        load_model(spec)
    spec.write_text(LINEARIZED.format(n=4, extra="").replace("v_x = 1", "v_x = true"))
    with pytest.raises(ParameterError, match="potentials.v_x"):
        load_model(spec)


def test_hs_layer_refuses_complex_weights(tmp_path):
    np.save(tmp_path / "c.npy", np.array([[0, 1j], [1, 0]]))
    refused(["hs", "layer", "--weights", str(tmp_path / "c.npy")], "real numbers")


SPEC_TABLES = {"analysis": "[analysis]\nmodee = 1\n", "acceptance": "[acceptance]\nmin_test_acuracy = 0.5\n",
               "acceptance value": "[acceptance]\nmax_sampler_z = -1\n", "training": "[training]\nlr = 'x'\n",
               "experiment": "experiment = 3\n", "analysis value": "[analysis]\nlag = 0\n"}


@pytest.mark.parametrize("case", list(SPEC_TABLES))
def test_validate_checks_every_table_at_load(case, tmp_path):
    from statmech_nn.experiments.spec import ExperimentSpec
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_TABLES[case])
    refused(["validate", str(spec), "--out", str(tmp_path / "out")], "")
    assert not (tmp_path / "out").exists()
    if case != "experiment":
        with pytest.raises((DataError, ParameterError)):
            ExperimentSpec.load(spec)


# --- one line, exit 2 ---------------------------------------------------------------------------------------------
def test_damaged_inputs(tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((0, 0)))
    refused(["hs", "--weights", str(tmp_path / "empty.npy"), "--beta", "1.5"], "empty")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe[parameters]\n")
    refused(["quartic", "pdf", "--model", str(tmp_path / "bad.toml"), "--q", "0"], "not valid TOML")
    (tmp_path / "number.toml").write_text("parameters = 5\n")
    refused(["quartic", "pdf", "--model", str(tmp_path / "number.toml"), "--q", "0"], "must be a table")
    for name, content in (("list", "[1, 2]"), ("noparams", '{"command": []}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(content)
        refused(["probe", str(tmp_path / name), "--dataset", "digits", "--out", str(tmp_path / "p")], "run.json")
    fifo = tmp_path / "fifo"
    import os
    os.mkfifo(fifo)
    refused(["hs", "--weights", str(fifo), "--beta", "1"], "not a regular file")


@pytest.mark.parametrize("argv", [
    ["sample", "quartic", *QUARTIC, "--method", "mh", "--seed=-1"],
    ["cw", "--method", "mc", "--n", "10", "--beta", "1", "--seed=-1"],
    ["hs", "--seed=-1", "--weights", "w.npy", "--beta", "1"],
    ["probe", "run", "--out", "o", "--seed=-1"],
    ["train", "--out", "o", "--seed=-1"],
    ["fit-powerlaw", "--seed=-1", "v.txt"],
])
def test_negative_seed_is_refused(argv):
    refused(argv, "--seed")


@pytest.mark.parametrize("axis", ["epsilon=0:0.1:2", "dt=0:0.1:2"])
def test_bias_grid_with_zero_step_is_refused(axis):
    other = "dt=0.1:0.2:2" if axis.startswith("epsilon") else "epsilon=0.1:0.2:2"
    refused(["sample", "quartic-bias", *QUARTIC, "--grid", axis, "--grid", other], "> 0")


def test_extreme_grids_and_fields_are_refused():
    refused(["cw", "phase-diagram", "--t", "1e300:1e308:2", "--out", "o"], "t=")
    refused(["hs", "--weights", "w.npy", "--beta", "1", "--h", "1e308"], "")


def test_empty_out_is_refused():
    refused(["cw", "phase-diagram", "--out="], "--out")


# --- sizes and run times ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, match", [
    (["scan", "quartic", "--grid", "alpha=1:2:99999999999999999999", "--lambda-x", "0.1", "--g", "1",
      "--lambda-q", "1", "--beta", "1", "--out", "s.nc"], "GiB"),
    (["sample", "quartic", *QUARTIC, "--method", "mh", "--chains", str(10**12)], "GiB"),
    (["sample", "quartic", *QUARTIC, "--method", "mh", "--steps", str(10**12)], "hours"),
    (["cw", "--n", str(10**12), "--beta", "1"], "GiB"),
    (["cw", "--method", "mc", "--n", "100", "--beta", "1", "--sweeps", str(10**12)], "hours"),
    (["train", "--steps", str(10**12), "--out", "o"], "hours"),
    (["train", "--epochs", str(10**9), "--out", "o"], "hours"),
    (["hs", "--weights", "w.npy", "--beta", "1", "--random-starts", str(10**20)], LARGE_FLAG),
])
def test_sizes_beyond_the_budget_are_refused_before_any_work(argv, match, tmp_path, monkeypatch):
    np.save(tmp_path / "w.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    argv = [str(tmp_path / a) if a == "w.npy" else a for a in argv]
    refused(argv, match)


def test_linearized_model_beyond_the_memory_budget_is_refused(tmp_path):
    spec = tmp_path / "big.toml"
    spec.write_text(LINEARIZED.format(n=10**5, extra=""))
    refused(["sample", "linearized", "--model", str(spec)], LARGE_FLAG)


def test_fit_powerlaw_gof_beyond_the_time_budget(tmp_path):
    (tmp_path / "v.txt").write_text(" ".join(str(v) for v in range(1, 1001)))
    refused(["fit-powerlaw", str(tmp_path / "v.txt"), "--gof", str(10**9)], "--gof")


def test_budget_rule():
    require_budget("small", memory=1.0, seconds=1.0)
    with pytest.raises(BudgetError, match=LARGE_FLAG):
        require_budget("big", memory=2 * memory_budget())
    with pytest.raises(BudgetError, match="hours"):
        require_budget("long", seconds=25 * 3600)
    require_budget("big", memory=2 * memory_budget(), seconds=1e9, confirmed=True)


# --- low ----------------------------------------------------------------------------------------------------------
def test_gof_prints_at_most_one_summary_warning(monkeypatch):
    """Every bootstrap refit warns here (as the xmin scan's budget warning did, 2,954 lines in 20 s): one line."""
    from statmech_nn.observables import powerlaw
    data = np.random.default_rng(1).pareto(1.5, 300) + 1.0
    fit = powerlaw.fit_powerlaw(data)
    original = powerlaw.fit_powerlaw

    def warning_fit(*args, **kwargs):
        warnings.warn("a refit warning", powerlaw.XminScanWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(powerlaw, "fit_powerlaw", warning_fit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit.gof_pvalue(30, seed=0)
    assert len(caught) == 1 and "30 warnings in 30 bootstrap refits" in str(caught[0].message)


def test_an_error_closes_the_progress_bar_first(capsys):
    from tqdm import tqdm
    from statmech_nn.cli._common import fail
    bar = tqdm(total=10, file=__import__("sys").stderr)
    bar.update(3)
    assert fail("bad input") == 2
    err = capsys.readouterr().err
    assert err.endswith("\nstatmech-nn: error: bad input\n")
    assert bar.disable or bar.n == 3 and not list(getattr(tqdm, "_instances", ()))


def test_non_utf8_run_json_is_one_line(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_bytes(b'{"parameters": "\xff"}')
    refused(["probe", str(tmp_path / "run"), "--dataset", "digits", "--out", str(tmp_path / "p")], "not valid JSON")
