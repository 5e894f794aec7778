"""Figures of a scan Dataset (:mod:`statmech_nn.scan`): one per order parameter, and the network SOC trend.

- :func:`scan_figures`: a line plot over a 1-D grid, a heatmap over the first two axes (one panel per value of
  the further axes), log axes where the grid is logarithmic (the coordinate's ``scale`` attribute), contour
  lines where the spec defines a phase boundary (``{variable, level, label}``), failed or pending cells blank.
  Every cell is drawn full size, its edges at the midpoints between grid values (geometric midpoints on a log
  axis; the outer cells as wide as their neighbours), with a tick at each grid value (at most
  :data:`MAX_TICKS`), labelled in plain ``%.3g``. A verdict or yes/no map (``law_holds``, the string
  ``verdict_*`` variables, any variable whose values are 0 and 1) is drawn in categorical colours with a legend,
  not on a colour bar; :func:`status_figure` draws the cells done, failed and pending the same way (when any
  is not done).
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
MAX_TICKS = 8
VERDICT_COLORS = {"supported": "#1a9850", "not supported": "#d73027", "inconclusive": "#bdbdbd",
                  "yes": "#1a9850", "no": "#d73027"}
STATUS_COLORS = {"done": "#1a9850", "failed": "#d73027", "pending": "#f0f0f0"}
# Numeric variables that stand for a verdict: value -> category (NaN: the verdict was inconclusive).
VERDICT_NUMBERS = {"law_holds": {1.0: "supported", 0.0: "not supported", "nan": "inconclusive"}}


def grid_dims(scan: xr.Dataset) -> list[str]:
    """The scan's grid axes (the dimensions of its status, else of its first variable)."""
    reference = scan["status"] if "status" in scan else next(iter(scan.data_vars.values()))
    return list(reference.dims)


def order_parameters(scan: xr.Dataset) -> list[str]:
    """The numeric per-cell variables (one value per cell), bookkeeping left out."""
    dims = set(grid_dims(scan))
    return [name for name, v in scan.data_vars.items() if name not in BOOKKEEPING and set(v.dims) == dims
            and v.dtype.kind in "fiub"]


def cell_edges(values, log: bool) -> np.ndarray:
    """The edges of the cells centred on the grid ``values``: midpoints between neighbours (geometric on a log
    axis), the outer edges half a step beyond the outer values, so that every cell is drawn full size."""
    values = np.asarray(values, float)
    scaled = np.log(values) if log else values
    if scaled.size == 1:
        half = np.array([0.5 * np.log(10.0)]) if log else np.array([0.5 * max(abs(scaled[0]), 1.0)])
        edges = np.concatenate([scaled - half, scaled + half])
    else:
        middle = 0.5 * (scaled[1:] + scaled[:-1])
        first, last = scaled[0] - (middle[0] - scaled[0]), scaled[-1] + (scaled[-1] - middle[-1])
        edges = np.concatenate([[first], middle, [last]])
    return np.exp(edges) if log else edges


def _grid_ticks(ax, which: str, values, log: bool) -> None:
    """A tick at each grid value (every k-th beyond MAX_TICKS), labelled "%.3g", no minor ticks: readable labels
    that never run into each other the way a log axis's 3×10⁻² 4×10⁻² minor labels do."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

    values = np.asarray(values, float)
    shown = values[::-(-values.size // MAX_TICKS)]
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(FixedLocator(shown))
    axis.set_major_formatter(FixedFormatter([f"{v:.3g}" for v in shown]))
    axis.set_minor_locator(NullLocator())
    if which == "x" and shown.size > 4:   # long labels side by side: slanted, so that they never touch
        ax.tick_params(axis="x", labelrotation=35)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def _categories(scan: xr.Dataset, field: xr.DataArray, done) -> tuple[np.ndarray, list[str]] | None:
    """(codes over the field's cells, NaN where not done; category names) for a verdict or yes/no map, else None."""
    name = field.name
    values = field.values
    if name in VERDICT_NUMBERS:
        mapping = VERDICT_NUMBERS[name]
        labels = list(dict.fromkeys(mapping.values()))
        numeric = values.astype(float)
        codes = np.full(numeric.shape, np.nan)
        for value, label in mapping.items():
            codes[np.isnan(numeric) if value == "nan" else numeric == value] = labels.index(label)
    elif values.dtype.kind in "OUS":
        present = [str(v) for v in np.unique(values.astype(str)) if str(v)]
        labels = [label for label in VERDICT_COLORS if label in present]
        labels += [value for value in present if value not in VERDICT_COLORS]
        text = values.astype(str)
        codes = np.full(values.shape, np.nan)
        for index, label in enumerate(labels):
            codes[text == label] = index
    else:
        finite = values[np.isfinite(values.astype(float))]
        if finite.size == 0 or not np.all((finite == 0) | (finite == 1)):
            return None
        labels = ["no", "yes"]
        codes = values.astype(float)
    if done is not None:
        codes = np.where(np.asarray(done), codes, np.nan)
    return codes, labels


def _log(scan: xr.Dataset, dim: str) -> bool:
    """A log axis: the grid says so (``scale``), or, for a grid of listed values, they are positive and span a
    decade or more (weight decays 1e-4, 1e-3)."""
    scale = scan[dim].attrs.get("scale")
    if scale is not None or scan[dim].dtype.kind not in "fi" or scan.sizes[dim] < 2:
        return scale == "log"
    values = scan[dim].values.astype(float)
    return bool(np.all(values > 0) and values.max() >= 10 * values.min())


def _label(scan: xr.Dataset, name: str) -> str:
    units = scan[name].attrs.get("units", "")
    return f"{name} [{units}]" if units else name


def _panel(ax, fig, scan: xr.Dataset, field: xr.DataArray, dims: list[str], boundaries,
           categories: tuple[np.ndarray, list[str], dict] | None = None) -> None:
    if len(dims) == 1:
        if categories is None:
            ax.plot(field[dims[0]], field.values, marker="o")
        else:   # one coloured marker per cell at its category, no line between categories
            codes, labels, colors = categories
            for index, label in enumerate(labels):
                cells = codes == index
                ax.plot(field[dims[0]].values[cells], codes[cells], "o", ms=9, color=colors.get(label, f"C{index}"))
            ax.set_yticks(range(len(labels)), labels)
            ax.set_ylim(-0.5, len(labels) - 0.5)
        ax.set(xlabel=dims[0], ylabel=_label(scan, field.name))
        _grid_ticks(ax, "x", field[dims[0]].values, _log(scan, dims[0]))
        return
    x, y = dims[0], dims[1]
    x_edges, y_edges = (cell_edges(field[d].values, _log(scan, d)) for d in (x, y))
    if categories is None:
        data = np.ma.masked_invalid(field.transpose(y, x).values.astype(float))
        mesh = ax.pcolormesh(x_edges, y_edges, data, shading="flat")
        fig.colorbar(mesh, ax=ax, label=_label(scan, field.name))
    else:
        _categorical_mesh(ax, x_edges, y_edges, categories)
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
    _grid_ticks(ax, "x", field[x].values, _log(scan, x))
    _grid_ticks(ax, "y", field[y].values, _log(scan, y))
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])


