"""The replica cells of one grid point read back as one ensemble (issue 23, item 2; cells: :mod:`.cell_runs`).

:func:`scan_ensemble` gathers the kept runs of the cells along the ``replica`` axis at one point of the other
axes into **one** :class:`~statmech_nn.io.Trajectory`, laid out as ``train --replicas R`` lays out its own:
columns replica-major (replica r's K tracked weights, the same names in every replica), ``chain`` = the replica
index, metadata ``replicas`` and ``replica_init``. The analysis then judges it as one ensemble
(:func:`analyze_ensemble`: :func:`statmech_nn.analyze`, whose verdicts treat the chains as replicas). Every cell
of the point must be done, and every replica's rows must have the same steps ``t``. A point too large for memory:
:func:`write_ensemble` writes the same trajectory to a file block by block, and the streaming analysis reads it in
blocks (``statmech-nn analyze STORE --point ...`` does this: the ensemble's ``trajectory.h5`` in ``--out``).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import RunHeader, Trajectory, TrajectoryReader, TrajectoryWriter
from ..params import require_int
from .cell_runs import CELLS, REPLICA, cell_directory
from .engine import load_scan
from .scan_store import DONE

BLOCK_ROWS = 65536  # rows per block of write_ensemble
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


@contextmanager
def _open_cells(store, point: dict):
    """The readers of the replica cells at ``point`` and the ensemble's layout: ``(readers, offsets, layout)`` with
    ``layout`` = names, chain, run header and metadata of the ensemble; checks that the cells form one ensemble
    (the same tracked names; the rows' steps ``t`` are checked as they are read)."""
    cells = replica_cells(store, **point)
    with ExitStack() as stack:
        readers = []
        for _, run in cells:
            try:
                readers.append(stack.enter_context(TrajectoryReader(run)))
            except DataError as exc:
                raise DataError(f"the replica cell {run} holds no readable trajectory ({exc})") from None
        head, first = readers[0], cells[0][0]
        k = head.n_columns // head.metadata.get("replicas", 1)
        names = head.names[:k]
        for (offset, _), reader in zip(cells, readers):
            if reader.n_columns % k or reader.names != names * (reader.n_columns // k):
                raise DataError(f"replica {offset} tracks other weights than replica {first}: not one ensemble")
            if reader.n_rows != head.n_rows:
                raise DataError(f"replica {offset} has {reader.n_rows} rows, replica {first} {head.n_rows}: "
                                "not one ensemble")
        chain = np.concatenate([offset + (np.zeros(reader.n_columns, np.int64) if reader.chain is None
                                          else np.asarray(reader.chain, np.int64))
                                for (offset, _), reader in zip(cells, readers)])
        replicas = int(chain.size // k)
        model = head.header.model
        header = RunHeader(head.header.source, {**model, "replicas": replicas, "replica_offset": int(chain.min()),
                                                "out": str(store)}, head.header.dynamics, head.header.seed,
                           head.header.version)
        metadata = {**head.metadata, "replicas": replicas, "replica_init": model.get("replica_init", "independent"),
                    "columns": "replica-major: replica r's K tracked weights, chain r",
                    "replica_cells": [f"{CELLS}/{run.name}" for _, run in cells]}
        yield readers, [offset for offset, _ in cells], {"names": names * replicas, "chain": chain,
                                                         "header": header, "metadata": metadata}


def _rows(readers, offsets, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, q) of rows [start, stop) of the ensemble: the cells' columns side by side, their steps checked equal."""
    parts = [reader.read(start, stop) for reader in readers]
    t = parts[0][0]
    for offset, (other, _) in zip(offsets, parts):
        if not np.array_equal(other, t):
            raise DataError(f"replica {offset}'s rows are at other steps than replica {offsets[0]}'s: "
                            "not one ensemble")
    return t, np.concatenate([q for _, q in parts], axis=1)


def scan_ensemble(store, **point) -> Trajectory:
    """The replicas of the grid point ``point`` ({dimension name or dotted key: value}; an axis of one value may
    be left out) of the scan in ``store`` as one trajectory, in memory (see the module docstring)."""
    with _open_cells(store, point) as (readers, offsets, layout):
        t, q = _rows(readers, offsets, 0, readers[0].n_rows)
    header = layout["header"]
    return Trajectory(q=q, t=t, names=layout["names"], chain=layout["chain"], source=header.source,
                      parameters=header.model, seed=header.seed, dynamics=header.dynamics,
                      metadata=layout["metadata"], version=header.version)


def write_ensemble(store, path, block_rows: int = BLOCK_ROWS, **point) -> Path:
    """:func:`scan_ensemble` written to the trajectory file ``path`` block by block (``block_rows`` rows at a
    time), so that memory does not grow with the window; the streaming analysis then reads it in blocks."""
    block_rows = require_int("block_rows", block_rows, 1)
    with _open_cells(store, point) as (readers, offsets, layout):
        with TrajectoryWriter.create(path, layout["names"], header=layout["header"], chain=layout["chain"],
                                     dtype=readers[0].dtype, metadata=layout["metadata"]) as writer:
            for start in range(0, readers[0].n_rows, block_rows):
                writer.append(*_rows(readers, offsets, start, start + block_rows))
    return Path(path)


def analyze_ensemble(store, options=None, progress: bool = False, **point):
    """:func:`statmech_nn.analyze` of :func:`scan_ensemble` (the replicas of one grid point as one ensemble)."""
    from ..report.analysis_figures import analyze

    return analyze(scan_ensemble(store, **point), options, progress)
