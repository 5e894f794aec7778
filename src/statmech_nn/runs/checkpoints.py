"""One checkpoint-store protocol (DESIGN: run directory, resume), whatever file holds a run's state.

A checkpoint store streams a run's rows into ``trajectory.h5`` and now and then saves a **checkpoint**: the run's
state together with the number of rows written so far and the SHA-256 of every segment of rows written between
two checkpoints (:class:`RowDigests`). Reopening it for a resume (:func:`newest_intact`) takes the newest
checkpoint that reads back intact, cuts the trajectory back to its rows and verifies the rows it keeps against its
digests; when the newest is damaged or its rows changed it falls back to an older one (with a warning naming why),
and with no intact checkpoint left it refuses (DataError). Rows written after the checkpoint a run resumes from
are dropped, so a killed run loses at most what it wrote since its last checkpoint.

Implemented by the chain store (:class:`statmech_nn.sampling.chain_store.ChainStore`: ``checkpoint.npz`` and the
one before it) and the torch checkpoints (:class:`statmech_nn.networks.torch_checkpoint.TrainingStore`:
``checkpoints/step-*.h5``, the newest ``keep``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar, runtime_checkable

from ..errors import DataError
from ..io import TrajectoryWriter

Saved = TypeVar("Saved")


@runtime_checkable
class CheckpointStore(Protocol):
    """What every checkpoint store offers: its trajectory, the digests of its rows, the checkpoint it was reopened at
    (None for a new run), a way to save the next one, to reopen the newest intact one, and an end."""

    writer: TrajectoryWriter
    digests: RowDigests
    checkpoint: object | None

    def save_checkpoint(self, *state) -> object:
        """Save the run's state (each store its own arguments) with the rows written so far and their digests."""

    @classmethod
    def reopen(cls, out, **layout) -> CheckpointStore | None:
        """The store at its newest intact checkpoint whose rows verify (:func:`newest_intact`)."""

    def close(self) -> None:
        """Close the trajectory; the checkpoints stay for a resume."""

    def finish(self, metadata: dict) -> None:
        """The run completed: write ``metadata`` into the trajectory and close it."""


class RowDigests:
    """[end row, SHA-256] of consecutive segments of trajectory rows from row 0, one per checkpoint that wrote rows.

    ``x_per_row``: the x samples stored per row (the chain store's; None: the trajectory has no x samples)."""

    def __init__(self, entries: Iterable = (), x_per_row: int | None = None):
        self.entries = [[int(end), str(digest)] for end, digest in entries]
        self.x_per_row = x_per_row

    def extend(self, writer: TrajectoryWriter) -> list:
        """Add the digest of the rows written since the last entry (if any); return the entries."""
        start = self.entries[-1][0] if self.entries else 0
        if writer.n_rows > start:
            self.entries.append([writer.n_rows, writer.digest(start, writer.n_rows, x_per_row=self.x_per_row)])
        return self.entries

    def verify(self, writer: TrajectoryWriter) -> None:
        """Check the rows ``writer`` keeps against the entries; a DataError naming the first segment that changed."""
        writer.verify(self.entries, x_per_row=self.x_per_row)


def reopen_rows(path, rows: int, digests: RowDigests, x_per_row: int | None = None) -> TrajectoryWriter:
    """The trajectory at ``path`` cut back to its first ``rows`` rows (and their x samples), verified against
    ``digests``; a DataError if that fails (the trajectory is then closed)."""
    writer = TrajectoryWriter.open_existing(path, keep_rows=rows,
                                            keep_x_rows=None if x_per_row is None else rows * x_per_row)
    try:
        digests.verify(writer)
    except BaseException:
        writer.close()
        raise
    return writer


def newest_intact(candidates: Iterable[tuple[Saved | None, DataError | None]],
                  open_rows: Callable[[Saved], object], where) -> tuple[Saved, object] | None:
    """The newest checkpoint whose rows reopen and verify, with what ``open_rows`` returned for it.

    ``candidates``: (checkpoint, None) for each readable checkpoint, newest first, and (None, error) for each damaged
    one in its place; ``open_rows(checkpoint)`` reopens the trajectory at the checkpoint's rows (a DataError if they
    do not verify). A fall-back to an older checkpoint warns with the problems of the newer ones; None when there
    is no checkpoint at all (a run killed before its first resumes from the start); a DataError naming ``where``
    when every checkpoint fails."""
    problems = []
    for checkpoint, problem in candidates:
        if problem is None:
            try:
                return _fallen_back(checkpoint, open_rows(checkpoint), problems)
            except DataError as exc:
                problem = exc
        problems.append(str(problem))
    if problems:
        raise DataError(f"cannot resume {where}: no intact checkpoint ({'; '.join(problems)}); "
                        "restart it with --overwrite")
    return None


def _fallen_back(checkpoint, opened, problems: list[str]):
    if problems:
        name = getattr(getattr(checkpoint, "path", None), "name", "checkpoint")
        warnings.warn(f"resuming from the older checkpoint {name}: " + "; ".join(problems), stacklevel=3)
    return checkpoint, opened
