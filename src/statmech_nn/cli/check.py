"""``statmech-nn check``: run the shipped claims (data/validation/closed_forms/*.toml) and print a table."""

from __future__ import annotations

from ..compare.claims import run_claims
from ._common import add_command, add_json_flag, emit


def register(subparsers) -> None:
    parser = add_command(subparsers, "check")
    parser.add_argument("--claims-dir", help="directory of claim files (default: the shipped claims, statmech_nn/data/validation/closed_forms)")
    parser.add_argument("--select", help="only claims whose id contains this text")
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


def _check(args) -> int:
    outcomes = run_claims(args.claims_dir, args.select)
    payload = {"claims": [o.to_dict() for o in outcomes], "all_as_expected": all(o.as_expected for o in outcomes)}
    emit(payload, args.json, _table(outcomes))
    return 0 if payload["all_as_expected"] else 1
