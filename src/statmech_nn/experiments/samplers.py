"""The sampler half of the main job: the quartic toy model sampled three ways, through the network's instruments.

Each method's samples are written as a run directory (the shared Trajectory) and analyzed by the same
:func:`statmech_nn.report.analysis_figures.analyze` as the network, with fluctuations taken about the
run's mean (q - q̄ of 002 eq. (6), the equilibrium fluctuation). Against the exact marginal: ⟨(q - q̄)²⟩
in standard errors of the effective sample size (:func:`statmech_nn.compare.acceptance.sampler_z_score`), and the
KS distance; against the model's own parameters: the (c, s, σ) that the theory fit recovers from the samples
(predicted by :meth:`~statmech_nn.quartic.model.QuarticModel.fluctuation_law_parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compare.acceptance import sampler_z_score
from ..io import Trajectory
from ..runs.directory import RunDirectory
from ..report.analysis_figures import AnalysisOptions, analyze
from ..runs.directory import command_line
from ..sampling.sampler_runs import quartic_run
from ..quartic import QuarticModel
from .spec import ExperimentSpec

THEORY_PARAMETERS = ("c", "s", "sigma")


@dataclass(frozen=True)
class SamplerResult:
    method: str
    run_dir: Path
    summary: dict        # summarize(): q2_mean, q2_sem, q2_exact, ks_vs_exact, tau_q, rhat_q, reliable, ...
    analysis: dict       # the analysis summary (Analysis.save)
    recovered: dict      # median over chains of the fitted (c, s, sigma), over the chains whose fit is "ok"

    @property
    def z_score(self) -> float:
        """(<(q - q̄)²> - exact) / standard error (:func:`~statmech_nn.compare.acceptance.sampler_z_score`)."""
        return sampler_z_score(self.summary)

    def deviations(self) -> np.ndarray:
        """All samples of q - q̄ (every chain pooled)."""
        trajectory = Trajectory.load(self.run_dir)
        return (trajectory.q - trajectory.parameters["q_bar"]).ravel()


def _recovered(rows: list[dict]) -> dict:
    """Median fitted (c, s, σ) over the resolved chains."""
    rows = [row for row in rows if row["status"] == "resolved"]
    medians = {name: float(np.median([row[name] for row in rows])) if rows else float("nan")
               for name in THEORY_PARAMETERS}
    return {**medians, "chains_fitted": len(rows)}


def run_samplers(spec: ExperimentSpec, out: Path, *, progress: bool = True) -> tuple[QuarticModel, list[SamplerResult]]:
    """Sample ``spec.samplers.model`` by every listed method into ``out/<method>`` and analyze each run."""
    s = spec.samplers
    model = QuarticModel(**s.model)
    results = []
    for method in s.methods:
        settings = {"method": method, "chains": s.chains, "steps": s.steps[method], "seed": s.seed,
                    "epsilon": s.epsilon, "dt": s.dt, "integrator": s.integrator}
        directory = RunDirectory(out / method)
        summary = quartic_run(model, **settings, out=directory.path, overwrite=True, progress=progress,
                              command=command_line(["sample", "quartic"],
                                                   {**s.model, **settings, "out": directory.path}))
        # no figures: the report draws the samplers against the exact law itself (drawing these took ~80 % of the stage)
        analysis = analyze(directory.path, AnalysisOptions(mode="mean", figures=False), progress=progress)
        results.append(SamplerResult(method, directory.path, summary, analysis.save(directory.path / "analysis"),
                                     _recovered(analysis.rows)))
    return model, results
