"""Planted truths for Q2 (a power law on intermediate scales), Q3 (a Gaussian cut-off inside the data) and Q6
(the scale-invariant range shrinks as the amplitude grows, 002 §6): random walks w(t+1) = w(t) + Δ_t whose
increments are drawn exactly from a known law, i.i.d. in t and independent across the weights.

- ``eq6-{d}dec``: Δ from 002 eq. (6), p(Δ) ∝ (1 + Δ²/c²)^-s exp(-Δ²/2σ²), with s = 1, c = 1e-3 and σ chosen so
  that the power law spans d decades of u = Δ² between the core c² and the crossover u_S = 2sσ² - c² (where
  the Gaussian factor's log-slope overtakes the power law's; a ratio of scales, so the decades do not depend
  on the units of w), d = 1, 2, 3, 4; every weight has the same law.
  Q2 "supported" (powered from 2 decades on: 1 decade lies below the verdict's threshold, where it may
  answer "inconclusive"), Q3 "supported" (powered), Q6 "not supported" (identical laws: the null; not
  powered, since no sample size confirms a null: "inconclusive" is allowed, "supported" is wrong).
- ``student-t``: a pure power law beyond its core, without cut-off (ν = 3, 2s = ν + 1 = 4). Q2 asks for a
  power law on intermediate scales, which a Student-t has (from its core to the end of the data):
  "supported" (powered); Q3 "not supported" (powered: there is no cut-off to find).
- ``pareto-tail``: a symmetric Lomax law, p(|Δ|) ∝ (1 + |Δ|/b)^-(a+1) (a = 2): a power-law tail with a core
  of another shape than eq. (6)'s; Q3 "not supported" (no cut-off; the fit may also fail its goodness of
  fit, so not powered); Q2 not stated (eq. (6)'s power law is not what it has below the tail).
- ``gaussian``: Δ ~ N(0, σ²): eq. (6) at s = 0. Q2 "not supported" (powered).
- ``eq6-range-amplitude``: 12 weights with s = 1, σ = 0.03 and cores c_j chosen so that the decades of
  power law are evenly spaced over [2, 3.5] (u); a larger c gives a larger rms and fewer decades (002 §6),
  so the planted Spearman ρ(rms, decades) is -1 across the weights (the stated strength: a 1.5-decade
  spread of the range over 12 weights). Q6 "supported" (powered); Q2 and Q3 "supported".

Sizes: ``full`` n = 1e5 steps × 12 weights (the README's size), ``reduced`` n = 2e4 × 12.
"""

from __future__ import annotations

import numpy as np
from ...io import Trajectory
from ..fits import FluctuationLaw
from . import Scenario, register

CORE = 1e-3          # c of the planted eq. (6) laws
EXPONENT_S = 1.0     # s: |Δ|^-2 on intermediate scales
STUDENT_NU = 3.0
LOMAX_A = 2.0
SIZES = {"full": {"n": 100_000, "k": 12}, "reduced": {"n": 20_000, "k": 12}}
RANGE_SPREAD = (2.0, 3.5)   # decades (u) of the weights of the range-amplitude scenario
RANGE_SIGMA = 0.03


def sigma_for_decades(decades: float, c: float = CORE, s: float = EXPONENT_S) -> float:
    """σ such that eq. (6) with (c, s, σ) spans ``decades`` decades of u from c² to u_S = 2sσ² - c²."""
    return float(c * np.sqrt((10.0**decades + 1.0) / (2.0 * s)))


def core_for_decades(decades: float, sigma: float, s: float = EXPONENT_S) -> float:
    """c such that eq. (6) with (c, s, σ) spans ``decades`` decades of u from c² to u_S = 2sσ² - c²."""
    return float(sigma * np.sqrt(2.0 * s / (10.0**decades + 1.0)))


def random_walk(increments: np.ndarray, source: str, metadata: dict) -> Trajectory:
    """w(0) = 0, w(t+1) = w(t) + Δ_t for each column of ``increments`` (n, k)."""
    q = np.concatenate([np.zeros((1, increments.shape[1])), np.cumsum(increments, axis=0)])
    return Trajectory(q=q, t=np.arange(q.shape[0]), names=[f"w{j}" for j in range(q.shape[1])], chain=None,
                      source=f"planted:{source}", metadata=metadata)


