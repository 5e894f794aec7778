"""Calibration of Q2, Q3, Q6, the per-weight statuses and the intervals on planted fluctuation laws
(:mod:`statmech_nn.compare.planted.fluctuations_truths`), at the reduced size (2e4 steps × 12 weights) with fixed seeds.

How the tolerances are set: a population verdict is a 2/3-majority of 12 per-weight decisions, so the tests
pool the per-weight decisions of a few planted sets (36 weights) and hold their rate to the per-weight design
with a binomial tolerance; given a per-weight rate p, the population verdict is wrong with probability
P(Bin(12, p) ≥ 8), which is < 1e-6 for p ≤ 0.1, so the population answers on the same sets are asserted
exactly. Each tolerance is stated with its binomial tail probability at the design rate. The full-size rates
(1e5 × 12, 20–40 sets per scenario) are measured by ``statmech-nn calibrate`` (README).
"""

import numpy as np
import pytest
from scipy import stats

from statmech_nn.compare import verdicts as V
from statmech_nn.compare.calibration import calibrate
from statmech_nn.compare.columns import column_row, decades_in_data, fit_table, halves_row
from statmech_nn.compare.fits import FluctuationLaw, fit_theory, theory_crossovers
from statmech_nn.compare.planted import scenarios
from statmech_nn.compare.planted.fluctuations_truths import CORE, sigma_for_decades, theory_walks

SEED = 2026


@pytest.mark.parametrize("c, s, sigma", [(0.1, 1.0, 1.0),      # Student-t proposal (s > 1/2, cut-off far out)
                                         (0.01, 0.3, 1.0),     # Gaussian proposal (s < 1/2)
                                         (1.0, -0.5, 2.0),     # s < 0: wide Gaussian proposal, bounded ratio
                                         (1.0, 3.0, 0.1),      # the Gaussian dominates
                                         (1e-3, 1.0, 0.7)])    # 6 decades of power law
def test_the_exact_sampler_matches_the_cdf(c, s, sigma):
    """5000 draws pass the KS test against the law's own cdf at p > 1e-3 (for an exact sampler each case
    fails with probability 1e-3; a 5 % error in the tail mass of the power law fails it), and a seed gives the
    same draws."""
    law = FluctuationLaw(c, s, sigma)
    draws = law.rvs(5000, random_state=SEED)
    assert stats.kstest(draws, law.cdf).pvalue > 1e-3
    np.testing.assert_array_equal(draws, law.rvs(5000, random_state=SEED))


def test_the_sampler_draws_the_full_size_at_once():
    """The README's size, 1e5 steps × 12 weights, in one vectorized call (inverting the cdf ran out of memory)."""
    draws = FluctuationLaw(CORE, 1.0, sigma_for_decades(4)).rvs((100_000, 12), random_state=SEED)
    assert draws.shape == (100_000, 12) and np.all(np.isfinite(draws))


def _sets(name: str, replicates: int) -> list[list[dict]]:
    """Rows of ``replicates`` reduced-size planted sets of scenario ``name`` (their increments through fit_table,
    the analysis' per-weight step)."""
    scenario = scenarios()[name]
    return [fit_table(np.diff(scenario.draw(SEED, r, "reduced").q, axis=0))[0] for r in range(replicates)]


@pytest.fixture(scope="module")
def planted():
    return {name: _sets(name, replicates) for name, replicates in
            (("eq6-2dec", 2), ("gaussian", 2), ("student-t", 2), ("eq6-1dec", 1), ("pareto-tail", 1))}


def _answers(sets, verdict):
    return [verdict(rows).verdict for rows in sets]


