"""Batched torch replicas (:class:`BatchedTorchReplicas`): every replica follows the trajectory of its own
:class:`TorchStepper` (the separate replicas) to float rounding — 1e-10 in float64 (observed: 6e-17), 1e-6 in
float32 (observed: 3e-8, with tracked weights of size ~0.4) — on an MLP and a CNN; its state round-trips bit for bit;
the selection rules of :func:`replica_stepping`; a batched ``train`` run and its resume."""

import numpy as np
import pytest
import torch

from statmech_nn.cli import main
from statmech_nn.errors import ParameterError
from statmech_nn.io import Trajectory
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.config import TrainConfig
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.losses import Objective
from statmech_nn.networks.parts import TrainingParts, replica_stepping
from statmech_nn.networks.replicas import BatchedTorchReplicas, TorchReplicas, replica_seeds
from statmech_nn.networks.steppers import TorchStepper
from statmech_nn.networks.tracking import TrackedParameters
from statmech_nn.networks.training import train

LR, WD, SEED, R = 0.01, 5e-4, 5, 3
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-6}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _models(digits, arch: str, dtype=torch.float64, replicas: int = R, seed: int = SEED):
    arch = Architecture.parse(arch)
    return [arch.build(digits.input_shape, 10, seed=replica_seeds(seed, r)[0], dtype=dtype) for r in range(replicas)]


def _tracked(model) -> TrackedParameters:
    return TrackedParameters.choose(model, 24, seed=SEED, include_biases=True)


def _batched(digits, models, tracked, batch_size: int = 1) -> BatchedTorchReplicas:
    return BatchedTorchReplicas(models, Objective("cross_entropy"), digits.x_train, digits.y_train, lr=LR,
                                weight_decay=WD, batch_size=batch_size, tracked=tracked)


def _separate(digits, models, tracked, batch_size: int = 1) -> TorchReplicas:
    return TorchReplicas([TorchStepper(model, torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WD),
                                       Objective("cross_entropy"), digits.x_train, digits.y_train,
                                       batch_size=batch_size, tracked=tracked) for model in models])


def _orders(digits, steps: int, replicas: int = R) -> np.ndarray:
    return np.random.default_rng(SEED).integers(0, len(digits.y_train), (replicas, steps))


