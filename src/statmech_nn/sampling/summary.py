"""The JSON summary of a sampler run: ⟨(q - q̄)²⟩ with its error, KS distance to the exact marginal, diagnostics.

For K trainable variables the observable is s = |q - q̄|²/K per sample ((q - q̄)² when K = 1); its standard
error is √(Var s / ESS_s) with ESS_s from s's own autocorrelation time. τ, ESS and R̂ are reported for q
and for x separately, each the worst over components (largest τ and R̂, smallest ESS), τ in sampler
steps. ``reliable`` is False, with the reasons in ``warnings``, when a chain is shorter than 50 τ or
R̂ > 1.01 for q, s or x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .chains import ChainRun
from .diagnostics import ChainDiagnostics, diagnose, ks_distance

KS_NULL_MEAN = 0.8687  # E[√n D_n] for independent samples (Kolmogorov distribution mean, √(π/2) ln 2)


@dataclass(frozen=True)
class Reference:
    """Exact answers to compare with: ⟨(q_k - q̄_k)²⟩ and the marginal CDF of each component."""

    q2: Sequence[float]
    cdfs: Sequence[Callable[[np.ndarray], np.ndarray]]


def _worst(diagnostics: list[ChainDiagnostics], prefix: str) -> dict:
    return {f"tau_{prefix}": max(d.tau_steps for d in diagnostics),
            f"ess_{prefix}": min(d.ess for d in diagnostics),
            f"rhat_{prefix}": max(d.rhat for d in diagnostics)}


def summarize(run: ChainRun, q_bar, reference: Reference | None = None) -> dict:
    """The summary dictionary (see the module docstring); ``reference`` adds the comparison with exact values."""
    q = run.q
    q_bar = np.broadcast_to(np.asarray(q_bar, float), (q.shape[2],))
    thin = run.length.thin
    deviation2 = (q - q_bar) ** 2
    s = deviation2.mean(axis=2)
    s_diag = diagnose(s, thin)
    q_diag = [diagnose(q[:, :, k], thin) for k in range(q.shape[2])]
    x_diag = [diagnose(run.x[:, :, n], thin) for n in range(run.x.shape[2])]
    sem = float(np.sqrt(s.var(ddof=1) / s_diag.ess))
    payload = {
        "method": run.method,
        "q2_mean": float(s.mean()),
        "q2_sem": sem,
        "q2_mean_per_component": deviation2.mean(axis=(0, 1)).tolist(),
        "ks_vs_exact": None,
        **_worst(q_diag, "q"),
        "tau_q2": s_diag.tau_steps, "ess_q2": s_diag.ess, "rhat_q2": s_diag.rhat,
        **_worst(x_diag, "x"),
        "chain_steps_per_s": run.chain_steps_per_s,
        "elapsed_s": run.elapsed_s,
        **run.length.to_dict(),
        **run.settings,
        **run.stats,
    }
    if reference is not None:
        exact = float(np.mean(reference.q2))
        distances = [ks_distance(q[:, :, k], cdf) for k, cdf in enumerate(reference.cdfs)]
        payload.update({
            "q2_exact": exact,
            "q2_z": (payload["q2_mean"] - exact) / sem if sem > 0 else float("inf"),
            "ks_vs_exact": max(d for d, _ in distances),
            "ks_resolution": max(r for _, r in distances),
            "ks_noise": KS_NULL_MEAN / np.sqrt(payload["ess_q"]),
        })
    problems = [f"{name}: {d.message}" for name, group in (("q", q_diag), ("q2", [s_diag]), ("x", x_diag))
                for d in group if not d.reliable]
    payload["reliable"] = not problems
    payload["warnings"] = sorted(set(problems))
    return payload