def theory_walks(rng: np.random.Generator, n: int, k: int, cores, sigmas, s: float = EXPONENT_S) -> Trajectory:
    """k weights whose increments follow eq. (6) with per-weight (c_j, s, σ_j) (scalars broadcast)."""
    cores, sigmas = np.broadcast_to(cores, (k,)), np.broadcast_to(sigmas, (k,))
    increments = np.stack([FluctuationLaw(c, s, sigma).rvs(n, random_state=rng) for c, sigma in zip(cores, sigmas)],
                          axis=1)
    return random_walk(increments, "eq6", {"c": cores.tolist(), "s": s, "sigma": sigmas.tolist()})


def eq6_walks(rng: np.random.Generator, n: int, k: int, decades: float) -> Trajectory:
    return theory_walks(rng, n, k, CORE, sigma_for_decades(decades))


def range_amplitude_walks(rng: np.random.Generator, n: int, k: int) -> Trajectory:
    """The 002 §6 relation: c_j gives decades evenly spaced over RANGE_SPREAD (more decades, smaller rms)."""
    decades = rng.permutation(np.linspace(*RANGE_SPREAD, k))
    cores = np.array([core_for_decades(d, RANGE_SIGMA) for d in decades])
    return theory_walks(rng, n, k, cores, RANGE_SIGMA)


def student_walks(rng: np.random.Generator, n: int, k: int) -> Trajectory:
    scale = CORE / np.sqrt(STUDENT_NU)
    return random_walk(scale * rng.standard_t(STUDENT_NU, (n, k)), "student-t", {"nu": STUDENT_NU, "scale": scale})


def lomax_walks(rng: np.random.Generator, n: int, k: int) -> Trajectory:
    magnitude = CORE * rng.pareto(LOMAX_A, (n, k))
    return random_walk(magnitude * rng.choice([-1.0, 1.0], (n, k)), "pareto-tail", {"a": LOMAX_A, "b": CORE})


def gaussian_walks(rng: np.random.Generator, n: int, k: int) -> Trajectory:
    return random_walk(CORE * rng.standard_normal((n, k)), "gaussian", {"sigma": CORE})


for _decades in (1, 2, 3, 4):
    register(Scenario(
        name=f"eq6-{_decades}dec", sizes=SIZES,
        description=f"12 weights, increments from 002 eq. (6), c = 1e-3, s = 1, {_decades} decades of u between core "
                    f"and cut-off",
        truth={"Q2": "supported", "Q3": "supported", "Q6": "not supported"},
        powered=("Q2", "Q3") if _decades >= 2 else ("Q3",),
        generate=lambda rng, n, k, d=_decades: eq6_walks(rng, n, k, d)))

register(Scenario(
    name="student-t", sizes=SIZES, generate=student_walks,
    description="12 weights, Student-t increments (nu = 3): a power law beyond the core, no cut-off",
    truth={"Q2": "supported", "Q3": "not supported"}, powered=("Q2", "Q3")))
register(Scenario(
    name="pareto-tail", sizes=SIZES, generate=lomax_walks,
    description="12 weights, symmetric Lomax increments (tail |delta|^-3): a power law, no cut-off",
    truth={"Q3": "not supported"}))
register(Scenario(
    name="gaussian", sizes=SIZES, generate=gaussian_walks,
    description="12 weights, Gaussian increments: eq. (6) at s = 0, no power law",
    truth={"Q2": "not supported"}, powered=("Q2",)))
register(Scenario(
    name="eq6-range-amplitude", sizes=SIZES, generate=range_amplitude_walks,
    description="12 weights, eq. (6) with decades spread over [2, 3.5] (u), larger amplitude -> fewer decades",
    truth={"Q2": "supported", "Q3": "supported", "Q6": "supported"}, powered=("Q2", "Q3", "Q6")))
