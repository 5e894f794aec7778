"""PNG figures of the observables with the fitted theory drawn over them (the views of 002 §5, Figs. 1-4).

- :func:`fluctuation_panels` with ``view``, one panel per chosen column (small multiples):
  ``full`` (002 Fig. 2: p(Δ) against |Δ|, log-log, the peak, the power law and the Gaussian tail),
  ``powerlaw`` (002 Fig. 3 left: the intermediate range, log-log, with the CSN power law of the tail),
  ``gaussian`` (002 Fig. 3 right: log p against Δ²/σ̂², where a Gaussian is a straight line);
- :func:`spectrum_figure` (002 Fig. 4: f²·P(f), with the band fits, their a in the legend);
- :func:`traces_figure` (w(t) of the chosen columns over the tracked window);
- :func:`outputs_figure` (002 Fig. 1: histograms of neuron outputs with the fitted two-Gaussian mixture).

Data are markers with error bars, predictions are lines. The predictions come from
:func:`statmech_nn.compare.overlay.predicted_densities`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from ..errors import DataError
from .savefig import plt, save_figure

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


def _panel_grid(count: int, width: float = 4.2, height: float = 3.4):
    """A grid of up to 2 columns of small panels, one per tracked column; the unused axes switched off."""
    ncols = 1 if count == 1 else 2
    nrows = max(1, int(np.ceil(count / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), constrained_layout=True,
                             squeeze=False)
    for ax in axes.ravel()[count:]:
        ax.set_axis_off()
    return fig, axes.ravel()


def _value(table: xr.Dataset, key: str, j: int) -> float:
    return float(table[key].values[j]) if key in table else float("nan")


def _status(table: xr.Dataset, j: int) -> str:
    return str(table["status"].values[j]) if "status" in table else ""


def _crossover_marks(ax, table: xr.Dataset, j: int, scale, lo: float, hi: float) -> None:
    """Dotted vertical lines at the core c² (as its |Δ| or Δ²/σ² position), u_S and u_G, labelled; those
    outside the data's range [lo, hi] are named in a corner instead (the axis stays on the data)."""
    outside = []
    for key, label in (("u_low", "c²"), ("u_slope", "u_S"), ("u_gauss", "u_G")):
        u = _value(table, key, j)
        if not (np.isfinite(u) and u > 0):
            continue
        x = scale(u)
        if not lo <= x <= hi:
            outside.append(label)
            continue
        ax.axvline(x, color="0.5", ls=":", lw=1)
        ax.annotate(label, (x, 1.0), xycoords=("data", "axes fraction"), fontsize=7, ha="left", va="top", color="0.3")
    if outside:
        ax.annotate(f"outside the data: {', '.join(outside)}", (0.98, 0.97), xycoords="axes fraction", fontsize=7,
                    ha="right", va="top", color="0.3")


