"""Figures of the mean-field scans (:mod:`statmech_nn.scan.meanfield_tasks`): PNG through
:func:`.savefig.save_figure`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .savefig import plt, save_figure


def _heatmap(ax, data: xr.DataArray, x: str, y: str, label: str, cmap="RdBu_r"):
    values = data.transpose(y, x).values
    limit = np.nanmax(np.abs(values)) if cmap == "RdBu_r" else None
    mesh = ax.pcolormesh(data[x].values, data[y].values, values, shading="nearest", cmap=cmap,
                         vmin=-limit if limit else None, vmax=limit)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def plot_cw_phase_diagram(ds: xr.Dataset, path) -> Path:
    """m(T, b) with the spinodals and T_c; m(T) and χ(T) at the field closest to 0, exact beside mean field."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    _heatmap(axes[0], ds["mf_m"], "T", "b", "mean-field m")
    axes[0].plot(ds["T"], ds["spinodal_b"], "k--", lw=1, label="spinodal ±b_s(T)")
    axes[0].plot(ds["T"], -ds["spinodal_b"], "k--", lw=1)
    axes[0].axvline(ds.attrs["critical_temperature"], color="k", lw=0.8, label="T_c = J")
    axes[0].set_ylim(float(ds["b"].min()), float(ds["b"].max()))
    axes[0].legend(loc="lower left", fontsize=8)
    row = ds.sel(b=float(ds["b"][np.argmin(np.abs(ds["b"].values))]))
    axes[1].plot(row["T"], np.abs(row["mf_m"]), label="mean field |m|")
    axes[2].semilogy(row["T"], row["mf_chi"], label="mean field χ")
    if "exact_m_abs" in ds:
        axes[1].plot(row["T"], row["exact_m_abs"], "o", ms=3, label=f"exact <|m|>, N = {ds.attrs['n']}")
        axes[2].semilogy(row["T"], row["exact_chi"], "o", ms=3, label=f"exact Nβ(<m²> - <m>²), N = {ds.attrs['n']}")
        axes[2].semilogy(row["T"], row["exact_chi_abs"], "x", ms=3, label="exact Nβ(<m²> - <|m|>²)")
    for ax, name in ((axes[1], "magnetization"), (axes[2], "susceptibility")):
        ax.set_xlabel("T")
        ax.set_title(f"{name} at b = {float(row['b']):.3g}")
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_hs_scan(ds: xr.Dataset, path) -> Path:
    """m(T, h) and χ(T) for each field of a saddle-point scan, with T_c = λ_max(W_sym)/N."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    _heatmap(axes[0], ds["m"], "T", "h", "saddle-point m")
    axes[0].axvline(ds.attrs["Tc"], color="k", lw=0.8)
    for h in ds["h"].values:
        axes[1].semilogy(ds["T"], ds["chi"].sel(h=h), label=f"h = {h:.3g}")
    axes[1].axvline(ds.attrs["Tc"], color="k", lw=0.8, label="T_c")
    axes[1].set_xlabel("T")
    axes[1].set_ylabel("χ = (1/N) Σ ∂V_i/∂h")
    axes[1].legend(fontsize=7, ncol=2)
    return save_figure(fig, path)


def plot_layer_curves(ds: xr.Dataset, path) -> Path:
    """m(T) (all, inputs, outputs) and χ(T) of a layer's spin model, with T_c and T = 1 marked."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, style in (("m", "-"), ("m_in", "--"), ("m_out", ":"), ("m_mode", "-.")):
        if name in ds:
            axes[0].plot(ds["T"], ds[name], style, label=name)
    axes[1].semilogy(ds["T"], ds["chi"], label="χ (uniform field)")
    axes[1].semilogy(ds["T"], ds["chi_mode"], "--", label="χ_v (field along the leading mode)")
    for ax in axes:
        ax.axvline(ds.attrs["Tc"], color="k", lw=0.8, label="T_c = σ_max(w)/4")
        ax.axvline(1.0, color="tab:red", lw=0.8, label="T = 1 (the layer)")
        ax.set_xlabel("T")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("mean V")
    axes[1].set_ylabel("χ")
    return save_figure(fig, path)
