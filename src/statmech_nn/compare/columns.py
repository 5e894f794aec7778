"""One row per tracked weight, never an exception: its status, the theory fit, the peak and its origin.

``status`` (with ``reason``) is one of :data:`STATUSES`, decided in this order:

- ``unresolved``: non-finite values; or the weight never moved (a dead unit without weight decay); or
  fewer than :data:`MIN_NONZERO` non-zero or :data:`MIN_DISTINCT` distinct non-zero gradient increments;
  or the fit failed (say why);
  or a scale of the fitted law lies outside the data (σ beyond max|Δ|: no cut-off inside the data; c
  below the smallest non-zero |Δ|: no resolved core); or its observed information is singular;
- ``decay-only``: every increment is deterministic weight decay Δ = -κ w to rounding
  (:mod:`statmech_nn.compare.steps`: the weight's input, or the error sent back to it, is zero at every step);
  checked after "never moved" and before the fit, so "unresolved" above means too few *gradient* steps;
- ``boundary``: the MLE sits at a bound of the fit (σ → ∞, or c at the edge of its scan);
- ``resolved``: all three scales of 002 eq. (6)/(21) inside the data.

Only ``resolved`` rows enter the headline numbers (:func:`statmech_nn.compare.verdicts.headline`).

The fit uses the gradient steps (the decay steps left out) when the samples are the lag-1 increments.
The peak of 002 Fig. 2 is then analysed as a two-part mixture of all steps (:func:`peak_row`):
a point mass at Δ = -κ w(t) (the decay steps) plus the theory law. Because the theory law is continuous
and the point mass sits at a known place once κ is known, the mixture's MLE assigns every decay step to
the point mass: the mixture weight is π̂ = n_decay/n (Wilson 95% interval) and the law's parameters are
the MLE on the gradient steps, with their intervals. Whether a peak remains in the gradient steps alone: a
likelihood-ratio test of eq. (6) against eq. (6) plus a narrow Gaussian component, calibrated by a parametric
bootstrap (:mod:`statmech_nn.compare.mixture`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm import tqdm

from ..errors import StatmechError
from .fits import fit_row
from .mixture import peak_statistics

STATUSES = ("resolved", "boundary", "unresolved", "decay-only")
MIN_DISTINCT = 10        # distinct non-zero |Δ| values a theory fit needs (3 parameters, a shape)
MIN_NONZERO = 20         # non-zero increments a theory fit needs (compare.fits)
MAX_EXPONENT_ERR = 1.0   # a fit whose exponent 2s has a larger standard error has not determined it


def _wilson(k: int, n: int, z: float = 1.959964) -> tuple:
    """Wilson score interval of a binomial proportion k/n."""
    if n == 0:
        return (np.nan, np.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def _scale_problem(row: dict, gradient: np.ndarray) -> str | None:
    """Why a fitted law's scales are not inside the data, or None."""
    magnitude = np.abs(gradient[gradient != 0])
    if row["sigma"] > magnitude.max():
        return f"sigma = {row['sigma']:.3g} beyond max|delta| = {magnitude.max():.3g}: no cut-off inside the data"
    if row["c"] < magnitude.min():
        return f"core c = {row['c']:.3g} below the smallest non-zero |delta| = {magnitude.min():.3g}"
    return None


def _classify(row: dict, gradient: np.ndarray) -> tuple:
    fit_status = row["fit_status"]
    if fit_status.startswith("boundary"):
        return "boundary", fit_status.split(": ", 1)[-1]
    if fit_status != "ok":
        return "unresolved", fit_status
    if not row["exponent_err"] <= MAX_EXPONENT_ERR:
        return "unresolved", f"exponent not determined: 2s = {row['exponent']:.3g} ± {row['exponent_err']:.2g}"
    problem = _scale_problem(row, gradient)
    return ("unresolved", problem) if problem else ("resolved", "all three scales inside the data")


def decades_in_data(row: dict, gradient: np.ndarray) -> float:
    """Decades of u = Δ² between max(c², smallest Δ²) and min(u_G, largest Δ²): the power-law range that
    the data cover (never extrapolated past the largest or below the smallest observed |Δ|)."""
    magnitude = np.abs(gradient[gradient != 0])
    if not (row.get("s", np.nan) > 0 and np.isfinite(row.get("u_gauss", np.nan))) or magnitude.size == 0:
        return 0.0
    lo = max(row["u_low"], float(magnitude.min()) ** 2)
    hi = min(row["u_gauss"], float(magnitude.max()) ** 2)
    return float(np.log10(hi / lo)) if hi > lo else 0.0


def peak_row(delta: np.ndarray, decay: np.ndarray, row: dict) -> dict:
    """The peak of 002 Fig. 2 in one weight's increments: the mixture weight of the decay steps (Wilson interval)
    and the statistics of the test for a narrow extra component in its gradient steps
    (:func:`statmech_nn.compare.mixture.peak_statistics`; its bootstrap p, whether a peak remains and the peak's
    origin come from the population step :func:`statmech_nn.compare.mixture.gradient_peak_columns`)."""
    n, n_decay = delta.size, int(decay.sum())
    lo, hi = _wilson(n_decay, n)
    out = {"n_steps": n, "n_decay_steps": n_decay, "peak_mass": n_decay / n if n else np.nan,
           "peak_mass_lo": lo, "peak_mass_hi": hi,
           "decay_band": float(np.abs(delta[decay]).max()) if n_decay else np.nan}
    return {**out, **peak_statistics(delta[~decay], row)}


