"""Run-directory bookkeeping shared by every command that writes one (DESIGN: contracts, run directory).

- :func:`command_line`: the argv that re-runs a command, from its words and options (the one builder of the
  ``command`` that ``run.json`` records);
- :func:`open_run`: a new run directory with its ``run.json``, or, when resuming, the check that the directory
  holds the same run (same parameters), with an error naming what differs;
- :func:`save_results`: a run's labelled results (NetCDF), figures (drawn by the callables given, so that this
  core module imports no plotting) and JSON summary, at their places in the directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .errors import DataError
from .io import FIGURES_DIR, OBSERVABLES_FILE, SUMMARY_FILE, RunDirectory, save_dataset, write_json
from .params import jsonable

PROGRAM = "statmech-nn"


def command_line(words: Sequence[str], options: Mapping[str, object]) -> list[str]:
    """``statmech-nn WORDS --name value ...``: the command that re-runs a run.

    Option names are written as flags (``random_starts`` → ``--random-starts``); ``None`` and ``False`` are left
    out, ``True`` is a bare flag, a list or tuple repeats the flag for each item. A value that starts with "-"
    is joined to its flag with "=" (``--b=-0.5:0.5:81``), so that it reads back as a value, not as an option.
    """
    argv = [PROGRAM, *map(str, words)]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            text = str(item)
            argv += [f"{flag}={text}"] if text.startswith("-") else [flag, text]
    return argv


def open_run(out, *, command: Sequence[str], parameters: Mapping, seed=None, resume: bool = False) -> RunDirectory:
    """The run directory ``out``: created with ``run.json`` (``command``, the parameters, the seed), or with
    ``resume=True`` checked to hold the same run: its ``run.json`` must record the same ``parameters`` (compared
    as JSON), else a DataError names the parameters that differ."""
    directory = RunDirectory(out)
    parameters = jsonable(dict(parameters))
    if resume:
        recorded = directory.read_run_info().get("parameters") or {}
        if recorded != parameters:
            changed = sorted(k for k in set(recorded) | set(parameters) if recorded.get(k) != parameters.get(k))
            raise DataError(f"{directory.path} holds a different run: {', '.join(changed)} differ; resume with the "
                            "command in its run.json")
        return directory
    directory.create()
    directory.write_run_info(command=list(command), parameters=parameters, seed=seed)
    return directory


def save_results(directory: RunDirectory, *, dataset=None, dataset_file: str = OBSERVABLES_FILE,
                 figures: Mapping[str, Callable] | None = None, summary: Mapping | None = None) -> dict:
    """Write ``dataset`` (NetCDF, at ``dataset_file``), every figure ``figures[path] = plot`` as
    ``plot(dataset, directory/path)``, and ``summary`` (``summary.json``); return the paths written
    (``run``, ``netcdf``, ``figures``, ``summary``) as strings."""
    written: dict = {"run": str(directory.path)}
    if dataset is not None:
        written["netcdf"] = str(save_dataset(dataset, directory.path / dataset_file))
    if figures:
        written["figures"] = [str(plot(dataset, directory.path / path)) for path, plot in figures.items()]
    if summary is not None:
        written["summary"] = str(write_json(directory.path / SUMMARY_FILE, dict(summary)))
    return written


def figure_path(name: str) -> str:
    """Where a run's figure ``name`` goes: ``figures/<name>.png``, relative to the run directory."""
    return f"{FIGURES_DIR}/{name}.png"
