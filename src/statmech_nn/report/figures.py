"""PNG figures of the observables with the fitted theory drawn over them (the views of 002 §5, Figs. 1-4).

- :func:`fluctuation_figure` with ``view``:
  ``full`` (002 Fig. 2: p(Δ) against |Δ|, log-log, the peak, the power law and the Gaussian tail),
  ``powerlaw`` (002 Fig. 3 left: the intermediate range, log-log, with the CSN power law of the tail),
  ``gaussian`` (002 Fig. 3 right: log p against Δ², where a Gaussian is a straight line);
- :func:`spectrum_figure` (002 Fig. 4: f²·P(f), with the band fits and the flat line of P ∝ 1/f²);
- :func:`outputs_figure` (002 Fig. 1: histograms of neuron outputs with the fitted two-Gaussian mixture).

Data are markers with error bars, predictions are lines; each tracked column has its own colour, and the
legend says which is which. The predictions come from :func:`statmech_nn.compare.overlay.predicted_densities`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..errors import DataError  # noqa: E402

VIEWS = ("full", "powerlaw", "gaussian")
_MODEL_STYLE = {"theory": dict(ls="-", lw=1.8), "gaussian": dict(ls=":", lw=1.2), "student_t": dict(ls="-.", lw=1.2),
                "power_law": dict(ls="--", lw=1.4)}
_MODEL_LABEL = {"theory": "theory, 002 eq. (6) (MLE)", "gaussian": "Gaussian (MLE)", "student_t": "Student-t (MLE)",
                "power_law": "power law |Δ| ≥ x_min (CSN)"}


def pick_columns(count: int, most: int = 4) -> np.ndarray:
    """Up to ``most`` column indices spread evenly over ``count`` columns."""
    return np.unique(np.linspace(0, count - 1, min(count, most)).round().astype(int))


def _colors(n):
    return plt.get_cmap("tab10")(np.arange(n) % 10)


def _legend(ax, columns, names, colors, models):
    handles = [Line2D([], [], color=colors[i], marker="o", ls="", label=f"data: {names[j]}") for i, j in enumerate(columns)]
    handles += [Line2D([], [], color="0.3", **_MODEL_STYLE[m], label=_MODEL_LABEL[m]) for m in models]
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.85)


def fluctuation_figure(observables: xr.Dataset, predicted: xr.Dataset, table: xr.Dataset, view: str, path,
                       columns=None, title: str | None = None) -> Path:
    """One of the three views of 002 Figs. 2-3 for the chosen columns, theory and alternatives overlaid."""
    if view not in VIEWS:
        raise DataError(f"unknown view {view!r}: choose one of {', '.join(VIEWS)}")
    columns = pick_columns(observables.sizes["column"]) if columns is None else np.asarray(columns)
    names = observables["name"].values
    colors = _colors(len(columns))
    unit = observables["abs_delta"].attrs.get("units", "q")
    fig, ax = plt.subplots(figsize=(6.4, 4.8), constrained_layout=True)
    shown_values = []
    models = {"full": ("theory", "gaussian"), "powerlaw": ("theory", "power_law"), "gaussian": ("theory", "gaussian")}[view]
    for color, j in zip(colors, columns):
        if view == "gaussian":
            x = observables["delta_sq"].values[j]
            y, err = observables["density_sq"].values[j], observables["density_sq_err"].values[j]
            curves = {m: predicted["density_sq"].sel(model=m).values[j] for m in models}
        else:
            x = observables["abs_delta"].values[j]
            y, err = observables["density_abs"].values[j], observables["density_abs_err"].values[j]
            curves = {m: predicted["density_abs"].sel(model=m).values[j] for m in models}
        shown = np.isfinite(x) & (y > 0)
        if view == "powerlaw":
            shown &= _intermediate(table, j, x)
        ax.errorbar(x[shown], y[shown], yerr=np.minimum(err[shown], 0.999 * y[shown]), fmt="o", ms=3, color=color,
                    elinewidth=0.8, capsize=0)
        shown_values.append(y[shown])
        for model, curve in curves.items():
            ok = shown & np.isfinite(curve) & (curve > 0)
            ax.plot(x[ok], curve[ok], color=color, **_MODEL_STYLE[model])
    ax.set_yscale("log")
    values = np.concatenate(shown_values) if shown_values else np.array([])
    if values.size:  # the data set the range; a model's far tail may not squash it
        ax.set_ylim(values.min() / 5.0, values.max() * 3.0)
    if view == "gaussian":
        ax.set_xlabel(f"Δ² [{unit}²]")
    else:
        ax.set_xscale("log")
        ax.set_xlabel(f"|Δ| [{unit}]")
    ax.set_ylabel(f"p(Δ) [1/{unit}]")
    default = {"full": "Local fluctuations Δ (002 Fig. 2)", "powerlaw": "Intermediate scales, log-log (002 Fig. 3 left)",
               "gaussian": "Large fluctuations, log-quadratic (002 Fig. 3 right)"}[view]
    ax.set_title(title or default, fontsize=10)
    _legend(ax, columns, names, colors, models)
    return _save(fig, path)


def _intermediate(table: xr.Dataset, j: int, x: np.ndarray) -> np.ndarray:
    """|Δ| between √u_low/3 and 3√u_G of the fitted theory (all bins when the crossovers are not finite)."""
    with np.errstate(invalid="ignore"):  # a crossover that does not exist (NaN, or u_G < 0) bounds nothing
        lo = np.sqrt(float(table["u_low"].values[j])) / 3.0 if "u_low" in table else np.nan
        hi = np.sqrt(float(table["u_gauss"].values[j])) * 3.0 if "u_gauss" in table else np.nan
    keep = np.ones(x.shape, bool)
    if np.isfinite(lo):
        keep &= x >= lo
    if np.isfinite(hi) and hi > lo:
        keep &= x <= hi
    return keep


def spectrum_figure(spectra: xr.Dataset, path, columns=None, title: str | None = None) -> Path:
    """f²·P(f) (log-binned, with errors) with the low- and high-band power laws P ∝ f^-a drawn on their bands."""
    columns = pick_columns(spectra.sizes["column"]) if columns is None else np.asarray(columns)
    names = spectra["name"].values
    colors = _colors(len(columns))
    f = spectra["freq_bin"].values
    fig, ax = plt.subplots(figsize=(6.4, 4.8), constrained_layout=True)
    bands = {"low": spectra.attrs["low_band"], "high": spectra.attrs["high_band"]}
    for color, j in zip(colors, columns):
        y = spectra["f2_psd"].values[j]
        err = np.nan_to_num(spectra["f2_psd_err"].values[j])
        ok = np.isfinite(y) & (y > 0)
        ax.errorbar(f[ok], y[ok], yerr=np.minimum(err[ok], 0.999 * y[ok]), fmt="o", ms=3, color=color, elinewidth=0.8)
        for band, (lo, hi) in bands.items():
            a = float(spectra[f"exponent_{band}"].values[j])
            inside = ok & (f >= lo) & (f <= hi)
            if not np.isfinite(a) or inside.sum() < 2:
                continue
            anchor = np.exp(np.mean(np.log(y[inside]) - (2.0 - a) * np.log(f[inside])))
            grid = np.geomspace(lo, hi, 20)
            ax.plot(grid, anchor * grid ** (2.0 - a), color=color, ls="--" if band == "low" else "-", lw=1.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    unit = spectra["psd"].attrs.get("units", "q^2 step").split()[0]
    ax.set_xlabel(f"f [{spectra['frequency'].attrs.get('units', '1/step')}]")
    ax.set_ylabel(f"f²·P(f) [{unit}/step]")
    ax.set_title(title or "Power spectrum of q(t), f²·P(f) (002 Fig. 4)", fontsize=10)
    handles = [Line2D([], [], color=colors[i], marker="o", ls="", label=f"data: {names[j]}") for i, j in enumerate(columns)]
    handles += [Line2D([], [], color="0.3", ls="--", label="P ∝ f^-a, low band (fit)"),
                Line2D([], [], color="0.3", ls="-", label="P ∝ f^-a, high band (fit)")]
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.85)
    return _save(fig, path)


def outputs_figure(outputs, results, path, names=None, most: int = 4, title: str | None = None) -> Path:
    """Histograms of neuron outputs (samples, N) with the fitted two-Gaussian mixtures of ``results``
    (a list of :class:`~statmech_nn.observables.activity.Bimodality`, one per neuron)."""
    outputs = np.asarray(outputs, float)
    columns = pick_columns(outputs.shape[1], most)
    names = [f"x{j}" for j in range(outputs.shape[1])] if names is None else list(names)
    fig, ax = plt.subplots(figsize=(6.4, 4.8), constrained_layout=True)
    for color, j in zip(_colors(len(columns)), columns):
        x = outputs[:, j]
        ax.hist(x, bins=60, density=True, histtype="step", color=color, label=f"data: {names[j]}")
        r = results[j]
        grid = np.linspace(x.min(), x.max(), 400)
        mixture = sum(w * np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
                      for w, m, s in zip(r.weights, r.means, r.sds))
        verdict = "bimodal" if r.bimodal else "not bimodal"
        ax.plot(grid, mixture, color=color, lw=1.5, label=f"2-Gaussian fit ({verdict}, ΔBIC={r.delta_bic:.0f})")
    ax.set_xlabel("neuron output x")
    ax.set_ylabel("p(x | q)")
    ax.set_title(title or "Outputs of neurons with frozen weights (002 Fig. 1)", fontsize=10)
    ax.legend(fontsize=7, loc="best", framealpha=0.85)
    return _save(fig, path)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
