"""The main job, ``statmech-nn validate``: theory and experiment through one comparison layer, in one report.

Stages, each writing into the output directory (a run directory itself: ``run.json`` re-runs it):

1. ``network/``: train per the spec (002 §5: batch-1 SGD with L2 to equilibrium, then track K weights every
   step); an interrupted run resumes from its checkpoints when the same command is run again;
2. ``network/probes/``: probe the frozen network (002 Fig. 1, 001's activation observables);
3. ``network/analysis/``: every observable and theory fit of the weight trajectory (``analyze``);
4. ``samplers/<method>/``: the quartic toy model sampled exactly, by Metropolis–Hastings and by two-timescale
   Langevin dynamics, each analyzed by the same code;
5. the source documents' claims (``statmech-nn check``) when the spec requires them
   (``[acceptance] require_claims``), on the cores in parallel and through the claims cache (a claim
   measured before by this version is not run again); a spec that does not require them runs none;
6. ``report.html`` and ``summary.json``: the verdicts on the sources' questions (``verdicts``: Q1-Q6 of
   :mod:`statmech_nn.compare.verdicts`, Q5 from the probe), the headline numbers (``answers``) and,
   separately, whether the machinery worked (``acceptance``, ``passed``). Every judgement is
   :mod:`statmech_nn.compare`'s (:mod:`~statmech_nn.compare.acceptance`); this module only runs the stages.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from ..compare.acceptance import acceptance, passed, with_probe_verdict
from ..compare.claims import run_claims
from ..io import SUMMARY_FILE, write_json
from ..runs.directory import RunDirectory
from ..report.analysis_figures import AnalysisOptions, analyze
from ..report.validation import write_validation_report
from .network import probe_network, train_network
from .samplers import run_samplers
from .spec import ExperimentSpec


PROBED_OUTPUTS = "pre-activations x = w·input + b of sampled second-hidden-layer units of the frozen network"


@contextmanager
def _stage(timings: dict, name: str, progress: bool):
    if progress:
        print(f"[validate] {name} ...", flush=True)
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started


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
        analysis = analyze(network_dir, AnalysisOptions(**spec.analysis), progress=progress)
        network_summary = analysis.save(network_dir / "analysis")
    verdicts = with_probe_verdict(analysis.verdicts(), probed.summary(), PROBED_OUTPUTS)
    with _stage(timings, "samplers", progress):
        model, samplers = run_samplers(spec, root.path / "samplers", progress=progress)
    with _stage(timings, "claims", progress):
        outcomes = run_claims(workers=os.cpu_count() or 1, cache=True) if spec.acceptance.require_claims else []
    checks = acceptance(spec.acceptance, training, samplers, outcomes)
    summary = {
        "spec": spec.name, "out": str(root.path), "passed": passed(checks), "acceptance": checks,
        "verdicts": [v.to_dict() for v in verdicts],
        "training": training.summary(), "answers": analysis.headline(), "network_analysis": network_summary,
        "probe": probed.summary(),
        "samplers": {r.method: {**r.summary, "z_score": r.z_score, "recovered": r.recovered} for r in samplers},
        "sampler_model": model.to_dict(), "sampler_expected_theory": model.fluctuation_law_parameters(),
        "claims": {"total": len(outcomes), "as_expected": sum(o.as_expected for o in outcomes),
                   "verdicts": {o.claim.id: o.status for o in outcomes}},
        "timings_s": timings,
    }
    with _stage(timings, "report", progress):
        write_validation_report(root.report, spec=spec, summary=summary, analysis=analysis, probed=probed, model=model,
                                samplers=samplers, outcomes=outcomes, network_dir=network_dir)
    summary["timings_s"] = {**timings, "total": sum(timings.values())}
    write_json(root.path / SUMMARY_FILE, summary)
    return summary
