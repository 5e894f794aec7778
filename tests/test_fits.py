"""The theory fit of 002 eqs. (6)/(21) to samples: normalization, gradient, recovery and interval coverage on
samples of the toy model, crossovers against the toy model's regimes, and the alternatives."""

import numpy as np
import pytest
from scipy import integrate, stats

from statmech_nn.compare import fits
from statmech_nn.compare.fits import compare_alternatives, fit_student_t, fit_theory, theory_log_tail, theory_logpdf
from statmech_nn.errors import DataError
from statmech_nn.quartic import QuarticModel
from statmech_nn.quartic import regimes

# c² = λx/g = 0.01, s = α/2β = 1, σ² = 1/(αλq) = 1: 2.2 decades of |Δ|^-2 between the core and the Gaussian
TOY = dict(lambda_x=0.01, g=1.0, lambda_q=0.5, alpha=2.0, beta=1.0)
TRUE = {"c": 0.1, "s": 1.0, "sigma": 1.0}


@pytest.fixture(scope="module")
def toy_marginal():
    return QuarticModel(**TOY).marginal()


@pytest.mark.parametrize("c, s, sigma", [(0.1, 1.0, 1.0), (1.0, -0.5, 2.0), (0.01, 2.5, 0.3), (3.0, 0.3, 0.5),
                                         (1e-3, 1.4, 10.0)])
def test_theory_density_is_normalized(c, s, sigma):
    """∫ p(Δ) dΔ = 1 by adaptive quadrature in log|Δ| (independent of the half-line trapezoid), to 1e-9."""
    def integrand(u):
        x = np.exp(u)
        return 2.0 * x * np.exp(theory_logpdf(x, c, s, sigma))
    cuts = [np.log(c) - 40, np.log(c), np.log(sigma), np.log(sigma) + 4]
    total = sum(integrate.quad(integrand, lo, hi, limit=400, epsabs=0, epsrel=1e-12)[0]
                for lo, hi in zip(cuts, cuts[1:]))
    assert total == pytest.approx(1.0, abs=1e-9)


def test_tail_probability_matches_quadrature():
    c, s, sigma = 0.1, 1.0, 1.0
    for x in (0.05, 0.3, 1.5):
        direct = 2.0 * integrate.quad(lambda d: np.exp(theory_logpdf(d, c, s, sigma)), x, 12.0,
                                      epsabs=0, epsrel=1e-12)[0]
        assert np.exp(theory_log_tail(x, c, s, sigma)) == pytest.approx(direct, rel=1e-9)


