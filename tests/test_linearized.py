"""The linearized network of 002 §4: F by log det against brute-force integration, its gradient, p(x|q),
the eigenvalue expansion (eqs. 20-21), the quadrature reference and MALA/Langevin samples of p(q)."""

import numba
import numpy as np
import pytest
from scipy import integrate, stats

from statmech_nn.errors import DataError, ParameterError, StatmechError
from statmech_nn.linearized import (
    LinearizedModel, compare_expansion, eigen_expansion, load_model, model_from_spec, reference_marginals,
)
from statmech_nn.sampling.linearized_sampler import sample_linearized, sample_linearized_chains

TINY = LinearizedModel(base=np.array([[0.1, 0.6], [-0.4, 0.2]]), trainable=np.array([[0, 1], [1, 0]]),
                       slopes=[0.9, 0.7], v_x=[0.3, 0.5], v_q=[0.8, 1.2], alpha=1.5, beta=2.0)
SPEC = {
    "model": {"neurons": 3, "alpha": 1.0, "beta": 1.5},
    "base": {"seed": 4, "scale": 1.0},
    "trainable": {"entries": [[0, 2]]},
    "activation": {"slopes": 0.8},
    "potentials": {"v_x": 0.1, "v_q": 0.4},
}


def brute_free_energy(model, q):
    """-(1/β) log ∫ exp(-βH(x, q)) d²x by the trapezoid rule on a wide uniform grid (N = 2).

    The grid spans ±12 standard deviations of each coordinate (the mass outside is < e^-70); for a
    smooth, rapidly decaying integrand the trapezoid rule converges exponentially.
    """
    reach = 12 * np.sqrt(np.diag(np.linalg.inv(model.beta * model.precision(q))))
    axes = [np.linspace(-r, r, 601) for r in reach]
    x = np.stack(np.meshgrid(*axes, indexing="ij"), -1) + model.x_bar
    values = np.exp(-model.beta * model.energy(x, np.broadcast_to(q, x.shape[:-1] + (2,))))
    integral = values.sum() * (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0])
    return -np.log(integral) / model.beta


@pytest.mark.parametrize("q", [[0.6, -0.4], [2.0, 1.5], [-1.0, 0.3]])
def test_free_energy_is_the_gaussian_integral_over_x(q):
    # eq. (16) omits -(N/2β) log 2π, like eq. (4) of the toy model
    constant = -TINY.n_neurons / (2 * TINY.beta) * np.log(2 * np.pi)
    assert TINY.free_energy(q) + constant == pytest.approx(brute_free_energy(TINY, np.array(q)), rel=1e-9, abs=1e-10)


def test_coupling_is_eq15_and_the_gradient_matches_finite_differences():
    q = np.array([[0.3, -0.2], [1.1, 0.7]])
    w = TINY.weights(q)
    assert w[1, 0, 1] == 1.1 and w[1, 1, 0] == 0.7 and w[1, 0, 0] == 0.1
    a = np.eye(2) - np.diag(TINY.slopes) @ w[1]
    np.testing.assert_allclose(TINY.coupling(q)[1], a.T @ a, rtol=1e-14)
    free = TINY.free_energy(q)
    np.testing.assert_allclose(free, [np.linalg.slogdet(TINY.beta * TINY.precision(p))[1] / (2 * TINY.beta)
                                      + 0.5 * np.sum(TINY.v_q * (p - TINY.q_bar) ** 2) for p in q], rtol=1e-13)
    h = 1e-6
    numeric = np.stack([(TINY.free_energy(q + h * e) - TINY.free_energy(q - h * e)) / (2 * h) for e in np.eye(2)], -1)
    np.testing.assert_allclose(TINY.free_energy_gradient(q), numeric, rtol=1e-7, atol=1e-9)


def test_conditional_is_the_exact_gaussian():
    q = np.array([0.4, -0.3])
    conditional = TINY.conditional(q)
    cov = np.linalg.inv(TINY.beta * TINY.precision(q))
    np.testing.assert_allclose(conditional.cov(), cov, rtol=1e-12)
    x = np.array([0.3, -1.2])
    assert conditional.logpdf(x) == pytest.approx(stats.multivariate_normal(TINY.x_bar, cov).logpdf(x), rel=1e-12)
    n = 200_000
    draws = TINY.conditional(np.broadcast_to(q, (n, 2))).rvs(random_state=1)
    # Standard errors of n Gaussian draws: the mean's √(Σ_ii/n); the sample covariance's (Wishart)
    # Var(S_ij) = (Σ_ij² + Σ_ii Σ_jj)/(n - 1). Every entry within 5 of its own standard errors.
    assert np.all(np.abs(draws.mean(axis=0) - TINY.x_bar) < 5 * np.sqrt(np.diag(cov) / n))
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / (n - 1))
    sample_cov = np.cov(draws.T)
    assert np.abs((sample_cov - cov) / se).max() < 5
    # the check can fail: it rejects a covariance 4% off (the diagonal's standard error is √(2/n) ≈ 0.3%)
    assert np.abs((sample_cov - 1.04 * cov) / se).max() > 5


