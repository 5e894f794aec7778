"""Track the weights of any torch model in any training loop: :func:`track`.

002 §5 records "a few randomly selected weights" w_i(t) after every optimizer step. :func:`track` does
that for a model and a loop the user owns::

    import statmech_nn
    with statmech_nn.track(model, k=64, seed=0, optimizer=optimizer) as tracker:
        for x, y in batches:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()                  # the tracker records after every step (a step post-hook)
    result = statmech_nn.analyze(tracker.trajectory)

Without ``optimizer=`` call ``tracker.record()`` after each step instead (e.g. a hand-written update or
an optimizer that is not a ``torch.optim.Optimizer``); do not do both, each would count a step.

What is tracked (see :mod:`.tracking`): ``k`` entries drawn as ``statmech-nn train --track k --seed
seed`` draws them (weight matrices only unless ``include_biases``), or the entries whose column name
matches a pattern (``names="fc2.weight[*]"``, a glob whose only wildcards are ``*`` and ``?``; or a
compiled regular expression), ``k`` of them when more match (``k=None``: all), or an explicit list of
(parameter name, index) pairs. Columns are named ``fc1.weight[out,in]`` and ordered by parameter,
then flat index, as the trainer's.

How it records: one preallocated (block, k) buffer per tracked tensor on that tensor's device and in its
dtype; a step is one ``index_select`` per tracked tensor, from a flat view of the parameter into a row
view of the buffer made in advance, so there is no Python loop over weights and no copy to the host
per step. When the buffer is full (``block`` rows) it is copied to the host once and appended to
``trajectory.h5`` (``out`` given: a directory, or a file ending in ``.h5``) or kept in memory.

Rows (as the trainer's): the first row is the state when tracking starts, at ``t = start_step``; then one
row every ``every`` steps, at ``t = start_step + every·n``. ``tracker.trajectory`` is an
:class:`~statmech_nn.io.Trajectory` with source ``networks.track``, the seed and the run header's dynamics
(:class:`~statmech_nn.io.Dynamics`): read from the optimizer's ``param_groups`` when one is given (its class,
lr, momentum, dampening, Nesterov, betas, eps, weight decay; a value the groups do not share is left unknown),
or given as ``dynamics=`` (a Dynamics or a dict of its fields; it wins over the optimizer's), else only the
learning rate ``step_size`` when given. The analysis uses them (momentum: the update's innovations;
Adam: the verdicts it does not cover say so).

The parameters must stay the same tensors while tracked: in-place updates (optimizers,
``load_state_dict``) are seen; replacing a parameter's tensor (``param.data = …``) is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import DataError, DivergenceError, ParameterError
from ..io import TRAJECTORY_FILE, Dynamics, RunHeader, Trajectory, TrajectoryWriter
from ..params import require_int, require_positive
from .tracking import NAMES_SCHEME, TrackedParameters

SOURCE = "networks.track"
DEFAULT_BLOCK = 1024
_H5_SUFFIXES = (".h5", ".hdf5")


class Tracker:
    """Records the tracked entries of a model after every step (see the module docstring); made by :func:`track`."""

    def __init__(self, model: nn.Module, tracked: TrackedParameters, *, seed: int, selection: dict,
                 optimizer: torch.optim.Optimizer | None = None, out: str | Path | None = None, every: int = 1,
                 block: int = DEFAULT_BLOCK, start_step: int = 0, step_size: float | None = None,
                 dynamics: Dynamics | dict | None = None, overwrite: bool = False):
        self.tracked = tracked
        self.every = require_int("every", every, 1)
        self.block = require_int("block", block, 1)
        self.start_step = require_int("start_step", start_step, 0)
        params = dict(model.named_parameters())
        self._sources, self._indices, self._buffers = [], [], []
        for name, flat in tracked.groups():
            param = params[name]
            if not param.is_contiguous():
                raise ParameterError("model", name, "a contiguous parameter (tracking reads a flat view of it)")
            self._sources.append(param.detach().view(-1))
            self._indices.append(torch.as_tensor(flat, dtype=torch.int64, device=param.device))
            self._buffers.append(torch.empty((self.block, len(flat)), dtype=param.dtype, device=param.device))
        self._row_views = list(zip(*(buffer.unbind(0) for buffer in self._buffers)))
        self._steps, self._rows, self._filled = 0, 0, 0
        self._blocks: list[np.ndarray] = []
        self._closed = False
        self.path = _trajectory_path(out, overwrite)
        self.header = RunHeader(
            SOURCE, {**selection, "k": tracked.k, "every": self.every, "start_step": self.start_step,
                     "model": type(model).__name__}, _dynamics(optimizer, dynamics, step_size), seed)
        self._metadata = {"names_scheme": NAMES_SCHEME, "devices": sorted({str(b.device) for b in self._buffers}),
                          "t_meaning": "start_step + optimizer steps since tracking began; first row = the state then"}
        self._dtype = np.result_type(*(_host(b[:0]).dtype for b in self._buffers))
        self._writer = None if self.path is None else TrajectoryWriter.create(
            self.path, tracked.names, header=self.header, dtype=self._dtype, metadata=self._metadata)
        self._take_row()
        self._hook = None if optimizer is None else optimizer.register_step_post_hook(self._after_step)

    # recording ------------------------------------------------------------------------------
    def record(self) -> None:
        """Count one optimizer step; take a row when the step count is a multiple of ``every``."""
        if self._closed:
            raise DataError("this tracker is closed: start a new one to track more steps")
        self._steps += 1
        if self._steps % self.every == 0:
            self._take_row()

    def _after_step(self, optimizer, args, kwargs) -> None:
        self.record()

    def _take_row(self) -> None:
        for source, index, row in zip(self._sources, self._indices, self._row_views[self._filled]):
            torch.index_select(source, 0, index, out=row)
        self._filled += 1
        if self._filled == self.block:
            self.flush()

    def flush(self) -> None:
        """Copy the rows taken since the last flush to the host (and append them to the file)."""
        n = self._filled
        if n == 0:
            return
        q = np.concatenate([_host(buffer[:n]) for buffer in self._buffers], axis=1).astype(self._dtype)
        t = self.start_step + self.every * np.arange(self._rows, self._rows + n, dtype=np.int64)
        finite = np.all(np.isfinite(q), axis=1)
        if not finite.all():   # keep the rows before the weights left the finite numbers, then say so
            n = int(np.argmin(finite))
            q, t, self._filled = q[:n], t[:n], 0
            self._append(q, t, n)
            step = self.start_step + self.every * self._rows
            raise DivergenceError(f"the tracked weights became NaN or infinite at step {step}; the rows before it "
                                  "are kept (lower the learning rate)")
        self._append(q, t, n)
        self._filled = 0

    def _append(self, q: np.ndarray, t: np.ndarray, n: int) -> None:
        if self._writer is None:
            self._blocks.append(q)
        elif n:
            self._writer.append(t, q)
        self._rows += n

    def close(self) -> None:
        """Flush, detach from the optimizer, close the file. The trajectory stays available."""
        if self._closed:
            return
        self.flush()
        if self._hook is not None:
            self._hook.remove()
        if self._writer is not None:
            self._writer.close()
        self._closed = True

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # results --------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return self.tracked.names

    @property
    def k(self) -> int:
        return self.tracked.k

    @property
    def steps(self) -> int:
        """Optimizer steps counted since tracking began."""
        return self._steps

    @property
    def trajectory(self) -> Trajectory:
        """Everything recorded so far (flushed first), as a :class:`~statmech_nn.io.Trajectory`."""
        if not self._closed:
            self.flush()
        if self.path is not None:
            return Trajectory.load(self.path)
        q = np.concatenate(self._blocks) if self._blocks else np.empty((0, self.k), self._dtype)
        t = self.start_step + self.every * np.arange(len(q), dtype=np.int64)
        header = self.header
        return Trajectory(q=q, t=t, names=list(self.names), chain=None, source=header.source,
                          parameters=header.model, seed=header.seed, dynamics=header.dynamics,
                          metadata=dict(self._metadata))


def track(model: nn.Module, k: int | None = 64, seed: int = 0, names: str | re.Pattern | Sequence | None = None, *,
          include_biases: bool = False, optimizer: torch.optim.Optimizer | None = None, out: str | Path | None = None,
          every: int = 1, block: int = DEFAULT_BLOCK, start_step: int = 0, step_size: float | None = None,
          dynamics: Dynamics | dict | None = None, overwrite: bool = False) -> Tracker:
    """Start tracking ``model`` (see the module docstring); use as a context manager or call ``close()``.

    ``names``: None draws ``k`` entries as the trainer does (``include_biases`` adds the biases to the
    candidates); a glob string or compiled regex keeps the matching entries (``k`` of them, drawn with
    ``seed``, when more match; ``k=None`` keeps all); a list of (parameter name, flat index or index
    tuple) pairs tracks exactly those (``k`` is not used). ``optimizer``: record after each of its steps
    (otherwise call ``tracker.record()``). ``out``: a directory (the file is ``trajectory.h5`` in it) or
    an ``.h5`` path; an existing file is replaced only with ``overwrite=True``. ``every``: one row every
    that many steps. ``block``: rows held on the device between copies to the host. ``dynamics``: the update
    rule (a :class:`~statmech_nn.io.Dynamics` or a dict of its fields) when no optimizer says it, or to correct it;
    ``step_size``: only the learning rate.
    """
    if not isinstance(model, nn.Module):
        raise ParameterError("model", type(model).__name__, "a torch.nn.Module")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise ParameterError("optimizer", type(optimizer).__name__, "a torch.optim.Optimizer (or None: call "
                             "tracker.record() after each step)")
    seed = require_int("seed", seed, 0)
    if names is None:
        if k is None:
            raise ParameterError("k", None, "a number of entries to draw (k=None keeps all matches of a pattern)")
        tracked = TrackedParameters.choose(model, require_int("k", k, 1), seed, include_biases=include_biases)
        selection = {"selection": "count", "include_biases": bool(include_biases)}
    elif isinstance(names, (str, re.Pattern)):
        tracked = TrackedParameters.matching(model, names, k, seed)
        selection = {"selection": "pattern", "pattern": names if isinstance(names, str) else names.pattern,
                     "pattern_kind": "glob" if isinstance(names, str) else "regex"}
    elif isinstance(names, (list, tuple)):
        tracked = TrackedParameters.explicit(model, names)
        selection = {"selection": "explicit"}
    else:
        raise ParameterError("names", names, "None, a glob string, a compiled regular expression or a list of "
                             "(parameter name, index) pairs")
    return Tracker(model, tracked, seed=seed, selection=selection, optimizer=optimizer, out=out, every=every,
                   block=block, start_step=start_step, step_size=step_size, dynamics=dynamics, overwrite=overwrite)


def _trajectory_path(out: str | Path | None, overwrite: bool) -> Path | None:
    if out is None:
        return None
    path = Path(out)
    if path.suffix not in _H5_SUFFIXES:
        path = path / TRAJECTORY_FILE
    if path.exists() and not overwrite:
        raise DataError(f"{path} already exists: choose another out or pass overwrite=True")
    if path.parent.exists() and not path.parent.is_dir():
        raise DataError(f"{path.parent} exists and is not a directory: choose another out")
    if path.parent == Path(out) and path.parent.is_dir() and not path.exists() and any(path.parent.iterdir()):
        raise DataError(f"{out} holds files and no run: choose another (or an empty) out")
    return path


def _host(values: torch.Tensor) -> np.ndarray:
    """A device tensor as a host array (bfloat16, which numpy lacks, as float32)."""
    if values.dtype == torch.bfloat16:
        values = values.float()
    return values.cpu().numpy()


def _dynamics(optimizer, dynamics, step_size) -> Dynamics:
    """The run header's dynamics: ``dynamics`` as given, else the optimizer's param_groups, else the step size."""
    if dynamics is not None:
        return Dynamics.from_dict(dynamics)
    if optimizer is not None:
        return Dynamics.from_optimizer(optimizer)
    return Dynamics(lr=None if step_size is None else require_positive("step_size", step_size))
