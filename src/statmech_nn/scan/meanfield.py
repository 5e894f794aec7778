"""Mean-field scans over temperature and field, as xarray Datasets (DESIGN: results are labelled arrays).

- :func:`cw_phase_diagram`: the Curie–Weiss (T, b) plane: the mean-field stable and metastable magnetization,
  χ, the free energy, the number of minima, the spinodal b_s(T), and (with N) the exact finite-N
  observables beside them (001 slide 'Simple (relevant) model').
- :func:`temperature_curves`: m(T), χ(T), f(T) of the thermodynamic saddle point of a general-coupling model
  (001 slides 'More magic'), by continuation from high to low T: each temperature starts, besides the
  default starts, from the previous solution.
- :func:`hs_scan`: the (T, h) plane of a general-coupling model, one continuation per field value;
- :func:`layer_curves`: :func:`temperature_curves` of a trained layer's spin model (:class:`~statmech_nn.meanfield.LayerSpinModel`),
  with the units of the layer's inputs and outputs apart and where the susceptibility along the leading mode peaks.

Their figures are in :mod:`statmech_nn.report.meanfield_figures`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from tqdm import tqdm

from ..meanfield.bridge import LayerSpinModel
from ..meanfield.cw_exact import exact_observables
from ..meanfield.cw_mean_field import mean_field_grid, spinodal_field
from ..meanfield.hs import DENSE_LIMIT, GeneralCouplings
from ..params import require_int, require_positive


def _temperatures(values) -> np.ndarray:
    values = np.unique(np.asarray(values, float))
    for value in values:
        require_positive("T", value)
    return values


def cw_phase_diagram(temperatures, fields, j: float = 1.0, n: int | None = None,
                     progress: bool = False) -> xr.Dataset:
    """The Curie–Weiss phase diagram over a (T, b) grid: mean field everywhere, exact sums at N spins if ``n``
    (one vectorized call per temperature, with a progress bar if ``progress``)."""
    T = _temperatures(temperatures)
    b = np.unique(np.asarray(fields, float))
    beta = 1.0 / T[:, None]
    mf = mean_field_grid(beta, j, b[None, :])
    dims = ("T", "b")
    data = {
        "mf_m": (dims, mf["m"], {"long_name": "mean-field stable magnetization per spin"}),
        "mf_m_metastable": (dims, mf["m_metastable"], {"long_name": "mean-field metastable magnetization (NaN: none)"}),
        "mf_chi": (dims, mf["chi"], {"long_name": "mean-field susceptibility dm/db", "units": "1/J"}),
        "mf_free_energy": (dims, mf["free_energy_per_spin"],
                           {"long_name": "mean-field free energy per spin", "units": "J"}),
        "mf_n_minima": (dims, mf["n_minima"], {"long_name": "number of local minima of f(m)"}),
        "spinodal_b": ("T", spinodal_field(T, j),
                       {"long_name": "spinodal field b_s(T): two minima for |b| < b_s", "units": "J"}),
    }
    if n is not None:
        n = require_int("n", n, minimum=1)
        with tqdm(T, unit="T", desc=f"exact sums, N = {n}", disable=not progress) as rows:
            per_row = [exact_observables(n, 1.0 / t, j, b) for t in rows]
        exact = {key: np.stack([row[key] for row in per_row]) for key in per_row[0]}
        labels = {"m": "<m>", "m_abs": "<|m|>", "chi": "N beta (<m^2> - <m>^2)",
                  "chi_abs": "N beta (<m^2> - <|m|>^2)", "free_energy_per_spin": "-ln Z/(beta N)",
                  "binder": "1 - <m^4>/(3 <m^2>^2)"}
        for key, label in labels.items():
            data[f"exact_{key}"] = (dims, exact[key], {"long_name": f"exact {label} at N = {n}"})
    return xr.Dataset(
        data,
        coords={"T": ("T", T, {"units": "J/k_B", "long_name": "temperature"}),
                "b": ("b", b, {"units": "J", "long_name": "external field"})},
        attrs={"model": "Curie-Weiss H = -(J/2N)(sum s)^2 - b sum s", "j": j, "n": -1 if n is None else n,
               "critical_temperature": max(j, 0.0), "source": "001 slide 'Simple (relevant) model'"},
    )


def temperature_curves(model: GeneralCouplings, temperatures, *, random_starts: int = 2, seed=0,
                       groups: dict | None = None, progress: bool = False) -> xr.Dataset:
    """m(T), χ(T) = mean ∂V_i/∂h, the same along the leading mode (m_mode, chi_mode), f(T), the one-loop term and
    the saddle-point count, over ascending T.

    ``groups`` maps a name to a slice of units: m_<name>(T) is their mean V.
    """
    T = _temperatures(temperatures)
    groups = groups or {}
    keys = ["m", "chi", "m_mode", "chi_mode", "free_energy", "one_loop", "solutions", "minima"]
    keys += [f"m_{g}" for g in groups]
    out = {key: np.full(T.size, np.nan) for key in keys}
    previous = None
    for index in tqdm(range(T.size - 1, -1, -1), total=T.size, unit="T", desc="saddle points",
                      disable=not progress, leave=False):  # continuation from high to low temperature
        points = model.saddle_points(1.0 / T[index], random_starts=random_starts, seed=seed, extra_starts=previous)
        V = points.V
        previous = V[:, None]
        out["m"][index], out["chi"][index] = points.m, points.chi.mean()
        out["m_mode"][index], out["chi_mode"][index] = points.mode_response()
        out["free_energy"][index] = points.free_energy
        if model.n <= DENSE_LIMIT:
            out["one_loop"][index] = points.one_loop()
        out["solutions"][index] = points.count
        out["minima"][index] = sum(s != "unstable" for s in points.stability)
        for name, part in groups.items():
            out[f"m_{name}"][index] = V[part].mean()
    attrs = {
        "m": {"long_name": "mean saddle-point magnetization (1/N) sum V_i"},
        "chi": {"long_name": "susceptibility (1/N) sum dV_i/dh", "units": "1/[W]"},
        "m_mode": {"long_name": "|v.V|/sqrt(N) along the leading mode v of W_sym"},
        "chi_mode": {"long_name": "susceptibility along the leading mode v.dV/d(eps), field eps v", "units": "1/[W]"},
        "free_energy": {"long_name": "saddle-point free energy per spin", "units": "[W]"},
        "one_loop": {"long_name": "one-loop term (T/2N) ln det(I - beta D W/N)", "units": "[W]"},
        "solutions": {"long_name": "number of distinct saddle points found"},
        "minima": {"long_name": "number of locally stable saddle points"},
    }
    return xr.Dataset({key: ("T", value, attrs.get(key, {"long_name": f"mean V over units '{key[2:]}'"}))
                       for key, value in out.items()},
                      coords={"T": ("T", T, {"units": "[W]", "long_name": "temperature"})},
                      attrs={"Tc": model.critical_temperature, "n": model.n})


def hs_scan(model: GeneralCouplings, temperatures, fields, *, random_starts: int = 2, seed=0,
            progress: bool = False) -> xr.Dataset:
    """The (T, h) plane: :func:`temperature_curves` for each uniform field h added to the model's own field."""
    T = _temperatures(temperatures)
    h = np.unique(np.asarray(fields, float))
    rows = [temperature_curves(model.with_field(model.field + value), T, random_starts=random_starts, seed=seed,
                               progress=progress)
            for value in tqdm(h, unit="h", desc="field values", disable=not progress)]
    scan = xr.concat(rows, dim=xr.DataArray(h, dims="h", attrs={"units": "[W]", "long_name": "uniform field"}))
    scan = scan.transpose("T", "h")
    scan.attrs = {"Tc": model.critical_temperature, "n": model.n,
                  "model": "H = -(1/2N) s.W.s - h.s (symmetric part of W)", "source": "001 slides 'More magic'"}
    return scan


def layer_curves(model: LayerSpinModel, temperatures, random_starts: int = 2, seed=0,
                 progress: bool = False) -> xr.Dataset:
    """Mean-field m(T), m_in(T), m_out(T), χ(T), f(T) of a layer's thermodynamic state, by continuation from high T.

    ``attrs["t_chi_peak"]``: where the susceptibility along the leading mode, χ_v(T), peaks (T_c itself without
    fields, the crossover temperature with them).
    """
    curves = temperature_curves(model.spin_model, temperatures, random_starts=random_starts, seed=seed,
                                groups={"in": slice(0, model.n_in), "out": slice(model.n_in, model.n)},
                                progress=progress)
    curves.attrs.update({"Tc": model.critical_temperature, "n_in": model.n_in, "n_out": model.n_out,
                         "t_chi_peak": float(curves["T"][int(np.nanargmax(curves["chi_mode"].values))]),
                         "convention": "E = -y.w.x - c.y on {0,1} units; beta = 1 is the layer's logistic unit"})
    return curves
