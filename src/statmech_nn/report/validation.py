"""The main job's report: 002's figures with the fitted theory, samplers against the exact law, the claims.

:func:`write_validation_report` assembles ``report.html`` from what the stages wrote (figures of
``analyze`` and of the probe, fit tables, sampler summaries) and draws the two figures only the main job
has: the training curves and the samplers' p(q) against the exact marginal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compare.calibration import trust_text
from ..compare.acceptance import preference
from ..io import read_json
from ..observables._numerics.binning import log_binned_density
from .html import Figure, Section, Table, write_report
from .savefig import plt, save_figure
from .trust import TRUST_COLUMN, trust_table

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
    return save_figure(fig, path, dpi=110, tight=False)


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
    return save_figure(fig, path, dpi=110, tight=False)


def _number(value, digits=3):
    """A cell's text: numbers to ``digits`` significant figures, lists and mappings spelled out (no reprs)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, dict):
        return _names(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_number(v, digits)) for v in value)
    return value


PREFERENCE_LEGEND = ("Comparison cells: “theory preferred”: AIC favours the theory (ΔAIC > 0) and it describes "
                     "its data (binned χ² p ≥ 0.01); “alternative preferred”: AIC favours the alternative "
                     "(ΔAIC ≤ 0); “theory by AIC, poor fit”: AIC favours the theory but its χ² p < 0.01, so "
                     "neither is preferred; “–”: not compared (no fit).")


def _plus_minus(value, error) -> str:
    return "–" if _number(value) == "–" else f"{_number(value)} ± {_number(error, 2)}"


_STATIONARITY_COLUMNS = (("stationarity_drift_ratio", "drift / fluctuation"),
                         ("stationarity_window_over_tau", "window / τ_w"), ("stationarity_split_rhat", "split R̂"),
                         ("stationarity_stationary", "stationary"))


def _weight_tables(rows: list[dict]) -> list[Table]:
    """Two tables that fit the page: the law fitted to each weight, then its comparisons and diagnostics."""
    fits = Table(["weight", "status", "reason", "exponent 2s = α/β", "core c", "σ", "decades in data (u)",
                  "χ² GOF p", "peak mass (decay steps)"],
                 [[row["name"], row["status"], row.get("reason", ""),
                   _plus_minus(row.get("exponent"), row.get("exponent_err")), _number(row.get("c")),
                   _number(row.get("sigma")), _number(row.get("decades_in_data")), _number(row.get("gof_p"), 2),
                   _number(row.get("peak_mass"), 2)] for row in rows],
                 "Per tracked weight: status, the MLE of p(Δ) ∝ (1 + Δ²/c²)^(-s) exp(-Δ²/2σ²) (002 eqs. (6), (21)) "
                 "on the gradient steps, the decades of u = Δ² of power law inside the data, the binned χ² goodness "
                 "of fit and the share of weight-decay steps")
    extra = [(key, title) for key, title in _STATIONARITY_COLUMNS if any(key in row for row in rows)]
    diagnostics = Table(["weight", "vs Gaussian", "vs Student-t", "vs pure power law (tail)", "spectrum a (low f)",
                         "spectrum a (high f)"] + [title for _, title in extra],
                        [[row["name"], preference(row, "gaussian"), preference(row, "student_t"),
                          preference(row, "power_law"), _number(row.get("spectrum_exponent_low")),
                          _number(row.get("spectrum_exponent_high"))] + [_number(row.get(key)) for key, _ in extra]
                         for row in rows],
                        "Per tracked weight: AIC preferences, P(f) ∝ f^(-a) on two frequency bands, and the "
                        f"stationarity diagnostics of w(t) in the tracked window. {PREFERENCE_LEGEND}")
    return [fits, diagnostics]


def _verdict_table(verdicts: list[dict]) -> Table:
    return Table(["question", "verdict", "what the data say", "test", TRUST_COLUMN],
                 [[f"{v['id']}: {v['question']}", v["verdict"], v["detail"], v["test"], trust_text(v["id"])]
                  for v in verdicts],
                 "The sources' questions, answered by this run (separate from whether the pipeline worked)")


