"""Stationarity of tracked variables: are the weights in equilibrium over the tracked window? (issue 10, item 3)

002 §5 studies the fluctuations of weights "after equilibrium is reached"; the chain diagnostics of the
samplers are applied here to every tracked column w(t) of a Trajectory (rows equally spaced in time)
and to its increments Δ(t) = w(t+1) − w(t):

- **drift** (:func:`statmech_nn.autocorrelation.drift_ratio`): r = |change of the least-squares line over
  the window| / sd of w about that line, i.e. by how many of its own fluctuations the trend moves w.
  Chosen over first/last-quarter means because it uses every row and has a known null: for a stationary
  series r ≈ |N(0, 1)| √(12 τ_r / n), τ_r the autocorrelation time of the detrended series, whence the
  drift's z = r / √(12 τ_r / n). A column **drifts** when r > ``DRIFT_LIMIT`` = 1 (the trend moves w by
  more than one fluctuation: large) *and* z exceeds the two-sided Bonferroni critical value at level
  ``alpha`` over the columns (significant);
- **τ** of w and of Δ with the shared estimator (:func:`statmech_nn.autocorrelation.column_times`); the
  window is **too short** when it holds fewer than ``LENGTH_FACTOR`` = 50 τ (the samplers' rule) for w
  or for Δ; ``window_over_tau`` = min(n/τ_w, (n−1)/τ_Δ);
- **split R̂** of w across ``SEGMENTS`` = 4 consecutive segments (the halves, each split, as chains;
  :func:`statmech_nn.autocorrelation.segment_rhat`); above ``RHAT_THRESHOLD`` = 1.01 the segments disagree;
- **halves KS**: the two-sample Kolmogorov–Smirnov distance D between the Δ of the first and of the
  second half of the window. Successive Δ are correlated, so the p-value is Kolmogorov's asymptotic one
  with each half's size divided by max(τ_Δ, 1) (its effective size); the p-values of all columns are
  corrected by Benjamini–Hochberg (false-discovery rate ``alpha``): the halves **differ** where the
  adjusted p (``halves_ks_q``) is below ``alpha``.

A column is ``stationary`` when it passes all four; ``reason`` lists what failed. A constant column
(a weight that never moves, e.g. a dead unit without decay), a column with NaN or infinite values and a
window of fewer than ``MIN_ROWS`` rows cannot be judged: they get a row with that reason, never an
exception. A decay-only column (Δ = −ηλw at every step) is a smooth exponential: it drifts, and its τ
fills the window.

The verdict (:func:`stationarity_verdict`) on "weights stationary in the tracked window", over the
columns that can be judged: ``supported`` when every one is stationary; ``not supported`` when at least
one shows evidence of change (a drift, or halves whose Δ laws differ, both tested at level ``alpha``
with their multiple-testing corrections); otherwise ``inconclusive`` (columns fail only the convergence
checks, window length or R̂: the window is too short to tell).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import ndtri
from scipy.stats import false_discovery_control, kstwobign

from ..autocorrelation import DRIFT_LIMIT, LENGTH_FACTOR, RHAT_THRESHOLD, column_times, drift_ratio, segment_rhat
from ..errors import DataError

SEGMENTS = 4
MIN_ROWS = 4 * SEGMENTS
DEFAULT_ALPHA = 0.01
QUESTION = "weights stationary in the tracked window"
TEST = (f"a weight is stationary when its linear trend does not move it by more than {DRIFT_LIMIT:g} sd of its "
        f"detrended fluctuations with significance (Bonferroni over weights), the window holds >= {LENGTH_FACTOR:g} "
        f"tau of w and of its increments, split R-hat over {SEGMENTS} segments <= {RHAT_THRESHOLD}, and a two-sample "
        "KS test finds the same increment law in both halves (effective sizes n/tau, Benjamini-Hochberg over weights)")

_NUMBERS = ("drift_ratio", "drift_z", "tau_w", "tau_delta", "window_over_tau", "split_rhat", "halves_ks_stat",
            "halves_ks_p", "halves_ks_q")
# failed checks that leave a column unjudged; those that show a change; those that say the window is too short
_UNJUDGED = ("rows", "nonfinite", "constant")
EVIDENCE = ("drift", "halves")
CONVERGENCE = ("window", "rhat")


def _as_columns(q) -> np.ndarray:
    q = np.asarray(q, float)
    if q.ndim == 1:
        q = q[:, None]
    if q.ndim != 2:
        raise DataError(f"a trajectory q must be shaped (time, K), got {q.shape}")
    return q


def _two_sample_ks(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """sup |F₁ − F₂| of every column of two samples (n₁, K) and (n₂, K), vectorized over columns."""
    n1, n2 = first.shape[0], second.shape[0]
    pooled = np.ascontiguousarray(np.concatenate([first, second]).T)       # sorts along contiguous rows
    order = np.argsort(pooled, axis=1)
    values = np.take_along_axis(pooled, order, axis=1)
    difference = np.cumsum(np.where(order < n1, 1.0 / n1, -1.0 / n2), axis=1)
    # within a run of tied values only the difference after the last of them is an ECDF difference
    last_of_ties = np.ones_like(values, bool)
    last_of_ties[:, :-1] = values[:, 1:] != values[:, :-1]
    return np.max(np.where(last_of_ties, np.abs(difference), 0.0), axis=1)


def _column_numbers(w: np.ndarray) -> dict[str, np.ndarray]:
    """The diagnostics of the movable, finite columns of ``w`` (n, K)."""
    n = w.shape[0]
    delta = np.diff(w, axis=0)
    ratio = drift_ratio(w)
    time = np.arange(n) - (n - 1) / 2.0
    centered = w - w.mean(axis=0)
    detrended = centered - np.outer(time, time @ centered / (time @ time))
    tau_detrended = column_times(detrended)
    tau_w, tau_delta = column_times(w), column_times(delta)
    half = delta.shape[0] // 2
    statistic = _two_sample_ks(delta[:half], delta[delta.shape[0] - half:])
    effective = half / np.maximum(np.where(np.isfinite(tau_delta), tau_delta, half), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        drift_z = ratio / np.sqrt(12.0 * tau_detrended / n)
        window = np.minimum(n / tau_w, (n - 1) / tau_delta)
    return {"drift_ratio": ratio, "drift_z": drift_z, "tau_w": tau_w, "tau_delta": tau_delta,
            "window_over_tau": window, "split_rhat": segment_rhat(w, SEGMENTS), "halves_ks_stat": statistic,
            "halves_ks_p": kstwobign.sf(statistic * np.sqrt(effective / 2.0))}


def _failures(numbers: dict[str, np.ndarray], drift_critical: float, ks_rejected: np.ndarray) -> list[list[str]]:
    """The names of the checks each judged column fails (see the module docstring)."""
    drifting = (numbers["drift_ratio"] > DRIFT_LIMIT) & (numbers["drift_z"] > drift_critical)
    checks = {"drift": drifting, "window": ~(numbers["window_over_tau"] >= LENGTH_FACTOR),
              "rhat": ~(numbers["split_rhat"] <= RHAT_THRESHOLD), "halves": ks_rejected}
    return [[name for name, failed in checks.items() if failed[j]] for j in range(ks_rejected.size)]


def _reason(failed: list[str], row: dict, alpha: float) -> str:
    texts = {
        "rows": f"too few rows to judge (fewer than {MIN_ROWS})",
        "nonfinite": "NaN or infinite values",
        "constant": "constant: the weight never moves",
        "drift": f"drift: the trend moves the weight by {row['drift_ratio']:.3g} sd of its fluctuations "
                 f"(z = {row['drift_z']:.3g})",
        "window": f"window shorter than {LENGTH_FACTOR:g} tau (n/tau = {row['window_over_tau']:.3g})",
        "rhat": f"split R-hat over {SEGMENTS} segments = {row['split_rhat']:.4g} > {RHAT_THRESHOLD}",
        "halves": f"increments of the two halves differ (KS D = {row['halves_ks_stat']:.3g}, "
                  f"BH-adjusted p = {row['halves_ks_q']:.3g} < {alpha:g})",
    }
    return "; ".join(texts[name] for name in failed)


def stationarity_rows(q, names=None, alpha: float = DEFAULT_ALPHA) -> list[dict]:
    """One row per column of ``q`` (time, K): the numbers of the module docstring, ``stationary``, ``reason``.

    Row keys: ``name, drift_ratio, drift_z, tau_w, tau_delta`` (τ in rows), ``window_over_tau, split_rhat,
    halves_ks_stat, halves_ks_p`` (per column), ``halves_ks_q`` (Benjamini–Hochberg adjusted), ``stationary``,
    ``failed`` (names of the failed checks: rows, nonfinite, constant, drift, window, rhat, halves) and
    ``reason`` (empty when stationary). Never raises for a column; a q that is not 1-D or 2-D is a DataError.
    """
    q = _as_columns(q)
    n, k = q.shape
    names = [f"q{j}" for j in range(k)] if names is None else [str(name) for name in names]
    if len(names) != k:
        raise DataError(f"{len(names)} names for {k} columns")
    numbers = {key: np.full(k, np.nan) for key in _NUMBERS}
    failed: list[list[str]] = [[] for _ in range(k)]
    finite = np.all(np.isfinite(q), axis=0)
    moving = finite & (np.ptp(np.where(finite, q, 0.0), axis=0) > 0)
    for j in range(k):
        if n < MIN_ROWS:
            failed[j] = ["rows"]
        elif not finite[j]:
            failed[j] = ["nonfinite"]
        elif not moving[j]:
            failed[j] = ["constant"]
    judged = moving & (n >= MIN_ROWS)
    if judged.any():
        computed = _column_numbers(q[:, judged])
        for key, values in computed.items():
            numbers[key][judged] = values
        numbers["halves_ks_q"][judged] = false_discovery_control(computed["halves_ks_p"])
        rejected = numbers["halves_ks_q"][judged] < alpha
        critical = float(ndtri(1.0 - alpha / (2.0 * judged.sum())))
        for j, checks in zip(np.flatnonzero(judged), _failures(computed, critical, rejected)):
            failed[j] = checks
    rows = []
    for j in range(k):
        row = {"name": names[j], **{key: float(numbers[key][j]) for key in _NUMBERS}}
        row.update(stationary=not failed[j], failed=failed[j], reason=_reason(failed[j], row, alpha))
        rows.append(row)
    return rows


def stationarity_dataset(rows: list[dict], alpha: float = DEFAULT_ALPHA) -> xr.Dataset:
    """The rows as a Dataset over dimension ``column`` (for observables.nc); ``failed`` as a comma list."""
    names = [row["name"] for row in rows]
    data = {key: ("column", np.array([row[key] for row in rows], float)) for key in _NUMBERS}
    data["stationary"] = ("column", np.array([row["stationary"] for row in rows], bool))
    data["failed"] = ("column", np.array([",".join(row["failed"]) for row in rows], str))
    data["reason"] = ("column", np.array([row["reason"] for row in rows], str))
    dataset = xr.Dataset(data, coords={"column": names},
                         attrs={"question": QUESTION, "test": TEST, "alpha": alpha, "drift_limit": DRIFT_LIMIT,
                                "length_factor": LENGTH_FACTOR, "rhat_threshold": RHAT_THRESHOLD,
                                "segments": SEGMENTS, "source": "issue 10 item 3; 002 section 5 (equilibrium)"})
    units = {"tau_w": "rows", "tau_delta": "rows", "drift_ratio": "1", "drift_z": "1", "window_over_tau": "1",
             "split_rhat": "1", "halves_ks_stat": "1", "halves_ks_p": "1", "halves_ks_q": "1"}
    for name, unit in units.items():
        dataset[name].attrs["units"] = unit
    return dataset


def _median(rows: list[dict], key: str) -> float | None:
    values = [row[key] for row in rows if np.isfinite(row[key])]
    return float(np.median(values)) if values else None


def stationarity_verdict(rows: list[dict], alpha: float = DEFAULT_ALPHA) -> dict:
    """``supported`` / ``not supported`` / ``inconclusive`` for "weights stationary in the tracked window".

    Judged columns are those with neither too few rows, non-finite values nor a constant weight. The
    halves' KS check is re-decided here at ``alpha`` (Benjamini–Hochberg over the judged columns' p);
    the other checks are those of the rows. See the module docstring for the rule.
    """
    judged = [row for row in rows if not set(row["failed"]) & set(_UNJUDGED)]
    p = np.array([row["halves_ks_p"] for row in judged], float)
    rejected = false_discovery_control(p) < alpha if p.size else np.zeros(0, bool)
    failed = [set(row["failed"]) - {"halves"} | ({"halves"} if reject else set())
              for row, reject in zip(judged, rejected)]
    counts = {name: sum(name in f for f in failed) for name in EVIDENCE + CONVERGENCE}
    stationary = sum(not f for f in failed)
    evidence = sum(bool(f & set(EVIDENCE)) for f in failed)
    if not judged:
        verdict = "inconclusive"
    elif stationary == len(judged):
        verdict = "supported"
    elif evidence:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    return {"verdict": verdict, "question": QUESTION, "stationary": stationary, "total": len(rows),
            "judged": len(judged), "unjudged": len(rows) - len(judged), "drifting": counts["drift"],
            "halves_differ": counts["halves"], "window_too_short": counts["window"], "rhat_above": counts["rhat"],
            "median_drift_ratio": _median(judged, "drift_ratio"),
            "median_window_over_tau": _median(judged, "window_over_tau"),
            "alpha": alpha, "test": TEST}
