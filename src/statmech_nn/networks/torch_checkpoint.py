"""Training checkpoints as HDF5 (no pickles): enough to resume a run bit for bit; :class:`TrainingStore`, the
checkpoint store of a training run (:mod:`statmech_nn.runs.checkpoints`).

``checkpoints/step-<12-digit step>.h5`` holds

- ``model/<name>``: the model's state dict (materialized weights; what probes read); with replicas, replica
  0's, and replica r's as ``model/replica<r>/<name>`` (:func:`stored_model_arrays`);
- ``engine/<key>``: the stepper's own state (torch: the optimizer state; fast engine: V, s, b);
- attribute ``loop``: the training loop's position and history as JSON (step, epoch, position in the
  epoch, phase, trajectory rows written, per-epoch metrics, equilibrium record).

A checkpoint is written to a temporary name and renamed into place, so a run killed while writing
one leaves the previous checkpoint intact; the newest ``keep`` checkpoints are kept. Attribute ``sha256`` is the
digest of everything else in the file, verified when it is read: a damaged checkpoint is a DataError, and
:func:`intact_checkpoints` yields the readable ones newest first, so a resume falls back to an older one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch

from ..errors import DataError
from ..io import RunHeader, TrajectoryWriter, _json_default, array_digest, ensure_space
from ..runs.directory import RunDirectory
from ..runs.checkpoints import RowDigests, newest_intact, reopen_rows
from .row_buffer import RowBuffer

CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"^step-(\d{12})\.h5$")


@dataclass
class Checkpoint:
    """What one checkpoint file holds."""

    model: dict[str, np.ndarray]
    engine: dict[str, np.ndarray]
    loop: dict
    path: Path | None = None


def _write_group(group: h5py.Group, arrays: dict[str, np.ndarray]) -> None:
    for name, value in arrays.items():
        group.create_dataset(name, data=np.asarray(value))


def _read_group(group: h5py.Group) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    group.visititems(lambda name, node: out.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None)
    return out


def model_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    return {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()}


def stored_model_arrays(models: list[torch.nn.Module]) -> dict[str, np.ndarray]:
    """The model arrays a checkpoint stores for one network or several replicas (:mod:`.replicas`): replica 0's under
    their torch names (what a single-network run stores, and what probes read), replica r's (r >= 1) under
    ``replica<r>/<name>``."""
    arrays = model_arrays(models[0])
    for r, model in enumerate(models[1:], start=1):
        arrays.update({f"replica{r}/{name}": value for name, value in model_arrays(model).items()})
    return arrays


def replica_model_arrays(arrays: dict[str, np.ndarray], replica: int) -> dict[str, np.ndarray]:
    """Replica ``replica``'s model arrays among a checkpoint's (the inverse of :func:`stored_model_arrays`)."""
    if replica == 0:
        return {name: value for name, value in arrays.items() if "/" not in name}
    prefix = f"replica{replica}/"
    return {name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)}


def load_model_arrays(model: torch.nn.Module, arrays: dict[str, np.ndarray], source: Path | str) -> None:
    """Load a state dict read from ``source`` into ``model``; a mismatch is a DataError naming the file."""
    expected = model.state_dict()
    if set(arrays) != set(expected) or any(arrays[k].shape != tuple(expected[k].shape) for k in expected):
        raise DataError(f"{source} holds parameters that do not fit this architecture")
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})


def save_checkpoint(directory: str | Path, checkpoint: Checkpoint, *, keep: int = 2) -> Path:
    """Write ``step-<step>.h5`` atomically, then delete all but the newest ``keep`` checkpoints."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"step-{int(checkpoint.loop['step']):012d}.h5"
    temporary = path.with_suffix(".h5.tmp")
    loop = json.dumps(checkpoint.loop, default=_json_default)
    ensure_space(temporary, sum(np.asarray(v).nbytes for group in (checkpoint.model, checkpoint.engine)
                                for v in group.values()) + len(loop))
    try:
        with h5py.File(temporary, "w") as f:
            _write_group(f.create_group("model"), checkpoint.model)
            _write_group(f.create_group("engine"), checkpoint.engine)
            f.attrs["loop"] = loop
            f.attrs["sha256"] = _digest(checkpoint.model, checkpoint.engine, loop)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    for old in list_checkpoints(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoint files in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _NAME.match(p.name))


