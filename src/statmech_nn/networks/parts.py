"""The set-up of a training run: its data, network, objective, tracked weights and stepper, built from a
:class:`~.config.TrainConfig` (initialization: torch's defaults under ``torch.manual_seed(seed)``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ParameterError
from ..io import Dynamics
from .architectures import Architecture
from .config import TrainConfig
from .data import ArrayDataset, load_dataset
from .device import resolve_device, resolve_dtype
from .fast_sgd import FastMLPEngine
from .losses import Objective
from .replicas import BatchedTorchReplicas, FastReplicas, TorchReplicas, replica_seeds, stateful_module
from .steppers import TorchStepper
from .tracking import NAMES_SCHEME, TrackedParameters


def _numba_engine_applies(config: TrainConfig, arch: Architecture) -> bool:
    """The CPU fast path (:class:`FastMLPEngine`) trains a plain MLP by batch-1 SGD, nothing else."""
    return arch.is_plain_mlp and config.optimizer == "sgd" and config.batch_size == 1


def train_dynamics(config: TrainConfig) -> Dynamics:
    """The run header's dynamics of a training run, either backend: plain SGD (no momentum, L2 weight decay) or
    torch's Adam with its default betas and eps (L2 weight decay, not AdamW)."""
    common = {"lr": config.lr, "weight_decay": config.weight_decay, "batch_size": config.batch_size,
              "decoupled": False}
    if config.optimizer == "sgd":
        return Dynamics("sgd", momentum=0.0, dampening=0.0, nesterov=False, **common)
    return Dynamics("adam", betas=(0.9, 0.999), eps=1e-8, **common)


def resolve_backend(config: TrainConfig, arch: Architecture, device: torch.device) -> str:
    """The backend a run uses: ``auto`` is ``fast`` where the fast path applies (CUDA graphs on a GPU; on the CPU
    the numba engine, for a plain MLP trained by batch-1 SGD) and ``torch`` elsewhere; the others as given."""
    if config.backend != "auto":
        return config.backend
    return "fast" if device.type == "cuda" or _numba_engine_applies(config, arch) else "torch"


def replica_stepping(config: TrainConfig, backend: str, device: torch.device, model: torch.nn.Module) -> str:
    """How a torch run steps its replicas: ``batched`` (:class:`.replicas.BatchedTorchReplicas`, one vmapped step of
    all of them) or ``separate`` (:class:`.replicas.TorchReplicas`, one stepper each); ``config.replica_stepping``
    unless it is ``auto``, which is batched on a CUDA device where batching applies (SGD, no module with buffers)
    and separate elsewhere: on the CPU separate replicas are bit for bit the single-network runs (batched products
    sum in another order), and faster for 002's MLP (benchmarks/bench_batched_replicas.py). The CPU fast engine
    steps its replicas on the cores (``threads``: :class:`.replicas.FastReplicas`) and takes no other choice. A choice
    that cannot apply (``batched`` on the CPU fast engine or with Adam) is a ParameterError, for one network too."""
    if backend == "fast" and device.type != "cuda":
        if config.replica_stepping == "batched":
            raise ParameterError("replica_stepping", "batched", "used with the torch backend or on a GPU (the CPU fast "
                                 "engine steps replicas on the cores); use --backend torch or --replica-stepping auto")
        return "threads"
    if config.replica_stepping == "batched" and config.optimizer != "sgd":
        raise ParameterError("replica_stepping", "batched", f"used with optimizer sgd (not {config.optimizer}); "
                             "use --replica-stepping separate")
    if config.replica_stepping != "auto":
        return config.replica_stepping
    applies = config.optimizer == "sgd" and stateful_module(model) is None
    return "batched" if device.type == "cuda" and applies else "separate"


def _make_stepper(config: TrainConfig, backend: str, arch: Architecture, models: list, objective,
                  data: ArrayDataset, tracked, device: torch.device):
    """The stepper of one network, or of the replicas (:mod:`.replicas`, :func:`replica_stepping`) when there are
    several ``models``."""
    graphs = backend == "fast" and device.type == "cuda"
    chosen = replica_stepping(config, backend, device, models[0])    # a refused choice fails for one network too
    stepping = chosen if len(models) > 1 else None
    if backend == "fast" and not graphs:
        if not _numba_engine_applies(config, arch):
            raise ParameterError("backend", "fast", "used on the CPU with an mlp/ff architecture, optimizer sgd "
                                 "and batch size 1 (use --backend torch otherwise)")
        if stepping == "threads":
            return FastReplicas(models, data.x_train, data.y_train, lr=config.lr, weight_decay=config.weight_decay,
                                tracked=tracked)
        return FastMLPEngine(models[0], data.x_train, data.y_train, lr=config.lr, weight_decay=config.weight_decay,
                             tracked=tracked)
    if stepping == "batched":
        return BatchedTorchReplicas(models, objective, data.x_train, data.y_train, lr=config.lr,
                                    weight_decay=config.weight_decay, batch_size=config.batch_size, tracked=tracked)
    if stepping == "separate":
        if graphs:
            raise ParameterError("replica_stepping", "separate", "batched with CUDA graphs (--backend fast on a "
                                 "GPU); use --backend torch for separate replicas")
        return TorchReplicas([_make_stepper(config, backend, arch, [model], objective, data, tracked, device)
                              for model in models])
    model = models[0]
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                     capturable=graphs)
    return TorchStepper(model, optimizer, objective, data.x_train, data.y_train, batch_size=config.batch_size,
                        tracked=tracked, graph_steps=config.graph_steps if graphs else 0)


