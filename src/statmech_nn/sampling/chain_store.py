"""Streaming a sampler run into its run directory, so that a killed run resumes exactly where it stopped: the chain
store, one of the checkpoint stores of :mod:`statmech_nn.runs.checkpoints`.

DESIGN (Trajectory contract): the file is appended in chunks while the run goes and flushed. Here every
block of :func:`statmech_nn.sampling.chains.run_blocks` appends its rows to ``trajectory.h5`` and then
replaces ``checkpoint.npz`` (atomically) with the chains' state after that block: positions, RNG
streams, acceptance counters, and how many blocks, steps and rows are done; the checkpoint it replaces is kept as
``checkpoint.previous.npz``. Resuming truncates the trajectory back to the checkpoint's rows (rows written after
the last checkpoint are dropped), restores the state and continues with the next block; because every chain
carries its own RNG stream, the result is bit-identical to an uninterrupted run. The checkpoints are deleted when
the run completes.

Each checkpoint also records the SHA-256 of every segment of rows (t, q and their x samples) written between
two checkpoints (``digest_ends``, ``digests``); a resume verifies the rows it keeps against them, and falls back to
the previous checkpoint when the newest is damaged or its rows changed (:func:`~statmech_nn.runs.checkpoints.
newest_intact`). A run killed during its burn-in (no rows yet) resumes like any other.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import RunHeader, TrajectoryWriter
from ..runs.checkpoints import RowDigests, newest_intact, reopen_rows
from ..runs.directory import RunDirectory

CHECKPOINT_FILE = "checkpoint.npz"
PREVIOUS_FILE = "checkpoint.previous.npz"
_STATE_PREFIX = "state_"


@dataclass(frozen=True)
class ChainCheckpoint:
    """The state of a run after ``blocks_done`` blocks: ``steps_done`` steps per chain, ``rows_done`` recorded rows."""

    blocks_done: int
    steps_done: int
    rows_done: int
    state: dict
    digests: list = ()
    path: Path | None = None


def load_chain_checkpoint(path: Path) -> ChainCheckpoint:
    """Read a chain checkpoint; a DataError naming the file if it is not a valid one."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            digests = (list(zip(saved["digest_ends"].tolist(), saved["digests"].tolist()))
                       if "digests" in saved.files else [])
            state = {k[len(_STATE_PREFIX):]: saved[k] for k in saved.files if k.startswith(_STATE_PREFIX)}
            return ChainCheckpoint(int(saved["blocks_done"]), int(saved["steps_done"]), int(saved["rows_done"]),
                                   state, digests, path)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is not a valid checkpoint: {exc}") from None


def _checkpoints(directory: Path):
    """(checkpoint, None) for the newest and the previous checkpoint that are there, newest first, and (None, error)
    for a damaged one in its place."""
    for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
        path = directory / name
        if path.is_file():
            try:
                yield load_chain_checkpoint(path), None
            except DataError as exc:
                yield None, exc


def has_checkpoint(out) -> bool:
    """Whether the run directory ``out`` holds a checkpoint to resume from."""
    return any((Path(out) / name).is_file() for name in (CHECKPOINT_FILE, PREVIOUS_FILE))


