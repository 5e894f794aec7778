"""Training to equilibrium with every-step weight tracking (002 §5's protocol), resumable bit for bit.

A run has two phases. The **warm-up** phase trains without tracking, for ``warmup_epochs`` epochs, or,
with ``until_equilibrium``, until the equilibrium criterion (:mod:`.equilibrium`;
``equilibrium_criterion`` = loss, weights or both) holds (at least ``warmup_epochs``, at most
``max_warmup_epochs``). The **tracking** phase then trains ``epochs`` more epochs (or ``steps``
optimizer steps) and writes the K tracked parameters after every step to
``trajectory.h5``. 002 §5: ~3000 epochs to equilibrium, then 200 tracked epochs.

Conventions (decisions where the source is silent):

- sample order: epoch e visits the training set in the order ``default_rng([seed, e]).permutation(n)``,
  in batches of consecutive entries (the last batch of an epoch may be shorter); stateless, so a
  resumed run continues the same order;
- initialization: torch's defaults under ``torch.manual_seed(seed)``;
- SGD is plain SGD (no momentum) with ``weight_decay`` = L2 rate λ (the update adds λw to the gradient:
  the L2 term λ|w|²/2 in the loss); Adam uses torch's ``Adam(weight_decay=λ)`` (L2, not AdamW);
  decay applies to every parameter, biases included, as torch does;
- trajectory rows: ``t`` = the number of optimizer steps applied when the row was taken. The first row
  is the state at the start of the tracking phase (t = number of warm-up steps), then one row per step;
- metrics: after every epoch (and at the last step), data loss and accuracy on the whole train and test
  sets (with ``record_gradient`` also ‖∇R‖² of the train loss, 003 eq. (15)'s OP), in ``metrics.json``;
  the L2 term is not included in the losses; per epoch also whether the loss criterion held and (weight
  criterion) the fraction of probed weights without drift; ``equilibrium``
  records which criterion ended the warm-up (``warmup_ended_by``) and at which epoch;
- weight probes (weight criterion): the warm-up's stepper calls end at the probe positions of
  :class:`.equilibrium.WeightCriterion`, where the probed weights are read; the last window of probes is
  part of the loop's state (checkpointed), so a resumed run decides as the uninterrupted one;
- checkpoints after every ``checkpoint_epochs``-th epoch (default every epoch), every ``checkpoint_every`` steps
  if set, and at the end; each records the
  SHA-256 of the trajectory rows written since the previous one (``trajectory_digests``), and a resume verifies
  the rows it keeps against them, falling back to an older checkpoint when the newest is damaged or its rows
  changed; a run killed before its first checkpoint resumes from step 0;
- divergence: a non-finite loss, tracked weight or checkpointed weight (or the fast engine's division by a
  vanished scale) stops the run with a :class:`~statmech_nn.errors.DivergenceError` naming the learning rate;
  its run.json records ``diverged`` (:func:`statmech_nn.run_directory.claim`);
- ``torch_threads`` sets torch's intra-op thread count for the process (default: torch's own). Batch-1
  steps on small networks gain nothing from threads, and on a busy machine torch's OpenMP threads can
  slow each step down by an order of magnitude: ``torch_threads=1`` is the safe choice there.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..errors import DataError, DivergenceError, ParameterError
from ..io import Dynamics, RunDirectory, RunHeader, TrajectoryWriter, read_json, write_json
from ..run_directory import claim
from .architectures import Architecture
from .checkpoint import (CHECKPOINT_DIR, Checkpoint, intact_checkpoints, load_model_arrays, model_arrays,
                         save_checkpoint)
from .data import ArrayDataset, load_dataset
from .config import TrainConfig
from .device import resolve_device, resolve_dtype
from .equilibrium import EquilibriumCriterion, WeightCriterion
from .fast_sgd import FastMLPEngine
from .losses import Objective, loss_and_gradient
from .steppers import TorchStepper
from .tracking import NAMES_SCHEME, TrackedParameters

METRICS_FILE = "metrics.json"
_CHUNK_STEPS = 8192          # steps per stepper call (progress-bar granularity)
_FLUSH_ROWS = 8192           # trajectory rows buffered before an append


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`; :meth:`summary` is what ``statmech-nn train --json`` prints."""

    out: Path
    steps: int
    seconds: float
    steps_per_s: float
    final_train_loss: float
    final_test_loss: float
    final_test_accuracy: float
    equilibrium_reached: bool
    equilibrium_epoch: int | None
    equilibrium_criterion: str
    warmup_ended_by: str | None
    tracking_start_step: int
    trajectory_rows: int

    def summary(self) -> dict:
        payload = asdict(self)
        payload["out"] = str(self.out)
        return payload