@pytest.mark.slow
def test_q2_supports_the_law_it_tests(planted):
    """eq. (6) with 2 decades of u: per weight a power law (the Gaussian rejected, the law describes the data,
    ≥ 1.5 decades inside the data) in ≥ 20 of 24 weights (at the measured per-weight rate ~0.98, P(Bin(24, 0.98)
    < 20) < 1e-4), and Q2 "supported" in every set (the CSN test rejected these data before: it asks for a pure
    power law from x_min to infinity)."""
    weights = [row for rows in planted["eq6-2dec"] for row in rows]
    assert sum(V._has_power_law(row) for row in weights) >= 20
    assert _answers(planted["eq6-2dec"], V.powerlaw_verdict) == ["supported"] * 2


@pytest.mark.slow
def test_q2_says_not_supported_for_gaussians_and_never_for_eq6(planted):
    """Gaussian increments: the Gaussian (s = 0) is not rejected in ≥ 19 of 24 weights (the χ²(2) LR test has size
    ≤ 5 %: P(Bin(24, 0.05) > 5) = 0.007) and Q2 is "not supported" in every set; eq. (6) with 1 decade of u lies
    below the verdict's range threshold: "inconclusive" allowed, "not supported" never."""
    weights = [row for rows in planted["gaussian"] for row in rows]
    assert sum(row["gaussian_p"] > V.SIGNIFICANCE for row in weights) >= 19
    assert _answers(planted["gaussian"], V.powerlaw_verdict) == ["not supported"] * 2
    assert "not supported" not in _answers(planted["eq6-1dec"], V.powerlaw_verdict)


@pytest.mark.slow
def test_q2_calls_a_pure_power_law_a_power_law(planted):
    """A Student-t has a power law from its core to the end of the data: Q2 "supported" (stated truth); whether
    there is a cut-off is Q3's question."""
    assert _answers(planted["student-t"], V.powerlaw_verdict) == ["supported"] * 2


@pytest.mark.slow
def test_q3_has_its_nominal_size_without_a_cutoff(planted):
    """Student-t data (no cut-off): the per-weight LR test against the law without cut-off (½χ²₀ + ½χ²₁, p <
    0.05) fires in ≤ 5 of 24 weights (design 5 %: P(Bin(24, 0.05) ≥ 6) = 0.007), and Q3 is "not supported" in
    every set; Lomax (Pareto-tailed) data are never "supported"."""
    weights = [row for rows in planted["student-t"] for row in rows]
    fired = sum(row["status"] == "resolved" and row["student_t_p"] < V.SIGNIFICANCE for row in weights)
    assert fired <= 5
    assert _answers(planted["student-t"], V.cutoff_verdict) == ["not supported"] * 2
    assert "supported" not in _answers(planted["pareto-tail"], V.cutoff_verdict)


@pytest.mark.slow
def test_q3_finds_the_cutoff_inside_the_data(planted):
    """eq. (6) data: the cut-off is significant in ≥ 20 of 24 weights (power ~1 at this size) and Q3 is
    "supported" in every set, with the LR statistic 2Δℓ > 0 in the detail (the word and the number agree)."""
    weights = [row for rows in planted["eq6-2dec"] for row in rows]
    assert sum(row["status"] == "resolved" and row["student_t_p"] < V.SIGNIFICANCE for row in weights) >= 20
    for rows in planted["eq6-2dec"]:
        verdict = V.cutoff_verdict(rows)
        assert verdict.verdict == "supported" and verdict.numbers["median_lr_statistic"] > 0


@pytest.mark.slow
def test_q6_is_not_confounded_by_identical_laws():
    """16 sets of 12 weights with one law (n = 3000 each, 3 decades): amplitude and range estimated on the same
    sample correlate (median ρ > 0.3: the sampling error of σ̂ moves both), on disjoint halves they do not:
    "supported" (the Fisher interval below 0) in ≤ 3 of 16 sets (design ≤ 5 %, the interval's one-sided
    level 2.8 % at 12 weights: P(Bin(16, 0.05) ≥ 4) = 0.007)."""
    rng = np.random.default_rng(SEED)
    law = FluctuationLaw(CORE, 1.0, sigma_for_decades(3))
    same, supported = [], 0
    for _ in range(16):
        delta = law.rvs((3000, 12), random_state=rng)
        rows = []
        for j in range(12):
            fit = fit_theory(delta[:, j], profiled=())
            row = {"status": "resolved", "s": fit.s, **theory_crossovers(fit.c, fit.s, fit.sigma),
                   **halves_row(delta[:, j])}
            row["decades_in_data"] = decades_in_data(row, delta[:, j])
            row["delta_rms"] = float(np.sqrt(np.mean(delta[:, j] ** 2)))
            rows.append(row)
        same.append(stats.spearmanr([r["delta_rms"] for r in rows], [r["decades_in_data"] for r in rows]).statistic)
        supported += V.range_amplitude_verdict(rows).verdict == "supported"
    assert np.median(same) > 0.3
    assert supported <= 3


