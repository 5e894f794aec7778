"""Every fit in the package trains through the one driver (:func:`statmech_nn.networks.training.train`): the gated
architecture, derived data sets, the recorded order parameter, the checkpoint cadence and the table of presets,
each checked against an independent computation."""

import h5py
import numpy as np
import pytest
import torch

from statmech_nn.errors import ParameterError
from statmech_nn.io import read_json
from statmech_nn.networks.architectures import Architecture, bias_free_mlp
from statmech_nn.networks.config import PRESETS, TrainConfig
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.gated import StochasticGate
from statmech_nn.networks.probes import load_trained_model
from statmech_nn.networks.metrics import METRICS_FILE
from statmech_nn.networks.training import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- the gated architecture (003 §II.2) ------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["gated:64-8-1", "gated:64-8-8-1,T=0.25", "gated:10-3-3-2,T=1.5e-05"])
def test_gated_spec_round_trips(spec):
    arch = Architecture.parse(spec)
    assert Architecture.parse(arch.spec()) == arch and arch.family == "gated"
    assert arch.loss == ("hinge" if spec.split(",")[0].endswith("-1") else "cross_entropy")


@pytest.mark.parametrize("spec", ["gated:64-1", "gated:64-8-1,T=-1", "gated:64-8-1,T=x", "gated:64-8-1,S=1",
                                  "bfmlp:64-8-1,T=0.1"])
def test_bad_gated_specs_are_parameter_errors(spec):
    with pytest.raises(ParameterError):
        Architecture.parse(spec)


def test_zero_temperature_is_the_relu_network_with_he_normal_weights():
    model = bias_free_mlp([64, 400, 30, 1], 0.0, seed=4)
    x = torch.randn(50, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    w1, w2, w3 = (layer.weight.detach() for layer in (model.fc1, model.fc2, model.fc3))
    expected = torch.relu(torch.relu(x @ w1.T) @ w2.T) @ w3.T
    torch.testing.assert_close(model(x), expected, rtol=0, atol=1e-12)
    # He-normal N(0, 2/n_in): the sample variance of 25 600 entries within 4 standard errors (sd 2σ²/√(n-1))
    values = w1.numpy().ravel()
    assert abs(values.var() - 2 / 64) < 4 * (2 / 64) * np.sqrt(2 / (values.size - 1))


def test_gates_open_with_probability_sigmoid_z_over_t():
    temperature, draws = 0.5, 4000
    model = bias_free_mlp([1, 6, 1], temperature, seed=1)
    gate = model.gate1
    z = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64)[None, :].repeat(draws, 1)
    opened = (gate(z) != 0).double().mean(dim=0).numpy()
    expected = 1.0 / (1.0 + np.exp(-z[0].numpy() / temperature))
    assert np.all(np.abs(opened - expected) < 5 * np.sqrt(expected * (1 - expected) / draws))
    assert int(gate.forward_passes) == 1
    # forward pass n of gate layer l draws from the stream (seed, l, n): the same gates again, then new ones
    again = StochasticGate(temperature, seed=1, layer=1)
    first = again(z)
    assert torch.equal(first, bias_free_mlp([1, 6, 1], temperature, seed=1).gate1(z))
    assert not torch.equal(first, again(z))


# --- derived data sets -----------------------------------------------------------------------------------------
def test_a_subset_with_label_noise_is_a_seeded_draw_of_the_named_set():
    base = load_dataset("digits-binary", scaling="standardize")
    derived = load_dataset("digits-binary:subset=500,label_noise=0.5,seed=3", scaling="standardize")
    assert derived.x_train.shape == (500, 1, 8, 8) and derived.x_test.shape == base.x_test.shape
    flat = base.x_train.reshape(len(base.x_train), -1)
    rows = [np.flatnonzero((flat == x).all(axis=1))[0] for x in derived.x_train.reshape(500, -1)]
    assert len(set(rows)) == 500
    flipped = np.mean(derived.y_train != base.y_train[rows])
    assert abs(flipped - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 500)       # half redrawn by a fair coin: 1/4 change
    same = load_dataset("digits-binary:subset=500,label_noise=0.5,seed=3", scaling="standardize")
    np.testing.assert_array_equal(same.y_train, derived.y_train)
    first = load_dataset("digits-binary:subset=500,label_noise=0.5,seed=3", scaling="standardize", n_train=7)
    np.testing.assert_array_equal(first.x_train, derived.x_train[:7])


@pytest.mark.parametrize("name", ["digits:subset=0", "digits:subset=5000", "digits:label_noise=1.5",
                                  "digits:noise=0.1", "digits:subset=4,subset=5", "digits:seed=x", "digits:subset"])
def test_bad_data_set_options_are_parameter_errors(name):
    with pytest.raises(ParameterError):
        load_dataset(name)