def _digest(model: dict, engine: dict, loop: str) -> str:
    """SHA-256 of a checkpoint's arrays (by group and name) and its loop record."""
    arrays = [value for group in (model, engine) for _, value in sorted(group.items())]
    names = json.dumps([sorted(model), sorted(engine), loop])
    return array_digest(np.frombuffer(names.encode(), np.uint8), *arrays)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, verifying its digest; a DataError naming the file if it is damaged."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            loop = f.attrs["loop"]
            checkpoint = Checkpoint(_read_group(f["model"]), _read_group(f["engine"]), json.loads(loop), path)
            recorded = f.attrs.get("sha256")
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise DataError(f"{path} is not a readable checkpoint: {' '.join(str(exc).split())}") from None
    if recorded is not None and str(recorded) != _digest(checkpoint.model, checkpoint.engine, str(loop)):
        raise DataError(f"{path} is damaged: its contents do not match its recorded digest")
    return checkpoint


def checkpoint_at(directory: str | Path, step: int) -> Checkpoint:
    """The checkpoint of optimizer step ``step``; a DataError naming the steps there are if it is absent."""
    found = {int(_NAME.match(p.name).group(1)): p for p in list_checkpoints(directory)}
    if step not in found:
        raise DataError(f"no checkpoint of step {step} in {directory}; steps with one: {sorted(found) or 'none'}")
    return load_checkpoint(found[step])


def intact_checkpoints(directory: str | Path):
    """(checkpoint, None) for each readable checkpoint in ``directory``, newest first, and (None, error) for each
    damaged one in its place."""
    for path in reversed(list_checkpoints(directory)):
        try:
            yield load_checkpoint(path), None
        except DataError as exc:
            yield None, exc


def latest_checkpoint(directory: str | Path) -> Checkpoint:
    """The newest checkpoint in ``directory``; a DataError if there is none."""
    found = list_checkpoints(directory)
    if not found:
        raise DataError(f"cannot resume: no checkpoint in {directory}")
    return load_checkpoint(found[-1])


class TrainingStore:
    """The checkpoint store of a training run (the protocol of :mod:`statmech_nn.runs.checkpoints`): its
    ``trajectory.h5`` written through a :class:`~.row_buffer.RowBuffer`, and ``checkpoints/step-*.h5`` (the newest
    ``keep``). ``checkpoint``: the one a resumed run continues from (None for a new run)."""

    def __init__(self, run_dir: RunDirectory, writer: TrajectoryWriter, *, keep: int,
                 checkpoint: Checkpoint | None = None):
        self.run_dir, self.writer, self.keep, self.checkpoint = run_dir, writer, keep, checkpoint
        self.directory = run_dir.path / CHECKPOINT_DIR
        self.digests = RowDigests(checkpoint.loop.get("trajectory_digests", []) if checkpoint is not None else [])
        self.rows = RowBuffer(writer)

    @classmethod
    def create(cls, run_dir: RunDirectory, names, *, header: RunHeader, dtype, metadata: dict,
               keep: int, chain=None) -> TrainingStore:
        """A new trajectory with the tracked ``names`` (and each column's ``chain``: a run from step 0)."""
        writer = TrajectoryWriter.create(run_dir.trajectory, names, header=header, chain=chain, dtype=dtype,
                                         metadata=metadata)
        return cls(run_dir, writer, keep=keep)

    @classmethod
    def reopen(cls, run_dir: RunDirectory, *, keep: int) -> TrainingStore | None:
        """The run at its newest intact checkpoint whose trajectory rows verify (an older one if need be); None
        when no checkpoint was written yet (the run starts again from step 0)."""
        def open_rows(checkpoint: Checkpoint) -> TrajectoryWriter:
            digests = RowDigests(checkpoint.loop.get("trajectory_digests", []))
            return reopen_rows(run_dir.trajectory, checkpoint.loop["trajectory_rows"], digests)

        found = newest_intact(intact_checkpoints(run_dir.path / CHECKPOINT_DIR), open_rows, run_dir.path)
        if found is None:
            return None
        checkpoint, writer = found
        return cls(run_dir, writer, keep=keep, checkpoint=checkpoint)

    def settle_rows(self) -> tuple[int, list]:
        """Append the buffered rows; the rows written so far and the digests of their segments (what the next
        checkpoint records)."""
        self.rows.flush()
        return self.writer.n_rows, self.digests.extend(self.writer)

    def save_checkpoint(self, model: dict[str, np.ndarray], engine: dict[str, np.ndarray], loop: dict) -> Path:
        """Write the checkpoint of ``loop`` (whose rows and digests :meth:`settle_rows` gave)."""
        return save_checkpoint(self.directory, Checkpoint(model, engine, loop), keep=self.keep)

    def finish(self, metadata: dict) -> None:
        self.writer.set_metadata(**metadata)
        self.writer.close()

    def close(self) -> None:
        """Close the trajectory (rows after the last checkpoint are dropped by a resume anyway)."""
        self.writer.close()
