"""General couplings (001 slides 'Statistical model of a neural network' – 'More magic'): saddle points against
the Curie–Weiss roots, finite differences, exact enumeration and exact block-model sums."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from statmech_nn.errors import ConvergenceError, ParameterError
from statmech_nn.meanfield import CurieWeissMeanField, GeneralCouplings, SolverOptions
from statmech_nn.meanfield import hs as hs_module
from statmech_nn.meanfield.enumeration import Enumeration, block_model_exact
from statmech_nn.meanfield.saddle import batched_gmres


def random_model(n, seed, mean=1.0, scale=1.0, h=0.0):
    rng = np.random.default_rng(seed)
    return GeneralCouplings(mean + scale * rng.normal(size=(n, n)), h)


@pytest.mark.parametrize("temperature,b", [(0.8, 0.02), (0.8, 0.0), (1.5, 0.1), (0.5, -0.3)])
def test_uniform_couplings_reproduce_every_curie_weiss_root_with_its_stability(temperature, b):
    n = 25
    points = GeneralCouplings(np.ones((n, n)), b).saddle_points(1 / temperature)
    cw = CurieWeissMeanField(1 / temperature, 1.0, b)
    order = np.argsort(points.solutions.mean(axis=1))
    np.testing.assert_allclose(points.solutions.mean(axis=1)[order], cw.solutions, atol=1e-10)
    assert [points.stability[i] for i in order] == cw.stability
    np.testing.assert_allclose(points.free_energies[order], cw.free_energies, atol=1e-12)
    assert points.chi.mean() == pytest.approx(cw.chi, rel=1e-9)


@pytest.mark.parametrize("seed,temperature,h", [(0, 0.6, 0.05), (1, 1.2, 0.0), (2, 0.9, -0.1), (3, 0.4, 0.0)])
def test_every_reported_solution_solves_the_saddle_equations_and_is_distinct(seed, temperature, h):
    model = random_model(40, seed, h=h)
    points = model.saddle_points(1 / temperature)
    beta, W, n = 1 / temperature, model.weights, model.n
    residual = points.solutions - np.tanh(beta * (points.solutions @ W / n + h))
    assert np.abs(residual).max() < 1e-12
    gaps = [np.abs(a - b).max() for i, a in enumerate(points.solutions) for b in points.solutions[i + 1:]]
    assert not gaps or min(gaps) > 1e-6
    assert np.all(np.diff(points.free_energies) >= 0)
    assert points.stability.count("stable") >= 1


def test_free_energy_is_the_bragg_williams_value_at_every_solution():
    model = random_model(30, 4, h=0.07)
    points = model.saddle_points(1 / 0.7)
    V, n = points.solutions, model.n
    entropy = np.log(2) - 0.5 * ((1 + V) * np.log1p(V) + (1 - V) * np.log1p(-V))
    bragg_williams = (-0.5 * np.einsum("ki,ij,kj->k", V, model.weights, V) / n**2 - 0.07 * V.mean(axis=1)
                      - 0.7 * entropy.mean(axis=1))
    np.testing.assert_allclose(points.free_energies, bragg_williams, atol=1e-12)


def test_susceptibility_vector_matches_finite_differences_of_the_solution():
    model = random_model(30, 5, h=0.05)
    beta = 1 / 0.8
    points = model.saddle_points(beta)
    step = 1e-6
    shifted = [model.with_field(0.05 + s).saddle_points(beta).solutions[0] for s in (step, -step)]
    np.testing.assert_allclose(points.chi, (shifted[0] - shifted[1]) / (2 * step), atol=1e-7)


def test_magnetization_is_minus_the_field_derivative_of_the_free_energy():
    model = random_model(30, 6, h=0.05)
    step = 1e-5
    f = [model.with_field(0.05 + s).saddle_points(1.3).free_energy for s in (step, -step)]
    assert -(f[0] - f[1]) / (2 * step) == pytest.approx(model.saddle_points(1.3).m, abs=1e-8)


def test_critical_temperature_is_the_paramagnet_instability():
    model = random_model(50, 7)
    tc = model.critical_temperature
    assert tc == pytest.approx(np.linalg.eigvalsh(model.weights)[-1] / 50, rel=1e-12)
    above = model.saddle_points(1 / (1.02 * tc))
    assert above.count == 1 and above.stability == ["stable"] and np.abs(above.V).max() < 1e-12
    below = model.saddle_points(1 / (0.95 * tc))
    assert below.count == 3 and sorted(below.stability) == ["stable", "stable", "unstable"]
    assert np.abs(below.solutions[below.stability.index("unstable")]).max() < 1e-12


def test_lanczos_and_dense_paths_agree(monkeypatch):
    dense_model = random_model(300, 8, h=0.02)
    points = dense_model.saddle_points(1 / 0.8)
    dense = (dense_model.critical_temperature, points.stability, points.chi.copy(), points.one_loop())
    monkeypatch.setattr(hs_module, "DENSE_LIMIT", 100)
    monkeypatch.setattr(hs_module, "_DENSE_EIGEN_LIMIT", 100)
    iterative_model = random_model(300, 8, h=0.02)
    iterative = iterative_model.saddle_points(1 / 0.8)
    assert iterative_model.critical_temperature == pytest.approx(dense[0], rel=1e-10)
    assert iterative.stability == dense[1]
    np.testing.assert_allclose(iterative.chi, dense[2], rtol=1e-9)
    assert iterative.one_loop() == pytest.approx(dense[3], rel=1e-10)


def test_asymmetric_couplings_act_through_their_symmetric_part():
    rng = np.random.default_rng(9)
    W = 1.0 + rng.normal(size=(20, 20))
    asymmetric, symmetric = GeneralCouplings(W, 0.1), GeneralCouplings(0.5 * (W + W.T), 0.1)
    np.testing.assert_allclose(asymmetric.saddle_points(1.5).solutions, symmetric.saddle_points(1.5).solutions)
    spins = rng.choice([-1.0, 1.0], size=(50, 20))
    energy = -np.einsum("si,ij,sj->s", spins, W, spins) / 40 - 0.1 * spins.sum(axis=1)
    np.testing.assert_allclose(asymmetric.energy(spins), energy, atol=1e-12)


def test_gray_code_energies_equal_direct_evaluation():
    model = random_model(10, 10, h=0.3)
    states = 1 - 2 * ((np.arange(2**10)[:, None] >> np.arange(10)) & 1)
    np.testing.assert_allclose(model._enumeration.energies, model.energy(states), atol=1e-11)


@pytest.mark.parametrize("temperature", [0.7, 2.0])
def test_block_model_sums_equal_enumeration(temperature):
    sizes, J, h = [4, 5], np.array([[1.0, -0.4], [-0.4, 2.0]]), np.array([0.1, -0.3])
    block = block_model_exact(sizes, J, h, 1 / temperature)
    labels = np.repeat([0, 1], sizes)
    exact = GeneralCouplings(J[labels][:, labels], h[labels]).exact(1 / temperature)
    assert block.free_energy_per_spin == pytest.approx(exact.free_energy_per_spin, rel=1e-12)
    np.testing.assert_allclose(block.block_m, [exact.sites[:4].mean(), exact.sites[4:].mean()], atol=1e-12)
    assert block.chi == pytest.approx(exact.chi, rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("temperature", [0.5, 1.5])
def test_saddle_point_and_one_loop_converge_on_exact_block_sums(temperature):
    """Two blocks: f_saddle - f_exact = O(1/N); with the one-loop term O(1/N²). N = 400 → 800 halves / quarters.
    Block magnetizations to 2/N, χ to 16/N."""
    J, h = np.array([[1.2, 0.5], [0.5, 0.6]]), np.array([0.05, -0.02])
    errors = []
    for size in (200, 400):
        labels = np.repeat([0, 1], size)
        model = GeneralCouplings(J[labels][:, labels], h[labels])
        points = model.saddle_points(1 / temperature, random_starts=1)
        exact = block_model_exact([size, size], J, h, 1 / temperature)
        errors.append((abs(points.free_energy - exact.free_energy_per_spin),
                       abs(points.free_energy + points.one_loop() - exact.free_energy_per_spin)))
        np.testing.assert_allclose([points.V[:size].mean(), points.V[size:].mean()], exact.block_m, atol=1.0 / size)
        assert points.chi.mean() == pytest.approx(exact.chi, rel=8.0 / size)
    (saddle_small, loop_small), (saddle_large, loop_large) = errors
    assert saddle_small / saddle_large == pytest.approx(2.0, rel=0.1)
    assert loop_small / loop_large == pytest.approx(4.0, rel=0.25)
    assert loop_large < 1e-5


def test_saddle_point_against_exact_enumeration_at_sixteen_spins():
    """N = 16, T = 2 T_c, weak disorder: <s_i> to 0.03 and χ to 15% (corrections are O(1/N)); the one-loop term
    cuts the free-energy error at least fourfold."""
    model = random_model(16, 11, scale=0.5, h=0.1)
    beta = 1 / (2 * model.critical_temperature)
    points, exact = model.saddle_points(beta), model.exact(beta)
    np.testing.assert_allclose(points.V, exact.sites, atol=0.03)
    assert points.chi.mean() == pytest.approx(exact.chi, rel=0.15)
    saddle_error = abs(points.free_energy - exact.free_energy_per_spin)
    loop_error = abs(points.free_energy + points.one_loop() - exact.free_energy_per_spin)
    assert loop_error < saddle_error / 4


def test_exact_averages_are_normalized_and_consistent():
    model = random_model(8, 12, h=0.2)
    exact = model.exact(0.9)
    E = model._enumeration.energies
    assert exact.log_partition == pytest.approx(logsumexp(-0.9 * E), rel=1e-13)
    assert np.allclose(np.diag(exact.correlations), 1 - exact.sites**2)
    assert exact.free_energy_per_spin == pytest.approx(-exact.log_partition / (0.9 * 8))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 60), k=st.integers(1, 5), seed=st.integers(0, 10**6))
def test_batched_gmres_solves_each_column_system(n, k, seed):
    rng = np.random.default_rng(seed)
    A = np.eye(n) + 0.3 * rng.normal(size=(k, n, n)) / np.sqrt(n)
    rhs = rng.normal(size=(n, k))
    x = batched_gmres(lambda X: np.einsum("kij,jk->ik", A, X), rhs, np.full(k, 1e-12), restart=20, cycles=10)
    np.testing.assert_allclose(x, np.linalg.solve(A, rhs.T[..., None])[..., 0].T, atol=1e-9)


def test_bad_couplings_fields_and_options_are_clear_errors():
    with pytest.raises(ParameterError, match="weights"):
        GeneralCouplings(np.ones((3, 4)))
    with pytest.raises(ParameterError, match="weights"):
        GeneralCouplings(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ParameterError, match="h"):
        GeneralCouplings(np.ones((3, 3)), [0.1, 0.2])
    with pytest.raises(ParameterError, match="N=21"):
        GeneralCouplings(np.ones((21, 21))).exact(1.0)
    with pytest.raises(ParameterError, match="damping"):
        SolverOptions(damping=1.5)
    with pytest.raises(ConvergenceError, match="no saddle point"):
        random_model(20, 0, h=0.1).saddle_points(1.0, options=SolverOptions(newton_iterations=1, damped_iterations=1,
                                                                      tolerance=1e-300))
    with pytest.raises(ParameterError, match="beta"):
        random_model(5, 0).saddle_points(0.0)
    with pytest.raises(ParameterError, match="N=21"):
        Enumeration(np.zeros((21, 21)), np.zeros(21))
    with pytest.raises(ParameterError, match="block model"):
        block_model_exact([1, 2], np.eye(3), np.zeros(2), 1.0)


def test_the_slides_bias_extended_matrix_is_a_field_on_the_clamped_unit():
    """001: W with 2Nh in column 0 acting on (1, V_1, ..., V_N) is the model with a field h on every unit."""
    rng = np.random.default_rng(13)
    n, h = 9, 0.3
    w = rng.normal(size=(n, n))
    extended = np.zeros((n + 1, n + 1))
    extended[1:, 1:], extended[1:, 0], extended[0, 0] = w, 2 * n * h, 2 * n * h
    model = GeneralCouplings.from_extended_matrix(extended)
    np.testing.assert_allclose(model.field, h)
    reference = GeneralCouplings(w, h)
    np.testing.assert_allclose(model.saddle_points(1.2).solutions, reference.saddle_points(1.2).solutions)
    with pytest.raises(ParameterError, match="weights"):
        GeneralCouplings.from_extended_matrix(np.ones((1, 1)))
