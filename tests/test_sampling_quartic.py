"""Exact, Metropolis–Hastings and two-timescale Langevin samples of the quartic toy model (002 §2)
against the exact marginal: ⟨(q - q̄)²⟩ from quadrature (``marginal().var()``) within 4 standard errors."""

import numba
import numpy as np
import pytest

from statmech_nn.errors import ConvergenceError, NotNormalizableError, ParameterError
from statmech_nn.io import Trajectory
from statmech_nn.sampling import chains as chains_module
from statmech_nn.sampling.quartic_sampler import quartic_reference, quartic_trajectory, sample_quartic
from statmech_nn.sampling.summary import summarize
from statmech_nn.scan.langevin_bias import langevin_bias
from statmech_nn.quartic import QuarticModel

GAUSSIAN = dict(lambda_x=0.5, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0)                    # λx > 0, μ = 0
FRUSTRATED = dict(lambda_x=-0.3, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0, mu=0.5)         # λx < 0: bimodal p(x|q)
POWER_LAW = dict(lambda_x=0.02, g=2.0, lambda_q=0.2, alpha=1.0, beta=2.0, mu=0.05, x_bar=-0.2, q_bar=0.3)


def check_against_quadrature(model, summary):
    assert summary["reliable"], summary["warnings"]
    assert summary["q2_exact"] == pytest.approx(model.marginal().var(), rel=1e-12)
    assert abs(summary["q2_mean"] - summary["q2_exact"]) < 4 * summary["q2_sem"]
    assert summary["ks_vs_exact"] < 4 * summary["ks_noise"] + summary["ks_resolution"]


@pytest.mark.parametrize("parameters", [GAUSSIAN, FRUSTRATED, POWER_LAW], ids=["gaussian", "frustrated", "power-law"])
@pytest.mark.parametrize("method, chains, steps", [("exact", 64, 400), ("mh", 128, 12000)])
def test_exact_and_mh_match_quadrature(parameters, method, chains, steps):
    model = QuarticModel(**parameters)
    run = sample_quartic(model, method, chains=chains, steps=steps, seed=7)
    summary = summarize(run, model.q_bar, quartic_reference(model))
    check_against_quadrature(model, summary)
    if method == "exact":
        assert summary["tau_q"] == pytest.approx(1.0, abs=0.15)
    else:
        assert 0.2 < summary["acceptance_x"] < 0.8 and 0.2 < summary["acceptance_q"] < 0.8


@pytest.mark.parametrize("parameters", [GAUSSIAN, FRUSTRATED], ids=["gaussian", "frustrated"])
def test_langevin_at_small_epsilon_matches_quadrature(parameters):
    model = QuarticModel(**parameters)
    run = sample_quartic(model, "langevin", epsilon=0.05, dt=0.01, chains=128, steps=500_000, seed=3)
    check_against_quadrature(model, summarize(run, model.q_bar, quartic_reference(model)))


@pytest.mark.slow
def test_langevin_bias_shrinks_as_epsilon_goes_to_zero():
    # α > β: q is colder than x, and the unaveraged x-fluctuations heat it up at finite ε
    model = QuarticModel(lambda_x=0.5, g=1.0, lambda_q=1.0, alpha=3.0, beta=1.0)
    grid = langevin_bias(model, [1.0, 0.05], [0.01], chains=128, seed=1, slow_time=100.0)
    ks, noise = grid["ks"].values[:, 0], grid["ks_noise"].values[:, 0]
    z = (grid["q2_mean"].values[:, 0] - grid.attrs["q2_exact"]) / grid["q2_sem"].values[:, 0]
    assert ks[0] > ks[1] + noise.max()     # ks_noise = 0.87/sqrt(ESS) is the typical distance of pure noise
    assert z[0] > 6 and abs(z[1]) < 4      # finite ε broadens p(q); at small ε the bias is within the noise
    assert grid["ks"].attrs["units"] == "1" and grid["epsilon"].values.tolist() == [1.0, 0.05]


