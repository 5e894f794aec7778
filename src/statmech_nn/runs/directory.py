"""A run directory (DESIGN: contracts, run directory): ``run.json``, ``trajectory.h5``, ``observables.nc``,
``figures/``, ``report.html``, and the bookkeeping every command that writes one shares.

- :class:`RunDirectory`: the directory's files, and ``run.json`` (everything needed to re-run the command);
- :func:`command_line`: the argv that re-runs a command, from its words and options (the one builder of the
  ``command`` that ``run.json`` records);
- :func:`open_run`: a new run directory with its ``run.json``, or, when resuming, the check that the directory
  holds the same run (same parameters), with an error naming what differs;
- :func:`save_results`: a run's labelled results (NetCDF), figures (drawn by the callables given, so that this
  core module imports no plotting) and JSON summary, at their places in the directory;
- :func:`plain_name`, :func:`inside`: names and paths that stay inside ``--out``.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .. import __version__
from ..errors import DataError
from ..io import (FIGURES_DIR, OBSERVABLES_FILE, REPORT_FILE, RUN_FILE, SUMMARY_FILE, TRAJECTORY_FILE, read_json,
                  save_dataset, write_json)
from ..params import jsonable

PROGRAM = "statmech-nn"


def git_revision() -> str | None:
    """The git revision of the source tree this package runs from, if it is a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


class RunDirectory:
    """A run directory: ``run.json``, ``trajectory.h5``, ``observables.nc``, ``figures/``, ``report.html``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    @property
    def trajectory(self) -> Path:
        return self.path / TRAJECTORY_FILE

    @property
    def observables(self) -> Path:
        return self.path / OBSERVABLES_FILE

    @property
    def figures(self) -> Path:
        return self.path / FIGURES_DIR

    @property
    def report(self) -> Path:
        return self.path / REPORT_FILE

    def create(self) -> RunDirectory:
        self.figures.mkdir(parents=True, exist_ok=True)
        return self

    def write_run_info(self, *, command: list[str], parameters: dict, seed=None, device: str = "cpu",
                       **extra) -> Path:
        """Write ``run.json``: everything needed to re-run this command from the file alone."""
        payload = {
            "command": list(command),
            "parameters": parameters,
            "seed": seed,
            "device": device,
            "package_version": __version__,
            "git_revision": git_revision(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "outcome": "running",
            **extra,
        }
        return write_json(self.run_file, payload)

    def read_run_info(self) -> dict:
        return read_json(self.run_file)


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


def plain_name(name, what: str) -> str:
    """``name`` as one path component of a run directory (a network's or a spec's name): a non-empty string with
    no path separator, not ``.`` or ``..``, no NUL; a DataError naming ``what`` otherwise."""
    text = str(name)
    if not text.strip() or text in (".", "..") or any(c in text for c in ("/", "\\", "\0")):
        raise DataError(f"{what} = {text!r} is not a plain name (one path component: no '/', '..' or absolute "
                        "path), so that what it names stays inside --out")
    return text


def inside(out, relative, what: str) -> Path:
    """``out / relative``, refused (DataError naming ``what``) unless it stays inside ``out``: no absolute path,
    no ``..``, and no symbolic link on the way that leads outside."""
    relative = Path(relative)
    if relative.is_absolute() or ".." in relative.parts or "\0" in str(relative):
        raise DataError(f"{what} = {str(relative)!r} leads outside {out}: use a relative path without '..'")
    root = Path(out).resolve()
    path = Path(out) / relative
    if not path.resolve().is_relative_to(root):
        raise DataError(f"{what} = {str(relative)!r} leads outside {out} (through a symbolic link)")
    return path
