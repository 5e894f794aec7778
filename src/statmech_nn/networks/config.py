"""The parameters of a training run (:class:`TrainConfig`), validated once, at construction, and the one table of
training defaults per protocol (:data:`PRESETS`).

Every fit in the package trains through :func:`.training.train` from ``TrainConfig.preset(name, **overrides)``;
the learning rate (and whatever else a protocol fixes) is stated once, in :data:`PRESETS`, with where it comes from.

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
from .equilibrium import EQUILIBRIUM_CRITERIA, EquilibriumCriterion, TrendCriterion

OPTIMIZERS = ("sgd", "adam")
BACKENDS = ("torch", "fast", "auto")
DTYPES = ("float32", "float64")
REPLICA_INITS = ("independent", "shared")  # see :mod:`.replicas`
# How a torch run steps its replicas (:func:`.parts.replica_stepping`): one stepper each ("separate", bit for bit
# the single-network runs), all together ("batched", vmapped products: float rounding), or by the device ("auto").
REPLICA_STEPPINGS = ("auto", "batched", "separate")
# Settings a resumed run may change: where it is, and what does not change its numbers.
FREE_ON_RESUME = ("out", "torch_threads", "keep_checkpoints", "checkpoint_epochs")

# 003's full-batch hinge fits: float64 on the CPU, no L2 term, one step per epoch.
# A checkpoint every 100 epochs (= steps): one per epoch would cost more than the step itself.
_FULL_BATCH_HINGE = {"weight_decay": 0.0, "warmup_epochs": 0, "dtype": "float64", "device": "cpu", "track": 8,
                     "torch_threads": 1, "checkpoint_epochs": 100}

PRESETS: dict[str, dict] = {
    # 002 §5: "stochastic gradient descend with batch size 1 and learning rate 2·10⁻³ … L2 … rate 5·10⁻⁴";
    # the TrainConfig defaults (what `statmech-nn train` uses).
    "tracking": {"optimizer": "sgd", "lr": 2e-3, "weight_decay": 5e-4, "batch_size": 1},
    # 003 §III capacity scan (scan/capacity.py): full-batch Adam on the hinge risk of a gated bias-free MLP. 003
    # names no optimizer or step size; 3e-3 is ours (1500 steps reach zero risk where the capacity allows).
    "capacity": {**_FULL_BATCH_HINGE, "optimizer": "adam", "lr": 3e-3, "scaling": "standardize",
                 "record_gradient": True, "dataset": "digits-binary", "epochs": 1500},
    # 003's exact Hessian statements (networks/hessian_claims.py): full-batch gradient descent on bfmlp:64-12-8-1
    # and the first 200 digits even/odd. Ours: lr 0.05 for 300 steps leaves the risk > 0 (claims need R > 0).
    "hessian-claims": {**_FULL_BATCH_HINGE, "optimizer": "sgd", "lr": 0.05, "arch": "bfmlp:64-12-8-1",
                       "dataset": "digits-binary", "n_train": 200, "batch_size": 200, "epochs": 300},
    # 003 plasticity protocol (experiments/plasticity.py): the spec's [networks.training] sets arch, data set and
    # lr (validation/experiments/plasticity_*.toml, e.g. plain SGD at 0.1 on digits); no L2 term, tracking from
    # step 0, 8 tracked weights (the Hessian is measured from the checkpoints, not the trajectory).
    "plasticity": {"warmup_epochs": 0, "track": 8, "torch_threads": 1, "weight_decay": 0.0},
}
_TRACKING = PRESETS["tracking"]


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
    optimizer: str = _TRACKING["optimizer"]
    lr: float = _TRACKING["lr"]
    weight_decay: float = _TRACKING["weight_decay"]
    batch_size: int = _TRACKING["batch_size"]
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
    replica_stepping: str = "auto"
    replica_offset: int = 0   # replica r of this run is replica replica_offset + r of the seed's ensemble (scan cells)
    checkpoint_every: int | None = None
    checkpoint_epochs: int = 1
    keep_checkpoints: int = 2
    graph_steps: int = 64
    torch_threads: int | None = None
    record_gradient: bool = False
    out: str = "runs/train"

    def __post_init__(self):
        from .architectures import Architecture  # torch is imported only when a run is configured

        Architecture.parse(self.arch)
        choices = {"optimizer": OPTIMIZERS, "backend": BACKENDS, "dtype": DTYPES, "scaling": SCALINGS,
                   "equilibrium_criterion": EQUILIBRIUM_CRITERIA, "replica_init": REPLICA_INITS,
                   "replica_stepping": REPLICA_STEPPINGS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ParameterError(name, getattr(self, name), f"one of {', '.join(allowed)}")
        require_positive("lr", self.lr)
        require_nonnegative("weight_decay", self.weight_decay)
        for name, minimum in (("batch_size", 1), ("epochs", 0), ("warmup_epochs", 0), ("max_warmup_epochs", 1),
                              ("track", 1), ("seed", 0), ("keep_checkpoints", 1), ("checkpoint_epochs", 1),
                              ("graph_steps", 1), ("input_dim", 1), ("split_seed", 0), ("replicas", 1),
                              ("replica_offset", 0)):
            object.__setattr__(self, name, require_int(name, getattr(self, name), minimum))
        for name in ("steps", "checkpoint_every", "n_train", "n_test", "torch_threads"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, require_int(name, getattr(self, name), 1))
        if self.steps is None and self.epochs < 1:
            raise ParameterError("epochs", self.epochs, ">= 1 (or give steps)")
        if not isinstance(self.record_gradient, bool):
            raise ParameterError("record_gradient", self.record_gradient, "true or false")
        if self.track_layers is not None:
            object.__setattr__(self, "track_layers", tuple(self.track_layers))
        EquilibriumCriterion(self.eq_window, self.eq_rtol)
        if self.equilibrium_criterion == "trend":
            TrendCriterion(self.eq_window, self.eq_rtol)

    @classmethod
    def preset(cls, name: str, **overrides) -> TrainConfig:
        """The configuration of protocol ``name`` in :data:`PRESETS`, with ``overrides`` on top."""
        if name not in PRESETS:
            raise ParameterError("preset", name, f"one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

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
