"""Which weights a run tracks, and what their trajectory columns are called.

002 §5 keeps track of "a few randomly selected weights" w_i(t) after equilibrium. We draw K entries
without replacement, seeded, split as evenly as possible across the selected parameter tensors (all
weight matrices by default, biases too on request; a tensor smaller than its share gives all its
entries and the rest is shared among the others), uniformly within each tensor.

Column names follow ``<torch parameter name>[<index in the tensor>]``: ``fc1.weight[12,345]`` is row 12
(output unit), column 345 (input unit) of the first fully connected layer's (out, in) matrix,
``fc3.bias[7]`` the 8th output bias, ``conv2.weight[5,3,1,1]`` an entry of a (out, in, kh, kw) kernel.
Columns are ordered by parameter (in ``model.named_parameters()`` order), then by flat index.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import ParameterError
from ..params import require_int

_TRACKING_STREAM = 0x7AC  # makes the selection's random stream independent of other uses of the seed


@dataclass(frozen=True)
class TrackedParameters:
    """K tracked entries: for each column, its parameter tensor's name and flat index, and its name."""

    param_names: tuple[str, ...]
    flat_index: np.ndarray
    names: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.names)

    def groups(self) -> list[tuple[str, np.ndarray]]:
        """(parameter name, flat indices) per tracked tensor, in column order."""
        order = list(dict.fromkeys(self.param_names))
        names = np.asarray(self.param_names)
        return [(name, self.flat_index[names == name]) for name in order]

    def gather(self, model: nn.Module) -> np.ndarray:
        """The current values of the tracked entries, as one row (K,)."""
        params = dict(model.named_parameters())
        return np.concatenate([params[name].detach().reshape(-1)[torch.as_tensor(idx, device=params[name].device)]
                               .cpu().numpy() for name, idx in self.groups()])

    @classmethod
    def choose(cls, model: nn.Module, k: int, seed: int, *, include_biases: bool = False,
               layers: tuple[str, ...] | None = None) -> "TrackedParameters":
        """Draw ``k`` entries (see the module docstring); ``layers`` are module-name patterns like ``fc1``."""
        k = require_int("track", k, 1)
        candidates = []
        for name, param in model.named_parameters():
            module, _, kind = name.rpartition(".")
            if kind == "weight" or (include_biases and kind == "bias"):
                if layers is None or any(fnmatch.fnmatchcase(module, pattern) for pattern in layers):
                    candidates.append((name, param))
        if not candidates:
            raise ParameterError("track_layers", layers, "patterns that match at least one layer of the network")
        sizes = np.array([param.numel() for _, param in candidates])
        if k > sizes.sum():
            raise ParameterError("track", k, f"<= {int(sizes.sum())}, the number of candidate parameters")
        shares = _even_shares(k, sizes)
        rng = np.random.default_rng([int(seed), _TRACKING_STREAM])
        param_names, flat, names = [], [], []
        for (name, param), share in zip(candidates, shares):
            picked = np.sort(rng.choice(param.numel(), size=int(share), replace=False))
            shape = tuple(param.shape)
            for index in picked:
                position = ",".join(str(int(i)) for i in np.unravel_index(index, shape))
                names.append(f"{name}[{position}]")
            param_names += [name] * len(picked)
            flat.append(picked)
        return cls(tuple(param_names), np.concatenate(flat).astype(np.int64), tuple(names))


def _even_shares(k: int, sizes: np.ndarray) -> np.ndarray:
    """Split k as evenly as possible over tensors of the given sizes, no share above its size."""
    shares = np.zeros(len(sizes), dtype=np.int64)
    open_ = np.ones(len(sizes), dtype=bool)
    remaining = k
    while remaining > 0:
        n_open = int(open_.sum())
        base, extra = divmod(remaining, n_open)
        give = np.zeros(len(sizes), dtype=np.int64)
        give[open_] = base
        give[np.flatnonzero(open_)[:extra]] += 1
        give = np.minimum(give, sizes - shares)
        shares += give
        remaining -= int(give.sum())
        open_ = shares < sizes
    return shares