@dataclass
class TrainingParts:
    """What a training run trains: the data set, the network, its objective, the tracked weights, the backend and
    the stepper that advances the network by a sequence of samples."""

    config: TrainConfig
    device: torch.device
    data: ArrayDataset
    arch: Architecture
    model: torch.nn.Module
    objective: Objective
    tracked: TrackedParameters
    backend: str
    stepper: object
    models: list | None = None

    def __post_init__(self):
        self.models = self.models or [self.model]

    @classmethod
    def build(cls, config: TrainConfig) -> TrainingParts:
        """The parts of ``config`` (``torch_threads`` is set first, for the process)."""
        if config.torch_threads is not None:
            torch.set_num_threads(config.torch_threads)
        device = resolve_device(config.device)
        data = load_dataset(config.dataset, data_dir=config.data_dir, split_seed=config.split_seed,
                            input_dim=config.input_dim, n_train=config.n_train, n_test=config.n_test,
                            scaling=config.scaling)
        arch = Architecture.parse(config.arch)
        first = config.replica_offset   # a scan cell of a replica axis trains replicas first, first + 1, ...
        init_seeds = [replica_seeds(config.seed, first + r, config.replica_init)[0] for r in range(config.replicas)]
        models = [arch.build(data.input_shape, data.n_classes, seed=init_seed, dtype=resolve_dtype(config.dtype))
                  .to(device) for init_seed in init_seeds]
        objective = Objective(arch.loss)
        tracked = TrackedParameters.choose(models[0], config.track, config.seed, include_biases=config.track_biases,
                                           layers=config.track_layers)
        backend = resolve_backend(config, arch, device)
        stepper = _make_stepper(config, backend, arch, models, objective, data, tracked, device)
        return cls(config, device, data, arch, models[0], objective, tracked, backend, stepper, models)

    @property
    def replicas(self) -> int:
        return len(self.models)

    def order_seeds(self) -> list[int]:
        """The seed of each replica's sample order (:func:`.replicas.replica_seeds`; the run's seed for one)."""
        c = self.config
        return [replica_seeds(c.seed, c.replica_offset + r, c.replica_init)[1] for r in range(self.replicas)]

    def column_names(self) -> list[str]:
        """The trajectory's columns: the tracked names, once per replica (replica-major)."""
        return list(self.tracked.names) * self.replicas

    def column_chains(self) -> list[int] | None:
        """Each column's chain (= replica), or None for one network (every column chain 0)."""
        return None if self.replicas == 1 else [r for r in range(self.replicas) for _ in range(self.tracked.k)]

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.data.x_train.shape[0] // self.config.batch_size)

    @property
    def graph_steps(self) -> int:
        """Steps per stepper call that probes must align to (CUDA graphs replay whole captures)."""
        cuda_graphs = isinstance(self.stepper, TorchStepper) and self.stepper.graph_steps > 0
        return self.stepper.graph_steps if cuda_graphs else 1

    def metadata(self) -> dict:
        """The trajectory's metadata of a run with these parts."""
        c = self.config
        replicas = {} if self.replicas == 1 else {"replicas": self.replicas, "replica_init": c.replica_init,
                                                  "replica_stepper": type(self.stepper).__name__,
                                                  "columns": "replica-major: replica r's K tracked weights, chain r"}
        return {"architecture": self.arch.spec(), "dataset": c.dataset, "backend": self.backend,
                "device": str(self.device), "dtype": c.dtype, "steps_per_epoch": self.steps_per_epoch, **replicas,
                "names_scheme": NAMES_SCHEME,
                "t_meaning": "optimizer steps applied when the row was taken; first row = start of tracking"}

    def tracked_weights(self):
        """The tracked weights now, replica after replica (the stepper's state copied into the models first)."""
        self.stepper.sync_model()
        return np.concatenate([self.tracked.gather(model) for model in self.models])
