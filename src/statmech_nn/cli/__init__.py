"""``statmech-nn``: one entry point, one subcommand module per area.

Each area module exposes ``register(subparsers)`` and attaches a handler with
``set_defaults(handler=...)``; a handler returns an exit status (0 when it returns None).
"""

from __future__ import annotations

import sys

from .. import __version__
from ..errors import StatmechError
from . import analysis, check, meanfield, networks, quartic, sampling, scan, validate
from ._common import Parser, UsageError, fail

AREAS = (validate, quartic, scan, sampling, meanfield, networks, analysis, check)


def build_parser() -> Parser:
    parser = Parser(prog="statmech-nn", description="Statistical mechanics of learning: theory next to experiment.")
    parser.add_argument("--version", action="version", version=f"statmech-nn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in AREAS:
        area.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print one line on stderr and return 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "handler", None) is None:
            raise UsageError("statmech-nn: a command is required (see statmech-nn --help)")
        status = args.handler(args)
    except UsageError as exc:
        return fail(str(exc).removeprefix("statmech-nn").lstrip(": ") or "bad usage")
    except StatmechError as exc:
        return fail(str(exc))
    except FileNotFoundError as exc:
        return fail(f"no such file: {exc.filename}")
    except KeyboardInterrupt:
        print("statmech-nn: interrupted", file=sys.stderr)
        return 130
    return 0 if status is None else int(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
