"""Training runs: run directory contents, warm-up then tracking, equilibrium criterion, kill-and-resume
equality (SIGKILL in a subprocess during the weight criterion's warm-up, then --resume: the trajectory equals an
uninterrupted run's, bitwise; the plain kills of both backends are in tests/test_run_safety.py)."""

import json

import h5py
import numpy as np
import pytest

from kill_helpers import sigkill_after_first_checkpoint
from statmech_nn.cli import main
from statmech_nn.errors import ParameterError
from statmech_nn.io import Trajectory
from statmech_nn.runs.directory import RunDirectory
from statmech_nn.networks.torch_checkpoint import list_checkpoints
from statmech_nn.networks.config import TrainConfig
from statmech_nn.networks import equilibrium
from statmech_nn.networks.equilibrium import EquilibriumCriterion, WeightCriterion
from statmech_nn.networks.training import train

TINY = ["--arch", "mlp:64-16-10", "--dataset", "digits", "--lr", "0.01", "--track", "12", "--no-progress",
        "--torch-threads", "1"]



pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.slow
def test_train_writes_a_complete_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    status, stdout, _ = run_cli(capsys, "train", *TINY, "--warmup-epochs", "1", "--epochs", "1", "--backend", "fast",
                                "--track-biases", "--out", str(out), "--json")
    assert status == 0
    summary = json.loads(stdout)
    assert list(summary)[:7] == ["steps", "seconds", "steps_per_s", "final_train_loss", "final_test_loss",
                                 "final_test_accuracy", "out"]
    assert summary["steps"] == 2 * 1437 and summary["final_test_accuracy"] > 0.5
    assert summary["replicas"] == 1 and summary["network_steps_per_s"] == summary["steps_per_s"]
    info = RunDirectory(out).read_run_info()
    assert info["parameters"]["backend"] == "fast" and info["command"][:2] == ["statmech-nn", "train"]
    assert TrainConfig.from_dict(info["parameters"]) == TrainConfig.from_run_dir(out)
    trajectory = Trajectory.load(out)
    assert trajectory.q.shape == (1437 + 1, 12)
    np.testing.assert_array_equal(trajectory.t, np.arange(1437, 2 * 1437 + 1))  # first row: start of tracking
    assert any(".bias[" in name for name in trajectory.names) and trajectory.names[0].startswith("fc1.weight[")
    for key in ("architecture", "dataset", "backend", "device"):
        assert key in trajectory.metadata
    dynamics = trajectory.dynamics   # the run header: what the analysis reads
    assert (dynamics.kind, dynamics.lr, dynamics.weight_decay, dynamics.batch_size, dynamics.momentum) == (
        "sgd", info["parameters"]["lr"], info["parameters"]["weight_decay"], info["parameters"]["batch_size"], 0.0)
    assert trajectory.seed == 0 and trajectory.metadata["tracking_start_step"] == 1437
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["columns"]["phase"] == ["warmup", "tracking"] and metrics["tracking"]["start_step"] == 1437
    assert len(list_checkpoints(out / "checkpoints")) == 2
    # the command recorded in run.json re-runs the same thing
    rerun = tmp_path / "rerun"
    command = info["command"]
    command[command.index("--out") + 1] = str(rerun)
    assert main(command[1:]) == 0
    np.testing.assert_array_equal(Trajectory.load(rerun).q, trajectory.q)


@pytest.mark.parametrize("batch, resolved", [(1, "fast"), (4, "torch")])
def test_backend_auto_is_fast_where_the_fast_path_applies(tmp_path, capsys, batch, resolved):
    runs = {}
    for backend in ("auto", resolved):
        out = tmp_path / backend
        assert run_cli(capsys, "train", *TINY, "--n-train", "200", "--n-test", "100", "--epochs", "1",
                       "--batch-size", str(batch), "--backend", backend, "--device", "cpu", "--out", str(out))[0] == 0
        runs[backend] = Trajectory.load(out)
    assert runs["auto"].metadata["backend"] == resolved and RunDirectory(tmp_path / "auto").read_run_info()[
        "parameters"]["backend"] == "auto"
    np.testing.assert_array_equal(runs["auto"].q, runs[resolved].q)


