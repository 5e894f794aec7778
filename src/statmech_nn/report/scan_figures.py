"""Figures of a scan Dataset (:mod:`statmech_nn.scan`): one per order parameter, and the network SOC trend.

- :func:`scan_figures`: a line plot over a 1-D grid, a heatmap over the first two axes (one panel per value of
  the further axes), log axes where the grid is logarithmic (the coordinate's ``scale`` attribute), contour
  lines where the spec defines a phase boundary (``{variable, level, label}``), failed or pending cells blank.
- :func:`exponent_trend_figure`: the median fitted exponent 2s of a network scan against lr / batch size, with
  its interval, one line per further setting, beside the direction the heavy-tailed-SGD literature expects
  (Şimşekli et al. 2019: the tail index falls as lr / batch size rises).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import xarray as xr

from .savefig import plt, save_figure

BOOKKEEPING = ("status", "error", "attempts", "seconds")
MAX_PANELS = 12


def grid_dims(scan: xr.Dataset) -> list[str]:
    """The scan's grid axes (the dimensions of its status, else of its first variable)."""
    reference = scan["status"] if "status" in scan else next(iter(scan.data_vars.values()))
    return list(reference.dims)


def order_parameters(scan: xr.Dataset) -> list[str]:
    """The numeric per-cell variables (one value per cell), bookkeeping left out."""
    dims = set(grid_dims(scan))
    return [name for name, v in scan.data_vars.items() if name not in BOOKKEEPING and set(v.dims) == dims
            and v.dtype.kind in "fiub"]


def _log(scan: xr.Dataset, dim: str) -> bool:
    return scan[dim].attrs.get("scale") == "log"


def _label(scan: xr.Dataset, name: str) -> str:
    units = scan[name].attrs.get("units", "")
    return f"{name} [{units}]" if units else name


def _panel(ax, fig, scan: xr.Dataset, field: xr.DataArray, dims: list[str], boundaries) -> None:
    if len(dims) == 1:
        ax.plot(field[dims[0]], field, marker="o")
        ax.set(xlabel=dims[0], ylabel=_label(scan, field.name))
        if _log(scan, dims[0]):
            ax.set_xscale("log")
        return
    x, y = dims[0], dims[1]
    data = field.transpose(y, x)
    mesh = ax.pcolormesh(field[x], field[y], np.ma.masked_invalid(data.values.astype(float)), shading="nearest")
    fig.colorbar(mesh, ax=ax, label=_label(scan, field.name))
    for boundary in boundaries:
        variable = boundary["variable"]
        if variable not in scan:
            continue
        level = scan[variable].sel({d: field[d] for d in field.coords if d not in (x, y) and d in scan[variable].dims})
        values = level.transpose(y, x).values.astype(float)
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() < boundary["level"] < finite.max():
            lines = ax.contour(field[x], field[y], values, levels=[boundary["level"]], colors="k", linewidths=1.2)
            ax.clabel(lines, fmt={boundary["level"]: boundary.get("label", variable)}, fontsize=7)
    ax.set(xlabel=x, ylabel=y)
    if _log(scan, x):
        ax.set_xscale("log")
    if _log(scan, y):
        ax.set_yscale("log")


def scan_figures(scan: xr.Dataset, out_dir, variables=None, boundaries=()) -> list[Path]:
    """One PNG per order parameter (default: every numeric one) in ``out_dir``; returns the paths."""
    out = Path(out_dir)
    dims = grid_dims(scan)
    done = scan["status"] == 1 if "status" in scan else None
    names = [name for name in variables if name in scan] if variables else order_parameters(scan)  # none if all failed
    extra = dims[2:]
    combos = list(itertools.product(*(range(scan.sizes[d]) for d in extra)))
    if len(combos) > MAX_PANELS:
        combos = [tuple(scan.sizes[d] // 2 for d in extra)]
    written = []
    for name in names:
        field = scan[name].astype(float) if scan[name].dtype.kind in "iub" else scan[name]
        if done is not None:
            field = field.where(done)
        columns = min(3, len(combos))
        rows = -(-len(combos) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4.2 * rows), squeeze=False)
        for ax, combo in zip(axes.ravel(), combos):
            where = dict(zip(extra, combo))
            _panel(ax, fig, scan, field.isel(where), dims[:2], boundaries)
            if where:
                ax.set_title(", ".join(f"{d} = {scan[d].values[i]:.3g}" if scan[d].dtype.kind == "f"
                                       else f"{d} = {scan[d].values[i]}" for d, i in where.items()), fontsize=9)
            else:
                ax.set_title(scan[name].attrs.get("description", scan[name].attrs.get("long_name", name)), fontsize=9)
        for ax in axes.ravel()[len(combos):]:
            ax.set_visible(False)
        written.append(save_figure(fig, out / f"scan_{name}.png"))
    return written


def exponent_trend_figure(scan: xr.Dataset, path, lr: str = "lr", batch: str = "batch_size") -> Path:
    """The median exponent 2s (with its interval) against lr / batch size, one line per batch size and further
    setting, with the literature's expected direction drawn as an arrow."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    exponent = scan["median_exponent_2s"].where(scan["status"] == 1)
    ratio = scan[lr] / scan[batch] if batch in scan.dims else scan[lr]
    others = [d for d in exponent.dims if d != lr]
    groups = list(itertools.product(*(range(scan.sizes[d]) for d in others)))
    for group in groups:
        where = dict(zip(others, group))
        series = exponent.isel(where)
        x = (ratio.isel({d: i for d, i in where.items() if d in ratio.dims}) * xr.ones_like(series)).values.ravel()
        y = series.values.ravel()
        if np.all(np.isnan(y)):   # no resolved cell on this line
            continue
        lo = scan["exponent_2s_lo"].isel(where).values.ravel()
        hi = scan["exponent_2s_hi"].isel(where).values.ravel()
        order = np.argsort(x)
        label = ", ".join(f"{d} = {scan[d].values[i]:.3g}" for d, i in where.items()) or "median over weights"
        ax.errorbar(x[order], y[order], yerr=[np.clip(y - lo, 0, None)[order], np.clip(hi - y, 0, None)[order]],
                    marker="o", capsize=3, label=label)
    ax.set_xscale("log")
    ax.set(xlabel=f"{lr} / {batch}" if batch in scan.dims else lr,
           ylabel="median fitted exponent 2s = α/β (resolved weights)")
    ax.annotate("expected (Şimşekli et al. 2019):\ntail index falls as lr/batch rises", xy=(0.97, 0.08),
                xytext=(0.55, 0.35), xycoords="axes fraction", textcoords="axes fraction", fontsize=8, ha="center",
                arrowprops={"arrowstyle": "->", "color": "0.4"})
    ax.legend(fontsize=7)
    ax.set_title("Fitted tail exponent of the weight steps against the SGD noise scale", fontsize=9)
    return save_figure(fig, path)


def draw_scan(scan: xr.Dataset, out_dir, variables=None, boundaries=()) -> list[Path]:
    """Every figure of a scan: :func:`scan_figures`, and :func:`exponent_trend_figure` for a network scan over lr."""
    written = scan_figures(scan, out_dir, variables, boundaries)
    if "median_exponent_2s" in scan and "lr" in scan.dims:
        written.append(exponent_trend_figure(scan, Path(out_dir) / "exponent_vs_lr.png"))
    return written
