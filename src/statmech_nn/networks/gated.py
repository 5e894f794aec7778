"""003's stochastic neuronal gate (§II.2) as a torch activation module, resumable bit for bit.

:class:`StochasticGate`: at T = 0 it is ReLU; at T > 0 each unit draws h ~ Bernoulli(sigmoid(z/T)) on every forward
pass and passes h·z. Gradients flow through z with the drawn gates held fixed: the generalized EM step of 003 §II.2
("modifying all weights … while keeping {h_l} fixed"). The analytic law of such a network is
:mod:`statmech_nn.gates.stochastic`; the network built from these gates is the ``gated`` architecture
(:mod:`.architectures`).

The draws of forward pass n of gate layer l come from a generator seeded by (seed, l, n); n is the buffer
``forward_passes``, part of the model's state dict, so a checkpointed run resumes with the same gates
(decision: a counter-based stream instead of one shared generator, whose state is not a tensor of the model).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..params import require_int, require_nonnegative


class StochasticGate(nn.Module):
    """x = h·z with h ~ Bernoulli(sigmoid(z/T)) (T > 0) or h = 1[z > 0] (T = 0, ReLU)."""

    def __init__(self, temperature: float = 0.0, seed: int = 0, layer: int = 1):
        super().__init__()
        self.temperature = require_nonnegative("temperature", temperature)
        self.seed, self.layer = require_int("seed", seed, 0), require_int("layer", layer, 0)
        self.register_buffer("forward_passes", torch.zeros((), dtype=torch.int64))

    def _generator(self) -> torch.Generator:
        key = np.random.SeedSequence([self.seed, self.layer, int(self.forward_passes)]).generate_state(2)
        return torch.Generator().manual_seed(int(key[0]) << 32 | int(key[1]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.temperature == 0:
            return torch.relu(z)
        p = torch.sigmoid(z.detach() / self.temperature)
        uniform = torch.rand(z.shape, generator=self._generator(), dtype=z.dtype).to(z.device)
        self.forward_passes += 1
        return (uniform < p).to(z.dtype) * z

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"
