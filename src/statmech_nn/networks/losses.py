"""Training objectives: what a network's output is compared with, and when a prediction is correct.

- ``cross_entropy`` for classification (002 §5 does not name its loss; cross-entropy is the standard
  choice for MNIST and what we use for the MLP, the FF net and the CNN);
- ``hinge`` for 003's binary classifier with one output f: mean of max(0, 1 - y f), y = ±1
  (label 1 → +1, label 0 → -1); correct when y f > 0;
- ``reconstruction`` for 001's autoencoder: mean squared error between output and the flattened input.

The L2 term (weight decay) is not part of these losses: the optimizer applies it, and the per-epoch
losses we record are the data losses alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ParameterError

LOSSES = ("cross_entropy", "hinge", "reconstruction")


class Objective:
    """One of :data:`LOSSES`: ``loss(output, x, y)`` (mean over the batch) and ``n_correct(output, y)``."""

    def __init__(self, kind: str):
        if kind not in LOSSES:
            raise ParameterError("loss", kind, f"one of {', '.join(LOSSES)}")
        self.kind = kind

    @property
    def has_accuracy(self) -> bool:
        return self.kind != "reconstruction"

    def loss(self, output: torch.Tensor, x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        if self.kind == "cross_entropy":
            return F.cross_entropy(output, y, reduction=reduction)
        if self.kind == "hinge":
            margins = torch.relu(1.0 - (2.0 * y.to(output.dtype) - 1.0) * output.reshape(-1))
            return margins.mean() if reduction == "mean" else margins.sum()
        errors = (output - x.reshape(x.shape[0], -1)).square().mean(dim=1)
        return errors.mean() if reduction == "mean" else errors.sum()

    def n_correct(self, output: torch.Tensor, y: torch.Tensor) -> int:
        """How many predictions in the batch are right (0 for the autoencoder, which has no accuracy)."""
        if self.kind == "cross_entropy":
            return int((output.argmax(dim=1) == y).sum())
        if self.kind == "hinge":
            return int(((2.0 * y.to(output.dtype) - 1.0) * output.reshape(-1) > 0).sum())
        return 0



def loss_and_gradient(model: torch.nn.Module, objective: Objective, x, y, *, draws: int = 1,
                      batch: int = 4096) -> tuple[float, float, float]:
    """Mean data loss R, accuracy (NaN without one) and ‖∇R‖² (003 eq. (15)'s order parameter OP, over every
    parameter) of ``model`` on (x, y), in batches of ``batch`` examples; with ``draws`` > 1 (a stochastic network)
    R is averaged over that many forward passes, OP is that average's gradient squared and the accuracy is the
    average. The parameters' ``.grad`` are left alone."""
    params = [p for p in model.parameters() if p.requires_grad]
    first = params[0]
    total, correct = 0.0, 0
    gradient = [torch.zeros_like(p) for p in params]
    for start in range(0, len(x), batch):
        xb = torch.as_tensor(x[start:start + batch], dtype=first.dtype, device=first.device)
        yb = torch.as_tensor(y[start:start + batch], device=first.device)
        outputs = [model(xb) for _ in range(draws)]
        loss = sum(objective.loss(output, xb, yb, reduction="sum") for output in outputs) / draws
        for accumulated, part in zip(gradient, torch.autograd.grad(loss, params, allow_unused=True)):
            if part is not None:
                accumulated += part
        total += float(loss.detach())
        correct += sum(objective.n_correct(output.detach(), yb) for output in outputs)
    accuracy = correct / (draws * len(x)) if objective.has_accuracy else float("nan")
    return total / len(x), accuracy, float(sum((g / len(x)).square().sum() for g in gradient))
