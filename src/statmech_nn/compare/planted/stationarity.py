"""Planted truths for S (weights stationary in the tracked window): Ornstein–Uhlenbeck weights of a given
integrated autocorrelation time τ (stationary: S is "supported"), and the same with a linear drift
(not stationary: "not supported")."""

from __future__ import annotations

import numpy as np

from ...io import Trajectory
from . import Scenario, register


def ornstein_uhlenbeck(rng: np.random.Generator, n: int, k: int, tau: float, drift: float = 0.0) -> Trajectory:
    """k independent stationary AR(1) columns w(t+1) = φ w(t) + √(1−φ²) ξ with integrated autocorrelation
    time τ = (1+φ)/(1−φ) (unit variance, started in equilibrium), plus ``drift`` standard deviations of
    linear trend over the window."""
    phi = (tau - 1.0) / (tau + 1.0)
    noise = rng.standard_normal((n, k)) * np.sqrt(1.0 - phi * phi)
    noise[0] = rng.standard_normal(k)
    from scipy.signal import lfilter

    q = lfilter([1.0], [1.0, -phi], noise, axis=0)
    q += drift * np.linspace(-0.5, 0.5, n)[:, None]
    return Trajectory(q=q, t=np.arange(n), names=[f"w{j}" for j in range(k)], chain=None, source="planted:ou",
                      metadata={"tau": tau, "drift": drift})


for _ratio in (10, 25, 50, 100):
    register(Scenario(
        name=f"ou-stationary-n{_ratio}tau", truth={"S": "supported"},
        description=f"16 stationary OU weights, window n = {_ratio} τ_int",
        generate=lambda rng, n, k, ratio=_ratio: ornstein_uhlenbeck(rng, n, k, n / ratio),
        sizes={"full": {"n": 100_000, "k": 16}, "reduced": {"n": 20_000, "k": 16}},
        powered=("S",) if _ratio >= 100 else (), analysis="stationarity"))
