"""The main job's report: 002's figures with the fitted theory, samplers against the exact law, the claims.

:func:`write_validation_report` assembles ``report.html`` from what the stages wrote (figures of
``analyze`` and of the probe, fit tables, sampler summaries) and draws the two figures only the main job
has: the training curves and the samplers' p(q) against the exact marginal.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import read_json  # noqa: E402
from ..observables.binning import log_binned_density  # noqa: E402
from .html import Figure, Section, Table, write_report  # noqa: E402

_METHOD_COLORS = {"exact": "tab:blue", "mh": "tab:orange", "langevin": "tab:green"}


def training_figure(metrics_file: Path, path: Path) -> Path:
    """Train and test loss and test accuracy per epoch, with the start of tracking marked."""
    metrics = read_json(metrics_file)
    columns, start = metrics["columns"], metrics["tracking"]["start_epoch"]
    fig, (loss, accuracy) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    loss.semilogy(columns["epoch"], columns["train_loss"], label="train loss")
    loss.semilogy(columns["epoch"], columns["test_loss"], label="test loss")
    accuracy.plot(columns["epoch"], columns["test_accuracy"], color="tab:green", label="test accuracy")
    for ax in (loss, accuracy):
        if start is not None:
            ax.axvline(start, color="k", ls=":", label=f"equilibrium: tracking from epoch {start}")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    loss.set_ylabel("cross-entropy (without the L2 term)")
    accuracy.set_ylabel("test accuracy")
    fig.suptitle("Training to equilibrium, then tracking (002 §5)", fontsize=10)
    return _save(fig, path)


def sampler_figure(model, results, path: Path) -> Path:
    """p(q - q̄) of each sampler (log-binned, pooled over chains) on the exact marginal, in 002 Fig. 3's two views."""
    marginal = model.marginal()
    fig, (loglog, quadratic) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    spread = max(float(np.max(np.abs(r.deviations()))) for r in results)
    t = np.geomspace(spread * 1e-5, spread, 400)
    exact_abs = 2.0 * marginal.pdf(model.q_bar + t)  # density of |q - q̄|
    for result in results:
        deviations = np.abs(result.deviations())
        binned = log_binned_density(deviations, per_decade=8)
        shown = binned["count"][0] > 0
        color = _METHOD_COLORS.get(result.method, None)
        loglog.errorbar(binned["center"][0][shown], binned["density"][0][shown], yerr=binned["error"][0][shown],
                        fmt="o", ms=3.5, color=color, label=f"{result.method} sampler")
        square_edges = np.linspace(0.0, spread**2, 41)
        square_counts, _ = np.histogram(deviations**2, bins=square_edges)
        widths = np.diff(np.sqrt(square_edges))
        keep = square_counts > 0
        quadratic.semilogy(0.5 * (square_edges[1:] + square_edges[:-1])[keep],
                           (square_counts / (deviations.size * widths))[keep], "o", ms=3.5, color=color,
                           label=f"{result.method} sampler")
    loglog.loglog(t, exact_abs, "k-", lw=1.5, label="exact p(q), 002 eq. (6)")
    regimes = model.regimes()
    for u, name in ((regimes.u_low, "u_low"), (regimes.u_gauss, "u_G")):
        if u > 0:
            loglog.axvline(np.sqrt(u), color="gray", ls=":", lw=1)
            loglog.text(np.sqrt(u), exact_abs.max(), f" {name}", fontsize=8, va="top")
    u = np.linspace(0.0, spread**2, 400)
    quadratic.semilogy(u, 2.0 * marginal.pdf(model.q_bar + np.sqrt(u)), "k-", lw=1.5, label="exact p(q)")
    loglog.set(xlabel="|q - q̄|", ylabel="density of |q - q̄|", title="log-log: the power law |q - q̄|^(-α/β)")
    quadratic.set(xlabel="(q - q̄)²", ylabel="density of |q - q̄|", title="log-quadratic: the Gaussian tail")
    loglog.set_ylim(exact_abs[exact_abs > 0].min() * 0.3, exact_abs.max() * 3)
    for ax in (loglog, quadratic):
        ax.legend(fontsize=8)
    fig.suptitle("Quartic toy model: samplers against the exact marginal", fontsize=10)
    return _save(fig, path)


def _number(value, digits=3):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value:.{digits}g}" if isinstance(value, float) else value