def _answer_paragraphs(summary: dict) -> list[str]:
    a, t = summary["answers"], summary["training"]
    counts = ", ".join(f"{n} {status}" for status, n in a["status_counts"].items())
    first = (f"The network reached a test accuracy of {t['final_test_accuracy']:.3f}; the equilibrium criterion "
             f"{'held at epoch ' + str(t['equilibrium_epoch']) if t['equilibrium_reached'] else 'never held'}, and "
             f"{t['trajectory_rows'] - 1} steps were tracked for {a['weights']} weights ({counts}).")
    if a["weights_resolved"]:
        second = (f"Over the {a['weights_resolved']} resolved weights: median exponent 2s = α/β = "
                  f"{_number(a['median_exponent_2s'])}, a power law over "
                  f"{_number(a['median_decades_in_data_abs_delta'])} "
                  f"decades of |Δ| inside the data (between max(c, min|Δ|) and min(√u_G, max|Δ|)); the fitted law "
                  f"describes its data (binned χ² p ≥ 0.01) for {a['weights_theory_describes']} of them.")
    else:
        second = "No weight's fit resolved the core, the power law and the Gaussian cut-off inside the data."
    preferred = a["theory_preferred_over"]
    third = (f"The theory is preferred (by AIC, and describing its data) over a Gaussian for {preferred['gaussian']}, "
             f"a Student-t for {preferred['student_t']} and, on the tail above x_min, a pure power law for "
             f"{preferred['power_law']} of the {a['weights_resolved']} resolved weights.")
    return [first, second, third]


def _names(values) -> str:
    """A mapping as "key: value, ..." (never a Python repr in the report)."""
    return ", ".join(f"{k}: {_number(v)}" for k, v in values.items())


def write_validation_report(path, *, spec, summary, analysis, probed, model, samplers, outcomes,
                            network_dir: Path) -> Path:
    """Write the main job's ``report.html``: the verdicts first, then the evidence, then the machinery."""
    figures_dir = Path(path).parent / "figures"
    analysis_figures = network_dir / "analysis" / "figures"
    rows = analysis.rows
    shown = ", ".join(rows[j]["name"] for j in analysis.representative())
    rule = (f"Weights shown ({shown}): the resolved weights at evenly spaced quantiles of the fitted exponent 2s "
            "(boundary fits, then other fits with 2s > 0, fill up when fewer than four are resolved; a misfit never).")
    probe_summary = probed.summary()
    sections = [
        Section("Verdicts on the sources' questions", [spec.description],
                [_verdict_table(summary["verdicts"]), trust_table(v["id"] for v in summary["verdicts"])]),
        Section("Pipeline checks (did the machinery work?)", _answer_paragraphs(summary)[:1],
                [Table(["criterion", "value", "result"],
                       [[c["criterion"], _number(c["value"]) if isinstance(c["value"], float) else str(c["value"]),
                         "holds" if c["passed"] else "fails"] for c in summary["acceptance"]],
                       f"Acceptance criteria of {spec.name}: machinery, not physics")]),
        Section("Training (002 §5)", [],
                [Table(["parameter", "value"], [[k, _number(v)] for k, v in spec.training.items()],
                       "Training protocol"),
                 Table(["result", "value"], [[k, _number(v)] for k, v in summary["training"].items() if k != "out"],
                       "Outcome")],
                [Figure(training_figure(network_dir / "metrics.json", figures_dir / "training.png"),
                        "Loss and accuracy per epoch; tracking starts when the equilibrium criterion holds."),
                 Figure(analysis_figures / "weight_traces.png",
                        f"w(t) over the tracked window. {rule} A trend over the window means the weight drifted.")]),
        Section("Frozen neurons: p(x|q) (002 Fig. 1)",
                [f"{probe_summary['neurons_bimodal']} of {len(probed.bimodality)} sampled units of layer "
                 f"{probed.layer} are bimodal (two-Gaussian mixture preferred by ΔBIC > 10 and with two modes)."],
                [Table(["unit", "ΔBIC (1 vs 2 Gaussians)", "modes", "bimodal"],
                       [[name, b.delta_bic, b.modes, "yes" if b.bimodal else "no"]
                        for name, b in zip(probed.neurons, probed.bimodality)])],
                [Figure(probed.figures["fig1_outputs"],
                        f"What is plotted: the output x of each sampled unit of hidden layer {probed.layer} as 002 §4 "
                        "defines it for a neuron with frozen weights q, here its pre-activation x = w·input + b, over "
                        "the inputs; lines: the fitted two-Gaussian mixtures.")]),
        Section("Local weight fluctuations Δ = w(t+1) − w(t) (002 Figs. 2–3)", _answer_paragraphs(summary)[1:],
                _weight_tables(rows),
                [Figure(analysis_figures / "fig2_fluctuations.png",
                        f"p(Δ) on log bins of |Δ|, one panel per weight, with the theory fitted to the gradient steps "
                        f"(scaled by their share) and a Gaussian; c², u_S and u_G marked, 2s in the legend. The spike "
                        f"at the smallest |Δ| is made of weight-decay steps Δ = −ηλw. {rule}"),
                 Figure(analysis_figures / "fig3_powerlaw.png", "Intermediate scales, log-log: power law |Δ|^(-2s)."),
                 Figure(analysis_figures / "fig3_gaussian.png",
                        "Large scales, log-quadratic in Δ²/σ̂² per weight (σ̂ its fitted σ): a Gaussian tail is a "
                        "straight line of slope −1/2.")]),
        Section("Power spectrum of w(t) (002 Fig. 4)",
                [f"Verdict Q4 (a < 2 at low f, a ≈ 2 at high f): {_q(summary, 'Q4')}"], [],
                [Figure(analysis_figures / "fig4_spectrum.png",
                        "f²·P(f) of the representative weights with band fits; a of each band in the legend.")]),
        Section("Activation statistics (001, classes 1–4)",
                [f"Distinct activation patterns per layer: {_names(probe_summary['n_patterns'])}, over "
                 f"{probe_summary['n_samples']} inputs."],
                [Table(["layer", "Zipf exponent s of pattern rank-frequency"],
                       [[layer, f"{z.s:.3g} ± {z.sigma:.2g}" if hasattr(z, "s") else z]
                        for layer, z in probed.zipf.items()])],
                [Figure(probed.figures[key], caption) for key, caption in (
                    ("weight_histograms", "Histograms of the weights of each layer (001 class 1)."),
                    ("pattern_rank_frequency", "Activation-pattern frequency by rank (001 class 2)."),
                    ("unit_activation_frequency", "Single-unit activation frequency by rank (001 class 3)."),
                    ("layer_mean_activation", "Distribution over inputs of the mean activation of each layer "
                                              "(001 class 4)."))]),
        _sampler_section(summary, model, samplers, figures_dir),
        Section("Theory checks (statmech-nn check)",
                [] if outcomes else [f"{spec.name} does not require the claims; statmech-nn check runs them."],
                [Table(["claim", "source", "status", "deviation", "tolerance", "assumption or detail"],
                       [[o.claim.id, f"{o.claim.source} {o.claim.equation}", o.status, o.deviation, o.claim.tolerance,
                         o.claim.assumption or o.detail] for o in outcomes])]),
        Section("Reproduce", [" ".join(read_json(Path(path).parent / "run.json")["command"])],
                [Table(["stage", "seconds"], [[k, v] for k, v in summary["timings_s"].items()])]),
    ]
    return write_report(path, f"statmech-nn validation: {spec.name}", sections,
                        {"spec": spec.name, "source": spec.source})


