"""The training loop: a run's parts (:mod:`.parts`) advanced stretch by stretch through its phases
(:mod:`.phases`), with metrics (:mod:`.metrics`), tracked rows and checkpoints (:mod:`.torch_checkpoint`).

Sample order: epoch e visits the training set in the order ``default_rng([seed, e]).permutation(n)``, in batches of
consecutive entries (the last batch of an epoch may be shorter); stateless, so a resumed run continues the same
order. Each stepper call advances at most :data:`CHUNK_STEPS` steps and ends at the epoch's end, the last tracked
step, the next periodic checkpoint or (weight criterion) the next probe.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict

import numpy as np
import torch
from tqdm import tqdm

from ..errors import DivergenceError
from ..io import RunHeader, read_json, write_json
from ..runs.directory import RunDirectory
from .config import TrainConfig
from .metrics import MetricsRecorder
from .parts import TrainingParts, train_dynamics
from .phases import TRACKING, WARMUP, EquilibriumWatch, LoopState, Schedule
from .row_buffer import NonFinite
from .torch_checkpoint import TrainingStore, load_model_arrays, replica_model_arrays, stored_model_arrays

CHUNK_STEPS = 8192          # steps per stepper call (progress-bar granularity)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which epoch ``epoch`` visits the ``n`` training samples."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


class Driver:
    """One run of the training loop: its parts, store and loop state; :meth:`execute` runs it to its end."""

    def __init__(self, parts: TrainingParts, store: TrainingStore, loop: LoopState | None = None):
        self.parts, self.store, self.config = parts, store, parts.config
        self.steps_per_epoch = parts.steps_per_epoch
        self.schedule = Schedule(self.config, self.steps_per_epoch)
        self.watch = EquilibriumWatch(self.config, self.steps_per_epoch, parts.tracked.k, align=parts.graph_steps,
                                      replicas=parts.replicas)
        self.metrics = MetricsRecorder(parts.objective, parts.data, self.watch, self.steps_per_epoch,
                                       record_gradient=self.config.record_gradient)
        self._track_now = loop is None and self.schedule.tracks_from_start()
        self.loop = loop or LoopState()

    @classmethod
    def start(cls, config: TrainConfig, command: list[str] | None) -> Driver:
        """A new run (the directory was claimed empty): run.json, then the trajectory from step 0."""
        parts = TrainingParts.build(config)
        run_dir = RunDirectory(config.out)
        run_dir.create()
        run_dir.write_run_info(command=command or config.command_line(), parameters=config.to_dict(),
                               seed=config.seed, device=str(parts.device), backend=parts.backend)
        return cls._from_step_zero(parts, run_dir)

    @classmethod
    def resume(cls, config: TrainConfig) -> Driver:
        """Continue from the newest intact checkpoint whose trajectory rows verify; with none written yet (killed
        before the first), start again from step 0. run.json records the configuration the run continues with
        (:meth:`TrainConfig.resumed_with`: more tracked epochs or steps extend it)."""
        parts = TrainingParts.build(config)
        run_dir = RunDirectory(config.out)
        stored = TrainConfig.from_run_dir(run_dir.path)
        stored.resumed_with(config)
        write_json(run_dir.run_file, {**read_json(run_dir.run_file),
                                      "parameters": {**config.to_dict(), "out": stored.out}})
        store = TrainingStore.reopen(run_dir, keep=config.keep_checkpoints)
        if store is None:
            return cls._from_step_zero(parts, run_dir)
        checkpoint = store.checkpoint
        for r, model in enumerate(parts.models):
            load_model_arrays(model, replica_model_arrays(checkpoint.model, r), checkpoint.path)
        parts.stepper.load_state(checkpoint.engine)
        return cls(parts, store, LoopState(**checkpoint.loop))

    @classmethod
    def _from_step_zero(cls, parts: TrainingParts, run_dir) -> Driver:
        c = parts.config
        header = RunHeader("networks.train", c.to_dict(), train_dynamics(c), c.seed)
        store = TrainingStore.create(run_dir, parts.column_names(), header=header, dtype=np.dtype(c.dtype),
                                     metadata=parts.metadata(), keep=c.keep_checkpoints, chain=parts.column_chains())
        return cls(parts, store)

    # the loop -----------------------------------------------------------------------------
    def _start_tracking(self) -> None:
        loop = self.loop
        loop.start_tracking()
        self.store.rows.add([loop.step], self.parts.tracked_weights()[None, :])
        self.store.writer.set_metadata(tracking_start_step=loop.step)

    def _advance(self, order: np.ndarray, stop: int) -> None:
        """Run the stepper from the loop's batch to batch ``stop`` of this epoch, tracking rows while tracking."""
        loop, bs = self.loop, self.config.batch_size
        try:
            rows = self.parts.stepper.run(order[..., loop.batch * bs:min(stop * bs, order.shape[-1])],
                                          track=loop.phase == TRACKING)
        except (ZeroDivisionError, FloatingPointError, OverflowError) as exc:
            raise NonFinite(f"weights ({type(exc).__name__} in the {self.parts.backend} engine)") from None
        n = stop - loop.batch
        if rows is not None:
            self.store.rows.add(np.arange(loop.step + 1, loop.step + n + 1), rows.reshape(n, -1))
        loop.step, loop.batch = loop.step + n, stop

    def _epoch_stretch(self, bar) -> None:
        """Advance to the stretch's end (:meth:`Schedule.target_batch`), probing on the way."""
        loop = self.loop
        n_train = self.parts.data.x_train.shape[0]
        orders = [epoch_order(seed, loop.epoch, n_train) for seed in self.parts.order_seeds()]
        order = orders[0] if len(orders) == 1 else np.stack(orders)   # (R, n) for the replicas' stepper
        target = self.schedule.target_batch(loop)
        while loop.batch < target:
            before = loop.batch
            self._advance(order, self.watch.stop_before_probe(loop, min(target, loop.batch + CHUNK_STEPS)))
            bar.update(loop.batch - before)
            if self.watch.probe_due(loop):
                self.watch.keep_probe(loop, self.parts.tracked_weights())

    def _after_stretch(self, started: float, bar) -> None:
        """Epoch bookkeeping: metrics at an epoch's end or the run's, the end of the warm-up, checkpoints."""
        loop = self.loop
        epoch_done = loop.batch == self.steps_per_epoch
        if epoch_done:
            loop.epoch, loop.batch = loop.epoch + 1, 0
        finished = self.schedule.finished(loop)
        if epoch_done or finished:
            record = self.metrics.record(self._measure(), loop, started)
            if not math.isfinite(record["train_loss"]):
                raise NonFinite("training loss")
            bar.set_postfix(test_loss=f"{record['test_loss']:.4g}", refresh=False)
        if epoch_done and loop.phase == WARMUP and self.watch.warmup_over(loop):
            self._start_tracking()
        if finished or self.schedule.checkpoint_due(loop, epoch_done):
            self._checkpoint()

    def _measure(self) -> list[dict]:
        """Loss and accuracy on the train and test sets, per replica: the CPU fast engine evaluates its own weights
        (a sparse first layer, the replicas on the threads); otherwise the torch models are evaluated."""
        parts = self.parts
        if parts.objective.kind == "cross_entropy" and hasattr(parts.stepper, "measure"):
            measured = parts.stepper.measure(parts.data)
            return measured if isinstance(measured, list) else [measured]
        parts.stepper.sync_model()
        return [self.metrics.evaluate(model) for model in parts.models]

    def _checkpoint(self) -> None:
        self.loop.trajectory_rows, self.loop.trajectory_digests = self.store.settle_rows()
        models = self.parts.models
        self.parts.stepper.sync_model()
        if not all(bool(torch.isfinite(value).all()) for model in models for value in model.state_dict().values()):
            raise NonFinite("weights")
        self.store.save_checkpoint(stored_model_arrays(models), self.parts.stepper.state(), asdict(self.loop))
        self.metrics.write(self.store.run_dir.path, self.loop)

    def execute(self, progress: bool) -> tuple[float, float]:
        """Run the loop to its end; the seconds it took and its rate (steps per second of this invocation)."""
        started = time.perf_counter()
        first_step = self.loop.step
        if self._track_now:
            self._start_tracking()
        bar = tqdm(total=self.schedule.planned_steps(), initial=self.loop.step, unit="step", file=sys.stderr,
                   disable=not progress, mininterval=0.5, dynamic_ncols=True)
        try:
            while not self.schedule.finished(self.loop):
                self._epoch_stretch(bar)
                self._after_stretch(started, bar)
        except NonFinite as what:
            raise DivergenceError(f"training diverged before step {self.loop.step + 1}: the {what} left the finite "
                                  f"numbers; the learning rate {self.config.lr:g} is too large for this network "
                                  "(lower --lr, then restart with --overwrite)") from None
        finally:
            bar.close()
            self.store.close()
        seconds = time.perf_counter() - started
        return seconds, (self.loop.step - first_step) / seconds if seconds > 0 else math.nan
