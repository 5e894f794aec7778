"""``statmech-nn hessian RUN_DIR``: JSON keys, files written, one-line errors with exit status 2."""

import json

import pytest

from statmech_nn.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KEYS = {"P", "lanczos_steps", "probes", "negative_mass", "asymmetry", "skewness", "lambda_min", "lambda_max", "trace",
        "frac_t_below_0_15", "coupling_alpha", "wasserstein_to_exact", "order_parameter", "loss"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("hessian") / "run"
    assert main(["train", "--arch", "bfmlp:64-6-4-1", "--dataset", "digits-binary", "--n-train", "120", "--epochs", "2",
                 "--batch-size", "20", "--lr", "0.1", "--weight-decay", "0", "--track", "4", "--keep-checkpoints", "3",
                 "--torch-threads", "1", "--out", str(out), "--no-progress", "--json"]) == 0
    return out


def test_json_keys_files_and_consistency(run_dir, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "h"
    assert main(["hessian", str(run_dir), "--density", "--exact", "--entries", "200", "--bootstrap", "50",
                 "--steps", "40", "--probes", "4", "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert KEYS <= set(payload)
    assert payload["P"] == 64 * 6 + 6 * 4 + 4 and payload["lanczos_steps"] == 40 and payload["probes"] == 4
    assert payload["exact_trace"] == pytest.approx(0.0, abs=1e-12)       # bias-free ReLU + hinge: tr H = 0
    assert 0 <= payload["wasserstein_to_exact"] < 0.05 * (payload["exact_lambda_max"] - payload["exact_lambda_min"])
    assert 0 <= payload["frac_t_below_0_15"] <= 1
    assert (out / "hessian.nc").is_file() and (out / "hessian.json").is_file()
    assert {p.split("/")[-1] for p in payload["figures"]} == {"spectrum.png", "entries.png", "distributions.png"}


def test_checkpoint_zero_is_the_initialization(run_dir, tmp_path, capsys):
    capsys.readouterr()
    assert main(["hessian", str(run_dir), "--checkpoint", "0", "--steps", "10", "--probes", "2",
                 "--out", str(tmp_path / "h0"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["wasserstein_to_exact"] is None and payload["frac_t_below_0_15"] is None
    assert payload["loss"] == pytest.approx(1.0, abs=0.1)    # hinge loss near 1 at a small random init


@pytest.mark.parametrize("extra, fragment", [
    (["--checkpoint", "7"], "no checkpoint of step 7"),
    (["--steps", "0"], "steps"),
    (["--entries", "-3"], "entries"),
    (["--probes", "x"], "--probes"),
])
def test_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, capsys, extra, fragment):
    capsys.readouterr()
    assert main(["hessian", str(run_dir), *extra, "--out", str(tmp_path / "bad"), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_missing_run_dir_and_existing_output_exit_2(run_dir, tmp_path, capsys):
    assert main(["hessian", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]) == 2
    out = tmp_path / "twice"
    assert main(["hessian", str(run_dir), "--steps", "5", "--probes", "2", "--out", str(out)]) == 0
    assert main(["hessian", str(run_dir), "--steps", "5", "--probes", "2", "--out", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err