def fluctuation_panels(observables: xr.Dataset, predicted: xr.Dataset, table: xr.Dataset, view: str, path,
                       columns) -> Path:
    """One of the three views of 002 Figs. 2-3, one panel per column (small multiples, each on its own axes).

    ``full`` and ``powerlaw``: p(Δ) against |Δ|, log-log (``powerlaw``: only between c/3 and 3√u_G);
    ``gaussian``: log p against Δ²/σ̂², σ̂ the column's fitted σ (its rms when not fitted), so that a
    Gaussian tail is a straight line of slope -1/2 in every panel. c², u_S and u_G are marked and the
    fitted exponent 2s is in the legend.
    """
    if view not in VIEWS:
        raise DataError(f"unknown view {view!r}: choose one of {', '.join(VIEWS)}")
    columns = list(columns)
    names = observables["name"].values
    unit = observables["abs_delta"].attrs.get("units", "q")
    models = {"full": ("theory", "gaussian"), "powerlaw": ("theory", "power_law"),
              "gaussian": ("theory", "gaussian")}[view]
    fig, axes = _panel_grid(len(columns))
    for ax, j in zip(axes, columns):
        sigma = _value(table, "sigma", j)
        sigma = sigma if np.isfinite(sigma) and sigma > 0 else float(observables["delta_rms"].values[j]) or 1.0
        if view == "gaussian":
            x = observables["delta_sq"].values[j] / sigma ** 2
            y, err = observables["density_sq"].values[j], observables["density_sq_err"].values[j]
            curves = {m: predicted["density_sq"].sel(model=m).values[j] for m in models}
        else:
            x = observables["abs_delta"].values[j]
            y, err = observables["density_abs"].values[j], observables["density_abs_err"].values[j]
            curves = {m: predicted["density_abs"].sel(model=m).values[j] for m in models}
        shown = np.isfinite(x) & (y > 0)
        if view == "powerlaw":
            shown &= _intermediate(table, j, x)
        ax.errorbar(x[shown], y[shown], yerr=np.minimum(err[shown], 0.999 * y[shown]), fmt="o", ms=3, color="C0",
                    elinewidth=0.8, capsize=0, label="data")
        exponent, error = _value(table, "exponent", j), _value(table, "exponent_err", j)
        for model, curve in curves.items():
            ok = shown & np.isfinite(curve) & (curve > 0)
            label = _MODEL_LABEL[model]
            if model == "theory" and np.isfinite(exponent):
                label = f"theory: 2s = {exponent:.3g} ± {error:.2g}"
            if ok.any():
                ax.plot(x[ok], curve[ok], color="k" if model == "theory" else "C3", label=label, **_MODEL_STYLE[model])
        ax.set_yscale("log")
        if shown.any():  # the data set the range; a model's far tail may not squash it
            ax.set_ylim(y[shown].min() / 5.0, y[shown].max() * 3.0)
        lo, hi = (x[shown].min(), x[shown].max()) if shown.any() else (np.nan, np.nan)
        if view == "gaussian":
            _crossover_marks(ax, table, j, lambda u: u / sigma ** 2, lo, hi)
            ax.set_xlabel(f"Δ²/σ̂²  (σ̂ = {sigma:.3g} {unit})")
        else:
            ax.set_xscale("log")
            _crossover_marks(ax, table, j, np.sqrt, lo, hi)
            ax.set_xlabel(f"|Δ| [{unit}]")
        ax.set_ylabel(f"p(Δ) [1/{unit}]")
        ax.set_title(f"{names[j]} ({_status(table, j)})", fontsize=9)
        ax.legend(fontsize=7, loc="lower left", framealpha=0.85)
    fig.suptitle({"full": "Local fluctuations Δ (002 Fig. 2)",
                  "powerlaw": "Intermediate scales, log-log (002 Fig. 3 left)",
                  "gaussian": "Large fluctuations, log-quadratic (002 Fig. 3 right)"}[view], fontsize=10)
    return save_figure(fig, path, tight=False)


def _intermediate(table: xr.Dataset, j: int, x: np.ndarray) -> np.ndarray:
    """|Δ| between √u_low/3 and 3√u_G of the fitted theory (all bins when the crossovers are not finite)."""
    with np.errstate(invalid="ignore"):  # a crossover that does not exist (NaN, or u_G < 0) bounds nothing
        lo = np.sqrt(_value(table, "u_low", j)) / 3.0
        hi = np.sqrt(_value(table, "u_gauss", j)) * 3.0
    keep = np.ones(x.shape, bool)
    if np.isfinite(lo):
        keep &= x >= lo
    if np.isfinite(hi) and hi > lo:
        keep &= x <= hi
    return keep


def traces_figure(trajectory, columns, path, units: str = "q") -> Path:
    """w(t) of the chosen columns over the tracked window, one panel each (drift shows as a trend)."""
    columns = list(columns)
    fig, axes = _panel_grid(len(columns), height=2.6)
    t = np.asarray(trajectory.t)
    for ax, j in zip(axes, columns):
        ax.plot(t, np.asarray(trajectory.q[:, j], float), lw=0.6, color="C0")
        ax.set_title(str(trajectory.names[j]), fontsize=9)
        ax.set_xlabel("step t")
        ax.set_ylabel(f"w(t) [{units}]")
    fig.suptitle("Tracked weights over the tracked window", fontsize=10)
    return save_figure(fig, path, tight=False)


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
    handles = [Line2D([], [], color=colors[i], marker="o", ls="", label=f"{names[j]}: {_band_label(spectra, j)}")
               for i, j in enumerate(columns)]
    handles += [Line2D([], [], color="0.3", ls="--", label="P ∝ f^-a, low band (fit)"),
                Line2D([], [], color="0.3", ls="-", label="P ∝ f^-a, high band (fit)")]
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.85)
    return save_figure(fig, path, tight=False)


def _band_label(spectra: xr.Dataset, j: int) -> str:
    parts = []
    for band in ("low", "high"):
        a, err = float(spectra[f"exponent_{band}"].values[j]), float(spectra[f"exponent_{band}_err"].values[j])
        parts.append(f"a_{band} = " + (f"{a:.2f} ± {err:.2f}" if np.isfinite(a) else "-"))
    return ", ".join(parts)


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
    return save_figure(fig, path, tight=False)
