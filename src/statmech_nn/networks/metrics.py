"""A training run's metrics: data loss and accuracy on the whole train and test sets after every epoch (and at the
last step), with the equilibrium criteria's answers, kept in the loop state and written to ``metrics.json``."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from ..io import write_json
from .data import ArrayDataset
from .losses import Objective, loss_and_gradient
from .phases import EquilibriumWatch, LoopState

METRICS_FILE = "metrics.json"


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


class MetricsRecorder:
    """Evaluates a model on its data set and keeps one record per evaluation in ``loop.metrics``; the L2 term is
    not included in the losses."""

    def __init__(self, objective: Objective, data: ArrayDataset, watch: EquilibriumWatch, steps_per_epoch: int,
                 record_gradient: bool = False):
        self.objective, self.data, self.watch, self.steps_per_epoch = objective, data, watch, steps_per_epoch
        self.record_gradient = record_gradient

    def evaluate(self, model: torch.nn.Module) -> dict:
        """Data loss and accuracy of ``model`` on the train and test sets; with ``record_gradient`` also
        ``train_grad_norm_sq`` = |grad R|^2 of the train loss (003 eq. (15)'s OP)."""
        gradient = {}
        if self.record_gradient:
            train_loss, train_acc, gradient["train_grad_norm_sq"] = loss_and_gradient(
                model, self.objective, self.data.x_train, self.data.y_train)
        else:
            train_loss, train_acc = evaluate(model, self.objective, self.data.x_train, self.data.y_train)
        test_loss, test_acc = evaluate(model, self.objective, self.data.x_test, self.data.y_test)
        return {"train_loss": train_loss, "train_accuracy": train_acc, "test_loss": test_loss,
                "test_accuracy": test_acc, **gradient}

    def record(self, measured: list[dict], loop: LoopState, started: float) -> dict:
        """Append the record of this evaluation (``measured``: :meth:`evaluate`'s answer per replica; ``started``:
        the run's start, for ``wall_s``).

        With several replicas the record's losses and accuracies are the means over the replicas, its ``replicas``
        entry holds each replica's values and criteria (judged on that replica's history and probes), and the
        criteria hold when they hold for every replica (the warm-up ends when every replica is at equilibrium);
        ``weights_without_drift`` is the smallest replica's fraction."""
        head = {"epoch": loop.epoch + loop.batch / self.steps_per_epoch, "step": loop.step, "phase": loop.phase}
        if len(measured) == 1:
            values = measured[0]
            record = {**head, **values, **self.watch.judge(loop, values["train_loss"], values["test_loss"])}
        else:
            replicas = [{**values, **self.watch.judge(loop, values["train_loss"], values["test_loss"], replica=r)}
                        for r, values in enumerate(measured)]
            means = {key: float(np.mean([values[key] for values in measured])) for key in measured[0]}
            fractions = [replica["weights_without_drift"] for replica in replicas]
            record = {**head, **means, **{key: all(replica[key] for replica in replicas)
                                          for key in ("equilibrium", "loss_equilibrium", "weight_equilibrium")},
                      "weights_without_drift": None if None in fractions else min(fractions), "replicas": replicas}
        record["wall_s"] = time.perf_counter() - started
        loop.metrics.append(record)
        return record

    def payload(self, loop: LoopState) -> dict:
        """What ``metrics.json`` holds: the records as columns, the equilibrium summary, the tracking phase."""
        history = loop.metrics
        columns = {key: [m[key] for m in history] for key in (history[0] if history else {})}
        return {"columns": columns, "steps_per_epoch": self.steps_per_epoch, "equilibrium": self.watch.summary(loop),
                "tracking": {"start_step": loop.tracking_start_step, "start_epoch": loop.tracking_start_epoch,
                             "rows": loop.trajectory_rows}}

    def write(self, directory, loop: LoopState) -> None:
        write_json(directory / METRICS_FILE, self.payload(loop))
