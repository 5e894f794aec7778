"""The main job, ``statmech-nn validate``: theory and experiment through one comparison layer, in one report.

Stages, each writing into the output directory (a run directory itself: ``run.json`` re-runs it):

1. ``network/``: train per the spec (002 §5: batch-1 SGD with L2 to equilibrium, then track K weights every
   step); an interrupted run resumes from its checkpoints when the same command is run again;
2. ``network/probes/``: probe the frozen network (002 Fig. 1, 001's activation observables);
3. ``network/analysis/``: every observable and theory fit of the weight trajectory (``analyze``);
4. ``samplers/<method>/``: the quartic toy model sampled exactly, by Metropolis–Hastings and by two-timescale
   Langevin dynamics, each analyzed by the same code;
5. the source documents' claims (``statmech-nn check``);
6. ``report.html`` and ``summary.json``: the verdicts of the spec's acceptance criteria and the answers.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from ..compare.claims import run_claims
from ..io import RunDirectory, read_json, write_json
from ..report.analysis import AnalysisOptions, analyze_run
from ..report.validation import write_validation_report
from .network import probe_network, train_network
from .samplers import expected_theory, run_samplers
from .spec import ExperimentSpec

SUMMARY_FILE = "summary.json"


@contextmanager
def _stage(timings: dict, name: str, progress: bool):
    if progress:
        print(f"[validate] {name} ...", flush=True)
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started


def network_answers(fits: list[dict]) -> dict:
    """What the weight fluctuations say: the power law, its width, and whether the theory beats the alternatives."""
    ok = [row for row in fits if row["status"] == "ok"]

    def median(key, rows=ok):
        values = [row[key] for row in rows if row.get(key) is not None and np.isfinite(row[key])]
        return float(np.median(values)) if values else None

    def preferred(alternative):
        values = [row.get(f"{alternative}_delta_aic") for row in fits]
        return int(sum(v is not None and v > 0 for v in values))

    return {"weights": len(fits), "weights_fit_ok": len(ok),
            "median_exponent_2s": median("exponent"), "median_decades_u_lambert": median("decades"),
            "median_decades_u_slope": median("decades_slope"),
            "median_decades_abs_delta_slope": None if median("decades_slope") is None else median("decades_slope") / 2,
            "theory_beats_gaussian": preferred("gaussian"), "theory_beats_student_t": preferred("student_t"),
            "theory_beats_power_law": preferred("power_law")}


def _acceptance(spec: ExperimentSpec, training, samplers, outcomes) -> list[dict]:
    a = spec.acceptance
    checks = [{"criterion": f"test accuracy >= {a.min_test_accuracy}", "value": training.final_test_accuracy,
               "passed": training.final_test_accuracy >= a.min_test_accuracy}]
    if a.require_equilibrium:
        checks.append({"criterion": "equilibrium reached before tracking (test loss flat, gap not growing)",
                       "value": training.equilibrium_epoch, "passed": bool(training.equilibrium_reached)})
    for result in samplers:
        checks.append({"criterion": f"{result.method}: |<(q-q̄)²> - exact| <= {a.max_sampler_z} standard errors",
                       "value": result.z_score, "passed": bool(abs(result.z_score) <= a.max_sampler_z)})
    if a.require_claims:
        unexpected = [o.claim.id for o in outcomes if not o.as_expected]
        checks.append({"criterion": "every claim of statmech-nn check has its documented verdict",
                       "value": ", ".join(unexpected) or "all", "passed": not unexpected})
    return checks


def run_validation(spec: ExperimentSpec, out, *, data_dir=None, device=None, progress: bool = True,
                   command: list[str] | None = None) -> dict:
    """Run every stage of ``spec`` into ``out``; returns (and writes) the summary."""
    root = RunDirectory(out).create()
    root.write_run_info(command=command or ["statmech-nn", "validate", spec.path, "--out", str(out)],
                        parameters=spec.to_dict(), seed=spec.training.get("seed", 0),
                        device=device or spec.training.get("device", "auto"), data_dir=data_dir)
    network_dir = root.path / "network"
    timings: dict[str, float] = {}
    with _stage(timings, "train", progress):
        training = train_network(spec, network_dir, data_dir=data_dir, device=device, progress=progress)
    with _stage(timings, "probe", progress):
        probed = probe_network(spec, network_dir, network_dir / "probes")
    with _stage(timings, "analyze", progress):
        analysis = analyze_run(network_dir, network_dir / "analysis", AnalysisOptions(**spec.analysis), progress=progress)
    fits = read_json(network_dir / "analysis" / "fits.json")["columns"]
    with _stage(timings, "samplers", progress):
        model, samplers = run_samplers(spec, root.path / "samplers", progress=progress)
    with _stage(timings, "claims", progress):
        outcomes = run_claims()
    checks = _acceptance(spec, training, samplers, outcomes)
    summary = {
        "spec": spec.name, "out": str(root.path), "passed": all(c["passed"] for c in checks), "acceptance": checks,
        "training": training.summary(), "answers": network_answers(fits), "network_analysis": analysis,
        "probe": probed.summary(),
        "samplers": {r.method: {**r.summary, "z_score": r.z_score, "recovered": r.recovered} for r in samplers},
        "sampler_model": model.to_dict(), "sampler_expected_theory": expected_theory(model),
        "claims": {"total": len(outcomes), "as_expected": sum(o.as_expected for o in outcomes),
                   "verdicts": {o.claim.id: o.status for o in outcomes}},
        "timings_s": timings,
    }
    with _stage(timings, "report", progress):
        write_validation_report(root.report, spec=spec, summary=summary, fits=fits, probed=probed, model=model,
                                samplers=samplers, outcomes=outcomes, network_dir=network_dir)
    summary["timings_s"] = {**timings, "total": sum(timings.values())}
    write_json(root.path / SUMMARY_FILE, summary)
    return summary
