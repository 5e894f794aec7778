"""Predicted curves on the observables' own dimensions, so that theory over data is a join (DESIGN: contracts).

The measured fluctuation densities of :mod:`statmech_nn.observables.fluctuations` are bin averages of
p(Δ): over the |Δ| bins [lo, hi) (both signs) and over the Δ² shells. The prediction of a fitted model is
the same bin average, computed exactly from its tail probability P(|Δ| ≥ x):

    p̄ = [P(|Δ| ≥ lo) - P(|Δ| ≥ hi)] / (2 (hi - lo))        (|Δ| bins; shells: lo, hi = √u_lo, √u_hi),

not the density at the bin centre, so data and prediction differ only by noise. Each fit is evaluated as its
distribution object (:func:`fitted_law`: a law of |Δ| with scipy.stats's methods, its ``sf`` the tail above).
Models (dimension ``model``): ``theory`` (002 eqs. (6)/(21) with the fitted c, s, σ), ``gaussian``, ``student_t`` and
``power_law`` (CSN fit of |Δ| ≥ x_min, scaled by the fraction of all samples in its tail; NaN below
x_min). The first three were fitted to the gradient steps (all samples when no step is weight decay,
exact zeros included) and are scaled by their share of all samples, as the densities are normalized.
:func:`join` stacks data and predictions along ``model`` (the data as ``model="data"``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..distributions import Distribution, Folded, Normal, StudentT
from ..errors import StatmechError
from ..observables.powerlaw import PowerLaw
from .fits import FluctuationLaw

MODELS = ("theory", "gaussian", "student_t", "power_law")

# each model: the columns of the fit table it reads, and the law of |Δ| they give (the first three are laws of Δ,
# symmetric about 0, folded; the power law is already a law of |Δ| ≥ x_min)
_LAWS = {
    "theory": (("c", "s", "sigma"), lambda c, s, sigma: Folded(FluctuationLaw(c, s, sigma))),
    "gaussian": (("gaussian_sigma",), lambda sigma: Folded(Normal(sigma))),
    "student_t": (("student_t_nu", "student_t_scale"), lambda nu, scale: Folded(StudentT(nu, scale))),
    "power_law": (("power_law_alpha", "power_law_xmin"), PowerLaw),
}


def fitted_law(model: str, row: dict) -> tuple[Distribution, float] | None:
    """(the law of |Δ| that ``model``'s fit in ``row`` states, the share of all samples it describes), or None
    where the row has no such fit (a missing or non-finite parameter, or one outside the law's range).

    The share is n_tail/n for the power law (it describes the tail above x_min), and n_gradient/n for the
    models fitted to the gradient steps alone (1 when every step is a gradient step)."""
    names, law = _LAWS[model]
    values = [row.get(name, np.nan) for name in names]
    if not all(np.isfinite(values)):
        return None
    if model == "power_law":
        share = row.get("power_law_ntail", np.nan) / row.get("n", np.nan)
    else:
        share = row["n_gradient"] / row["n"] if np.isfinite(row.get("n_gradient", np.nan)) else 1.0
    if not np.isfinite(share):
        return None
    try:
        return law(*values), share
    except StatmechError:
        return None


def _bin_average(fitted: tuple[Distribution, float] | None, lo, hi):
    """Mean of p(Δ) over {lo ≤ |Δ| < hi} = share · [P(|Δ| ≥ lo) - P(|Δ| ≥ hi)] / 2(hi - lo) of a fitted law of
    |Δ|; NaN for padding bins, bins that reach below the law's support, and where no law was fitted."""
    out = np.full(lo.shape, np.nan)
    if fitted is None:
        return out
    law, share = fitted
    valid = np.isfinite(lo) & np.isfinite(hi) & (hi > lo) & (lo >= law.support()[0])
    if valid.any():
        mass = share * (law.sf(lo[valid]) - law.sf(hi[valid]))
        out[valid] = mass / (2.0 * (hi[valid] - lo[valid]))
    return out


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
            fitted = fitted_law(model, row)
            abs_out[m, j] = _bin_average(fitted, abs_lo, abs_hi)
            sq_out[m, j] = _bin_average(fitted, sq_lo, sq_hi)
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
