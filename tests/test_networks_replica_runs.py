"""``train --replicas R``: one run directory whose trajectory holds every replica's tracked weights (columns R × K,
chain = replica), each replica bit for bit the single-network run with its seed (:func:`replica_seeds`: seed + r),
metrics and equilibrium criteria per replica, and a SIGKILLed replica run that resumes to the uninterrupted one."""

import json

import numpy as np
import pytest

from kill_helpers import sigkill_after_first_checkpoint
from statmech_nn.cli import main
from statmech_nn.errors import ParameterError
from statmech_nn.io import Trajectory
from statmech_nn.networks.config import TrainConfig
from statmech_nn.experiments.spec import ExperimentSpec
from statmech_nn.networks.probes import load_trained_model
from statmech_nn.networks.torch_checkpoint import latest_checkpoint
from statmech_nn.networks.tracking import TrackedParameters
from statmech_nn.package_data import find_spec
from statmech_nn.networks.training import train

ALL_WEIGHTS = 64 * 8 + 8 * 10   # mlp:64-8-10 tracked entirely: the same columns whatever the seed

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(out, **changes) -> TrainConfig:
    base = dict(arch="mlp:64-8-10", dataset="digits", lr=0.01, track=ALL_WEIGHTS, warmup_epochs=1, steps=300,
                backend="fast", device="cpu", seed=3, torch_threads=1, out=str(out))
    return TrainConfig(**{**base, **changes})


@pytest.mark.parametrize("backend", ["fast", "torch"])
def test_each_replica_is_the_single_run_with_its_seed_bitwise(tmp_path, backend):
    steps = 300 if backend == "fast" else 60
    changes = {"backend": backend, "steps": steps} | ({} if backend == "fast" else {"warmup_epochs": 0})
    train(_config(tmp_path / "replicas", replicas=2, **changes), progress=False)
    replicas = Trajectory.load(tmp_path / "replicas" / "trajectory.h5")
    assert replicas.q.shape[1] == 2 * ALL_WEIGHTS
    np.testing.assert_array_equal(replicas.chain, np.repeat([0, 1], ALL_WEIGHTS))
    assert list(replicas.names[:ALL_WEIGHTS]) == list(replicas.names[ALL_WEIGHTS:])
    stored = latest_checkpoint(tmp_path / "replicas" / "checkpoints")
    for r in range(2):
        train(_config(tmp_path / f"single{r}", seed=3 + r, **changes), progress=False)
        single = Trajectory.load(tmp_path / f"single{r}" / "trajectory.h5")
        assert list(single.names) == list(replicas.names[:ALL_WEIGHTS])
        np.testing.assert_array_equal(replicas.t, single.t)
        np.testing.assert_array_equal(replicas.q[:, r * ALL_WEIGHTS:(r + 1) * ALL_WEIGHTS], single.q)
        single_model = latest_checkpoint(tmp_path / f"single{r}" / "checkpoints").model
        prefix = "" if r == 0 else f"replica{r}/"
        for name, value in single_model.items():
            np.testing.assert_array_equal(stored.model[prefix + name], value)
        metrics = json.loads((tmp_path / f"single{r}" / "metrics.json").read_text())["columns"]
        per_replica = json.loads((tmp_path / "replicas" / "metrics.json").read_text())["columns"]["replicas"]
        assert [m[r]["test_loss"] for m in per_replica] == metrics["test_loss"]
        assert [m[r]["loss_equilibrium"] for m in per_replica] == metrics["loss_equilibrium"]


def test_shared_init_starts_every_replica_from_the_same_weights(tmp_path):
    train(_config(tmp_path / "shared", replicas=3, replica_init="shared", warmup_epochs=0, steps=5), progress=False)
    trajectory = Trajectory.load(tmp_path / "shared" / "trajectory.h5")
    q = trajectory.q.reshape(-1, 3, ALL_WEIGHTS)
    np.testing.assert_array_equal(q[0, 0], q[0, 1])
    np.testing.assert_array_equal(q[0, 0], q[0, 2])
    assert not np.array_equal(q[-1, 0], q[-1, 1])     # different sample orders
    assert trajectory.metadata["replica_init"] == "shared" and trajectory.metadata["replicas"] == 3
    model, _ = load_trained_model(tmp_path / "shared")      # probes read replica 0
    np.testing.assert_array_equal(TrackedParameters.choose(model, ALL_WEIGHTS, 3).gather(model), q[-1, 0])


