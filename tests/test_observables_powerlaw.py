"""The CSN power-law fitter: against the ``powerlaw`` package on its reference data, against a brute-force
O(n²) scan, on synthetic laws with known exponents, and its bootstrap and likelihood-ratio tests."""

import warnings

import numpy as np
import powerlaw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from statmech_nn.errors import DataError
from statmech_nn.observables._numerics.hurwitz import log_hurwitz_zeta
from statmech_nn.observables.powerlaw import fit_powerlaw, sample_powerlaw

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")

# discrete/continuous and units as in the powerlaw package's own reference tests (after CSN 2009 Table 6.1)
REFERENCE_SETS = {"words": (True, 1.0), "terrorism": (True, 1.0), "blackouts": (False, 1e-3),
                  "cities": (False, 1e-3), "fires": (False, 1.0), "flares": (False, 1.0),
                  "quakes": (False, 1e-3), "surnames": (False, 1e-3)}


def _reference(name):
    discrete, factor = REFERENCE_SETS[name]
    data = powerlaw.load_test_dataset(name) * factor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = powerlaw.Fit(data, discrete=discrete, estimate_discrete=False, verbose=0)
    return data, discrete, theirs


@pytest.fixture(scope="module")
def references():
    return {name: _reference(name) for name in REFERENCE_SETS}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REFERENCE_SETS))
def test_alpha_and_xmin_match_the_powerlaw_package(references, name):
    """x_min identical; α to 1e-10 (continuous: the same closed form) or 1e-4 (discrete: powerlaw's
    Nelder-Mead stops at tol=1e-4, ours is the exact root of the likelihood equation); D and n_tail too."""
    data, discrete, theirs = references[name]
    ours = fit_powerlaw(data, discrete=discrete)
    assert ours.xmin == theirs.xmin
    assert ours.ntail == theirs.n_tail
    if discrete:
        assert abs(ours.alpha - theirs.power_law.alpha) < 1e-4
        assert abs(ours.D - theirs.power_law.D) < 1e-4
    else:
        assert ours.alpha == pytest.approx(theirs.power_law.alpha, rel=1e-10)
        assert ours.D == pytest.approx(theirs.power_law.D, rel=1e-9)
        assert ours.sigma == pytest.approx(theirs.power_law.standard_err, rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["blackouts", "cities", "fires", "flares", "terrorism"])
def test_likelihood_ratios_match_the_powerlaw_package_where_its_fits_are_regular(references, name):
    """Normalized R within 0.01 (the tolerance of powerlaw's own reference tests) for all three alternatives."""
    data, discrete, theirs = references[name]
    ours = fit_powerlaw(data, discrete=discrete)
    for alternative in ("lognormal", "exponential", "truncated_power_law"):
        r_ours, p_ours = ours.compare(alternative)
        nested = alternative == "truncated_power_law"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r_theirs, p_theirs = theirs.loglikelihood_ratio("power_law", alternative, normalized_ratio=True,
                                                            nested=nested)
        assert r_ours == pytest.approx(r_theirs, abs=0.01), alternative
        assert p_ours == pytest.approx(p_theirs, abs=0.01), alternative


@pytest.mark.slow
def test_degenerate_lognormal_reaches_the_power_law_limit_where_powerlaw_overshoots(references):
    """On quakes the log-normal MLE is its σ → ∞ limit, the power law itself (R → 0). powerlaw reports
    R = -0.80 there from a log-likelihood that scipy.stats.lognorm contradicts; we check scipy's value."""
    data, _, _ = references["quakes"]
    ours = fit_powerlaw(data)
    r, p = ours.compare("lognormal")
    assert 0.0 <= r < 0.01 and p > 0.99
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = powerlaw.Fit(data, xmin=ours.xmin, verbose=0).lognormal
    log_tail = np.log(ours.tail)
    exact = np.sum(stats.norm.logpdf(log_tail, theirs.mu, theirs.sigma) - log_tail
                   - stats.norm.logsf(np.log(ours.xmin), theirs.mu, theirs.sigma))
    assert exact < np.sum(theirs.loglikelihoods(ours.tail)) - 0.5  # powerlaw overstates its own fit
    assert ours.alternative("lognormal").loglikelihood() >= exact  # our MLE beats their point ...
    assert ours.model().loglikelihood() >= exact                   # ... and so does the power law


