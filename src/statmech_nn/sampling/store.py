"""Streaming a sampler run into its run directory, so that a killed run resumes exactly where it stopped.

DESIGN (Trajectory contract): the file is appended in chunks while the run goes and flushed. Here every
block of :func:`statmech_nn.sampling.chains.run_blocks` appends its rows to ``trajectory.h5`` and then
replaces ``checkpoint.npz`` (atomically) with the chains' state after that block: positions, RNG
streams, acceptance counters, and how many blocks, steps and rows are done. Resuming truncates the
trajectory back to the checkpoint's rows (rows written after the last checkpoint are dropped), restores
the state and continues with the next block; because every chain carries its own RNG stream, the result
is bit-identical to an uninterrupted run. The checkpoint is deleted when the run completes.

Each checkpoint also records the SHA-256 of every segment of rows (t, q and their x samples) written between
two checkpoints (``digest_ends``, ``digests``); a resume verifies the rows it keeps against them and refuses a
trajectory whose kept rows changed. A run killed during its burn-in (no rows yet) resumes like any other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..io import RunDirectory, RunHeader, TrajectoryWriter

CHECKPOINT_FILE = "checkpoint.npz"
_STATE_PREFIX = "state_"


@dataclass(frozen=True)
class Checkpoint:
    """The state of a run after ``blocks_done`` blocks: ``steps_done`` steps per chain, ``rows_done`` recorded rows."""

    blocks_done: int
    steps_done: int
    rows_done: int
    state: dict
    digests: list = ()


class RunStore:
    """A run directory being written block by block (see the module docstring)."""

    def __init__(self, directory: RunDirectory, writer: TrajectoryWriter, chains: int,
                 checkpoint: Checkpoint | None = None, previous: tuple[np.ndarray, np.ndarray] | None = None):
        self.directory = directory
        self.writer = writer
        self.chains = chains
        self.checkpoint = checkpoint
        self.previous = previous
        self.digests = list(checkpoint.digests) if checkpoint is not None else []   # [end row, SHA-256] so far

    @property
    def checkpoint_file(self):
        return self.directory.path / CHECKPOINT_FILE

    @classmethod
    def create(cls, out, *, names: list[str], chains: int, x_dim: int, header: RunHeader) -> RunStore:
        """Start ``trajectory.h5`` in ``out`` with K = len(names) columns per chain (chain-major columns) and the
        run's header."""
        directory = RunDirectory(out).create()
        (directory.path / CHECKPOINT_FILE).unlink(missing_ok=True)
        writer = TrajectoryWriter.create(directory.trajectory, list(names) * chains, header=header,
                                         chain=np.repeat(np.arange(chains), len(names)), x_dim=x_dim)
        return cls(directory, writer, chains)

    @classmethod
    def reopen(cls, out, *, chains: int) -> RunStore:
        """Continue the interrupted run in ``out`` from its checkpoint (DataError if there is none)."""
        directory = RunDirectory(out)
        path = directory.path / CHECKPOINT_FILE
        if not path.is_file():
            raise DataError(f"nothing to resume in {directory.path}: no {CHECKPOINT_FILE} "
                            "(the run completed or never started)")
        try:
            with np.load(path, allow_pickle=False) as saved:
                digests = (list(zip(saved["digest_ends"].tolist(), saved["digests"].tolist()))
                           if "digests" in saved.files else [])
                checkpoint = Checkpoint(int(saved["blocks_done"]), int(saved["steps_done"]), int(saved["rows_done"]),
                                        {k[len(_STATE_PREFIX):]: saved[k]
                                         for k in saved.files if k.startswith(_STATE_PREFIX)},
                                        digests)
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise DataError(f"{path} is not a valid checkpoint: {exc}; restart the run with --overwrite") from None
        writer = TrajectoryWriter.open_existing(directory.trajectory, keep_rows=checkpoint.rows_done,
                                                keep_x_rows=checkpoint.rows_done * chains)
        try:
            if writer.n_columns % chains:
                raise DataError(f"{directory.trajectory} does not match its checkpoint")
            writer.verify(digests, x_per_row=chains)
            rows = checkpoint.rows_done
            q, x = writer.rows(0, rows, x_per_row=chains)
        except BaseException:
            writer.close()
            raise
        return cls(directory, writer, chains, checkpoint,
                   (q.reshape(rows, chains, q.shape[1] // chains), x.reshape(rows, chains, x.shape[1])))

    def restore(self, state: dict, q: np.ndarray, x: np.ndarray) -> Checkpoint:
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
        """Replace the checkpoint atomically (write a temporary file, then rename), with the digest of the rows
        written since the previous one."""
        digests = self.digests
        start = digests[-1][0] if digests else 0
        if rows_done > start:
            digests.append((rows_done, self.writer.digest(start, rows_done, x_per_row=self.chains)))
        temporary = self.checkpoint_file.with_name(CHECKPOINT_FILE + ".partial.npz")
        try:
            np.savez(temporary, blocks_done=blocks_done, steps_done=steps_done, rows_done=rows_done,
                     digest_ends=np.array([end for end, _ in digests], np.int64),
                     digests=np.array([digest for _, digest in digests], dtype="U64"),
                     **{_STATE_PREFIX + key: value for key, value in state.items()})
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, self.checkpoint_file)

    def finish(self, metadata: dict) -> None:
        """Write the run's metadata into the trajectory, close it and drop the checkpoint (the run is complete)."""
        self.writer.set_metadata(**metadata)
        self.writer.close()
        self.checkpoint_file.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the trajectory (the checkpoint stays for a resume)."""
        self.writer.close()
