"""Run-directory bookkeeping shared by every command that writes one (DESIGN: contracts, run directory).

- :func:`command_line`: the argv that re-runs a command, from its words and options (the one builder of the
  ``command`` that ``run.json`` records);
- :func:`open_run`: a new run directory with its ``run.json``, or, when resuming, the check that the directory
  holds the same run (same parameters), with an error naming what differs;
- :func:`save_results`: a run's labelled results (NetCDF), figures (drawn by the callables given, so that this
  core module imports no plotting) and JSON summary, at their places in the directory;
- :func:`claim`: the one writer of a run directory (DESIGN: a run directory has one writer at a time and is never
  overwritten without being asked), which records the run's outcome in ``run.json`` when it ends;
- :func:`require_complete`: the check that a run read by ``analyze`` or ``probe`` completed.

The lock: ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the file ``.lock`` inside the run directory (for an output that is
a file, ``.<name>.lock`` beside it), taken before anything in the directory is truncated or deleted and held until
the writer ends. The kernel takes it atomically and drops it when the process dies, however it dies (SIGKILL
included), so a lock is never stale: a lock file left behind by a killed process is simply locked again by the
next writer. The file holds the holder's pid, host and start time, which a refused second writer names. The lock
is re-entrant within one process (the command line claims ``--out`` and the library it calls claims it again).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import DataError, DivergenceError
from .io import FIGURES_DIR, OBSERVABLES_FILE, RUN_FILE, SUMMARY_FILE, RunDirectory, save_dataset, write_json
from .params import jsonable

PROGRAM = "statmech-nn"
LOCK_FILE = ".lock"
RUNNING, COMPLETED, DIVERGED, INTERRUPTED = "running", "completed", "diverged", "interrupted"
_FILE_OUTPUTS = (".nc", ".h5", ".json", ".npz", ".png", ".pdf", ".svg")
_held: dict[Path, list] = {}          # lock file -> [open descriptor, depth] of the claims this process holds


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


def lock_file(out) -> Path:
    """The lock file of the output ``out``: ``out/.lock`` for a directory, ``.<name>.lock`` beside a file."""
    path = Path(os.path.abspath(out))
    if path.suffix in _FILE_OUTPUTS:
        return path.parent / f".{path.name}.lock"
    return path / LOCK_FILE


def holds_run(out) -> bool:
    """Whether the directory ``out`` holds anything but its lock file (a run, or files of some other kind)."""
    path = Path(out)
    return path.is_dir() and any(entry.name != LOCK_FILE for entry in path.iterdir())


def _acquire(lock: Path) -> int:
    """Take the exclusive lock ``lock`` (creating it and its directory); a DataError naming the holder if another
    process has it."""
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DataError(f"cannot write {lock.parent}: {exc.strerror}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 1024).decode(errors="replace").strip() or "another process"
        os.close(descriptor)
        raise DataError(f"{lock.parent} is being written by {holder}; wait for it to end or choose another "
                        "--out") from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}\n"
             .encode())
    return descriptor


def outcome_of(error: BaseException | None) -> str:
    """What ``run.json`` records for a run that ended with ``error`` (None: it completed)."""
    if error is None:
        return COMPLETED
    if isinstance(error, DivergenceError):
        return DIVERGED
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return "failed: no space left on device"
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return "failed: " + " ".join(reason.split())


def record_outcome(out, outcome: str) -> bool:
    """Set ``outcome`` in ``out/run.json`` (strict JSON); False if there is no run.json or it cannot be written.

    The file is replaced atomically; on a full disk, where a new file cannot be written, it is rewritten in place
    (the pages it already holds are reused)."""
    path = Path(out) / RUN_FILE
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(info, dict):
        return False
    info["outcome"] = outcome
    try:
        write_json(path, info)
        return True
    except OSError:
        pass
    try:
        with open(path, "r+") as handle:
            handle.write(json.dumps(jsonable(info), indent=2, allow_nan=False) + "\n")
            handle.truncate()
        return True
    except OSError:
        return False


@contextmanager
def claim(out, *, resume: bool = False, overwrite: bool = False, reuse: bool = False) -> Iterator[bool]:
    """Be the one writer of the run directory ``out`` while the block runs (see the module docstring).

    Taken before anything in ``out`` is written. A directory that already holds files (or an output file that
    exists) is refused (DataError) unless the run resumes it (``resume``), or the command re-uses it by design
    (``reuse``: ``validate`` resumes its stages, ``scan`` its store), or ``overwrite``. What ``overwrite``
    replaces is first moved aside (:func:`replaced_path`) and deleted only once the block has written something
    of its own: a command refused before it wrote anything (bad flags, spec files, ``--set``, grids; checked
    first) puts it back. When the block ends, its outcome (:func:`outcome_of`) is recorded in ``out/run.json``,
    unless it wrote nothing but run.json: then it was refused, and ``out`` is left exactly as it was (its run.json
    included: a refused ``--resume`` of a completed run leaves it completed), and nothing new is left behind.
    Claims nest within a process: an inner claim of a directory already held yields False and neither checks nor
    records anything.
    """
    lock = lock_file(out)
    if lock in _held:
        _held[lock][1] += 1
        try:
            yield False
        finally:
            _held[lock][1] -= 1
        return
    directory = Path(out)
    existed = directory.exists()
    created = _missing_directories(lock.parent)
    lock_existed = lock.exists()
    descriptor = _acquire(lock)
    _held[lock] = [descriptor, 1]
    aside = replaced_path(directory)
    refused = True
    try:
        _settle_replaced(lock, directory, aside)
        if not (resume or reuse or overwrite) and _holds(lock, directory):
            if lock.name == LOCK_FILE:
                raise DataError(f"{directory} already holds a run: resume it (--resume), replace it (--overwrite) "
                                "or choose another --out")
            raise DataError(f"{directory} already exists: replace it (--overwrite) or choose another --out")
        if overwrite and not resume and _holds(lock, directory):
            _move_aside(lock, directory, aside)
        before = _snapshot(lock, directory)
        if resume or reuse:
            record_outcome(directory, RUNNING)
        try:
            yield True
        except BaseException as error:
            if _snapshot(lock, directory)[0] == before[0]:   # it wrote nothing: it was refused
                _restore(lock, directory, aside, before)
            else:
                refused = False
                record_outcome(directory, outcome_of(error))
            raise
        refused = False
        record_outcome(directory, COMPLETED)
    finally:
        del _held[lock]
        _remove(aside)
        _discard_if_unused(lock, directory, existed, created, refused and not lock_existed)
        os.close(descriptor)


def replaced_path(out) -> Path:
    """Where ``--overwrite`` keeps what ``out`` held until the command has written something of its own:
    ``.<name>.replaced`` beside it (same file system, so moving it there and back is a rename)."""
    path = Path(os.path.abspath(out))
    return path.parent / f".{path.name}.replaced"


def _holds(lock: Path, out: Path) -> bool:
    """Whether the output ``out`` holds something: a run (a directory output) or a file (a file output)."""
    return holds_run(out) if lock.name == LOCK_FILE else (out.exists() or out.is_symlink())


def _move_aside(lock: Path, out: Path, aside: Path) -> None:
    """Move what ``out`` holds (all but its lock file) to ``aside``."""
    _remove(aside)
    try:
        if lock.name != LOCK_FILE:
            os.rename(out, aside)
            return
        aside.mkdir()
        for entry in out.iterdir():
            if entry.name != LOCK_FILE:
                os.rename(entry, aside / entry.name)
    except OSError as exc:
        _put_back(lock, out, aside)
        raise DataError(f"cannot replace {out}: {exc.strerror}") from None


def _put_back(lock: Path, out: Path, aside: Path) -> None:
    """Move what :func:`_move_aside` moved back into ``out``."""
    if not (aside.exists() or aside.is_symlink()):
        return
    if lock.name != LOCK_FILE:
        os.rename(aside, out)
        return
    for entry in aside.iterdir():
        os.rename(entry, out / entry.name)
    aside.rmdir()


def _settle_replaced(lock: Path, out: Path, aside: Path) -> None:
    """What a writer killed while replacing ``out`` left aside: put back if it wrote nothing yet, else deleted."""
    if not (aside.exists() or aside.is_symlink()):
        return
    if _holds(lock, out):
        _remove(aside)
    else:
        _put_back(lock, out, aside)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def _snapshot(lock: Path, out: Path) -> tuple[dict, set, bytes | None]:
    """What the output holds: ({file: (size, mtime)} but run.json and the lock, {directories}, run.json's bytes)."""
    if lock.name != LOCK_FILE:
        try:
            info = os.lstat(out)
        except OSError:
            return {}, set(), None
        return {"": (info.st_size, info.st_mtime_ns)}, set(), None
    files, directories = {}, set()
    for root, names, entries in os.walk(out):
        directories.update(os.path.join(root, name) for name in names)
        for name in entries:
            path = os.path.join(root, name)
            if path in (str(out / RUN_FILE), str(lock)):
                continue
            try:
                info = os.lstat(path)
            except OSError:
                continue
            files[path] = (info.st_size, info.st_mtime_ns)
    try:
        run_info = (out / RUN_FILE).read_bytes()
    except OSError:
        run_info = None
    return files, directories, run_info


def _restore(lock: Path, out: Path, aside: Path, before: tuple) -> None:
    """Leave ``out`` as it was before a refused command: its run.json as it was, no new directory, and what
    ``--overwrite`` moved aside put back."""
    _, directories, run_info = before
    if lock.name == LOCK_FILE:
        try:
            if run_info is None:
                (out / RUN_FILE).unlink(missing_ok=True)
            else:
                (out / RUN_FILE).write_bytes(run_info)
        except OSError:
            pass
        for path in sorted(_snapshot(lock, out)[1] - directories, reverse=True):
            try:
                os.rmdir(path)
            except OSError:
                pass
    try:
        _put_back(lock, out, aside)
    except OSError:
        pass


def _missing_directories(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, innermost first (what taking the lock will create)."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _discard_if_unused(lock: Path, out: Path, existed: bool, created: Sequence[Path] = (),
                       refused: bool = False) -> None:
    """A command that wrote nothing (refused its input, say) leaves nothing behind: neither its lock file (a new
    one; ``refused``: also beside an output that was there before) nor the directories the lock created
    (``created``, innermost first; each only while it is empty)."""
    if _holds(lock, out):
        if refused:
            lock.unlink(missing_ok=True)
        return
    lock.unlink(missing_ok=True)
    if lock.name == LOCK_FILE and not existed:
        try:
            out.rmdir()
        except OSError:
            pass
    for path in created:
        try:
            path.rmdir()
        except FileNotFoundError:
            continue
        except OSError:
            break


def require_complete(run_dir, allow_incomplete: bool = False) -> str | None:
    """The outcome recorded in ``run_dir/run.json``. A run that did not complete (diverged, interrupted, failed,
    or killed while running) is refused with a DataError naming its outcome, unless ``allow_incomplete``; a
    directory whose run.json records no outcome (made by hand, or before outcomes were recorded) is accepted."""
    path = Path(run_dir) / RUN_FILE
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    outcome = info.get("outcome") if isinstance(info, dict) else None
    if outcome is None or outcome == COMPLETED:
        return outcome
    if outcome == RUNNING:
        outcome = "running, or killed while running"
    if not allow_incomplete:
        raise DataError(f"{run_dir} holds a run that did not complete ({outcome}); resume or re-run it, or pass "
                        "--allow-incomplete to use it anyway")
    return outcome


def flag_incomplete(out, outcome: str | None) -> dict:
    """What a result made from a run that did not complete says about it (``{}`` when it completed): written
    into ``out/summary.json`` when there is one, and returned for the printed summary."""
    if outcome is None or outcome == COMPLETED:
        return {}
    flag = {"source_run_incomplete": True, "source_run_outcome": outcome}
    path = Path(out) / SUMMARY_FILE
    if path.is_file():
        write_json(path, {**json.loads(path.read_text()), **flag})
    return flag


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
