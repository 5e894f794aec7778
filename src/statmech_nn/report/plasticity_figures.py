"""Figures and the HTML report of 003's Hessian instruments (003 Figs. 3a, 4, 6, 7, 8).

- :func:`hessian_figures`: one measurement (``statmech-nn hessian``): the spectral density with its mirror
  image, the density of the entries' t statistics, their correlation matrix, the gradient and weight
  distributions;
- :func:`write_plasticity_report`: the protocol over training (:mod:`statmech_nn.experiments.plasticity`):
  per network the spectra at each snapshot (Fig. 8a), risk and η·OP (Figs. 4b, 8b), weight (Fig. 3a) and
  gradient (Fig. 4a) distributions, t densities and frac(|t| < 0.15) (Figs. 7a, b), correlation matrices
  and the coupling exponent (Figs. 6b, c, 7c); the verdicts on 003's claims and the exact identities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..compare.calibration import trust_text
from .html import Figure, Section, Table, write_report
from .savefig import plt, save_figure
from .trust import TRUST_COLUMN, trust_table

_T_BINS = np.linspace(-4, 4, 41)


def _epoch_colors(n: int):
    return plt.cm.viridis(np.linspace(0.05, 0.9, max(n, 1)))


def _spectrum_axes(ax, dataset: xr.Dataset, title: str) -> None:
    grid = dataset["lambda"].values
    for name, style in (("density_slq", dict(color="C0", lw=1.4, label="SLQ ρ(λ)")),
                        ("density_exact", dict(color="k", lw=0.9, ls="--", label="exact ρ(λ)"))):
        if name in dataset:
            ax.plot(grid, dataset[name].values, **style)
    main = dataset["density_slq"] if "density_slq" in dataset else dataset["density_exact"]
    ax.plot(grid, main.values[::-1], color="C3", lw=0.9, ls=":", label="mirror ρ(−λ)")
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(main.values.max() * 1e-5, 1e-300))
    ax.set_xlabel("λ")
    vanishing = dataset.attrs.get("lambda_min") == dataset.attrs.get("lambda_max") == 0
    ax.set_title(title + (" (H = 0: a point mass at 0)" if vanishing else ""), fontsize=9)


def _t_values(dataset: xr.Dataset) -> np.ndarray:
    t = dataset["entry_t"].values
    return t[np.isfinite(t)]


def hessian_figures(dataset: xr.Dataset, out_dir) -> list[Path]:
    """The figures of one measurement into ``out_dir`` (only those whose data were measured)."""
    out_dir = Path(out_dir)
    paths = []
    if "lambda" in dataset.coords:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
        _spectrum_axes(ax, dataset, f"Hessian spectral density, P = {dataset.attrs.get('P')} (003 Fig. 8a)")
        ax.set_ylabel("ρ(λ)")
        ax.legend(fontsize=8)
        paths.append(save_figure(fig, out_dir / "spectrum.png", tight=False))
    if "entry_t" in dataset and _t_values(dataset).size:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
        axes[0].hist(_t_values(dataset), bins=_T_BINS, density=True, color="C0")
        axes[0].axvspan(-0.15, 0.15, color="C3", alpha=0.2, label="|t| < 0.15")
        axes[0].set_xlabel("t = bootstrap mean / std")
        axes[0].set_title("Hessian entries (003 Fig. 7a)", fontsize=9)
        axes[0].legend(fontsize=8)
        if "correlation" in dataset:
            image = axes[1].imshow(dataset["correlation"].values, cmap="RdBu_r", vmin=-1, vmax=1)
            fig.colorbar(image, ax=axes[1], shrink=0.8)
            axes[1].set_title("per-example correlations of sampled entries (003 Fig. 6b)", fontsize=9)
        paths.append(save_figure(fig, out_dir / "entries.png", tight=False))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    bins = dataset["bin"].values
    axes[0].semilogy(bins, np.maximum(dataset["gradient_hist"].values, 1e-6), color="C0")
    axes[0].set_xlabel("∂R/∂θ / std")
    axes[0].set_title("gradient entries (003 Fig. 4a)", fontsize=9)
    for layer, hist, skew in zip(dataset["layer"].values, dataset["weight_hist"].values,
                                 dataset["weight_skewness"].values):
        axes[1].plot(bins, hist, label=f"{layer} (skew {skew:.2f})")
    axes[1].set_xlabel("weight / layer std")
    axes[1].set_title("weights per layer (003 Fig. 3a)", fontsize=9)
    axes[1].legend(fontsize=7)
    paths.append(save_figure(fig, out_dir / "distributions.png", tight=False))
    return paths


def _network_figures(name: str, result: dict, out_dir: Path) -> list[Figure]:
    snapshots = result["snapshots"]
    epochs = [row["epoch"] for row in snapshots]
    datasets = [row["dataset"] for row in snapshots]
    summaries = [row["summary"] for row in snapshots]
    colors = _epoch_colors(len(snapshots))
    figures = []

    fig, axes = plt.subplots(1, len(snapshots), figsize=(2.6 * len(snapshots), 3.0), constrained_layout=True,
                             squeeze=False)
    for ax, epoch, dataset in zip(axes[0], epochs, datasets):
        _spectrum_axes(ax, dataset, f"epoch {epoch}")
    axes[0][0].legend(fontsize=6)
    figures.append(Figure(save_figure(fig, out_dir / f"{name}-spectra.png", tight=False),
                          f"{name}: Hessian spectral density at each snapshot, with its mirror image (003 Fig. 8a)."))

    metrics = result["metrics"]["columns"]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    ax.semilogy(metrics["epoch"], np.maximum(metrics["train_loss"], 1e-12), color="k", label="risk R (train loss)")
    ax.semilogy(epochs, np.maximum([s["eta_op"] for s in summaries], 1e-16), "o-", color="C1", label="η·OP = η‖∇R‖²")
    ax.set_xlabel("epoch")
    twin = ax.twinx()
    twin.plot(metrics["epoch"], metrics["train_accuracy"], color="C2", lw=0.8, label="train accuracy")
    twin.set_ylabel("train accuracy", color="C2")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{name}: risk and order parameter (003 Figs. 4b, 8b)", fontsize=9)
    figures.append(Figure(save_figure(fig, out_dir / f"{name}-op.png", tight=False),
                          f"{name}: risk, η·OP at the snapshots and training accuracy."))

    layers = list(datasets[0]["layer"].values)
    fig, axes = plt.subplots(1, len(layers) + 1, figsize=(3.0 * (len(layers) + 1), 3.0), constrained_layout=True)
    bins = datasets[0]["bin"].values
    for color, epoch, dataset in zip(colors, epochs, datasets):
        for ax, hist, skew in zip(axes, dataset["weight_hist"].values, dataset["weight_skewness"].values):
            ax.plot(bins, hist, color=color, lw=1, label=f"epoch {epoch}: skew {skew:.2f}")
        axes[-1].semilogy(bins, np.maximum(dataset["gradient_hist"].values, 1e-6), color=color, lw=1,
                          label=f"epoch {epoch}")
    for ax, layer in zip(axes, layers):
        ax.set_title(f"weights {layer} (Fig. 3a)", fontsize=8)
        ax.legend(fontsize=5)
    axes[-1].set_title("gradient entries / std (Fig. 4a)", fontsize=8)
    figures.append(Figure(save_figure(fig, out_dir / f"{name}-distributions.png", tight=False),
                          f"{name}: per-layer weight distributions (in units of the layer's std) "
                          "and gradient entries."))

    measured = [i for i, d in enumerate(datasets) if "entry_t" in d]   # none at H = 0
    if measured:
        epochs = [epochs[i] for i in measured]
        datasets = [datasets[i] for i in measured]
        summaries = [summaries[i] for i in measured]
        colors = [colors[i] for i in measured]
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
        for color, epoch, dataset in zip(colors, epochs, datasets):
            t = _t_values(dataset)
            if t.size:
                hist, edges = np.histogram(t, bins=_T_BINS, density=True)
                axes[0].plot(0.5 * (edges[1:] + edges[:-1]), hist, color=color, label=f"epoch {epoch}")
        axes[0].set_xlabel("t")
        axes[0].set_title("density of t over sampled entries (Fig. 7a)", fontsize=9)
        axes[0].legend(fontsize=6)
        for color, (key, label) in zip(("C0", "C1"), (("frac_t", "bootstrap t"),
                                                      ("frac_effect", "entry / per-example std"))):
            fraction = np.array([s.get(f"{key}_below_0_15") for s in summaries], dtype=float)   # None → NaN
            band = np.nan_to_num(np.array([s.get(f"{key}_below_0_15_band") for s in summaries], dtype=float))
            axes[1].plot(epochs, fraction, "o-", color=color, label=label)
            axes[1].fill_between(epochs, fraction - band, fraction + band, color=color, alpha=0.25)
            null = [s.get(f"{key}_null") for s in summaries]
            if None not in null:
                axes[1].plot(epochs, null, ":", color=color, lw=1, label=f"{label}: all means 0 (null)")
        axes[1].axhline(0.95, color="k", lw=0.8, ls="--", label="003's threshold 0.95")
        axes[1].set_ylim(-0.03, 1.03)
        axes[1].set_xlabel("epoch")
        axes[1].set_title("frac(|t| < 0.15) (Fig. 7b)", fontsize=9)
        axes[1].legend(fontsize=7)
        axes[2].plot(epochs, [s.get("coupling_alpha") for s in summaries], "o-", label="α = log count / log P")
        axes[2].plot(epochs, [s.get("correlation_sparsity") for s in summaries], "s--", label="sparsity")
        axes[2].set_xlabel("epoch")
        axes[2].set_title("coupling exponent and sparsity (Figs. 6c, 7c)", fontsize=9)
        axes[2].legend(fontsize=7)
        figures.append(Figure(save_figure(fig, out_dir / f"{name}-entries.png", tight=False),
                              f"{name}: bootstrap statistics of sampled Hessian entries over training."))
        with_corr = [(e, d) for e, d in zip(epochs, datasets) if "correlation" in d]
        if with_corr:
            ends = [with_corr[0], with_corr[-1]] if len(with_corr) > 1 else with_corr
            fig, axes = plt.subplots(1, len(ends), figsize=(4.6 * len(ends), 4), constrained_layout=True, squeeze=False)
            for ax, (epoch, dataset) in zip(axes[0], ends):
                image = ax.imshow(dataset["correlation"].values, cmap="RdBu_r", vmin=-1, vmax=1)
                ax.set_title(f"epoch {epoch}", fontsize=9)
            fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
            figures.append(Figure(save_figure(fig, out_dir / f"{name}-correlations.png", tight=False),
                                  f"{name}: correlation matrices of sampled entries, "
                                  "first and last snapshot (Fig. 6b)."))
    return figures


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def write_plasticity_report(root, *, spec, summary: dict, results: dict, outcomes) -> Path:
    """``figures/`` and ``report.html`` of the protocol."""
    root = Path(root)
    figure_dir = root / "figures"
    sections = [Section("Protocol", [spec.description, f"Source: {spec.source}. Snapshots at epochs "
                                     f"{list(spec.snapshot_epochs)}; Hessian options {spec.hessian}; exact spectrum "
                                     f"beside SLQ where P ≤ {spec.exact_max_parameters}."])]
    rows, ids = [], []
    for name, entry in summary["networks"].items():
        for verdict in entry.get("verdicts", []):
            numbers = "; ".join(f"{k} = {_fmt(v)}" for k, v in verdict["numbers"].items())
            rows.append([name, f"{verdict['id']}: {verdict['claim']}", verdict["verdict"], numbers, verdict["test"],
                         trust_text(verdict["id"])])
            ids.append(verdict["id"])
    sections.append(Section("Verdicts on 003's claims", [
        "supported / not supported / inconclusive, with the numbers and the test; the entry claims under both readings "
        "of 003's normalization (its supp. I is not in the source), each with its value under the null (every entry "
        "mean 0) beside the threshold: a reading whose null value is below the threshold cannot show the claim and "
        "says so."],
        tables=[Table(["network", "claim", "verdict", "numbers", "test", TRUST_COLUMN], rows), trust_table(ids)]))
    sections.append(Section("Exact identities (statmech-nn check --select hessian-)", tables=[Table(
        ["claim", "status", "deviation", "tolerance", "detail"],
        [[o.claim.id, o.status, o.deviation, o.claim.tolerance, o.detail] for o in outcomes])]))
    for name, result in results.items():
        entry = summary["networks"][name]
        text = [f"{entry['arch']}, role {entry['role']}."]
        if "control" in entry:
            control = entry["control"]
            text.append(f"Control: spectral skewness over the snapshots {_fmt(control['skewness'])}, negative mass "
                        f"{_fmt(control['negative_mass'])}; skewed positive: {control['skewed_positive']}.")
        sections.append(Section(f"Network {name}", text, figures=_network_figures(name, result, figure_dir)))
    return write_report(root / "report.html", f"003 plasticity phase: {spec.name}", sections,
                        {"spec": spec.path})
