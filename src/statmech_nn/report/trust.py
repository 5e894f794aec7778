"""How far to trust each verdict: its rows of the shipped calibration table, beside the answers in a report
(DESIGN: every verdict is calibrated and the report shows that row beside the answer; issue 19)."""

from __future__ import annotations

from ..compare.calibration import OTHER, trust_rows
from .html import Table

TRUST_COLUMN = "how far to trust this answer (planted truths)"


def trust_table(verdict_ids, table: dict | None = None) -> Table:
    """Every calibration row of ``verdict_ids``: the rate of the wrong and of the right answer on each planted
    scenario, with Wilson 95 % intervals, at the design size of the shipped table."""
    rows = []
    for verdict_id in dict.fromkeys(verdict_ids):
        for r in trust_rows(verdict_id, table):
            wrong, right = OTHER[r["truth"]], r["truth"]
            rows.append([r["verdict"], f"{r['scenario']}: {r['description']}", r["truth"], r["replicates"],
                         _rate(r, wrong), _rate(r, right), _rate(r, "inconclusive"), r["design"],
                         "within design" if r["within_design"] else "OUTSIDE DESIGN"])
    return Table(["verdict", "planted scenario", "truth", "sets", "wrong answer", "right answer", "inconclusive",
                  "design", "result"], rows,
                 "How far to trust these answers: each verdict on planted data with a known truth "
                 "(statmech-nn calibrate; rates with Wilson 95 % intervals)")


def _rate(row: dict, answer: str) -> str:
    low, high = row["intervals"][answer]
    return f"{row['rates'][answer]:.2f} [{low:.2f}, {high:.2f}]"