def test_steps_limit_adam_batches_and_other_architectures(tmp_path, capsys):
    small = ["--n-train", "200", "--n-test", "100"]
    status, stdout, _ = run_cli(capsys, "train", *TINY, *small, "--steps", "50", "--optimizer", "adam", "--lr", "1e-3",
                                "--batch-size", "7", "--out", str(tmp_path / "adam"), "--json")
    assert status == 0 and json.loads(stdout)["steps"] == 50
    assert Trajectory.load(tmp_path / "adam").q.shape == (51, 12)
    status, stdout, _ = run_cli(capsys, "train", *small, "--arch", "vgg:depth=4,width=2", "--dataset", "digits-binary",
                                "--steps", "20", "--batch-size", "16", "--track", "5", "--no-progress",
                                "--out", str(tmp_path / "vgg"), "--json")
    assert status == 0 and 0 <= json.loads(stdout)["final_test_accuracy"] <= 1
    status, stdout, _ = run_cli(capsys, "train", *small, "--arch", "autoencoder:8", "--dataset", "digits",
                                "--steps", "20", "--batch-size", "32", "--track", "5", "--no-progress",
                                "--out", str(tmp_path / "ae"), "--json")
    assert status == 0 and json.loads(stdout)["final_test_accuracy"] is None  # no accuracy for an autoencoder


def test_equilibrium_criterion():
    criterion = EquilibriumCriterion(window=3, rtol=0.05)
    flat = [1.0, 0.99, 1.01, 1.0, 0.98, 1.0]
    assert criterion.holds(np.array(flat) - 0.1, flat)
    assert not criterion.holds(np.array(flat[:5]) - 0.1, flat[:5])  # fewer than 2 windows
    falling = [2.0, 1.8, 1.6, 1.4, 1.2, 1.0]
    assert not criterion.holds(np.array(falling) - 0.1, falling)
    overfitting = [0.2, 0.2, 0.2, 0.1, 0.1, 0.1]  # train loss falls while the test loss stays
    assert not criterion.holds(overfitting, flat)
    with pytest.raises(ParameterError, match="eq_window"):
        EquilibriumCriterion(window=0)


@pytest.mark.slow
def test_until_equilibrium_then_track(tmp_path):
    config = TrainConfig(arch="mlp:64-16-10", dataset="digits", lr=0.02, until_equilibrium=True, eq_window=2,
                         eq_rtol=0.5, max_warmup_epochs=8, epochs=1, track=4, backend="fast",
                         out=str(tmp_path / "eq"))
    result = train(config, progress=False)
    assert result.equilibrium_reached and result.equilibrium_epoch == 4  # the first epoch with 2 full windows
    assert result.tracking_start_step == 4 * 1437 and result.trajectory_rows == 1437 + 1
    with pytest.warns(UserWarning, match="equilibrium not reached"):
        strict = train(TrainConfig(**{**config.to_dict(), "eq_rtol": 1e-9, "max_warmup_epochs": 4,
                                      "out": str(tmp_path / "strict")}), progress=False)
    assert not strict.equilibrium_reached and strict.tracking_start_step == 4 * 1437


