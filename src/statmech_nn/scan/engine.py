"""The scan engine: every pending block of a spec's grid as one task, on an executor, into a resumable store.

:func:`run_scan` opens (or creates) the store, submits the blocks not yet done (at most a few per worker in
flight), writes each result as it arrives (the driver is the only writer; :mod:`.scan_store` says why a block is
done exactly when its status says so), re-submits a failing block up to ``retries`` more times, and records
the last error of a block that still fails without stopping the scan. Re-running the same command resumes.
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from tqdm import tqdm

from ..errors import DataError
from ..params import require_int
from .cell_runs import cell_directory
from .executors import LocalPool
from .scan_spec import ScanSpec
from .scan_store import DONE, FAILED, ScanStore, read_store
from .tasks import DEFAULT_CHUNK, check_spec, execute, resolve

IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class ScanOutcome:
    """What a run of the engine did: the store, its cells, how many are done or failed, this run's timing."""

    out: Path
    cells: int
    done: int
    failed: int
    computed: int          # cells computed (done or failed) by this run
    seconds: float

    @property
    def cells_per_s(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict:
        return {"out": str(self.out), "cells": self.cells, "done": self.done, "failed": self.failed,
                "computed": self.computed, "seconds": self.seconds, "cells_per_s": self.cells_per_s}


def run_scan(spec: ScanSpec, out, executor=None, *, retries: int = 0, progress: bool = True,
             overwrite: bool = False, confirmed: bool = False) -> ScanOutcome:
    """Compute every cell of ``spec`` not yet done in the store ``out`` (see the module docstring); the spec is
    checked first (:func:`~.tasks.check_spec`; ``confirmed``: beyond the budget, as ``--yes-large``)."""
    retries = require_int("retries", retries, 0)
    function = resolve(spec.task)
    check_spec(spec, function, confirmed)
    batched = bool(getattr(function, "batched", False))
    store = ScanStore.open(out, spec, spec.chunk or (DEFAULT_CHUNK if batched else 1), overwrite=overwrite,
                           attributes=getattr(function, "attributes", None))
    pending = store.pending()
    executor = executor if executor is not None else LocalPool()
    if hasattr(executor, "limit") and not executor.started:
        executor.limit(len(pending))
    started = time.perf_counter()
    computed = 0
    with ExitStack() as stack, tqdm(total=sum(b.cells for b in pending), unit="cell", desc=f"scan {spec.name}",
                        disable=not progress, file=sys.stderr, dynamic_ncols=True) as bar:
        if not executor.started:   # one the caller started (and will close) is used as it is
            stack.enter_context(executor)
        queue = list(reversed(pending))
        attempts = {}
        futures = {}

        def submit(block):
            arguments = [spec.block_spec(block.indices)] if batched else \
                [spec.cell_spec(np.unravel_index(i, spec.shape)) for i in block.indices]
            if getattr(function, "keeps_runs", False):   # each cell's run directory in the store (.cell_runs)
                arguments = [{**a, "cell_dir": str(cell_directory(store.path, i))}
                             for a, i in zip(arguments, block.indices)]
            attempts[block.key] = attempts.get(block.key, 0) + 1
            future = executor.submit(execute, spec.task, arguments, block.cells)
            futures[future] = block
            return future

        limit = IN_FLIGHT_PER_WORKER * max(1, executor.workers)
        while queue and len(futures) < limit:
            submit(queue.pop())
        finished = executor.as_completed(list(futures))
        for future in finished:
            block = futures.pop(future)
            try:
                outcome, payload, seconds = future.result()
            except executor.recoverable as exc:   # the worker died under the task
                outcome, payload, seconds = "error", f"worker lost: {type(exc).__name__}: {exc}", np.nan
            if outcome == "error" and attempts[block.key] <= retries:
                finished.add(submit(block))
                continue
            if outcome == "ok":
                store.write_result(block, payload, attempts[block.key], seconds)
            else:
                store.write_failure(block, payload, attempts[block.key])
            computed += block.cells
            bar.update(block.cells)
            while queue and len(futures) < limit:
                finished.add(submit(queue.pop()))
    seconds = time.perf_counter() - started
    status = store.status()
    return ScanOutcome(store.path, spec.cells, int(np.sum(status == DONE)), int(np.sum(status == FAILED)),
                       computed, seconds)


def load_scan(out) -> xr.Dataset:
    """A scan store as a Dataset (loaded), bookkeeping variables included."""
    path = Path(out)
    try:
        dataset = read_store(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable path
        raise DataError(f"{path} is not a scan store ({exc})") from None
    if "signature" not in dataset.attrs:
        raise DataError(f"{path} is not a scan store")
    return dataset
