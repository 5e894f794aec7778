"""Verdicts on synthetic cases, one headline definition everywhere, and the analysis API's outputs."""

import contextlib
import io
import json

import numpy as np
import pytest
from scipy import stats

import statmech_nn
from statmech_nn.cli import main
from statmech_nn.compare import verdicts as V
from statmech_nn.compare.columns import column_row, decades_in_data, fit_table
from statmech_nn.io import Trajectory
from statmech_nn.quartic import QuarticModel

TOY = dict(lambda_x=0.01, g=1.0, lambda_q=0.5, alpha=2.0, beta=1.0)  # c = 0.1, s = 1, σ = 1


@pytest.fixture(scope="module")
def theory_rows():
    return fit_table(QuarticModel(**TOY).marginal().rvs((4000, 4), random_state=1))[0]


def test_a_pure_gaussian_gives_no_power_law_and_no_cutoff():
    """Gaussian increments (eq. (6) at s = 0): Q2 "not supported"; Q3 never "supported" (no power law to cut off)."""
    rows, _ = fit_table(np.random.default_rng(0).normal(0.0, 2.0, (3000, 4)))
    assert V.powerlaw_verdict(rows).verdict == "not supported"
    assert V.cutoff_verdict(rows).verdict != "supported"


def test_a_theory_law_sample_has_a_resolved_cutoff(theory_rows):
    """c = 0.1, σ = 1: the cut-off lies well inside 4000 samples; the nested LR rejects σ = ∞ in each column, and
    the detail reports the LR statistic 2Δℓ (positive: favours the cut-off), the direction of the word."""
    verdict = V.cutoff_verdict(theory_rows)
    assert verdict.verdict == "supported" and verdict.numbers["cutoff_significant"] == 4
    assert verdict.numbers["median_lr_statistic"] > 0 and "2Δℓ" in verdict.detail and "Vuong" not in verdict.detail


def test_tiny_data_is_inconclusive():
    rows, _ = fit_table(QuarticModel(**TOY).marginal().rvs((60, 2), random_state=2))
    for verdict in V.network_verdicts(rows):
        assert verdict.verdict == "inconclusive", verdict.id


def test_decades_are_counted_inside_the_data_only(theory_rows):
    """The toy law spans log10((2sσ² - c²)/c²) = 2.3 decades of u between c² and u_S; the counted range never
    reaches past the largest or below the smallest |Δ|; a range under POWER_LAW_DECADES is never "supported"."""
    delta = QuarticModel(**TOY).marginal().rvs(4000, random_state=1)
    row = column_row(delta)
    magnitude = np.abs(delta)
    inside = np.log10(min(row["u_slope"], magnitude.max() ** 2) / max(row["u_low"], magnitude.min() ** 2))
    assert row["decades_in_data"] == pytest.approx(inside, rel=1e-12) and row["decades_in_data"] <= row["decades_slope"]
    law = {"s": 1.0, "u_low": 1e-4, "u_slope": 1e2}  # 6 decades of u, of which the data below cover 4
    assert decades_in_data(law, np.geomspace(1e-3, 1.0, 50)) == pytest.approx(4.0, rel=1e-12)
    assert decades_in_data(law, np.geomspace(0.1, 0.2, 50)) == pytest.approx(2 * np.log10(2.0), rel=1e-12)
    assert decades_in_data({**law, "s": -0.1}, np.geomspace(1e-3, 1.0, 50)) == 0.0
    short = [{**row, "decades_in_data": V.POWER_LAW_DECADES - 0.1} for row in theory_rows]
    assert V.powerlaw_verdict(short).verdict != "supported"
    assert V.powerlaw_verdict(theory_rows).verdict == "supported"


def test_decades_do_not_depend_on_the_units():
    """The same law in units 1e3 times larger has the same decades inside the data (u_S/c² is a ratio of
    scales); the Lambert-W decades of 002 eq. (7) with g = 1 do not have this property."""
    delta = QuarticModel(**TOY).marginal().rvs(4000, random_state=6) * 1e-3
    small, large = column_row(delta), column_row(delta * 1e3)
    assert small["decades_in_data"] == pytest.approx(large["decades_in_data"], rel=1e-6)


def test_range_amplitude_correlation_and_its_interval():
    """Q6 on rows whose range (second half) shrinks with amplitude (first half): ρ equals scipy's, the Fisher
    interval lies below 0; the flipped relation is "not supported"."""
    rng = np.random.default_rng(3)
    rms = rng.uniform(1.0, 2.0, 40)
    rows = [{"column": j, "status": "resolved", "amplitude_first_half": r,
             "decades_second_half": 3.0 - r + 0.2 * rng.normal()} for j, r in enumerate(rms)]
    verdict = V.range_amplitude_verdict(rows)
    rho = stats.spearmanr(rms, [row["decades_second_half"] for row in rows]).statistic
    assert verdict.numbers["spearman_rho"] == pytest.approx(rho, rel=1e-12)
    assert verdict.verdict == "supported" and verdict.numbers["rho_hi"] < 0
    flipped = [{**row, "decades_second_half": -row["decades_second_half"]} for row in rows]
    assert V.range_amplitude_verdict(flipped).verdict == "not supported"


