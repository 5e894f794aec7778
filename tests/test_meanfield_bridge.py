"""A trained layer as the spin model of 001 ('Statistical model of a neural network'): conventions and T_c."""

import numpy as np
import pytest
import torch

from statmech_nn.errors import ParameterError
from statmech_nn.meanfield import LayerSpinModel
from statmech_nn.scan.meanfield_tasks import layer_curves


@pytest.fixture
def layer():
    rng = np.random.default_rng(0)
    return LayerSpinModel.from_layer(rng.normal(0, 0.4, (7, 9)), rng.normal(0, 0.3, 7))


def binary_states(rng, count, size):
    return rng.integers(0, 2, size=(count, size)).astype(float)


def test_spin_energy_is_the_layer_energy_up_to_one_constant(layer):
    rng = np.random.default_rng(1)
    x, y = binary_states(rng, 300, layer.n_in), binary_states(rng, 300, layer.n_out)
    spins = np.hstack([2 * x - 1, 2 * y - 1])
    np.testing.assert_allclose(layer.layer_energy(x, y), layer.spin_model.energy(spins) + layer.energy_offset,
                               atol=1e-12)


def test_extended_matrix_on_one_and_the_spins_gives_the_same_energy(layer):
    rng = np.random.default_rng(2)
    spins = rng.choice([-1.0, 1.0], size=(100, layer.n))
    extended = np.hstack([np.ones((100, 1)), spins])
    W_ext = layer.extended_matrix()
    assert np.array_equal(W_ext, W_ext.T) and W_ext.shape == (layer.n + 1, layer.n + 1)
    quadratic = -np.einsum("si,ij,sj->s", extended, W_ext, extended) / (2 * layer.n)
    np.testing.assert_allclose(quadratic, layer.spin_model.energy(spins), atol=1e-12)


def test_beta_one_reproduces_the_logistic_units_of_the_layer(layer):
    """P(y_i = 1 | x, rest) at β = 1 from the spin model's energies equals σ((w x + c)_i)."""
    rng = np.random.default_rng(3)
    x, y = binary_states(rng, 1, layer.n_in)[0], binary_states(rng, 1, layer.n_out)[0]
    for i in range(layer.n_out):
        on, off = y.copy(), y.copy()
        on[i], off[i] = 1.0, 0.0
        energies = [layer.spin_model.energy(np.concatenate([2 * x - 1, 2 * state - 1])) for state in (on, off)]
        probability = 1.0 / (1.0 + np.exp(energies[0] - energies[1]))
        assert probability == pytest.approx(1 / (1 + np.exp(-(layer.weight @ x + layer.bias)[i])), rel=1e-12)


def test_critical_temperature_is_a_quarter_of_the_top_singular_value(layer):
    assert layer.critical_temperature == pytest.approx(np.linalg.svd(layer.weight, compute_uv=False)[0] / 4, rel=1e-12)


def test_torch_linear_layer_gives_the_same_model():
    torch.manual_seed(0)
    linear = torch.nn.Linear(6, 4)
    from_torch = LayerSpinModel.from_layer(linear)
    from_numpy = LayerSpinModel.from_layer(linear.weight.detach().numpy(), linear.bias.detach().numpy())
    np.testing.assert_allclose(from_torch.coupling_matrix, from_numpy.coupling_matrix)
    np.testing.assert_allclose(from_torch.field, from_numpy.field)
    assert LayerSpinModel.from_layer(torch.nn.Linear(6, 4, bias=False)).bias.tolist() == [0.0] * 4


def test_report_locates_the_layer_relative_to_beta_one():
    """w = 0.8 u uᵀ with u = (1, -1, 1, ...): σ_max = 8, so T_c = 2; the row and column sums vanish, so without a
    bias there is no field, and the susceptibility along the leading mode diverges at T_c."""
    u = np.resize([1.0, -1.0], 10)
    strong = LayerSpinModel.from_layer(0.8 * np.outer(u, u))
    assert np.abs(strong.field).max() == 0.0
    report = strong.report()
    curves = layer_curves(strong, np.linspace(0.5, 4.0, 36))
    assert report["Tc"] == pytest.approx(2.0) and report["beta_c"] == pytest.approx(0.5)
    assert report["phase_at_beta_1"] == "ordered" and report["reduced_temperature"] == pytest.approx(-0.5)
    assert set(curves.data_vars) >= {"m", "chi", "m_mode", "chi_mode", "free_energy", "m_in", "m_out"}
    ordered = curves["m_mode"].sel(T=slice(None, 1.95)).values
    assert np.all(ordered > 0.05) and np.all(np.diff(ordered) < 0)
    assert np.abs(curves["m_mode"].sel(T=slice(2.05, None)).values).max() < 1e-10
    assert curves.attrs["t_chi_peak"] == pytest.approx(2.0, abs=0.11)
    # a one-signed layer: the {0,1} -> ±1 shift puts strong fields on every unit and m > 0 at all T
    one_signed = layer_curves(LayerSpinModel.from_layer(np.full((10, 10), 0.8)), np.linspace(0.5, 4.0, 8))
    assert np.all(one_signed["m"].values > 0.5)
    weak = LayerSpinModel.from_layer(np.full((10, 10), 0.1)).report()
    assert weak["phase_at_beta_1"] == "paramagnetic" and weak["Tc"] == pytest.approx(0.25)


def test_bad_layers_are_clear_errors():
    with pytest.raises(ParameterError, match="weight"):
        LayerSpinModel.from_layer(np.ones(5))
    with pytest.raises(ParameterError, match="bias"):
        LayerSpinModel.from_layer(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ParameterError, match="weight"):
        LayerSpinModel.from_layer(np.array([[np.inf, 1.0]]))
    with pytest.raises(ParameterError, match="bias"):
        LayerSpinModel.from_layer(torch.nn.Linear(2, 3), np.zeros(3))
