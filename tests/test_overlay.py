"""The overlay's predictions come from the distribution objects, and agree with the closed forms they replace."""

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from statmech_nn.compare.fits import FluctuationLaw, theory_log_tail
from statmech_nn.compare.overlay import MODELS, fitted_law, predicted_densities
from statmech_nn.distributions import Folded, Normal, StudentT
from statmech_nn.observables.fluctuations import fluctuation_densities
from statmech_nn.observables.powerlaw import PowerLaw

# two columns of fits: the second has weight-decay steps (n_gradient < n)
ROWS = [
    {"c": 0.1, "s": 1.3, "sigma": 1.5, "gaussian_sigma": 0.4, "student_t_nu": 3.2, "student_t_scale": 0.2,
     "power_law_alpha": 2.7, "power_law_xmin": 0.3, "power_law_ntail": 900.0, "n": 5000.0, "n_gradient": 5000.0},
    {"c": 0.05, "s": 0.9, "sigma": 3.0, "gaussian_sigma": 0.7, "student_t_nu": 1.5, "student_t_scale": 0.1,
     "power_law_alpha": 1.8, "power_law_xmin": 0.05, "power_law_ntail": 2600.0, "n": 5000.0, "n_gradient": 4100.0},
]


def _reference_tail(model, row, x):
    """P(|Δ| ≥ x) in closed form per model name (the overlay's computation before it used the law objects)."""
    if model == "theory":
        return np.exp(theory_log_tail(x, row["c"], row["s"], row["sigma"]))
    if model == "gaussian":
        return 2.0 * stats.norm.sf(x, scale=row["gaussian_sigma"])
    if model == "student_t":
        return 2.0 * stats.t.sf(x, row["student_t_nu"], scale=row["student_t_scale"])
    xmin, alpha = row["power_law_xmin"], row["power_law_alpha"]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.where(x >= xmin, row["power_law_ntail"] / row["n"] * (x / xmin) ** (1.0 - alpha), np.nan)


def _reference_average(model, row, lo, hi):
    out = np.full(lo.shape, np.nan)
    valid = np.isfinite(lo) & np.isfinite(hi) & (hi > lo)
    needs = {"theory": ("c", "s", "sigma"), "gaussian": ("gaussian_sigma",),
             "student_t": ("student_t_nu", "student_t_scale"), "power_law": ("power_law_xmin",)}[model]
    if all(np.isfinite(row[key]) for key in needs):
        share = 1.0 if model == "power_law" else row["n_gradient"] / row["n"]
        mass = share * (_reference_tail(model, row, lo[valid]) - _reference_tail(model, row, hi[valid]))
        out[valid] = mass / (2.0 * (hi[valid] - lo[valid]))
    return out


@pytest.fixture(scope="module")
def observables():
    rng = np.random.default_rng(3)
    samples = np.column_stack([stats.t.rvs(3.2, scale=0.2, size=5000, random_state=rng),
                               0.1 * rng.standard_cauchy(5000)])
    return fluctuation_densities(samples)


def _table(rows):
    return xr.Dataset({key: ("column", np.array([row[key] for row in rows], float)) for key in rows[0]})


def test_predictions_agree_with_the_closed_forms(observables):
    """Agreement to 1e-10 relative (measured: 1.0e-12 at most; Gaussian and Student-t identical to the bit): only
    the rounding of exp/log differs (theory: 2·exp(log(S/2)) against exp(log S); power law: exp((1-α) log(x/x_min))
    against (x/x_min)^(1-α)), amplified in a bin average by S/ΔS where the two tails of a bin are close."""
    predicted = predicted_densities(observables, _table(ROWS))
    assert list(predicted["model"].values) == list(MODELS)
    compared = 0
    for j, row in enumerate(ROWS):
        views = (("density_abs", observables["abs_delta_lo"].values[j], observables["abs_delta_hi"].values[j]),
                 ("density_sq", np.sqrt(observables["delta_sq_lo"].values[j]),
                  np.sqrt(observables["delta_sq_hi"].values[j])))
        for variable, lo, hi in views:
            for m, model in enumerate(MODELS):
                expected = _reference_average(model, row, lo, hi)
                np.testing.assert_allclose(predicted[variable].values[m, j], expected, rtol=1e-10, atol=1e-300,
                                           equal_nan=True, err_msg=f"{variable} {model} column {j}")
                compared += np.isfinite(expected).sum()
    assert compared > 200


def test_each_model_is_its_distribution_object():
    row = ROWS[1]
    law, share = fitted_law("theory", row)
    assert isinstance(law, Folded) and isinstance(law.law, FluctuationLaw) and share == 4100.0 / 5000.0
    assert isinstance(fitted_law("gaussian", row)[0].law, Normal)
    assert isinstance(fitted_law("student_t", row)[0].law, StudentT)
    law, share = fitted_law("power_law", row)
    assert isinstance(law, PowerLaw) and share == 2600.0 / 5000.0 and law.support()[0] == 0.05


def test_a_fit_the_row_lacks_or_a_law_cannot_hold_predicts_nothing(observables):
    assert fitted_law("theory", {**ROWS[0], "c": np.nan}) is None
    assert fitted_law("theory", {**ROWS[1], "sigma": np.inf}) is None   # no finite fit of the cutoff
    assert fitted_law("gaussian", {**ROWS[0], "gaussian_sigma": -1.0}) is None
    assert fitted_law("power_law", {key: v for key, v in ROWS[0].items() if key != "power_law_ntail"}) is None
    predicted = predicted_densities(observables, _table([{**ROWS[0], "c": np.nan}, ROWS[1]]))
    assert np.all(np.isnan(predicted["density_abs"].sel(model="theory").values[0]))
    assert np.isfinite(predicted["density_abs"].sel(model="theory").values[1]).any()