@pytest.mark.parametrize("arch, steps", [("mlp:64-16-8-10", 300), ("cnn:4-4-4/8-8", 60)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_batched_replicas_follow_the_separate_ones(digits, arch, steps, dtype):
    models = _models(digits, arch, dtype)
    tracked = _tracked(models[0])
    orders = _orders(digits, steps)
    batched = _batched(digits, models, tracked).run(orders, track=True)
    separate = _separate(digits, _models(digits, arch, dtype), tracked).run(orders, track=True)
    assert batched.shape == (steps, R, tracked.k) and batched.dtype == separate.dtype
    np.testing.assert_allclose(batched, separate, rtol=0, atol=TOLERANCE[dtype])
    assert np.abs(batched[-1] - batched[0]).max() > 100 * TOLERANCE[dtype]     # the weights moved
    assert not np.array_equal(batched[:, 0], batched[:, 1])


def test_batches_of_several_samples_and_a_short_last_batch(digits):
    orders = _orders(digits, 4 * 20 + 3)
    tracked = _tracked(_models(digits, "mlp:64-16-8-10")[0])
    batched = _batched(digits, _models(digits, "mlp:64-16-8-10"), tracked, batch_size=4).run(orders, track=True)
    separate = _separate(digits, _models(digits, "mlp:64-16-8-10"), tracked, batch_size=4).run(orders, track=True)
    assert batched.shape == (21, R, tracked.k)
    np.testing.assert_allclose(batched, separate, rtol=0, atol=1e-10)


def test_state_round_trip_and_sync_model(digits):
    tracked = _tracked(_models(digits, "mlp:64-16-8-10")[0])
    orders = _orders(digits, 200)
    expected = _batched(digits, _models(digits, "mlp:64-16-8-10"), tracked).run(orders, track=True)
    first = _batched(digits, _models(digits, "mlp:64-16-8-10"), tracked)
    first.run(orders[:, :120], track=False)
    first.sync_model()
    for r, model in enumerate(first.models):     # every replica's weights are in its model
        np.testing.assert_array_equal(tracked.gather(model), expected[119, r])
    state = first.state()
    assert state == {}
    # a resume: the checkpoint's weights go into (other) models first, then the stepper's state
    models = _models(digits, "mlp:64-16-8-10", seed=SEED + 10)
    resumed = _batched(digits, models, tracked)
    for model, saved in zip(models, first.models):
        model.load_state_dict(saved.state_dict())
    resumed.load_state(state)
    np.testing.assert_array_equal(resumed.run(orders[:, 120:], track=True), expected[120:])
    with pytest.raises(ParameterError, match="checkpoint engine state"):
        resumed.load_state({"replica0/optimizer/0/momentum_buffer": np.zeros(3)})
    with pytest.raises(ParameterError, match="orders"):
        resumed.run(orders[:2], track=False)


def test_modules_with_buffers_are_refused(digits):
    gated = Architecture.parse("gated:64-8-1,T=0.1").build(digits.input_shape, 2, seed=0)
    with pytest.raises(ParameterError, match="StochasticGate gate1"):
        BatchedTorchReplicas([gated, gated], Objective("hinge"), digits.x_train, digits.y_train, lr=LR,
                             weight_decay=WD, batch_size=1, tracked=_tracked(gated))


def _config(out, **changes) -> TrainConfig:
    base = dict(arch="mlp:64-8-10", dataset="digits", lr=0.01, track=40, steps=40, backend="torch", device="cpu",
                seed=3, torch_threads=1, replicas=2, out=str(out))
    return TrainConfig(**{**base, **changes})


def test_which_replica_stepper_a_run_gets(tmp_path):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    mlp = Architecture.parse("mlp:64-8-10").build((64,), 10)
    gated = Architecture.parse("gated:64-8-1,T=0.1").build((64,), 2)
    auto, adam = _config(tmp_path), _config(tmp_path, optimizer="adam")
    assert replica_stepping(auto, "torch", cpu, mlp) == "separate"        # bit for bit the single runs
    assert replica_stepping(auto, "torch", cuda, mlp) == "batched"
    assert replica_stepping(auto, "fast", cuda, mlp) == "batched"
    assert replica_stepping(adam, "torch", cuda, mlp) == "separate"
    assert replica_stepping(auto, "torch", cuda, gated) == "separate"
    assert replica_stepping(auto, "fast", cpu, mlp) == "threads"
    assert replica_stepping(_config(tmp_path, replica_stepping="batched"), "torch", cpu, mlp) == "batched"
    assert replica_stepping(_config(tmp_path, replica_stepping="separate"), "torch", cuda, mlp) == "separate"
    with pytest.raises(ParameterError, match="replica_stepping"):
        replica_stepping(_config(tmp_path, backend="fast", replica_stepping="batched"), "fast", cpu, mlp)
    with pytest.raises(ParameterError, match="replica_stepping"):
        TrainConfig(replica_stepping="vmap")
    with pytest.raises(ParameterError, match="optimizer sgd"):
        TrainingParts.build(_config(tmp_path, optimizer="adam", replica_stepping="batched"))
    assert isinstance(TrainingParts.build(auto).stepper, TorchReplicas)


def test_a_batched_train_run_records_its_stepper_and_resumes_bitwise(tmp_path):
    train(_config(tmp_path / "whole", replica_stepping="batched"), progress=False)
    whole = Trajectory.load(tmp_path / "whole" / "trajectory.h5")
    assert whole.q.shape == (41, 80) and whole.metadata["replica_stepper"] == "BatchedTorchReplicas"
    np.testing.assert_array_equal(whole.chain, np.repeat([0, 1], 40))
    train(_config(tmp_path / "separate"), progress=False)
    separate = Trajectory.load(tmp_path / "separate" / "trajectory.h5")
    assert separate.metadata["replica_stepper"] == "TorchReplicas"
    np.testing.assert_allclose(whole.q, separate.q, rtol=0, atol=1e-6)
    train(_config(tmp_path / "resumed", replica_stepping="batched", steps=25), progress=False)
    train(_config(tmp_path / "resumed", replica_stepping="batched"), resume=True, progress=False)
    resumed = Trajectory.load(tmp_path / "resumed" / "trajectory.h5")
    np.testing.assert_array_equal(resumed.t, whole.t)
    np.testing.assert_array_equal(resumed.q, whole.q)


def test_the_replica_stepping_flag(tmp_path, capsys):
    argv = ["train", "--arch", "mlp:64-8-10", "--dataset", "digits", "--steps", "3", "--replicas", "2", "--device",
            "cpu", "--track", "4", "--no-progress", "--replica-stepping"]
    assert main([*argv, "batched", "--backend", "torch", "--out", str(tmp_path / "cli")]) == 0
    assert TrainConfig.from_run_dir(tmp_path / "cli").replica_stepping == "batched"
    assert Trajectory.load(tmp_path / "cli" / "trajectory.h5").metadata["replica_stepper"] == "BatchedTorchReplicas"
    assert main([*argv, "batched", "--backend", "fast", "--out", str(tmp_path / "fast")]) == 2
    assert "replica_stepping='batched' is not allowed" in capsys.readouterr().err