def _brute_force(data, discrete, alpha_max):
    """O(n²) CSN scan with the same conventions, written independently with scipy's Hurwitz zeta; candidates
    with α ≥ alpha_max are skipped."""
    from scipy.optimize import brentq
    from scipy.special import zeta
    x = np.sort(data[data > 0])
    distinct = np.unique(x)
    best = (np.inf, None, None)
    for xmin in distinct[:-1]:
        tail = x[x >= xmin]
        if discrete:
            mean_log = np.mean(np.log(tail))
            h = 1e-3  # five-point stencil: truncation ~h^4, rounding ~eps/h, both ~1e-11 (a central
                      # difference at h = 1e-6 loses ~1e-7 in alpha to rounding when alpha ~ 16)

            def score(a):
                log_zeta = lambda b: np.log(zeta(b, xmin))  # noqa: E731
                slope = (log_zeta(a - 2 * h) - 8 * log_zeta(a - h) + 8 * log_zeta(a + h)
                         - log_zeta(a + 2 * h)) / (12 * h)
                return slope + mean_log
            if score(alpha_max) < 0:  # the root lies beyond alpha_max
                continue
            alpha = brentq(score, 1.0 + 3 * h, alpha_max, xtol=1e-14)
            values = np.unique(tail)
            model = 1.0 - zeta(alpha, values) / zeta(alpha, xmin)
        else:
            alpha = 1.0 + tail.size / np.sum(np.log(tail / xmin))
            if alpha >= alpha_max:
                continue
            values = np.unique(tail)
            model = 1.0 - (values / xmin) ** (1.0 - alpha)
        empirical = np.searchsorted(tail, values, side="left") / tail.size
        distance = np.max(np.abs(model - empirical))
        if distance < best[0]:
            best = (distance, xmin, alpha)
    return best


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(5, 300), st.booleans(), st.sampled_from([0.7, 1.5, 3.0]))
def test_branch_and_bound_scan_equals_the_brute_force_scan(seed, n, discrete, shape):
    rng = np.random.default_rng(seed)
    data = np.abs(rng.standard_t(shape, n)) * 10
    if discrete:
        data = np.ceil(data)
    if np.unique(data[data > 0]).size < 2:
        return
    distance, xmin, alpha = _brute_force(data, discrete, alpha_max=20.0)
    if xmin is None:
        return
    fit = fit_powerlaw(data, discrete=discrete, alpha_range=(1.0, 20.0))
    assert fit.xmin == xmin
    # discrete: the reference α comes from a finite-difference score (error ~1e-9)
    assert fit.D == pytest.approx(distance, rel=1e-7 if discrete else 1e-10, abs=1e-12)
    assert fit.alpha == pytest.approx(alpha, rel=1e-7 if discrete else 1e-12)


@pytest.mark.parametrize("discrete", [False, True])
def test_recovers_the_exponent_of_a_pure_power_law(discrete):
    """Pure laws above x_min = 5 (n = 20000): α within 4σ, and σ within 10% of the spread over repeats."""
    alpha, xmin = 2.5, 5.0
    estimates = []
    for seed in range(20):
        sample = sample_powerlaw(alpha, xmin, 20000, discrete, seed)
        fit = fit_powerlaw(sample, discrete=discrete, xmin=xmin)
        assert abs(fit.alpha - alpha) < 4 * fit.sigma
        estimates.append(fit.alpha)
    assert np.std(estimates, ddof=1) == pytest.approx(fit.sigma, rel=0.35)


