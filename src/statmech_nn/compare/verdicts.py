"""The sources' questions about a tracked network, answered from the per-weight rows, separate from whether
the pipeline ran: each verdict is ``supported``, ``not supported`` or ``inconclusive`` with its numbers
and the test behind it (DESIGN: verdicts).

Q1 a small-fluctuation peak (002 §5, Fig. 2) and its origin; Q2 a power law on intermediate scales
(002 eq. (21)) between the core and the cut-off, with the decades it spans inside the data; Q3 a Gaussian
cut-off resolved inside the data; Q4 f²P(f) with a < 2 at low f and a ≈ 2 at high f (002 Fig. 4);
Q5 bimodal outputs of frozen second-layer neurons (002 Fig. 1); Q6 002 §6: the scale-invariant range
is smaller for weights whose fluctuation amplitude is larger.

A population verdict needs ≥ 2/3 of its weights for "supported" and ≤ 1/3 (Q1, Q5: < 10%) for "not
supported"; in between, and below :data:`MIN_WEIGHTS` weights, it is "inconclusive".

Populations: Q2 every fitted weight (a power law needs a fit that describes the data, resolved or without
a cut-off inside the data); Q3 the resolved weights and those without a cut-off inside the data; Q6 the
resolved weights; Q1 every weight with a fit of its gradient steps; Q4 every weight that moved by more than
weight decay. Each verdict's error rates on planted data are measured by
:mod:`statmech_nn.compare.calibration` (scenarios of :mod:`statmech_nn.compare.planted`). :func:`headline` is the one
definition of the headline numbers (CLI text, ``--json``, ``fits.json``, ``summary.json``, the report).

More per-weight columns join the rows with :func:`merge_columns`; the stationarity diagnostics joined
with ``prefix="stationarity_"`` bring their verdict S (:func:`stationarity_verdict`) with them. Any other
verdict joins the list as one more :class:`Verdict`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy import stats

from ..autocorrelation import LENGTH_FACTOR
from ..observables.replica_stationarity import ensemble_verdict, replica_init, replica_stationarity_rows
from ..observables.stationarity import DEFAULT_ALPHA as STATIONARITY_ALPHA
from ..observables.stationarity import DRIFT_BOUND
from ..observables.stationarity import stationarity_verdict as weight_stationarity_verdict
from .columns import GOF_ALPHA, STATUSES

VERDICTS = ("supported", "not supported", "inconclusive")
MIN_WEIGHTS = 3            # weights a population verdict needs
MIN_STEPS = 200            # steps per weight a fit-based verdict needs
SIGNIFICANCE = 0.05
CSN_PLAUSIBLE = 0.1        # CSN's rule of thumb for the bootstrap p (reported beside Q2, not deciding it)
POWER_LAW_DECADES = 1.5    # Q2: decades of u = Δ² (0.75 of |Δ|) a weight's power law spans inside the data
NO_RANGE_DECADES = 0.5     # Q2: below this many decades of u a weight has no power-law range
MAJORITY = 2.0 / 3.0      # a population verdict needs at least this share of its weights either way;
MINORITY = 1.0 / 3.0      # between MINORITY and MAJORITY it is inconclusive
HIGH_BAND_TOLERANCE = 0.2  # |a_high - 2| compatible with 2 within this, beyond its interval


@dataclass(frozen=True)
class Verdict:
    """One question, its answer, the numbers behind it and the test that produced them."""

    id: str
    question: str
    verdict: str
    test: str
    numbers: dict = field(default_factory=dict)
    detail: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")

    def to_dict(self) -> dict:
        return asdict(self)


def _finite(rows, key) -> np.ndarray:
    values = np.array([row.get(key) if row.get(key) is not None else np.nan for row in rows], float)
    return values[np.isfinite(values)]


def _median(rows, key):
    values = _finite(rows, key)
    return float(np.median(values)) if values.size else None


def _with_status(rows, *statuses):
    return [row for row in rows if row.get("status") in statuses]


def headline(rows: list[dict]) -> dict:
    """The headline numbers of a fit table, from ``resolved`` rows only; status counts from all rows."""
    resolved = _with_status(rows, "resolved")
    decades_u = _median(resolved, "decades_in_data")
    return {"weights": len(rows), "weights_resolved": len(resolved),
            "status_counts": {status: len(_with_status(rows, status)) for status in STATUSES},
            "median_exponent_2s": _median(resolved, "exponent"),
            "median_decades_u_lambert": _median(resolved, "decades"),
            "median_decades_u_slope": _median(resolved, "decades_slope"),
            "median_decades_in_data_u": decades_u,
            "median_decades_in_data_abs_delta": None if decades_u is None else decades_u / 2.0,
            "median_gof_p": _median(resolved, "gof_p"),
            "weights_theory_describes": sum(describes(row) for row in resolved),
            "theory_preferred_over": {name: sum(theory_preferred(row, name) for row in resolved)
                                      for name in ("gaussian", "student_t", "power_law")}}


def describes(row: dict) -> bool:
    """The fitted law describes its data: binned χ² p ≥ :data:`GOF_ALPHA`."""
    return row.get("gof_p") is not None and np.isfinite(row["gof_p"]) and row["gof_p"] >= GOF_ALPHA


def theory_preferred(row: dict, alternative: str) -> bool:
    """AIC favours the theory over ``alternative`` and the theory describes its data (never one without the other)."""
    delta = row.get(f"{alternative}_delta_aic")
    return delta is not None and np.isfinite(delta) and delta > 0 and describes(row)


def merge_columns(rows: list[dict], extra: list[dict], prefix: str = "") -> list[dict]:
    """Rows with the keys of ``extra`` (one dict per column, matched by ``column``) added, each prefixed by
    ``prefix`` (e.g. "stationarity_", so that another module's ``reason`` does not replace the fit's)."""
    by_column = {int(row["column"]): row for row in extra}
    return [{**row, **{prefix + k: v for k, v in by_column.get(int(row["column"]), {}).items() if k != "column"}}
            for row in rows]


def _too_small(rows) -> bool:
    return len(rows) < MIN_WEIGHTS or np.median([row.get("n", 0) for row in rows]) < MIN_STEPS


def peak_verdict(rows, decay_source: str | None = None) -> Verdict:
    """Q1: a peak of p(Δ) at very small fluctuations (002 Fig. 2) and its origin: exact weight-decay steps
    Δ = -κw (:mod:`statmech_nn.compare.steps`), or a narrow extra component inside the gradient steps (the
    frustrated regime, 002 §2/§4; :mod:`statmech_nn.compare.mixture`). ``decay_source``: where κ came from."""
    question = "a peak at very small fluctuations (002 Fig. 2)"
    fitted = [row for row in rows if row.get("peak_in_gradient_steps") is not None]
    decay_only = len(_with_status(rows, "decay-only"))
    decay_peak = [row for row in fitted if row.get("peak_mass_lo", 0) > 0.01]
    gradient_peak = [row for row in fitted if row["peak_in_gradient_steps"]]
    untestable = [row for row in fitted if row.get("gradient_peak_described") is False]
    numbers = {"weights_tested": len(fitted), "weights_decay_only": decay_only,
               "weights_with_decay_peak": len(decay_peak), "weights_with_gradient_peak": len(gradient_peak),
               "weights_gradient_peak_untestable": len(untestable),
               "decay_rate_source": decay_source, "median_peak_mass": _median(fitted, "peak_mass"),
               "median_gradient_peak_mass": _median(gradient_peak, "gradient_peak_mass"),
               "median_gradient_peak_p": _median(fitted, "gradient_peak_p")}
    test = ("decay peak: share of exact weight-decay steps Δ = -κw (κ recorded, from decay-only weights or the "
            "mode of -Δ/w), Wilson 95% lower bound > 1%; gradient peak: eq. (6) plus a narrow Gaussian (τ ≤ c/3) "
            "against eq. (6), binned likelihood ratio with a pooled parametric-bootstrap p ≤ 0.025 and mass ≥ 1%, "
            "where the fitted mixture describes the steps (G-test p ≥ 0.01; elsewhere untestable); supported when "
            "≥ 2/3 of the tested weights have either, not supported below 10% with at most 1/3 untestable")
    peaked = {row["column"] for row in decay_peak + gradient_peak}
    if _too_small(fitted):
        return Verdict("Q1", question, "inconclusive", test, numbers,
                       f"only {len(fitted)} weights with a tested fit of their gradient steps")
    share = len(peaked) / len(fitted)
    numbers["share_with_peak"] = share
    if share >= MAJORITY:
        origin = ("the frustrated regime (a peak remains in the gradient steps)"
                  if len(gradient_peak) >= len(peaked) / 2
                  else "weight decay on zero inputs" + (" (it vanishes from the gradient steps)"
                                                        if len(untestable) <= MINORITY * len(fitted) else ""))
        numbers["origin"] = origin
        caveat = (f" (the gradient-peak test is untestable in {len(untestable)}: even eq. (6) with a narrow component "
                  "does not describe their steps)" if untestable else "")
        return Verdict("Q1", question, "supported", test, numbers,
                       f"{len(peaked)} of {len(fitted)} weights; origin: {origin}{caveat}")
    verdict = "not supported" if share < 0.1 and len(untestable) <= MINORITY * len(fitted) else "inconclusive"
    return Verdict("Q1", question, verdict, test, numbers,
                   f"{len(peaked)} of {len(fitted)} weights show a peak ({len(decay_peak)} decay, "
                   f"{len(gradient_peak)} in the gradient steps, {len(untestable)} untestable)")


def _without_cutoff(row) -> bool:
    """A fit that describes its data but whose Gaussian width lies beyond the data (boundary σ → ∞, or σ above
    max|Δ|): a power law with no cut-off inside the data."""
    return row.get("status") in ("boundary", "unresolved") and "cut-off" in str(row.get("reason", ""))


def _has_power_law(row) -> bool:
    """Q2 per weight: a law that describes the data (resolved, or without cut-off inside the data), its power-law
    factor significant (the Gaussian, s = 0, rejected) and spanning ≥ POWER_LAW_DECADES decades of u inside the data."""
    return ((row.get("status") == "resolved" or _without_cutoff(row)) and row["gaussian_p"] < SIGNIFICANCE
            and row.get("decades_in_data", 0.0) >= POWER_LAW_DECADES)


def _lacks_power_law(row) -> bool:
    """Q2 per weight: the Gaussian (s = 0) is not rejected, or 2s ≤ 0, or the range inside the data is under
    NO_RANGE_DECADES decades of u."""
    return (row["gaussian_p"] > SIGNIFICANCE or not row.get("exponent", np.nan) > 0
            or row.get("decades_in_data", 0.0) < NO_RANGE_DECADES)


def powerlaw_verdict(rows) -> Verdict:
    """Q2: what 002 eqs. (7), (21) predict, a power law |Δ|^-2s between the core and the cut-off (or the end of the
    data), inside the data. A pure power law beyond a core (a Student-t) has one: Q2 says "supported" for it, and
    Q3 says whether the cut-off is there."""
    question = "a power law on intermediate scales (002 eq. (21), Figs. 2-3)"
    test = (f"per weight: eq. (6) describes the data (status resolved, or no cut-off inside the data; binned chi2 "
            f"p >= {GOF_ALPHA}, 2s > 0), its power-law factor is significant (LR against the Gaussian, the law at "
            f"s = 0, p < {SIGNIFICANCE}) and spans >= {POWER_LAW_DECADES} decades of u = Δ² between c² and "
            f"min(u_S, max Δ²); supported in >= 2/3 of the fitted weights. Not supported when >= 2/3 have the "
            f"Gaussian not rejected, 2s <= 0 or < {NO_RANGE_DECADES} decades. The CSN bootstrap p (a pure power "
            f"law from x_min to infinity, which a law with a cut-off inside the data is not) is reported, not used")
    fitted = [row for row in rows if row.get("gaussian_p") is not None and np.isfinite(row["gaussian_p"])]
    with_law = [row for row in fitted if _has_power_law(row)]
    without = [row for row in fitted if _lacks_power_law(row)]
    csn = _finite(rows, "power_law_gof_p")
    decades = _median(with_law or fitted, "decades_in_data")
    numbers = {"weights_fitted": len(fitted), "weights_with_power_law": len(with_law),
               "weights_without_power_law": len(without),
               "weights_gaussian_not_rejected": sum(row["gaussian_p"] > SIGNIFICANCE for row in fitted),
               "median_exponent_2s": _median(with_law, "exponent"), "median_decades_in_data_u": decades,
               "csn_tested": int(csn.size), "csn_plausible": int(np.sum(csn >= CSN_PLAUSIBLE)),
               "median_csn_p": float(np.median(csn)) if csn.size else None}
    if _too_small(fitted):
        return Verdict("Q2", question, "inconclusive", test, numbers, f"only {len(fitted)} fitted weights")
    detail = (f"a power law in {len(with_law)} of {len(fitted)} weights (median {decades / 2:.2g} decades of |Δ| "
              f"inside the data), none in {len(without)}")
    if len(with_law) / len(fitted) >= MAJORITY:
        return Verdict("Q2", question, "supported", test, numbers, detail)
    if len(without) / len(fitted) >= MAJORITY:
        return Verdict("Q2", question, "not supported", test, numbers, detail)
    return Verdict("Q2", question, "inconclusive", test, numbers, detail)


def cutoff_verdict(rows) -> Verdict:
    """Q3: the Gaussian cut-off inside the data: the law with cut-off beats the same law without it."""
    question = "a Gaussian cut-off resolved inside the data (002 Fig. 3 right)"
    test = ("likelihood ratio 2Δℓ of the theory against the same law without cut-off (σ → ∞: the Student-t), "
            f"referred to ½χ²₀ + ½χ²₁ (τ = 1/2σ² = 0 is a boundary; Self & Liang 1987), p < {SIGNIFICANCE}, per "
            "resolved weight (σ inside the data) with a power law to cut off (s > 2 standard errors); fits with no "
            "cut-off inside the data count against; supported in >= 2/3 of the weights tested, not supported in "
            "<= 1/3")
    resolved = [row for row in _with_status(rows, "resolved") if row.get("student_t_p") is not None]
    no_cutoff = [row for row in rows if _without_cutoff(row)]
    favour = sum(row["student_t_p"] < SIGNIFICANCE and row["s"] > 2.0 * row["s_err"] for row in resolved)
    numbers = {"weights_tested": len(resolved), "cutoff_significant": favour,
               "weights_without_cutoff_in_data": len(no_cutoff),
               "median_lr_statistic": _median(resolved, "student_t_statistic"),
               "median_lr_p": _median(resolved, "student_t_p"),
               "median_tail_vuong_R_theory_over_power_law": _median(resolved, "power_law_statistic")}
    tested = len(resolved) + len(no_cutoff)
    if tested < MIN_WEIGHTS or _too_small(resolved + no_cutoff):
        return Verdict("Q3", question, "inconclusive", test, numbers, f"only {tested} weights to test")
    detail = f"cut-off significant in {favour}, absent inside the data in {len(no_cutoff)}, of {tested} weights"
    if resolved:
        detail += (f"; median 2Δℓ = {numbers['median_lr_statistic']:.3g} for the cut-off "
                   f"(median p = {numbers['median_lr_p']:.2g})")
    if favour / tested >= MAJORITY:
        return Verdict("Q3", question, "supported", test, numbers, detail)
    if favour / tested <= MINORITY:
        return Verdict("Q3", question, "not supported", test, numbers, detail)
    return Verdict("Q3", question, "inconclusive", test, numbers, detail)


def _mean_interval(values) -> tuple:
    values = np.asarray(values, float)
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return float(values.mean()), float(values.mean() - half), float(values.mean() + half)


def spectrum_verdict(rows) -> Verdict:
    """Q4: P(f) ∝ f^-a with a < 2 at low f and a ≈ 2 at high f (002 Fig. 4)."""
    question = "f²P(f): a < 2 at low f, a ≈ 2 at high f (002 Fig. 4)"
    test = (f"mean over weights of the band exponents a with a 95% t interval; supported if the low-band interval "
            f"lies below 2 and the high-band one within {HIGH_BAND_TOLERANCE} of 2")
    moved = [row for row in rows if row.get("status") != "decay-only"]
    low, high = _finite(moved, "spectrum_exponent_low"), _finite(moved, "spectrum_exponent_high")
    numbers = {"weights": len(moved), "weights_with_low_band": int(low.size), "weights_with_high_band": int(high.size)}
    if min(low.size, high.size) < MIN_WEIGHTS:
        return Verdict("Q4", question, "inconclusive", test, numbers,
                       "too few weights with both band exponents (the tracked window may be too short)")
    (a_low, low_lo, low_hi), (a_high, high_lo, high_hi) = _mean_interval(low), _mean_interval(high)
    numbers.update({"a_low": a_low, "a_low_lo": low_lo, "a_low_hi": low_hi,
                    "a_high": a_high, "a_high_lo": high_lo, "a_high_hi": high_hi})
    text = (f"a = {a_low:.3g} [{low_lo:.3g}, {low_hi:.3g}] at low f, "
            f"{a_high:.3g} [{high_lo:.3g}, {high_hi:.3g}] at high f")
    high_ok = high_lo <= 2 + HIGH_BAND_TOLERANCE and high_hi >= 2 - HIGH_BAND_TOLERANCE
    if low_hi < 2 and high_ok:
        return Verdict("Q4", question, "supported", test, numbers, text)
    if low_lo >= 2 or not high_ok:
        return Verdict("Q4", question, "not supported", test, numbers, text)
    return Verdict("Q4", question, "inconclusive", test, numbers, text)


def bimodality_verdict(bimodal: int | None, tested: int | None, what: str = "neuron outputs") -> Verdict:
    """Q5: bimodal p(x|q) of frozen second-layer neurons (002 Fig. 1)."""
    question = "bimodal outputs of frozen second-layer neurons (002 Fig. 1)"
    test = "two-Gaussian mixture preferred by ΔBIC > 10 and with two modes, in most tested neurons"
    numbers = {"tested": tested or 0, "bimodal": bimodal or 0, "what": what}
    if not tested or tested < MIN_WEIGHTS:
        return Verdict("Q5", question, "inconclusive", test, numbers, "no or too few neuron outputs recorded")
    share = bimodal / tested
    verdict = "supported" if share >= MAJORITY else "not supported" if share < 0.1 else "inconclusive"
    return Verdict("Q5", question, verdict, test, numbers, f"{bimodal} of {tested} neurons bimodal ({what})")


def _spearman_interval(x, y) -> tuple:
    """Spearman's ρ with a 95% Fisher-z interval (se 1.03/√(n-3), Fieller, Hartley & Pearson 1957)."""
    rho = float(stats.spearmanr(x, y).statistic)
    z, se = np.arctanh(np.clip(rho, -0.999999, 0.999999)), 1.03 / np.sqrt(len(x) - 3)
    return rho, float(np.tanh(z - 1.959964 * se)), float(np.tanh(z + 1.959964 * se))


