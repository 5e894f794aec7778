"""Planted truths for 003's plasticity claims (P2–P5 of :mod:`statmech_nn.compare.plasticity_verdicts`).

- **Hessian-entry ensembles**: per-example contributions h_i,a (n examples × N entries) with a known mean and
  correlation structure, a factor model h_i,a = μ_a + σ_a (√(1 − ρ) e_i,a + √ρ f_i,g(a)) with Student-t (5
  degrees of freedom, unit variance) idiosyncratic noise e, a Gaussian factor f shared by the entries of a
  group g, log-normal scales σ_a and means μ_a = ±δ σ_a on a given share of the entries (else 0). The truth
  of P2/P3 (frac(|μ/σ| < 0.15) ≥ 0.95) follows from that share; of P4 (sparse correlations, denser at the
  end) from the groups at the first and the last snapshot.
- **η·OP series**: a risk decaying over the snapshots with η·OP = ratio · R · log-normal noise (tracking),
  flat η·OP (no trend), and too few snapshots.

The analysis ``"plasticity"`` runs the same statistics (:func:`~statmech_nn.observables.hessian_entries.
entry_statistics`) and verdict functions as ``statmech-nn validate plasticity_digits``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...observables.hessian_entries import entry_statistics
from ..calibration import register_analysis
from ..plasticity_verdicts import DEFAULT_ACCEPTANCE, entry_verdicts, order_parameter_verdict
from . import Scenario, register

DIM = 1296           # P of plasticity_digits' MLP (for the coupling exponent only)
STUDENT_DOF = 5.0


@dataclass(frozen=True)
class PlantedEntries:
    """Per-example contributions (n, N) of sampled Hessian entries at each snapshot, and how to measure them."""

    contributions: tuple
    epochs: tuple
    bootstrap: int
    subset: int
    dim: int = DIM


@dataclass(frozen=True)
class PlantedOrderParameter:
    """Risk and η·OP at a series of snapshots."""

    epochs: tuple
    risk: np.ndarray
    eta_op: np.ndarray


def contributions(rng: np.random.Generator, n: int, entries: int, *, nonzero_share: float = 0.0,
                  effect: float = 0.5, group: int = 1, rho: float = 0.0) -> np.ndarray:
    """(n, N) contributions of the factor model (module docstring): ``nonzero_share`` of the entries with
    |μ/σ| = ``effect``, correlation ``rho`` within groups of ``group`` entries (1: independent)."""
    scale = np.exp(rng.standard_normal(entries))
    mean = np.zeros(entries)
    moved = rng.choice(entries, size=round(nonzero_share * entries), replace=False)
    mean[moved] = effect * rng.choice([-1.0, 1.0], size=moved.size)
    noise = rng.standard_t(STUDENT_DOF, size=(n, entries)) * np.sqrt((STUDENT_DOF - 2) / STUDENT_DOF)
    groups = rng.permutation(entries) // group
    factor = rng.standard_normal((n, groups.max() + 1))[:, groups]
    return scale * (mean + np.sqrt(1 - rho) * noise + np.sqrt(rho) * factor)


def entry_ensemble(rng, n: int, entries: int, bootstrap: int, subset: int, first: dict, last: dict) -> PlantedEntries:
    """Two snapshots (first and last of training) of the factor model with the layouts ``first``, ``last``."""
    return PlantedEntries((contributions(rng, n, entries, **first), contributions(rng, n, entries, **last)),
                          (0, 200), bootstrap, subset)


def order_parameter_series(rng, snapshots: int, ratio: float | None, noise: float = 0.5) -> PlantedOrderParameter:
    """R falls from 1 to 1e-3 (log-normal jitter 0.2) over ``snapshots``; η·OP = ``ratio`` · R · log-normal
    (``noise``), or flat at 0.1 · the geometric mean of R when ``ratio`` is None (no trend)."""
    epochs = tuple(int(e) for e in np.linspace(0, 200, snapshots))
    risk = np.geomspace(1.0, 1e-3, snapshots) * np.exp(0.2 * rng.standard_normal(snapshots))
    level = ratio * risk if ratio is not None else np.full(snapshots, 0.1 * np.exp(np.log(risk).mean()))
    return PlantedOrderParameter(epochs, risk, level * np.exp(noise * rng.standard_normal(snapshots)))


def plasticity_answers(data, options: dict) -> dict:
    """The answers of P2–P5 on planted data, through the protocol's statistics and verdict functions."""
    acceptance = {**DEFAULT_ACCEPTANCE, **options}
    if isinstance(data, PlantedOrderParameter):
        found = [order_parameter_verdict(list(data.epochs), data.risk, data.eta_op, acceptance)]
    else:
        summaries = [entry_statistics(c, data.dim, bootstrap=data.bootstrap, correlation_subset=data.subset, seed=k)[0]
                     for k, c in enumerate(data.contributions)]
        found = entry_verdicts(summaries, list(data.epochs), acceptance)
    return {v["id"]: v["verdict"] for v in found}


