"""One test battery for every distribution class of the package (as scipy.stats tests all its laws alike).

Each law is checked against computations independent of its own shortcuts: normalization and tail masses by
adaptive quadrature of its density (or sums of its pmf), quantiles against its cdf, samples against its cdf by
a KS (continuous) or binned chi-square (discrete) test, moments against quadrature.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from statmech_nn.compare.fits import FluctuationLaw
from statmech_nn.distributions import Distribution, Folded, Normal, StudentT
from statmech_nn.meanfield.cw_exact import CurieWeissExact
from statmech_nn.observables.powerlaw import PowerLaw
from statmech_nn.quartic.model import QuarticModel

CONTINUOUS = {
    "marginal-mu0": lambda: QuarticModel(lambda_x=0.05, g=1.0, lambda_q=0.5, alpha=2.5, beta=1.0).marginal(),
    "marginal-frustrated": lambda: QuarticModel(lambda_x=-0.2, g=1.0, lambda_q=0.5, alpha=2.0, beta=1.0,
                                                mu=0.5).marginal(),
    "conditional-gaussian": lambda: QuarticModel(lambda_x=0.3, g=1.0, lambda_q=1.0, alpha=2.0,
                                                 beta=1.5).conditional(0.4),
    "conditional-bimodal": lambda: QuarticModel(lambda_x=-0.5, g=1.0, lambda_q=1.0, alpha=2.0, beta=2.0,
                                                mu=0.3).conditional(0.2),
    "fluctuation-law": lambda: FluctuationLaw(c=0.05, s=0.8, sigma=2.0),
    "fluctuation-law-student": lambda: FluctuationLaw(c=1.0, s=2.5, sigma=1e6),
    "power-law": lambda: PowerLaw(alpha=3.5, xmin=0.2),
    "normal": lambda: Normal(scale=0.3),
    "student-t": lambda: StudentT(nu=6.0, scale=2.0),
    "folded-student-t": lambda: Folded(StudentT(nu=6.0, scale=2.0)),
    "folded-fluctuation-law": lambda: Folded(FluctuationLaw(c=0.05, s=0.8, sigma=2.0)),
}
DISCRETE = {
    "curie-weiss-paramagnet": lambda: CurieWeissExact(40, 0.5, 1.0, 0.1),
    "curie-weiss-ordered": lambda: CurieWeissExact(60, 1.6, 1.0, 0.0),
}
METHODS = ("pdf logpdf cdf logcdf sf logsf ppf isf rvs mean var std median interval moment support").split()
BODY = np.array([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])


@pytest.fixture(scope="module", params=sorted(CONTINUOUS) + sorted(DISCRETE))
def law(request):
    return (CONTINUOUS | DISCRETE)[request.param]()


def _quad(function, lo, hi):
    return integrate.quad(function, lo, hi, limit=400, epsabs=0.0, epsrel=1e-11)[0]


def _split_quad(function, law, lo=None, hi=None):
    """∫ over [lo, hi] (default: the support), split at the quartiles so that narrow peaks are seen."""
    a, b = law.support()
    lo, hi = (a if lo is None else lo), (b if hi is None else hi)
    cuts = [lo, *[c for c in law.ppf([0.001, 0.25, 0.5, 0.75, 0.999]) if lo < c < hi], hi]
    return sum(_quad(function, x0, x1) for x0, x1 in zip(cuts[:-1], cuts[1:]))


def test_every_law_has_scipys_names_and_a_readable_repr(law):
    assert isinstance(law, Distribution)
    for name in METHODS:
        assert callable(getattr(law, name)), name
    text = repr(law)
    assert text.startswith(type(law).__name__ + "(") and "<" not in text and "object at" not in text


def test_normalization(law):
    if law.discrete:
        assert np.exp(law.logpmf(law.values())).sum() == pytest.approx(1.0, abs=1e-12)
    else:
        assert _split_quad(law.pdf, law) == pytest.approx(1.0, abs=1e-9)


def test_cdf_and_ppf_are_inverse(law):
    if law.discrete:
        values = law.values()
        np.testing.assert_array_equal(law.ppf(law.cdf(values)), values)
        # the least support point whose cdf reaches p
        p = np.linspace(0.02, 0.98, 25)
        x = law.ppf(p)
        assert np.all(law.cdf(x) >= p - 1e-12)
        below = np.searchsorted(values, x) - 1
        assert np.all(np.where(below >= 0, law.cdf(values[np.maximum(below, 0)]) < p + 1e-12, True))
    else:
        np.testing.assert_allclose(law.cdf(law.ppf(BODY)), BODY, rtol=1e-9, atol=0)
        x = law.ppf(BODY)
        np.testing.assert_allclose(law.ppf(law.cdf(x)), x, rtol=1e-8, atol=1e-12 * law.std())
        np.testing.assert_allclose(law.isf(1.0 - BODY), law.ppf(BODY), rtol=1e-8, atol=1e-12 * law.std())


def test_sf_is_one_minus_cdf_and_accurate_in_the_tails(law):
    if law.discrete:
        values = law.values()
        pmf = law.pmf(values)
        exact_sf = np.concatenate([np.cumsum(pmf[::-1])[::-1][1:], [0.0]])
        np.testing.assert_allclose(law.sf(values), exact_sf, rtol=1e-10, atol=1e-300)
        np.testing.assert_allclose(law.cdf(values) + law.sf(values), 1.0, atol=1e-12)
        return
    x = law.ppf(BODY)
    np.testing.assert_allclose(law.sf(x) + law.cdf(x), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.exp(law.logsf(x)), law.sf(x), rtol=1e-12)
    np.testing.assert_allclose(np.exp(law.logcdf(x)), law.cdf(x), rtol=1e-12)
    # far tails: sf and cdf against quadrature of the density, by relative error (1 - cdf would lose it)
    for p in (1e-6, 1e-9):
        upper, lower = law.isf(p), law.ppf(p)
        a, b = law.support()
        assert law.sf(upper) == pytest.approx(_quad(law.pdf, upper, b), rel=1e-6)
        assert law.cdf(lower) == pytest.approx(_quad(law.pdf, a, lower), rel=1e-6)
        assert law.sf(upper) == pytest.approx(p, rel=1e-6)


def test_samples_follow_the_cdf(law):
    draws = law.rvs(size=4000, random_state=7)
    np.testing.assert_array_equal(draws, law.rvs(size=4000, random_state=7))
    if law.discrete:
        values = law.values()
        expected = 4000 * law.pmf(values)
        observed = np.array([np.sum(draws == v) for v in values])
        keep = expected >= 5
        bins_obs = np.append(observed[keep], observed[~keep].sum())
        bins_exp = np.append(expected[keep], expected[~keep].sum())
        if bins_exp[-1] < 5:
            bins_obs, bins_exp = bins_obs[:-1], bins_exp[:-1] * bins_obs[:-1].sum() / bins_exp[:-1].sum()
        assert stats.chisquare(bins_obs, bins_exp).pvalue > 1e-4
    else:
        assert stats.kstest(draws, law.cdf).pvalue > 1e-4


def test_moments_median_and_interval(law):
    assert law.std() ** 2 == pytest.approx(law.var(), rel=1e-12)
    assert law.median() == pytest.approx(float(law.ppf(0.5)), rel=1e-12, abs=1e-15)
    lo, hi = law.interval(0.9)
    if law.discrete:
        pmf = law.pmf(law.values())
        values = law.values()
        assert law.mean() == pytest.approx(pmf @ values, abs=1e-12)
        assert law.var() == pytest.approx(pmf @ (values - law.mean()) ** 2, rel=1e-9, abs=1e-14)
        assert law.cdf(hi) - law.cdf(lo) + law.pmf(lo) >= 0.9 - 1e-12
    else:
        mean = _split_quad(lambda x: x * law.pdf(x), law)
        second = _split_quad(lambda x: (x - mean) ** 2 * law.pdf(x), law)
        assert law.mean() == pytest.approx(mean, abs=1e-8 * law.std())
        assert law.var() == pytest.approx(second, rel=1e-7)
        assert law.moment(1) == pytest.approx(law.mean(), abs=1e-8 * law.std())
        assert law.cdf(hi) - law.cdf(lo) == pytest.approx(0.9, abs=1e-9)


def test_bad_probabilities_are_refused(law):
    for bad in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError):
            law.ppf(bad)
        with pytest.raises(ValueError):
            law.isf(bad)
