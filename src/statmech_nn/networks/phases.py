"""The two phases of a training run (002 §5): where the loop stands, how long it runs, and when the warm-up ends.

- :class:`LoopState`: the loop's position and history, stored in every checkpoint (the ``loop`` record);
- :class:`Schedule`: how far each stretch of steps goes (epoch end, ``steps``, ``checkpoint_every``) and when the
  run is finished;
- :class:`EquilibriumWatch`: the warm-up's equilibrium criterion (:mod:`.equilibrium`: loss, weights, both or trend),
  its weight probes, and the decision that ends the warm-up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .config import TrainConfig
from .equilibrium import (CALIBRATED_LOOKS, EquilibriumCriterion, TrendCriterion, WeightCriterion, WeightTrendCriterion,
                          epoch_summary, held_at_last)

WARMUP, TRACKING = "warmup", "tracking"


@dataclass
class LoopState:
    """Where the loop stands; stored in every checkpoint."""

    step: int = 0
    epoch: int = 0
    batch: int = 0
    phase: str = WARMUP
    tracking_start_step: int | None = None
    tracking_start_epoch: int | None = None
    trajectory_rows: int = 0
    equilibrium_epoch: int | None = None
    warmup_ended_by: str | None = None
    metrics: list = field(default_factory=list)
    weight_probes: list = field(default_factory=list)
    weight_epochs: list = field(default_factory=list)
    trajectory_digests: list = field(default_factory=list)

    def start_tracking(self) -> None:
        self.phase, self.tracking_start_step, self.tracking_start_epoch = TRACKING, self.step, self.epoch


class Schedule:
    """How many steps a run takes and where each stretch of steps ends."""

    def __init__(self, config: TrainConfig, steps_per_epoch: int):
        self.config, self.steps_per_epoch = config, steps_per_epoch

    def finished(self, loop: LoopState) -> bool:
        c = self.config
        if loop.phase != TRACKING:
            return False
        if c.steps is not None:
            return loop.step - loop.tracking_start_step >= c.steps
        return loop.epoch - loop.tracking_start_epoch >= c.epochs

    def planned_steps(self) -> int:
        """The steps of the whole run (the progress bar's total; the warm-up at its longest)."""
        c = self.config
        warm = c.max_warmup_epochs if c.until_equilibrium else c.warmup_epochs
        tracked = c.steps if c.steps is not None else c.epochs * self.steps_per_epoch
        return warm * self.steps_per_epoch + tracked

    def target_batch(self, loop: LoopState) -> int:
        """The batch of this epoch where the next stretch ends: the epoch's end, the last tracked step, or the
        next periodic checkpoint."""
        c = self.config
        target = self.steps_per_epoch
        if loop.phase == TRACKING and c.steps is not None:
            target = min(target, loop.batch + loop.tracking_start_step + c.steps - loop.step)
        if c.checkpoint_every is not None:
            target = min(target, loop.batch + c.checkpoint_every - loop.step % c.checkpoint_every)
        return target

    def checkpoint_due(self, loop: LoopState, epoch_done: bool) -> bool:
        """Whether a checkpoint falls on this step: every ``checkpoint_epochs``-th epoch's end, or a periodic one
        (``checkpoint_every`` steps)."""
        every = self.config.checkpoint_every
        at_epoch = epoch_done and loop.epoch % self.config.checkpoint_epochs == 0
        return at_epoch or (bool(every) and loop.step % every == 0)

    def tracks_from_start(self) -> bool:
        """A run without a warm-up tracks from step 0."""
        return self.config.warmup_epochs == 0 and not self.config.until_equilibrium


class EquilibriumWatch:
    """The warm-up's equilibrium criterion (``config.equilibrium_criterion``) and the weight probes it reads.

    The probes of the weight and trend criteria: the warm-up's stepper calls end at the probe positions
    (:attr:`WeightCriterion.probe_steps`), where the probed weights are read. The weight criterion keeps the last
    window of probes (``loop.weight_probes``); the trend criterion keeps the current epoch's probes there and, at the
    epoch's last probe, their :func:`epoch_summary` in ``loop.weight_epochs`` (the last window of epochs: 3 numbers
    per probed weight and epoch instead of 32 readings). Both are part of the loop state, so a resumed run decides as
    the uninterrupted one."""

    def __init__(self, config: TrainConfig, steps_per_epoch: int, k: int, align: int = 1, replicas: int = 1):
        self.config, self.steps_per_epoch = config, steps_per_epoch
        self.criterion = EquilibriumCriterion(config.eq_window, config.eq_rtol)
        trend = config.equilibrium_criterion == "trend"
        self.trend = TrendCriterion(config.eq_window, config.eq_rtol) if trend else None
        self.weight_trend = WeightTrendCriterion(config.eq_window) if trend else None
        self.weight_criterion = (WeightCriterion(config.eq_window, steps_per_epoch, align=align)
                                 if config.equilibrium_criterion in ("weights", "both") else None)
        self.confirm = self.trend.confirm if trend else 1
        self._prober = self.weight_criterion or (WeightCriterion(config.eq_window, steps_per_epoch, align=align)
                                                 if trend else None)
        per_replica = WeightCriterion.probe_columns(k)
        self.probe_columns = np.concatenate([r * k + np.asarray(per_replica) for r in range(replicas)])
        self._probes_per_replica = len(per_replica)
        self._positions = set(() if self._prober is None else self._prober.probe_steps.tolist())

    def probing(self, loop: LoopState) -> bool:
        return self._prober is not None and loop.phase == WARMUP

    def stop_before_probe(self, loop: LoopState, stop: int) -> int:
        """``stop``, or the next probe position before it while probing."""
        return min(stop, self._prober.next_probe(loop.batch)) if self.probing(loop) else stop

    def probe_due(self, loop: LoopState) -> bool:
        return self.probing(loop) and loop.batch in self._positions

    def keep_probe(self, loop: LoopState, tracked: np.ndarray) -> None:
        """Keep the probed columns of the tracked weights: the weight criterion's last window of probes, or the
        trend criterion's epoch records (the class docstring)."""
        probes = loop.weight_probes
        probes.append(tracked[self.probe_columns].astype(float).tolist())
        if self.weight_trend is None:
            del probes[:-self.weight_criterion.rows]
        elif loop.batch == self.steps_per_epoch:
            loop.weight_epochs.append(epoch_summary(probes).tolist())
            del loop.weight_epochs[:-self.weight_trend.window]
            probes.clear()

    def _replica_part(self, rows: list, replica: int | None) -> list:
        """The columns of ``rows`` (lists of probed-weight values, last axis) that belong to ``replica``."""
        if replica is None:
            return rows
        width = self._probes_per_replica
        return [np.asarray(row)[..., replica * width:(replica + 1) * width] for row in rows]

    def judge(self, loop: LoopState, train_loss: float, test_loss: float, replica: int | None = None) -> dict:
        """Whether the criteria hold with this epoch's losses: the metrics record's ``equilibrium`` (the configured
        criterion), ``loss_equilibrium``, ``weight_equilibrium`` (the weight criterion's, or with the trend criterion
        the weight trend's) and ``weights_without_drift``. With ``replica``, those of that replica: its losses
        (``replicas`` entries of the records) and its probed weights. With the trend criterion also ``loss_trend``
        (the test loss's answer) and ``loss_change_bound`` (the largest relative change over the horizon the window
        allows), so that a run with a fixed warm-up shows whether it reached it, and the weights' answer
        (:meth:`WeightTrendCriterion.judge`: ``weight_trend``, the counts of supported / not supported /
        inconclusive / decaying probed weights, ``weight_change_bound``; None outside the warm-up, where no weight
        is probed)."""
        history = loop.metrics if replica is None else [m["replicas"][replica] for m in loop.metrics]
        train = [m["train_loss"] for m in history] + [train_loss]
        test = [m["test_loss"] for m in history] + [test_loss]
        loss_holds = self.criterion.holds(train, test)
        trend = {} if self.trend is None else self.trend.judge(train, test)
        probing = self.probing(loop)
        fraction, weights = None, {}
        if self.weight_criterion is not None:
            probes = self._replica_part(loop.weight_probes, replica)
            fraction = self.weight_criterion.stationary_fraction(probes) if probing else None
            weights_hold = probing and self.weight_criterion.holds(probes)
        elif self.weight_trend is not None:
            weights = self.weight_trend.judge(self._replica_part(loop.weight_epochs, replica) if probing else [])
            weights = weights if probing else dict.fromkeys(weights)
            weights_hold = bool(weights.pop("holds"))
        else:
            weights_hold = False
        equilibrium = {"loss": loss_holds, "weights": weights_hold, "both": loss_holds and weights_hold,
                       "trend": bool(trend.get("holds")) and weights_hold}[self.config.equilibrium_criterion]
        extra = {key: trend[key] for key in ("loss_trend", "loss_change_bound") if key in trend}
        return {"equilibrium": equilibrium, "loss_equilibrium": loss_holds, "weight_equilibrium": weights_hold,
                "weights_without_drift": fraction, **extra, **weights}

    def warmup_over(self, loop: LoopState) -> bool:
        """Whether the warm-up ends with this epoch (recording why in ``loop``)."""
        c = self.config
        if loop.epoch < c.warmup_epochs:
            return False
        if not c.until_equilibrium:
            loop.warmup_ended_by = "warmup_epochs"
            if loop.epoch >= self.criterion.window and not self.reached(loop):
                warnings.warn(f"equilibrium not reached in the {loop.epoch} warm-up epochs (criterion: "
                              f"{self.describe()}); tracking starts as configured", stacklevel=2)
            return True
        if held_at_last(self._answers(loop), self.confirm):
            loop.equilibrium_epoch, loop.warmup_ended_by = loop.epoch, c.equilibrium_criterion
            looks = self.looks(loop)
            if self.trend is not None and looks > CALIBRATED_LOOKS:
                warnings.warn(f"the trend criterion held after {looks} looks; its error rates are calibrated for "
                              f"{CALIBRATED_LOOKS} (statmech-nn calibrate --verdict EQ / EQW): with more looks a drift "
                              "near the tolerance passes more often (module docstring of networks/equilibrium.py)",
                              stacklevel=2)
            return True
        if loop.epoch >= c.max_warmup_epochs:
            warnings.warn(f"equilibrium not reached after {loop.epoch} warm-up epochs "
                          f"(criterion: {self.describe()}); tracking starts anyway", stacklevel=2)
            loop.warmup_ended_by = "max_warmup_epochs"
            return True
        return False

    def describe(self) -> str:
        """The configured criterion in words."""
        parts = {"loss": [self.criterion], "weights": [self.weight_criterion],
                 "both": [self.criterion, self.weight_criterion],
                 "trend": [self.trend, self.weight_trend]}[self.config.equilibrium_criterion]
        confirm = f"; both holding at each of the last {self.confirm} epochs" if self.confirm > 1 else ""
        return "; and ".join(part.describe() for part in parts) + confirm

    def summary(self, loop: LoopState) -> dict:
        """The ``equilibrium`` entry of ``metrics.json``."""
        history = loop.metrics

        def first_epoch(key: str):
            return next((m["epoch"] for m in history if m.get(key)), None)

        trend = {} if self.trend is None else {"horizon_epochs": self.trend.horizon, "alpha": self.trend.alpha,
                                               "weight_sd_multiple": self.weight_trend.sd_multiple,
                                               "confirm_epochs": self.confirm, "looks": self.looks(loop),
                                               "calibrated_looks": CALIBRATED_LOOKS}
        return {"criterion": self.describe(), "uses": self.config.equilibrium_criterion,
                "window": self.criterion.window, "rtol": self.criterion.rtol, **trend, "reached": self.reached(loop),
                "first_epoch": first_epoch("equilibrium"), "first_loss_epoch": first_epoch("loss_equilibrium"),
                "first_weight_epoch": first_epoch("weight_equilibrium"),
                "warmup_ended_at_equilibrium_epoch": loop.equilibrium_epoch, "warmup_ended_by": loop.warmup_ended_by}

    @staticmethod
    def _answers(loop: LoopState) -> list[bool]:
        """The criterion's answer at each warm-up epoch so far."""
        return [bool(m["equilibrium"]) for m in loop.metrics if m.get("phase", WARMUP) == WARMUP]

    def looks(self, loop: LoopState) -> int:
        """Warm-up epochs at which the trend criterion was asked with a full window (what its calibration counts)."""
        return max(0, len(self._answers(loop)) - self.criterion.window + 1)

    def reached(self, loop: LoopState) -> bool:
        """Whether the warm-up ended at equilibrium: the criterion ended it, or (a fixed warm-up) held at its last
        ``confirm`` epochs (not at any earlier look: a criterion asked at every epoch of a long warm-up would hold by
        chance)."""
        return loop.equilibrium_epoch is not None or held_at_last(self._answers(loop), self.confirm)
