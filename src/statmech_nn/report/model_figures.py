"""Figures and curve datasets of the analytic models: the quartic toy model (002 §2) (scan figures: scan_figures.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..io import save_dataset
from .savefig import plt, save_figure

_REGIME_COLORS = {"frustrated": "#d62728", "core": "#7f7f7f", "power law": "#1f77b4", "Gaussian": "#2ca02c"}


def quartic_curve_dataset(model) -> xr.Dataset:
    """p(q) on linear and logarithmic grids, p(x|q) at a few q, exact F and 002 eq. (4), with the regimes."""
    regimes = model.regimes()
    marginal = model.marginal()
    spread = np.sqrt(max(regimes.u_gauss, regimes.u_slope, regimes.u_low, 0.0)) + 4.0 * marginal.std() \
        if np.isfinite(marginal.var()) else 10.0 * np.sqrt(max(regimes.u_low, 1e-12))
    q = model.q_bar + np.linspace(-spread, spread, 801)
    t_low = np.sqrt(regimes.u_low) if regimes.u_low > 0 else spread * 1e-6
    t = np.geomspace(t_low * 1e-2, spread, 400)
    q_slices = model.q_bar + np.unique(np.concatenate([[0.0], np.sqrt(np.abs(regimes.u_low)) * np.array([0.5, 1.5]),
                                                        [np.sqrt(max(regimes.u_gauss, 0.0))]]))
    x_span = 4.0 * np.sqrt(float(np.max(model.conditional(q_slices).var())))
    x = model.x_bar + np.linspace(-x_span, x_span, 401)
    conditional = np.stack([model.conditional(qs).pdf(x) for qs in q_slices])
    dataset = xr.Dataset(
        {
            "pdf_q": ("q", marginal.pdf(q), {"long_name": "p(q)", "units": "1/q", "equation": "002 eq. (6), exact F"}),
            "pdf_t": ("t", marginal.pdf(model.q_bar + t), {"long_name": "p(q) at q = q_bar + t", "units": "1/q"}),
            "free_energy_exact": ("q", model.free_energy(q), {"long_name": "F(beta, q), exact", "units": "energy"}),
            "free_energy_eq4": ("q", model.free_energy(q, exact=False),
                                {"long_name": "F(beta, q), 002 eq. (4)", "units": "energy"}),
            "pdf_x_given_q": (("q_slice", "x"), conditional,
                              {"long_name": "p(x|q)", "units": "1/x", "equation": "002 eq. (3)"}),
        },
        coords={"q": q, "t": ("t", t, {"long_name": "|q - q_bar|"}), "x": x, "q_slice": q_slices},
        attrs={"model": "quartic", "source": "002 eqs. (1)-(7)", "parameters": model.to_dict(),
               "regimes": regimes.to_dict()},
    )
    return dataset


def _shade_regimes(ax, regimes, t_min, t_max):
    """Shade the regimes along |q - q_bar| on a log axis."""
    t_low = np.sqrt(regimes.u_low) if regimes.u_low > 0 else t_min
    t_gauss = np.sqrt(regimes.u_gauss) if regimes.u_gauss > 0 else t_low
    below = "frustrated" if regimes.u_frustration is not None else "core"
    spans = [(below, t_min, t_low), ("power law", t_low, max(t_gauss, t_low)), ("Gaussian", max(t_gauss, t_low), t_max)]
    for name, lo, hi in spans:
        if hi > lo:
            ax.axvspan(lo, hi, color=_REGIME_COLORS[name], alpha=0.12, label=f"{name} regime")


def quartic_curves(model, out_dir) -> list[Path]:
    """Write curves.nc and marginal.png, conditional.png, free_energy.png into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = quartic_curve_dataset(model)
    regimes = model.regimes()
    written = [save_dataset(data, out / "curves.nc")]

    fig, (linear, loglog) = plt.subplots(1, 2, figsize=(11, 4.2))
    linear.plot(data.q, data.pdf_q, color="k")
    linear.set(xlabel="q", ylabel="p(q)", title="marginal p(q) ∝ exp(-αF(β,q))  [002 eq. (6)]")
    t = data.t.values
    loglog.loglog(t, data.pdf_t, color="k", label="p(q), exact F")
    _shade_regimes(loglog, regimes, t[0], t[-1])
    anchor = np.sqrt(np.sqrt(max(regimes.u_low, t[0] ** 2) * max(regimes.u_gauss, regimes.u_low)))
    guide = float(model.marginal().pdf(model.q_bar + anchor)) * (t / anchor) ** regimes.powerlaw_exponent
    loglog.loglog(t, guide, "--", color=_REGIME_COLORS["power law"], label=f"|q-q̄|^{regimes.powerlaw_exponent:.3g}")
    loglog.set_ylim(float(np.min(data.pdf_t)) * 0.5, float(np.max(data.pdf_t)) * 2.0)
    loglog.set(xlabel="|q - q̄|", ylabel="p(q)", title="regimes  [002 eq. (7)]")
    loglog.legend(fontsize=8, loc="lower left")
    written.append(save_figure(fig, out / "marginal.png"))

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for q_value, row in zip(data.q_slice.values, data.pdf_x_given_q.values):
        ax.plot(data.x, row, label=f"q - q̄ = {q_value - model.q_bar:.3g}")
    ax.set(xlabel="x", ylabel="p(x|q)", title="p(x|q) ∝ exp(-βH)  [002 eq. (3)]; bimodal where λx + g(q-q̄)² < 0")
    ax.legend(fontsize=8)
    written.append(save_figure(fig, out / "conditional.png"))

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(data.q, data.free_energy_exact, color="k", label="exact F")
    shift = -np.log(2 * np.pi) / (2 * model.beta)
    ax.plot(data.q, data.free_energy_eq4 + shift, "--", color="tab:orange", label="eq. (4) − log(2π)/(2β)")
    ax.set(xlabel="q", ylabel="F(β, q)", title="free energy: exact vs 002 eq. (4)")
    ax.legend(fontsize=8)
    written.append(save_figure(fig, out / "free_energy.png"))
    return written
