"""The verdicts on 003's plasticity-phase claims, from the per-snapshot summaries of the Hessian instruments.

One function per claim, each returning ``{"id", "claim", "verdict", "numbers", "test"}`` with ``verdict``
one of supported / not supported / inconclusive; :func:`verdicts` runs them all on one network. The
plasticity protocol (:mod:`statmech_nn.experiments.plasticity`) and the planted truths
(:mod:`statmech_nn.compare.planted.hessian_truths`, analysis ``"plasticity"``) call the same functions, so the
calibration measures what a user gets. The ids:

- **P1** symmetric Hessian spectrum throughout training (003 Fig. 8a);
- **P2** the entries' means concentrate on 0: frac(|t| < 0.15) ≥ 0.95 (003 Fig. 7b) under the bootstrap-t
  reading; **P3** the same under the effect reading (:mod:`statmech_nn.observables.hessian_entries` derives
  both readings and their values under the null, every mean 0). A reading whose null value is below the
  threshold cannot show the claim even when it holds exactly: the verdict says "inconclusive" and why
  (``numbers.reachable`` is false). Otherwise each snapshot's fraction f over N entries gets a Wilson
  interval at one-sided level 0.025/k (Bonferroni over k snapshots): "supported" when every lower bound is
  ≥ the threshold, "not supported" when some upper bound is below it, else "inconclusive". The rise over
  training (003: "up to around 98 %") is reported (last − first ± its standard error), not judged;
- **P4** correlations among entries sparse and growing denser over training (003 Figs. 6b,c, 7c): the share
  of per-example correlations not distinguishable from 0 (independent of the bootstrap) ≥ ``min_sparsity``
  at every snapshot, and the mean per-entry share of non-zero partners higher at the last snapshot than at
  the first by a Welch z > 2.58 over the k subset entries; "not supported" when some snapshot is dense or
  the share falls by z < −2.58;
- **P5** η·OP = η‖∇R‖² falls with the risk, about an order of magnitude below it (003 eq. (15), Fig. 4b):
  on the ≥ ``min_op_snapshots`` snapshots with R > 0, one-sided Spearman p(ρ > 0) < ``op_alpha`` with
  ρ ≥ ``min_op_risk_rank_correlation`` and the median η·OP/R in ``op_ratio_band``; "not supported" when the
  median ratio is outside the band or p(ρ < 0) < ``op_alpha``; fewer snapshots → "inconclusive" (a rank
  correlation on 5 points cannot be significant: ρ = 0.7 at n = 5 has two-sided p ≈ 0.23);
- **P6** the risk goes to zero (003 Fig. 8b).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

DEFAULT_ACCEPTANCE = {
    "max_asymmetry": 0.2,            # ∫|ρ(λ) − ρ(−λ)| dλ of the broadened density (0 … 2)
    "max_negative_mass_offset": 0.05,  # |negative mass − 0.5|
    "max_abs_skewness": 0.3,         # |tr H³/(tr H²)^{3/2}|
    "min_t_fraction": 0.95,          # 003 Fig. 7b
    "min_sparsity": 0.5,             # at least half the correlations indistinguishable from 0
    "op_ratio_band": [0.03, 0.3],    # η·OP/R "about an order of magnitude below" the risk (003 Fig. 4b)
    "min_op_risk_rank_correlation": 0.5,
    "min_op_snapshots": 10,          # fewer snapshots with R > 0: P5 is inconclusive
    "op_alpha": 0.01,                # one-sided level of the Spearman test of P5 (0.05 gave 5 % wrong on no trend)
    "max_final_risk": 0.01,          # risk → 0
    "min_live_entries": 30,          # fewer entries with a t: the entry claims are inconclusive
}
FRACTION_LEVEL = 0.05                # two-sided level of the per-snapshot Wilson intervals of P2, P3
TREND_Z = 2.5758293035489004         # |z| of the density trend of P4 (one-sided 0.005: at 1.96, two or three
                                     # false Benjamini-Hochberg pairs at the last snapshot read as a rise)
READINGS = {  # id: (summary key of the fraction, of its null value, of its band, the reading in words)
    "P2": ("frac_t_below_0_15", "frac_t_null", "frac_t_below_0_15_band",
           "bootstrap t = mean/std of the replicate means"),
    "P3": ("frac_effect_below_0_15", "frac_effect_null", "frac_effect_below_0_15_band",
           "each entry over the spread of its per-example contributions"),
}


def _verdict(verdict_id: str, status: str, claim: str, numbers: dict, test: str) -> dict:
    return {"id": verdict_id, "claim": claim, "verdict": status, "numbers": numbers, "test": test}


def _finite(values):
    return [v for v in values if v is not None and np.isfinite(v)]


def wilson_bounds(fraction: float, count: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``fraction`` over ``count`` trials at normal quantile ``z``."""
    centre = (fraction + z * z / (2 * count)) / (1 + z * z / count)
    half = z * np.sqrt(fraction * (1 - fraction) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def spectrum_verdict(summaries: list[dict], epochs: list[int], a: dict) -> dict:
    """P1: the spectrum is symmetric at every snapshot (or H = 0)."""
    claim = "symmetric Hessian spectrum throughout training (Fig. 8a)"

    def pick(key):
        return [x.get(f"exact_{key}", x.get(key)) for x in summaries]

    asym, negative, skew = pick("asymmetry"), pick("negative_mass"), pick("skewness")
    if len(_finite(asym)) < len(summaries):
        return _verdict("P1", "inconclusive", claim, {"asymmetry": asym}, "no spectrum at some snapshot")
    vanishing = [x.get("exact_lambda_min", x["lambda_min"]) == x.get("exact_lambda_max", x["lambda_max"]) == 0
                 for x in summaries]   # H = 0 (zero risk): symmetric, with no skewness to speak of
    ok = [v or (x <= a["max_asymmetry"] and abs(n - 0.5) <= a["max_negative_mass_offset"]
                and abs(k) <= a["max_abs_skewness"]) for v, x, n, k in zip(vanishing, asym, negative, skew)]
    return _verdict("P1", "supported" if all(ok) else "not supported", claim,
                    {"epochs": epochs, "asymmetry": asym, "negative_mass": negative, "skewness": skew,
                     "zero_hessian_epochs": [e for e, v in zip(epochs, vanishing) if v]},
                    f"every snapshot: ∫|ρ(λ)−ρ(−λ)| ≤ {a['max_asymmetry']}, |negative mass − 0.5| ≤ "
                    f"{a['max_negative_mass_offset']}, |skewness| ≤ {a['max_abs_skewness']} (exact spectrum "
                    "where computed, else SLQ), or H = 0")


def live_snapshots(summaries: list[dict], epochs: list[int], a: dict) -> tuple[list[int], list[int], str]:
    """Indices of the snapshots with at least ``min_live_entries`` entries with a t, their live counts, and
    the sentence saying which were left out and why."""
    live = [x["entries"] - x["structural_zero_entries"] if x.get("entries") else 0 for x in summaries]
    used = [i for i, n in enumerate(live) if n >= max(1, a["min_live_entries"])]
    excluded = [epochs[i] for i in range(len(summaries)) if i not in used]
    why = (f"snapshots with fewer than {a['min_live_entries']} sampled entries with a t are left out (epochs "
           f"{excluded}: near zero risk most per-example contributions vanish, at zero risk H = 0)")
    return used, live, why


def fraction_verdict(verdict_id: str, summaries: list[dict], epochs: list[int], a: dict) -> dict:
    """P2 / P3: frac(|x| < 0.15) ≥ ``min_t_fraction`` at every snapshot under one reading (module docstring)."""
    key, null_key, band_key, reading = READINGS[verdict_id]
    threshold = a["min_t_fraction"]
    claim = f"entry means concentrate on 0: frac(|t| < 0.15) ≥ {threshold} throughout training (Fig. 7b); " \
            f"reading: {reading}"
    used, live, why = live_snapshots(summaries, epochs, a)
    if len(used) < 2:
        return _verdict(verdict_id, "inconclusive", claim, {"live_entries": live}, why + "; fewer than 2 remain")
    values = [summaries[i][key] for i in used]
    counts = [live[i] for i in used]
    nulls = [summaries[i][null_key] for i in used]
    numbers = {"epochs": [epochs[i] for i in used], "fraction": values,
               "band": [summaries[i].get(band_key) for i in used], "live_entries": counts,
               "threshold": threshold, "null_fraction": nulls, "reachable": min(nulls) >= threshold,
               "rise": values[-1] - values[0],
               "rise_se": float(np.sqrt(sum(f * (1 - f) / n for f, n in ((values[0], counts[0]),
                                                                          (values[-1], counts[-1]))))),
               "excluded_epochs": [e for i, e in enumerate(epochs) if i not in used]}
    if not numbers["reachable"]:
        return _verdict(verdict_id, "inconclusive", claim, numbers,
                        f"unreachable under this reading: with every entry's mean exactly 0 the expected fraction "
                        f"is {min(nulls):.3g} < {threshold} (the null value), so no network can show the claim "
                        f"this way; {why}")
    z = stats.norm.isf(FRACTION_LEVEL / 2 / len(used))
    bounds = [wilson_bounds(f, n, z) for f, n in zip(values, counts)]
    numbers["intervals"] = bounds
    status = ("supported" if all(low >= threshold for low, _ in bounds) else
              "not supported" if any(high < threshold for _, high in bounds) else "inconclusive")
    return _verdict(verdict_id, status, claim, numbers,
                    f"per snapshot a Wilson interval of the fraction over its N entries at level "
                    f"{FRACTION_LEVEL / 2:.3g}/{len(used)} each side: supported when every lower bound ≥ "
                    f"{threshold}, not supported when some upper bound < {threshold}; value under the null "
                    f"(every mean 0) {min(nulls):.3g}; the rise over training is reported, not judged; {why}")


def sparsity_verdict(summaries: list[dict], epochs: list[int], a: dict) -> dict:
    """P4: sparse per-example correlations at every snapshot, denser at the last (module docstring)."""
    claim = "correlations among Hessian entries sparse, growing denser over training (Figs. 6b,c, 7c)"
    used, _, why = live_snapshots(summaries, epochs, a)
    sparsity = [summaries[i].get("correlation_sparsity") for i in used]
    if len(used) < 2 or len(_finite(sparsity)) < len(used):
        return _verdict("P4", "inconclusive", claim, {"sparsity": sparsity}, why + "; fewer than 2 remain")
    first, last = summaries[used[0]], summaries[used[-1]]
    spread = np.hypot(first["correlation_degree_std"] / np.sqrt(first["correlation_subset"]),
                      last["correlation_degree_std"] / np.sqrt(last["correlation_subset"]))
    change = last["correlation_degree_mean"] - first["correlation_degree_mean"]
    z = float(change / spread) if spread > 0 else (0.0 if change == 0 else float(np.sign(change) * np.inf))
    sparse = all(v >= a["min_sparsity"] for v in sparsity)
    status = ("supported" if sparse and z > TREND_Z else
              "not supported" if not sparse or z < -TREND_Z else "inconclusive")
    return _verdict("P4", status, claim,
                    {"epochs": [epochs[i] for i in used], "sparsity": sparsity, "threshold": a["min_sparsity"],
                     "null_sparsity": 1.0, "density_change": change, "density_change_z": z,
                     "examples": [summaries[i].get("n_examples") for i in used],
                     "coupling_alpha": [summaries[i].get("coupling_alpha") for i in used],
                     "excluded_epochs": [e for i, e in enumerate(epochs) if i not in used]},
                    f"sparsity = share of per-example correlations over the n examples not distinguishable from 0 "
                    f"(Fisher z with √(n − 3), BH at q = 0.05; independent of the bootstrap; value under the null "
                    f"of independent entries 1, BH calling any pair non-zero with probability ≤ 0.05) ≥ "
                    f"{a['min_sparsity']} at every snapshot, and the per-entry share of non-zero partners higher "
                    f"at the last than at the first (Welch z > {TREND_Z:.2f}); not supported when some snapshot is "
                    f"below {a['min_sparsity']} or z < −{TREND_Z:.2f}; {why}")


def order_parameter_verdict(epochs: list[int], risk, eta_op, a: dict) -> dict:
    """P5: η·OP falls with the risk, about an order of magnitude below it (module docstring)."""
    claim = ("order parameter η·OP = η‖∇R‖² falls with the risk, about an order of magnitude below it "
             "(eq. (15), Fig. 4b)")
    risk, eta_op = np.asarray(risk, dtype=float), np.asarray(eta_op, dtype=float)
    keep = (risk > 0) & np.isfinite(risk) & np.isfinite(eta_op)
    count, needed = int(keep.sum()), int(a["min_op_snapshots"])
    low, high = a["op_ratio_band"]
    numbers = {"epochs": list(epochs), "risk": risk.tolist(), "eta_op": eta_op.tolist(), "snapshots_used": count,
               "min_snapshots": needed}
    if count < needed or np.ptp(risk[keep]) == 0:
        return _verdict("P5", "inconclusive", claim, numbers,
                        f"{count} snapshots with R > 0, fewer than {needed} (or a constant risk): a rank correlation "
                        f"on so few points cannot be judged (ρ = 0.7 at n = 5 has two-sided p ≈ 0.23); add "
                        f"snapshot epochs")
    rho = float(stats.spearmanr(eta_op[keep], risk[keep]).statistic)
    p_up = float(stats.spearmanr(eta_op[keep], risk[keep], alternative="greater").pvalue)
    p_down = float(stats.spearmanr(eta_op[keep], risk[keep], alternative="less").pvalue)
    median = float(np.median(eta_op[keep] / risk[keep]))
    numbers.update({"median_ratio": median, "ratio_band": [low, high], "spearman": rho, "p_value": p_up,
                    "min_spearman": a["min_op_risk_rank_correlation"], "alpha": a["op_alpha"]})
    in_band = low <= median <= high
    status = ("supported" if in_band and p_up < a["op_alpha"] and rho >= a["min_op_risk_rank_correlation"] else
              "not supported" if not in_band or p_down < a["op_alpha"] else "inconclusive")
    return _verdict("P5", status, claim, numbers,
                    f"on the {count} snapshots with R > 0: one-sided Spearman p(ρ > 0) < {a['op_alpha']} with ρ ≥ "
                    f"{a['min_op_risk_rank_correlation']} and median η·OP/R in [{low}, {high}]; not supported when "
                    f"the median is outside the band or p(ρ < 0) < {a['op_alpha']} (under no relation p is uniform: "
                    f"p < {a['op_alpha']} in {a['op_alpha']:.0%} of series)")


def risk_verdict(metrics: dict, a: dict) -> dict:
    """P6: the training risk goes to zero."""
    losses = metrics["columns"]["train_loss"]
    accuracy = metrics["columns"]["train_accuracy"]
    final, first = losses[-1], losses[0]
    status = ("supported" if final <= a["max_final_risk"] else
              "inconclusive" if final <= 0.1 * first else "not supported")
    return _verdict("P6", status, "the risk goes to zero (Fig. 8b)",
                    {"first_epoch_risk": first, "final_risk": final, "final_train_accuracy": accuracy[-1]},
                    f"final training risk ≤ {a['max_final_risk']}; inconclusive when it fell tenfold but not that "
                    "far")


def entry_verdicts(summaries: list[dict], epochs: list[int], a: dict) -> list[dict]:
    """P2, P3, P4 from the per-snapshot entry statistics."""
    return [fraction_verdict("P2", summaries, epochs, a), fraction_verdict("P3", summaries, epochs, a),
            sparsity_verdict(summaries, epochs, a)]


def verdicts(snapshots: list[dict], metrics: dict, acceptance: dict) -> list[dict]:
    """003's claims about one main network (P1 … P6), each supported / not supported / inconclusive."""
    summaries = [row["summary"] for row in snapshots]
    epochs = [row["epoch"] for row in snapshots]
    return [spectrum_verdict(summaries, epochs, acceptance), *entry_verdicts(summaries, epochs, acceptance),
            order_parameter_verdict(epochs, [x["loss"] for x in summaries], [x["eta_op"] for x in summaries],
                                    acceptance),
            risk_verdict(metrics, acceptance)]


def control_answers(snapshots: list[dict]) -> dict:
    """The control's spectrum: the Gauss–Newton term of cross-entropy should push its skewness and mass positive."""
    s = [row["summary"] for row in snapshots]
    skew = [x.get("exact_skewness", x.get("skewness")) for x in s]
    negative = [x.get("exact_negative_mass", x.get("negative_mass")) for x in s]
    return {"epochs": [row["epoch"] for row in snapshots], "skewness": skew, "negative_mass": negative,
            "skewed_positive": all(k is not None and k > 0 for k in skew[1:] or skew)}