def test_spectrum_and_bimodality_verdicts():
    rng = np.random.default_rng(4)
    rows = [{"status": "resolved", "spectrum_exponent_low": 1.5 + 0.05 * rng.normal(),
             "spectrum_exponent_high": 2.0 + 0.05 * rng.normal()} for _ in range(10)]
    assert V.spectrum_verdict(rows).verdict == "supported"
    white = [{**row, "spectrum_exponent_low": row["spectrum_exponent_high"] + 0.3} for row in rows]
    assert V.spectrum_verdict(white).verdict == "not supported"
    assert V.bimodality_verdict(6, 8).verdict == "supported"
    assert V.bimodality_verdict(0, 8).verdict == "not supported"
    assert V.bimodality_verdict(None, None).verdict == "inconclusive"


def test_theory_is_never_preferred_without_describing_its_data():
    row = {"gaussian_delta_aic": 50.0, "gof_p": 1e-6}
    assert not V.theory_preferred(row, "gaussian")
    assert V.theory_preferred({**row, "gof_p": 0.3}, "gaussian")


@pytest.fixture(scope="module")
def analyzed_run(tmp_path_factory):
    """A float32 network-like run with decay-only and ordinary weights, through ``analyze --json`` and as text."""
    run = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(5)
    steps = 4000
    law = QuarticModel(**TOY).marginal().rvs((steps - 1, 5), random_state=rng) * 1e-3
    q = 0.1 + np.cumsum(np.r_[np.zeros((1, 5)), law], axis=0)
    q = np.c_[q, 0.05 * (1 - 1e-6) ** np.arange(steps)].astype(np.float32)
    Trajectory(q=q, t=np.arange(steps), names=[f"fc1.weight[{i},0]" for i in range(6)], chain=None,
               source="networks.train", parameters={"optimizer": "sgd", "lr": 2e-3, "weight_decay": 5e-4}).save(
        run / "trajectory.h5")
    out = {}
    for flag in ("--json", None):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            status = main(["analyze", str(run), "--out", str(run / ("analysis" if flag else "analysis-text")),
                           "--no-figures", "--gof-bootstrap", "5"] + ([flag] if flag else []))
        out[flag] = (status, buffer.getvalue())
    return run, out


@pytest.mark.slow
def test_one_headline_everywhere(analyzed_run):
    """CLI --json, summary.json and fits.json carry the same headline, computed from resolved rows only."""
    run, out = analyzed_run
    status, text = out["--json"]
    assert status == 0
    printed = json.loads(text)
    summary = json.loads((run / "analysis" / "summary.json").read_text())
    fits = json.loads((run / "analysis" / "fits.json").read_text())
    assert printed["headline"] == summary["headline"] == fits["headline"] == V.headline(fits["columns"])
    resolved = [row["exponent"] for row in fits["columns"] if row["status"] == "resolved"]
    assert printed["headline"]["median_exponent_2s"] == pytest.approx(float(np.median(resolved)), rel=1e-12)
    assert printed["headline"]["status_counts"]["decay-only"] == 1
    assert [v["id"] for v in printed["verdicts"]] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "S", "D"]
    assert {v["verdict"] for v in printed["verdicts"]} <= set(V.VERDICTS)


@pytest.mark.slow
def test_text_output_has_verdicts_and_no_python_reprs(analyzed_run):
    _, out = analyzed_run
    status, text = out[None]
    assert status == 0 and text.startswith("verdicts")
    for fragment in ("{'", "['", "None", "nan", "passed"):
        assert fragment not in text, fragment


@pytest.mark.slow
def test_analysis_object_api(tmp_path):
    """analyze(array) → table (pandas), verdicts, plot (PNG paths), save (the files)."""
    q = np.cumsum(QuarticModel(**TOY).marginal().rvs((3000, 3), random_state=6), axis=0)
    analysis = statmech_nn.analyze(q)
    table = analysis.table()
    assert list(table.index) == ["q0", "q1", "q2"] and set(table["status"]) == {"resolved"}
    assert [v.id for v in analysis.verdicts()] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "S", "D"]
    # q is a random walk: its τ fills the window (and it may drift), so the weights are not stationary in it
    assert analysis.verdicts()[-2].verdict == "not supported" and not table["stationarity_stationary"].any()
    paths = analysis.plot(tmp_path / "figures")
    assert set(paths) == {"fig2_fluctuations", "fig3_powerlaw", "fig3_gaussian", "fig4_spectrum", "weight_traces"}
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in paths.values())
    analysis.add_verdict(V.Verdict("X1", "another question", "inconclusive", "none"))
    analysis.add_columns([{"column": j, "drift_ratio": 0.5, "reason": "test"} for j in range(3)], prefix="extra_")
    summary = analysis.save(tmp_path / "saved", draw=False)
    assert [v["id"] for v in summary["verdicts"]][-3:] == ["S", "D", "X1"]
    assert summary["verdicts"][-3]["numbers"]["stationary"] == 0 and summary["verdicts"][-3]["numbers"]["evidence"] >= 1
    table = analysis.table(full=True)
    assert table.loc["q1", "extra_drift_ratio"] == 0.5 and table.loc["q1", "reason"] != "test"
    for name in ("observables.nc", "fits.json", "summary.json", "analysis.json"):
        assert (tmp_path / "saved" / name).is_file()
