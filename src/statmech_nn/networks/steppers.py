"""The torch training step, run eagerly (any device) or replayed from a CUDA graph (GPU fast path).

A stepper's contract (shared with :class:`.fast_sgd.FastMLPEngine`): ``run(samples, track)`` applies one
optimizer step per batch of consecutive entries of ``samples`` (the last batch may be shorter) and
returns the tracked values after each step as an array (steps, K), or None when ``track`` is False;
``state()`` / ``load_state()`` hold what a bitwise resume needs besides the model's parameters.

On a CUDA device with ``graph_steps = G > 0`` the stepper captures G consecutive steps (gather of the
batch from the device-resident data set by a static index buffer, forward, loss, backward, optimizer
step, gather of the tracked values into a static (G, K) buffer) into one CUDA graph and replays it: one
launch per G steps instead of ~30 kernel launches per step. The captured body is the same
:meth:`TorchStepper._step` that runs eagerly on the CPU (where the tests exercise it); steps that do not
fill a whole graph (an epoch's tail, a partial last batch) run eagerly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .losses import Objective
from .tracking import TrackedParameters


class TorchStepper:
    """Eager (or CUDA-graph) optimizer steps on a torch model over an in-memory data set."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, objective: Objective,
                 x_train: np.ndarray, y_train: np.ndarray, *, batch_size: int, tracked: TrackedParameters,
                 graph_steps: int = 0):
        self.model, self.optimizer, self.objective = model, optimizer, objective
        first = next(model.parameters())
        self.device, self.dtype = first.device, first.dtype
        self.batch_size = int(batch_size)
        self._x = torch.as_tensor(np.asarray(x_train), dtype=self.dtype, device=self.device)
        self._y = torch.as_tensor(np.asarray(y_train), dtype=torch.int64, device=self.device)
        params = dict(model.named_parameters())
        self._tracked = [(params[name], torch.as_tensor(index, device=self.device)) for name, index in tracked.groups()]
        self.k = tracked.k
        self.graph_steps = int(graph_steps) if self.device.type == "cuda" else 0
        self._graph = None

    def _step(self, index: torch.Tensor, row: torch.Tensor | None) -> None:
        """One optimizer step on the batch ``index``; the tracked values go into ``row``."""
        x, y = self._x.index_select(0, index), self._y.index_select(0, index)
        self.optimizer.zero_grad(set_to_none=True)
        self.objective.loss(self.model(x), x, y).backward()
        self.optimizer.step()
        if row is not None:
            with torch.no_grad():
                torch.cat([p.detach().reshape(-1).index_select(0, i) for p, i in self._tracked], out=row)

    def run(self, samples: np.ndarray, track: bool) -> np.ndarray | None:
        samples = torch.as_tensor(np.asarray(samples, dtype=np.int64), device=self.device)
        bs = self.batch_size
        n_steps = -(-len(samples) // bs)
        rows = torch.empty((n_steps, self.k), dtype=self.dtype, device=self.device) if track else None
        done = 0
        if self.graph_steps and len(samples) >= self.graph_steps * bs:
            done = self._replay(samples, rows)
        for step in range(done, n_steps):
            self._step(samples[step * bs:(step + 1) * bs], None if rows is None else rows[step])
        return None if rows is None else rows.cpu().numpy()

    # CUDA graphs ----------------------------------------------------------------------------
    def _replay(self, samples: torch.Tensor, rows: torch.Tensor | None) -> int:
        """Replay the captured G-step graph over as many whole G-step blocks as ``samples`` holds."""
        if self._graph is None:
            self._capture()
        block = self.graph_steps * self.batch_size
        n_blocks = len(samples) // block
        for b in range(n_blocks):
            self._static_index.copy_(samples[b * block:(b + 1) * block])
            self._graph.replay()
            if rows is not None:
                rows[b * self.graph_steps:(b + 1) * self.graph_steps].copy_(self._static_rows)
        return n_blocks * self.graph_steps

    def _capture(self) -> None:
        """Capture G steps into one graph. Warm-up steps run on a side stream and are then undone."""
        bs, g = self.batch_size, self.graph_steps
        self._static_index = torch.zeros(g * bs, dtype=torch.int64, device=self.device)
        self._static_rows = torch.zeros((g, self.k), dtype=self.dtype, device=self.device)
        saved = self._snapshot()
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._step(self._static_index[:bs], self._static_rows[0])
        torch.cuda.current_stream(self.device).wait_stream(side)
        self._restore(saved)
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph):
            for step in range(g):
                self._step(self._static_index[step * bs:(step + 1) * bs], self._static_rows[step])

    def _optimizer_tensors(self) -> list[torch.Tensor]:
        return [v for state in self.optimizer.state.values() for v in state.values() if torch.is_tensor(v)]

    def _snapshot(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(t, t.detach().clone()) for t in [*self.model.parameters(), *self._optimizer_tensors()]]

    def _restore(self, saved) -> None:
        """Undo the warm-up: restore what existed before it, zero the optimizer state it created (a fresh
        Adam state is zeros with step 0, which is what an optimizer without state starts from)."""
        existing = {id(tensor) for tensor, _ in saved}
        with torch.no_grad():
            for tensor, copy in saved:
                tensor.copy_(copy)
            for tensor in self._optimizer_tensors():
                if id(tensor) not in existing:
                    tensor.zero_()

    # state ----------------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """The optimizer's per-parameter state (e.g. Adam's moments and step count) as arrays."""
        out = {}
        for index, state in self.optimizer.state_dict()["state"].items():
            for key, value in state.items():
                if value is not None:
                    out[f"optimizer/{index}/{key}"] = torch.as_tensor(value).detach().cpu().numpy()
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        current = self.optimizer.state_dict()
        restored: dict[int, dict] = {}
        for name, value in state.items():
            _, index, key = name.split("/")
            restored.setdefault(int(index), {})[key] = torch.from_numpy(np.array(value))
        self.optimizer.load_state_dict({"state": restored, "param_groups": current["param_groups"]})

    def sync_model(self) -> None:
        """The model is the state: nothing to copy."""
