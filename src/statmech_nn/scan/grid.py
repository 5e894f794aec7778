"""The quartic model's grids: the batched scan task and the direct in-memory kernel loop.

:func:`quartic_block` is the scan engine's task (``[scan] task = "quartic"``, grid keys ``model.<parameter>``):
:func:`statmech_nn.quartic.batch.evaluate` on a block of cells in one vectorized call. :func:`quartic_scan`
evaluates the same kernel on the outer product of the axes in memory (the reference the engine's throughput is
measured against, ``benchmarks/bench_scan_engine.py``), labelled with the axes as dimensions.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np
import xarray as xr
from tqdm import tqdm

from .. import __version__
from ..errors import ParameterError
from ..params import GridAxis
from ..quartic import batch
from ..quartic.parameters import BY_NAME, SHAPE_PARAMETERS, require_computable
from .tasks import DEFAULT_CHUNK, batched

# the grid axes: the parameters that shape p(q) (the table's, :mod:`statmech_nn.quartic.parameters`)
QUARTIC_SCAN_PARAMETERS = SHAPE_PARAMETERS


def check_quartic_grid(axes: Sequence[GridAxis], fixed: dict) -> dict:
    """Every shape parameter given once, as an axis or a fixed value, and allowed over the whole grid; returns the
    fixed values with the table's defaults (e.g. mu = 0) filled in."""
    names = [axis.name for axis in axes]
    for name in names:
        if name not in QUARTIC_SCAN_PARAMETERS:
            raise ParameterError("grid", name, "one of " + ", ".join(QUARTIC_SCAN_PARAMETERS))
    if len(set(names)) != len(names):
        raise ParameterError("grid", names, "a list of distinct parameters")
    unknown = sorted(set(fixed) - set(BY_NAME))
    if unknown:
        raise ParameterError(f"model.{unknown[0]}", fixed[unknown[0]], "a parameter of the quartic model (one of "
                             + ", ".join(BY_NAME) + ")")
    fixed = {p: BY_NAME[p].default for p in QUARTIC_SCAN_PARAMETERS if BY_NAME[p].default is not None} | {
        p: BY_NAME[p].require(v) for p, v in fixed.items() if p not in names}
    missing = [p for p in QUARTIC_SCAN_PARAMETERS if p not in names and p not in fixed]
    if missing:
        raise ParameterError(missing[0], None, "given, either as a grid axis or as a fixed value")
    for name, value in fixed.items():
        require_computable(name, value)
    for axis in axes:
        parameter = BY_NAME[axis.name]
        if not np.all(parameter.holds(axis.values)):
            raise ParameterError(axis.name, f"{axis.values.min()}..{axis.values.max()}",
                                 parameter.allowed + " over the whole grid")
        require_computable(axis.name, axis.values)
    return fixed


def quartic_scan(axes: Sequence[GridAxis], fixed: dict, progress: bool = True) -> xr.Dataset:
    """The quartic model's regimes, <(q - q̄)²> and regime masses over the grid (002 eqs. (6)-(7))."""
    fixed = check_quartic_grid(axes, fixed)
    names = [axis.name for axis in axes]
    mesh = dict(zip(names, np.meshgrid(*(axis.values for axis in axes), indexing="ij")))
    shape = mesh[names[0]].shape if names else ()
    flat = {p: np.broadcast_to(mesh[p] if p in mesh else np.asarray(fixed[p], float), shape).ravel()
            for p in QUARTIC_SCAN_PARAMETERS}
    results = {name: np.empty(flat["g"].size) for name in batch.QUANTITIES}
    started = time.perf_counter()
    with tqdm(total=flat["g"].size, unit="pt", disable=not progress, file=sys.stderr, desc="quartic scan") as bar:
        for start in range(0, flat["g"].size, DEFAULT_CHUNK):
            part = slice(start, start + DEFAULT_CHUNK)
            for name, values in batch.evaluate({p: flat[p][part] for p in QUARTIC_SCAN_PARAMETERS}).items():
                results[name][part] = values
            bar.update(min(DEFAULT_CHUNK, flat["g"].size - start))
    seconds = time.perf_counter() - started
    data_vars = {name: (names, results[name].reshape(shape), {"units": units, "description": description})
                 for name, (units, description) in batch.QUANTITIES.items()}
    return xr.Dataset(
        data_vars,
        coords={axis.name: axis.values for axis in axes},
        attrs={"model": "quartic", "source": "002 eqs. (6)-(7)",
               "fixed": {p: float(fixed[p]) for p in fixed if p in QUARTIC_SCAN_PARAMETERS and p not in names},
               "points": int(flat["g"].size), "seconds": seconds, "package_version": __version__},
    )


def check_quartic_spec(spec, confirmed: bool = False) -> None:
    """A quartic scan spec's grid and model before any cell runs: axes ``model.<shape parameter>``, nothing but a
    ``[model]`` table, and every value allowed (:func:`check_quartic_grid`: NaN, g <= 0, beta <= 0... refused)."""
    unknown = sorted(set(spec.base) - {"model"})
    if unknown:
        raise ParameterError(unknown[0], spec.base[unknown[0]], "not a key of a quartic scan (only [model] and [grid])")
    axes = []
    for axis in spec.axes:
        group, _, name = axis.name.partition(".")
        if group != "model" or name not in QUARTIC_SCAN_PARAMETERS:
            raise ParameterError("grid", axis.name, "model.<parameter>, one of " + ", ".join(QUARTIC_SCAN_PARAMETERS))
        axes.append(GridAxis(name, axis.values, axis.scale))
    model = spec.base.get("model", {})
    if not isinstance(model, dict):
        raise ParameterError("model", model, "a table of the quartic model's parameters")
    check_quartic_grid(axes, {k: v for k, v in model.items() if k not in {a.name for a in axes}})


@batched
def quartic_block(model: dict) -> dict:
    """The scan task: 002 eqs. (6)-(7) on a block of cells (grid keys ``model.<parameter>`` hold arrays)."""
    values = {p: np.asarray(model.get(p, BY_NAME[p].default), float) for p in QUARTIC_SCAN_PARAMETERS}   # mu: 0
    size = max(v.size for v in values.values())
    return batch.evaluate({p: np.broadcast_to(v, (size,)) for p, v in values.items()})


quartic_block.check = check_quartic_spec
quartic_block.attributes = {name: {"units": units, "description": description}
                            for name, (units, description) in batch.QUANTITIES.items()}
