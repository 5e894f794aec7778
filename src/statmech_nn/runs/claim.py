"""The one writer of a run directory (DESIGN: a run directory has one writer at a time and is never overwritten
without being asked): :func:`claim`, which records the run's outcome (:mod:`.outcome`) in ``run.json`` when it ends.

The lock: ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the file ``.lock`` inside the run directory (for an output that is
a file, ``.<name>.lock`` beside it), taken before anything in the directory is truncated or deleted and held until
the writer ends. The kernel takes it atomically and drops it when the process dies, however it dies (SIGKILL
included), so a lock is never stale: a lock file left behind by a killed process is simply locked again by the
next writer. The file holds the holder's pid, host and start time, which a refused second writer names.

One claim per output: the command line claims ``--out`` only for commands whose library does not (``train``,
``sample quartic|linearized`` and ``validate`` claim it themselves); a second claim of an output this process already
holds is a bug and raises RuntimeError.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import DataError
from ..io import RUN_FILE
from .outcome import COMPLETED, RUNNING, outcome_of, record_outcome

LOCK_FILE = ".lock"
_FILE_OUTPUTS = (".nc", ".h5", ".json", ".npz", ".png", ".pdf", ".svg")
_held: set[Path] = set()          # the lock files of the claims this process holds


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


@contextmanager
def claim(out, *, resume: bool = False, overwrite: bool = False, reuse: bool = False) -> Iterator[None]:
    """Be the one writer of the run directory ``out`` while the block runs (see the module docstring).

    Taken before anything in ``out`` is written. A directory that already holds files (or an output file that
    exists) is refused (DataError) unless the run resumes it (``resume``), or the command re-uses it by design
    (``reuse``: ``validate`` resumes its stages, ``scan`` its store), or ``overwrite``. What ``overwrite``
    replaces is first moved aside (:func:`replaced_path`) and deleted only once the block has written something
    of its own: a command refused before it wrote anything (bad flags, spec files, ``--set``, grids; checked
    first) puts it back. When the block ends, its outcome (:func:`.outcome.outcome_of`) is recorded in ``out/run.json``,
    unless it wrote nothing but run.json: then it was refused, and ``out`` is left exactly as it was (its run.json
    included: a refused ``--resume`` of a completed run leaves it completed), and nothing new is left behind.
    One claim per output: a second claim of an output this process holds is a RuntimeError (a bug).
    """
    lock = lock_file(out)
    if lock in _held:
        raise RuntimeError(f"{out} is claimed twice by this process: one claim per output")
    directory = Path(out)
    existed = directory.exists()
    created = _missing_directories(lock.parent)
    lock_existed = lock.exists()
    descriptor = _acquire(lock)
    _held.add(lock)
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
            yield
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
        _held.discard(lock)
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