@dataclass
class _Loop:
    """Where the loop stands; stored in every checkpoint."""

    step: int = 0
    epoch: int = 0
    batch: int = 0
    phase: str = "warmup"
    tracking_start_step: int | None = None
    tracking_start_epoch: int | None = None
    trajectory_rows: int = 0
    equilibrium_epoch: int | None = None
    warmup_ended_by: str | None = None
    metrics: list = field(default_factory=list)
    weight_probes: list = field(default_factory=list)
    trajectory_digests: list = field(default_factory=list)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits the ``n`` training samples."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


@torch.no_grad()
def evaluate(model: torch.nn.Module, objective: Objective, x: np.ndarray, y: np.ndarray,
             batch: int = 4096) -> tuple[float, float]:
    """Mean data loss and accuracy (NaN without one) of ``model`` on (x, y), in batches."""
    first = next(model.parameters())
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch):
        xb = torch.as_tensor(x[start:start + batch], dtype=first.dtype, device=first.device)
        yb = torch.as_tensor(y[start:start + batch], device=first.device)
        output = model(xb)
        total_loss += float(objective.loss(output, xb, yb, reduction="sum"))
        correct += objective.n_correct(output, yb)
    accuracy = correct / len(x) if objective.has_accuracy else math.nan
    return total_loss / len(x), accuracy


def _numba_engine_applies(config: TrainConfig, arch: Architecture) -> bool:
    """The CPU fast path (:class:`FastMLPEngine`) trains a plain MLP by batch-1 SGD, nothing else."""
    return arch.is_plain_mlp and config.optimizer == "sgd" and config.batch_size == 1


def train_dynamics(config: TrainConfig) -> Dynamics:
    """The run header's dynamics of a training run, either backend: plain SGD (no momentum, L2 weight decay) or
    torch's Adam with its default betas and eps (L2 weight decay, not AdamW)."""
    common = {"lr": config.lr, "weight_decay": config.weight_decay, "batch_size": config.batch_size,
              "decoupled": False}
    if config.optimizer == "sgd":
        return Dynamics("sgd", momentum=0.0, dampening=0.0, nesterov=False, **common)
    return Dynamics("adam", betas=(0.9, 0.999), eps=1e-8, **common)


def resolve_backend(config: TrainConfig, arch: Architecture, device: torch.device) -> str:
    """The backend a run uses: ``auto`` is ``fast`` where the fast path applies (CUDA graphs on a GPU; on the CPU
    the numba engine, for a plain MLP trained by batch-1 SGD) and ``torch`` elsewhere; the others as given."""
    if config.backend != "auto":
        return config.backend
    return "fast" if device.type == "cuda" or _numba_engine_applies(config, arch) else "torch"


def _make_stepper(config: TrainConfig, backend: str, arch: Architecture, model, objective, data: ArrayDataset,
                  tracked, device: torch.device):
    graphs = backend == "fast" and device.type == "cuda"
    if backend == "fast" and not graphs:
        if not _numba_engine_applies(config, arch):
            raise ParameterError("backend", "fast", "used on the CPU with an mlp/ff architecture, optimizer sgd "
                                 "and batch size 1 (use --backend torch otherwise)")
        return FastMLPEngine(model, data.x_train, data.y_train, lr=config.lr, weight_decay=config.weight_decay,
                             tracked=tracked)
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                     capturable=graphs)
    return TorchStepper(model, optimizer, objective, data.x_train, data.y_train, batch_size=config.batch_size,
                        tracked=tracked, graph_steps=config.graph_steps if graphs else 0)


class _NonFinite(Exception):
    """What left the finite numbers (turned into a DivergenceError naming the step and learning rate)."""


