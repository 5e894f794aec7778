"""SLQ, Gauss quadrature and symmetry measures (statmech_nn.observables.hessian) against exact linear algebra."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statmech_nn.errors import DataError
from statmech_nn.observables.hessian import (SpectralMeasure, asymmetry, density, gauss_quadrature, lanczos,
                                             signed_masses, skewness, slq, spectrum_summary, trace_estimate,
                                             wasserstein_to_spectrum)
from statmech_nn.observables.hessian_entries import benjamini_hochberg, sample_entries


def _matrix(eigenvalues, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((eigenvalues.size, eigenvalues.size)))
    return (q * eigenvalues) @ q.T


def test_gauss_quadrature_reproduces_moments_up_to_2m_minus_1():
    rng = np.random.default_rng(1)
    eigenvalues = rng.uniform(-1.0, 1.5, 200)
    a = _matrix(eigenvalues)
    q, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    steps = 20
    for _ in range(3):
        u = rng.choice([-1.0, 1.0], 200)
        u /= np.linalg.norm(u)
        nodes, weights = gauss_quadrature(*lanczos(lambda v: a @ v, u, steps))
        assert nodes.size == steps and weights.sum() == pytest.approx(1.0, abs=1e-14)
        vectors = np.linalg.eigh(a)[1]
        coefficients = (vectors.T @ u) ** 2
        spectrum = np.linalg.eigvalsh(a)
        for p in range(2 * steps):
            exact = coefficients @ spectrum**p
            scale = coefficients @ np.abs(spectrum) ** p
            assert abs(weights @ nodes**p - exact) <= 1e-12 * scale


def test_lanczos_stops_on_an_invariant_subspace():
    a = np.diag(np.repeat([1.0, 5.0], 30))
    alpha, beta = lanczos(lambda v: a @ v, np.ones(60), 40)
    assert alpha.size == 2 and beta.size == 1
    nodes, weights = gauss_quadrature(alpha, beta)
    np.testing.assert_allclose(nodes, [1.0, 5.0], atol=1e-12)
    np.testing.assert_allclose(weights, [0.5, 0.5], atol=1e-12)


def test_slq_on_two_clusters_and_uniform_spectrum():
    """hessian-eigenthings' checks: mass 0.5 at each cluster, a flat interior for a uniform spectrum."""
    clusters = np.concatenate([np.full(30, 1.0), np.full(30, 5.0)]) + np.random.default_rng(2).normal(0, 1e-3, 60)
    a = _matrix(clusters)
    measure = slq(lambda v: a @ v, 60, steps=30, probes=10, seed=0)
    nodes, weights = measure.flat
    assert weights[nodes < 3].sum() == pytest.approx(0.5, abs=0.15)
    uniform = np.linspace(0, 10, 400)
    b = _matrix(uniform, seed=3)
    measure = slq(lambda v: b @ v, 400, steps=60, probes=20, seed=1)
    grid = np.linspace(0, 10, 201)
    rho = density(measure, grid)
    wide = np.linspace(-5, 15, 4001)
    assert np.trapezoid(density(measure, wide), wide) == pytest.approx(1, abs=0.05)
    assert rho[40:161].min() > 0.5 * rho.max()
    # probe noise of the weights ~ √(2/(probes·P)) ≈ 1.6 % at P = 400: 2 % of the range (a network's P ~ 10³: 1 %)
    assert wasserstein_to_spectrum(measure, uniform) < 0.02 * 10


def test_symmetry_measures_of_exact_spectra():
    symmetric = SpectralMeasure.from_eigenvalues(np.concatenate([-np.arange(1, 51), np.zeros(20), np.arange(1, 51)]))
    assert asymmetry(symmetric) < 1e-12
    assert signed_masses(symmetric)["negative_mass"] == pytest.approx(0.5, abs=1e-12)
    assert skewness(symmetric) == (pytest.approx(0.0, abs=1e-15), 0.0)
    positive = SpectralMeasure.from_eigenvalues(np.arange(1.0, 101.0))
    summary = spectrum_summary(positive)
    assert summary["negative_mass"] < 0.01 and summary["asymmetry"] > 1.9
    assert summary["trace"] == pytest.approx(5050.0) and summary["skewness"] > 0


def test_hutchinson_traces_within_their_errors():
    """Per normalized Rademacher probe std(uᵀAu) = √(2(‖A‖_F² − Σ A_ii²))/n: the estimate lies within 4 errors."""
    eigenvalues = np.random.default_rng(4).normal(0.3, 1.0, 300)
    a = _matrix(eigenvalues, seed=5)
    measure = slq(lambda v: a @ v, 300, steps=40, probes=30, seed=2)
    for power in (1, 2, 3):
        estimate, error = trace_estimate(measure, power)
        assert abs(estimate - np.sum(eigenvalues**power)) < 4 * error
    expected_error = 300 * np.sqrt(2 * (np.sum(a**2) - np.sum(np.diag(a) ** 2))) / 300 / np.sqrt(30)
    assert trace_estimate(measure, 1)[1] == pytest.approx(expected_error, rel=0.4)


def test_lanczos_rejects_a_zero_start():
    with pytest.raises(DataError):
        lanczos(lambda v: v, np.zeros(5), 3)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 10_000), st.data())
def test_sample_entries_are_distinct_lower_triangle(dim, seed, data):
    count = data.draw(st.integers(1, dim * (dim + 1) // 2))
    rows, cols = sample_entries(dim, count, seed)
    assert np.all(cols <= rows) and np.all(rows < dim) and np.all(cols >= 0)
    assert len(set(zip(rows.tolist(), cols.tolist()))) == count


def test_benjamini_hochberg_against_its_definition():
    p = np.random.default_rng(6).uniform(size=200) ** 3
    reject = benjamini_hochberg(p, 0.05)
    order = np.sort(p)
    k = max((i for i in range(1, 201) if order[i - 1] <= 0.05 * i / 200), default=0)
    assert reject.sum() == k and (k == 0 or p[reject].max() == order[k - 1])


def test_a_zero_operator_is_a_point_mass_at_zero():
    measure = slq(lambda v: np.zeros_like(v), 50, steps=10, probes=3)
    summary = spectrum_summary(measure)
    assert summary["lambda_min"] == summary["lambda_max"] == 0.0
    assert summary["asymmetry"] < 1e-12 and summary["negative_mass"] == 0.5 and summary["trace"] == 0.0