def _verdict(delta_aic):
    if delta_aic is None:
        return "–"
    return "theory preferred" if delta_aic > 0 else "alternative preferred"


def _weight_table(fits: list[dict]) -> Table:
    rows = [[row["name"], row["status"] if row["status"] == "ok" else "boundary",
             f"{_number(row.get('exponent'))} ± {_number(row.get('exponent_err'), 2)}", _number(row.get("c")),
             _number(row.get("sigma")), _number(row.get("u_slope")), _number(row.get("u_gauss")),
             _number(row.get("decades_slope")), _number(row.get("decades")),
             _verdict(row.get("gaussian_delta_aic")), _verdict(row.get("student_t_delta_aic")),
             _verdict(row.get("power_law_delta_aic")), _number(row.get("spectrum_exponent_low")),
             _number(row.get("spectrum_exponent_high"))] for row in fits]
    return Table(["weight", "fit", "exponent 2s = α/β", "core c", "σ", "u_S", "u_G", "decades (u_S)",
                  "decades (u_G)", "vs Gaussian", "vs Student-t", "vs pure power law (tail)", "spectrum a (low f)",
                  "spectrum a (high f)"], rows,
                 "Per tracked weight: the MLE of p(Δ) ∝ (1 + Δ²/c²)^(-s) exp(-Δ²/2σ²) (002 eqs. (6), (21)); crossovers in "
                 "u = Δ² (u_G with the convention g = 1); verdicts by AIC; P(f) ∝ f^(-a) on two frequency bands")


def _answer_paragraphs(summary: dict) -> list[str]:
    a, t = summary["answers"], summary["training"]
    first = (f"The network reached a test accuracy of {t['final_test_accuracy']:.3f}; the equilibrium criterion "
             f"{'held at epoch ' + str(t['equilibrium_epoch']) if t['equilibrium_reached'] else 'never held'}, and "
             f"{t['trajectory_rows'] - 1} steps were tracked for {a['weights']} weights.")
    if a["weights_fit_ok"]:
        second = (f"The theory's fit resolves all three scales for {a['weights_fit_ok']} of {a['weights']} weights: "
                  f"median exponent 2s = α/β = {_number(a['median_exponent_2s'])}, a power-law range of "
                  f"{_number(a['median_decades_u_slope'])} decades in u = Δ² between the core c² and the log-slope "
                  f"crossover u_S (= {_number(a['median_decades_abs_delta_slope'])} decades in |Δ|; "
                  f"{_number(a['median_decades_u_lambert'])} in u up to the Lambert-W crossover u_G, whose position "
                  "depends on the units of Δ).")
    else:
        second = "No weight's fit resolved the core, the power law and the Gaussian cut-off at once."
    third = (f"By AIC the theory beats a Gaussian for {a['theory_beats_gaussian']}, a Student-t for "
             f"{a['theory_beats_student_t']} and, on the tail above x_min, a pure power law for "
             f"{a['theory_beats_power_law']} of the {a['weights']} weights.")
    return [first, second, third]


