"""``statmech-nn``: one entry point, one subcommand module per area.

Each area module exposes ``register(subparsers)`` and attaches a handler with
``set_defaults(handler=...)``; a handler returns an exit status (0 when it returns None).
Only the area of the command being run is imported (the areas import numba, torch,
xarray...); the other commands appear as one-line entries, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings

from .. import __version__
from ..errors import StatmechError
from ._common import COMMANDS, Interrupted, Parser, UsageError, close_progress_bars, fail

# How an interrupted command is continued; the others have nothing to resume.
RESUMABLE = {"scan": "run the same command to resume", "validate": "run the same command to resume",
             "check": "run the same command to resume (finished claims are kept in the cache)",
             "train": "add --resume to the same command to continue",
             "sample": "add --resume to the same command to continue"}


def build_parser(command: str | None = None) -> Parser:
    """The parser, with the full options of ``command``'s area (all areas when ``command`` is "*")."""
    parser = Parser(prog="statmech-nn", description="Statistical mechanics of learning: theory next to experiment.")
    parser.add_argument("--version", action="version", version=f"statmech-nn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    selected = {area for name, (area, _) in COMMANDS.items() if command in (name, "*")}
    for area in dict.fromkeys(area for area, _ in COMMANDS.values()):
        if area in selected:
            importlib.import_module(f".{area}", __name__).register(subparsers)
    for name, (area, help_line) in COMMANDS.items():
        if area not in selected:
            subparsers.add_parser(name, help=help_line)
    _add_overwrite(parser)
    return parser


def _add_overwrite(parser: argparse.ArgumentParser) -> None:
    """Give every command that writes ``--out`` the flag ``--overwrite`` (an existing run is never replaced
    without it; :func:`statmech_nn.runs.claim.claim`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _add_overwrite(sub)
    if "--out" in parser._option_string_actions and "--overwrite" not in parser._option_string_actions:
        parser.add_argument("--overwrite", action="store_true",
                            help="replace what --out already holds (default: refuse; --resume continues it)")


def _run(args) -> int | None:
    """Call the command's handler; a command that writes ``--out`` does so as its one writer, and its outcome is
    recorded in the run.json it writes (:func:`statmech_nn.runs.claim.claim`). One claim per ``--out``: a command
    whose library claims ``--out`` itself (``set_defaults(claims_out=True)``: ``train``, ``sample quartic``,
    ``sample linearized``, ``validate``) is not claimed here."""
    out = getattr(args, "out", None)
    if not out or getattr(args, "claims_out", False):
        return args.handler(args)
    from ..runs.claim import claim

    out = getattr(args, "claimed", lambda path: path)(out)   # the store behind --out (scan: X.nc keeps X.zarr)
    with claim(out, resume=getattr(args, "resume", False), overwrite=getattr(args, "overwrite", False),
               reuse=args.command == "scan"):   # a scan store checks it is the same scan
        return args.handler(args)


def _terminate(signum, frame):
    """SIGTERM ends a run as Ctrl-C does: its files are closed, its outcome is ``interrupted``, it can resume."""
    raise KeyboardInterrupt


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (top-level options take no values)."""
    return next((token for token in argv if not token.startswith("-")), None)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning from a command as one line on stderr (not Python's file:line and source line), above any
    progress bar."""
    from tqdm import tqdm

    tqdm.write(f"statmech-nn: warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print one line on stderr and return 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = None
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main_thread else None
    try:
        args = build_parser(_command_of(argv)).parse_args(argv)
        if getattr(args, "handler", None) is None:
            raise UsageError("statmech-nn: a command is required (see statmech-nn --help)")
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            status = _run(args)
    except UsageError as exc:
        return fail(str(exc).removeprefix("statmech-nn").lstrip(": ") or "bad usage")
    except StatmechError as exc:
        return fail(str(exc))
    except FileNotFoundError as exc:
        return fail(f"no such file: {exc.filename}")
    except BrokenPipeError:
        return _closed_stdout()
    except OSError as exc:
        return fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
    except KeyboardInterrupt as exc:
        return _interrupted(args, exc)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _closed_stdout()
    return 0 if status is None else int(status)


EXIT_SIGPIPE = 141
EXIT_INTERRUPTED = 130


def _interrupted(args, exc: KeyboardInterrupt) -> int:
    """One line on stderr: what was done (when the command said) and how to go on; exit status 130 (128 + SIGINT)."""
    close_progress_bars()
    command = getattr(args, "command", None)
    hint = RESUMABLE.get(command) if command in ("validate", "check") or getattr(args, "out", None) else None
    if command == "check" and not getattr(args, "cache", True):
        hint = None
    if hint and getattr(args, "resume", False):
        hint = "run the same command to resume"
    parts = [part for part in (str(exc) if isinstance(exc, Interrupted) else "", hint) if part]
    print("statmech-nn: interrupted" + (": " + "; ".join(parts) if parts else ""), file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def _closed_stdout() -> int:
    """The reader of stdout went away (``statmech-nn check | head -1``): stop quietly, as a shell tool killed by
    SIGPIPE would (exit status 128 + 13 = 141); stdout is pointed at /dev/null so the interpreter's final flush
    cannot raise again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
