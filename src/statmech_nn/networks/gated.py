"""Bias-free MLPs with 003's stochastic neuronal gates (§II.2), trained on the hinge risk (eq. (12)), in torch.

:class:`StochasticGate` is the activation: at T = 0 it is ReLU; at T > 0 each unit draws h ~ Bernoulli(sigmoid(z/T))
on every forward pass and passes h·z. Gradients flow through z with the drawn gates held fixed: the generalized
EM step of 003 §II.2 ("modifying all weights … while keeping {h_l} fixed"). The analytic law of such a network is
:mod:`statmech_nn.gates.stochastic`.

:func:`fit_hinge` trains full batch and records, at every step, the risk R and the plasticity order parameter
OP = ‖∇R‖² (003 eq. (15)) of the parameters before the step. Decisions where 003 is silent: He-normal
initialization N(0, 2/n_in) (the edge of chaos, c = 1 in :mod:`statmech_nn.gates.assembly`), Adam at a fixed
learning rate, labels y ∈ {0, 1} mapped to ±1 as in :mod:`.losses`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..params import require_int, require_nonnegative, require_positive
from .losses import Objective


class StochasticGate(nn.Module):
    """x = h·z with h ~ Bernoulli(sigmoid(z/T)) (T > 0) or h = 1[z > 0] (T = 0, ReLU)."""

    def __init__(self, temperature: float = 0.0, generator: torch.Generator | None = None):
        super().__init__()
        self.temperature = require_nonnegative("temperature", temperature)
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.temperature == 0:
            return torch.relu(z)
        p = torch.sigmoid(z.detach() / self.temperature)
        gates = (torch.rand(z.shape, generator=self.generator, dtype=z.dtype, device=z.device) < p).to(z.dtype)
        return gates * z

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"


def bias_free_mlp(widths, temperature: float = 0.0, seed: int = 0, dtype=torch.float64) -> nn.Sequential:
    """fc1, gate1, …, fcL without biases; weights N(0, 2/n_in); gates drawn from a generator seeded by ``seed``."""
    widths = [require_int("width", w, 1) for w in widths]
    generator = torch.Generator().manual_seed(int(seed) + 1)
    layers = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        for index, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
            linear = nn.Linear(n_in, n_out, bias=False, dtype=dtype)
            nn.init.normal_(linear.weight, 0.0, float(np.sqrt(2.0 / n_in)))
            layers.append((f"fc{index}", linear))
            if index < len(widths) - 1:
                layers.append((f"gate{index}", StochasticGate(temperature, generator)))
    return nn.Sequential(OrderedDict(layers))


HINGE = Objective("hinge")


def hinge_risk(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """R = mean max(0, 1 - y f), labels {0, 1} → ±1 (003 eq. (12)): the project's hinge objective."""
    return HINGE.loss(output, output, y)


@dataclass(frozen=True)
class HingeFit:
    """The record of :func:`fit_hinge`: per-step risk and OP, and the final risk and training error."""

    risk: np.ndarray          # R before each step
    op: np.ndarray            # ‖∇R‖² before each step
    final_risk: float         # averaged over ``eval_draws`` gate draws at the end
    final_op: float
    train_error: float        # fraction of examples with y f ≤ 0 (averaged over draws)


def _risk_and_op(model, x, y, draws: int) -> tuple[float, float, float]:
    model.zero_grad(set_to_none=True)
    outputs = [model(x) for _ in range(draws)]
    risk = sum(hinge_risk(out, y) for out in outputs) / draws
    risk.backward()
    op = sum(float((p.grad**2).sum()) for p in model.parameters())
    sign = 2.0 * y.to(x.dtype) - 1.0
    error = float(np.mean([float(((sign * out.reshape(-1)) <= 0).to(x.dtype).mean()) for out in outputs]))
    return float(risk.detach()), op, error


def fit_hinge(model: nn.Module, x: np.ndarray, y: np.ndarray, *, steps: int = 2000, lr: float = 3e-3,
              eval_draws: int = 16) -> HingeFit:
    """Full-batch Adam on the hinge risk for ``steps`` steps; risk and OP recorded before every step."""
    steps = require_int("steps", steps, 1)
    lr = require_positive("lr", lr)
    eval_draws = require_int("eval_draws", eval_draws, 1)
    dtype = next(model.parameters()).dtype
    xt, yt = torch.as_tensor(x, dtype=dtype), torch.as_tensor(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    risks, ops = np.empty(steps), np.empty(steps)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        risk = hinge_risk(model(xt), yt)
        risk.backward()
        risks[step] = float(risk.detach())
        ops[step] = sum(float((p.grad**2).sum()) for p in model.parameters())
        optimizer.step()
    stochastic = any(isinstance(m, StochasticGate) and m.temperature > 0 for m in model.modules())
    final_risk, final_op, error = _risk_and_op(model, xt, yt, eval_draws if stochastic else 1)
    return HingeFit(risks, ops, final_risk, final_op, error)