def range_amplitude_verdict(rows) -> Verdict:
    """Q6: 002 §6, the scale-invariant range is smaller for weights whose fluctuation amplitude is larger.

    Amplitude and range are estimated on disjoint halves of each weight's gradient steps (the rms of the first
    half, the decades of power law inside the data of a fit of the second half): estimated on the same sample,
    the sampling error of σ̂ moves both, and twelve weights with one law give ρ ≈ +0.9."""
    question = "scale-invariant range smaller for weights with larger fluctuation amplitude (002 §6)"
    test = ("Spearman ρ between the rms of the first half of the gradient increments and the decades of power law "
            "inside the data of a fit of the second half (disjoint halves: independent errors), over resolved "
            "weights, 95% Fisher-z interval; supported if the interval lies below 0, not supported if above 0 "
            "(the opposite relation); a null relation cannot be confirmed: inconclusive")
    resolved = [row for row in _with_status(rows, "resolved")
                if np.isfinite(row.get("amplitude_first_half", np.nan))
                and np.isfinite(row.get("decades_second_half", np.nan))]
    numbers = {"weights": len(resolved)}
    if len(resolved) < 5:
        return Verdict("Q6", question, "inconclusive", test, numbers, f"only {len(resolved)} resolved weights")
    rho, lo, hi = _spearman_interval([r["amplitude_first_half"] for r in resolved],
                                     [r["decades_second_half"] for r in resolved])
    numbers.update({"spearman_rho": rho, "rho_lo": lo, "rho_hi": hi})
    verdict = "supported" if hi < 0 else "not supported" if lo > 0 else "inconclusive"
    return Verdict("Q6", question, verdict, test, numbers,
                   f"ρ = {rho:.2f} [{lo:.2f}, {hi:.2f}] over {len(resolved)} weights (amplitude and range on "
                   f"disjoint halves)")


