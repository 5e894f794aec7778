"""Stationarity of tracked variables: are the weights in equilibrium over the tracked window? (issue 10, item 3;
calibrated in issue 19)

002 §5 studies the fluctuations of weights "after equilibrium is reached". Every tracked column w(t) of a
Trajectory (rows equally spaced in time) gets four tests of the null "w is stationary in the window" (its law
does not change, and the window holds at least ``MIN_WINDOW`` = 10 autocorrelation times, the shortest window
at which the tests below are calibrated: a weight whose τ is longer has not sampled a stationary law in the
window), each with a p-value that has at most its nominal size on stationary autoregressive
(Ornstein–Uhlenbeck) columns at n/τ ≥ 10, and two checks of precision:

- **τ**: the integrated autocorrelation time of the detrended w from an AR(p) fit
  (:func:`statmech_nn.autocorrelation.spectral_time`, spectral density at 0 with the trend-removal bias
  added back: right to a few % at n/τ ≥ 10, where Sokal's windowed τ reads 40–60 % low);
  ``window_over_tau`` = n/τ̂. Its relative variance is ≈ τ/n, and the long-run variance σ²τ built on it
  has that of a χ² with ``dof`` ν = n/(2τ̂) degrees of freedom (AR(1) delta method).
- **drift** (:func:`statmech_nn.autocorrelation.drift_ratio`): r = |change of the least-squares line over the
  window| / sd of w about that line. Stationary: r ≈ |N(0, 1)| √(12 τ / n), so z = r / √(12 τ̂ / n) is a
  Student t with ν degrees of freedom (the slope over the estimated long-run variance); ``drift_p`` is its
  two-sided p. ``drift_upper`` = r + t_ν(1 − α) √(12 τ̂ / n) is the upper confidence bound of the drift.
- **slow**: n/τ̂ significantly below ``MIN_WINDOW``. log τ̂ is taken as normal about log τ with sd
  √(``SLOW_SPREAD`` τ/n), twice the AR(1) variance: at n/τ = 10 the upper tail of log τ̂ is heavier than
  the normal one (its 99.9 % quantile is 1.1× the normal's); ``slow_p`` = P(τ̂ this long | τ = n/10).
  A random walk (τ̂ ≈ n/3) is rejected here; a stationary window of 10 τ only at the nominal rate.
- **split R̂** of w across ``SEGMENTS`` = 4 consecutive segments of length L
  (:func:`statmech_nn.autocorrelation.segment_rhat`, rank-normalized). R̂² − (L−1)/L is the variance of the
  segment means over the within-segment variance, ≈ (τ/L) F(3, ν) for a stationary series: ``rhat_p`` is
  that F's p, so the R̂ that counts as "the segments disagree" grows with τ/L (the fixed R̂ ≤ 1.01 of
  Vehtari et al. 2021 is meant for ≥ 4 independent chains of hundreds of effective draws; on one series at
  n/τ = 100 it flags 3 of 4 stationary columns).
- **halves**: the two-sample Kolmogorov–Smirnov distance D between the innovations e(t) = c(t+1) − ρ̂₁ c(t)
  (c = w − mean, ρ̂₁ its lag-1 autocorrelation) of the first and the second half of the window.
  The raw increments of a stationary series sum to w(end) − w(start), which suppresses the location part
  of D and makes Kolmogorov's p far too conservative (none below 0.05 in 200 stationary columns); the
  innovations of an AR(1) are independent under the null (those of the detrended w are not: the fitted
  line absorbs the halves' location difference, and the p is conservative again). ``halves_ks_p`` is
  Kolmogorov's asymptotic p with each half's size divided by max(τ_e, 1), τ_e the innovations' own AR τ
  (``tau_innovation``).

Multiple testing: the 4K p-values of the K judged columns are one family, Holm-adjusted (``drift_q``,
``slow_q``, ``rhat_q``, ``halves_ks_q``): the probability that a stationary set shows any evidence is
≤ ``alpha``. A column shows **evidence of change** where an adjusted p is below ``alpha`` (``drift``,
``slow``, ``rhat``, ``halves``). It is **resolved as stationary** when, besides, its window holds
≥ ``LENGTH_FACTOR`` = 50 τ̂ (``window``) and its drift is bounded: ``drift_upper`` < ``DRIFT_BOUND`` = 2
(``bound``: the trend moves w
by less than two of its fluctuations over the window, at confidence 1 − α). ``stationary`` is true when no
check fails; ``reason`` lists what failed.

A constant column (a weight that never moves, e.g. a dead unit without decay), a column with NaN or
infinite values and a window of fewer than ``MIN_ROWS`` rows cannot be judged: they get a row with that
reason, never an exception. A decay-only column (Δ = −ηλw at every step) is a smooth exponential: its τ
fills the window (``slow``).

The verdict (:func:`stationarity_verdict`) on "weights stationary in the tracked window", over the judged
columns: ``not supported`` when any column shows evidence of change (family-wise error ≤ α); ``supported``
when every column is resolved as stationary (an intersection–union rule: each column's drift bound holds at
level α, so a set whose drifts exceed the bound is called supported with probability ≤ α); otherwise
``inconclusive`` (the window is too short to bound the drift or to trust τ). Measured on planted sets of
16 Ornstein–Uhlenbeck columns × 1e5 steps (``statmech-nn calibrate --verdict S --size full``, 40 sets each):
"not supported" in 0–1 of 40 stationary sets at n/τ = 10, 25, 50, 100; "supported" in 40 of 40 at n/τ = 100
(20 of 20 with 64 columns) and in none at n/τ ≤ 50 (the 50 τ window and the drift bound need about 100 τ);
"not supported" in 40 of 40 sets with a drift of 2 sd, innovations whose sd steps up by 25 % halfway, a random
walk of rms 2 sd added, or pure random walks (:mod:`statmech_nn.compare.planted.stationarity_truths`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import f as fisher
from scipy.stats import kstwobign, norm
from scipy.stats import t as student

from ..autocorrelation import LENGTH_FACTOR, drift_ratio, segment_rhat, spectral_time
from ..errors import DataError

SEGMENTS = 4
MIN_ROWS = 4 * SEGMENTS
DEFAULT_ALPHA = 0.01
DRIFT_BOUND = 2.0          # "supported" needs each drift bounded below this many fluctuations (sd) over the window
MIN_WINDOW = 10.0          # the null "stationary in the window" includes a window of at least this many τ
SLOW_SPREAD = 2.0          # sd of log τ̂ taken as √(SLOW_SPREAD τ/n): twice the AR(1) variance (its heavy upper tail)
QUESTION = "weights stationary in the tracked window"
TEST = (f"per weight, four tests of stationarity with the autocorrelation time tau of an AR(p) fit (spectral "
        f"density at 0, trend-removal bias corrected): the linear drift z = r / sqrt(12 tau / n) against Student t "
        f"with n/(2 tau) dof, a window n/tau significantly below {MIN_WINDOW:g}, the split R-hat over {SEGMENTS} "
        f"segments against its F(3, n/(2 tau)) null scaled by tau/L, and a two-sample KS test of the AR(1) "
        f"innovations of the two halves; the 4K p-values are "
        f"Holm-adjusted at alpha (not supported: any rejection); supported: no rejection, every window >= "
        f"{LENGTH_FACTOR:g} tau and every drift's upper {{confidence}} bound < {DRIFT_BOUND:g} sd")

_NUMBERS = ("drift_ratio", "drift_z", "drift_p", "drift_upper", "tau_w", "tau_innovation", "window_over_tau", "dof",
            "slow_p", "split_rhat", "rhat_p", "halves_ks_stat", "halves_ks_p", "drift_q", "slow_q", "rhat_q",
            "halves_ks_q")
_P_VALUES = ("drift_p", "slow_p", "rhat_p", "halves_ks_p")      # one Holm family over the judged columns
_ADJUSTED = ("drift_q", "slow_q", "rhat_q", "halves_ks_q")
# failed checks that leave a column unjudged; those that show a change; those that say the window is too short
UNJUDGED = ("rows", "nonfinite", "constant")
EVIDENCE = ("drift", "slow", "rhat", "halves")
PRECISION = ("window", "bound")


def _as_columns(q) -> np.ndarray:
    q = np.asarray(q, float)
    if q.ndim == 1:
        q = q[:, None]
    if q.ndim != 2:
        raise DataError(f"a trajectory q must be shaped (time, K), got {q.shape}")
    return q


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979) of one family: reject where the adjusted p < α keeps the
    family-wise error ≤ α under any dependence."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    steps = np.maximum.accumulate((p.size - np.arange(p.size)) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(steps, 1.0)
    return adjusted


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


def _detrended(w: np.ndarray) -> np.ndarray:
    n = w.shape[0]
    time = np.arange(n) - (n - 1) / 2.0
    centered = w - w.mean(axis=0)
    return centered - np.outer(time, time @ centered / (time @ time))


def _column_numbers(w: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """The per-column numbers of the movable, finite columns of ``w`` (n, K) (module docstring)."""
    n = w.shape[0]
    detrended = _detrended(w)
    tau = spectral_time(detrended, removed=2)
    dof = n / (2.0 * tau)
    scale = np.sqrt(12.0 * tau / n)                       # sd of the drift ratio of a stationary series
    ratio = drift_ratio(w)
    centered = w - w.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = ratio / scale
        lag1 = np.einsum("ik,ik->k", centered[1:], centered[:-1]) / np.einsum("ik,ik->k", centered, centered)
    innovation = centered[1:] - lag1 * centered[:-1]
    tau_innovation = spectral_time(innovation)
    half = innovation.shape[0] // 2
    statistic = _two_sample_ks(innovation[:half], innovation[innovation.shape[0] - half:])
    effective = half / np.maximum(np.where(np.isfinite(tau_innovation), tau_innovation, half), 1.0)
    rhat = segment_rhat(w, SEGMENTS)
    length = n // SEGMENTS
    between = np.maximum(rhat ** 2 - (length - 1) / length, 0.0) * length / tau
    with np.errstate(divide="ignore"):
        slow = np.log(tau * MIN_WINDOW / n) / np.sqrt(SLOW_SPREAD / MIN_WINDOW)
    return {"drift_ratio": ratio, "drift_z": z, "drift_p": np.minimum(2.0 * student.sf(z, dof), 1.0),
            "drift_upper": ratio + student.ppf(1.0 - alpha, dof) * scale, "tau_w": tau,
            "tau_innovation": tau_innovation, "window_over_tau": n / tau, "dof": dof, "slow_p": norm.sf(slow),
            "split_rhat": rhat,
            "rhat_p": fisher.sf(between, SEGMENTS - 1, dof), "halves_ks_stat": statistic,
            "halves_ks_p": kstwobign.sf(statistic * np.sqrt(effective / 2.0))}


def decide(numbers: dict[str, np.ndarray], alpha: float, extra=()) -> tuple[list[list[str]], np.ndarray]:
    """Holm-adjust the judged columns' p-values in place (one family, with the p-values ``extra`` as further members,
    e.g. the cross-replica R̂ of :mod:`statmech_nn.observables.replica_stationarity`); returns each column's failed
    checks and the adjusted ``extra``."""
    k = numbers["drift_p"].size
    extra = np.asarray(extra, float)
    adjusted = holm(np.concatenate([numbers[key] for key in _P_VALUES] + [extra]))
    for j, key in enumerate(_ADJUSTED):
        numbers[key] = adjusted[j * k:(j + 1) * k]
    checks = {"drift": numbers["drift_q"] < alpha, "slow": numbers["slow_q"] < alpha,
              "rhat": numbers["rhat_q"] < alpha, "halves": numbers["halves_ks_q"] < alpha,
              "window": ~(numbers["window_over_tau"] >= LENGTH_FACTOR),
              "bound": ~(numbers["drift_upper"] < DRIFT_BOUND)}
    return [[name for name, failed in checks.items() if failed[j]] for j in range(k)], adjusted[len(_P_VALUES) * k:]


def _reason(failed: list[str], row: dict, alpha: float) -> str:
    texts = {
        "rows": f"too few rows to judge (fewer than {MIN_ROWS})",
        "nonfinite": "NaN or infinite values",
        "constant": "constant: the weight never moves",
        "drift": f"drift: the trend moves the weight by {row['drift_ratio']:.3g} sd of its fluctuations "
                 f"(z = {row['drift_z']:.3g}, Holm-adjusted p = {row['drift_q']:.3g} < {alpha:g})",
        "slow": f"the window holds n/tau = {row['window_over_tau']:.3g}, significantly fewer than {MIN_WINDOW:g} tau: "
                f"the weight has not sampled a stationary law in it "
                f"(Holm-adjusted p = {row['slow_q']:.3g} < {alpha:g})",
        "rhat": f"split R-hat over {SEGMENTS} segments = {row['split_rhat']:.4g}, more than a stationary series with "
                f"n/tau = {row['window_over_tau']:.3g} gives (Holm-adjusted p = {row['rhat_q']:.3g} < {alpha:g})",
        "halves": f"innovations of the two halves differ (KS D = {row['halves_ks_stat']:.3g}, "
                  f"Holm-adjusted p = {row['halves_ks_q']:.3g} < {alpha:g})",
        "window": f"window shorter than {LENGTH_FACTOR:g} tau (n/tau = {row['window_over_tau']:.3g})",
        "bound": f"drift not bounded below {DRIFT_BOUND:g} sd (upper bound {row['drift_upper']:.3g} at "
                 f"confidence {1 - alpha:g})",
    }
    return "; ".join(texts[name] for name in failed)


def stationarity_rows(q, names=None, alpha: float = DEFAULT_ALPHA) -> list[dict]:
    """One row per column of ``q`` (time, K): the numbers of the module docstring, ``stationary``, ``reason``.

    Row keys: ``name``, the numbers ``drift_ratio, drift_z, drift_p, drift_upper, tau_w, tau_innovation`` (τ in
    rows), ``window_over_tau, dof, slow_p, split_rhat, rhat_p, halves_ks_stat, halves_ks_p``, the Holm-adjusted
    ``drift_q, slow_q, rhat_q, halves_ks_q`` (one family over the judged columns), ``stationary``, ``failed``
    (names of the failed checks: rows, nonfinite, constant, drift, slow, rhat, halves, window, bound) and
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
        computed = _column_numbers(q[:, judged], alpha)
        decided, _ = decide(computed, alpha)
        for key, values in computed.items():
            numbers[key][judged] = values
        for j, checks in zip(np.flatnonzero(judged), decided):
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
                         attrs={"question": QUESTION, "test": _test_text(alpha), "alpha": alpha,
                                "drift_bound": DRIFT_BOUND, "length_factor": LENGTH_FACTOR, "segments": SEGMENTS,
                                "source": "issue 10 item 3, issue 19; 002 section 5 (equilibrium)"})
    units = {key: "1" for key in _NUMBERS}
    units.update(tau_w="rows", tau_innovation="rows")
    for name, unit in units.items():
        dataset[name].attrs["units"] = unit
    return dataset