def column_row(delta, decay=None, decay_only: bool = False) -> dict:
    """Status, fit, goodness of fit and peak of one weight's fluctuation samples ``delta``.

    ``decay``: which samples are weight-decay steps (lag-1 increments only; None: none known);
    ``decay_only``: every step of the weight is decay (from :class:`~statmech_nn.compare.steps.DecaySplit`).
    """
    delta = np.asarray(delta, float)
    decay = np.zeros(delta.shape, bool) if decay is None else np.asarray(decay, bool)
    base = {"n": int(delta.size), "n_nonzero": int(np.count_nonzero(delta))}
    if not np.all(np.isfinite(delta)):
        return {**base, "status": "unresolved", "reason": "non-finite values"}
    if not np.any(delta):
        return {**base, "status": "unresolved", "reason": "constant: the weight never moved"}
    if decay_only or decay.all():
        return {**base, "status": "decay-only", "reason": "every increment is weight decay -kappa*w to rounding",
                "peak_mass": 1.0}
    gradient = delta[~decay]
    distinct = np.unique(np.abs(gradient[gradient != 0])).size
    if np.count_nonzero(gradient) < MIN_NONZERO:
        return {**base, "status": "unresolved",
                "reason": f"too few non-zero gradient increments: {np.count_nonzero(gradient)} (a fit needs {MIN_NONZERO})"}
    if distinct < MIN_DISTINCT:
        return {**base, "status": "unresolved",
                "reason": f"too few distinct values: {distinct} distinct non-zero gradient increments"}
    try:
        row = {**fit_row(gradient), **base, "n_gradient": int(gradient.size)}
    except (StatmechError, np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
        return {**base, "status": "unresolved", "reason": f"fit failed: {exc}"}
    row["status"], row["reason"] = _classify(row, gradient)
    row["decades_in_data"] = decades_in_data(row, gradient)
    row["delta_rms"] = float(np.sqrt(np.mean(gradient * gradient)))
    row.update(peak_row(delta, decay, row))
    return row


_SCALE_KEYS = {"c", "c_lo", "c_hi", "sigma", "sigma_lo", "sigma_hi", "gaussian_sigma", "student_t_scale",
               "power_law_xmin", "decay_band", "delta_rms"}
_SQUARED_KEYS = {"u_low", "u_slope", "u_gauss", "u_low_err", "u_slope_err", "u_gauss_err"}


def _unit_of(key: str, units: str) -> str:
    """The unit of a table column: that of q for scales, q² for crossovers in u = Δ², else 1."""
    return units if key in _SCALE_KEYS else f"{units}^2" if key in _SQUARED_KEYS else "1"


def rows_dataset(rows: list[dict], units: str = "q") -> xr.Dataset:
    """The rows as an xarray Dataset over ``column`` (text columns as strings, flags as 0/1, absent as NaN)."""
    k = len(rows)
    names = [row["name"] for row in rows]
    chain = np.array([row["chain"] for row in rows], np.int64)
    keys = [key for key in dict.fromkeys(key for row in rows for key in row) if key not in ("column", "name", "chain")]
    data = {}
    for key in keys:
        values = [row.get(key) for row in rows]
        if any(isinstance(v, str) for v in values):
            data[key] = ("column", np.array(["" if v is None else str(v) for v in values], dtype=object))
        else:
            data[key] = ("column", np.array([np.nan if v is None else float(v) for v in values]),
                         {"units": _unit_of(key, units)})
    return xr.Dataset(data, coords={"column": np.arange(k), "name": ("column", names), "chain": ("column", chain)},
                      attrs={"fit": "002 eqs. (6), (21): p(Δ) ∝ (1 + Δ²/c²)^-s exp(-Δ²/2σ²), MLE",
                             "crossover_convention": "g = 1 (lambda_x = c^2, beta*lambda_q = 1/(2 s sigma^2))",
                             "goodness_of_fit": "Pearson binned chi2 on equal-count bins of |Δ|, dof = bins - 4"})


def fit_table(samples, names=None, chain=None, decay=None, decay_only=None, progress: bool = False,
              units: str = "q"):
    """One row per column of (n, K) samples (:func:`column_row`); returns (rows, Dataset over ``column``).

    ``decay`` (n, K): decay steps among the samples; ``decay_only`` (K,): columns whose every step is decay.
    """
    samples = np.asarray(samples, float)
    k = samples.shape[1]
    names = [f"q{j}" for j in range(k)] if names is None else [str(v) for v in names]
    chain = np.zeros(k, np.int64) if chain is None else np.asarray(chain, np.int64)
    only = np.zeros(k, bool) if decay_only is None else np.asarray(decay_only, bool)
    rows = []
    for j in tqdm(range(k), desc="theory fits", unit="column", disable=not progress):
        row = column_row(samples[:, j], None if decay is None else decay[:, j], bool(only[j]))
        rows.append({"column": j, "name": names[j], "chain": int(chain[j]), **row})
    return rows, rows_dataset(rows, units)