# --- presets ---------------------------------------------------------------------------------------------------
def test_every_preset_is_a_valid_configuration_and_the_defaults_are_002s():
    for name in PRESETS:
        assert TrainConfig.preset(name, out="x").out == "x"
    default = TrainConfig()
    assert {k: getattr(default, k) for k in PRESETS["tracking"]} == PRESETS["tracking"]
    assert TrainConfig.preset("capacity", lr=0.5).lr == 0.5
    with pytest.raises(ParameterError, match="preset"):
        TrainConfig.preset("no-such-protocol")
    with pytest.raises(ParameterError, match="record_gradient"):
        TrainConfig(record_gradient="yes")


# --- the driver's full-batch fits ------------------------------------------------------------------------------
def _reference_adam(model, x, y, steps: int, lr: float) -> np.ndarray:
    """The hinge risk after each full-batch Adam step, by a plain loop (what the capacity scan did before)."""
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    risks = []
    for _ in range(steps):
        optimizer.zero_grad()
        torch.relu(1 - (2.0 * yt - 1) * model(xt).reshape(-1)).mean().backward()
        optimizer.step()
        with torch.no_grad():
            risks.append(float(torch.relu(1 - (2.0 * yt - 1) * model(xt).reshape(-1)).mean()))
    return np.array(risks)


def test_the_capacity_preset_trains_what_a_plain_adam_loop_trains(tmp_path):
    name = "digits-binary:subset=64,seed=0"
    config = TrainConfig.preset("capacity", arch="gated:64-6-1", dataset=name, n_test=1, batch_size=64, epochs=25,
                                lr=1e-2, checkpoint_epochs=10, out=str(tmp_path / "run"))
    train(config, progress=False)
    columns = read_json(tmp_path / "run" / METRICS_FILE)["columns"]
    data = load_dataset(name, scaling="standardize")
    reference = _reference_adam(bias_free_mlp([64, 6, 1], seed=0), data.x_train.reshape(64, -1), data.y_train,
                                25, 1e-2)
    np.testing.assert_allclose(columns["train_loss"], reference, rtol=1e-12, atol=1e-14)


def test_the_recorded_order_parameter_is_the_squared_gradient_by_finite_differences(tmp_path):
    config = TrainConfig(arch="mlp:64-5-10", dataset="digits", n_train=120, n_test=10, batch_size=40, epochs=2,
                         lr=0.05, dtype="float64", record_gradient=True, track=3, out=str(tmp_path / "run"))
    train(config, progress=False)
    recorded = read_json(tmp_path / "run" / METRICS_FILE)["columns"]["train_grad_norm_sq"][-1]
    model, _ = load_trained_model(tmp_path / "run")
    data = load_dataset("digits", n_train=120, n_test=10)
    x, y = torch.as_tensor(data.x_train, dtype=torch.float64), torch.as_tensor(data.y_train)
    flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    eps, squared = 1e-6, 0.0
    with torch.no_grad():
        for i in range(flat.numel()):
            values = []
            for sign in (1, -1):
                shifted = flat.clone()
                shifted[i] += sign * eps
                torch.nn.utils.vector_to_parameters(shifted, model.parameters())
                values.append(float(torch.nn.functional.cross_entropy(model(x), y)))
            squared += ((values[0] - values[1]) / (2 * eps)) ** 2
    assert recorded == pytest.approx(squared, rel=1e-6)


def test_checkpoints_every_nth_epoch_and_at_the_end(tmp_path):
    config = TrainConfig(arch="mlp:64-5-10", dataset="digits", n_train=30, n_test=10, batch_size=30, epochs=5,
                         checkpoint_epochs=2, keep_checkpoints=10, track=3, out=str(tmp_path / "run"))
    train(config, progress=False)
    kept = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step-*.h5"))
    assert kept == [f"step-{s:012d}.h5" for s in (2, 4, 5)]
    assert len(read_json(tmp_path / "run" / METRICS_FILE)["columns"]["epoch"]) == 5


def test_a_gated_run_at_positive_temperature_resumes_bit_for_bit(tmp_path):
    def config(out, epochs):
        return TrainConfig.preset("capacity", arch="gated:64-5-5-1,T=0.3", dataset="digits-binary:subset=40",
                                  n_test=1, batch_size=40, epochs=epochs, checkpoint_epochs=3, out=str(out))

    train(config(tmp_path / "whole", 8), progress=False)
    train(config(tmp_path / "parts", 5), progress=False)
    train(config(tmp_path / "parts", 8), resume=True, progress=False)
    with h5py.File(tmp_path / "whole" / "trajectory.h5") as a, h5py.File(tmp_path / "parts" / "trajectory.h5") as b:
        assert a["q"].shape[0] == 9
        np.testing.assert_array_equal(a["q"][()], b["q"][()])
    whole, parts = (read_json(tmp_path / run / METRICS_FILE)["columns"] for run in ("whole", "parts"))
    assert whole["train_loss"] == parts["train_loss"] and whole["train_grad_norm_sq"] == parts["train_grad_norm_sq"]
