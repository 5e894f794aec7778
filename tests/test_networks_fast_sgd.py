"""The fast batch-1 SGD engine reproduces torch's eager SGD + L2 trajectory.

Tolerances (10⁴ steps, MLP 64-32-16-10 on digits, the source's lr 2e-3 and L2 5e-4, torch's init):

- float64: fast engine vs torch, max |Δw| ≤ 1e-11 over every tracked weight and step (the algorithm is
  exact; what remains is summation order);
- float32: both are compared with the float64 torch trajectory (the exact one, to 1e-11). Over the
  first 3000 steps both stay within 1e-4 of it; over all 10⁴ steps the fast engine's deviation is no
  larger than twice torch's own float32 deviation (float32 rounding is amplified by the dynamics —
  ReLU units switching — in torch as much as in the engine).
"""

import numpy as np
import pytest
import torch

from statmech_nn.errors import ParameterError
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.fast_sgd import FastMLPEngine
from statmech_nn.networks.losses import Objective
from statmech_nn.networks.steppers import TorchStepper
from statmech_nn.networks.tracking import TrackedParameters
from statmech_nn.networks.driver import epoch_order
from statmech_nn.networks.metrics import evaluate

LR, WD, N_STEPS = 2e-3, 5e-4, 10_000


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def order(digits):
    n = len(digits.y_train)
    return np.concatenate([epoch_order(0, e, n) for e in range(-(-N_STEPS // n))])[:N_STEPS]



pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _pair(digits, dtype, seed=3, k=40, **engine_options):
    arch = Architecture.parse("mlp:64-32-16-10")
    fast_model, torch_model = (arch.build(digits.input_shape, 10, seed=seed, dtype=dtype) for _ in range(2))
    tracked = TrackedParameters.choose(fast_model, k, seed=0, include_biases=True)
    engine = FastMLPEngine(fast_model, digits.x_train, digits.y_train, lr=LR, weight_decay=WD, tracked=tracked,
                           **engine_options)
    stepper = TorchStepper(torch_model, torch.optim.SGD(torch_model.parameters(), lr=LR, weight_decay=WD),
                           Objective("cross_entropy"), digits.x_train, digits.y_train, batch_size=1, tracked=tracked)
    return engine, stepper


@pytest.fixture(scope="module")
def trajectories(digits, order):
    runs = {}
    for name, dtype in (("64", torch.float64), ("32", torch.float32)):
        engine, stepper = _pair(digits, dtype)
        runs["fast" + name] = engine.run(order, track=True).astype(float)
        runs["torch" + name] = stepper.run(order, track=True).astype(float)
    return runs


@pytest.mark.slow
def test_float64_engine_equals_torch_sgd(trajectories):
    assert np.abs(trajectories["fast64"] - trajectories["torch64"]).max() <= 1e-11


@pytest.mark.slow
def test_float32_engine_is_as_close_to_the_exact_trajectory_as_torch_float32(trajectories):
    exact = trajectories["torch64"]
    fast = np.abs(trajectories["fast32"] - exact).max(axis=1)
    reference = np.abs(trajectories["torch32"] - exact).max(axis=1)
    assert fast[:3000].max() <= 1e-4 and reference[:3000].max() <= 1e-4
    assert np.abs(trajectories["fast32"] - trajectories["torch32"])[:3000].max() <= 1e-4
    assert fast.max() <= 2 * reference.max() + 1e-5


def test_lazy_decay_renormalization_changes_nothing_but_rounding(digits, order):
    engine, stepper = _pair(digits, torch.float64, renorm_below=1 - 5 * LR * WD)  # fold s back every ~5 steps
    fast = engine.run(order[:2000], track=True)
    np.testing.assert_allclose(fast, stepper.run(order[:2000], track=True), rtol=0, atol=1e-11)
    assert np.all(engine.scale > 1 - 5 * LR * WD)


def test_weights_of_never_active_inputs_only_decay(digits, order):
    """A weight leaving an input that is always 0 gets no gradient: w(n) = w(0) (1 - ηλ)^n exactly."""
    engine, _ = _pair(digits, torch.float64)
    dead = np.flatnonzero((digits.x_train.reshape(len(digits.x_train), -1) != 0).sum(axis=0) == 0)
    assert dead.size > 0  # digits has blank corner pixels
    before = engine.model.fc1.weight.detach().numpy()[:, dead].copy()
    engine.run(order[:3000], track=False)
    engine.sync_model()
    after = engine.model.fc1.weight.detach().numpy()[:, dead]
    np.testing.assert_allclose(after, before * (1 - LR * WD) ** 3000, rtol=1e-12)


def test_same_inputs_same_bits_however_the_steps_are_chunked(digits, order):
    one, _ = _pair(digits, torch.float32)
    two, _ = _pair(digits, torch.float32)
    whole = one.run(order[:3000], track=True)
    parts = np.concatenate([two.run(order[:1234], track=True), two.run(order[1234:3000], track=True)])
    np.testing.assert_array_equal(whole, parts)
    for key, value in one.state().items():
        np.testing.assert_array_equal(value, two.state()[key])


def test_state_round_trip_resumes_bitwise(digits, order):
    one, _ = _pair(digits, torch.float32)
    two, _ = _pair(digits, torch.float32)
    one.run(order[:500], track=False)
    two.load_state(one.state())
    np.testing.assert_array_equal(one.run(order[500:900], track=True), two.run(order[500:900], track=True))


def test_engine_refuses_what_it_cannot_run(digits):
    cnn = Architecture.parse("cnn:2-2-2/4-4").build(digits.input_shape, 10)
    tracked = TrackedParameters.choose(cnn, 3, seed=0)
    with pytest.raises(ParameterError, match="backend"):
        FastMLPEngine(cnn, digits.x_train, digits.y_train, lr=LR, weight_decay=WD, tracked=tracked)


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_engine_evaluation_equals_the_drivers_on_the_torch_model(digits, order, dtype, rtol):
    """Loss and accuracy from the engine's sparse first layer and W = s V agree with training.evaluate on the synced
    torch model to float rounding, on the training set and on a set it has not seen, in chunks or not."""
    engine, _ = _pair(digits, dtype)
    engine.run(order[:2000], track=False)
    engine.sync_model()
    objective = Objective("cross_entropy")
    for x, y in ((digits.x_train, digits.y_train), (digits.x_test, digits.y_test)):
        loss, accuracy = engine.evaluate(x, y, chunk=100)
        reference_loss, reference_accuracy = evaluate(engine.model, objective, x, y)
        assert loss == pytest.approx(reference_loss, rel=rtol) and accuracy == reference_accuracy
        assert engine.evaluate(x, y) == pytest.approx((loss, accuracy), rel=rtol)
