"""Scan tasks: what a worker computes for one block of cells, and the registry of named tasks.

A task is named by a short name of :data:`TASKS` or by ``"package.module:function"``, resolved on the worker;
either way the function must be marked as a task by :func:`task` (or :func:`batched`), so that a spec file can
run a scan task and nothing else (``os:system`` or any other unmarked function is refused). Porting a plain loop
over cells is one function with ``@task`` and a spec; a user's own function in their own module works the same,
once that module is imported (by the program that calls :func:`~statmech_nn.scan.engine.run_scan`, or by
``statmech-nn scan --import MODULE``): a spec file alone never imports code. A per-cell task takes the cell's spec
as keyword arguments and returns ``{name: scalar}`` or
``{name: (dims, small array)}``; a function with ``batched = True`` (set by :func:`batched`) gets every grid
key as a 1-D array over a block's cells and returns arrays of that length (or ``(dims, array)`` with the cells
first). :func:`execute` runs a block and turns any exception into an ``("error", message)`` outcome, so
a failing cell is a status in the store, never a stopped scan. Each task runs with one BLAS and one numba thread:
the parallelism is the workers' (BLAS threads of several workers on the same cores oversubscribe them: the
``hs scan`` of issue 13 took 36 s for N = 200 with OpenBLAS's default threads, 4.4 s with one).
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
import traceback
import warnings

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ParameterError
from ..params import require_budget
from .scan_spec import BYTES_PER_CELL

TASKS = {  # short name: the function (a batched one computes a whole block in one call)
    "quartic": "statmech_nn.scan.grid:quartic_block",
    "network-soc": "statmech_nn.scan.network_task:soc_cell",
    "cw-phase-diagram": "statmech_nn.scan.meanfield_tasks:cw_block",
    "hs-field": "statmech_nn.scan.meanfield_tasks:hs_field_block",
    "langevin-bias": "statmech_nn.scan.langevin_bias:bias_cell",
    "capacity": "statmech_nn.scan.capacity:capacity_cell",
}
DEFAULT_CHUNK = 65536   # cells per task of a batched task unless the spec says otherwise


def task(function):
    """Mark ``function`` as a scan task (a spec file may name it)."""
    function.scan_task = True
    return function


def batched(function):
    """Mark ``function`` as a batched task (it evaluates a block of cells in one vectorized call)."""
    function.batched = True
    return task(function)


def resolve(reference: str, imported_by_driver: bool = False):
    """The task function named by a short name or ``"package.module:function"`` (marked by :func:`task`).

    No code is imported before it is known to be a task's: a module is imported only if it holds a registered
    task (:data:`TASKS`), or is already imported (by the program that runs the scan: a user's own module), or
    (``imported_by_driver``, on a worker) the driver resolved the same reference already. A spec naming any other
    module (``this:s``, a file that happens to lie in the working directory) is refused without running it.
    """
    target = TASKS.get(reference, reference)
    module, sep, name = target.partition(":")
    if not sep or not module or not name:
        raise ParameterError("scan.task", reference,
                             "a task name (" + ", ".join(TASKS) + ") or 'package.module:function'")
    registered = {value.partition(":")[0] for value in TASKS.values()}
    if not (module in registered or module in sys.modules or imported_by_driver):
        raise ParameterError("scan.task", reference, "a registered task (" + ", ".join(TASKS) + ") or a function of "
                             "a module imported first (statmech-nn scan --import MODULE, or by the program calling "
                             "run_scan)")
    try:
        function = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ParameterError("scan.task", reference, f"an importable function ({exc})") from None
    if not (callable(function) and getattr(function, "scan_task", False)):
        raise ParameterError("scan.task", reference, "a function marked as a scan task (@statmech_nn.scan.tasks.task)")
    return function


def check_spec(spec, function, confirmed: bool = False) -> None:
    """What the driver checks before any cell runs, so that a spec file or a ``--set`` gets the same refusals as
    the command line: the grid's size (the memory budget, :func:`statmech_nn.params.require_budget`), every number
    of the spec finite (its base; its axes are checked by :class:`~statmech_nn.params.GridAxis`), the spec's keys
    fitting the task's arguments (an unknown key is refused, not failed in every cell), and the task's own check
    of the model (``function.check(spec, confirmed)``, e.g. :func:`statmech_nn.scan.grid.check_quartic_spec`)."""
    require_budget(f"the grid ({spec.cells:.3g} cells)", memory=BYTES_PER_CELL * spec.cells, confirmed=confirmed)
    _require_finite_values(spec.base, "")
    first = spec.block_spec(np.zeros(1, int)) if getattr(function, "batched", False) else \
        spec.cell_spec((0,) * len(spec.axes))
    try:
        inspect.signature(function).bind(**first)
    except TypeError as exc:
        raise ParameterError("scan spec", ", ".join(sorted(first)), f"the arguments of task {spec.task!r} ({exc})") \
            from None
    check = getattr(function, "check", None)
    if check is not None:
        check(spec, confirmed)


def _require_finite_values(node, prefix: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _require_finite_values(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    elif isinstance(node, (list, tuple)):
        for value in node:
            _require_finite_values(value, prefix)
    elif isinstance(node, float) and not np.isfinite(node):
        raise ParameterError(prefix, node, "a finite number")


def execute(reference: str, arguments: list[dict], cells: int) -> tuple:
    """Run one block on a worker: ``("ok", {name: (dims, array (cells, ...))}, seconds)`` or
    ``("error", message, seconds)``. ``arguments`` is one spec per cell, or one spec with array-valued grid keys
    for a batched task."""
    started = time.perf_counter()
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")   # a cell's caveats are its order parameters and statuses, not stderr
            function = resolve(reference, imported_by_driver=True)
            if getattr(function, "batched", False):
                results = _columns(function(**arguments[0]), cells)
            else:
                results = _stack([function(**spec) for spec in arguments])
    except Exception as exc:  # noqa: BLE001 - a failing cell is recorded, not raised
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        message = f"{type(exc).__name__}: {exc} ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
        return "error", message, time.perf_counter() - started
    finally:
        numba.set_num_threads(threads)
    return "ok", results, time.perf_counter() - started


def _entry(value):
    """(dims, array) of one order parameter of one cell."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], (tuple, list)):
        dims, array = tuple(value[0]), np.asarray(value[1])
        if array.ndim != len(dims):
            raise ValueError(f"an array with dims {dims} has shape {array.shape}")
        return dims, array
    if value is None:
        return (), np.asarray(np.nan)
    array = np.asarray(value)
    if array.ndim:
        raise ValueError("an array result needs named dims: return (dims, array)")
    return (), array.astype(float) if array.dtype.kind in "biu" else array


def _stack(rows: list[dict]) -> dict:
    names = list(dict.fromkeys(name for row in rows for name in row))
    out = {}
    for name in names:
        entries = [_entry(row.get(name)) for row in rows]
        dims = next((d for d, _ in entries if d), ())
        out[name] = (dims, np.stack([a for _, a in entries]))
    return out


def _columns(result: dict, cells: int) -> dict:
    out = {}
    for name, value in result.items():
        dims, array = (tuple(value[0]), np.asarray(value[1])) if isinstance(value, tuple) else ((), np.asarray(value))
        if dims and dims[0] == "cell":
            dims = dims[1:]
        if array.shape[:1] != (cells,):
            raise ValueError(f"a batched task returned {name} with shape {array.shape} for {cells} cells")
        out[name] = (dims, array.astype(float) if array.dtype.kind in "biu" else array)
    return out
