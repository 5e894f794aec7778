"""Bimodality of neuron outputs (002 Fig. 1) and rank-frequency (Zipf) exponents of activation patterns (001)."""

import numpy as np
import pytest
from scipy import stats

from statmech_nn.errors import DataError
from statmech_nn.observables.activity import bimodality, fit_zipf, pattern_counts


def test_two_separated_gaussians_are_bimodal_and_recovered():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-2.0, 1.0, 1500), rng.normal(2.5, 0.7, 1000)]
    result = bimodality(x, seed=1)
    assert result.bimodal and result.modes == 2 and result.delta_bic > 100
    np.testing.assert_allclose(result.means, [-2.0, 2.5], atol=0.15)
    np.testing.assert_allclose(result.sds, [1.0, 0.7], atol=0.1)
    np.testing.assert_allclose(result.weights, [0.6, 0.4], atol=0.03)


@pytest.mark.parametrize("sample", ["gaussian", "student_t", "skewed"])
def test_unimodal_samples_are_not_bimodal(sample):
    """One Gaussian (BIC prefers one component), a Student-t and a lopsided mixture with one mode
    (BIC prefers two components, but the fitted mixture has one mode): none is called bimodal."""
    rng = np.random.default_rng(2)
    x = {"gaussian": rng.normal(size=3000), "student_t": stats.t.rvs(3, size=3000, random_state=3),
         "skewed": np.r_[rng.normal(0, 1, 2400), rng.normal(1.2, 1.0, 600)]}[sample]
    result = bimodality(x, seed=4)
    assert not result.bimodal
    if sample == "gaussian":
        assert result.delta_bic < 0
    if sample == "student_t":
        assert result.delta_bic > 10 and result.modes == 1


def test_bimodality_is_reproducible_from_a_seed():
    x = np.random.default_rng(5).normal(size=500)
    assert bimodality(x, seed=9) == bimodality(x, seed=9)


def test_pattern_counts_count_distinct_rows():
    active = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 0, 0], [1, 1, 1]], bool)
    np.testing.assert_array_equal(pattern_counts(active), [3, 2, 1])
    wide = np.zeros((4, 70), bool)
    wide[:2, 69] = True  # patterns longer than a byte
    np.testing.assert_array_equal(pattern_counts(wide), [2, 2])


@pytest.mark.parametrize("s", [0.8, 1.0, 1.4])
def test_zipf_exponent_is_recovered_from_synthetic_patterns(s):
    """2e5 observations of 2000 patterns with P(rank r) ∝ r^-s: the MLE within 4σ (σ ~ 0.001-0.002) plus
    0.01 of s; the CSN cross-check 1/(α-1) of the counts within 0.06."""
    rng = np.random.default_rng(int(s * 10))
    p = np.arange(1, 2001) ** -s
    counts = np.bincount(rng.choice(2000, size=200_000, p=p / p.sum()), minlength=2000)
    fit = fit_zipf(counts, min_count=20)
    assert abs(fit.s - s) < 4 * fit.sigma + 0.01
    assert abs(fit.s_from_counts - s) < 0.06


def test_bad_inputs_are_clear_errors():
    with pytest.raises(DataError, match="at least 10"):
        bimodality([1.0, 2.0])
    with pytest.raises(DataError, match="not all equal"):
        bimodality(np.ones(50))
    with pytest.raises(DataError, match="integers"):
        fit_zipf([3.5, 2, 1])
    with pytest.raises(DataError, match="fewer than 3"):
        fit_zipf([100, 50, 1, 1], min_count=10)
    with pytest.raises(DataError, match="samples, units"):
        pattern_counts(np.ones(5, bool))
