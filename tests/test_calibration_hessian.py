"""003's plasticity verdicts (P2–P5) on planted truths: null values, unreachable thresholds, a sparsity
statistic that does not depend on the bootstrap, and each planted scenario at a reduced size.

Statistical tolerances: a fraction over N indicators is held to 4 binomial standard errors; a calibration
row of R sets to the binomial 0.999 quantile of its design rate (wrong answers: at most the 0.999 quantile
of Binomial(R, 0.05); right answers on a stated alternative: at least the 0.001 quantile of
Binomial(R, 0.8)), so a failure is a miscalibration, not bad luck (fixed seeds besides).
"""

import numpy as np
import pytest
from scipy import stats

from statmech_nn.compare.calibration import MAX_WRONG, MIN_POWER, OTHER, calibrate
from statmech_nn.compare.planted import scenarios
from statmech_nn.compare.planted.hessian_truths import contributions, order_parameter_series, plasticity_answers
from statmech_nn.compare.plasticity_verdicts import DEFAULT_ACCEPTANCE, fraction_verdict, order_parameter_verdict
from statmech_nn.observables.hessian_entries import (bootstrap_entries, effect_null_fraction, entry_statistics,
                                                     resample_indices, t_null_fraction)

PLASTICITY = [name for name, s in scenarios().items() if s.analysis == "plasticity"]


def _within(fraction, expected, count, sigmas=4.0):
    return abs(fraction - expected) <= sigmas * np.sqrt(expected * (1 - expected) / count) + 1e-12


def test_null_fractions_are_the_closed_forms():
    assert t_null_fraction(1437, 1437) == pytest.approx(2 * stats.norm.cdf(0.15) - 1, abs=1e-15)
    assert t_null_fraction(1437, 1437) == pytest.approx(0.1192, abs=1e-4)
    assert t_null_fraction(1000, 250) == pytest.approx(2 * stats.norm.cdf(0.3) - 1, abs=1e-15)
    assert effect_null_fraction(1437) > 1 - 1e-7 and effect_null_fraction(120) == pytest.approx(0.8997, abs=1e-4)


@pytest.mark.parametrize("resample", [None, 250])
def test_mean_zero_entries_give_the_null_fraction_under_the_t_reading(resample):
    rng = np.random.default_rng(1)
    n, entries = 1000, 2000
    h = contributions(rng, n, entries)   # every mean 0, independent
    boot = bootstrap_entries(h, resample_indices(n, 200, resample, seed=2))
    fraction, _ = boot.t_fraction()
    assert _within(fraction, t_null_fraction(n, resample or n), entries)
    assert _within(boot.effect_fraction(), effect_null_fraction(n), entries)


def test_effect_band_is_the_binomial_error_of_its_own_fraction():
    rng = np.random.default_rng(3)
    h = contributions(rng, 800, 400, nonzero_share=0.3)
    summary, _ = entry_statistics(h, 100, bootstrap=20)
    f = summary["frac_effect_below_0_15"]
    assert f == pytest.approx(0.7, abs=4 * np.sqrt(0.21 / 400))
    assert summary["frac_effect_below_0_15_band"] == pytest.approx(np.sqrt(f * (1 - f) / 400), rel=1e-12)
    assert summary["frac_effect_below_0_15_band"] != summary["frac_t_below_0_15_band"]


def test_sparsity_does_not_depend_on_the_number_of_replicates():
    rng = np.random.default_rng(4)
    h = contributions(rng, 1000, 200, group=10, rho=0.3)
    by_b = [entry_statistics(h, 500, bootstrap=b, correlation_subset=80)[0] for b in (50, 200, 1000, 4000)]
    assert len({s["correlation_sparsity"] for s in by_b}) == 1
    # the bootstrap correlation converges to the per-example correlation that is tested
    boot = bootstrap_entries(h[:, :6], resample_indices(1000, 4000, seed=5))
    assert np.corrcoef(boot.replicates, rowvar=False) == pytest.approx(np.corrcoef(h[:, :6], rowvar=False), abs=0.06)
    # independent entries: Benjamini-Hochberg at q = 0.05 calls almost no pair non-zero
    independent = entry_statistics(contributions(rng, 1000, 200), 500, bootstrap=50)[0]
    assert independent["correlation_sparsity"] >= 0.99


def _summary(fraction, null, live=300):
    return {"entries": live, "structural_zero_entries": 0, "frac_t_below_0_15": fraction, "frac_t_null": null,
            "frac_t_below_0_15_band": 0.01, "frac_effect_below_0_15": fraction, "frac_effect_null": null,
            "frac_effect_below_0_15_band": 0.01}


def test_an_unreachable_threshold_says_so():
    verdict = fraction_verdict("P2", [_summary(0.12, 0.1192)] * 3, [0, 5, 9], DEFAULT_ACCEPTANCE)
    assert verdict["verdict"] == "inconclusive" and verdict["id"] == "P2"
    assert verdict["numbers"]["reachable"] is False and verdict["numbers"]["threshold"] == 0.95
    assert verdict["numbers"]["null_fraction"] == [0.1192] * 3 and "unreachable" in verdict["test"]
    reachable = fraction_verdict("P3", [_summary(1.0, 1.0)] * 3, [0, 5, 9], DEFAULT_ACCEPTANCE)
    assert reachable["verdict"] == "supported" and reachable["numbers"]["reachable"] is True
    below = fraction_verdict("P3", [_summary(1.0, 1.0), _summary(0.8, 1.0)], [0, 9], DEFAULT_ACCEPTANCE)
    assert below["verdict"] == "not supported"


def test_order_parameter_needs_ten_snapshots_and_gives_a_p_value():
    rng = np.random.default_rng(6)
    few = order_parameter_series(rng, 5, 0.1)
    verdict = order_parameter_verdict(list(few.epochs), few.risk, few.eta_op, DEFAULT_ACCEPTANCE)
    assert verdict["verdict"] == "inconclusive" and "fewer than 10" in verdict["test"]
    many = order_parameter_series(rng, 12, 0.1)
    verdict = order_parameter_verdict(list(many.epochs), many.risk, many.eta_op, DEFAULT_ACCEPTANCE)
    expected = stats.spearmanr(many.eta_op, many.risk, alternative="greater").pvalue
    assert verdict["numbers"]["p_value"] == pytest.approx(expected, rel=1e-12) and verdict["verdict"] == "supported"


def test_the_analysis_answers_every_verdict_its_scenario_calibrates():
    for name in PLASTICITY:
        scenario = scenarios()[name]
        answers = plasticity_answers(scenario.draw(0, 0, "reduced"), dict(scenario.options))
        assert set(scenario.truth) <= set(answers)


@pytest.mark.slow
@pytest.mark.parametrize("name", PLASTICITY)
def test_planted_scenario_at_reduced_size(name):
    scenario = scenarios()[name]
    replicates = 40 if name.startswith("op-") else 24
    for row in calibrate(names=[name], replicates=replicates, seed=11, size="reduced"):
        wrong = row.counts[OTHER[row.truth]]
        assert wrong <= stats.binom.ppf(0.999, replicates, MAX_WRONG), (row.verdict, row.counts)
        if row.powered:
            assert row.counts[row.truth] >= stats.binom.ppf(0.001, replicates, MIN_POWER), (row.verdict, row.counts)
    if name == "hessian-mean-zero":   # the t reading cannot say "supported" even when every mean is 0
        p2 = next(r for r in calibrate(names=[name], replicates=5, seed=11, size="reduced") if r.verdict == "P2")
        assert p2.counts["inconclusive"] == 5
    assert scenario.analysis == "plasticity"