register_analysis("plasticity", plasticity_answers)

# the digits protocol's sizes (1437 examples, 300 entries, 200 replicates, a 100-entry correlation subset)
_ENTRY_SIZES = {"full": {"n": 1437, "entries": 300, "bootstrap": 200, "subset": 100},
                "reduced": {"n": 500, "entries": 150, "bootstrap": 50, "subset": 50}}
_INDEPENDENT = {}
_ENTRY_SCENARIOS = (
    ("hessian-mean-zero", "every entry's mean 0, independent entries at both snapshots",
     _INDEPENDENT, _INDEPENDENT, {"P2": "supported", "P3": "supported", "P4": "not supported"}, ("P3",)),
    ("hessian-nonzero-means", "20 % of the entries with |mean| = 0.5 σ, independent entries",
     {"nonzero_share": 0.2}, {"nonzero_share": 0.2},
     {"P2": "not supported", "P3": "not supported", "P4": "not supported"}, ("P3",)),
    ("hessian-few-nonzero-means", "2 % of the entries with |mean| = 0.5 σ (98 % at 0: the claim holds)",
     {"nonzero_share": 0.02}, {"nonzero_share": 0.02}, {"P2": "supported", "P3": "supported"}, ()),
    ("hessian-sparse-densifying", "means 0; independent entries first, groups of 10 with ρ = 0.5 at the end",
     _INDEPENDENT, {"group": 10, "rho": 0.5}, {"P3": "supported", "P4": "supported"}, ("P3", "P4")),
    ("hessian-dense", "means 0; every entry loads on one common factor, ρ = 0.2 for every pair",
     {"group": 10_000, "rho": 0.2}, {"group": 10_000, "rho": 0.2}, {"P3": "supported", "P4": "not supported"},
     ("P3", "P4")),
)
for _name, _description, _first, _last, _truth, _powered in _ENTRY_SCENARIOS:
    register(Scenario(
        name=_name, description=_description, truth=_truth, powered=_powered, analysis="plasticity",
        generate=lambda rng, first=_first, last=_last, **size: entry_ensemble(rng, first=first, last=last, **size),
        sizes=_ENTRY_SIZES))

_OP_SCENARIOS = (
    ("op-tracks-risk", "η·OP = 0.1 R × log-normal(0.5) on 12 snapshots", 12, 0.1, "supported", True),
    ("op-equals-risk", "η·OP = R × log-normal(0.5): no order of magnitude between them, 12 snapshots", 12, 1.0,
     "not supported", True),
    ("op-no-trend", "η·OP flat (log-normal noise) while R falls 1000-fold, 12 snapshots", 12, None,
     "not supported", False),
    ("op-five-snapshots", "η·OP = 0.1 R × log-normal(0.5) on 5 snapshots (too few to judge)", 5, 0.1,
     "supported", False),
)
for _name, _description, _count, _ratio, _answer, _is_powered in _OP_SCENARIOS:
    register(Scenario(
        name=_name, description=_description, truth={"P5": _answer}, powered=("P5",) if _is_powered else (),
        analysis="plasticity",
        generate=lambda rng, snapshots, ratio=_ratio: order_parameter_series(rng, snapshots, ratio),
        sizes={"full": {"snapshots": _count}, "reduced": {"snapshots": _count}}))
