"""The parameters of a training run (:class:`TrainConfig`), validated once, at construction.

This module imports no torch, so the command line can describe its options cheaply; see
:mod:`.training` for what each parameter does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import DataError, ParameterError
from ..runs.directory import RunDirectory
from ..runs.directory import command_line as rerun_command
from ..params import require_int, require_nonnegative, require_positive
from .data import SCALINGS
from .equilibrium import EQUILIBRIUM_CRITERIA, EquilibriumCriterion

OPTIMIZERS = ("sgd", "adam")
BACKENDS = ("torch", "fast", "auto")
DTYPES = ("float32", "float64")
REPLICA_INITS = ("independent", "shared")  # see :mod:`.replicas`
# Settings a resumed run may change: where it is, and what does not change its numbers.
FREE_ON_RESUME = ("out", "torch_threads", "keep_checkpoints")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; ``run.json`` stores it and ``--resume`` reads it back."""

    arch: str = "mlp"
    dataset: str = "digits"
    data_dir: str | None = None
    input_dim: int = 784
    n_train: int | None = None
    n_test: int | None = None
    scaling: str = "unit"
    split_seed: int = 0
    optimizer: str = "sgd"
    lr: float = 2e-3
    weight_decay: float = 5e-4
    batch_size: int = 1
    epochs: int = 1
    steps: int | None = None
    warmup_epochs: int = 0
    until_equilibrium: bool = False
    max_warmup_epochs: int = 3000
    eq_window: int = 5
    eq_rtol: float = 0.02
    equilibrium_criterion: str = "loss"
    track: int = 100
    track_biases: bool = False
    track_layers: tuple[str, ...] | None = None
    backend: str = "torch"
    device: str = "auto"
    dtype: str = "float32"
    seed: int = 0
    replicas: int = 1
    replica_init: str = "independent"
    checkpoint_every: int | None = None
    keep_checkpoints: int = 2
    graph_steps: int = 64
    torch_threads: int | None = None
    out: str = "runs/train"

    def __post_init__(self):
        from .architectures import Architecture  # torch is imported only when a run is configured

        Architecture.parse(self.arch)
        choices = {"optimizer": OPTIMIZERS, "backend": BACKENDS, "dtype": DTYPES, "scaling": SCALINGS,
                   "equilibrium_criterion": EQUILIBRIUM_CRITERIA, "replica_init": REPLICA_INITS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ParameterError(name, getattr(self, name), f"one of {', '.join(allowed)}")
        require_positive("lr", self.lr)
        require_nonnegative("weight_decay", self.weight_decay)
        for name, minimum in (("batch_size", 1), ("epochs", 0), ("warmup_epochs", 0), ("max_warmup_epochs", 1),
                              ("track", 1), ("seed", 0), ("keep_checkpoints", 1), ("graph_steps", 1),
                              ("input_dim", 1), ("split_seed", 0), ("replicas", 1)):
            object.__setattr__(self, name, require_int(name, getattr(self, name), minimum))
        for name in ("steps", "checkpoint_every", "n_train", "n_test", "torch_threads"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, require_int(name, getattr(self, name), 1))
        if self.steps is None and self.epochs < 1:
            raise ParameterError("epochs", self.epochs, ">= 1 (or give steps)")
        if self.track_layers is not None:
            object.__setattr__(self, "track_layers", tuple(self.track_layers))
        EquilibriumCriterion(self.eq_window, self.eq_rtol)

    def to_dict(self) -> dict:
        payload = asdict(self)
        payload["track_layers"] = None if self.track_layers is None else list(self.track_layers)
        return payload

    @classmethod
    def from_dict(cls, payload: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(payload) - known
        if unknown:
            raise DataError(f"unknown training parameters {sorted(unknown)}")
        return cls(**payload)

    @classmethod
    def from_run_dir(cls, path: str | Path) -> TrainConfig:
        """The configuration stored in ``path/run.json``."""
        parameters = RunDirectory(path).read_run_info().get("parameters")
        if not isinstance(parameters, dict):
            raise DataError(f"{Path(path) / 'run.json'} has no 'parameters' object: not a run of statmech-nn train")
        return cls.from_dict(parameters)

    def resumed_with(self, requested: TrainConfig) -> TrainConfig:
        """This (stored) run continued as ``requested`` asks: the run directory is ``requested.out``; settings that
        do not change the numbers (:data:`FREE_ON_RESUME`) are taken; the tracked ``epochs`` (or ``steps``) may
        grow, which extends the run. Any other difference is a ParameterError naming the arguments."""
        new, old = requested.to_dict(), self.to_dict()
        refused = []
        for name in sorted(k for k in old if old[k] != new[k] and k not in FREE_ON_RESUME):
            same_kind = (old["steps"] is None) == (new["steps"] is None)
            if name in ("epochs", "steps") and same_kind and new[name] is not None and new[name] >= old[name]:
                continue
            refused.append(f"--{name.replace('_', '-')} {new[name]} (stored: {old[name]})")
        if refused:
            raise ParameterError("resume", str(requested.out), "run with the arguments stored in its run.json; "
                                 "only more tracked --epochs or --steps extend a run, and these differ: "
                                 + "; ".join(refused))
        return requested

    def command_line(self) -> list[str]:
        """An equivalent ``statmech-nn train`` command line (what run.json records as the command)."""
        return rerun_command(["train"], {key: ",".join(value) if isinstance(value, list) else value
                                         for key, value in self.to_dict().items()})
