"""The resumable scan store: one Zarr (v3) group holding the scan's xarray Dataset, filled block by block.

Layout: the grid axes are the dimensions (a coordinate each, named by the key's last part, ``attrs["key"]``
the full dotted key, ``attrs["scale"]`` linear or log); every variable is chunked by *block* (the cells one
task computes: one cell for a training run, a chunk of cells for a batched analytic task), so that a block's
write touches only its own chunk files. Besides the task's order parameters (float64, NaN until computed; or
strings) the store holds per cell ``status`` (0 pending, 1 done, 2 failed), ``error`` (the failure message),
``attempts`` and ``seconds`` (the block's compute time per cell).

What counts as done, and why it survives a crash: zarr's LocalStore writes every chunk file atomically (to a
temporary file, then an atomic rename), so a chunk is either the old or the new one, never torn. A block's
result chunks are written first and its ``status`` chunk last; ``status == 1`` is the commit record. A driver
killed between the two leaves the block pending: a re-run computes it again and overwrites the same chunks
(each cell has one place in the grid, so nothing is ever appended or duplicated). Only the driver writes.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .. import __version__
from ..errors import DataError
from ..runs.claim import LOCK_FILE, holds_run
from .scan_spec import ScanSpec

PENDING, DONE, FAILED = 0, 1, 2
ERROR_WIDTH = 256              # characters of an error message kept per cell
STRING_WIDTH = 64              # characters of a string order parameter (e.g. a verdict)
BOOKKEEPING = ("status", "error", "attempts", "seconds")


def block_shape(shape: tuple[int, ...], cells: int) -> tuple[int, ...]:
    """The block of at most ``cells`` cells: whole trailing axes while they fit, then part of the next one."""
    out, remaining = [1] * len(shape), max(1, int(cells))
    for d in reversed(range(len(shape))):
        if shape[d] <= remaining:
            out[d] = shape[d]
            remaining //= shape[d]
        else:
            out[d] = max(1, remaining)
            break
    return tuple(out)


@dataclass(frozen=True)
class Block:
    """One task's cells: its position in the block grid, its slices and its flat cell indices."""

    key: tuple[int, ...]
    region: tuple[slice, ...]
    indices: np.ndarray

    @property
    def cells(self) -> int:
        return int(self.indices.size)


def dimension_names(spec: ScanSpec) -> list[str]:
    """Each axis's dimension: the key's last part (``training.lr`` -> ``lr``) unless two axes share it."""
    short = [axis.name.split(".")[-1] for axis in spec.axes]
    return [s if short.count(s) == 1 else axis.name for s, axis in zip(short, spec.axes)]


