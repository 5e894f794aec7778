"""``statmech-nn``: one entry point, one subcommand module per area.

Each area module exposes ``register(subparsers)`` and attaches a handler with
``set_defaults(handler=...)``; a handler returns an exit status (0 when it returns None).
Only the area of the command being run is imported (the areas import numba, torch,
xarray...); the other commands appear as one-line entries, so ``--help`` is instant.
"""

from __future__ import annotations

import importlib
import os
import sys

from .. import __version__
from ..errors import StatmechError
from ._common import COMMANDS, Parser, UsageError, fail


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
    return parser


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (top-level options take no values)."""
    return next((token for token in argv if not token.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print one line on stderr and return 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(_command_of(argv)).parse_args(argv)
        if getattr(args, "handler", None) is None:
            raise UsageError("statmech-nn: a command is required (see statmech-nn --help)")
        status = args.handler(args)
    except UsageError as exc:
        return fail(str(exc).removeprefix("statmech-nn").lstrip(": ") or "bad usage")
    except StatmechError as exc:
        return fail(str(exc))
    except FileNotFoundError as exc:
        return fail(f"no such file: {exc.filename}")
    except BrokenPipeError:
        return _closed_stdout()
    except KeyboardInterrupt:
        print("statmech-nn: interrupted", file=sys.stderr)
        return 130
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _closed_stdout()
    return 0 if status is None else int(status)


EXIT_SIGPIPE = 141


def _closed_stdout() -> int:
    """The reader of stdout went away (``statmech-nn check | head -1``): stop quietly, as a shell tool killed by
    SIGPIPE would (exit status 128 + 13 = 141); stdout is pointed at /dev/null so the interpreter's final flush
    cannot raise again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