STATIONARITY_PREFIX = "stationarity_"  # the per-weight diagnostics of observables.stationarity, joined by merge_columns
STATIONARY_KEY = STATIONARITY_PREFIX + "stationary"


def stationarity_columns(diagnostics: list[dict]) -> list[dict]:
    """The rows of :func:`statmech_nn.observables.stationarity.stationarity_rows` ready for :func:`merge_columns`
    with ``prefix=STATIONARITY_PREFIX``: one per column, the failed checks as a comma-separated string."""
    return [{**{k: v for k, v in row.items() if k not in ("name", "failed")}, "column": j,
             "failed": ",".join(row["failed"])} for j, row in enumerate(diagnostics)]


def trajectory_stationarity_columns(trajectory, q=None, alpha: float = STATIONARITY_ALPHA) -> list[dict]:
    """The stationarity columns of a :class:`~statmech_nn.io.Trajectory` for :func:`merge_columns` with
    ``prefix=STATIONARITY_PREFIX``: per replica (its ``chain``), with the cross-replica R̂ when the metadata say the
    replicas share their initial weights
    (:func:`statmech_nn.observables.replica_stationarity.replica_stationarity_rows`); one chain gives the columns
    of ``stationarity_rows(q, names)``. ``q``: the rows to test in place of ``trajectory.q`` (the
    streaming path's thinned rows, :mod:`statmech_nn.compare.streaming`)."""
    init = replica_init(trajectory.metadata, trajectory.parameters)
    q = trajectory.q if q is None else q
    rows = replica_stationarity_rows(q, trajectory.names, trajectory.chain, init, alpha)
    return stationarity_columns(rows)