def test_same_seed_same_bits_for_any_threads_and_blocking(monkeypatch):
    model = QuarticModel(**FRUSTRATED)
    runs = {}
    for method in ("mh", "langevin"):
        numba.set_num_threads(1)
        one = sample_quartic(model, method, chains=6, steps=3000, seed=5)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        monkeypatch.setattr(chains_module, "BLOCK_CHAIN_STEPS", 6 * 150)   # blocks of a few rows
        many = sample_quartic(model, method, chains=6, steps=3000, seed=5)
        monkeypatch.undo()
        np.testing.assert_array_equal(one.q, many.q)
        np.testing.assert_array_equal(one.x, many.x)
        runs[method] = one
    other = sample_quartic(model, "langevin", chains=6, steps=3000, seed=6)
    assert not np.array_equal(other.q, runs["langevin"].q)
    exact = [sample_quartic(model, "exact", chains=3, steps=50, seed=2).q for _ in range(2)]
    np.testing.assert_array_equal(*exact)


def test_divergent_dynamics_are_errors_not_nans():
    no_marginal = QuarticModel(lambda_x=-0.5, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0)   # μ = 0, λx < 0
    for method in ("langevin", "mh", "exact"):
        with pytest.raises(NotNormalizableError, match="mu > 0"):
            sample_quartic(no_marginal, method, chains=2, steps=100, seed=0)
    with pytest.raises(ConvergenceError, match="reduce the step size"):
        sample_quartic(QuarticModel(**FRUSTRATED), "langevin", dt=2.5, chains=4, steps=2000, seed=0)


@pytest.mark.parametrize("bad, match", [
    (dict(epsilon=0.0), "epsilon"), (dict(dt=-1.0), "dt"), (dict(chains=0), "chains"),
    (dict(burn_in=500), "burn_in"), (dict(thin=400), "thin"), (dict(method="gibbs"), "method"),
])
def test_bad_run_settings_name_the_parameter(bad, match):
    settings = dict(method="langevin", chains=2, steps=500, seed=0) | bad
    with pytest.raises(ParameterError, match=match):
        sample_quartic(QuarticModel(**GAUSSIAN), settings.pop("method"), **settings)


def test_runs_go_into_the_shared_trajectory_format(tmp_path):
    model = QuarticModel(**POWER_LAW)
    run = sample_quartic(model, "langevin", epsilon=0.1, dt=0.01, chains=5, steps=1000, thin=10, seed=4)
    quartic_trajectory(model, run).save(tmp_path / "trajectory.h5")
    loaded = Trajectory.load(tmp_path)
    assert loaded.q.shape == (run.length.samples, 5) and loaded.names == ["q"] * 5
    np.testing.assert_array_equal(loaded.chain, np.arange(5))
    np.testing.assert_array_equal(loaded.t, run.length.burn_in + 10 * np.arange(1, run.length.samples + 1))
    np.testing.assert_array_equal(loaded.q, run.q[:, :, 0])
    np.testing.assert_array_equal(loaded.x[:, 0], run.x[:, :, 0].ravel())   # time-major rows
    assert loaded.metadata["method"] == "langevin" and loaded.metadata["epsilon"] == 0.1
    assert loaded.metadata["thin"] == 10 and loaded.step_size == 0.01 and loaded.seed == 4
    assert loaded.parameters == model.to_dict()


@pytest.mark.slow
def test_euler_step_bias_and_the_exponential_integrator_that_removes_it():
    # Euler–Maruyama inflates <(x - x̄)²> at fixed q by 1/(1 - a dt/2), which over-confines q: at dt = 0.05
    # the bias is several standard errors; the exact OU step for x removes it
    model = QuarticModel(**GAUSSIAN)
    reference = quartic_reference(model)
    z = {}
    for integrator in ("euler", "exponential"):
        run = sample_quartic(model, "langevin", epsilon=0.05, dt=0.05, chains=256, steps=100_000, seed=3,
                             integrator=integrator)
        summary = summarize(run, model.q_bar, reference)
        assert summary["converged"], summary["warnings"]
        z[integrator] = summary["q2_z"]
        # the biased run is converged but not reliable, and says why; the exact step is reliable
        assert summary["reliable"] == (integrator == "exponential"), summary["warnings"]
        assert summary["unbiased"] == (integrator == "exponential")
    assert z["euler"] < -4 and abs(z["exponential"]) < 4
    with pytest.raises(ParameterError, match="integrator"):
        sample_quartic(model, "langevin", chains=2, steps=100, seed=0, integrator="leapfrog")
