"""Readers for the on-disk formats of the standard image data sets: IDX (MNIST, Fashion-MNIST) and
CIFAR-10's python batches. Every failure is a :class:`DataError` that names the file.

IDX (LeCun's format): bytes 0-1 are zero, byte 2 codes the element type, byte 3 is the number of
dimensions d; then d big-endian uint32 sizes, then the data, big-endian, row-major. A ``.gz`` file is
read through gzip.

CIFAR-10 python batches (``data_batch_1`` … ``data_batch_5``, ``test_batch``) are pickled dicts with
``b"data"`` (uint8, (n, 3072), channel-major 32x32 planes) and ``b"labels"`` (n ints). Unpickling is the
format's own loader, so reading one *runs the unpickler on a user-supplied file*; we restrict it to
the few classes a CIFAR batch contains (numpy arrays and dtypes, builtin containers), so a file that
asks for anything else is refused instead of executed. Nothing here ever writes a pickle.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np

from ..errors import DataError

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CIFAR_IMAGE_SHAPE = (3, 32, 32)


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataError(f"missing data file: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a native-endian array of its stored shape."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_end:
        raise DataError(f"{path}: IDX header is truncated or declares {ndim} dimensions")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header_end != expected:
        raise DataError(f"{path}: IDX header declares shape {shape} ({expected} data bytes) "
                        f"but the file holds {len(raw) - header_end}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def find_file(directory: Path, stem: str) -> Path:
    """``directory/stem`` or ``directory/stem.gz``, whichever exists; a clear error naming both if neither."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"missing data file: {directory / stem} (or {stem}.gz)")


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 batch holds: numpy arrays and dtypes in builtin containers."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("builtins", "list"), ("builtins", "dict"),
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch → (images uint8 (n, 3, 32, 32), labels int64 (n,))."""
    path = Path(path)
    raw = _read_bytes(path)
    try:
        batch = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a malformed file
        raise DataError(f"{path} is not a CIFAR-10 python batch: {exc}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"{path} is not a CIFAR-10 python batch: it lacks b'data' or b'labels'")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    n_pixels = int(np.prod(_CIFAR_IMAGE_SHAPE))
    if data.ndim != 2 or data.shape[1] != n_pixels or data.shape[0] != labels.shape[0]:
        raise DataError(f"{path}: data has shape {data.shape} with {labels.shape[0]} labels, "
                        f"expected (n, {n_pixels}) with n labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{path}: labels outside 0..9")
    return data.astype(np.uint8).reshape((-1, *_CIFAR_IMAGE_SHAPE)), labels
