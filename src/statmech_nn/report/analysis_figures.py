"""``statmech_nn.analyze`` and ``statmech-nn analyze``: the analysis of one trajectory
(:mod:`statmech_nn.compare.analysis`, which says what it computes) with its figures and files.

:func:`analyze` returns an :class:`Analysis`: everything of :class:`statmech_nn.compare.analysis.Analysis`
(``.table()``, ``.verdicts()``, ``.summary()``, ``.dataset()``, ``.add_columns``, ``.add_verdict``) plus
``.plot(directory)`` (writes the PNG figures, returns {name: path}) and ``.save(directory)``: the files of
``write`` (``observables.nc``, ``fits.json``, ``analysis.json``), ``summary.json`` and ``figures/*.png``.
:func:`analyze_run` is ``analyze(run_dir).save(out)``.
"""

from __future__ import annotations

import tempfile
from dataclasses import fields
from pathlib import Path

from ..compare import analysis as computed
from ..compare.analysis import AnalysisOptions
from ..errors import DataError
from ..io import FIGURES_DIR, SUMMARY_FILE, Dynamics, write_json
from ..runs.directory import RunDirectory
from ..params import jsonable
from . import figures

__all__ = ["Analysis", "AnalysisOptions", "analyze", "analyze_run"]


class Analysis(computed.Analysis):
    """The analysis of one trajectory with its figures (see the module docstring)."""

    def plot(self, directory=None) -> dict:
        """Write the figures as PNG files into ``directory`` (default: a new temporary directory);
        returns {name: path}."""
        directory = Path(tempfile.mkdtemp(prefix="statmech-nn-figures-") if directory is None else directory)
        columns = self.representative()
        if not columns:
            columns = list(range(min(4, len(self.rows))))
        table, predicted = self.fit_dataset(), self.predicted()
        paths = {}
        for view, name in (("full", "fig2_fluctuations"), ("powerlaw", "fig3_powerlaw"), ("gaussian", "fig3_gaussian")):
            paths[name] = figures.fluctuation_panels(self.densities, predicted, table, view, directory / f"{name}.png",
                                                     columns)
        paths["fig4_spectrum"] = figures.spectrum_figure(self.spectra, directory / "fig4_spectrum.png", columns)
        paths["weight_traces"] = figures.traces_figure(self.trajectory, columns, directory / "weight_traces.png",
                                                self.options.units)
        if self.outputs is not None:
            paths["fig1_outputs"] = figures.outputs_figure(self.trajectory.x, self.outputs,
                                                           directory / "fig1_outputs.png")
        return paths

    def save(self, directory, draw: bool | None = None) -> dict:
        """Write observables.nc, fits.json, analysis.json (inputs and options, to re-run), summary.json and
        figures/; returns the summary with the files."""
        out = Path(directory)
        files = self.write(out)
        if self.options.figures if draw is None else draw:
            files += list(self.plot(out / FIGURES_DIR).values())
        summary = {**self.summary(), "out": str(out)}
        files.append(out / SUMMARY_FILE)
        summary["files"] = [str(Path(f).relative_to(out)) if Path(f).is_relative_to(out) else str(f) for f in files]
        write_json(out / SUMMARY_FILE, jsonable(summary))
        return summary


def analyze(source, options: AnalysisOptions | None = None, progress: bool = False, *,
            dynamics: Dynamics | dict | None = None) -> Analysis:
    """Analyse a trajectory, an array q (T, K) or a run directory / trajectory.h5, in memory
    (:func:`statmech_nn.compare.analysis.analyze_trajectory`), with figures and files at hand. ``dynamics``: the
    update rule that produced the data (a :class:`~statmech_nn.io.Dynamics` or a dict of its fields, e.g.
    ``{"kind": "sgd", "lr": 2e-3, "momentum": 0.9, "weight_decay": 5e-4}``) when the source does not record it
    (an array, a foreign file) or records it wrongly; a bad field is a ValueError naming it."""
    result = computed.analyze_trajectory(source, AnalysisOptions() if options is None else options, progress,
                                         dynamics=dynamics)
    return Analysis(**{field.name: getattr(result, field.name) for field in fields(result)})


def analyze_run(run_dir, out, options: AnalysisOptions = AnalysisOptions(), progress: bool = False) -> dict:
    """``analyze(run_dir).save(out)``; returns the summary."""
    run = RunDirectory(run_dir)
    if not run.trajectory.is_file():
        raise DataError(f"{run.path} holds no {run.trajectory.name}")
    return analyze(run.path, options, progress).save(out)
