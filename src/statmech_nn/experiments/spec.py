"""Experiment specs: a reproduction protocol in one TOML file (DESIGN: spec files).

A spec (``validation/experiments/*.toml``) has these tables; every key is optional except where noted:

- ``[experiment]``: ``name``, ``description``, ``source`` (e.g. "002 §5"), ``budget_minutes`` (the time
  the protocol is meant to fit in on the machine it names; informational).
- ``[training]``: :class:`statmech_nn.networks.TrainConfig` fields (``arch``, ``dataset``, ``optimizer``,
  ``lr``, ``weight_decay``, ``batch_size``, ``until_equilibrium``, ``equilibrium_criterion``, ``epochs``,
  ``track``, ``backend`` ...).
- ``[probe]``: ``split``, ``n_neurons``, ``max_samples``, ``seed`` and ``layer`` (the hidden layer whose
  units are tested for bimodal p(x|q), 002 Fig. 1: 1-based, default 2 as in the source).
- ``[analysis]``: :class:`statmech_nn.compare.analysis.AnalysisOptions` fields for the network's trajectory.
- ``[samplers]``: ``methods`` (of exact, mh, langevin), ``chains``, ``steps`` (a table per method or one
  number), ``seed``, ``epsilon``, ``dt``, ``integrator``, and ``[samplers.model]``: QuarticModel parameters.
- ``[acceptance]``: ``min_test_accuracy``, ``require_equilibrium``, ``max_sampler_z`` (|<(q-q̄)²> - exact| in
  standard errors), ``require_claims`` (every claim of ``statmech-nn check`` as expected).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..compare.analysis import AnalysisOptions
from ..errors import DataError, ParameterError
from ..io import read_spec_tables
from ..networks.config import TrainConfig
from ..package_data import find_spec
from ..params import require_int, require_number, require_positive
from ..quartic.parameters import NAMES as QUARTIC_PARAMETERS

SAMPLER_METHODS = ("exact", "mh", "langevin")
_TABLES = ("experiment", "training", "probe", "analysis", "samplers", "acceptance")


DEFAULT_SPEC = "soc_mnist5k"


def default_spec_path() -> Path:
    """The default protocol: 002 §5 on 5000 real MNIST digits (``soc_mnist5k``), shipped as package data."""
    return find_spec(DEFAULT_SPEC, "experiment")


@dataclass(frozen=True)
class ProbeSpec:
    split: str = "test"
    n_neurons: int = 16
    max_samples: int | None = None
    seed: int = 0
    layer: int = 2

    def __post_init__(self):
        require_int("probe.n_neurons", self.n_neurons, 1)
        require_int("probe.layer", self.layer, 1)
        if self.split not in ("train", "test", "all"):
            raise ParameterError("probe.split", self.split, "one of train, test, all")


@dataclass(frozen=True)
class SamplerSpec:
    model: dict = field(default_factory=lambda: dict(lambda_x=0.003, g=1.0, lambda_q=0.05, alpha=1.2, beta=1.0,
                                                     mu=1e-4))
    methods: tuple = ("exact", "mh", "langevin")
    chains: int = 32
    steps: dict = field(default_factory=lambda: {"exact": 20_000, "mh": 200_000, "langevin": 10_000_000})
    seed: int = 0
    epsilon: float = 0.005
    dt: float = 0.02
    integrator: str = "exponential"

    def __post_init__(self):
        unknown = sorted(set(self.model) - set(QUARTIC_PARAMETERS))
        if unknown:
            raise ParameterError("samplers.model", unknown, "QuarticModel parameters: " + ", ".join(QUARTIC_PARAMETERS))
        for method in self.methods:
            if method not in SAMPLER_METHODS:
                raise ParameterError("samplers.methods", method, "a list of " + ", ".join(SAMPLER_METHODS))
        steps = self.steps if isinstance(self.steps, dict) else {m: self.steps for m in self.methods}
        missing = [m for m in self.methods if m not in steps]
        if missing:
            raise ParameterError("samplers.steps", sorted(steps),
                                 f"a number of steps for every method ({missing[0]} has none)")
        object.__setattr__(self, "steps", {m: require_int(f"samplers.steps.{m}", steps[m], 2) for m in self.methods})
        object.__setattr__(self, "methods", tuple(self.methods))
        require_int("samplers.chains", self.chains, 1)
        require_positive("samplers.epsilon", self.epsilon)
        require_positive("samplers.dt", self.dt)


@dataclass(frozen=True)
class AcceptanceSpec:
    min_test_accuracy: float = 0.9
    require_equilibrium: bool = True
    max_sampler_z: float = 4.0
    require_claims: bool = True

    def __post_init__(self):
        if require_number("acceptance.min_test_accuracy", self.min_test_accuracy) < 0:
            raise ParameterError("acceptance.min_test_accuracy", self.min_test_accuracy, ">= 0")
        require_positive("acceptance.max_sampler_z", require_number("acceptance.max_sampler_z", self.max_sampler_z))
        for name in ("require_equilibrium", "require_claims"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"acceptance.{name}", getattr(self, name), "true or false")


@dataclass(frozen=True)
class ExperimentSpec:
    """One reproduction protocol: what to train, probe, analyze and sample, and what counts as success."""

    name: str
    description: str
    source: str
    budget_minutes: float | None
    training: dict
    probe: ProbeSpec
    analysis: dict
    samplers: SamplerSpec
    acceptance: AcceptanceSpec
    path: str = ""

    @classmethod
    def load(cls, path) -> ExperimentSpec:
        path = Path(path)
        tables = read_spec_tables(path, _TABLES, "a spec")
        experiment = tables.get("experiment", {})
        try:  # every table checked now, not after hours of training
            probe = ProbeSpec(**tables.get("probe", {}))
            samplers = SamplerSpec(**tables.get("samplers", {}))
            acceptance = AcceptanceSpec(**tables.get("acceptance", {}))
            AnalysisOptions(**tables.get("analysis", {}))
            TrainConfig.from_dict({**tables.get("training", {}), "out": "."})
        except TypeError as exc:  # an unknown key in one of the tables
            raise DataError(f"{path}: {exc}") from None
        return cls(name=str(experiment.get("name", path.stem)), description=str(experiment.get("description", "")),
                   source=str(experiment.get("source", "")), budget_minutes=experiment.get("budget_minutes"),
                   training=dict(tables.get("training", {})), probe=probe, analysis=dict(tables.get("analysis", {})),
                   samplers=samplers, acceptance=acceptance, path=str(path))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
