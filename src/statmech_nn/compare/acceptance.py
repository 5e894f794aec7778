"""What ``statmech-nn validate`` judges, in one place: the machinery's acceptance rules, the probe's Q5 and the
per-weight preference between the theory and each alternative that its report shows.

The acceptance rules say whether the pipeline worked (not whether the physics holds; that is the verdicts'):

- the trained network reaches the spec's test accuracy (``min_test_accuracy``);
- with ``require_equilibrium``, training reached equilibrium before tracking (002 §5);
- every sampler's ⟨(q - q̄)²⟩ lies within ``max_sampler_z`` standard errors of the exact marginal's
  (:func:`sampler_z_score`);
- with ``require_claims``, every claim of ``statmech-nn check`` has its documented verdict.

:func:`acceptance` takes only the numbers the run saved (``summary.json`` holds them), so a saved run can be
judged again under other criteria without running its stages. :func:`with_probe_verdict` puts the probe's
bimodality test in the place of the analysis's Q5 (002 Fig. 1 is about the frozen network's outputs).
:func:`preference` says which of the theory and an alternative one weight's fits prefer (AIC, never for a theory
that does not describe its data: :func:`~statmech_nn.compare.verdicts.theory_preferred`).
"""

from __future__ import annotations

import numpy as np

from .verdicts import Verdict, bimodality_verdict, theory_preferred


def sampler_z_score(summary: dict) -> float:
    """(⟨(q - q̄)²⟩ - exact) / standard error of a sampler run's summary (``q2_mean``, ``q2_exact``, ``q2_sem``)."""
    return (summary["q2_mean"] - summary["q2_exact"]) / summary["q2_sem"]


def acceptance(criteria, training, samplers, outcomes) -> list[dict]:
    """One ``{criterion, value, passed}`` row per rule of ``criteria`` (the spec's ``[acceptance]`` table).

    ``training``: ``final_test_accuracy``, ``equilibrium_epoch``, ``equilibrium_reached``, ``equilibrium_criterion``
    (:class:`~statmech_nn.networks.training.TrainResult`'s names); ``samplers``: each
    with ``method`` and ``z_score``; ``outcomes``: the claims' outcomes (``claim.id``, ``as_expected``)."""
    checks = [{"criterion": f"test accuracy >= {criteria.min_test_accuracy}", "value": training.final_test_accuracy,
               "passed": training.final_test_accuracy >= criteria.min_test_accuracy}]
    if criteria.require_equilibrium:
        used = training.equilibrium_criterion
        checks.append({"criterion": f"equilibrium reached before tracking (criterion '{used}': metrics.json, "
                                    "'equilibrium')",
                       "value": training.equilibrium_epoch, "passed": bool(training.equilibrium_reached)})
    for result in samplers:
        checks.append({"criterion": f"{result.method}: |<(q-q̄)²> - exact| <= {criteria.max_sampler_z} standard errors",
                       "value": result.z_score, "passed": bool(abs(result.z_score) <= criteria.max_sampler_z)})
    if criteria.require_claims:
        unexpected = [o.claim.id for o in outcomes if not o.as_expected]
        checks.append({"criterion": "every claim of statmech-nn check has its documented verdict",
                       "value": ", ".join(unexpected) or "all", "passed": not unexpected})
    return checks


def passed(checks: list[dict]) -> bool:
    """Whether every acceptance rule holds."""
    return all(check["passed"] for check in checks)


def claims_as_expected(outcomes) -> bool:
    """Whether every claim check (:func:`statmech_nn.compare.claims.run_claims`) came out as its file expects
    (003's plasticity protocol passes on this)."""
    return all(outcome.as_expected for outcome in outcomes)


def with_probe_verdict(verdicts: list[Verdict], probe_summary: dict, what: str) -> list[Verdict]:
    """``verdicts`` with Q5 judged on the probe's outputs (``neurons_bimodal`` of ``neurons_tested``)."""
    q5 = bimodality_verdict(probe_summary["neurons_bimodal"], probe_summary["neurons_tested"], what)
    return [q5 if verdict.id == "Q5" else verdict for verdict in verdicts]


def preference(row: dict, alternative: str) -> str:
    """AIC's preference between the theory and ``alternative`` in one weight's fit ``row`` (``theory preferred``,
    ``alternative preferred``, ``theory by AIC, poor fit``, or ``–`` where they were not compared), never
    "theory preferred" for a fit that does not describe its data."""
    delta = row.get(f"{alternative}_delta_aic")
    if delta is None or not np.isfinite(delta):
        return "–"
    if theory_preferred(row, alternative):
        return "theory preferred"
    return "alternative preferred" if delta <= 0 else "theory by AIC, poor fit"
