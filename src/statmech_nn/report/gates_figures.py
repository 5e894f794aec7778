"""Figures of 003's gate and circuit model: circuit symmetry (Fig. 3b), assembly moments against depth (eq. (20)),
and the capacity phase diagram (plasticity / frustration)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .savefig import plt, save_figure

KIND_LABELS = {"psi": "basis circuits x·Ψ (eq. (11))", "omega1": "first-order Ω¹ (eq. (16))",
               "omega2": "second-order Ω² (eq. (19))"}


def circuit_histograms(circuits: xr.Dataset, path) -> Path:
    """Histograms of sign(v)·log10|v| of sampled circuit values per kind, one line per snapshot (003 Fig. 3b).

    A law symmetric about 0 gives a histogram symmetric about the vertical line; exact zeros are left out
    (their fraction is the ``atom_zero`` statistic).
    """
    kinds = [k for k in KIND_LABELS if k in circuits["kind"].values]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.6), constrained_layout=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        everything = circuits["value"].sel(kind=kind).values
        everything = everything[np.isfinite(everything) & (everything != 0)]
        floor = np.log10(np.abs(everything)).min() if everything.size else 0.0
        for snapshot in circuits["snapshot"].values:
            values = circuits["value"].sel(kind=kind, snapshot=snapshot).values
            values = values[np.isfinite(values) & (values != 0)]
            if values.size == 0:
                continue
            signed = np.sign(values) * (np.log10(np.abs(values)) - floor + 1)
            ax.hist(signed, bins=120, histtype="step", density=True, label=str(snapshot))
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(KIND_LABELS[kind], fontsize=9)
        ax.set_xlabel("sign(v)·(log10|v| − min + 1)")
    axes[0][0].set_ylabel("density (nonzero values)")
    axes[0][-1].legend(fontsize=7)
    return save_figure(fig, path, tight=False)


def assembly_figure(moments: xr.Dataset, path) -> Path:
    """|E Σ δᵏΨ| (with 1 s.e.) and E(Σ δᵏΨ)² against depth per order and width, with the bound's (c²/2)^L slope."""
    c = moments.attrs["c"]
    orders = moments["order"].values
    fig, axes = plt.subplots(2, len(orders), figsize=(4.0 * len(orders), 6.4), constrained_layout=True, squeeze=False)
    depths = moments["depth"].values
    for j, order in enumerate(orders):
        for width in moments["width"].values:
            cell = moments.sel(order=order, width=width)
            line = axes[0][j].errorbar(depths, np.abs(cell["mean"]), yerr=cell["sem"], marker="o", ms=3, capsize=2,
                                       label=f"n = {width}")
            axes[1][j].plot(depths, cell["second_moment"], marker="o", ms=3, color=line[0].get_color())
        first = float(np.abs(moments["mean"].sel(order=order)).max())
        axes[0][j].plot(depths, first * (c**2 / 2) ** (depths - depths[0]), "k--", lw=1, label="(c²/2)^L slope")
        axes[0][j].set_yscale("log")
        axes[1][j].set_yscale("log")
        axes[0][j].set_title(f"k = {order}: |E Σ δᵏΨ|", fontsize=9)
        axes[1][j].set_title(f"k = {order}: E (Σ δᵏΨ)²", fontsize=9)
        axes[1][j].set_xlabel("depth L")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"003 eq. (20): assemblies at c = {c}, μ = {moments.attrs['mu']}, "
                 f"{moments.attrs['networks']} networks", fontsize=10)
    return save_figure(fig, path, tight=False)


def capacity_phase_figure(scan: xr.Dataset, path) -> Path:
    """Final hinge risk over width × examples, one panel per (depth, label noise, temperature); ○ plastic,
    × frustrated (risk > 0 with a vanished order parameter or a stalled risk), △ inconclusive (still descending at the
    step budget)."""
    panels = [(d, f, t) for d in scan["depth"].values for f in scan["label_noise"].values
              for t in scan["temperature"].values]
    columns = min(len(panels), 4)
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.2 * rows + 0.5), layout="constrained",
                             squeeze=False)
    widths, sizes = scan["width"].values, scan["n_train"].values
    risk = np.log10(np.maximum(scan["final_risk"].values, 1e-6))
    for ax, (d, f, t) in zip(axes.flat, panels):
        cell = scan.sel(depth=d, label_noise=f, temperature=t)
        image = ax.imshow(np.log10(np.maximum(cell["final_risk"].values.T, 1e-6)), origin="lower", aspect="auto",
                          cmap="viridis", vmin=risk.min(), vmax=risk.max())
        plastic = cell["plastic"].values.T > 0
        frustrated = cell["frustrated"].values.T > 0
        for mask, style in ((plastic, dict(marker="o", facecolors="none", edgecolors="w", label="plastic (R → 0)")),
                            (frustrated, dict(marker="x", color="r", label="frustrated (R > 0, OP → 0 or R stalled)")),
                            (~plastic & ~frustrated, dict(marker="^", facecolors="none", edgecolors="orange",
                                                          label="inconclusive (R > 0, OP > 0)"))):
            yy, xx = np.nonzero(mask)
            ax.scatter(xx, yy, s=55, **style)
        ax.set_xticks(range(len(widths)), [str(w) for w in widths])
        ax.set_yticks(range(len(sizes)), [str(n) for n in sizes])
        ax.set_xlabel("width")
        ax.set_ylabel("examples")
        ax.set_title(f"depth {d}, label noise {f:g}, T = {t:g}", fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, label="log10 final hinge risk", shrink=0.8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncol=3, facecolor="0.75")
    fig.suptitle("003 capacity scan: plasticity (risk ≤ tol) against frustration", fontsize=10)
    return save_figure(fig, path, tight=False)
