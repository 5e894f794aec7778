"""``statmech-nn sample``: JSON output, run directories, loud warnings for short chains, errors as exit 2."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.io import Trajectory, load_dataset, read_json
from statmech_nn.sampling.sampler_runs import quartic_run
from statmech_nn.scan.langevin_bias import langevin_bias
from statmech_nn.quartic import QuarticModel

QUARTIC = ["sample", "quartic", "--lambda-x", "-0.3", "--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--beta", "1",
           "--mu", "0.5"]
MODEL = QuarticModel(lambda_x=-0.3, g=1, lambda_q=1, alpha=0.5, beta=1, mu=0.5)
KEYS = {"q2_mean", "q2_sem", "ks_vs_exact", "tau_q", "ess_q", "rhat_q", "chain_steps_per_s"}


def run_json(capsys, argv):
    status = main(argv)
    captured = capsys.readouterr()
    return status, json.loads(captured.out), captured.err


def test_quartic_exact_json_and_a_rerunnable_run_directory(capsys, tmp_path):
    argv = QUARTIC + ["--method", "exact", "--chains", "8", "--steps", "200", "--seed", "3", "--out", str(tmp_path),
                      "--json"]
    status, payload, err = run_json(capsys, argv)
    assert status == 0 and err == ""
    assert KEYS <= payload.keys() and all(isinstance(payload[k], float) for k in KEYS)
    assert payload["reliable"] is True and abs(payload["q2_z"]) < 4
    trajectory = Trajectory.load(tmp_path)
    assert trajectory.q.shape == (200, 8) and trajectory.metadata["method"] == "exact"
    assert read_json(tmp_path / "summary.json")["q2_mean"] == payload["q2_mean"]
    info = read_json(tmp_path / "run.json")
    assert info["seed"] == 3 and info["parameters"]["model"]["mu"] == 0.5
    # run.json holds the command: running it again (replacing the run, as asked) gives the same samples
    command = info["command"]
    assert command[:3] == ["statmech-nn", "sample", "quartic"]
    assert main(command[1:]) == 2 and "already holds a run" in capsys.readouterr().err
    status, again, _ = run_json(capsys, command[1:] + ["--overwrite", "--json"])
    assert again["q2_mean"] == payload["q2_mean"]


@pytest.mark.slow
def test_langevin_and_mh_from_the_command_line(capsys):
    for method in ("langevin", "mh"):
        status, payload, _ = run_json(capsys, QUARTIC + ["--method", method, "--epsilon", "0.1", "--dt", "0.01",
                                                         "--chains", "4", "--steps", "2000", "--json"])
        assert status == 0 and payload["method"] == method and payload["chain_steps_per_s"] > 0
        # the numbers are the library's: the same run gives the same bits; the reference is the exact marginal
        library = quartic_run(MODEL, method, epsilon=0.1, dt=0.01, chains=4, steps=2000, seed=0)
        for key in ("q2_mean", "q2_sem", "ks_vs_exact", "tau_q", "rhat_q"):
            assert payload[key] == library[key], key
        assert payload["q2_exact"] == pytest.approx(MODEL.marginal().var(), rel=1e-12)


def test_too_short_chains_warn_loudly_but_do_not_fail(capsys):
    argv = QUARTIC + ["--method", "langevin", "--epsilon", "0.01", "--chains", "4", "--steps", "400", "--json"]
    status, payload, err = run_json(capsys, argv)
    assert status == 0 and payload["reliable"] is False
    assert err.count("\n") == 1 and err.startswith("statmech-nn: warning:") and "too short" in err
    assert any("too short" in w for w in payload["warnings"])
    assert main(argv + ["--strict"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not reliable" in err


@pytest.mark.parametrize("argv, match", [
    (QUARTIC[:-2] + ["--mu", "0", "--method", "langevin"], "mu > 0"),        # λx < 0 needs μ > 0
    (QUARTIC + ["--method", "langevin", "--beta", "-1"], "beta"),
    (QUARTIC + ["--method", "gibbs"], "invalid choice"),
    (QUARTIC, "--method"),
    (QUARTIC + ["--method", "mh", "--chains", "0"], "chains"),
    (QUARTIC + ["--method", "langevin", "--dt", "3", "--chains", "2", "--steps", "3000"], "reduce the step size"),
    (["sample", "linearized", "--model", "models/none.toml"], "no model spec"),
    (QUARTIC + ["--method", "langevin", "--grid", "epsilon=0.1:1:2"], "unrecognized arguments"),
])
def test_bad_input_is_one_line_and_exit_status_2(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("statmech-nn: error:")
    assert any(m in err for m in match.split("|"))


def test_linearized_writes_samples_summary_and_the_expansion(capsys, tmp_path):
    argv = ["sample", "linearized", "--model", "models/linearized_small.toml", "--chains", "4", "--steps", "600",
            "--seed", "1", "--out", str(tmp_path), "--json"]
    status, payload, _ = run_json(capsys, argv)
    assert status == 0 and KEYS <= payload.keys() and len(payload["q2_mean_per_component"]) == 2
    assert payload["expansion"]["exponent_per_mode"] == -1.0
    trajectory = Trajectory.load(tmp_path)
    assert trajectory.q.shape[1] == 8 and trajectory.x.shape[1] == 4
    expansion = load_dataset(tmp_path / "expansion.nc")
    assert {"logp_eq19", "logp_eq21", "failure_radius_eq21"} <= set(expansion.variables)


@pytest.mark.slow
def test_a_biased_linearized_run_is_not_reliable_and_the_default_langevin_step_is(capsys):
    # unadjusted Langevin at dt = 0.2 (the old default) is ~8 % biased against the quadrature reference
    argv = ["sample", "linearized", "--model", "models/linearized_small.toml", "--method", "langevin", "--dt", "0.2",
            "--chains", "64", "--steps", "20000", "--seed", "0", "--json"]
    status, payload, err = run_json(capsys, argv)
    assert status == 0 and payload["converged"] and not payload["unbiased"] and not payload["reliable"]
    assert payload["q2_z"] > payload["q2_z_critical"] and payload["ks_vs_exact"] > payload["ks_critical"]
    assert sum(w.startswith("bias:") for w in payload["warnings"]) == 2
    assert err.startswith("statmech-nn: warning:") and "bias" in err and err.count("\n") == 1
    assert main(argv + ["--strict"]) == 2 and "bias" in capsys.readouterr().err
    # the per-method default (dt = 0.02, 200000 steps) passes, on fewer chains to keep the test short
    status, payload, err = run_json(capsys, ["sample", "linearized", "--model", "models/linearized_small.toml",
                                             "--method", "langevin", "--chains", "24", "--seed", "1", "--json"])
    assert status == 0 and payload["dt"] == 0.02 and payload["steps"] == 200_000
    assert payload["reliable"] and payload["unbiased"], payload["warnings"]


@pytest.mark.slow
def test_quartic_bias_grid_writes_netcdf_and_figure(capsys, tmp_path):
    argv = QUARTIC[2:]
    status, payload, _ = run_json(capsys, ["sample", "quartic-bias", *argv, "--grid", "epsilon=0.5:1:2",
                                           "--grid", "dt=0.02:0.02:1", "--chains", "8", "--slow-time", "5",
                                           "--out", str(tmp_path), "--json"])
    assert status == 0 and np.shape(payload["ks"]) == (2, 1)
    grid = load_dataset(tmp_path / "bias.nc")
    assert grid["ks"].dims == ("epsilon", "dt") and (tmp_path / "bias.png").stat().st_size > 1000
    library = langevin_bias(MODEL, [0.5, 1.0], [0.02], chains=8, seed=0, slow_time=5.0)
    np.testing.assert_array_equal(payload["ks"], library["ks"].values)
    np.testing.assert_array_equal(grid["q2_mean"], library["q2_mean"])
    assert payload["q2_exact"] == pytest.approx(MODEL.marginal().var(), rel=1e-12)
    assert main(["sample", "quartic-bias", *argv, "--grid", "epsilon=0.5:1:2"]) == 2
    assert "dt" in capsys.readouterr().err
