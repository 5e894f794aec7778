"""Replicas: replica r of a run with seed s steps exactly (bit for bit, on the CPU) as the single network built and
ordered from :func:`replica_seeds` (s, r) does, on both backends, whatever the number of threads; state round-trips."""

import numpy as np
import pytest
import torch

from statmech_nn.errors import ParameterError
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.fast_sgd import FastMLPEngine
from statmech_nn.networks.losses import Objective
from statmech_nn.networks.replicas import FastReplicas, TorchReplicas, replica_seeds
from statmech_nn.networks.steppers import TorchStepper
from statmech_nn.networks.tracking import TrackedParameters
from statmech_nn.networks.driver import epoch_order

LR, WD, SEED, R, STEPS = 2e-3, 5e-4, 5, 3, 3000
ARCH = Architecture.parse("mlp:64-32-16-10")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def tracked(digits):
    return TrackedParameters.choose(ARCH.build(digits.input_shape, 10, seed=SEED), 30, seed=SEED, include_biases=True)


def _order(order_seed: int, n: int) -> np.ndarray:
    return np.concatenate([epoch_order(order_seed, e, n) for e in range(-(-STEPS // n))])[:STEPS]


def _models(digits, init: str, replicas: int = R):
    return [ARCH.build(digits.input_shape, 10, seed=replica_seeds(SEED, r, init)[0]) for r in range(replicas)]


def _orders(digits, replicas: int = R) -> np.ndarray:
    return np.stack([_order(replica_seeds(SEED, r)[1], len(digits.y_train)) for r in range(replicas)])


def _torch_stepper(digits, model, tracked):
    return TorchStepper(model, torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WD), Objective("cross_entropy"),
                        digits.x_train, digits.y_train, batch_size=1, tracked=tracked)


def test_replica_seeds():
    assert [replica_seeds(7, r) for r in range(3)] == [(7, 7), (8, 8), (9, 9)]
    assert [replica_seeds(7, r, "shared") for r in range(3)] == [(7, 7), (7, 8), (7, 9)]
    with pytest.raises(ParameterError, match="replica_init"):
        replica_seeds(7, 0, "same")


@pytest.mark.parametrize("init", ["independent", "shared"])
@pytest.mark.parametrize("threads", [1, 2])
def test_fast_replicas_equal_single_engines_bitwise(digits, tracked, init, threads):
    replicas = FastReplicas(_models(digits, init), digits.x_train, digits.y_train, lr=LR, weight_decay=WD,
                            tracked=tracked, threads=threads)
    orders = _orders(digits)
    rows = np.concatenate([replicas.run(orders[:, :1000], track=True), replicas.run(orders[:, 1000:], track=True)])
    assert rows.shape == (STEPS, R, tracked.k)
    for r in range(R):
        model = ARCH.build(digits.input_shape, 10, seed=replica_seeds(SEED, r, init)[0])
        single = FastMLPEngine(model, digits.x_train, digits.y_train, lr=LR, weight_decay=WD, tracked=tracked)
        np.testing.assert_array_equal(rows[:, r], single.run(orders[r], track=True))
    assert not np.array_equal(rows[:, 0], rows[:, 1])
    if init == "shared":
        np.testing.assert_array_equal(replicas.engines[0].state()["V"] != 0, replicas.engines[1].state()["V"] != 0)
    replicas.close()


def test_torch_replicas_equal_single_steppers_bitwise(digits, tracked):
    orders = _orders(digits, 2)[:, :500]
    replicas = TorchReplicas([_torch_stepper(digits, model, tracked) for model in _models(digits, "independent", 2)])
    rows = replicas.run(orders, track=True)
    assert rows.shape == (500, 2, tracked.k)
    for r in range(2):
        model = ARCH.build(digits.input_shape, 10, seed=replica_seeds(SEED, r)[0])
        np.testing.assert_array_equal(rows[:, r], _torch_stepper(digits, model, tracked).run(orders[r], track=True))


def test_state_round_trip_resumes_bitwise(digits, tracked):
    orders = _orders(digits)
    whole = FastReplicas(_models(digits, "independent"), digits.x_train, digits.y_train, lr=LR, weight_decay=WD,
                         tracked=tracked)
    expected = whole.run(orders, track=True)
    first = FastReplicas(_models(digits, "independent"), digits.x_train, digits.y_train, lr=LR, weight_decay=WD,
                         tracked=tracked)
    first.run(orders[:, :1700], track=False)
    state = first.state()
    assert sorted(state) == sorted(f"replica{r}/{key}" for r in range(R) for key in ("V", "scale", "b"))
    resumed = FastReplicas(_models(digits, "shared"), digits.x_train, digits.y_train, lr=LR, weight_decay=WD,
                           tracked=tracked)
    resumed.load_state(state)
    np.testing.assert_array_equal(resumed.run(orders[:, 1700:], track=True), expected[1700:])
    resumed.sync_model()
    np.testing.assert_array_equal(tracked.gather(resumed.models[2]), expected[-1, 2])
    with pytest.raises(ParameterError, match="replica"):
        FastReplicas(_models(digits, "independent", 2), digits.x_train, digits.y_train, lr=LR, weight_decay=WD,
                     tracked=tracked).load_state(state)


def test_replicas_refuse_other_architectures_and_bad_orders(digits, tracked):
    models = [ARCH.build(digits.input_shape, 10, seed=0), Architecture.parse("mlp:64-30-16-10").build(
        digits.input_shape, 10, seed=0)]
    with pytest.raises(ParameterError, match="replica model"):
        FastReplicas(models, digits.x_train, digits.y_train, lr=LR, weight_decay=WD, tracked=tracked)
    replicas = FastReplicas(models[:1], digits.x_train, digits.y_train, lr=LR, weight_decay=WD, tracked=tracked)
    with pytest.raises(ParameterError, match="orders"):
        replicas.run(np.zeros(10, dtype=np.int64), track=False)