def _diagnosed(row: dict) -> dict:
    """A row's stationarity diagnostics, unprefixed, with ``failed`` as a list."""
    return {**{k[len(STATIONARITY_PREFIX):]: v for k, v in row.items() if k.startswith(STATIONARITY_PREFIX)},
            "failed": [f for f in str(row.get(STATIONARITY_PREFIX + "failed", "")).split(",") if f]}


def _stationarity_summary(result: dict) -> str:
    text = {key: "n/a" if result[key] is None else f"{result[key]:.3g}"
            for key in ("median_tau", "median_window_over_tau", "median_drift_z")}
    return (f"{result['stationary']} of {result['judged']} weights resolved as stationary; evidence of change "
            f"in {result['evidence']} ({result['drifting']} drift, {result['too_slow']} a window significantly "
            f"shorter than 10 tau, {result['rhat_above']} segments disagree, "
            f"{result['halves_differ']} change their innovations between halves; Holm, alpha = "
            f"{result['alpha']:g}); {result['window_too_short']} have a window shorter than {LENGTH_FACTOR:g} tau, "
            f"{result['drift_unbounded']} a drift not bounded below {DRIFT_BOUND:g} sd; median tau = "
            f"{text['median_tau']} rows, window/tau = {text['median_window_over_tau']}, "
            f"drift z = {text['median_drift_z']}")


