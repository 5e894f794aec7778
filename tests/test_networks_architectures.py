"""The source documents' architectures (002 §5 MLP, 001 FF/CNN/autoencoder, 003 bias-free VGG) and losses."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from statmech_nn.errors import ParameterError
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.losses import Objective


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_source_mlp_is_784_700_476_10_with_relu():
    model = Architecture.parse("mlp").build((1, 28, 28), 10)
    expected = 784 * 700 + 700 + 700 * 476 + 476 + 476 * 10 + 10
    assert n_params(model) == expected
    assert [type(m) for m in model] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [name for name, _ in model.named_parameters()][:2] == ["fc1.weight", "fc1.bias"]
    explicit = Architecture.parse("mlp:64-700-476-10")
    assert explicit.build((1, 8, 8), 10)(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ParameterError, match="input width of 784"):
        explicit.build((1, 28, 28), 10)


def test_feed_forward_cnn_and_autoencoder_of_001():
    ff = Architecture.parse("ff").build((3, 32, 32), 10)
    assert [m.out_features for m in ff if isinstance(m, nn.Linear)] == [500, 400, 200, 200, 10]
    cnn = Architecture.parse("cnn").build((3, 32, 32), 10)
    assert sum(isinstance(m, nn.Conv2d) for m in cnn) == 3 and sum(isinstance(m, nn.Linear) for m in cnn) == 3
    assert cnn(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert Architecture.parse("cnn:4-4-4/8-8").build((1, 8, 8), 10)(torch.zeros(1, 1, 8, 8)).shape == (1, 10)
    autoencoder = Architecture.parse("autoencoder").build((1, 8, 8), 10)
    assert [m.out_features for m in autoencoder if isinstance(m, nn.Linear)] == [500, 64]
    assert Architecture.parse("autoencoder").loss == "reconstruction"


def test_vgg_of_003_is_bias_free_with_one_output_and_about_1e7_weights():
    vgg = Architecture.parse("vgg")
    model = vgg.build((3, 32, 32), 2)
    assert all(name.endswith(".weight") for name, _ in model.named_parameters())
    layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(layers) == 12
    assert 5e6 < n_params(model) < 2e7  # 003: "~10^7 parameters"
    small = Architecture.parse("vgg:depth=5,width=4").build((1, 8, 8), 2)
    assert len([m for m in small if isinstance(m, (nn.Conv2d, nn.Linear))]) == 5
    assert small(torch.zeros(3, 1, 8, 8)).shape == (3, 1)
    assert vgg.loss == "hinge"
    with pytest.raises(ParameterError, match="binary"):
        vgg.build((3, 32, 32), 10)


def test_same_seed_same_initialization_bits():
    arch = Architecture.parse("mlp:64-30-10")
    a, b, c = (arch.build((1, 8, 8), 10, seed=s) for s in (4, 4, 5))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.fc1.weight, c.fc1.weight)
    state = torch.random.get_rng_state()
    arch.build((1, 8, 8), 10, seed=4)
    assert torch.equal(state, torch.random.get_rng_state())  # building does not disturb the global stream


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 999), min_size=2, max_size=6), st.sampled_from(["mlp", "ff"]))
def test_mlp_spec_round_trips(widths, family):
    spec = f"{family}:{'-'.join(map(str, widths))}"
    assert Architecture.parse(spec).spec() == spec
    assert Architecture.parse(Architecture.parse(spec).spec()) == Architecture.parse(spec)


@pytest.mark.parametrize("spec", ["resnet", "mlp:64-x-10", "mlp:10", "cnn:1-2/3-4", "autoencoder:1-2",
                                  "vgg:depth=2", "vgg:height=3", "mlp:0-10"])
def test_bad_specs_are_parameter_errors(spec):
    with pytest.raises(ParameterError, match="arch"):
        Architecture.parse(spec)


def test_losses_agree_with_independent_numpy_formulas():
    rng = np.random.default_rng(0)
    logits = torch.tensor(rng.normal(size=(6, 4)))
    y = torch.tensor([0, 3, 1, 1, 2, 0])
    log_softmax = logits.numpy() - np.log(np.exp(logits.numpy()).sum(axis=1, keepdims=True))
    expected_ce = -log_softmax[np.arange(6), y.numpy()].mean()
    assert Objective("cross_entropy").loss(logits, None, y).item() == pytest.approx(expected_ce, rel=1e-12)

    f = torch.tensor(rng.normal(size=(6, 1)))
    labels = torch.tensor([1, 0, 1, 1, 0, 0])
    signs = np.where(labels.numpy() == 1, 1.0, -1.0)
    expected_hinge = np.maximum(0.0, 1.0 - signs * f.numpy()[:, 0]).mean()
    hinge = Objective("hinge")
    assert hinge.loss(f, None, labels).item() == pytest.approx(expected_hinge, rel=1e-12)
    assert hinge.n_correct(f, labels) == int((signs * f.numpy()[:, 0] > 0).sum())

    x = torch.tensor(rng.normal(size=(6, 1, 2, 2)))
    out = torch.tensor(rng.normal(size=(6, 4)))
    expected_mse = ((out.numpy() - x.numpy().reshape(6, 4)) ** 2).mean()
    assert Objective("reconstruction").loss(out, x, labels).item() == pytest.approx(expected_mse, rel=1e-12)
    with pytest.raises(ParameterError, match="loss"):
        Objective("l1")