class ScanStore:
    """A scan's Zarr store: create or reopen, list blocks, write a block's results, read the Dataset."""

    def __init__(self, path, spec: ScanSpec, block: tuple[int, ...], attributes: dict | None = None):
        self.path = Path(path)
        self.attributes = attributes or {}   # {variable: attrs} of the task's order parameters
        self.spec = spec
        self.block = block
        self.dims = dimension_names(spec)

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, path, spec: ScanSpec, block_cells: int, overwrite: bool = False,
             attributes: dict | None = None) -> ScanStore:
        """Open the store at ``path`` for ``spec``, creating it if absent; a store of another scan is an error
        (unless ``overwrite``)."""
        path = Path(path)
        signature = _signature(spec)
        if path.exists() and overwrite:
            for entry in path.iterdir():   # all but the writer's lock (runs.claim.claim), which it holds
                if entry.name != LOCK_FILE:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        if holds_run(path):
            try:
                with quiet_zarr():
                    attrs = xr.open_zarr(path, consolidated=False).attrs
            except Exception as exc:  # noqa: BLE001 - any unreadable store
                raise DataError(f"{path} exists and is not a scan store ({exc})") from None
            if attrs.get("signature") != signature:
                raise DataError(f"{path} holds another scan (task or grid differ); choose another --out")
            return cls(path, spec, tuple(attrs["block"]), attributes)
        store = cls(path, spec, block_shape(spec.shape, block_cells), attributes)
        store._create(signature)
        return store

    def _create(self, signature: str) -> None:
        import dask.array as da

        shape, chunks = self.spec.shape, self.block
        coords = {dim: (dim, axis.values, {"key": axis.name, "scale": axis.scale})
                  for dim, axis in zip(self.dims, self.spec.axes)}
        template = xr.Dataset(
            {"status": (self.dims, da.zeros(shape, dtype=np.int8, chunks=chunks),
                        {"long_name": "0 pending, 1 done, 2 failed (written last: the commit record)"}),
             "error": (self.dims, da.full(shape, "", dtype=f"<U{ERROR_WIDTH}", chunks=chunks),
                       {"long_name": "the failure message of the cell's last attempt"}),
             "attempts": (self.dims, da.zeros(shape, dtype=np.int16, chunks=chunks),
                          {"long_name": "tries of the cell"}),
             "seconds": (self.dims, da.full(shape, np.nan, chunks=chunks),
                         {"long_name": "compute time per cell (its block's time / its cells)", "units": "s"})},
            coords=coords,
            attrs={"signature": signature, "block": list(self.block), "task": self.spec.task,
                   "name": self.spec.name, "description": self.spec.description,
                   "spec": json.dumps(_jsonable(self.spec.to_dict())), "package_version": __version__})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with quiet_zarr():   # "a": the directory may hold the writer's lock file (runs.claim.claim), nothing else
            template.to_zarr(self.path, mode="a", compute=False, zarr_format=3, consolidated=False)

    # ----------------------------------------------------------------- blocks
    def blocks(self) -> list[Block]:
        shape, size = self.spec.shape, self.block
        counts = [math.ceil(n / b) for n, b in zip(shape, size)]
        out = []
        for key in itertools.product(*(range(c) for c in counts)):
            region = tuple(slice(k * b, min((k + 1) * b, n)) for k, b, n in zip(key, size, shape))
            mesh = np.meshgrid(*(np.arange(r.start, r.stop) for r in region), indexing="ij")
            out.append(Block(key, region, np.ravel_multi_index([m.ravel() for m in mesh], shape)))
        return out

    def status(self) -> np.ndarray:
        return np.asarray(self._group()["status"][...])

    def pending(self) -> list[Block]:
        """The blocks not every cell of which is done."""
        status = self.status()
        return [b for b in self.blocks() if not np.all(status[b.region] == DONE)]

    # ----------------------------------------------------------------- writing (driver only)
    def write_result(self, block: Block, results: dict, attempts: int, seconds: float) -> None:
        """Store a block's order parameters, then its status (the commit record)."""
        group = self._group()
        new = {name: value for name, value in results.items() if name not in group}
        if new:
            self._add_variables(new)
            group = self._group()
        shape = tuple(r.stop - r.start for r in block.region)
        for name, (_dims, values) in results.items():
            values = np.asarray(values)
            array = group[name]
            if array.dtype.kind == "U":
                values = np.array([str(v)[:STRING_WIDTH] for v in values.ravel()], array.dtype).reshape(values.shape)
            array[block.region] = values.reshape(shape + values.shape[1:])
        self._bookkeeping(group, block, "", attempts, seconds / block.cells, DONE)

    def write_failure(self, block: Block, message: str, attempts: int) -> None:
        self._bookkeeping(self._group(), block, message, attempts, np.nan, FAILED)

    def _bookkeeping(self, group, block: Block, message: str, attempts: int, seconds: float, status: int) -> None:
        shape = tuple(r.stop - r.start for r in block.region)
        if message or np.any(group["status"][block.region] == FAILED):   # "" is the fill: clear only a stale message
            group["error"][block.region] = np.full(shape, " ".join(message.split())[:ERROR_WIDTH], f"<U{ERROR_WIDTH}")
        group["attempts"][block.region] = np.full(shape, attempts, np.int16)
        group["seconds"][block.region] = np.full(shape, seconds)
        group["status"][block.region] = np.full(shape, status, np.int8)   # last: the commit record

    def _add_variables(self, new: dict) -> None:
        import dask.array as da

        variables = {}
        for name, (dims, values) in new.items():
            values = np.asarray(values)
            extra = tuple(values.shape[1:])
            shape, chunks = self.spec.shape + extra, self.block + extra
            if values.dtype.kind in "USO":
                data = da.full(shape, "", dtype=f"<U{STRING_WIDTH}", chunks=chunks)
            else:
                data = da.full(shape, np.nan, chunks=chunks)
            variables[name] = (tuple(self.dims) + tuple(dims), data, self.attributes.get(name, {}))
        with quiet_zarr():
            attrs = dict(self._group().attrs)   # appending rewrites the group's attributes: keep them
            xr.Dataset(variables, attrs=attrs).to_zarr(self.path, mode="a", compute=False, consolidated=False)

    def _group(self):
        import zarr

        return zarr.open_group(self.path, mode="r+")

    # ----------------------------------------------------------------- reading
    def dataset(self) -> xr.Dataset:
        """The whole scan, loaded (bookkeeping variables included)."""
        return read_store(self.path)


def read_store(path) -> xr.Dataset:
    """A store's Dataset, loaded, with the dtypes written (no CF masking: a status of 0 stays an int)."""
    with quiet_zarr():
        dataset = xr.open_zarr(path, consolidated=False, mask_and_scale=False).load()
    for variable in dataset.variables.values():
        variable.attrs.pop("_FillValue", None)
    return dataset


def _signature(spec: ScanSpec) -> str:
    return json.dumps({"task": spec.task, "axes": [[a.name, a.values.tolist()] for a in spec.axes],
                       "base": _jsonable(spec.base)}, sort_keys=True)


def _jsonable(value):
    from ..params import jsonable

    return jsonable(value)


class quiet_zarr(warnings.catch_warnings):
    """Silence zarr's notice that fixed-width strings are not yet in the v3 specification (they round-trip), and
    its notice about the writer's lock file in the store's directory (:func:`statmech_nn.runs.claim.claim`)."""

    def __enter__(self):
        super().__enter__()
        warnings.filterwarnings("ignore", message=f".*Object at {LOCK_FILE} is not recognized.*")
        warnings.filterwarnings("ignore", message=".*Object at cells is not recognized.*")   # kept runs, .cell_runs
        warnings.filterwarnings("ignore", message=".*not part of the Zarr format 3.*")
        warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")