def _replica_text(counts: dict, replicas: int) -> str:
    return (f"replicas alone: supported in {counts['supported']} of {replicas}, not supported in "
            f"{counts['not supported']}, inconclusive in {counts['inconclusive']}")


def stationarity_verdict(rows) -> Verdict:
    """S: the weights were stationary in the tracked window (the premise of 002 §5's equilibrium analysis).

    The rule is :func:`statmech_nn.observables.stationarity.stationarity_verdict`, applied to the weights that
    moved by more than weight decay (a decay-only weight is a deterministic exponential: not a fluctuation); its
    tests are Holm-adjusted over those weights, so both paths answer alike on the same columns. Rows of several
    replicas (``stationarity_chain``) are judged as an ensemble
    (:func:`statmech_nn.observables.replica_stationarity.ensemble_verdict`: each replica alone, the pooled family with
    the cross-replica R̂ of the weights that moved in every replica under shared initial weights, and the stated ensemble
    rule); the numbers count the replicas behind each answer."""
    moved = [row for row in rows if row.get(STATIONARY_KEY) is not None and row.get("status") != "decay-only"]
    by_replica: dict[int, list[dict]] = {}
    for row in moved:
        by_replica.setdefault(int(row.get(STATIONARITY_PREFIX + "chain", 0)), []).append(_diagnosed(row))
    keys = ("stationary", "judged", "evidence", "drifting", "too_slow", "rhat_above", "halves_differ",
            "window_too_short", "drift_unbounded", "median_tau", "median_window_over_tau", "median_drift_ratio",
            "median_drift_z")
    if len(by_replica) > 1:
        init = str(moved[0].get(STATIONARITY_PREFIX + "replica_init", "independent"))
        weights = Counter(row.get("name") for row in moved)
        cross = {row.get("name"): row.get(STATIONARITY_PREFIX + "cross_rhat_p", np.nan) for row in moved
                 if weights[row.get("name")] == len(by_replica)}
        result = ensemble_verdict(by_replica, list(cross.values()) if init == "shared" else (), init)
        keys += ("replicas", "replica_init", "replica_answers", "replica_counts", "cross_tested", "cross_disagree")
        summary = (f"an ensemble of {result['replicas']} replicas ({init} initial weights): "
                   f"{_replica_text(result['replica_counts'], result['replicas'])}")
        if init == "shared":
            rhat = _median(moved, STATIONARITY_PREFIX + "cross_rhat")
            summary += (f"; the replicas disagree (cross-replica split R-hat, Holm) on {result['cross_disagree']} of "
                        f"{result['cross_tested']} weights (median R-hat {'n/a' if rhat is None else f'{rhat:.4g}'})")
        summary += f"; pooled: {_stationarity_summary(result)}; {result['rule']}"
        test = result["test"] + ("; across replicas with shared initial weights, each weight's rank-normalized split "
                                 "R-hat over the 2R half-chains against (tau/L) F(2R - 1, R n/(2 tau))"
                                 if init == "shared" else "") + "; " + result["rule"]
    else:
        result = weight_stationarity_verdict(next(iter(by_replica.values()), []))
        summary, test = _stationarity_summary(result), result["test"]
    numbers = {key: result[key] for key in keys}
    numbers["decay_only_left_out"] = sum(row.get("status") == "decay-only" for row in rows)
    return Verdict("S", result["question"] + " (002 §5's equilibrium)", result["verdict"], test, numbers, summary)


