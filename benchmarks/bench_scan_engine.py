"""The scan engine: scaling of a training-protocol scan over workers, and its overhead on the quartic kernel.

Prints one JSON line per case:

- ``scan_engine_training_scaling``: a small network SOC scan (002 §5 protocol, digits, mlp:64-16-10, 210
  epochs, about 3 s a cell; 8 cells of lr x weight decay) with 1 and 2 local worker processes; ours = 2 workers,
  reference = 1 worker, ratio = speed-up, scaling efficiency = speed-up / 2 (target >= 0.8), measured on pools
  whose workers have started (imported torch) beforehand, and cold (start-up included); check: both scans equal
  cell by cell.
- ``scan_engine_quartic``: the quartic scan (mu > 0, 1000 x 1000 grid) through the engine (default workers,
  store writes; warm pool, and cold) against :func:`statmech_nn.scan.grid.quartic_scan`, the direct vectorized
  kernel in memory; ratio = engine points/s over direct points/s (target >= 0.8); check: identical values.

The machine is 2 cores shared by several agents: the scaling measured depends on what else runs; the training
line says how many cores the cold runs were granted (CPU seconds / wall seconds, driver and workers together):
a speed-up cannot exceed the ratio of the two.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import report

from statmech_nn.params import GridAxis
from statmech_nn.scan.engine import load_scan, run_scan
from statmech_nn.scan.executors import LocalPool
from statmech_nn.scan.grid import quartic_scan
from statmech_nn.scan.scan_spec import ScanSpec

TRAINING = {"arch": "mlp:64-16-10", "dataset": "digits", "lr": 1e-2, "weight_decay": 5e-4, "batch_size": 1,
            "until_equilibrium": False, "warmup_epochs": 150, "epochs": 60, "track": 8, "backend": "fast",
            "device": "cpu", "torch_threads": 1, "seed": 0}
QUARTIC = {"g": 1.0, "lambda_q": 1.0, "alpha": 0.5, "beta": 1.0, "mu": 1e-3}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (a closed pool's workers)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def _timed_scan(spec, workers, root: Path, name: str, warm_spec=None):
    """Seconds of ``spec`` on a pool of ``workers``: cold (the pool's start-up included) or, after ``warm_spec``
    has run on the same pool (every worker has imported what the task needs), warm; and for a cold run the CPU
    seconds it took (driver and workers), so that the cores the shared machine granted are known."""
    cpu = _cpu()
    with LocalPool(workers) as pool:
        if warm_spec is not None:
            run_scan(warm_spec, root / f"warm-{name}", pool, progress=False)
        started = time.perf_counter()
        outcome = run_scan(spec, root / name, pool, progress=False)
        seconds = time.perf_counter() - started
    return seconds, outcome, load_scan(root / name), _cpu() - cpu


def training_scaling(root: Path) -> None:
    spec = ScanSpec.from_dict({"scan": {"task": "network-soc"}, "training": TRAINING,
                               "analysis": {"gof_bootstrap": 0, "figures": False}},
                              ["training.lr=3e-3:3e-2:4log", "training.weight_decay=1e-4,1e-3"])
    warm = ScanSpec.from_dict({"scan": {"task": "network-soc"}, "training": {**TRAINING, "warmup_epochs": 0,
                                                                            "epochs": 1, "track": 2},
                               "analysis": {"gof_bootstrap": 0, "figures": False}}, ["training.lr=1e-3,2e-3"])
    one_cold_s, _, _, one_cpu = _timed_scan(spec, 1, root, "one-cold.zarr")
    two_cold_s, _, _, two_cpu = _timed_scan(spec, 2, root, "two-cold.zarr")
    one_s, one, first, _ = _timed_scan(spec, 1, root, "one.zarr", warm)
    two_s, two, second, _ = _timed_scan(spec, 2, root, "two.zarr", warm)
    same = all(np.array_equal(first[v].values, second[v].values, equal_nan=True)
               for v in ("test_accuracy", "median_exponent_2s", "peak_mass"))
    speedup = one_s / two_s
    report("scan_engine_training_scaling", ours_s=two_s / spec.cells, reference_s=one_s / spec.cells,
           check={"passed": same and one.done == two.done == spec.cells, "identical_cells": same,
                  "cells_done": [one.done, two.done]},
           cells=spec.cells, cells_per_s_1_worker=spec.cells / one_s, cells_per_s_2_workers=spec.cells / two_s,
           speedup=speedup, scaling_efficiency=speedup / 2, target_efficiency=0.8, meets_target=speedup / 2 >= 0.8,
           seconds_per_cell=float(np.nanmean(first["seconds"].values)), pools="warm (workers started beforehand)",
           cold_speedup=one_cold_s / two_cold_s, cold_scaling_efficiency=one_cold_s / two_cold_s / 2,
           cold_seconds_1_and_2_workers=[one_cold_s, two_cold_s], cold_cpu_seconds_1_and_2_workers=[one_cpu, two_cpu],
           cores_granted_1_and_2_workers=[one_cpu / one_cold_s, two_cpu / two_cold_s])


def quartic_overhead(root: Path) -> None:
    axes = [GridAxis.parse("lambda_x=-0.05:0.05:1000"), GridAxis.parse("alpha=0.1:0.9:1000")]
    started = time.perf_counter()
    direct = quartic_scan(axes, QUARTIC, progress=False)
    direct_s = time.perf_counter() - started
    spec = ScanSpec.from_dict({"scan": {"task": "quartic"}, "model": QUARTIC},
                              ["model.lambda_x=-0.05:0.05:1000", "model.alpha=0.1:0.9:1000"])
    warm = ScanSpec.from_dict({"scan": {"task": "quartic", "chunk": 1}, "model": QUARTIC}, ["model.lambda_x=0.1,0.2"])
    cold_s = _timed_scan(spec, None, root, "quartic-cold.zarr")[0]
    engine_s, outcome, scan, _ = _timed_scan(spec, None, root, "quartic.zarr", warm)
    deviation = max(float(np.nanmax(np.abs(scan[v].values - direct[v].values))) for v in ("q2_mean", "mass_powerlaw"))
    points = spec.cells
    report("scan_engine_quartic", ours_s=engine_s / points, reference_s=direct_s / points,
           check={"passed": deviation == 0.0 and outcome.done == points, "max_abs_dev": deviation},
           points=points, engine_points_per_s=points / engine_s, direct_points_per_s=points / direct_s,
           engine_over_direct=direct_s / engine_s, target=0.8, meets_target=direct_s / engine_s >= 0.8,
           workers=LocalPool().workers, pool="warm", cold_engine_over_direct=direct_s / cold_s)


if __name__ == "__main__":
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        training_scaling(work)
        quartic_overhead(work)
    finally:
        shutil.rmtree(work)
