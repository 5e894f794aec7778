"""Metropolis–Hastings on the joint density p(x, q) = p(x|q) p(q) of the quartic toy model (002 §2).

    log p(x, q) = -βH(x, q) + (β - α) F(β, q) + const,

since p(x|q) = exp(-β(H - F)) (002 eq. (3)) and p(q) ∝ exp(-αF) (002 eq. (6)), with the exact F
(log Z from :func:`statmech_nn.toy.free_energy.log_quartic_integral_scalar`, the toy model's numba kernel).

One step is a Metropolis-within-Gibbs sweep, two random-walk updates each targeting the joint density:

1. x' = x + σₓ(q) ξ at fixed q, with σₓ(q)² = c² (max(-a/μ, 0) + 1/(β|a| + √(βμ))), a = λx + g (q - q̄)²:
   about the spread of p(x|q), Gaussian (width² 1/(βa)) or bimodal (modes at ±√(-a/μ));
2. q' = q + σ_q(x) ξ at fixed x, with σ_q(x)² = c² / (βg (x - x̄)² + αλq + 1/L²): about the width of p(q|x)
   (L = 10 s₀, s₀ the starting width of :mod:`statmech_nn.sampling.quartic_setup`).

Each proposal scale depends only on the coordinate that stays fixed, so each proposal is symmetric and
the acceptance ratio is the density ratio. The scales only set efficiency; c = ``step_scale`` (2.4 by
default). Acceptance rates of both updates are reported.
"""

from __future__ import annotations

import numba
import numpy as np

from ..params import require_positive
from ..toy import QuarticModel
from ..toy.free_energy import log_quartic_integral_scalar
from .chains import ChainRun, RunLength, run_blocks
from .quartic_setup import initial_state, initial_width, packed_parameters, require_marginal
from ..rng import normal, uniform_open

DEFAULT_STEP_SCALE = 2.4


@numba.njit(cache=True)
def _free_energy(d, p):
    """F(β, q) at d = q - q̄ with the exact log Z (002 eq. (4) without approximation)."""
    lambda_x, g, lambda_q, mu, beta = p[0], p[1], p[2], p[3], p[6]
    u = d * d
    return 0.5 * lambda_q * u - log_quartic_integral_scalar(0.5 * beta * (lambda_x + g * u), 0.25 * beta * mu) / beta


@numba.njit(cache=True, parallel=True)
def quartic_mh_kernel(p, step_scale, inverse_l2, x, q, states, accepted, n_steps, thin,
                      out_q, out_x, status):
    """Advance every chain by ``n_steps`` sweeps; ``accepted[c]`` counts accepted (x, q) moves."""
    lambda_x, g, lambda_q, mu, x_bar, q_bar, beta, alpha = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    rows = out_q.shape[0]
    quartic_curvature = np.sqrt(beta * mu)
    for c in numba.prange(x.shape[0]):
        y = x[c] - x_bar
        d = q[c] - q_bar
        free = _free_energy(d, p)
        countdown = thin
        row = 0
        for n in range(n_steps):
            # 1. x at fixed q
            a = lambda_x + g * d * d
            spread = 1.0 / (beta * abs(a) + quartic_curvature)
            if mu > 0.0 and a < 0.0:
                spread += -a / mu
            z = normal(states, c)
            y_new = y + step_scale * np.sqrt(spread) * z
            y2, y2_new = y * y, y_new * y_new
            log_ratio = -beta * (0.5 * a * (y2_new - y2) + 0.25 * mu * (y2_new * y2_new - y2 * y2))
            u = uniform_open(states, c)
            if np.log(u) < log_ratio:
                y = y_new
                accepted[c, 0] += 1
            # 2. q at fixed x
            y2 = y * y
            z = normal(states, c)
            d_new = d + step_scale * z / np.sqrt(beta * g * y2 + alpha * lambda_q + inverse_l2)
            free_new = _free_energy(d_new, p)
            log_ratio = (-0.5 * beta * (g * y2 + lambda_q) * (d_new * d_new - d * d)
                         + (beta - alpha) * (free_new - free))
            u = uniform_open(states, c)
            if np.log(u) < log_ratio:
                d = d_new
                free = free_new
                accepted[c, 1] += 1
            if not (np.isfinite(y) and np.isfinite(d) and np.isfinite(free)):
                status[c] = n + 1
                break
            countdown -= 1
            if countdown == 0:
                countdown = thin
                if row < rows:
                    out_q[row, c, 0] = q_bar + d
                    out_x[row, c, 0] = x_bar + y
                    row += 1
        x[c] = x_bar + y
        q[c] = q_bar + d


def sample_quartic_mh(model: QuarticModel, *, chains: int, steps: int, seed, burn_in: int | None = None,
                      thin: int | None = None, step_scale: float = DEFAULT_STEP_SCALE,
                      progress: bool | None = None, store=None) -> ChainRun:
    """Run ``chains`` Metropolis-within-Gibbs chains of ``steps`` sweeps each (burn-in included).

    ``store``: a :class:`~statmech_nn.sampling.store.RunStore` to stream into (and resume from).
    """
    step_scale = require_positive("step_scale", step_scale)
    length = RunLength.of(chains, steps, burn_in, thin)
    require_marginal(model)
    x, q, states = initial_state(model, length.chains, seed)
    p = packed_parameters(model)
    inverse_l2 = 1.0 / (10.0 * initial_width(model)) ** 2
    accepted = np.zeros((length.chains, 2), np.int64)

    def kernel(n_steps, step_thin, out_q, out_x, status):
        quartic_mh_kernel(p, step_scale, inverse_l2, x, q, states, accepted, n_steps, step_thin,
                          out_q, out_x, status)

    done = run_blocks(kernel, length, 1, 1, desc="metropolis", progress=progress,
                      state={"x": x, "q": q, "states": states, "accepted": accepted}, store=store)
    rates = accepted.sum(axis=0) / (length.chains * length.steps)
    return ChainRun(q=done.q, x=done.x, t=done.t, method="mh", length=length, elapsed_s=done.elapsed_s,
                    steps_run=done.steps_run,
                    settings={"step_scale": step_scale, "seed": seed},
                    stats={"acceptance_x": float(rates[0]), "acceptance_q": float(rates[1])})
