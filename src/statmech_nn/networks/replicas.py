"""R replicas of one network trained together: R chains of the same SGD dynamics (issue 23, item 2).

A replica is one network of the run's architecture with its own initial weights (or the shared ones) and
its own sample order; all replicas take the same optimizer, learning rate, L2 rate and tracked parameters
(the same column names in every replica, drawn once from the run's seed). Replicas never interact: replica
``r`` of a run with seed ``s`` is, bit for bit, the single-network run described by :func:`replica_seeds`:

- ``independent`` (default): initial weights from seed ``s + r`` and sample order from seed ``s + r``;
- ``shared``: initial weights from seed ``s`` (the same in every replica, so a weight means the same thing in
  every replica), sample order from seed ``s + r``.

Replica 0 is therefore always the single-network run with seed ``s``, and R = 1 is that run.

A replica stepper has the contract of a single stepper (:mod:`.steppers`) lifted to a leading replica axis:
``run(orders, track)`` takes ``orders`` (R, n), steps replica r through ``orders[r]`` and returns the tracked
values after every step as an array (n_steps, R, K) (None when ``track`` is False); ``sync_model()`` writes
every replica's weights into its torch model (``models[r]``); ``state()`` / ``load_state()`` hold what a bitwise
resume needs, one key per replica and engine entry (``replica<r>/<key>``).

Backends:

- :class:`TorchReplicas`: one :class:`.steppers.TorchStepper` per replica, stepped one after the other: each
  replica is, bit for bit, its single-network run.
- :class:`FastReplicas`: one :class:`.fast_sgd.FastMLPEngine` per replica (they share the sparse inputs), the
  replicas on the cores: each replica's numba kernel releases the GIL (``nogil``), and one thread per core
  steps a block of replicas. The alternative, one numba ``prange`` over replicas inside one kernel
  (benchmarks/bench_replicas.py times both), measured 4-7 % faster in wall time at load 6-8 (three runs: 1.03,
  1.10, 1.09 × one network's rate against 0.99, 1.06, 1.02 for threads), within what a loaded machine decides; it
  needs the replicas' weights stacked in one array and compiles a second copy of the kernel whose bits must be
  checked (the benchmark does), while threads run the very kernel a single-network run runs, so the bits agree by
  construction. Per network-step the threaded replicas cost the CPU time one network costs (75 vs 77 µs at load
  7: efficiency 1.04), so with both cores free they approach 2× one network's rate. On 2 cores the two replicas'
  weights (2 × 3.4 MB for 002's 784-700-476-10 in float32) stay in the shared 32 MB L3, each step's rows in its
  core's private 2 MB L2, so the memory-bound step scales with the cores: on a quiet machine (load 1.1-1.6, 13
  runs of the benchmark) 2 replicas made 1.88× one network's network-steps/s (median; 1.57-1.99, 10 of 13 runs
  ≥ 1.8), CPU efficiency 0.91-1.03; through the CLI (``train --replicas 2``, evaluation and checkpoints
  included) 1.83×. On a loaded machine the co-runners take the second core and the caches (1.56-1.68 at load
  0.3-0.8 beside a long training run, efficiency 0.88-0.91).
- :class:`BatchedTorchReplicas`: all R replicas in one step, the GPU's way (below).

Which one a run gets (:func:`.parts.replica_stepping`, ``replica_stepping`` in the config, ``--replica-stepping``):
the CPU fast engine → FastReplicas; the torch backend, or the fast backend on a GPU → ``auto``: batched on a CUDA
device (SGD, no module with buffers), separate (TorchReplicas) elsewhere, because on the CPU the separate replicas
are bit for bit their single-network runs and the batched ones are not; ``batched`` or ``separate`` as asked. The
trajectory's metadata names the stepper (``replica_stepper``).

Batched replicas (built; measured on the CPU only, no GPU was lent to this work). A batch-1 step of one network on
a GPU is launch-bound (1.31·10⁴ steps/s for 002's MLP on an H100 with CUDA graphs, about the CPU engine's speed,
issue 23), so R replicas should be stepped as one. :class:`BatchedTorchReplicas` stacks each parameter of the R
replicas into one tensor (R, ...) (``torch.func`` style), gathers every replica's batch ``X[orders[:, t]]`` from
the device-resident data set, runs the forward pass as ``vmap(functional_call)`` over the replica axis (each Linear
layer becomes one batched product of all R replicas, a conv layer one grouped convolution) and one backward pass of
the summed losses, applies SGD's update (g ← ∇L + λθ, θ ← θ − ηg, two ``_foreach`` ops on the stacked tensors) and
gathers the tracked entries into an (R, K) row of a device buffer, copied to the host once per call. Any
architecture without buffers runs unchanged on the CPU and on CUDA (tests: an MLP and a CNN, float64 and float32);
the summation order of the batched products differs from the separate steps', so a batched replica follows its
single-network run to float rounding, not bit for bit (tests: ≤ 1e-10 in float64 over 300 steps, observed 6e-17;
≤ 1e-6 in float32, observed 3e-8 on weights of size ~0.4).

Measured on the CPU (benchmarks/bench_batched_replicas.py, 1 torch thread, 2 shared cores at load 1.9), in
network-steps/s for R = 1, 2, 4, 8, batched vs separate:

- 002's MLP 784-700-476-10 on mnist5k: 594, 476, 496, 577 vs 900, 832, 853, 875 (batched 0.57-0.66×). The step is
  bound by its products and the update's memory traffic, which batching does not reduce per network-step, and
  MKL's batched products are slower than R single ones here, above all the weight gradient's outer products
  (R, 784, 1) × (R, 1, 700) (the batched products take 56 % of a batched step at R = 8, 0.94 ms per call). The
  tracked weights agreed to 1.1e-8 over 200 float32 steps (tolerance 1e-5).
- a launch-bound step (mlp:784-32-16-10): 1215, 2465, 3795, 8503 vs ~2800 whatever R (batched 0.43, 0.82, 1.51,
  2.97×): a batched step costs 0.82 ms at R = 1 and 0.94 ms at R = 8, mostly host-side dispatch (vmap's wrappers),
  a separate step 0.35 ms, so batching wins from R ≈ 3.

What remains to be measured on a GPU (the command is in the benchmark's docstring): there a step is launch-bound,
so a batched step should cost its host-side dispatch (~0.8 ms here) nearly independently of R until R replicas'
weights (R × 3.4 MB read and written per step, more with the gradients) fill the memory bandwidth: about
R / (dispatch time) network-steps/s, more than the separate eager steppers from R ≈ 3 and more than one CUDA-graph
network (1.31·10⁴ steps/s) from R ≈ 11 — to be shown. Capturing the batched step in a CUDA graph, as
:class:`.steppers.TorchStepper` does for one network, would remove the dispatch cost; it is not built, because its
code path cannot be tested without a GPU.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from ..errors import ParameterError
from ..params import require_int
from .config import REPLICA_INITS
from .fast_sgd import FastMLPEngine
from .losses import Objective
from .steppers import TorchStepper
from .tracking import TrackedParameters

_KEY_SEPARATOR = "/"


def replica_seeds(seed: int, replica: int, init: str = "independent") -> tuple[int, int]:
    """(initialization seed, sample-order seed) of replica ``replica`` in a run with seed ``seed``."""
    if init not in REPLICA_INITS:
        raise ParameterError("replica_init", init, f"one of {', '.join(REPLICA_INITS)}")
    seed, replica = require_int("seed", seed, 0), require_int("replica", replica, 0)
    return (seed if init == "shared" else seed + replica), seed + replica


def _prefixed(states: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {f"replica{r}{_KEY_SEPARATOR}{key}": value for r, state in enumerate(states) for key, value in state.items()}


def _split(state: dict[str, np.ndarray], replicas: int) -> list[dict[str, np.ndarray]]:
    """The per-replica states of a :func:`_prefixed` dict; a ParameterError when it holds another replica count."""
    per_replica: list[dict[str, np.ndarray]] = [{} for _ in range(replicas)]
    for key, value in state.items():
        head, _, rest = key.partition(_KEY_SEPARATOR)
        index = int(head[len("replica"):]) if head.startswith("replica") and head[len("replica"):].isdigit() else -1
        if not 0 <= index < replicas:
            raise ParameterError("checkpoint engine state", key, f"keys replica<r>/... with r < {replicas}")
        per_replica[index][rest] = value
    return per_replica


def _check_orders(orders: np.ndarray, replicas: int) -> np.ndarray:
    orders = np.asarray(orders, dtype=np.int64)
    if orders.ndim != 2 or orders.shape[0] != replicas:
        raise ParameterError("orders", orders.shape, f"an array (replicas={replicas}, steps) of sample indices")
    return orders


class _Members:
    """What every replica stepper does member by member: the model sync and the checkpointed state (``members``:
    one single-network stepper per replica)."""

    members: list

    @property
    def replicas(self) -> int:
        return len(self.members)

    def sync_model(self) -> None:
        for member in self.members:
            member.sync_model()

    def state(self) -> dict[str, np.ndarray]:
        return _prefixed([member.state() for member in self.members])

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for member, part in zip(self.members, _split(state, self.replicas)):
            member.load_state(part)


class TorchReplicas(_Members):
    """R :class:`.steppers.TorchStepper` (one per replica, each with its own model and optimizer), stepped in turn."""

    def __init__(self, steppers: Sequence[TorchStepper]):
        if not steppers:
            raise ParameterError("replicas", 0, ">= 1")
        self.steppers = self.members = list(steppers)
        self.models = [stepper.model for stepper in self.steppers]
        self.batch_size = self.steppers[0].batch_size

    def run(self, orders: np.ndarray, track: bool) -> np.ndarray | None:
        orders = _check_orders(orders, self.replicas)
        rows = [stepper.run(order, track) for stepper, order in zip(self.steppers, orders)]
        return np.stack(rows, axis=1) if track else None


class FastReplicas(_Members):
    """R :class:`.fast_sgd.FastMLPEngine` (one per replica, sharing the sparse inputs), the replicas on the cores.

    ``threads`` (default: the usable cores, at most R) is the number of threads that step replicas at once;
    replica r runs on thread ``r % threads``, its replicas one after the other. ``threads=1`` steps them in turn.
    """

    batch_size = 1
    _pool: ThreadPoolExecutor | None = None

    def __init__(self, models: Sequence[nn.Module], x_train: np.ndarray, y_train: np.ndarray, *, lr: float,
                 weight_decay: float, tracked, threads: int | None = None, **engine_options):
        if not models:
            raise ParameterError("replicas", 0, ">= 1")
        first = FastMLPEngine(models[0], x_train, y_train, lr=lr, weight_decay=weight_decay, tracked=tracked,
                              **engine_options)
        self.engines = self.members = [first] + [first.sibling(model) for model in models[1:]]
        self.models = list(models)
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.threads = min(len(self.engines), require_int("threads", threads or usable, 1))
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def _run_block(self, block: int, orders: np.ndarray, rows: np.ndarray | None) -> None:
        for r in range(block, self.replicas, self.threads):
            out = self.engines[r].run(orders[r], rows is not None)
            if rows is not None:
                rows[:, r] = out

    def run(self, orders: np.ndarray, track: bool) -> np.ndarray | None:
        orders = _check_orders(orders, self.replicas)
        rows = (np.empty((orders.shape[1], self.replicas, len(self.engines[0].track_flat)), self.engines[0].dtype)
                if track else None)
        if self._pool is None:
            self._run_block(0, orders, rows)
        else:
            for future in [self._pool.submit(self._run_block, block, orders, rows) for block in range(self.threads)]:
                future.result()
        return rows

    def measure(self, data) -> list[dict]:
        """Each replica's :meth:`.FastMLPEngine.measure`, the replicas on the threads."""
        if self._pool is None:
            return [engine.measure(data) for engine in self.engines]
        return list(self._pool.map(lambda engine: engine.measure(data), self.engines))

    def close(self) -> None:
        """Stop the worker threads (also done when the object is collected)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __del__(self):
        self.close()


def stateful_module(model: nn.Module) -> str | None:
    """The first module of ``model`` that holds buffers (its class and name), which batched replicas cannot step;
    None when there is none."""
    for name, module in model.named_modules():
        if next(module.buffers(recurse=False), None) is not None:
            return f"{type(module).__name__} {name}"
    return None


class BatchedTorchReplicas:
    """R torch networks of one architecture stepped together: each parameter of all replicas stacked in one tensor
    (R, ...), one vmapped forward pass per step (``torch.func.vmap`` of ``functional_call`` over the replica axis,
    so a Linear layer becomes one batched product), one backward pass of the replicas' summed losses (replica r's
    loss depends on its own weights only, so its gradient is its own) and one in-place SGD update of the stacked
    tensors.

    The update is :class:`torch.optim.SGD`'s without momentum: g ← ∇L + λ θ, θ ← θ − η g (L: the batch-mean data
    loss of :class:`.losses.Objective`, λ: ``weight_decay``); replica r's step therefore equals its
    :class:`.steppers.TorchStepper` step up to the summation order of the batched products (float rounding, not bit
    for bit). Each stacked tensor is stored in the memory layout its gradient comes back in (a Linear weight's is
    transposed: the batched product takes Wᵀ), found by one backward pass at construction, so that the update reads
    both in order (measured on the CPU: 2.1× faster for 002's MLP at R = 8 than contiguous weights, 521 vs 252
    network-steps/s, whose update reads the gradient across its rows). Modules with buffers (batch norm, the
    stochastic gate's pass counter) are refused: their state would not follow the replica axis. The stepper owns
    the weights: ``sync_model()`` copies them into ``models``, and ``load_state()`` reads them back from ``models``
    (a resume loads the checkpoint's weights into the models first); plain SGD has no other state, so ``state()``
    holds nothing.
    """

    def __init__(self, models: Sequence[nn.Module], objective: Objective, x_train: np.ndarray, y_train: np.ndarray, *,
                 lr: float, weight_decay: float, batch_size: int, tracked: TrackedParameters):
        if not models:
            raise ParameterError("replicas", 0, ">= 1")
        stateful = stateful_module(models[0])
        if stateful is not None:
            raise ParameterError("replica_stepping", "batched", f"used with modules without buffers ({stateful} "
                                 "holds some); use --replica-stepping separate")
        self.models, self.objective = list(models), objective
        self.lr, self.weight_decay, self.batch_size = float(lr), float(weight_decay), int(batch_size)
        first = next(self.models[0].parameters())
        self.device, self.dtype = first.device, first.dtype
        self._x = torch.as_tensor(np.asarray(x_train), dtype=self.dtype, device=self.device)
        self._y = torch.as_tensor(np.asarray(y_train), dtype=torch.int64, device=self.device)
        self._losses = vmap(self._loss)
        shapes = {name: parameter.shape for name, parameter in self.models[0].named_parameters()}
        self._params = {name: self._stacked(name, None) for name in shapes}
        first_batch = torch.zeros((self.replicas, 1), dtype=torch.int64, device=self.device)
        self._strides = {name: g.stride() for name, g in zip(shapes, self._gradients(first_batch))}
        self.load_state({})
        self._tracked = [(name, tuple(torch.as_tensor(axis, device=self.device)
                                      for axis in np.unravel_index(index, shapes[name])))
                         for name, index in tracked.groups()]
        self.k = tracked.k

    @property
    def replicas(self) -> int:
        return len(self.models)

    def _stacked(self, name: str, stride: tuple[int, ...] | None) -> torch.Tensor:
        """Parameter ``name`` of every model, stacked (R, ...) in the layout ``stride`` (None: contiguous)."""
        stacked = torch.stack([model.get_parameter(name).detach() for model in self.models])
        if stride is not None:
            stacked = torch.empty_strided(stacked.shape, stride, dtype=self.dtype, device=self.device).copy_(stacked)
        return stacked.requires_grad_(True)

    def _loss(self, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One replica's batch-mean data loss with weights ``params`` (vmapped over the replica axis)."""
        return self.objective.loss(functional_call(self.models[0], params, (x,)), x, y)

    def _gradients(self, index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every replica r's gradient of its loss on its batch ``index[r]``, stacked (R, ...) per parameter."""
        losses = self._losses(self._params, self._x[index], self._y[index])
        return torch.autograd.grad(losses.sum(), list(self._params.values()))

    def _step(self, index: torch.Tensor, row: torch.Tensor | None) -> None:
        """One SGD step of every replica r on its batch ``index[r]``; the tracked values (R, K) go into ``row``."""
        steps, params = list(self._gradients(index)), list(self._params.values())
        with torch.no_grad():
            if self.weight_decay:
                torch._foreach_add_(steps, params, alpha=self.weight_decay)
            torch._foreach_add_(params, steps, alpha=-self.lr)
            if row is not None:
                torch.cat([self._params[name][(slice(None), *entries)] for name, entries in self._tracked], dim=1,
                          out=row)

    def run(self, orders: np.ndarray, track: bool) -> np.ndarray | None:
        orders = torch.as_tensor(_check_orders(orders, self.replicas), device=self.device)
        bs = self.batch_size
        n_steps = -(-orders.shape[1] // bs)
        rows = torch.empty((n_steps, self.replicas, self.k), dtype=self.dtype, device=self.device) if track else None
        for step in range(n_steps):
            self._step(orders[:, step * bs:(step + 1) * bs], None if rows is None else rows[step])
        return None if rows is None else rows.cpu().numpy()

    def sync_model(self) -> None:
        """Write every replica's weights into its model."""
        with torch.no_grad():
            for r, model in enumerate(self.models):
                for name, parameter in model.named_parameters():
                    parameter.copy_(self._params[name][r])

    def state(self) -> dict[str, np.ndarray]:
        """Nothing: plain SGD keeps no state besides the weights, which the checkpoint holds in the models."""
        return {}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Stack the models' weights (a resume has loaded the checkpoint's into them); ``state`` must be empty."""
        if state:
            raise ParameterError("checkpoint engine state", sorted(state)[0], "no keys (batched replicas step SGD)")
        self._params = {name: self._stacked(name, stride) for name, stride in self._strides.items()}