class ChainStore:
    """A run directory being written block by block (see the module docstring)."""

    def __init__(self, directory: RunDirectory, writer: TrajectoryWriter, chains: int,
                 checkpoint: ChainCheckpoint | None = None, previous: tuple[np.ndarray, np.ndarray] | None = None):
        self.directory = directory
        self.writer = writer
        self.chains = chains
        self.checkpoint = checkpoint
        self.previous = previous
        self.digests = RowDigests(checkpoint.digests if checkpoint is not None else [], x_per_row=chains)

    @property
    def checkpoint_file(self) -> Path:
        return self.directory.path / CHECKPOINT_FILE

    @classmethod
    def create(cls, out, *, names: list[str], chains: int, x_dim: int, header: RunHeader) -> ChainStore:
        """Start ``trajectory.h5`` in ``out`` with K = len(names) columns per chain (chain-major columns) and the
        run's header."""
        directory = RunDirectory(out).create()
        for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
            (directory.path / name).unlink(missing_ok=True)
        writer = TrajectoryWriter.create(directory.trajectory, list(names) * chains, header=header,
                                         chain=np.repeat(np.arange(chains), len(names)), x_dim=x_dim)
        return cls(directory, writer, chains)

    @classmethod
    def reopen(cls, out, *, chains: int) -> ChainStore:
        """Continue the interrupted run in ``out`` from its newest intact checkpoint whose rows verify (DataError if
        there is none)."""
        directory = RunDirectory(out)

        def open_rows(checkpoint: ChainCheckpoint) -> TrajectoryWriter:
            digests = RowDigests(checkpoint.digests, x_per_row=chains)
            writer = reopen_rows(directory.trajectory, checkpoint.rows_done, digests, x_per_row=chains)
            if writer.n_columns % chains:
                writer.close()
                raise DataError(f"{directory.trajectory} does not match its checkpoint")
            return writer

        found = newest_intact(_checkpoints(directory.path), open_rows, directory.path)
        if found is None:
            raise DataError(f"nothing to resume in {directory.path}: no {CHECKPOINT_FILE} "
                            "(the run completed or never started)")
        checkpoint, writer = found
        try:
            rows = checkpoint.rows_done
            q, x = writer.rows(0, rows, x_per_row=chains)
        except BaseException:
            writer.close()
            raise
        return cls(directory, writer, chains, checkpoint,
                   (q.reshape(rows, chains, q.shape[1] // chains), x.reshape(rows, chains, x.shape[1])))

    def restore(self, state: dict, q: np.ndarray, x: np.ndarray) -> ChainCheckpoint:
        """Copy the checkpoint's state into ``state`` (in place) and the rows written so far into q and x."""
        checkpoint = self.checkpoint
        for key, array in state.items():
            saved = checkpoint.state.get(key)
            if saved is None or saved.shape != array.shape or saved.dtype != array.dtype:
                raise DataError(f"the checkpoint in {self.directory.path} does not fit this run ({key})")
            np.copyto(array, saved)
        q[:checkpoint.rows_done], x[:checkpoint.rows_done] = self.previous
        return checkpoint

    def append(self, t: np.ndarray, q: np.ndarray, x: np.ndarray) -> None:
        """Append recorded rows: q (rows, C, K) and x (rows, C, N), flushed."""
        rows = q.shape[0]
        self.writer.append(t, q.reshape(rows, -1))
        self.writer.append_x(x.reshape(rows * self.chains, -1))

    def save_checkpoint(self, blocks_done: int, steps_done: int, rows_done: int, state: dict) -> None:
        """Replace the checkpoint atomically (write a temporary file, keep the current one as the previous, then
        rename), with the digest of the rows written since the previous one."""
        digests = self.digests.extend(self.writer)
        temporary = self.checkpoint_file.with_name(CHECKPOINT_FILE + ".partial.npz")
        try:
            np.savez(temporary, blocks_done=blocks_done, steps_done=steps_done, rows_done=rows_done,
                     digest_ends=np.array([end for end, _ in digests], np.int64),
                     digests=np.array([digest for _, digest in digests], dtype="U64"),
                     **{_STATE_PREFIX + key: value for key, value in state.items()})
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if self.checkpoint_file.is_file():
            os.replace(self.checkpoint_file, self.checkpoint_file.with_name(PREVIOUS_FILE))
        os.replace(temporary, self.checkpoint_file)

    def finish(self, metadata: dict) -> None:
        """Write the run's metadata into the trajectory, close it and drop the checkpoints (the run is complete)."""
        self.writer.set_metadata(**metadata)
        self.writer.close()
        for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
            (self.directory.path / name).unlink(missing_ok=True)

    def close(self) -> None:
        """Close the trajectory (the checkpoints stay for a resume)."""
        self.writer.close()