def test_weight_criterion_probes_and_its_decision():
    criterion = WeightCriterion(window=2, steps_per_epoch=1437)
    steps = criterion.probe_steps
    assert steps.size == 32 and steps[-1] == 1437 and np.all(np.diff(steps) > 0)
    assert criterion.next_probe(0) == steps[0] and criterion.next_probe(int(steps[3])) == steps[4]
    assert list(WeightCriterion(window=1, steps_per_epoch=5).probe_steps) == [1, 2, 3, 4, 5]
    on_graphs = WeightCriterion(window=2, steps_per_epoch=1437, align=64).probe_steps   # whole CUDA graphs
    assert np.all(on_graphs[:-1] % 64 == 0) and on_graphs[-1] == 1437 and on_graphs.size == 23
    assert list(WeightCriterion(window=1, steps_per_epoch=40, align=64).probe_steps) == [40]
    assert list(WeightCriterion.probe_columns(4)) == [0, 1, 2, 3] and WeightCriterion.probe_columns(200).size == 32
    rng = np.random.default_rng(0)
    stationary = rng.standard_normal((criterion.rows, 20))
    assert criterion.stationary_fraction(stationary[:-1]) is None          # window not yet full
    assert criterion.holds(stationary) and criterion.stationary_fraction(stationary) >= 0.9
    drifting = stationary + np.linspace(0, 5, criterion.rows)[:, None]
    assert not criterion.holds(drifting) and criterion.stationary_fraction(drifting) == 0.0
    # weights that never move do not count; weights that only decay count as drifting
    frozen = np.column_stack([stationary, np.ones((criterion.rows, 5))])
    assert criterion.stationary_fraction(frozen) == criterion.stationary_fraction(stationary)
    decaying = np.column_stack([stationary[:, :2], 0.3 * 0.999 ** np.arange(criterion.rows)])
    assert criterion.stationary_fraction(decaying) == pytest.approx(2 / 3)


@pytest.mark.slow
def test_training_records_which_equilibrium_criterion_fired(tmp_path, monkeypatch):
    base = dict(arch="mlp:64-16-10", dataset="digits", lr=0.02, until_equilibrium=True, eq_window=2, eq_rtol=0.5,
                max_warmup_epochs=4, epochs=1, track=8, backend="fast")
    # on digits the test loss is flat by epoch 4 while the weights still drift: the weight criterion stays off
    with pytest.warns(UserWarning, match="equilibrium not reached"):
        drifting = train(TrainConfig(**base, equilibrium_criterion="weights", out=str(tmp_path / "w")), progress=False)
    assert drifting.warmup_ended_by == "max_warmup_epochs" and drifting.equilibrium_criterion == "weights"
    record = json.loads((tmp_path / "w" / "metrics.json").read_text())
    assert record["equilibrium"]["uses"] == "weights" and record["equilibrium"]["first_weight_epoch"] is None
    assert record["equilibrium"]["first_loss_epoch"] == 4.0
    assert "probed weights" in record["equilibrium"]["criterion"]
    fractions = record["columns"]["weights_without_drift"]
    assert fractions[0] is None and all(0.0 <= f < equilibrium.WEIGHT_QUORUM for f in fractions[1:4])
    # with a quorum of zero the weight criterion holds as soon as its window is full (2 epochs) ...
    monkeypatch.setattr(equilibrium, "WEIGHT_QUORUM", 0.0)
    fired = train(TrainConfig(**base, equilibrium_criterion="weights", out=str(tmp_path / "w0")), progress=False)
    assert fired.warmup_ended_by == "weights" and fired.equilibrium_epoch == 2
    assert fired.tracking_start_step == 2 * 1437
    record = json.loads((tmp_path / "w0" / "metrics.json").read_text())["equilibrium"]
    assert record["warmup_ended_by"] == "weights" and record["first_weight_epoch"] == 2.0
    # ... and "both" waits for the loss criterion too (two windows of losses: epoch 4)
    both = train(TrainConfig(**base, equilibrium_criterion="both", out=str(tmp_path / "b")), progress=False)
    assert both.warmup_ended_by == "both" and both.equilibrium_epoch == 4
    with pytest.raises(ParameterError, match="equilibrium_criterion"):
        TrainConfig(**{**base, "equilibrium_criterion": "accuracy"})