def _test_text(alpha: float) -> str:
    return TEST.format(confidence=f"{1 - alpha:g}") + f" (alpha = {alpha:g})"


def _median(rows: list[dict], key: str) -> float | None:
    values = [row[key] for row in rows if np.isfinite(row[key])]
    return float(np.median(values)) if values else None


def stationarity_verdict(rows: list[dict], alpha: float = DEFAULT_ALPHA) -> dict:
    """``supported`` / ``not supported`` / ``inconclusive`` for "weights stationary in the tracked window".

    Judged columns are those with neither too few rows, non-finite values nor a constant weight. The tests'
    p-values are Holm-adjusted again here over the judged columns (so that leaving columns out, e.g. decay-only
    weights, keeps the family-wise error at ``alpha``); the precision checks are those of the rows. See the
    module docstring for the rule.
    """
    judged = [row for row in rows if not set(row["failed"]) & set(UNJUDGED)]
    numbers = {key: np.array([row[key] for row in judged], float) for key in (*_P_VALUES, "window_over_tau",
                                                                               "drift_upper")}
    decided = decide(numbers, alpha)[0] if judged else []
    failed = [set(names) for names in decided]
    counts = {name: sum(name in f for f in failed) for name in EVIDENCE + PRECISION}
    stationary = sum(not f for f in failed)
    evidence = sum(bool(f & set(EVIDENCE)) for f in failed)
    if not judged:
        verdict = "inconclusive"
    elif evidence:
        verdict = "not supported"
    elif stationary == len(judged):
        verdict = "supported"
    else:
        verdict = "inconclusive"
    return {"verdict": verdict, "question": QUESTION, "stationary": stationary, "total": len(rows),
            "judged": len(judged), "unjudged": len(rows) - len(judged), "evidence": evidence,
            "drifting": counts["drift"], "too_slow": counts["slow"], "rhat_above": counts["rhat"],
            "halves_differ": counts["halves"],
            "window_too_short": counts["window"], "drift_unbounded": counts["bound"],
            "median_tau": _median(judged, "tau_w"), "median_drift_ratio": _median(judged, "drift_ratio"),
            "median_drift_z": _median(judged, "drift_z"), "median_window_over_tau": _median(judged, "window_over_tau"),
            "alpha": alpha, "test": _test_text(alpha)}
