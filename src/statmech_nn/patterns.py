"""Binary activation patterns, counted (shared core: the network probes and the activity observables both count
them, and neither may import the other).

A pattern is one sample's row of unit states (active or not), packed eight units to a byte with
``numpy.packbits(active, axis=1)``; :func:`packed_pattern_counts` counts the distinct rows.
"""

from __future__ import annotations

import numpy as np


def packed_pattern_counts(packed: np.ndarray) -> np.ndarray:
    """Counts of the distinct rows of a packed (samples, bytes) uint8 array, largest first."""
    _, counts = np.unique(np.asarray(packed, np.uint8), axis=0, return_counts=True)
    return np.sort(counts)[::-1]
