"""Basis circuits: the path sum is the forward pass, perturbations are autograd's gradient and Hessian entries."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from statmech_nn.errors import DataError
from statmech_nn.gates.circuits import (build_stages, circuit_gradient, circuit_hessian, path_tensor, sample_paths,
                                        symmetry_statistics)
from statmech_nn.gates.gate_claims import random_mlp
from statmech_nn.gates.stochastic import relu_forward
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.circuit_io import layer_specs
from statmech_nn.networks.architectures import bias_free_mlp

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_mlp(seed=0):
    torch.manual_seed(seed)
    return bias_free_mlp([4, 5, 4, 3, 1], seed=seed)


def tiny_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.ReLU(),
                         nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(12, 4, bias=False), nn.ReLU(), nn.Linear(4, 1, bias=False)).double()


def autograd_derivatives(model, x):
    """Gradient and Hessian of the scalar output with respect to all weights (float64, flattened in layer order)."""
    params = [p for p in model.parameters()]
    shapes = [p.shape for p in params]
    flat = torch.cat([p.detach().reshape(-1) for p in params])

    def output(theta):
        arrays, position = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            arrays.append(theta[position:position + size].reshape(shape))
            position += size
        names = [name for name, _ in model.named_parameters()]
        return torch.func.functional_call(model, dict(zip(names, arrays)), (x[None],)).reshape(())

    gradient = torch.autograd.functional.jacobian(output, flat)
    hessian = torch.autograd.functional.hessian(output, flat)
    return output(flat).item(), gradient.numpy(), hessian.numpy()


@pytest.mark.parametrize("make, shape", [(tiny_mlp, (4,)), (tiny_cnn, (1, 4, 4))])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_path_sum_and_perturbations_equal_autograd(make, shape, seed):
    model = make(seed)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 10), dtype=torch.float64)
    circuits = build_stages(layer_specs(model), x.numpy())
    value, gradient, hessian = autograd_derivatives(model, x)
    assert path_tensor(circuits).sum() == pytest.approx(value, rel=1e-12, abs=1e-13)
    assert circuits.output[0] == pytest.approx(value, rel=1e-12, abs=1e-13)
    ours = np.concatenate([g.reshape(-1) for g in circuit_gradient(circuits)])
    np.testing.assert_allclose(ours, gradient, rtol=0, atol=1e-10)
    np.testing.assert_allclose(circuit_hessian(circuits), hessian, rtol=0, atol=1e-10)


def test_hinge_risk_derivatives_from_circuits():
    """∇R and ∇²R of the hinge risk are the per-example perturbations weighted by -y 1[y T < 1] / n (ℓ'' = 0)."""
    model = tiny_mlp(3)
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 1, 0, 0])
    sign = 2.0 * y.double() - 1.0
    params = list(model.parameters())
    risk = torch.relu(1 - sign * model(x).reshape(-1)).mean()
    reference = torch.cat([g.reshape(-1) for g in torch.autograd.grad(risk, params)]).numpy()
    gradient, hessian = 0.0, 0.0
    for xi, si in zip(x.numpy(), sign.numpy()):
        circuits = build_stages(layer_specs(model), xi)
        weight = -si * float(si * circuits.output[0] < 1) / len(x)
        gradient = gradient + weight * np.concatenate([g.reshape(-1) for g in circuit_gradient(circuits)])
        hessian = hessian + weight * circuit_hessian(circuits)
    np.testing.assert_allclose(gradient, reference, rtol=0, atol=1e-10)
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    shapes = [p.shape for p in params]

    def risk_of(theta):
        arrays, position = {}, 0
        for (name, _), shape in zip(model.named_parameters(), shapes):
            size = int(np.prod(shape))
            arrays[name] = theta[position:position + size].reshape(shape)
            position += size
        return torch.relu(1 - sign * torch.func.functional_call(model, arrays, (x,)).reshape(-1)).mean()

    np.testing.assert_allclose(hessian, torch.autograd.functional.hessian(risk_of, flat).numpy(), rtol=0, atol=1e-10)


def test_vgg_path_sum_equals_forward_pass():
    model = Architecture.parse("vgg:depth=4,width=2").build((1, 8, 8), 2, seed=1, dtype=torch.float64)
    x = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    circuits = build_stages(layer_specs(model), x.numpy())
    np.testing.assert_allclose(circuits.output, model(x[None]).detach().numpy()[0], rtol=1e-12, atol=1e-14)
    sample = sample_paths(circuits, 2000, seed=0)
    assert sample.psi.shape == sample.omega1.shape == sample.omega2.shape == (2000,)


def test_sampled_paths_are_uniform():
    rng = np.random.default_rng(4)
    layers = random_mlp([2, 3, 1], rng)
    circuits = build_stages([("linear", np.abs(layers[0])), ("relu",), ("linear", layers[1])], np.array([1.0, 2.0]))
    sample = sample_paths(circuits, 60000, seed=1)
    tensor = path_tensor(circuits).reshape(-1)
    counts = np.array([np.sum(np.isclose(sample.psi, v, rtol=1e-12)) for v in tensor])
    expected = 60000 / tensor.size
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert circuits.n_paths == tensor.size and chi2 < 30      # 5 degrees of freedom: p < 1e-5 to fail
    conv = build_stages([("conv", rng.normal(size=(2, 1, 3, 3)), 1), ("relu",), ("maxpool", 2), ("flatten",),
                         ("linear", rng.normal(size=(1, 8)))], rng.normal(size=(1, 4, 4)))
    sample = sample_paths(conv, 200000, seed=2)
    estimate = sample.psi.mean() * sample.total_paths     # uniform paths: E ψ · #paths = Σ ψ = T(x)
    error = sample.psi.std() * sample.total_paths / np.sqrt(sample.psi.size)
    assert abs(estimate - conv.output[0]) < 4.5 * error


def test_symmetry_statistics():
    rng = np.random.default_rng(0)
    symmetric = np.concatenate([rng.standard_t(3, 5000) * (rng.random(5000) < 0.7), np.zeros(100)])
    stats = symmetry_statistics(symmetric)
    assert stats["ks_mirror"] < 0.05 and abs(stats["fraction_positive"] - 0.5) < 0.03
    assert stats["atom_zero"] == pytest.approx(np.mean(symmetric == 0))
    skewed = symmetry_statistics(rng.exponential(size=4000) - 0.2)
    assert skewed["ks_mirror"] > 0.3 and skewed["skewness"] > 1
    assert np.isnan(symmetry_statistics(np.zeros(5))["skewness"])


def test_biased_or_unknown_layers_are_refused():
    with pytest.raises(DataError, match="bias"):
        layer_specs(nn.Sequential(nn.Linear(3, 2)))
    with pytest.raises(DataError, match="no circuit expansion"):
        layer_specs(nn.Sequential(nn.Linear(3, 2, bias=False), nn.Tanh()))
    with pytest.raises(DataError, match="unknown layer kind"):
        build_stages([("linear", np.ones((2, 3))), ("tanh",)], np.ones(3))
    with pytest.raises(DataError, match="scalar output"):
        circuit_gradient(build_stages([("linear", np.ones((2, 3)))], np.ones(3)))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), widths=st.lists(st.integers(1, 4), min_size=2, max_size=5))
def test_path_sum_is_the_forward_pass_for_any_small_mlp(seed, widths):
    rng = np.random.default_rng(seed)
    layers = random_mlp([*widths, 1], rng)
    x = rng.normal(size=widths[0])
    specs = [s for w in layers for s in (("linear", w), ("relu",))][:-1]
    circuits = build_stages(specs, x)
    np.testing.assert_allclose(path_tensor(circuits).sum(), relu_forward(layers, x)[0], rtol=1e-12, atol=1e-13)
    assert circuits.n_paths == int(np.prod(widths))
