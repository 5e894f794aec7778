"""The replica cells of one grid point read back as one ensemble (issue 23, item 2; cells: :mod:`.cell_runs`).

:func:`scan_ensemble` gathers the kept runs of the cells along the ``replica`` axis at one point of the other
axes into **one** :class:`~statmech_nn.io.Trajectory`, laid out as ``train --replicas R`` lays out its own:
columns replica-major (replica r's K tracked weights, the same names in every replica), ``chain`` = the replica
index, metadata ``replicas`` and ``replica_init``. The analysis then judges it as one ensemble
(:func:`analyze_ensemble`: :func:`statmech_nn.analyze`, whose verdicts treat the chains as replicas). Every cell
of the point must be done, and every replica's rows must have the same steps ``t``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import Trajectory
from .cell_runs import CELLS, REPLICA, cell_directory
from .engine import load_scan
from .scan_store import DONE

POINT_RTOL = 1e-6   # a --point value names the grid value within this relative tolerance (3e-3 for 0.0030000001)


def _select(dataset, point: dict) -> tuple[int, ...]:
    """The grid index of every dimension but ``replica`` at ``point`` ({dimension or dotted key: value})."""
    keys = {dim: dataset[dim].attrs.get("key", dim) for dim in dataset["status"].dims}
    given = dict(point)
    index = []
    for dim, key in keys.items():
        if dim == REPLICA:
            index.append(slice(None))
            continue
        values = np.asarray(dataset[dim].values, float)
        name = dim if dim in given else key if key in given else None
        if name is None:
            if values.size != 1:
                raise DataError(f"the point needs a value of {dim} (one of {values.tolist()})")
            index.append(0)
            continue
        value = float(given.pop(name))
        match = np.flatnonzero(np.isclose(values, value, rtol=POINT_RTOL, atol=0.0))
        if match.size != 1:
            raise DataError(f"{dim} = {value:g} is not a value of the scan's grid (one of {values.tolist()})")
        index.append(int(match[0]))
    if given:
        raise DataError(f"{sorted(given)} are not axes of the scan (its axes: {sorted(keys)})")
    return tuple(index)


def replica_cells(store, **point) -> list[tuple[int, Path]]:
    """``(replica value, run directory)`` of the replica cells at ``point`` of the scan in ``store``, in the
    order of the replica axis; a DataError if the scan has no replica axis or a cell is not done."""
    dataset = load_scan(store)
    dims = list(dataset["status"].dims)
    if REPLICA not in dims:
        raise DataError(f"{store} has no '{REPLICA}' axis (its axes: {dims})")
    index = _select(dataset, point)
    shape = dataset["status"].shape
    axis = dims.index(REPLICA)
    cells = []
    for j, value in enumerate(dataset[REPLICA].values):
        at = tuple(j if d == axis else i for d, i in enumerate(index))
        status = int(dataset["status"].values[at])
        if status != DONE:
            where = ", ".join(f"{d} = {dataset[d].values[i]:g}" for d, i in zip(dims, at))
            raise DataError(f"the cell at {where} is not done (status {status}); run the scan to its end first")
        cells.append((int(value), cell_directory(store, int(np.ravel_multi_index(at, shape)))))
    return cells


def scan_ensemble(store, **point) -> Trajectory:
    """The replicas of the grid point ``point`` ({dimension name or dotted key: value}; an axis of one value may
    be left out) of the scan in ``store`` as one trajectory (see the module docstring)."""
    cells = replica_cells(store, **point)
    parts = []
    for first, run in cells:
        try:
            trajectory = Trajectory.load(run / "trajectory.h5")
        except DataError as exc:
            raise DataError(f"the replica cell {run} holds no readable trajectory ({exc})") from None
        parts.append((first, trajectory))
    first, head = parts[0]
    per_cell = head.metadata.get("replicas", 1)
    k = head.n_columns // per_cell
    names = head.names[:k]
    for offset, part in parts:
        if not np.array_equal(part.t, head.t):
            raise DataError(f"replica {offset}'s rows are at other steps than replica {first}'s: not one ensemble")
        if part.names != names * (part.n_columns // k) or part.n_columns % k:
            raise DataError(f"replica {offset} tracks other weights than replica {first}: not one ensemble")
    chain = np.concatenate([offset + part.chain for offset, part in parts])
    replicas = int(chain.size // k)
    init = head.parameters.get("replica_init", "independent")
    metadata = {**head.metadata, "replicas": replicas, "replica_init": init,
                "columns": "replica-major: replica r's K tracked weights, chain r",
                "replica_cells": [f"{CELLS}/{run.name}" for _, run in cells]}
    parameters = {**head.parameters, "replicas": replicas, "replica_offset": int(chain.min()), "out": str(store)}
    return Trajectory(q=np.concatenate([part.q for _, part in parts], axis=1), t=head.t, names=names * replicas,
                      chain=chain, source=head.source, parameters=parameters, seed=head.seed,
                      dynamics=head.dynamics, metadata=metadata, version=head.version)


def analyze_ensemble(store, options=None, progress: bool = False, **point):
    """:func:`statmech_nn.analyze` of :func:`scan_ensemble` (the replicas of one grid point as one ensemble)."""
    from ..report.analysis import analyze

    return analyze(scan_ensemble(store, **point), options, progress)
