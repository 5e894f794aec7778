"""The set-up of a training run: its data, network, objective, tracked weights and stepper, built from a
:class:`~.config.TrainConfig` (initialization: torch's defaults under ``torch.manual_seed(seed)``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ParameterError
from ..io import Dynamics
from .architectures import Architecture
from .config import TrainConfig
from .data import ArrayDataset, load_dataset
from .device import resolve_device, resolve_dtype
from .fast_sgd import FastMLPEngine
from .losses import Objective
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


def _make_stepper(config: TrainConfig, backend: str, arch: Architecture, model, objective, data: ArrayDataset,
                  tracked, device: torch.device):
    graphs = backend == "fast" and device.type == "cuda"
    if backend == "fast" and not graphs:
        if not _numba_engine_applies(config, arch):
            raise ParameterError("backend", "fast", "used on the CPU with an mlp/ff architecture, optimizer sgd "
                                 "and batch size 1 (use --backend torch otherwise)")
        return FastMLPEngine(model, data.x_train, data.y_train, lr=config.lr, weight_decay=config.weight_decay,
                             tracked=tracked)
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
        model = arch.build(data.input_shape, data.n_classes, seed=config.seed,
                           dtype=resolve_dtype(config.dtype)).to(device)
        objective = Objective(arch.loss)
        tracked = TrackedParameters.choose(model, config.track, config.seed, include_biases=config.track_biases,
                                           layers=config.track_layers)
        backend = resolve_backend(config, arch, device)
        stepper = _make_stepper(config, backend, arch, model, objective, data, tracked, device)
        return cls(config, device, data, arch, model, objective, tracked, backend, stepper)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.data.x_train.shape[0] // self.config.batch_size)

    @property
    def graph_steps(self) -> int:
        """Steps per stepper call that probes must align to (CUDA graphs replay whole captures)."""
        cuda_graphs = self.backend == "fast" and self.device.type == "cuda"
        return self.config.graph_steps if cuda_graphs else 1

    def metadata(self) -> dict:
        """The trajectory's metadata of a run with these parts."""
        c = self.config
        return {"architecture": self.arch.spec(), "dataset": c.dataset, "backend": self.backend,
                "device": str(self.device), "dtype": c.dtype, "steps_per_epoch": self.steps_per_epoch,
                "names_scheme": NAMES_SCHEME,
                "t_meaning": "optimizer steps applied when the row was taken; first row = start of tracking"}

    def tracked_weights(self):
        """The tracked weights now (the stepper's state copied into the model first)."""
        self.stepper.sync_model()
        return self.tracked.gather(self.model)