def _categorical_mesh(ax, x_edges, y_edges, categories) -> None:
    """Cells coloured by category (codes (y, x), NaN blank) with a legend of the categories present."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    codes, labels, colors = categories
    palette = [colors.get(label, f"C{i}") for i, label in enumerate(labels)]
    cmap = ListedColormap(palette)
    mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(codes), shading="flat", cmap=cmap,
                         norm=BoundaryNorm(np.arange(len(labels) + 1) - 0.5, len(labels)), edgecolors="w",
                         linewidth=0.5)
    present = sorted({int(c) for c in codes[np.isfinite(codes)].ravel()})
    handles = [Patch(facecolor=palette[i], edgecolor="0.5", label=labels[i]) for i in present]
    if np.isnan(codes).any():
        handles.append(Patch(facecolor="w", edgecolor="0.5", label="not computed"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return mesh


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
        categorical = _categories(scan, field, done) is not None
        if done is not None and not categorical:
            field = field.where(done)
        columns = min(3, len(combos))
        rows = -(-len(combos) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4.2 * rows), squeeze=False,
                                 layout="constrained")
        for ax, combo in zip(axes.ravel(), combos):
            where = dict(zip(extra, combo))
            panel = field.isel(where)
            categories = None
            if categorical:
                codes, labels = _categories(scan, panel, None if done is None else done.isel(where).values)
                codes = xr.DataArray(codes, dims=panel.dims).transpose(*reversed(dims[:2])).values
                categories = (codes, labels, VERDICT_COLORS)
            _panel(ax, fig, scan, panel, dims[:2], boundaries, categories)
            if where:
                ax.set_title(", ".join(f"{d} = {scan[d].values[i]:.3g}" if scan[d].dtype.kind == "f"
                                       else f"{d} = {scan[d].values[i]}" for d, i in where.items()), fontsize=9)
            else:
                ax.set_title(scan[name].attrs.get("description", scan[name].attrs.get("long_name", name)), fontsize=9)
        for ax in axes.ravel()[len(combos):]:
            ax.set_visible(False)
        written.append(save_figure(fig, out / f"scan_{name}.png", tight=False))
    return written


def string_verdicts(scan: xr.Dataset) -> list[str]:
    """The per-cell verdict variables held as strings (``verdict_Q1`` ...)."""
    dims = set(grid_dims(scan))
    return [name for name, v in scan.data_vars.items() if name.startswith("verdict_") and set(v.dims) == dims
            and v.dtype.kind in "OUS"]


def status_figure(scan: xr.Dataset, path) -> Path | None:
    """The cells done, failed and pending, in categorical colours (None for a scan without bookkeeping or with
    every cell done: nothing to show)."""
    if "status" not in scan or bool(np.all(scan["status"].values == 1)):
        return None
    status = scan["status"]
    labels = list(STATUS_COLORS)
    field = xr.DataArray(np.select([status == 1, status == 2], ["done", "failed"], "pending"), dims=status.dims,
                         coords=status.coords, name="status")
    dims = grid_dims(scan)
    fig, ax = plt.subplots(figsize=(6.2, 4.2), layout="constrained")
    where = {d: scan.sizes[d] // 2 for d in dims[2:]}
    panel = field.isel(where)
    codes = np.select([panel == label for label in labels], range(len(labels)), np.nan).astype(float)
    if len(dims) >= 2:
        codes = xr.DataArray(codes, dims=panel.dims).transpose(dims[1], dims[0]).values
    _panel(ax, fig, scan, panel, dims[:2], (), (codes, labels, STATUS_COLORS))
    ax.set_title("cells: " + ", ".join(f"{int(np.sum(field.values == label))} {label}" for label in labels), fontsize=9)
    return save_figure(fig, path, tight=False)


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
    if variables is None and string_verdicts(scan):   # listed figures name their verdicts themselves
        written += scan_figures(scan, out_dir, string_verdicts(scan))
    status = status_figure(scan, Path(out_dir) / "scan_status.png")
    written += [status] if status is not None else []
    if "median_exponent_2s" in scan and "lr" in scan.dims:
        written.append(exponent_trend_figure(scan, Path(out_dir) / "exponent_vs_lr.png"))
    return written
