"""Predicted curves on the observables' own dimensions, so that theory over data is a join (DESIGN: contracts).

The measured fluctuation densities of :mod:`statmech_nn.observables.fluctuations` are bin averages of
p(Δ): over the |Δ| bins [lo, hi) (both signs) and over the Δ² shells. The prediction of a fitted model is
the same bin average, computed exactly from its tail probability P(|Δ| ≥ x):

    p̄ = [P(|Δ| ≥ lo) - P(|Δ| ≥ hi)] / (2 (hi - lo))        (|Δ| bins; shells: lo, hi = √u_lo, √u_hi),

not the density at the bin centre, so data and prediction differ only by noise. Models (dimension
``model``): ``theory`` (002 eqs. (6)/(21) with the fitted c, s, σ), ``gaussian``, ``student_t`` and
``power_law`` (CSN fit of |Δ| ≥ x_min, scaled by the fraction of all samples in its tail; NaN below
x_min). The first three were fitted to the gradient steps (all samples when no step is weight decay,
exact zeros included) and are scaled by their share of all samples, as the densities are normalized.
:func:`join` stacks data and predictions along ``model`` (the data as ``model="data"``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from .fits import theory_log_tail

MODELS = ("theory", "gaussian", "student_t", "power_law")


def _tail_probability(model: str, row: dict, x: np.ndarray) -> np.ndarray:
    """P(|Δ| ≥ x) of one fitted model of one column (NaN where the model says nothing)."""
    if model == "theory":
        return np.exp(theory_log_tail(x, row["c"], row["s"], row["sigma"]))
    if model == "gaussian":
        return 2.0 * stats.norm.sf(x, scale=row["gaussian_sigma"])
    if model == "student_t":
        return 2.0 * stats.t.sf(x, row["student_t_nu"], scale=row["student_t_scale"])
    xmin, alpha = row["power_law_xmin"], row["power_law_alpha"]
    fraction = row["power_law_ntail"] / row["n"]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # far below xmin: masked to NaN anyway
        return np.where(x >= xmin, fraction * (x / xmin) ** (1.0 - alpha), np.nan)


def _bin_average(model, row, lo, hi):
    """Mean of p(Δ) over {lo ≤ |Δ| < hi}; NaN for padding bins. Models fitted to the gradient steps alone
    carry their share n_gradient/n of all steps (the rest is the weight-decay peak)."""
    valid = np.isfinite(lo) & np.isfinite(hi) & (hi > lo)
    out = np.full(lo.shape, np.nan)
    if valid.any() and all(np.isfinite(row.get(key, np.nan)) for key in _NEEDS[model]):
        share = (1.0 if model == "power_law" or not np.isfinite(row.get("n_gradient", np.nan))
                 else row["n_gradient"] / row["n"])
        mass = share * (_tail_probability(model, row, lo[valid]) - _tail_probability(model, row, hi[valid]))
        out[valid] = mass / (2.0 * (hi[valid] - lo[valid]))
    return out


_NEEDS = {"theory": ("c", "s", "sigma"), "gaussian": ("gaussian_sigma",),
          "student_t": ("student_t_nu", "student_t_scale"),
          "power_law": ("power_law_xmin", "power_law_alpha", "power_law_ntail", "n")}


def predicted_densities(observables: xr.Dataset, table: xr.Dataset, models=MODELS) -> xr.Dataset:
    """``density_abs`` (model, column, abs_bin) and ``density_sq`` (model, column, sq_bin) of the fitted models
    on the coordinates of the measured ``observables``
    (from :func:`~statmech_nn.observables.fluctuations.fluctuation_densities`)."""
    k = observables.sizes["column"]
    abs_out = np.full((len(models), k, observables.sizes["abs_bin"]), np.nan)
    sq_out = np.full((len(models), k, observables.sizes["sq_bin"]), np.nan)
    for j in range(k):
        row = {name: float(table[name].values[j]) for name in table.data_vars if table[name].dtype.kind == "f"}
        abs_lo, abs_hi = observables["abs_delta_lo"].values[j], observables["abs_delta_hi"].values[j]
        sq_lo = np.sqrt(observables["delta_sq_lo"].values[j])
        sq_hi = np.sqrt(observables["delta_sq_hi"].values[j])
        for m, model in enumerate(models):
            abs_out[m, j] = _bin_average(model, row, abs_lo, abs_hi)
            sq_out[m, j] = _bin_average(model, row, sq_lo, sq_hi)
    units = observables["density_abs"].attrs.get("units", "")
    coords = {name: observables[name] for name in ("column", "name", "chain", "abs_delta", "delta_sq")}
    return xr.Dataset(
        {"density_abs": (("model", "column", "abs_bin"), abs_out,
                         {"units": units, "long_name": "predicted p(Δ), bin-averaged"}),
         "density_sq": (("model", "column", "sq_bin"), sq_out,
                        {"units": units, "long_name": "predicted p(Δ) on shells of Δ²"})},
        coords={"model": list(models), **coords},
        attrs={"prediction": "bin averages of fitted models (compare.overlay)"})


def join(measured: xr.Dataset, predicted: xr.Dataset, variables=("density_abs", "density_sq")) -> xr.Dataset:
    """Data and predictions of ``variables`` stacked along ``model``, the data first as ``model='data'``."""
    data = measured[list(variables)].expand_dims(model=["data"])
    return xr.concat([data, predicted[list(variables)]], dim="model", coords="minimal", compat="override")
