"""003's stochastic gates: exact enumeration against brute force, Monte Carlo within its errors, T → 0 = ReLU, Swish."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from statmech_nn.errors import DataError, ParameterError
from statmech_nn.gates.gate_claims import random_mlp
from statmech_nn.gates.stochastic import exact, mean_field, monte_carlo, output_atoms, relu_forward


def brute_force(layers, x, temperature):
    """Every gate of every hidden layer enumerated with itertools: mean, variance, marginals (no vectorization)."""
    hidden = [w.shape[0] for w in layers[:-1]]
    total = sum(hidden)
    mean = second = 0.0
    marginals = [np.zeros(n) for n in hidden]
    for bits in itertools.product((0, 1), repeat=total):
        a, probability, position = x, 1.0, 0
        gates = []
        for w, n in zip(layers[:-1], hidden):
            z = w @ a
            h = np.array(bits[position:position + n], dtype=float)
            p = expit(z / temperature)
            probability *= np.prod(np.where(h == 1, p, 1 - p))
            a, position = h * z, position + n
            gates.append(h)
        out = float((layers[-1] @ a)[0])
        mean += probability * out
        second += probability * out**2
        for m, h in zip(marginals, gates):
            m += probability * h
    return mean, second - mean**2, marginals


@pytest.mark.parametrize("widths, temperature", [([3, 3, 1], 0.7), ([3, 3, 2, 1], 0.4), ([2, 2, 3, 2, 1], 1.5)])
def test_exact_law_equals_brute_force(widths, temperature):
    rng = np.random.default_rng(1)
    layers, x = random_mlp(widths, rng), rng.normal(size=widths[0])
    law = exact(layers, x, temperature)
    mean, variance, marginals = brute_force(layers, x, temperature)
    assert law.mean[0] == pytest.approx(mean, rel=1e-12, abs=1e-14)
    assert law.variance[0] == pytest.approx(variance, rel=1e-10, abs=1e-13)
    for ours, reference in zip(law.marginals, marginals):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-14)
    values, probabilities = output_atoms(layers, x, temperature)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-13)
    assert probabilities @ values[:, 0] == pytest.approx(mean, rel=1e-12, abs=1e-14)


def test_monte_carlo_within_its_errors_and_seeded():
    rng = np.random.default_rng(2)
    z_scores = []
    for _ in range(20):
        layers, x = random_mlp([4, 6, 5, 2], rng), rng.normal(size=4)
        law = exact(layers, x, 0.6)
        sample = monte_carlo(layers, x, 0.6, 4000, rng, chunk=1500)
        z_scores.append((sample.mean - law.mean) / sample.sem)
        np.testing.assert_allclose(sample.std**2, law.variance, rtol=0.15)
    z_scores = np.concatenate(z_scores)
    assert np.max(np.abs(z_scores)) < 4.5 and abs(np.mean(z_scores)) < 3 / np.sqrt(z_scores.size)
    first = monte_carlo(layers, x, 0.6, 100, seed=7)
    assert np.array_equal(first.mean, monte_carlo(layers, x, 0.6, 100, seed=7).mean)


def test_zero_temperature_is_relu():
    rng = np.random.default_rng(3)
    for _ in range(10):
        layers, x = random_mlp([5, 7, 6, 3], rng), rng.normal(size=5)
        relu = relu_forward(layers, x)
        for method in (lambda t: exact(layers, x, t).mean, lambda t: mean_field(layers, x, t),
                       lambda t: monte_carlo(layers, x, t, 50, 0).mean):
            np.testing.assert_allclose(method(1e-10), relu, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(method(0.0), relu, rtol=1e-13, atol=1e-14)
        assert exact(layers, x, 0.0).patterns == 1 and np.all(exact(layers, x, 0.0).variance == 0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), width=st.integers(1, 9), temperature=st.floats(0.01, 10.0))
def test_one_hidden_layer_exact_is_swish(seed, width, temperature):
    rng = np.random.default_rng(seed)
    layers, x = random_mlp([3, width, 2], rng), rng.normal(size=3)
    values, probabilities = output_atoms(layers, x, temperature)
    np.testing.assert_allclose(probabilities @ values, mean_field(layers, x, temperature), rtol=1e-11, atol=1e-13)


def test_two_hidden_layers_mean_field_differs():
    rng = np.random.default_rng(4)
    gaps = []
    for _ in range(10):
        layers, x = random_mlp([5, 8, 8, 1], rng), rng.normal(size=5)
        law = exact(layers, x, 0.5)
        gaps.append(abs(law.mean[0] - mean_field(layers, x, 0.5)[0]) / np.sqrt(law.variance[0]))
    assert min(gaps) > 1e-4 and np.median(gaps) > 1e-2


def test_bad_inputs_are_clear_errors():
    layers = random_mlp([3, 4, 1], 0)
    with pytest.raises(DataError, match="length 3"):
        exact(layers, np.ones(4), 1.0)
    with pytest.raises(DataError, match="takes 5 inputs"):
        exact([np.ones((4, 3)), np.ones((1, 5))], np.ones(3), 1.0)
    with pytest.raises(ParameterError, match="temperature"):
        mean_field(layers, np.ones(3), -0.1)
    with pytest.raises(ParameterError, match="enumerated gate patterns"):
        exact(random_mlp([3, 30, 2, 1], 0), np.ones(3), 1.0)
    with pytest.raises(DataError, match="NaN"):
        exact([np.full((2, 3), np.nan), np.ones((1, 2))], np.ones(3), 1.0)