def test_user_errors_are_one_line_and_status_2(tmp_path, capsys):
    status, _, err = run_cli(capsys, "train", "--arch", "cnn:2-2-2/4-4", "--backend", "fast", "--device", "cpu",
                             "--out", str(tmp_path / "x"))
    assert status == 2 and "backend" in err and len(err.strip().splitlines()) == 1
    status, _, err = run_cli(capsys, "train", "--lr", "-1", "--out", str(tmp_path / "x"))
    assert status == 2 and "lr" in err
    status, _, err = run_cli(capsys, "train", "--device", "cuda:3", "--out", str(tmp_path / "x"))
    assert status == 2 and "device" in err
    status, _, err = run_cli(capsys, "train", "--out", str(tmp_path / "missing"), "--resume")
    assert status == 2 and "run.json" in err
    out = tmp_path / "once"
    assert run_cli(capsys, "train", *TINY, "--steps", "5", "--out", str(out))[0] == 0
    status, _, err = run_cli(capsys, "train", *TINY, "--steps", "5", "--out", str(out))
    assert status == 2 and "already holds a run" in err
    with pytest.raises(ParameterError, match="differ: --lr 0.5"):
        train(TrainConfig(arch="mlp:64-16-10", lr=0.5, steps=5, track=12, out=str(out)), resume=True, progress=False)


def _read(path):
    with h5py.File(path / "trajectory.h5") as f:
        return f["t"][...], f["q"][...]


WEIGHT_WARMUP = ["--until-equilibrium", "--equilibrium-criterion", "weights", "--eq-window", "2",
                 "--max-warmup-epochs", "3"]


# the plain SIGKILL of a torch and a fast training run: tests/test_run_safety.py (killed at a random moment)
@pytest.mark.slow
@pytest.mark.parametrize("backend, arch, epochs, every, warmup",
                         [("fast", "mlp:64-256-256-10", 14, 250, WEIGHT_WARMUP)])
def test_sigkill_then_resume_gives_the_uninterrupted_trajectory_bitwise(tmp_path, capsys, backend, arch, epochs,
                                                                          every, warmup):
    argv = ["train", "--arch", arch, "--dataset", "digits", "--lr", "0.01", "--track", "16", "--track-biases",
            "--epochs", str(epochs), "--checkpoint-every", str(every), "--backend", backend, "--device", "cpu",
            "--n-train", "600", "--n-test", "100", "--torch-threads", "1", "--no-progress", *warmup]
    killed = tmp_path / "killed"
    checkpoints = sigkill_after_first_checkpoint(argv, killed)
    assert checkpoints and int(checkpoints[-1].stem.split("-")[1]) < epochs * 600  # killed mid-run
    assert main([*argv, "--out", str(killed), "--resume"]) == 0

    reference = tmp_path / "reference"
    assert main([*argv, "--out", str(reference)]) == 0
    capsys.readouterr()
    t_killed, q_killed = _read(killed)
    t_reference, q_reference = _read(reference)
    np.testing.assert_array_equal(t_killed, t_reference)
    np.testing.assert_array_equal(q_killed, q_reference)
    m_killed = json.loads((killed / "metrics.json").read_text())["columns"]
    m_reference = json.loads((reference / "metrics.json").read_text())["columns"]
    for key in ("step", "train_loss", "test_loss", "test_accuracy", "equilibrium"):
        assert m_killed[key] == m_reference[key]
    if warmup:     # the weight probes of the warm-up are part of the checkpointed state
        assert m_killed["weights_without_drift"] == m_reference["weights_without_drift"]


def test_resume_without_checkpoint_starts_from_step_zero(tmp_path):
    config = TrainConfig(arch="mlp:64-16-10", steps=5, track=3, out=str(tmp_path / "r"))
    RunDirectory(config.out).create().write_run_info(command=config.command_line(), parameters=config.to_dict())
    resumed = train(config, resume=True, progress=False)
    fresh = train(TrainConfig(**{**config.to_dict(), "out": str(tmp_path / "s")}), progress=False)
    assert resumed.steps == fresh.steps == 5 and resumed.final_test_loss == fresh.final_test_loss
