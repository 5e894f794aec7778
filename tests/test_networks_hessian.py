"""The Hessian operator of a torch network (statmech_nn.networks.torch_hessian) and its bootstrap entries."""

import numpy as np
import pytest
import torch

from statmech_nn.errors import DataError, ParameterError
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.torch_hessian import HessianOperator, exact_spectrum
from statmech_nn.networks.hessian_claims import trained_bias_free
from statmech_nn.observables.hessian import slq, wasserstein_to_spectrum
from statmech_nn.observables.hessian_entries import bootstrap_entries, resample_indices, sample_entries

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained():
    model, x, y = trained_bias_free()
    operator = HessianOperator(model, "hinge", x, y, chunk=64)
    return operator, operator.exact()


@pytest.mark.slow
def test_routes_and_chunks_agree(trained):
    operator, hessian = trained
    v = np.random.default_rng(0).standard_normal(operator.dim)
    reference = hessian @ v
    other = HessianOperator(operator.model, "hinge", operator.x, operator.y, chunk=1000, method="forward_over_reverse")
    np.testing.assert_allclose(operator.matvec(v), reference, atol=1e-13 * np.abs(reference).max())
    np.testing.assert_allclose(other.matvec(v), reference, atol=1e-13 * np.abs(reference).max())


@pytest.mark.slow
def test_identities_of_a_trained_bias_free_hinge_net(trained):
    operator, hessian = trained
    assert operator.loss() > 0
    assert np.abs(hessian - hessian.T).max() <= 1e-14 * np.abs(hessian).max()
    for block in operator.layer_slices().values():
        assert np.abs(hessian[block, block]).max() <= 1e-14 * np.abs(hessian).max()
    assert abs(np.trace(hessian)) <= 1e-12 * np.linalg.norm(hessian)


@pytest.mark.slow
def test_gradient_against_finite_differences(trained):
    operator, _ = trained
    gradient = operator.gradient()
    direction = np.random.default_rng(1).standard_normal(operator.dim)
    shifted = []
    for sign in (1, -1):
        model = HessianOperator(operator.model, "hinge", operator.x, operator.y)
        with torch.no_grad():
            for p, d in zip(model.model.parameters(), torch.split(torch.as_tensor(direction), model.sizes)):
                p.add_(sign * 1e-6 * d.view(p.shape))
        shifted.append(HessianOperator(model.model, "hinge", operator.x, operator.y).loss())
    assert (shifted[0] - shifted[1]) / 2e-6 == pytest.approx(gradient @ direction, rel=1e-5)
    assert operator.order_parameter() == pytest.approx(gradient @ gradient)


@pytest.mark.slow
def test_slq_density_close_to_the_exact_spectrum(trained):
    """Wasserstein-1 of SLQ (90 steps × 10 probes) to eigvalsh within 1 % of the spectral range (P = 872)."""
    operator, hessian = trained
    eigenvalues, _ = exact_spectrum(hessian)
    measure = slq(operator.matvec, operator.dim, seed=0)
    assert wasserstein_to_spectrum(measure, eigenvalues) < 0.01 * (eigenvalues[-1] - eigenvalues[0])
    assert measure.lambda_min == pytest.approx(eigenvalues[0], rel=1e-8)
    assert measure.lambda_max == pytest.approx(eigenvalues[-1], rel=1e-8)


def test_bootstrap_entries_match_brute_force_resampling():
    arch = Architecture.parse("bfmlp:64-5-4-1")
    data_x = np.random.default_rng(2).uniform(size=(30, 64))
    data_y = np.arange(30) % 2
    model = arch.build((64,), 2, seed=3, dtype=torch.float64)
    operator = HessianOperator(model, "hinge", data_x, data_y)
    rows, cols = sample_entries(operator.dim, 40, seed=4)
    contributions = operator.per_example_entries(rows, cols, examples_per_chunk=7, columns_per_chunk=9)
    np.testing.assert_allclose(contributions.mean(axis=0), operator.exact()[rows, cols], atol=1e-14)
    indices = resample_indices(30, 4, seed=5)
    boot = bootstrap_entries(contributions, indices)
    for replicate, index in zip(boot.replicates, indices):
        brute = HessianOperator(model, "hinge", data_x[index], data_y[index]).exact()[rows, cols]
        np.testing.assert_allclose(replicate, brute, atol=1e-14)
    live = ~boot.structural_zero
    t = boot.replicates[:, live].mean(axis=0) / boot.replicates[:, live].std(axis=0, ddof=1)
    np.testing.assert_allclose(boot.t[live], t)


def test_bad_inputs_are_named():
    model = Architecture.parse("bfmlp:4-3-1").build((4,), 2)
    with pytest.raises(DataError):
        HessianOperator(model, "hinge", np.zeros((3, 4)), np.zeros(2, dtype=int))
    with pytest.raises(ParameterError):
        HessianOperator(model, "hinge", np.zeros((3, 4)), np.zeros(3, dtype=int), method="finite")
    operator = HessianOperator(model, "hinge", np.zeros((3, 4)), np.zeros(3, dtype=int))
    with pytest.raises(DataError):
        operator.matvec(np.zeros(5))
    with pytest.raises(DataError):
        operator.per_example_entries([0, 99], [0, 0])


@pytest.mark.slow
def test_every_instrument_at_zero_risk_where_h_vanishes():
    from statmech_nn.networks.hessian_claims import beyond_margin
    from statmech_nn.observables.hessian_measure import HessianOptions, measure_hessian

    model, x, y, _ = beyond_margin()
    summary, dataset = measure_hessian(HessianOperator(model, "hinge", x, y),
                                       HessianOptions(exact=True, steps=10, probes=2, entries=20, bootstrap=10))
    assert summary["loss"] == 0.0 and summary["order_parameter"] == 0.0
    assert summary["lambda_min"] == summary["lambda_max"] == 0.0 and summary["entries"] == 0
    assert summary["wasserstein_to_exact"] == 0.0 and summary["wasserstein_relative_to_range"] is None
    assert np.all(dataset["eigenvalues"].values == 0)


@pytest.mark.parametrize("spec, loss, parameters", [
    ("bfmlp:64-16-16-1", "hinge", 64 * 16 + 16 * 16 + 16),
    ("bfmlp:64-16-16-2", "cross_entropy", 64 * 16 + 16 * 16 + 32),
    ("bfcnn:4-8/16", "hinge", 36 + 288 + 32 * 16 + 16),
])
def test_bias_free_architectures(spec, loss, parameters):
    arch = Architecture.parse(spec)
    assert arch.spec() == spec and arch.loss == loss
    model = arch.build((1, 8, 8), 2)
    assert all(not name.endswith("bias") for name, _ in model.named_parameters())
    assert sum(p.numel() for p in model.parameters()) == parameters


@pytest.mark.parametrize("spec, classes", [("bfmlp:64-1", 2), ("bfmlp:64-8-1", 10), ("bfmlp:32-8-1", 2),
                                           ("bfcnn:4-8", 2)])
def test_bad_bias_free_specs(spec, classes):
    with pytest.raises(ParameterError):
        Architecture.parse(spec).build((1, 8, 8), classes)