def _q(summary: dict, verdict_id: str) -> str:
    v = next(v for v in summary["verdicts"] if v["id"] == verdict_id)
    return f"{v['verdict']}, {v['detail']}"


def _sampler_section(summary, model, samplers, figures_dir) -> Section:
    expected = summary["sampler_expected_theory"]
    rows = [[r.method, r.summary["q2_mean"], r.summary["q2_sem"], r.summary["q2_exact"], r.z_score,
             r.summary["ks_vs_exact"], r.summary["tau_q"], r.summary["rhat_q"], r.summary["chain_steps_per_s"],
             "yes" if r.summary["reliable"] else "no", r.recovered["s"], r.recovered["sigma"]] for r in samplers]
    return Section(
        "Samplers against the exact marginal (002 §2)",
        [f"Model {_names(model.to_dict())}. The same analysis as the network's, with Δ = q − <q>; the fitted theory "
         f"should recover s = α/2β = {expected['s']:.3g} and σ = (αλq)^(-1/2) = {expected['sigma']:.3g}."],
        [Table(["method", "<(q-q̄)²>", "s.e.", "exact", "z", "KS", "τ (steps)", "R̂", "chain-steps/s", "reliable",
                "fitted s", "fitted σ"], rows)],
        [Figure(sampler_figure(model, samplers, figures_dir / "samplers.png"),
                "Exact, Metropolis–Hastings and two-timescale Langevin samples of q against the exact p(q).")])
