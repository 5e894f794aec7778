"""Which weights a run tracks, and what their trajectory columns are called.

002 §5 keeps track of "a few randomly selected weights" w_i(t) after equilibrium. Three ways to choose:

- :meth:`TrackedParameters.choose` (what ``statmech-nn train --track K --seed S`` uses): K entries drawn
  without replacement, seeded, split as evenly as possible across the selected parameter tensors (all
  weight matrices by default, biases too on request; a tensor smaller than its share gives all its
  entries and the rest is shared among the others), uniformly within each tensor;
- :meth:`TrackedParameters.matching`: the entries whose column name matches a pattern (a glob in which
  only ``*`` and ``?`` are wildcards, so ``fc1.weight[3,*]`` is row 3 of ``fc1.weight``, or a compiled
  regular expression), K of them drawn uniformly when more match;
- :meth:`TrackedParameters.explicit`: a list of (parameter name, index) pairs.

Column names follow ``<torch parameter name>[<index in the tensor>]``: ``fc1.weight[12,345]`` is row 12
(output unit), column 345 (input unit) of the first fully connected layer's (out, in) matrix,
``fc3.bias[7]`` the 8th output bias, ``conv2.weight[5,3,1,1]`` an entry of a (out, in, kh, kw) kernel.
Columns are ordered by parameter (in ``model.named_parameters()`` order), then by flat index.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import ParameterError
from ..params import require_int

_TRACKING_STREAM = 0x7AC  # makes the selection's random stream independent of other uses of the seed
NAMES_SCHEME = "<torch parameter name>[<index in the tensor>], e.g. fc1.weight[out,in]"


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
               layers: tuple[str, ...] | None = None) -> TrackedParameters:
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
        picked = [(name, np.sort(rng.choice(param.numel(), size=int(share), replace=False)))
                  for (name, param), share in zip(candidates, shares)]
        return cls._from_groups(model, picked)

    @classmethod
    def matching(cls, model: nn.Module, pattern: str | re.Pattern, k: int | None, seed: int) -> TrackedParameters:
        """The entries (weights and biases alike) whose column name matches ``pattern``, all of them or, when
        ``k`` is given and more match, ``k`` drawn uniformly without replacement (seeded).

        A string is a glob whose only wildcards are ``*`` (any run of characters) and ``?`` (one character);
        brackets and dots are literal. A compiled :class:`re.Pattern` must match the whole name.
        """
        if isinstance(pattern, str):
            regex, text = _glob_regex(pattern), pattern
        elif isinstance(pattern, re.Pattern):
            regex, text = pattern, pattern.pattern
        else:
            raise ParameterError("names", pattern, "a glob string, a compiled regular expression or a list of "
                                 "(parameter name, index) pairs")
        # the part of a glob before its literal "[" names the parameter (torch names have no "["): skip the rest
        head = _glob_regex(text.partition("[")[0]) if isinstance(pattern, str) and "[" in text else None
        groups = []
        for name, param in model.named_parameters():
            if head is not None and head.fullmatch(name) is None:
                continue
            entry_names = _entry_names(name, tuple(param.shape))
            hits = np.flatnonzero([regex.fullmatch(entry) is not None for entry in entry_names])
            if hits.size:
                groups.append((name, hits))
        total = sum(len(hits) for _, hits in groups)
        if total == 0:
            raise ParameterError("names", text, "a pattern that matches at least one entry, e.g. 'fc1.weight[*]' "
                                 "(names look like fc1.weight[out,in])")
        if k is not None and require_int("k", k, 1) < total:
            rng = np.random.default_rng([int(seed), _TRACKING_STREAM])
            keep = np.zeros(total, dtype=bool)
            keep[rng.choice(total, size=k, replace=False)] = True
            bounds = np.cumsum([0] + [len(hits) for _, hits in groups])
            groups = [(name, hits[keep[a:b]]) for (name, hits), a, b in zip(groups, bounds[:-1], bounds[1:])]
        return cls._from_groups(model, [(name, hits) for name, hits in groups if hits.size])

    @classmethod
    def explicit(cls, model: nn.Module, entries: Sequence[tuple[str, int | Sequence[int]]]) -> TrackedParameters:
        """The listed entries: (parameter name, flat index) or (parameter name, index tuple) pairs, each once.
        Columns are ordered as everywhere else (by parameter, then flat index), not as listed."""
        params = dict(model.named_parameters())
        chosen: dict[str, list[int]] = {}
        for entry in entries:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and entry[0] in params):
                raise ParameterError("names", entry, f"a (parameter name, index) pair with a name among "
                                     f"{', '.join(params)}")
            name, index = entry
            shape = tuple(params[name].shape)
            flat = _flat_index(index, shape)
            if flat is None:
                raise ParameterError("names", entry, f"an index into {name} of shape {shape} (flat or one per axis)")
            if flat in chosen.setdefault(name, []):
                raise ParameterError("names", entry, "entries listed once each")
            chosen[name].append(flat)
        if not chosen:
            raise ParameterError("names", list(entries), "at least one (parameter name, index) pair")
        return cls._from_groups(model, [(name, np.sort(np.array(chosen[name], dtype=np.int64)))
                                        for name in params if name in chosen])

    @classmethod
    def _from_groups(cls, model: nn.Module, groups: list[tuple[str, np.ndarray]]) -> TrackedParameters:
        """Columns from (parameter name, sorted flat indices) pairs given in ``named_parameters()`` order."""
        shapes = {name: tuple(param.shape) for name, param in model.named_parameters()}
        param_names, names = [], []
        for name, flat in groups:
            positions = np.unravel_index(flat, shapes[name])
            names += [f"{name}[{','.join(str(int(axis[j])) for axis in positions)}]" for j in range(len(flat))]
            param_names += [name] * len(flat)
        return cls(tuple(param_names), np.concatenate([flat for _, flat in groups]).astype(np.int64), tuple(names))


def _flat_index(index, shape: tuple[int, ...]) -> int | None:
    """A flat index or an index tuple into ``shape`` as a flat index; None when it is not a valid one."""
    parts = tuple(index) if isinstance(index, (tuple, list)) else None
    for part in (index,) if parts is None else parts:
        if isinstance(part, (bool, np.bool_)) or not isinstance(part, (int, np.integer)):
            return None
    if parts is None:
        return int(index) if 0 <= index < int(np.prod(shape, dtype=np.int64)) else None
    if len(parts) != len(shape) or not all(0 <= i < n for i, n in zip(parts, shape)):
        return None
    return int(np.ravel_multi_index(parts, shape)) if shape else 0


def _glob_regex(glob: str) -> re.Pattern:
    """A glob whose only wildcards are ``*`` and ``?`` as a regular expression (everything else literal)."""
    return re.compile(".*".join(".".join(map(re.escape, part.split("?"))) for part in glob.split("*")))


def _entry_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """The column names of every entry of a parameter, in flat order."""
    if not shape:
        return [f"{name}[]"]
    text = np.char.mod("%d", np.indices(shape).reshape(len(shape), -1))
    joined = text[0]
    for axis in text[1:]:
        joined = np.char.add(np.char.add(joined, ","), axis)
    return np.char.add(np.char.add(f"{name}[", joined), "]").tolist()


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