@pytest.mark.slow
def test_q6_finds_the_planted_relation():
    """The planted 002 §6 relation (decades spread over [2, 3.5] of u, larger amplitude → fewer decades): Q6
    "supported" in both sets (measured power ~1 at this size)."""
    for rows in _sets("eq6-range-amplitude", 2):
        verdict = V.range_amplitude_verdict(rows)
        assert verdict.verdict == "supported", verdict.detail


def test_statuses_flag_misfits_and_never_draw_them():
    """A law rising away from its core (2s ≤ 0) and one that fails its goodness of fit are ``misfit`` with the
    reason; representative_columns never picks a misfit, nor any row with 2s ≤ 0."""
    rng = np.random.default_rng(SEED)
    flat = column_row(rng.uniform(-1.0, 1.0, 3000))
    lomax = column_row(1e-3 * rng.pareto(2.0, 20_000) * rng.choice([-1.0, 1.0], 20_000))
    assert flat["status"] == "misfit" and "<= 0" in flat["reason"]
    assert lomax["status"] == "misfit" and "goodness of fit" in lomax["reason"]
    rows = [{"column": 0, "status": "misfit", "exponent": 2.0}, {"column": 1, "status": "unresolved", "exponent": -7.3},
            {"column": 2, "status": "resolved", "exponent": 2.1}, {"column": 3, "status": "boundary", "exponent": 3.0}]
    assert V.representative_columns(rows) == [2, 3]
    head = V.headline(rows)
    assert head["status_counts"]["misfit"] == 1 and head["weights_resolved"] == 1


@pytest.mark.slow
def test_sigma_interval_covers_when_the_cutoff_is_far_out():
    """eq. (6) with 6 decades of u at n = 3000 (the cut-off far out, where the Wald interval of σ covered 0.88):
    the profile-likelihood interval covers the true σ in ≥ 34 of 40 draws (P(≤ 33 | coverage 0.95) = 0.005)."""
    sigma = sigma_for_decades(6)
    law = FluctuationLaw(CORE, 1.0, sigma)
    covered = 0
    for seed in range(40):
        lo, hi = fit_theory(law.rvs(3000, random_state=seed)).confidence_interval("sigma")
        covered += lo <= sigma <= hi
    assert covered >= 34


@pytest.mark.slow
def test_a_planted_set_runs_through_calibrate():
    """One reduced set of the range-amplitude scenario through the same analysis a user runs (calibrate): its
    rows carry the truth and the answers of Q2, Q3, Q6, all "supported" here."""
    rows = calibrate(["Q2", "Q3", "Q6"], names=["eq6-range-amplitude"], replicates=1, seed=SEED, size="reduced")
    assert {row.verdict: row.counts["supported"] for row in rows} == {"Q2": 1, "Q3": 1, "Q6": 1}


def test_theory_walks_plant_the_stated_laws():
    """The walks' increments are the planted draws (to rounding), with per-weight (c, s, σ) in the metadata."""
    trajectory = theory_walks(np.random.default_rng(SEED), 500, 3, [1e-3, 2e-3, 3e-3], 0.05)
    assert trajectory.metadata["c"] == [1e-3, 2e-3, 3e-3] and trajectory.q.shape == (501, 3)
    assert np.all(trajectory.q[0] == 0.0)