REPLICA_RULE = ("ensemble rule: the answer of the pooled weights of every replica, unless a replica alone gives the "
                "opposite definite answer (then inconclusive)")


def replica_breakdown(pooled: Verdict, alone: dict) -> Verdict:
    """A population verdict over R replicas: ``pooled`` (every replica's weights as one population) with how many
    replicas give each answer alone (``alone``: replica id → its Verdict) and the ensemble answer of
    :data:`REPLICA_RULE`. A wrong ensemble answer needs a wrong pooled one: its error rate is at most the pooled
    verdict's."""
    answers = {int(r): v.verdict for r, v in alone.items()}
    counts = {answer: list(answers.values()).count(answer) for answer in VERDICTS}
    opposite = {"supported": "not supported", "not supported": "supported"}.get(pooled.verdict)
    verdict = "inconclusive" if opposite is not None and counts[opposite] else pooled.verdict
    numbers = {**pooled.numbers, "replicas": len(answers), "replica_answers": answers, "replica_counts": counts,
               "pooled_answer": pooled.verdict}
    detail = (f"pooled over {len(answers)} replicas: {pooled.verdict} ({pooled.detail}); "
              f"{_replica_text(counts, len(answers))}; {REPLICA_RULE}")
    return replace(pooled, verdict=verdict, numbers=numbers, detail=detail, test=f"{pooled.test}; {REPLICA_RULE}")


