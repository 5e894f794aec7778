"""The JSON summary of a sampler run: ⟨(q - q̄)²⟩ with its error, KS distance to the exact marginal, diagnostics.

For K trainable variables the observable is s = |q - q̄|²/K per sample ((q - q̄)² when K = 1); its standard
error is √(Var s / ESS_s) with ESS_s from s's own autocorrelation time. τ, ESS and R̂ are reported for q
and for x separately, each the worst over components (largest τ and R̂, smallest ESS), τ in sampler
steps. ``converged`` is False when a chain is shorter than 50 τ or R̂ > 1.01 for q, s or x.

With an exact reference (the quartic toy model's marginal, the linearized network's quadrature for
K ≤ 3) a run is also checked for bias (issue 10 item 8), each check at level ``BIAS_LEVEL`` = 10⁻⁴:

- z = (⟨s⟩ − exact)/s.e.: biased when |z| > Φ⁻¹(1 − level/2) = 3.89 (``q2_z_critical``);
- the largest KS distance D of a component's pooled samples to its exact CDF against its noise level:
  for ESS independent samples √ESS·D follows Kolmogorov's distribution, so D is too large when
  D > K⁻¹(1 − level)/√ESS_q + resolution = 2.23/√ESS_q + resolution (``ks_critical``; ESS_q the smallest
  over components, the resolution that of the tabulated CDF, see ``ks_distance``).

``reliable`` = converged and (no reference, or neither check fails); the reasons are in ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import ndtri
from scipy.stats import kstwobign

from .chains import ChainRun
from .diagnostics import ChainDiagnostics, diagnose, ks_distance

KS_NULL_MEAN = 0.8687  # E[√n D_n] for independent samples (Kolmogorov distribution mean, √(π/2) ln 2)
BIAS_LEVEL = 1e-4      # false-alarm probability of each bias check for an unbiased sampler
Z_CRITICAL = float(ndtri(1.0 - BIAS_LEVEL / 2.0))
KS_CRITICAL = float(kstwobign.isf(BIAS_LEVEL))


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
        "unbiased": None,
        **_worst(q_diag, "q"),
        "tau_q2": s_diag.tau_steps, "ess_q2": s_diag.ess, "rhat_q2": s_diag.rhat,
        **_worst(x_diag, "x"),
        "chain_steps_per_s": run.chain_steps_per_s,
        "elapsed_s": run.elapsed_s,
        **run.length.to_dict(),
        **run.settings,
        **run.stats,
    }
    problems = [f"{name}: {d.message}" for name, group in (("q", q_diag), ("q2", [s_diag]), ("x", x_diag))
                for d in group if not d.reliable]
    payload["converged"] = not problems
    if reference is not None:
        fields, bias = _against_reference(payload, q, reference)
        payload.update(fields, unbiased=not bias)
        problems += bias
    payload["reliable"] = not problems
    payload["warnings"] = sorted(set(problems))
    return payload


def _against_reference(payload: dict, q: np.ndarray, reference: Reference) -> tuple[dict, list[str]]:
    """z of ⟨s⟩ and the KS distance against the exact law with their critical values; the failed checks."""
    exact = float(np.mean(reference.q2))
    sem = payload["q2_sem"]
    distances = [ks_distance(q[:, :, k], cdf) for k, cdf in enumerate(reference.cdfs)]
    z = (payload["q2_mean"] - exact) / sem if sem > 0 else float("inf")
    ks, resolution = max(d for d, _ in distances), max(r for _, r in distances)
    ks_critical = KS_CRITICAL / np.sqrt(payload["ess_q"]) + resolution
    warnings = []
    if not abs(z) <= Z_CRITICAL:
        warnings.append(f"bias: <(q - q_bar)^2> = {payload['q2_mean']:.5g} against the exact {exact:.5g} "
                        f"(z = {z:.3g}, |z| > {Z_CRITICAL:.3g} at level {BIAS_LEVEL:g})")
    if not ks <= ks_critical:
        warnings.append(f"bias: KS distance to the exact marginal {ks:.3g} > {ks_critical:.3g} "
                        f"= {KS_CRITICAL:.3g}/sqrt(ESS) + resolution (level {BIAS_LEVEL:g})")
    return {"q2_exact": exact, "q2_z": z, "q2_z_critical": Z_CRITICAL, "ks_vs_exact": ks,
            "ks_resolution": resolution, "ks_noise": KS_NULL_MEAN / np.sqrt(payload["ess_q"]),
            "ks_critical": float(ks_critical), "bias_level": BIAS_LEVEL}, warnings