def write_validation_report(path, *, spec, summary, fits, probed, model, samplers, outcomes, network_dir: Path) -> Path:
    """Write the main job's ``report.html``."""
    figures_dir = Path(path).parent / "figures"
    analysis_figures = network_dir / "analysis" / "figures"
    sections = [
        Section("Verdict", [spec.description] + _answer_paragraphs(summary),
                [Table(["criterion", "value", "result"],
                       [[c["criterion"], _number(c["value"]) if isinstance(c["value"], float) else str(c["value"]),
                         "holds" if c["passed"] else "fails"] for c in summary["acceptance"]],
                       f"Acceptance criteria of {spec.name}")]),
        Section("Training (002 §5)", [],
                [Table(["parameter", "value"], [[k, str(v)] for k, v in spec.training.items()], "Training protocol"),
                 Table(["result", "value"], [[k, _number(v)] for k, v in summary["training"].items() if k != "out"],
                       "Outcome")],
                [Figure(training_figure(network_dir / "metrics.json", figures_dir / "training.png"),
                        "Loss and accuracy per epoch; tracking starts when the equilibrium criterion holds.")]),
        Section("Frozen neurons: p(x|q) (002 Fig. 1)",
                [f"{probed.summary()['neurons_bimodal']} of {len(probed.bimodality)} sampled units of layer "
                 f"{probed.layer} are bimodal (two-Gaussian mixture preferred by ΔBIC > 10 and with two modes)."],
                [Table(["unit", "ΔBIC (1 vs 2 Gaussians)", "modes", "bimodal"],
                       [[name, b.delta_bic, b.modes, "yes" if b.bimodal else "no"]
                        for name, b in zip(probed.neurons, probed.bimodality)])],
                [Figure(probed.figures["fig1_outputs"], "Outputs of frozen neurons with the fitted two-Gaussian mixtures.")]),
        Section("Local weight fluctuations Δ = w(t+1) − w(t) (002 Figs. 2–3)", _answer_paragraphs(summary)[1:],
                [_weight_table(fits)],
                [Figure(analysis_figures / "fig2_fluctuations.png", "p(Δ) on log bins of |Δ| with the fitted theory and a Gaussian."),
                 Figure(analysis_figures / "fig3_powerlaw.png", "Intermediate scales, log-log: power law |Δ|^(-2s)."),
                 Figure(analysis_figures / "fig3_gaussian.png", "Large scales, log-quadratic: the Gaussian tail.")]),
        Section("Power spectrum of w(t) (002 Fig. 4)",
                [f"Median exponent a of P(f) ∝ f^-a: {_number(summary['network_analysis']['median_spectrum_exponent_low'])} "
                 f"at low f, {_number(summary['network_analysis']['median_spectrum_exponent_high'])} at high f "
                 "(a = 2 for independent jumps; the source reports a < 2 at low f)."], [],
                [Figure(analysis_figures / "fig4_spectrum.png", "f²·P(f) of the tracked weights with band fits.")]),
        Section("Activation statistics (001, classes 1–4)",
                [f"Distinct activation patterns per layer: {probed.summary()['n_patterns']} over "
                 f"{probed.summary()['n_samples']} inputs."],
                [Table(["layer", "Zipf exponent s of pattern rank-frequency"],
                       [[layer, f"{z.s:.3g} ± {z.sigma:.2g}" if hasattr(z, "s") else z] for layer, z in probed.zipf.items()])],
                [Figure(probed.figures[key], caption) for key, caption in (
                    ("pattern_rank_frequency", "Activation-pattern frequency by rank (001 class 2)."),
                    ("unit_activation_frequency", "Single-unit activation frequency by rank (001 class 3)."))]),
        _sampler_section(summary, model, samplers, figures_dir),
        Section("Theory checks (statmech-nn check)", [],
                [Table(["claim", "source", "status", "deviation", "tolerance", "assumption or detail"],
                       [[o.claim.id, f"{o.claim.source} {o.claim.equation}", o.status, o.deviation, o.claim.tolerance,
                         o.claim.assumption or o.detail] for o in outcomes])]),
        Section("Reproduce", [" ".join(read_json(Path(path).parent / "run.json")["command"])],
                [Table(["stage", "seconds"], [[k, v] for k, v in summary["timings_s"].items()])]),
    ]
    return write_report(path, f"statmech-nn validation: {spec.name}", sections,
                        {"spec": spec.path, "source": spec.source})


def _sampler_section(summary, model, samplers, figures_dir) -> Section:
    expected = summary["sampler_expected_theory"]
    rows = [[r.method, r.summary["q2_mean"], r.summary["q2_sem"], r.summary["q2_exact"], r.z_score,
             r.summary["ks_vs_exact"], r.summary["tau_q"], r.summary["rhat_q"], r.summary["chain_steps_per_s"],
             "yes" if r.summary["reliable"] else "no", r.recovered["s"], r.recovered["sigma"]] for r in samplers]
    return Section(
        "Samplers against the exact marginal (002 §2)",
        [f"Model {model.to_dict()}. The same analysis as the network's, with Δ = q − <q>; the fitted theory "
         f"should recover s = α/2β = {expected['s']:.3g} and σ = (αλq)^(-1/2) = {expected['sigma']:.3g}."],
        [Table(["method", "<(q-q̄)²>", "s.e.", "exact", "z", "KS", "τ (steps)", "R̂", "chain-steps/s", "reliable",
                "fitted s", "fitted σ"], rows)],
        [Figure(sampler_figure(model, samplers, figures_dir / "samplers.png"),
                "Exact, Metropolis–Hastings and two-timescale Langevin samples of q against the exact p(q).")])


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