def _by_replica(rows: list[dict]) -> dict[int, list[dict]]:
    groups: dict[int, list[dict]] = {}
    for row in rows:
        groups.setdefault(int(row.get("chain", 0)), []).append(row)
    return groups


def network_verdicts(rows: list[dict], outputs_bimodal: int | None = None, outputs_tested: int | None = None,
                     outputs_what: str = "neuron outputs", decay_source: str | None = None) -> list[Verdict]:
    """Q1-Q6 for one analysed run (Q5 from the bimodality counts of its neuron outputs, if any), then the
    stationarity verdict S when the rows carry the stationarity columns. Rows of several replicas (``chain``): the
    population verdicts Q1-Q4 and Q6 say how many replicas give each answer alone (:func:`replica_breakdown`); S
    judges the replicas as an ensemble (:func:`stationarity_verdict`); Q5, from the outputs x, is not split."""
    population = {"Q1": lambda group: peak_verdict(group, decay_source), "Q2": powerlaw_verdict,
                  "Q3": cutoff_verdict, "Q4": spectrum_verdict, "Q6": range_amplitude_verdict}
    verdicts = [population["Q1"](rows), powerlaw_verdict(rows), cutoff_verdict(rows), spectrum_verdict(rows),
                bimodality_verdict(outputs_bimodal, outputs_tested, outputs_what), range_amplitude_verdict(rows)]
    groups = _by_replica(rows)
    if len(groups) > 1:
        verdicts = [replica_breakdown(v, {r: population[v.id](group) for r, group in groups.items()})
                    if v.id in population else v for v in verdicts]
    if any(STATIONARY_KEY in row for row in rows):
        verdicts.append(stationarity_verdict(rows))
    return verdicts


