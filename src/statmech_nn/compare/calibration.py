"""Calibration of the verdicts: how often each one gives each answer on planted data with a known truth
(DESIGN: verdicts; issue 19).

For every scenario of :mod:`statmech_nn.compare.planted` and every verdict it calibrates, ``replicates``
independent planted data sets go through the same analysis a user runs (:data:`ANALYSES`); the rate of each
answer gets a Wilson 95 % interval. The design: the wrong answer (the definite word opposite to the truth)
in at most :data:`MAX_WRONG` of the sets, and, where the scenario is a stated alternative at the design size
(``powered``), the right answer in at least :data:`MIN_POWER`; a verdict that cannot decide answers
"inconclusive". A row is ``within_design`` when its measured rates meet that design (point estimates; the
intervals say how sure the measurement is).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from .planted import ANSWERS, Scenario, scenarios

MAX_WRONG = 0.05
MIN_POWER = 0.80
Z95 = 1.959963984540054
OTHER = {"supported": "not supported", "not supported": "supported"}


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n (n ≥ 1)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def _network_answers(data, options: dict) -> dict:
    from .analysis import AnalysisOptions, analyze_trajectory

    analysis = analyze_trajectory(data, AnalysisOptions(**{"figures": False, **options}))
    return {v.id: v.verdict for v in analysis.verdicts()}


def _stationarity_answers(data, options: dict) -> dict:
    """S as the network analysis answers it (:func:`statmech_nn.compare.verdicts.stationarity_verdict` on the
    stationarity columns of :func:`~statmech_nn.compare.verdicts.trajectory_stationarity_columns`: per replica, with
    the cross-replica R̂ under shared initial weights), on a trajectory whose every column moved."""
    from .verdicts import STATIONARITY_PREFIX, stationarity_verdict, trajectory_stationarity_columns

    rows = [{"column": row["column"], "name": name,
             **{STATIONARITY_PREFIX + k: v for k, v in row.items() if k != "column"}}
            for name, row in zip(data.names, trajectory_stationarity_columns(data, **options))]
    return {"S": stationarity_verdict(rows).verdict}


# analysis name -> function(planted data, options) -> {verdict id: answer}; a scenario names its analysis
ANALYSES = {"network": _network_answers, "stationarity": _stationarity_answers}


def register_analysis(name: str, function) -> None:
    """Add an analysis that scenarios can name (e.g. 003's plasticity claims)."""
    ANALYSES[name] = function


@dataclass(frozen=True)
class CalibrationRow:
    """The answers of one verdict on one scenario's planted sets, with the design they are held to."""

    verdict: str
    scenario: str
    description: str
    truth: str
    powered: bool
    replicates: int
    counts: dict
    rates: dict
    intervals: dict
    wrong_rate: float
    power: float
    within_design: bool
    design: str

    def to_dict(self) -> dict:
        return asdict(self)


def _row(scenario: Scenario, verdict: str, answers: list[str]) -> CalibrationRow:
    n = len(answers)
    counts = {answer: answers.count(answer) for answer in (*ANSWERS, "inconclusive")}
    rates = {answer: counts[answer] / n for answer in counts}
    truth, powered = scenario.truth[verdict], verdict in scenario.powered
    wrong, right = rates[OTHER[truth]], rates[truth]
    within = wrong <= MAX_WRONG and (right >= MIN_POWER or not powered)
    design = (f"'{OTHER[truth]}' (wrong) in <= {MAX_WRONG:.0%}" +
              (f", '{truth}' in >= {MIN_POWER:.0%}" if powered else ", 'inconclusive' allowed"))
    return CalibrationRow(verdict, scenario.name, scenario.description, truth, powered, n, counts, rates,
                          {answer: wilson(counts[answer], n) for answer in counts}, wrong, right, within, design)


def answer_replicate(name: str, seed: int, replicate: int, size: str) -> dict:
    """The answers of every verdict on one planted set of scenario ``name`` (a picklable unit of work)."""
    scenario = scenarios()[name]
    data = scenario.draw(seed, replicate, size)
    return ANALYSES[scenario.analysis](data, dict(scenario.options))


def calibrate(verdicts=None, names=None, replicates: int = 40, seed: int = 0, size: str = "full",
              workers: int = 1, progress: bool = False) -> list[CalibrationRow]:
    """Rows of (verdict, scenario) for the verdicts in ``verdicts`` (default: all) over the scenarios in
    ``names`` (default: all that calibrate them), ``replicates`` planted sets each."""
    chosen = {name: s for name, s in scenarios().items()
              if (names is None or name in names) and (verdicts is None or set(verdicts) & set(s.truth))}
    jobs = [(name, seed, i, size) for name in chosen for i in range(replicates)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(_progress(pool.map(answer_replicate, *zip(*jobs)), len(jobs), progress))
    else:
        results = list(_progress((answer_replicate(*job) for job in jobs), len(jobs), progress))
    rows = []
    for k, (_name, scenario) in enumerate(chosen.items()):
        answers = results[k * replicates:(k + 1) * replicates]
        for verdict in scenario.truth:
            if verdicts is None or verdict in verdicts:
                rows.append(_row(scenario, verdict, [a.get(verdict, "inconclusive") for a in answers]))
    return rows


def _progress(iterable, total: int, show: bool):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc="calibrate", unit="set")


def table_text(rows: list[CalibrationRow]) -> str:
    """One line per row: verdict, scenario, truth, rates with intervals, and whether it is within design."""
    lines = []
    for r in rows:
        cells = "  ".join(f"{a} {r.rates[a]:.2f} [{r.intervals[a][0]:.2f}, {r.intervals[a][1]:.2f}]"
                          for a in (*ANSWERS, "inconclusive"))
        lines.append(f"{r.verdict:<3} {r.scenario:<28} truth {r.truth:<13} n={r.replicates:<4} {cells}  "
                     f"{'within design' if r.within_design else 'OUTSIDE DESIGN'} ({r.design})")
    return "\n".join(lines)


def trust_rows(verdict_id: str, table: dict | None = None) -> list[dict]:
    """The rows of the shipped calibration table (:func:`statmech_nn.package_data.calibration_table`, or
    ``table``) for one verdict."""
    if table is None:
        from ..package_data import calibration_table

        table = calibration_table() or {"rows": []}
    return [row for row in table["rows"] if row["verdict"] == verdict_id]


def trust_text(verdict_id: str, table: dict | None = None) -> str:
    """One sentence on how far to trust an answer of ``verdict_id``: its worst wrong-answer rate and its
    lowest power on the stated alternatives, with their Wilson intervals, from the shipped table."""
    rows = trust_rows(verdict_id, table)
    if not rows:
        return "not calibrated: no planted scenario for this verdict in the shipped table"
    worst = max(rows, key=lambda r: r["wrong_rate"])
    wrong_word = OTHER[worst["truth"]]
    low, high = worst["intervals"][wrong_word]
    parts = [(f"{len(rows)} planted scenarios, {worst['replicates']} sets each: wrong answer in at most "
              f"{worst['wrong_rate']:.0%} [{low:.0%}, {high:.0%}] of sets ({worst['scenario']})")]
    powered = [r for r in rows if r["powered"]]
    if powered:
        weakest = min(powered, key=lambda r: r["power"])
        low, high = weakest["intervals"][weakest["truth"]]
        parts.append(f"right answer on the stated alternatives in at least {weakest['power']:.0%} [{low:.0%}, "
                     f"{high:.0%}] ({weakest['scenario']})")
    else:
        parts.append("no stated alternative: never shown to reach a definite right answer")
    outside = [r["scenario"] for r in rows if not r["within_design"]]
    parts.append("OUTSIDE DESIGN on " + ", ".join(outside) if outside else "within design")
    return "; ".join(parts)
