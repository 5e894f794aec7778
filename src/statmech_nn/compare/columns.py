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
- ``misfit``: the fit ran but the law does not describe the weight: its exponent 2s ≤ 0 (no power-law factor:
  the density is flat or rises away from the core), or its binned χ² goodness of fit rejects it (p <
  :data:`GOF_ALPHA`); checked before the scale checks below, so a misfit is never ``boundary`` or ``resolved``;
- ``boundary``: the MLE sits at a bound of the fit (σ → ∞, or c at the edge of its scan);
- ``resolved``: all three scales of 002 eq. (6)/(21) inside the data, exponent 2s > 0 and a fit that
  describes its data.

Only ``resolved`` rows enter the headline numbers (:func:`statmech_nn.compare.verdicts.headline`); a misfit is
never a representative weight (:func:`statmech_nn.compare.verdicts.representative_columns`).

The decades of power law inside the data (:func:`decades_in_data`) run from the core c² to the crossover
u_S = 2sσ² - c² (where the Gaussian factor's log-slope in u overtakes the power law's), clipped to the data:
a ratio of fitted scales, so it does not change with the units of w. (The Lambert-W crossover u_G of 002
eq. (7) needs g; with the convention g = 1 it is not invariant under a change of units, e.g. the same law
gives 3.1 decades with c = 1e-3 and 0 with c = 1; it stays in the row as ``decades``, not in any verdict.)

For Q6 (:func:`statmech_nn.compare.verdicts.range_amplitude_verdict`) the amplitude and the range come from
disjoint halves of the gradient steps (``amplitude_first_half``: rms of the first half; ``decades_second_half``:
decades inside the data of a fit of the second half), so that their sampling errors are independent.

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
from .fits import fit_row, fit_theory, theory_crossovers
from .mixture import peak_statistics

STATUSES = ("resolved", "boundary", "misfit", "unresolved", "decay-only")
GOF_ALPHA = 0.01         # a fitted law with a binned χ² p below this does not describe its data
MIN_DISTINCT = 10        # distinct non-zero |Δ| values a theory fit needs (3 parameters, a shape)
MIN_NONZERO = 20         # non-zero increments a theory fit needs (compare.fits)
MAX_EXPONENT_ERR = 1.0   # a fit whose exponent 2s has a larger standard error has not determined it
_FIT_ERRORS = (StatmechError, np.linalg.LinAlgError, FloatingPointError, ValueError)


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


def _misfit(row: dict) -> str | None:
    """Why the fitted law does not describe the weight (exponent ≤ 0, goodness of fit rejected), or None."""
    if not row["exponent"] > 0:
        return f"exponent 2s = {row['exponent']:.3g} <= 0: no power-law factor"
    if row["gof_p"] < GOF_ALPHA:
        return f"goodness of fit rejects the law: binned chi2 p = {row['gof_p']:.2g} < {GOF_ALPHA}"
    return None


def _classify(row: dict, gradient: np.ndarray) -> tuple:
    fit_status = row["fit_status"]
    if fit_status.startswith("ill-conditioned"):
        return "unresolved", fit_status
    misfit = _misfit(row)
    if misfit:
        return "misfit", misfit
    if fit_status.startswith("boundary"):
        return "boundary", fit_status.split(": ", 1)[-1]
    if fit_status != "ok":
        return "unresolved", fit_status
    if not row["exponent_err"] <= MAX_EXPONENT_ERR:
        return "unresolved", f"exponent not determined: 2s = {row['exponent']:.3g} ± {row['exponent_err']:.2g}"
    problem = _scale_problem(row, gradient)
    return ("unresolved", problem) if problem else ("resolved", "all three scales inside the data")


def decades_in_data(row: dict, gradient: np.ndarray) -> float:
    """Decades of u = Δ² between max(c², smallest Δ²) and min(u_S, largest Δ²): the power-law range that
    the data cover (never extrapolated past the largest or below the smallest observed |Δ|)."""
    magnitude = np.abs(gradient[gradient != 0])
    if not (row.get("s", np.nan) > 0 and np.isfinite(row.get("u_slope", np.nan))) or magnitude.size == 0:
        return 0.0
    lo = max(row["u_low"], float(magnitude.min()) ** 2)
    hi = min(row["u_slope"], float(magnitude.max()) ** 2)
    return float(np.log10(hi / lo)) if hi > lo else 0.0


def halves_row(gradient: np.ndarray) -> dict:
    """Q6's amplitude and range on disjoint halves of the gradient steps (see the module docstring);
    NaN where the second half cannot be fitted."""
    half = gradient.size // 2
    first, second = gradient[:half], gradient[half:]
    out = {"amplitude_first_half": float(np.sqrt(np.mean(first * first))) if half else np.nan,
           "decades_second_half": np.nan}
    try:
        fit = fit_theory(second, profiled=())
    except _FIT_ERRORS:
        return out
    if not fit.status.startswith("ill-conditioned"):
        out["decades_second_half"] = decades_in_data({"s": fit.s, **theory_crossovers(fit.c, fit.s, fit.sigma)}, second)
    return out


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
                "reason": f"too few non-zero gradient increments: {np.count_nonzero(gradient)} "
                          f"(a fit needs {MIN_NONZERO})"}
    if distinct < MIN_DISTINCT:
        return {**base, "status": "unresolved",
                "reason": f"too few distinct values: {distinct} distinct non-zero gradient increments"}
    try:
        row = {**fit_row(gradient), **base, "n_gradient": int(gradient.size)}
    except _FIT_ERRORS as exc:
        return {**base, "status": "unresolved", "reason": f"fit failed: {exc}"}
    row["status"], row["reason"] = _classify(row, gradient)
    row["decades_in_data"] = decades_in_data(row, gradient)
    row["delta_rms"] = float(np.sqrt(np.mean(gradient * gradient)))
    row.update(halves_row(gradient))
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
