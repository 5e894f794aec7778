"""PNG figures of a probe Dataset (:mod:`statmech_nn.networks.probes`): 002 Fig. 1 and 001's four observable classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..io import save_dataset
from ..networks.probes import PROBES_FILE
from .savefig import plt, save_figure

FIGURES = ("neuron_outputs.png", "pattern_rank_frequency.png", "unit_activation_frequency.png",
           "layer_mean_activation.png", "weight_histograms.png")


def _neuron_outputs(ds: xr.Dataset, ax_grid) -> None:
    """002 Fig. 1: p(x|q) of a few sampled neurons of the second hidden layer (or the last one)."""
    layer = ds.layer.values[min(1, ds.sizes["layer"] - 1)]
    samples = ds.preactivation.sel(layer=layer)
    for ax, neuron in zip(ax_grid.ravel(), range(samples.sizes["neuron"])):
        values = samples.isel(neuron=neuron).values
        values = values[np.isfinite(values)]
        if values.size:
            ax.hist(values, bins=40, density=True, color="C0")
        ax.set_title(f"{layer} unit {int(ds.neuron_index.sel(layer=layer).values[neuron])}", fontsize=8)
        ax.set_xlabel("x")
    ax_grid.ravel()[0].set_ylabel("p(x|q)")


def _loglog_by_rank(ds: xr.Dataset, variable: str, ylabel: str, ax) -> None:
    for layer in ds.layer.values:
        values = ds[variable].sel(layer=layer).values.astype(float)
        values = values[np.isfinite(values) & (values > 0)]
        ax.loglog(np.arange(1, values.size + 1), values, label=str(layer))
    ax.set_xlabel("rank")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def write_probe_outputs(ds: xr.Dataset, out: str | Path) -> dict[str, Path]:
    """Write ``probes.nc`` and the figures under ``out/figures``; returns their paths."""
    out = Path(out)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    paths = {"probes": save_dataset(ds, out / PROBES_FILE)}

    fig, axes = plt.subplots(2, 3, figsize=(10, 6), constrained_layout=True)
    _neuron_outputs(ds, axes)
    paths["neuron_outputs"] = figures / FIGURES[0]
    save_figure(fig, paths["neuron_outputs"], dpi=100, tight=False)

    for key, variable, ylabel, name in (
            ("pattern_rank_frequency", "pattern_count", "inputs with this activation pattern", FIGURES[1]),
            ("unit_activation_frequency", "unit_activation_frequency", "activation frequency", FIGURES[2])):
        fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
        _loglog_by_rank(ds, variable, ylabel, ax)
        paths[key] = figures / name
        save_figure(fig, paths[key], dpi=100, tight=False)

    fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    for layer in ds.layer.values:
        ax.hist(ds.layer_mean_activation.sel(layer=layer).values, bins=40, histtype="step", density=True,
                label=str(layer))
    ax.set_xlabel("mean layer activation per input")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    paths["layer_mean_activation"] = figures / FIGURES[3]
    save_figure(fig, paths["layer_mean_activation"], dpi=100, tight=False)

    n_params = ds.sizes["weight_param"]
    fig, axes = plt.subplots(1, n_params, figsize=(3.2 * n_params, 3), constrained_layout=True, squeeze=False)
    for ax, param in zip(axes[0], ds.weight_param.values):
        edges = ds.weight_bin_edges.sel(weight_param=param).values
        ax.stairs(ds.weight_histogram.sel(weight_param=param).values, edges)
        ax.set_yscale("log")
        ax.set_title(str(param), fontsize=8)
        ax.set_xlabel("w")
    paths["weight_histograms"] = figures / FIGURES[4]
    save_figure(fig, paths["weight_histograms"], dpi=100, tight=False)
    return paths
