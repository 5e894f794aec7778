"""The trajectory row buffer of a training run: tracked rows collected and appended to ``trajectory.h5`` in chunks."""

from __future__ import annotations

import numpy as np

from ..io import TrajectoryWriter

FLUSH_ROWS = 8192           # trajectory rows buffered before an append


class NonFinite(Exception):
    """What left the finite numbers (the driver turns it into a DivergenceError naming the step and learning rate)."""


class RowBuffer:
    """Collects tracked rows (t, q) and appends them to the trajectory every :data:`FLUSH_ROWS` rows; a row that is
    not finite raises :class:`NonFinite`."""

    def __init__(self, writer: TrajectoryWriter):
        self.writer, self._t, self._q, self._n = writer, [], [], 0

    def add(self, t: np.ndarray, q: np.ndarray) -> None:
        if not np.isfinite(q).all():
            raise NonFinite("tracked weights")
        self._t.append(np.asarray(t, np.int64))
        self._q.append(np.atleast_2d(q))
        self._n += len(self._t[-1])
        if self._n >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._n:
            self.writer.append(np.concatenate(self._t), np.concatenate(self._q))
            self._t, self._q, self._n = [], [], 0
