"""What a run directory's ``run.json`` records of how its run ended, and the checks of a run read back.

- :func:`outcome_of`, :func:`record_outcome`: the outcome (``completed``, ``interrupted``, ``diverged``,
  ``failed: <why>``; ``running`` while a writer holds it) that :func:`.claim.claim` records when its writer ends;
- :func:`require_complete`: the check that a run read by ``analyze`` or ``probe`` completed;
- :func:`flag_incomplete`: what a result made from a run that did not complete says about it.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

from ..errors import DataError, DivergenceError
from ..io import RUN_FILE, SUMMARY_FILE, write_json
from ..params import jsonable

RUNNING, COMPLETED, DIVERGED, INTERRUPTED = "running", "completed", "diverged", "interrupted"


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
