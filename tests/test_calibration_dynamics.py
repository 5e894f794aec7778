"""Calibration of Q1 (planted/decay_truths.py) and of the dynamics' treatment (D; planted/dynamics_truths.py) at the
reduced size: each scenario's planted sets through the network analysis, fixed seeds.

Tolerance: 8 replicates per scenario. A powered verdict must give the right answer in at least 6 of 8 (at the
design power 0.8 that fails with probability 0.26, at the measured rates ≥ 0.95 with probability < 0.006), the
wrong answer in at most 1 of 8 (at the design's 5 % the chance of 2 or more is 0.057; at the measured ≈ 0 it is
negligible). Every set is drawn from a fixed seed, so a failure is a change of the analysis, not chance."""

import numpy as np
import pytest
from calibration_helpers import assert_within

from statmech_nn.compare.calibration import calibrate
from statmech_nn.compare.planted import scenarios
from statmech_nn.compare.planted.decay_truths import KAPPA, decay_mixture, eq6_steps, gradient_peak
from statmech_nn.compare.analysis import AnalysisOptions, analyze_trajectory

REPLICATES = 8
NAMES = ("q1-decay-kappa-recorded", "q1-decay-kappa-unrecorded", "q1-gradient-peak", "q1-no-peak",
         "momentum-recorded", "momentum-unrecorded", "adam-recorded", "adam-unrecorded")
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", NAMES)
def test_scenario_within_tolerance(name):
    rows = calibrate(names=[name], replicates=REPLICATES, seed=0, size="reduced")
    assert {row.verdict for row in rows} == set(scenarios()[name].truth)
    for row in rows:
        assert_within(row, 1, 6)


def test_the_law_sampler_matches_eq6():
    """The planted rejection sampler against the law's own CDF (compare.fits.FluctuationLaw): KS at n = 20 000."""
    from scipy import stats

    from statmech_nn.compare.fits import FluctuationLaw

    draws = eq6_steps(np.random.default_rng(3), (20_000,), c=1e-3, s=1.5, sigma=3e-2)
    assert stats.kstest(draws, FluctuationLaw(1e-3, 1.5, 3e-2).cdf).pvalue > 1e-3


def test_the_decay_rate_comes_from_the_data_and_the_origin_is_told():
    """κ not recorded: the mode of -Δ/w recovers it to 1e-6 relative; Q1's origin is weight decay. A narrow peak
    inside the gradient steps: origin the frustrated regime, its mass and width recovered within 20 %."""
    options = AnalysisOptions(figures=False, gof_bootstrap=0)
    analysis = analyze_trajectory(decay_mixture(np.random.default_rng(5), 10_000, 6, recorded=False), options)
    assert analysis.decay.source == "mode of -delta/w"
    assert np.nanmedian(analysis.decay.kappa) == pytest.approx(KAPPA, rel=1e-6)
    q1 = analysis.verdicts()[0]
    assert q1.verdict == "supported" and "weight decay" in q1.numbers["origin"]
    analysis = analyze_trajectory(gradient_peak(np.random.default_rng(5), 10_000, 6), options)
    q1 = analysis.verdicts()[0]
    assert q1.verdict == "supported" and "frustrated" in q1.numbers["origin"]
    masses = [row["gradient_peak_mass"] for row in analysis.rows]
    widths = [row["gradient_peak_width"] for row in analysis.rows]
    assert np.median(masses) == pytest.approx(0.2, rel=0.2) and np.median(widths) == pytest.approx(1e-3 / 30, rel=0.2)
