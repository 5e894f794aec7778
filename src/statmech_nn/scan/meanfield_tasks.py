"""Mean-field scans over temperature and field, as xarray Datasets (DESIGN: results are labelled arrays).

- :func:`cw_phase_diagram`: the Curie–Weiss (T, b) plane: the mean-field stable and metastable magnetization,
  χ, the free energy, the number of minima, the spinodal b_s(T), and (with N) the exact finite-N
  observables beside them (001 slide 'Simple (relevant) model').
- :func:`temperature_curves`: m(T), χ(T), f(T) of the thermodynamic saddle point of a general-coupling model
  (001 slides 'More magic'), by continuation from high to low T: each temperature starts, besides the
  default starts, from the previous solution.
- :func:`hs_scan`: the (T, h) plane of a general-coupling model, one continuation per field value;
- :func:`layer_curves`: :func:`temperature_curves` of a trained layer's spin model
  (:class:`~statmech_nn.meanfield.LayerSpinModel`),
  with the units of the layer's inputs and outputs apart and where the susceptibility along the leading mode peaks.

Their figures are in :mod:`statmech_nn.report.meanfield_figures`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr
from tqdm import tqdm

from ..meanfield.bridge import LayerSpinModel
from ..meanfield.cw_exact import exact_observables
from ..meanfield.cw_mean_field import mean_field_grid, spinodal_field
from ..meanfield.hs import DENSE_LIMIT, GeneralCouplings
from ..errors import ConvergenceError
from ..params import GridAxis, require_int, require_positive
from .engine import load_scan, run_scan
from .scan_spec import ScanSpec
from .tasks import batched


def _temperatures(values) -> np.ndarray:
    values = np.unique(np.asarray(values, float))
    for value in values:
        require_positive("T", value)
    return values


_CW_EXACT = {"m": "<m>", "m_abs": "<|m|>", "chi": "N beta (<m^2> - <m>^2)", "chi_abs": "N beta (<m^2> - <|m|>^2)",
             "free_energy_per_spin": "-ln Z/(beta N)", "binder": "1 - <m^4>/(3 <m^2>^2)"}


@batched
def cw_block(T, b, j: float = 1.0, n: int | None = None) -> dict:
    """The scan task of :func:`cw_phase_diagram`: mean field, and the exact sums at N spins if ``n``, at the cells
    (T_i, b_i) of a block (elementwise)."""
    T, b = np.asarray(T, float), np.asarray(b, float)
    mf = mean_field_grid(1.0 / T, j, b)
    out = {"mf_m": mf["m"], "mf_m_metastable": mf["m_metastable"], "mf_chi": mf["chi"],
           "mf_free_energy": mf["free_energy_per_spin"], "mf_n_minima": mf["n_minima"],
           "spinodal_b": spinodal_field(T, j)}
    if n is not None:
        exact = exact_observables(n, 1.0 / T, j, b)
        out.update({f"exact_{key}": exact[key] for key in _CW_EXACT})
    return out


def _engine_scan(spec: ScanSpec, executor, progress: bool) -> xr.Dataset:
    """Run ``spec`` on the engine in a temporary store; the Dataset without the bookkeeping (every cell done)."""
    with tempfile.TemporaryDirectory(prefix="statmech-nn-scan-") as work:
        outcome = run_scan(spec, Path(work) / "scan.zarr", executor, progress=progress)
        scan = load_scan(Path(work) / "scan.zarr")
    if outcome.failed:
        raise ConvergenceError(f"{outcome.failed} of {outcome.cells} cells failed: {scan['error'].values.ravel()[0]}")
    return scan.drop_vars(["status", "error", "attempts", "seconds"])


def cw_phase_diagram(temperatures, fields, j: float = 1.0, n: int | None = None,
                     progress: bool = False, executor=None) -> xr.Dataset:
    """The Curie–Weiss phase diagram over a (T, b) grid: mean field everywhere, exact sums at N spins if ``n``
    (on the scan engine: one task per temperature row with ``n``, the whole grid in one vectorized task
    without; ``executor`` as :func:`statmech_nn.scan.engine.run_scan`'s)."""
    T = _temperatures(temperatures)
    b = np.unique(np.asarray(fields, float))
    n = None if n is None else require_int("n", n, minimum=1)
    spec = ScanSpec(task="cw-phase-diagram", axes=(GridAxis("T", T), GridAxis("b", b)),
                    base={"T": 1.0, "b": 0.0, "j": float(j), "n": n}, chunk=b.size if n else None, name="cw")
    scan = _engine_scan(spec, executor, progress)
    data = {"mf_m": "mean-field stable magnetization per spin",
            "mf_m_metastable": "mean-field metastable magnetization (NaN: none)",
            "mf_chi": "mean-field susceptibility dm/db", "mf_free_energy": "mean-field free energy per spin",
            "mf_n_minima": "number of local minima of f(m)"}
    for name, label in data.items():
        scan[name].attrs = {"long_name": label}
    scan["mf_chi"].attrs["units"] = "1/J"
    scan["mf_free_energy"].attrs["units"] = "J"
    scan["spinodal_b"] = scan["spinodal_b"].isel(b=0, drop=True)
    scan["spinodal_b"].attrs = {"long_name": "spinodal field b_s(T): two minima for |b| < b_s", "units": "J"}
    for key, label in _CW_EXACT.items():
        if f"exact_{key}" in scan:
            scan[f"exact_{key}"].attrs = {"long_name": f"exact {label} at N = {n}"}
    scan["T"].attrs = {"units": "J/k_B", "long_name": "temperature"}
    scan["b"].attrs = {"units": "J", "long_name": "external field"}
    scan.attrs = {"model": "Curie-Weiss H = -(J/2N)(sum s)^2 - b sum s", "j": j, "n": -1 if n is None else n,
                  "critical_temperature": max(j, 0.0), "source": "001 slide 'Simple (relevant) model'"}
    return scan


_CURVE_ATTRS = {
    "m": {"long_name": "mean saddle-point magnetization (1/N) sum V_i"},
    "chi": {"long_name": "susceptibility (1/N) sum dV_i/dh", "units": "1/[W]"},
    "m_mode": {"long_name": "|v.V|/sqrt(N) along the leading mode v of W_sym"},
    "chi_mode": {"long_name": "susceptibility along the leading mode v.dV/d(eps), field eps v", "units": "1/[W]"},
    "free_energy": {"long_name": "saddle-point free energy per spin", "units": "[W]"},
    "one_loop": {"long_name": "one-loop term (T/2N) ln det(I - beta D W/N)", "units": "[W]"},
    "solutions": {"long_name": "number of distinct saddle points found"},
    "minima": {"long_name": "number of locally stable saddle points"},
}


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
    return xr.Dataset({key: ("T", value, _CURVE_ATTRS.get(key, {"long_name": f"mean V over units '{key[2:]}'"}))
                       for key, value in out.items()},
                      coords={"T": ("T", T, {"units": "[W]", "long_name": "temperature"})},
                      attrs={"Tc": model.critical_temperature, "n": model.n})


@batched
def hs_field_block(couplings: str, T, h, random_starts: int = 2, seed=0) -> dict:
    """The scan task of :func:`hs_scan`: :func:`temperature_curves` at one uniform field h (a block is one h and
    every temperature: the continuation runs along T inside the task). ``couplings``: an .npz with the
    symmetric couplings ``weights`` and the model's own ``field``."""
    h = np.asarray(h, float)
    if np.unique(h).size != 1:
        raise ValueError("an hs block holds one field value")
    with np.load(couplings) as stored:
        model = GeneralCouplings(stored["weights"], stored["field"] + h[0])
    curves = temperature_curves(model, T, random_starts=random_starts, seed=seed)
    order = np.searchsorted(curves["T"].values, np.asarray(T, float))
    return {name: curves[name].values[order] for name in curves.data_vars}


def hs_scan(model: GeneralCouplings, temperatures, fields, *, random_starts: int = 2, seed=0,
            progress: bool = False, executor=None) -> xr.Dataset:
    """The (T, h) plane: :func:`temperature_curves` for each uniform field h added to the model's own field,
    one scan-engine task per field value (in parallel over the executor's workers)."""
    T = _temperatures(temperatures)
    h = np.unique(np.asarray(fields, float))
    with tempfile.TemporaryDirectory(prefix="statmech-nn-hs-") as work:
        couplings = Path(work) / "couplings.npz"
        np.savez(couplings, weights=model.weights, field=model.field)
        spec = ScanSpec(task="hs-field", axes=(GridAxis("h", h), GridAxis("T", T)), chunk=T.size, name="hs",
                        base={"couplings": str(couplings), "h": 0.0, "T": 1.0, "random_starts": random_starts,
                              "seed": seed})
        scan = _engine_scan(spec, executor, progress).transpose("T", "h")
    for name in scan.data_vars:
        scan[name].attrs = _CURVE_ATTRS.get(name, {})
    scan["T"].attrs = {"units": "[W]", "long_name": "temperature"}
    scan["h"].attrs = {"units": "[W]", "long_name": "uniform field"}
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