def representative_columns(rows: list[dict], most: int = 4) -> list[int]:
    """Up to ``most`` columns shown in the figures, by a stated rule: the resolved weights at evenly spaced
    quantiles of the fitted exponent 2s (lowest to highest); boundary fits, then any other fitted weight with
    2s > 0, fill up; a ``misfit`` never."""
    chosen = []
    for statuses in (("resolved",), ("boundary",), ("unresolved",)):  # a misfit, or 2s <= 0, is never drawn
        pool = sorted((row for row in _with_status(rows, *statuses) if row.get("exponent", np.nan) > 0),
                      key=lambda row: row["exponent"])
        room = most - len(chosen)
        if room <= 0 or not pool:
            continue
        picks = np.unique(np.linspace(0, len(pool) - 1, min(room, len(pool))).round().astype(int))
        chosen += [int(pool[i]["column"]) for i in picks]
    return chosen


def verdict_lines(verdicts: list[dict]) -> str:
    """Verdicts (as dicts) as indented plain-text lines: id, verdict, question, what the data say."""
    width = max((len(v["verdict"]) for v in verdicts), default=0)
    return "\n".join(f"  {v['id']}  {v['verdict']:<{width}}  {v['question']}: {v['detail']}" for v in verdicts)


def summary_text(summary: dict) -> str:
    """The plain-text answer of an analysis summary (``analyze`` without --json): the verdicts first, one
    line each, then the status counts and the headline numbers."""
    head = summary["headline"]
    counts = ", ".join(f"{n} {status}" for status, n in head["status_counts"].items())
    lines = ["verdicts (the sources' questions, not pipeline checks):", verdict_lines(summary["verdicts"])]
    lines += ["", f"columns: {head['weights']} ({counts})"]
    for key in ("median_exponent_2s", "median_decades_in_data_abs_delta", "median_gof_p"):
        value = head[key]
        lines.append(f"{key.replace('_', ' ')} (resolved weights): {'-' if value is None else f'{value:.4g}'}")
    return "\n".join(lines)
