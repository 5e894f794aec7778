"""The figure of the two-timescale Langevin bias scan (:func:`statmech_nn.scan.langevin_bias.langevin_bias`)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from .savefig import plt, save_figure


def plot_bias(dataset: xr.Dataset, path) -> Path:
    """KS against ε, one line per dt, with the noise level dashed (PNG)."""
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for j, dt in enumerate(dataset["dt"].values):
        line, = ax.loglog(dataset["epsilon"], dataset["ks"][:, j], "o-", label=f"dt = {dt:g}")
        ax.loglog(dataset["epsilon"], dataset["ks_noise"][:, j], "--", color=line.get_color(), alpha=0.5)
    ax.set_xlabel("epsilon (time-scale ratio)")
    ax.set_ylabel("KS distance to exp(-alpha F)")
    ax.set_title("two-timescale Langevin bias (dashed: noise)")
    ax.legend()
    return save_figure(fig, path)
