"""Shared by every benchmark: median timings and the one JSON line each benchmark prints.

Usage from a benchmark script (run from the repository root with the project's venv):

    from harness import median_seconds, report
    ours = median_seconds(lambda: fast(...), repeat=5)
    reference = median_seconds(lambda: slow(...), repeat=3)
    report("name", ours_s=ours, reference_s=reference, check={"passed": ok, "max_rel_dev": dev}, unit=..., ...)

The line holds both timings (medians of `repeat` runs, seconds per call), their ratio
(reference / ours: > 1 means ours is faster), a correctness check that both computed the same thing,
and the machine it ran on. The machine is noisy (2 shared cores): quote medians and ratios.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time


def median_seconds(function, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``function()`` over ``repeat`` calls, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> dict:
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}


def report(name: str, *, ours_s: float, reference_s: float, check: dict, **extra) -> dict:
    """Print and return the benchmark's one JSON line."""
    line = {"benchmark": name, "ours_s": ours_s, "reference_s": reference_s,
            "ratio": reference_s / ours_s if ours_s > 0 else float("inf"), "check": check, **extra,
            "machine": machine()}
    print(json.dumps(line, default=float))
    return line