def test_eigenvalue_expansion_matches_finite_differences_of_the_spectrum():
    model = model_from_spec(SPEC | {"trainable": {"entries": [[0, 2], [2, 1]]}})
    expansion = eigen_expansion(model)
    eig = lambda q: np.linalg.eigvalsh(model.precision(q))  # noqa: E731
    np.testing.assert_allclose(expansion.lambda0, eig(model.q_bar), rtol=1e-12)
    h, k = 1e-4, model.n_trainable
    steps = np.eye(k) * h
    grad = np.stack([(eig(model.q_bar + s) - eig(model.q_bar - s)) / (2 * h) for s in steps], -1)
    hess = np.stack([np.stack([(eig(model.q_bar + a + b) - eig(model.q_bar + a - b) - eig(model.q_bar - a + b)
                                + eig(model.q_bar - a - b)) / (4 * h * h) for b in steps], -1) for a in steps], -2)
    np.testing.assert_allclose(expansion.gradient, grad, atol=1e-7)
    np.testing.assert_allclose(2 * expansion.curvature, hess, atol=1e-5)
    assert expansion.exponent == -model.alpha / model.beta


def test_eq21_against_eq19_small_radius_agreement_and_failure():
    model = load_model("linearized_small")
    ds = compare_expansion(model, n_random_rays=4, n_radii=40, seed=0)
    log_r = np.log(ds["radius"].values[:10])
    # near q̄ the full second-order expansion is off by O(r³); eq. (21) without the linear term by O(r)
    for name, order in (("taylor2", 3.0), ("eq21", 1.0)):
        slopes = [np.polyfit(log_r, np.log(error[:10]), 1)[0] for error in ds[f"error_{name}"].values]
        np.testing.assert_allclose(slopes, order, atol=0.15)
    # far out (beyond the crossovers) both approximations fail somewhere: the radius is reported
    assert np.isfinite(ds["failure_radius_taylor2"].values).any()
    assert ds.attrs["exponent_per_mode"] == -1.0 and ds["lambda0"].size == model.n_neurons
    degenerate = LinearizedModel(base=np.zeros((2, 2)), trainable=np.array([[0, 1]]), slopes=1.0, v_x=0.5, v_q=1.0,
                                 alpha=1.0, beta=1.0)
    with pytest.raises(StatmechError, match="degenerate"):
        eigen_expansion(degenerate)


def test_reference_quadrature_converges_and_matches_scipy_for_one_weight():
    model = model_from_spec(SPEC)
    reference = reference_marginals(model)
    density = lambda q: np.exp(model.log_density(np.array([[q]]))[0] - model.log_density(model.q_bar))  # noqa: E731
    lo, hi = model.q_bar[0] - 30, model.q_bar[0] + 30
    norm = integrate.quad(density, lo, hi, points=[model.q_bar[0]], limit=400)[0]
    second = integrate.quad(lambda q: (q - model.q_bar[0]) ** 2 * density(q), lo, hi, points=[model.q_bar[0]],
                            limit=400)[0] / norm
    assert reference.second_moment[0] == pytest.approx(second, rel=1e-8)
    two = load_model("linearized_small")
    np.testing.assert_allclose(reference_marginals(two).second_moment, reference_marginals(two, 451).second_moment,
                               rtol=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("method, dt", [("mala", 0.2), ("langevin", 0.05)])
def test_samples_of_p_q_match_the_quadrature_reference(method, dt):
    model = load_model("linearized_small")
    result = sample_linearized(model, method, dt=dt, chains=64, steps=40_000 if method == "mala" else 100_000,
                               seed=2)
    summary = result.summary
    assert summary["reliable"], summary["warnings"]
    assert abs(summary["q2_mean"] - summary["q2_exact"]) < 4 * summary["q2_sem"]
    assert summary["ks_vs_exact"] < 4 * summary["ks_noise"] + summary["ks_resolution"]
    # x|q is drawn exactly: its covariance given the recorded q is (β(G + V_x))^-1
    run = result.run
    y = run.x - model.x_bar
    second = np.einsum("tci,tcj->ij", y, y) / (y.shape[0] * y.shape[1])
    expected = np.mean(np.linalg.inv(model.beta * model.precision(run.q.reshape(-1, 2))), axis=0)
    np.testing.assert_allclose(second, expected, atol=0.05 * np.abs(expected).max())
    assert result.trajectory.names[:2] == model.names and result.trajectory.q.shape[1] == 2 * 64


def test_linearized_runs_are_reproducible_across_threads():
    model = model_from_spec(SPEC)
    numba.set_num_threads(1)
    one = sample_linearized_chains(model, "mala", dt=0.1, chains=4, steps=400, seed=9)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    two = sample_linearized_chains(model, "mala", dt=0.1, chains=4, steps=400, seed=9)
    np.testing.assert_array_equal(one.q, two.q)
    np.testing.assert_array_equal(one.x, two.x)


@pytest.mark.parametrize("change, error, match", [
    ({"potentials": {"v_x": 0.0, "v_q": 0.4}}, ParameterError, "v_x"),
    ({"potentials": {"v_x": 0.1, "v_q": [0.4, 0.5]}}, ParameterError, "v_q"),
    ({"trainable": {"entries": [[0, 3]]}}, ParameterError, "trainable"),
    ({"trainable": {"entries": [[0, 1], [0, 1]]}}, ParameterError, "distinct"),
    ({"base": {"matrix": [[0.0, 1.0], [1.0, 0.0]]}}, ParameterError, "base.matrix"),
    ({"base": {"scale": 1.0}}, DataError, "base.seed"),
    ({"model": {"neurons": 3, "beta": 1.0}}, DataError, "model.alpha"),
    ({"model": {"neurons": 3, "alpha": -1.0, "beta": 1.0}}, ParameterError, "alpha"),
])
def test_bad_specs_name_what_is_wrong(change, error, match):
    with pytest.raises(error, match=match):
        model_from_spec(SPEC | change)


def test_missing_or_broken_spec_files(tmp_path):
    with pytest.raises(DataError, match="no model spec"):
        load_model(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[model\n")
    with pytest.raises(DataError, match="not valid TOML"):
        load_model(tmp_path / "bad.toml")
