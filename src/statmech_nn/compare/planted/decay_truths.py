"""Planted truths for Q1 (a peak at very small fluctuations, 002 Fig. 2, and its origin): random walks whose
gradient steps follow 002 eq. (6) with (c, s, σ) = (1e-3, 1.5, 3e-2) (2.7 decades of |Δ| between core and
cut-off), mixed with

- exact weight-decay steps Δ = -κw (κ = 1e-5, 30 % of the steps; the decay steps sit two decades below the core):
  a peak whose origin is weight decay, with κ recorded in the run header (SGD, lr·weight_decay = κ) or not
  (κ must come from the data): Q1 "supported";
- a narrow component inside the gradient steps (20 % of the steps from N(0, τ²), τ = c/30; no weight decay): a
  peak that remains in the gradient steps, the frustrated-regime origin: Q1 "supported";
- nothing (eq. (6) steps alone, weight decay 0 recorded): Q1 "not supported".
"""

from __future__ import annotations

import numpy as np

from ..fits import FluctuationLaw
from ...io import Dynamics, Trajectory
from . import Scenario, register

LAW = {"c": 1e-3, "s": 1.5, "sigma": 3e-2}
KAPPA = 1e-5
DECAY_SHARE = 0.3
PEAK_SHARE, PEAK_WIDTH = 0.2, LAW["c"] / 30.0
SIZES = {"full": {"n": 100_000, "k": 12}, "reduced": {"n": 10_000, "k": 6}}
OPTIONS = {"gof_bootstrap": 0}   # Q1 does not use the CSN bootstrap


def eq6_steps(rng: np.random.Generator, shape, c: float, s: float, sigma: float) -> np.ndarray:
    """Exact draws of 002 eq. (6), p(Δ) ∝ (1 + Δ²/c²)^-s exp(-Δ²/2σ²) (:meth:`FluctuationLaw.rvs`, by rejection)."""
    return np.asarray(FluctuationLaw(c, s, sigma).rvs(tuple(shape), random_state=rng), float)


def walk(rng: np.random.Generator, n: int, k: int, *, decay_share: float = 0.0, kappa: float = KAPPA,
         peak_share: float = 0.0) -> np.ndarray:
    """k weights over n steps: each step is weight decay w → w - κw with probability ``decay_share``, else a
    gradient step from eq. (6), of which a share ``peak_share`` is replaced by N(0, τ²) draws (the narrow peak)."""
    gradient = eq6_steps(rng, (n - 1, k), **LAW)
    narrow = rng.random((n - 1, k)) < peak_share
    gradient[narrow] = rng.normal(0.0, PEAK_WIDTH, int(narrow.sum()))
    decay = rng.random((n - 1, k)) < decay_share
    q = np.empty((n, k))
    q[0] = rng.uniform(0.5, 1.5, k) * rng.choice([-1.0, 1.0], k)
    if not decay.any():
        q[1:] = q[0] + np.cumsum(gradient, axis=0)
        return q
    for t in range(n - 1):   # a decay step depends on the current weight: one vectorized row per step
        q[t + 1] = np.where(decay[t], q[t] - kappa * q[t], q[t] + gradient[t])
    return q


def _trajectory(q: np.ndarray, name: str, dynamics: Dynamics) -> Trajectory:
    return Trajectory(q=q, t=np.arange(q.shape[0]), names=[f"w{j}" for j in range(q.shape[1])], chain=None,
                      source=f"planted:{name}", dynamics=dynamics)


def decay_mixture(rng, n: int, k: int, recorded: bool) -> Trajectory:
    """30 % exact decay steps Δ = -κw among eq. (6) gradient steps; κ = lr·weight_decay recorded or not."""
    dynamics = Dynamics("sgd", lr=1e-2, weight_decay=KAPPA / 1e-2, momentum=0.0) if recorded else Dynamics()
    return _trajectory(walk(rng, n, k, decay_share=DECAY_SHARE), "decay-mixture", dynamics)


def gradient_peak(rng, n: int, k: int) -> Trajectory:
    """A narrow component (20 % of the steps, τ = c/30) inside the gradient steps; no weight decay."""
    return _trajectory(walk(rng, n, k, peak_share=PEAK_SHARE), "gradient-peak", Dynamics())


def no_peak(rng, n: int, k: int) -> Trajectory:
    """eq. (6) steps alone, plain SGD without weight decay recorded."""
    return _trajectory(walk(rng, n, k), "no-peak", Dynamics("sgd", lr=1e-2, weight_decay=0.0, momentum=0.0))


register(Scenario("q1-decay-kappa-recorded", "30% exact weight-decay steps among eq. (6) steps, kappa recorded",
                  {"Q1": "supported"}, lambda rng, n, k: decay_mixture(rng, n, k, True), SIZES, ("Q1",),
                  options=OPTIONS))
register(Scenario("q1-decay-kappa-unrecorded", "30% exact weight-decay steps among eq. (6) steps, kappa not recorded",
                  {"Q1": "supported"}, lambda rng, n, k: decay_mixture(rng, n, k, False), SIZES, ("Q1",),
                  options=OPTIONS))
register(Scenario("q1-gradient-peak", "20% of the gradient steps from a narrow N(0, (c/30)^2) among eq. (6) steps",
                  {"Q1": "supported"}, gradient_peak, SIZES, ("Q1",), options=OPTIONS))
register(Scenario("q1-no-peak", "eq. (6) steps alone (no decay, no narrow component)",
                  {"Q1": "not supported", "D": "supported"}, no_peak, SIZES, ("Q1", "D"), options=OPTIONS))
