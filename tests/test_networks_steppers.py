"""The torch stepper on the CPU: batches, optimizer-state round trips, and the warm-up undo that the CUDA
graph capture relies on (the same code; CUDA itself is not available in the tests)."""

import numpy as np
import pytest
import torch

from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.losses import Objective
from statmech_nn.networks.steppers import TorchStepper
from statmech_nn.networks.tracking import TrackedParameters


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", n_train=300)


def make(digits, optimizer="adam", batch_size=1):
    model = Architecture.parse("mlp:64-12-10").build(digits.input_shape, 10, seed=5)
    tracked = TrackedParameters.choose(model, 6, seed=1, include_biases=True)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=1e-2, weight_decay=1e-3)
    return TorchStepper(model, opt, Objective("cross_entropy"), digits.x_train, digits.y_train,
                        batch_size=batch_size, tracked=tracked, graph_steps=8)


def test_graph_steps_are_ignored_on_the_cpu_and_batches_may_end_short(digits):
    stepper = make(digits, "sgd", batch_size=4)
    assert stepper.graph_steps == 0
    rows = stepper.run(np.arange(10), track=True)
    assert rows.shape == (3, 6)
    assert stepper.run(np.arange(10), track=False) is None


def test_warm_up_undo_leaves_the_trajectory_of_a_fresh_optimizer(digits):
    """What _capture does around its warm-up steps: snapshot, step, restore (Adam state created → zeros)."""
    order = np.random.default_rng(0).permutation(300)
    warmed, fresh = make(digits), make(digits)
    saved = warmed._snapshot()
    warmed.run(order[:3], track=False)
    warmed._restore(saved)
    np.testing.assert_array_equal(warmed.run(order[:60], track=True), fresh.run(order[:60], track=True))


def test_optimizer_state_round_trip_resumes_bitwise(digits):
    order = np.random.default_rng(1).permutation(300)
    first, second = make(digits), make(digits)
    first.run(order[:40], track=False)
    second.model.load_state_dict(first.model.state_dict())
    second.load_state(first.state())
    assert any(key.endswith("/exp_avg_sq") for key in first.state())
    np.testing.assert_array_equal(first.run(order[40:90], track=True), second.run(order[40:90], track=True))
