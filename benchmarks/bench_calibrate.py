"""The calibration table in ``make bench``: every verdict on every planted scenario at the design size.

Runs :func:`statmech_nn.compare.calibration.calibrate` (the same code as ``statmech-nn calibrate``) and prints
one JSON line per verdict × scenario row as each scenario finishes: the rate of each answer with its Wilson
95 % interval, the wrong-answer rate and the power, whether the row is within its design, and the seconds per
planted set; then one line overall. 40 sets per scenario at the README's sizes by default: a network-analysis
scenario costs ~8 s per set, a plasticity one ~0.5 s (2 shared cores). The check of each row is its design
(wrong answer ≤ 5 %, power ≥ 80 % on stated alternatives).
A row outside its design is reported, not raised: the bench shows the table, ``statmech-nn calibrate`` exits 1.

Run: PYTHONPATH=benchmarks .venv/bin/python benchmarks/bench_calibrate.py [--replicates 40] [--size full]
     [--verdict P3 ...] [--workers 1]
"""

import argparse
import json
import time

from harness import machine

from statmech_nn.compare.calibration import calibrate
from statmech_nn.compare.planted import scenarios

REPLICATES = 40
SIZE = "full"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=REPLICATES)
    parser.add_argument("--size", choices=("full", "reduced"), default=SIZE)
    parser.add_argument("--verdict", action="append")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = [name for name, s in scenarios().items() if args.verdict is None or set(args.verdict) & set(s.truth)]
    started, rows = time.perf_counter(), []
    for name in names:   # scenario by scenario, so that a long run shows its rows as they come
        begun = time.perf_counter()
        found = calibrate(args.verdict, [name], args.replicates, args.seed, args.size, args.workers)
        per_set = (time.perf_counter() - begun) / args.replicates
        for row in found:
            print(json.dumps({"benchmark": "calibrate", "verdict": row.verdict, "scenario": row.scenario,
                              "truth": row.truth, "powered": row.powered, "size": args.size,
                              "replicates": row.replicates, "rates": row.rates, "intervals": row.intervals,
                              "wrong_rate": row.wrong_rate, "power": row.power, "seconds_per_set": per_set,
                              "check": {"passed": row.within_design, "design": row.design}}), flush=True)
        rows += found
    seconds = time.perf_counter() - started
    sets = len(names) * args.replicates
    print(json.dumps({"benchmark": "calibrate_all", "size": args.size, "replicates": args.replicates,
                      "rows": len(rows), "within_design": sum(r.within_design for r in rows),
                      "check": {"passed": all(r.within_design for r in rows)}, "seconds": seconds,
                      "seconds_per_set": seconds / max(sets, 1), "workers": args.workers, "machine": machine()}))


if __name__ == "__main__":
    main()
