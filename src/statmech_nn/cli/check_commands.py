"""``statmech-nn check``: run the shipped claims (data/validation/closed_forms/*.toml) and print a table.

The claims run on a process pool (``--workers``, default: the machine's cores); each prints a line on stderr
as it finishes (a progress bar on a terminal), and its measured deviation is kept in the cache
(:func:`statmech_nn.compare.claims.cache_dir`; ``--no-cache`` runs every check afresh and keeps nothing).
"""

from __future__ import annotations

import os
import sys

from ..compare.claims import CACHE_ENV, run_claims
from ._common import Interrupted, add_command, add_json_flag, count, emit


def register(subparsers) -> None:
    parser = add_command(subparsers, "check")
    parser.add_argument("--claims-dir", help="directory of claim files (default: the shipped claims, "
                                             "statmech_nn/data/validation/closed_forms)")
    parser.add_argument("--select", help="only claims whose id contains this text")
    parser.add_argument("--workers", type=count, default=os.cpu_count() or 1,
                        help="claims run at once, each in a process of its own (default: the number of cores)")
    parser.add_argument("--no-cache", dest="cache", action="store_false",
                        help=f"run every check afresh and keep nothing (default: reuse the deviations kept in "
                             f"~/.cache/statmech-nn, ${CACHE_ENV} or $XDG_CACHE_HOME, for this version)")
    add_json_flag(parser)
    parser.set_defaults(handler=_check)


def _table(outcomes) -> str:
    header = ("claim", "source", "status", "deviation", "tolerance")
    rows = [(o.claim.id, f"{o.claim.source} {o.claim.equation}", o.status + ("" if o.as_expected else "  (UNEXPECTED)"),
             f"{o.deviation:.3g}", f"{o.claim.tolerance:.3g}") for o in outcomes]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)) for row in [header, *rows]]
    for o in outcomes:
        if o.claim.assumption:
            lines.append(f"  {o.claim.id}: assumption: {o.claim.assumption}")
        if o.detail:
            lines.append(f"  {o.claim.id}: {o.detail}")
    return "\n".join(lines)


class _Progress:
    """A line per finished claim on stderr, or a progress bar when stderr is a terminal."""

    def __init__(self):
        self.done, self.total = 0, None
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="claim", desc="check", file=sys.stderr)

    def __call__(self, outcome, done: int, total: int) -> None:
        self.done, self.total = done, total
        mark = "" if outcome.as_expected else "  (UNEXPECTED)"
        when = "cached" if outcome.cached else f"{outcome.seconds:.1f} s"
        if self.bar is not None:
            self.bar.total = total
            self.bar.set_postfix_str(outcome.claim.id, refresh=False)
            self.bar.update(1)
        else:
            print(f"[{done:>{len(str(total))}}/{total}] {outcome.claim.id}: {outcome.status}{mark} ({when})",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check(args) -> int:
    progress = _Progress()
    try:
        outcomes = run_claims(args.claims_dir, args.select, workers=args.workers, cache=args.cache,
                              on_outcome=progress)
    except KeyboardInterrupt:
        raise Interrupted(f"{progress.done} claims done" if progress.total is None else
                          f"{progress.done} of {progress.total} claims done") from None
    finally:
        progress.close()
    payload = {"claims": [o.to_dict() for o in outcomes], "all_as_expected": all(o.as_expected for o in outcomes)}
    emit(payload, args.json, _table(outcomes))
    return 0 if payload["all_as_expected"] else 1