def test_warmup_ends_when_every_replica_is_at_equilibrium(tmp_path):
    out = tmp_path / "eq"
    result = train(_config(out, replicas=2, warmup_epochs=0, until_equilibrium=True, eq_window=2, eq_rtol=0.5,
                           max_warmup_epochs=8, steps=10), progress=False)
    columns = json.loads((out / "metrics.json").read_text())["columns"]
    for record, equilibrium in zip(columns["replicas"], columns["equilibrium"]):
        assert equilibrium == all(replica["equilibrium"] for replica in record)
    assert result.equilibrium_epoch is not None
    first = columns["equilibrium"].index(True)
    assert columns["phase"][first + 1] == "tracking"


def test_replicas_cli_flags_and_errors(tmp_path, capsys):
    assert main(["train", "--arch", "mlp:64-8-10", "--dataset", "digits", "--steps", "3", "--replicas", "2",
                 "--replica-init", "shared", "--backend", "fast", "--device", "cpu", "--track", "4", "--no-progress",
                 "--out", str(tmp_path / "cli"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 3 and summary["replicas"] == 2
    assert summary["network_steps_per_s"] == pytest.approx(2 * summary["steps_per_s"])
    assert TrainConfig.from_run_dir(tmp_path / "cli").replicas == 2
    with pytest.raises(ParameterError, match="replicas"):
        TrainConfig(replicas=0)
    with pytest.raises(ParameterError, match="replica_init"):
        TrainConfig(replica_init="same")
    capsys.readouterr()
    # the memory budget counts every replica; batched stepping is refused on the CPU fast engine even for one network
    for flags, message in ((["--replicas", "100000000"], "--replicas 100000000 needs about"),
                           (["--replica-stepping", "batched"], "replica_stepping='batched' is not allowed")):
        assert main(["train", "--arch", "mlp:64-8-10", "--dataset", "digits", "--steps", "3", "--backend", "fast",
                     "--device", "cpu", "--no-progress", "--out", str(tmp_path / "refused"), *flags]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_sigkill_of_a_replica_run_then_resume_gives_the_uninterrupted_trajectory_bitwise(tmp_path, capsys):
    argv = ["train", "--arch", "mlp:64-256-256-10", "--dataset", "digits", "--lr", "0.01", "--track", "16",
            "--epochs", "10", "--checkpoint-every", "250", "--backend", "fast", "--device", "cpu", "--n-train", "600",
            "--n-test", "100", "--torch-threads", "1", "--no-progress", "--replicas", "2", "--until-equilibrium",
            "--equilibrium-criterion", "weights", "--eq-window", "2", "--max-warmup-epochs", "3"]
    killed = tmp_path / "killed"
    checkpoints = sigkill_after_first_checkpoint(argv, killed)
    assert checkpoints and int(checkpoints[-1].stem.split("-")[1]) < 13 * 600  # killed mid-run
    assert main([*argv, "--out", str(killed), "--resume"]) == 0
    reference = tmp_path / "reference"
    assert main([*argv, "--out", str(reference)]) == 0
    capsys.readouterr()
    q_killed, q_reference = (Trajectory.load(path / "trajectory.h5") for path in (killed, reference))
    np.testing.assert_array_equal(q_killed.t, q_reference.t)
    np.testing.assert_array_equal(q_killed.q, q_reference.q)
    m_killed, m_reference = (json.loads((path / "metrics.json").read_text())["columns"]
                             for path in (killed, reference))
    for key in ("step", "test_loss", "equilibrium", "weights_without_drift", "replicas"):
        assert m_killed[key] == m_reference[key]


def test_the_published_specs_have_the_sources_lengths():
    """002 §5: ~3000 epochs to equilibrium, 200 tracked epochs; 64 weights; mnist5k with 2 replicas."""
    for name, replicas in (("soc_mnist5k_published", 2), ("soc_mnist", 1)):
        spec = ExperimentSpec.load(find_spec(name, "experiment"))
        config = TrainConfig.from_dict({**spec.training, "out": "."})
        assert (config.warmup_epochs, config.until_equilibrium, config.epochs, config.track, config.replicas) == (
            3000, False, 200, 64, replicas)