class _RowBuffer:
    """Collects tracked rows and appends them to the trajectory in chunks."""

    def __init__(self, writer: TrajectoryWriter):
        self.writer, self._t, self._q, self._n = writer, [], [], 0

    def add(self, t: np.ndarray, q: np.ndarray) -> None:
        if not np.isfinite(q).all():
            raise _NonFinite("tracked weights")
        self._t.append(np.asarray(t, np.int64))
        self._q.append(np.atleast_2d(q))
        self._n += len(self._t[-1])
        if self._n >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._n:
            self.writer.append(np.concatenate(self._t), np.concatenate(self._q))
            self._t, self._q, self._n = [], [], 0


class _Run:
    """One invocation of :func:`train`: the set-up objects and the loop over epochs."""

    def __init__(self, config: TrainConfig, resume: bool, command: list[str] | None):
        self.config = config
        if config.torch_threads is not None:
            torch.set_num_threads(config.torch_threads)
        self.run_dir = RunDirectory(config.out)
        self.device = resolve_device(config.device)
        self.data = load_dataset(config.dataset, data_dir=config.data_dir, split_seed=config.split_seed,
                                 input_dim=config.input_dim, n_train=config.n_train, n_test=config.n_test,
                                 scaling=config.scaling)
        self.arch = Architecture.parse(config.arch)
        self.model = self.arch.build(self.data.input_shape, self.data.n_classes, seed=config.seed,
                                     dtype=resolve_dtype(config.dtype)).to(self.device)
        self.objective = Objective(self.arch.loss)
        self.tracked = TrackedParameters.choose(self.model, config.track, config.seed,
                                                include_biases=config.track_biases, layers=config.track_layers)
        self.backend = resolve_backend(config, self.arch, self.device)
        self.stepper = _make_stepper(config, self.backend, self.arch, self.model, self.objective, self.data,
                                     self.tracked, self.device)
        self.steps_per_epoch = -(-self.data.x_train.shape[0] // config.batch_size)
        self.criterion = EquilibriumCriterion(config.eq_window, config.eq_rtol)
        graphs = config.graph_steps if self.backend == "fast" and self.device.type == "cuda" else 1
        self.weight_criterion = (WeightCriterion(config.eq_window, self.steps_per_epoch, align=graphs)
                                 if config.equilibrium_criterion != "loss" else None)
        self.probe_columns = WeightCriterion.probe_columns(self.tracked.k)
        self._probe_positions = set(() if self.weight_criterion is None else self.weight_criterion.probe_steps.tolist())
        self.checkpoints = self.run_dir.path / CHECKPOINT_DIR
        if resume:
            self._resume()
        else:
            self._start(command)
        self.rows = _RowBuffer(self.writer)

    # set-up -------------------------------------------------------------------------------
    def _metadata(self) -> dict:
        c = self.config
        return {"architecture": self.arch.spec(), "dataset": c.dataset, "backend": self.backend,
                "device": str(self.device), "dtype": c.dtype, "steps_per_epoch": self.steps_per_epoch,
                "names_scheme": NAMES_SCHEME,
                "t_meaning": "optimizer steps applied when the row was taken; first row = start of tracking"}

    def _start(self, command) -> None:
        """A new run (the directory was claimed empty): run.json, then the trajectory from step 0."""
        self.run_dir.create()
        self.run_dir.write_run_info(command=command or self.config.command_line(), parameters=self.config.to_dict(),
                                    seed=self.config.seed, device=str(self.device), backend=self.backend)
        self._from_step_zero()

    def _from_step_zero(self) -> None:
        header = RunHeader("networks.train", self.config.to_dict(), train_dynamics(self.config), self.config.seed)
        self.writer = TrajectoryWriter.create(self.run_dir.trajectory, self.tracked.names, header=header,
                                              dtype=np.dtype(self.config.dtype), metadata=self._metadata())
        self.loop = _Loop()
        self._start_tracking_now = self.config.warmup_epochs == 0 and not self.config.until_equilibrium

    def _resume(self) -> None:
        """Continue from the newest intact checkpoint whose trajectory rows verify; with none written yet (killed
        before the first), start again from step 0. run.json records the configuration the run continues with
        (:meth:`TrainConfig.resumed_with`: more tracked epochs or steps extend it)."""
        stored = TrainConfig.from_run_dir(self.run_dir.path)
        stored.resumed_with(self.config)
        info = read_json(self.run_dir.run_file)
        write_json(self.run_dir.run_file, {**info, "parameters": {**self.config.to_dict(), "out": stored.out}})
        problems = []
        for checkpoint, problem in intact_checkpoints(self.checkpoints):
            problem = problem or self._open_trajectory_at(checkpoint)
            if problem is not None:
                problems.append(str(problem))
                continue
            if problems:
                warnings.warn(f"resuming from the older checkpoint {checkpoint.path.name}: "
                              + "; ".join(problems), stacklevel=2)
            load_model_arrays(self.model, checkpoint.model, checkpoint.path)
            self.stepper.load_state(checkpoint.engine)
            self.loop = _Loop(**checkpoint.loop)
            self._start_tracking_now = False
            return
        if problems:
            raise DataError(f"cannot resume {self.run_dir.path}: no intact checkpoint ({'; '.join(problems)}); "
                            "restart it with --overwrite")
        self._from_step_zero()

    def _open_trajectory_at(self, checkpoint: Checkpoint) -> DataError | None:
        """Reopen the trajectory cut back to ``checkpoint``'s rows and verify them against its digests; the
        problem if that fails (the trajectory is then closed)."""
        try:
            self.writer = TrajectoryWriter.open_existing(self.run_dir.trajectory, checkpoint.loop["trajectory_rows"])
        except DataError as exc:
            return exc
        try:
            self.writer.verify(checkpoint.loop.get("trajectory_digests", []))
        except DataError as exc:
            self.writer.close()
            return exc
        return None

    # the loop -----------------------------------------------------------------------------
    def _finished(self) -> bool:
        loop, c = self.loop, self.config
        if loop.phase != "tracking":
            return False
        if c.steps is not None:
            return loop.step - loop.tracking_start_step >= c.steps
        return loop.epoch - loop.tracking_start_epoch >= c.epochs

    def _planned_steps(self) -> int:
        c = self.config
        warm = c.max_warmup_epochs if c.until_equilibrium else c.warmup_epochs
        tracked = c.steps if c.steps is not None else c.epochs * self.steps_per_epoch
        return warm * self.steps_per_epoch + tracked

    def _target_batch(self) -> int:
        loop, c = self.loop, self.config
        target = self.steps_per_epoch
        if loop.phase == "tracking" and c.steps is not None:
            target = min(target, loop.batch + loop.tracking_start_step + c.steps - loop.step)
        if c.checkpoint_every is not None:
            target = min(target, loop.batch + c.checkpoint_every - loop.step % c.checkpoint_every)
        return target

    def _start_tracking(self) -> None:
        loop = self.loop
        loop.phase, loop.tracking_start_step, loop.tracking_start_epoch = "tracking", loop.step, loop.epoch
        self.stepper.sync_model()
        self.rows.add([loop.step], self.tracked.gather(self.model)[None, :])
        self.writer.set_metadata(tracking_start_step=loop.step)

    def _probing(self) -> bool:
        return self.weight_criterion is not None and self.loop.phase == "warmup"

    def _probe(self) -> None:
        """Read the probed weights; keep the last window of probes (the weight criterion's buffer)."""
        self.stepper.sync_model()
        probes = self.loop.weight_probes
        probes.append(self.tracked.gather(self.model)[self.probe_columns].astype(float).tolist())
        del probes[:-self.weight_criterion.rows]

    def _record_metrics(self, started: float) -> None:
        self.stepper.sync_model()
        gradient = {}
        if self.config.record_gradient:
            train_loss, train_acc, gradient["train_grad_norm_sq"] = loss_and_gradient(
                self.model, self.objective, self.data.x_train, self.data.y_train)
        else:
            train_loss, train_acc = evaluate(self.model, self.objective, self.data.x_train, self.data.y_train)
        test_loss, test_acc = evaluate(self.model, self.objective, self.data.x_test, self.data.y_test)
        history = self.loop.metrics
        loss_holds = self.criterion.holds([m["train_loss"] for m in history] + [train_loss],
                                          [m["test_loss"] for m in history] + [test_loss])
        fraction = self.weight_criterion.stationary_fraction(self.loop.weight_probes) if self._probing() else None
        weights_hold = self._probing() and self.weight_criterion.holds(self.loop.weight_probes)
        equilibrium = {"loss": loss_holds, "weights": weights_hold,
                       "both": loss_holds and weights_hold}[self.config.equilibrium_criterion]
        history.append({"epoch": self.loop.epoch + self.loop.batch / self.steps_per_epoch, "step": self.loop.step,
                        "phase": self.loop.phase, "train_loss": train_loss, "train_accuracy": train_acc,
                        "test_loss": test_loss, "test_accuracy": test_acc, "equilibrium": equilibrium,
                        "loss_equilibrium": loss_holds, "weight_equilibrium": weights_hold,
                        "weights_without_drift": fraction, **gradient,
                        "wall_s": time.perf_counter() - started})

    def _warmup_over(self) -> bool:
        loop, c = self.loop, self.config
        if loop.epoch < c.warmup_epochs:
            return False
        if not c.until_equilibrium:
            loop.warmup_ended_by = "warmup_epochs"
            return True
        if loop.metrics[-1]["equilibrium"]:
            loop.equilibrium_epoch, loop.warmup_ended_by = loop.epoch, c.equilibrium_criterion
            return True
        if loop.epoch >= c.max_warmup_epochs:
            warnings.warn(f"equilibrium not reached after {loop.epoch} warm-up epochs "
                          f"(criterion: {self._describe()}); tracking starts anyway", stacklevel=2)
            loop.warmup_ended_by = "max_warmup_epochs"
            return True
        return False

    def _describe(self) -> str:
        """The configured criterion in words."""
        parts = {"loss": [self.criterion], "weights": [self.weight_criterion],
                 "both": [self.criterion, self.weight_criterion]}[self.config.equilibrium_criterion]
        return "; and ".join(part.describe() for part in parts)

    def _checkpoint(self) -> None:
        self.rows.flush()
        digests = self.loop.trajectory_digests
        start = digests[-1][0] if digests else 0
        if self.writer.n_rows > start:
            digests.append([self.writer.n_rows, self.writer.digest(start, self.writer.n_rows)])
        self.loop.trajectory_rows = self.writer.n_rows
        self.stepper.sync_model()
        if not all(bool(torch.isfinite(value).all()) for value in self.model.state_dict().values()):
            raise _NonFinite("weights")
        save_checkpoint(self.checkpoints, Checkpoint(model_arrays(self.model), self.stepper.state(),
                                                     asdict(self.loop)), keep=self.config.keep_checkpoints)
        write_json(self.run_dir.path / METRICS_FILE, self._metrics_payload())

    def _metrics_payload(self) -> dict:
        history, loop = self.loop.metrics, self.loop
        columns = {key: [m[key] for m in history] for key in (history[0] if history else {})}
        reached = loop.equilibrium_epoch is not None or any(m["equilibrium"] for m in history)

        def first_epoch(key: str):
            return next((m["epoch"] for m in history if m.get(key)), None)

        return {"columns": columns, "steps_per_epoch": self.steps_per_epoch,
                "equilibrium": {"criterion": self._describe(), "uses": self.config.equilibrium_criterion,
                                "window": self.criterion.window, "rtol": self.criterion.rtol, "reached": reached,
                                "first_epoch": first_epoch("equilibrium"),
                                "first_loss_epoch": first_epoch("loss_equilibrium"),
                                "first_weight_epoch": first_epoch("weight_equilibrium"),
                                "warmup_ended_at_equilibrium_epoch": loop.equilibrium_epoch,
                                "warmup_ended_by": loop.warmup_ended_by},
                "tracking": {"start_step": loop.tracking_start_step, "start_epoch": loop.tracking_start_epoch,
                             "rows": loop.trajectory_rows}}

    def execute(self, progress: bool) -> TrainResult:
        started = time.perf_counter()
        first_step = self.loop.step
        if self._start_tracking_now:
            self._start_tracking()
        bar = tqdm(total=self._planned_steps(), initial=self.loop.step, unit="step", file=sys.stderr,
                   disable=not progress, mininterval=0.5, dynamic_ncols=True)
        n_train, bs = self.data.x_train.shape[0], self.config.batch_size
        try:
            while not self._finished():
                loop = self.loop
                order = epoch_order(self.config.seed, loop.epoch, n_train)
                target = self._target_batch()
                while loop.batch < target:
                    stop = min(target, loop.batch + _CHUNK_STEPS)
                    if self._probing():
                        stop = min(stop, self.weight_criterion.next_probe(loop.batch))
                    try:
                        rows = self.stepper.run(order[loop.batch * bs:min(stop * bs, n_train)],
                                                track=loop.phase == "tracking")
                    except (ZeroDivisionError, FloatingPointError, OverflowError) as exc:
                        raise _NonFinite(f"weights ({type(exc).__name__} in the {self.backend} "
                                         "engine)") from None
                    n = stop - loop.batch
                    if rows is not None:
                        self.rows.add(np.arange(loop.step + 1, loop.step + n + 1), rows)
                    loop.step, loop.batch = loop.step + n, stop
                    bar.update(n)
                    if self._probing() and loop.batch in self._probe_positions:
                        self._probe()
                epoch_done = loop.batch == self.steps_per_epoch
                if epoch_done:
                    loop.epoch, loop.batch = loop.epoch + 1, 0
                finished = self._finished()
                if epoch_done or finished:
                    self._record_metrics(started)
                    if not math.isfinite(loop.metrics[-1]["train_loss"]):
                        raise _NonFinite("training loss")
                    bar.set_postfix(test_loss=f"{loop.metrics[-1]['test_loss']:.4g}", refresh=False)
                if epoch_done and loop.phase == "warmup" and self._warmup_over():
                    self._start_tracking()
                periodic = self.config.checkpoint_every and loop.step % self.config.checkpoint_every == 0
                epoch_checkpoint = epoch_done and loop.epoch % self.config.checkpoint_epochs == 0
                if epoch_checkpoint or finished or periodic:
                    self._checkpoint()
        except _NonFinite as what:
            raise DivergenceError(f"training diverged before step {self.loop.step + 1}: the {what} left the finite "
                                  f"numbers; the learning rate {self.config.lr:g} is too large for this network "
                                  "(lower --lr, then restart with --overwrite)") from None
        finally:
            bar.close()
            self.writer.close()     # rows after the last checkpoint are dropped by a resume anyway
        seconds = time.perf_counter() - started
        last = self.loop.metrics[-1]
        payload = self._metrics_payload()
        return TrainResult(
            out=self.run_dir.path, steps=self.loop.step, seconds=seconds,
            steps_per_s=(self.loop.step - first_step) / seconds if seconds > 0 else math.nan,
            final_train_loss=last["train_loss"], final_test_loss=last["test_loss"],
            final_test_accuracy=last["test_accuracy"], equilibrium_reached=payload["equilibrium"]["reached"],
            equilibrium_epoch=self.loop.equilibrium_epoch, equilibrium_criterion=self.config.equilibrium_criterion,
            warmup_ended_by=self.loop.warmup_ended_by, tracking_start_step=self.loop.tracking_start_step,
            trajectory_rows=self.loop.trajectory_rows)


def train(config: TrainConfig, *, resume: bool = False, overwrite: bool = False, progress: bool = True,
          command: list[str] | None = None) -> TrainResult:
    """Train per ``config`` into the run directory ``config.out`` (see the module docstring).

    ``resume=True`` continues the run in ``config.out`` from its newest intact checkpoint; the stored
    parameters must equal ``config`` but where :meth:`TrainConfig.resumed_with` allows a change.
    ``overwrite=True`` replaces a run already in ``config.out`` (else a DataError). The directory is claimed
    (:func:`statmech_nn.run_directory.claim`: one writer, the outcome in run.json). ``command`` is recorded in
    ``run.json`` (the CLI passes its argv).
    """
    with claim(config.out, resume=resume, overwrite=overwrite):
        return _Run(config, resume, command).execute(progress)