def test_discrete_sampler_has_the_exact_probability_masses():
    alpha, xmin = 2.2, 3.0
    sample = sample_powerlaw(alpha, xmin, 200_000, discrete=True, seed=3)
    assert np.all(sample == np.round(sample)) and sample.min() >= xmin
    values = np.arange(3, 13)
    pmf = np.exp(-alpha * np.log(values) - log_hurwitz_zeta(alpha, xmin))
    observed = np.array([(sample == v).sum() for v in values])
    expected = pmf * sample.size
    chi2 = np.sum((observed - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, values.size) > 1e-3


def test_goodness_of_fit_accepts_a_power_law_and_rejects_an_exponential():
    rng = np.random.default_rng(0)
    pareto = 1.0 * (1.0 - rng.random(1500)) ** (-1.0 / 1.5)
    assert fit_powerlaw(pareto).gof_pvalue(n_boot=60, seed=1) > 0.05
    exponential = rng.exponential(1.0, 1500) + 1.0
    assert fit_powerlaw(exponential, xmin=1.0).gof_pvalue(n_boot=60, seed=1) < 0.05


def test_goodness_of_fit_is_reproducible_from_a_seed():
    data = np.abs(np.random.default_rng(4).standard_t(2.0, 800))
    fit = fit_powerlaw(data)
    assert fit.gof_pvalue(n_boot=20, seed=7) == fit.gof_pvalue(n_boot=20, seed=7)


def test_likelihood_ratio_favours_the_true_family():
    rng = np.random.default_rng(5)
    pareto = 2.0 * (1.0 - rng.random(4000)) ** (-1.0 / 1.2)
    r, p = fit_powerlaw(pareto, xmin=2.0).compare("exponential")
    assert r > 3 and p < 1e-3
    exponential = rng.exponential(3.0, 4000) + 2.0
    r, p = fit_powerlaw(exponential, xmin=2.0).compare("exponential")
    assert r < -3 and p < 1e-3
    fit = fit_powerlaw(exponential, xmin=2.0).alternative("exponential")
    assert fit.parameters["lam"] == pytest.approx(1 / 3.0, rel=0.05)


def test_continuous_tail_models_are_normalized():
    from scipy.integrate import quad
    rng = np.random.default_rng(6)
    fit = fit_powerlaw(3.0 * (1.0 - rng.random(3000)) ** (-1.0 / 1.3) * np.exp(-rng.random(3000)), xmin=3.0)
    for name in ("lognormal", "exponential", "truncated_power_law"):
        model = fit.alternative(name)
        total = quad(lambda x: np.exp(model.logpdf(np.array([x]))[0]), 3.0, np.inf, limit=400)[0]
        assert total == pytest.approx(1.0, abs=1e-6), name


def test_discrete_tail_models_are_normalized():
    rng = np.random.default_rng(7)
    data = np.floor(2.0 * (1.0 - rng.random(3000)) ** (-1.0 / 1.5))
    fit = fit_powerlaw(data, discrete=True, xmin=2)
    support = np.arange(2.0, 1e5)
    for name in ("lognormal", "exponential", "truncated_power_law"):  # their mass beyond 1e5 is < 1e-12
        model = fit.alternative(name)
        assert np.exp(model.logpdf(support)).sum() == pytest.approx(1.0, abs=1e-9), name
    beyond = np.exp(log_hurwitz_zeta(fit.alpha, 1e5) - log_hurwitz_zeta(fit.alpha, 2.0))
    assert np.exp(fit.model().logpdf(support)).sum() + beyond == pytest.approx(1.0, abs=1e-12)


def test_bad_input_is_a_clear_error():
    with pytest.raises(DataError, match="finite"):
        fit_powerlaw([1.0, np.nan, 2.0])
    with pytest.raises(DataError, match=">= 0"):
        fit_powerlaw([1.0, -2.0, 3.0])
    with pytest.raises(DataError, match="two distinct"):
        fit_powerlaw([0.0, 2.0, 2.0])
    with pytest.raises(DataError, match="integer"):
        fit_powerlaw([1.5, 2.0, 3.0], discrete=True)
    with pytest.raises(DataError, match="fewer than two distinct"):
        fit_powerlaw([1.0, 2.0, 3.0], xmin=3.0)
    with pytest.raises(DataError, match="alpha_range"):
        fit_powerlaw([1.0, 2.0, 3.0, 4.0], alpha_range=(5.0, 6.0))
    with pytest.raises(DataError, match="unknown alternative"):
        fit_powerlaw([1.0, 2.0, 3.0, 4.0]).compare("gamma")


def test_zeros_are_left_out_and_counted_out():
    fit = fit_powerlaw(np.r_[np.zeros(10), np.arange(1.0, 50.0)])
    assert fit.n == 49


def test_a_scan_cut_at_its_budget_says_so_and_bounds_the_best_distance(monkeypatch):
    """The O(n log n) budget: a cut scan returns D and a gap with D - gap <= min D <= D (checked against the full
    scan)."""
    from statmech_nn.observables import powerlaw as fitter
    from statmech_nn.observables._numerics import powerlaw_kernels as kernels

    data = (1 - np.random.default_rng(2).random(20000)) ** (-1 / 1.5)  # pure power law: nearly tied candidates
    full = fit_powerlaw(data)
    assert full.xmin_gap == 0.0 and "xmin_gap" not in full.to_dict()
    monkeypatch.setattr(kernels, "SCAN_BUDGET", 1e-4)
    with pytest.warns(fitter.XminScanWarning, match="budget"):
        cut = fit_powerlaw(data)
    assert cut.xmin_gap > 0 and cut.to_dict()["xmin_gap"] == cut.xmin_gap
    assert cut.D - cut.xmin_gap <= full.D + 1e-15 and full.D <= cut.D + 1e-15
