"""Planted truths: trajectories whose answer to each verdict is known, to measure every verdict's error
rates through the same analysis a user runs (DESIGN: verdicts are calibrated; issue 19).

A :class:`Scenario` is a family of planted data sets: a generator ``generate(rng, **size)`` that returns a
:class:`~statmech_nn.io.Trajectory` (or, for 003's claims, what the scenario's ``analysis`` takes), the
correct answer of every verdict it calibrates (``truth``: verdict id → "supported" / "not supported"), and
the verdicts for which it is a stated alternative at the design size (``powered``: there the verdict must
give the correct answer in at least 80 % of sets; elsewhere it may say "inconclusive", never the wrong word
in more than 5 %). ``sizes`` holds the generator's size arguments for ``"full"`` (the sizes the README
uses, n ≈ 1e5 steps × 12–64 weights) and ``"reduced"`` (what the test suite runs).

Scenarios are registered by the modules of this package (one module per family of truths) and listed by
:func:`scenarios`; :mod:`statmech_nn.compare.calibration` runs them.
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

ANSWERS = ("supported", "not supported")
SIZES = ("full", "reduced")
# the modules that register scenarios (imported on first use of the registry)
FAMILIES = ("stationarity_truths", "chains_truths", "fluctuations_truths", "decay_truths", "dynamics_truths",
            "hessian_truths", "equilibrium_truths")

_REGISTRY: dict[str, Scenario] = {}


@dataclass(frozen=True)
class Scenario:
    """One family of planted data sets with a known answer per verdict (see the module docstring)."""

    name: str
    description: str
    truth: dict
    generate: Callable
    sizes: dict
    powered: tuple = ()
    analysis: str = "network"            # which analysis answers it (statmech_nn.compare.calibration.ANALYSES)
    options: dict = field(default_factory=dict)   # analysis options for this scenario, if any

    def __post_init__(self):
        for verdict, answer in self.truth.items():
            if answer not in ANSWERS:
                raise ValueError(f"scenario {self.name}: truth of {verdict} must be one of {ANSWERS}, got {answer!r}")
        unknown = set(self.powered) - set(self.truth)
        if unknown:
            raise ValueError(f"scenario {self.name}: powered verdicts {sorted(unknown)} have no truth")
        missing = set(SIZES) - set(self.sizes)
        if missing:
            raise ValueError(f"scenario {self.name}: sizes {sorted(missing)} are not given")

    def rng(self, seed: int, replicate: int) -> np.random.Generator:
        """The generator of one replicate: independent across scenarios and replicates, fixed by ``seed``."""
        return np.random.default_rng([int(seed), zlib.crc32(self.name.encode()), int(replicate)])

    def draw(self, seed: int = 0, replicate: int = 0, size: str = "full"):
        """One planted data set of this scenario."""
        if size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}, got {size!r}")
        return self.generate(self.rng(seed, replicate), **self.sizes[size])


def register(scenario: Scenario) -> Scenario:
    """Add ``scenario`` to the registry (a name is registered once)."""
    if scenario.name in _REGISTRY and _REGISTRY[scenario.name] is not scenario:
        raise ValueError(f"scenario {scenario.name!r} is registered twice")
    _REGISTRY[scenario.name] = scenario
    return scenario


def scenarios(verdict: str | None = None) -> dict[str, Scenario]:
    """Every registered scenario by name (those that calibrate ``verdict`` when it is given)."""
    for family in FAMILIES:
        try:
            importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{family}":
                raise
    return {name: s for name, s in _REGISTRY.items() if verdict is None or verdict in s.truth}


def verdict_ids() -> list[str]:
    """Every verdict some scenario calibrates, in order of first appearance."""
    return list(dict.fromkeys(v for s in scenarios().values() for v in s.truth))
