"""Planted truths for the optimizer dynamics (issue 19 item 4; :mod:`statmech_nn.compare.dynamics`): the gradient
noise is 002 eq. (6)'s law (:func:`.decay_truths.eq6_steps`, no peak), passed through

- heavy-ball SGD momentum μ = 0.9 (Δ_t = μΔ_(t-1) - η g_t; lag-1 ρ of Δ ≈ 0.9): recorded, the analysis works on
  the innovations, which are uncorrelated (D "supported") and hold no peak (Q1 "not supported"); not recorded,
  D is "not supported" (the increments are correlated) and the step-law verdicts must not give a definite answer;
- Adam-like updates (m and v moving averages with β = (0.9, 0.999), Δ = -η m̂/(√v̂ + ε)): recorded or not, the
  increments are correlated (D "not supported") and Q1 must not give a definite answer (Adam is not covered; or
  the increments are correlated);
- plain SGD (the law's steps themselves): D "supported".
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ...io import Dynamics, Trajectory
from . import Scenario, register
from .decay_truths import LAW, OPTIONS, SIZES, eq6_steps

MOMENTUM = 0.9
LR = 1.0                                 # the law's scales are those of the steps -η g
BETAS, EPS = (0.9, 0.999), 1e-8


def _trajectory(steps: np.ndarray, name: str, dynamics: Dynamics, rng) -> Trajectory:
    k = steps.shape[1]
    q = np.vstack([rng.uniform(0.5, 1.5, (1, k)), np.zeros_like(steps)])
    q[1:] = q[0] + np.cumsum(steps, axis=0)
    return Trajectory(q=q, t=np.arange(q.shape[0]), names=[f"w{j}" for j in range(k)], chain=None,
                      source=f"planted:{name}", dynamics=dynamics)


def heavy_ball(rng, n: int, k: int, recorded: bool) -> Trajectory:
    """Δ_t = μ Δ_(t-1) - η g_t with g from eq. (6) (no weight decay)."""
    gradient = eq6_steps(rng, (n - 1, k), **LAW)
    steps = lfilter([-LR], [1.0, -MOMENTUM], gradient, axis=0)
    dynamics = (Dynamics("sgd", lr=LR, momentum=MOMENTUM, dampening=0.0, nesterov=False, weight_decay=0.0)
                if recorded else Dynamics())
    return _trajectory(steps, "heavy-ball", dynamics, rng)


def adam_like(rng, n: int, k: int, recorded: bool) -> Trajectory:
    """Adam's update on gradients from eq. (6): m, v moving averages (bias-corrected), Δ = -η m̂/(√v̂ + ε)."""
    gradient = eq6_steps(rng, (n - 1, k), **LAW)
    (b1, b2), t = BETAS, np.arange(1, n)[:, None]
    m = lfilter([1.0 - b1], [1.0, -b1], gradient, axis=0) / (1.0 - b1 ** t)
    v = lfilter([1.0 - b2], [1.0, -b2], gradient * gradient, axis=0) / (1.0 - b2 ** t)
    steps = -1e-3 * m / (np.sqrt(v) + EPS)
    dynamics = Dynamics("adam", lr=1e-3, betas=BETAS, eps=EPS, weight_decay=0.0, decoupled=False) if recorded \
        else Dynamics()
    return _trajectory(steps, "adam-like", dynamics, rng)


for _recorded, _label in ((True, "recorded"), (False, "unrecorded")):
    register(Scenario(
        f"momentum-{_label}", f"heavy-ball momentum 0.9 over eq. (6) gradient noise, dynamics {_label}",
        {"D": "supported" if _recorded else "not supported", "Q1": "not supported"},
        lambda rng, n, k, recorded=_recorded: heavy_ball(rng, n, k, recorded), SIZES,
        ("D", "Q1") if _recorded else ("D",), options=OPTIONS))
    register(Scenario(
        f"adam-{_label}", f"Adam-like updates over eq. (6) gradient noise, dynamics {_label}",
        {"D": "not supported", "Q1": "not supported"},
        lambda rng, n, k, recorded=_recorded: adam_like(rng, n, k, recorded), SIZES, ("D",), options=OPTIONS))
