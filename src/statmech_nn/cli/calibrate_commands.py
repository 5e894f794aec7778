"""``statmech-nn calibrate``: the verdicts' error rates on planted data with a known truth (issue 19).

Exit status 0 when every row is within its design, 1 when some row is outside it (like ``check``), 2 on bad
input. A progress bar goes to stderr when stderr is a terminal.
"""

from __future__ import annotations

import sys

from ._common import add_command, add_json_flag, count, emit, seed

MAX_REPLICATES = 100_000   # a Wilson interval is ±0.003 there; more is a typo, not a measurement
MAX_WORKERS = 64


def register(subparsers) -> None:
    parser = add_command(subparsers, "calibrate")
    parser.add_argument("--verdict", action="append", help="a verdict id (Q1..Q6, S, P1..); repeat for several; "
                                                           "default: every calibrated verdict")
    parser.add_argument("--scenario", action="append", help="a scenario name; repeat for several; default: all")
    parser.add_argument("--replicates", type=count, default=40, help="planted sets per scenario (default 40)")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--size", choices=("full", "reduced"), default="full",
                        help="the README's sizes (full, default) or the test suite's (reduced)")
    parser.add_argument("--workers", type=count, default=1, help="processes (default 1)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and their truths, run nothing")
    add_json_flag(parser)
    parser.set_defaults(handler=_calibrate)


def _calibrate(args) -> int:
    from ..compare.calibration import calibrate, table_text
    from ..compare.planted import scenarios, verdict_ids
    from ..errors import StatmechError

    if args.replicates > MAX_REPLICATES:
        raise StatmechError(f"--replicates must be at most {MAX_REPLICATES}, got {args.replicates}")
    if args.workers > MAX_WORKERS:
        raise StatmechError(f"--workers must be at most {MAX_WORKERS}, got {args.workers}")
    known = scenarios()
    for name in args.scenario or ():
        if name not in known:
            raise StatmechError(f"--scenario {name!r} is not one of: {', '.join(known)}")
    for verdict in args.verdict or ():
        if verdict not in verdict_ids():
            raise StatmechError(f"--verdict {verdict!r} is not one of: {', '.join(verdict_ids())}")
    if args.list:
        listing = [{"scenario": s.name, "description": s.description, "truth": s.truth, "powered": list(s.powered),
                    "sizes": s.sizes} for s in known.values()
                   if (not args.verdict or set(args.verdict) & set(s.truth))
                   and (not args.scenario or s.name in args.scenario)]
        emit({"scenarios": listing}, args.json,
             "\n".join(f"{s['scenario']}: {s['description']}; truth {s['truth']}" for s in listing))
        return 0
    rows = calibrate(args.verdict, args.scenario, args.replicates, args.seed, args.size, args.workers,
                     progress=sys.stderr.isatty())
    payload = {"replicates": args.replicates, "seed": args.seed, "size": args.size,
               "all_within_design": all(r.within_design for r in rows), "rows": [r.to_dict() for r in rows]}
    emit(payload, args.json, table_text(rows))
    return 0 if payload["all_within_design"] else 1