def test_analytic_gradient_matches_finite_differences(toy_marginal):
    delta = toy_marginal.rvs(2000, random_state=3)
    samples = fits._Samples(delta)
    x = np.array([np.log(0.12), 0.9, np.log(0.8)])

    def loglik(y):
        return np.sum(theory_logpdf(delta, np.exp(y[0]), y[1], np.exp(y[2])))
    h = 1e-5
    numeric = [(loglik(x + h * e) - loglik(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(fits._gradient(samples, x), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_fit_recovers_the_toy_model_and_its_intervals_cover(toy_marginal):
    """40 seeded draws of n = 3000 from QuarticModel(**TOY).marginal(): each 95% Wald interval must cover
    the truth in ≥ 34 of 40 draws (P(≤ 33 | coverage 0.95) = 0.5%), and the mean estimate lie within 3
    standard errors of the mean of the truth."""
    covered = {name: 0 for name in TRUE}
    estimates = {name: [] for name in TRUE}
    for seed in range(40):
        fit = fit_theory(toy_marginal.rvs(3000, random_state=seed))
        assert fit.status == "ok"
        for name, truth in TRUE.items():
            lo, hi = fit.confidence_interval(name)
            covered[name] += lo <= truth <= hi
            estimates[name].append(getattr(fit, name))
    for name, truth in TRUE.items():
        assert covered[name] >= 34, (name, covered[name])
        values = np.array(estimates[name])
        assert abs(values.mean() - truth) < 3 * values.std(ddof=1) / np.sqrt(values.size), name


def test_crossovers_reproduce_the_toy_model_regimes():
    """With g = β = 1 the fitted parameters map to (λx, λq): u_low, u_S, u_G and the decades equal the toy
    model's own (statmech_nn.quartic.regimes) to 1e-12."""
    model = QuarticModel(lambda_x=0.02, g=1.0, lambda_q=0.3, alpha=3.0, beta=1.0)
    c, s, sigma = np.sqrt(0.02), 1.5, np.sqrt(1.0 / (3.0 * 0.3))
    values = fits._crossovers(np.array([np.log(c), s, np.log(sigma)]))
    expected = model.regimes()
    assert values["u_low"] == pytest.approx(expected.u_low, rel=1e-12)
    assert values["u_slope"] == pytest.approx(expected.u_slope, rel=1e-12)
    assert values["u_gauss"] == pytest.approx(expected.u_gauss, rel=1e-12)
    assert values["decades"] == pytest.approx(regimes.powerlaw_decades(0.02, 1.0, 0.3, 1.0, 0.0), rel=1e-12)


def test_student_t_fit_matches_scipy():
    """Location-0 Student-t: our MLE has a log-likelihood at least scipy.stats.t.fit's, and the same parameters."""
    y = stats.t.rvs(3.0, scale=0.5, size=4000, random_state=2)
    ours = fit_student_t(y)
    nu, _, scale = stats.t.fit(y, floc=0)
    assert ours["loglik"] >= np.sum(stats.t.logpdf(y, nu, scale=scale)) - 1e-8
    assert ours["loglik"] == pytest.approx(np.sum(stats.t.logpdf(y, ours["nu"], scale=ours["scale"])), rel=1e-12)
    assert ours["nu"] == pytest.approx(nu, rel=1e-3)
    assert ours["scale"] == pytest.approx(scale, rel=1e-3)


def test_alternatives_rank_the_true_family_first(toy_marginal):
    delta = toy_marginal.rvs(4000, random_state=11)
    theory = fit_theory(delta)
    alternatives = compare_alternatives(delta, theory)
    assert alternatives["gaussian"].delta_aic > 100 and alternatives["gaussian"].p_value < 1e-10
    assert alternatives["student_t"].delta_aic > 10 and alternatives["student_t"].p_value < 1e-3
    assert alternatives["power_law"].statistic > 0  # Vuong's R on the tail favours the theory


def test_gaussian_samples_give_no_power_law():
    """On Gaussian samples the Gaussian (the theory at s = 0) is not rejected and the power-law range is empty."""
    delta = np.random.default_rng(5).normal(0.0, 2.0, 4000)
    theory = fit_theory(delta)
    alternatives = compare_alternatives(delta, theory)
    assert alternatives["gaussian"].p_value > 0.01
    assert theory.crossovers()["decades"] < 0.5 or theory.s <= 0.05


def test_bad_samples_are_a_clear_error():
    with pytest.raises(DataError, match="NaN"):
        fit_theory([0.1, np.nan] * 20)
    with pytest.raises(DataError, match="20 non-zero"):
        fit_theory(np.r_[np.zeros(100), np.ones(5)])


def test_sigma_interval_is_the_profile_likelihood_one(toy_marginal):
    """At each end of σ's interval the profile log-likelihood, maximized over (log c, s) by Nelder-Mead on the
    normalized density theory_logpdf (independent of the fit's own ℓ and gradient), lies χ²₁(0.95)/2 = 1.92
    below the maximum, to 0.03 (a coverage level within ±0.3 %)."""
    from scipy import optimize

    delta = toy_marginal.rvs(3000, random_state=21)
    fit = fit_theory(delta)
    for end in fit.confidence_interval("sigma"):
        def negative(y, sigma=end):
            return -np.sum(theory_logpdf(delta, np.exp(y[0]), y[1], sigma))
        best = optimize.minimize(negative, [np.log(fit.c), fit.s], method="Nelder-Mead",
                                 options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000})
        assert fit.loglik + best.fun == pytest.approx(0.5 * stats.chi2.ppf(0.95, 1), abs=0.03)
