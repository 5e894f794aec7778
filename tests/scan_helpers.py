"""Reading a scan store's per-cell ``status`` while a scan runs (the interruption tests share it)."""

from pathlib import Path

import numpy as np
import zarr


def scan_status(store: Path) -> np.ndarray:
    """The store's ``status`` array, empty while the store is not created yet."""
    try:
        return np.asarray(zarr.open_group(store, mode="r")["status"][...])
    except Exception:  # noqa: BLE001 - not created yet
        return np.zeros(0)
