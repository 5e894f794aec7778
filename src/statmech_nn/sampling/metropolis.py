"""Metropolis–Hastings on the joint density p(x, q) = p(x|q) p(q) of the quartic toy model (002 §2).

    log p(x, q) = -βH(x, q) + (β - α) F(β, q) + const,

since p(x|q) = exp(-β(H - F)) (002 eq. (3)) and p(q) ∝ exp(-αF) (002 eq. (6)), with the exact F
and H both from the model's numba kernels (:mod:`statmech_nn.quartic.hamiltonian`).

One step is a Metropolis-within-Gibbs sweep, two random-walk updates each targeting the joint density:

1. x' = x + σₓ(q) ξ at fixed q, with σₓ(q)² = c² (max(-a/μ, 0) + 1/(β|a| + √(βμ))), a = λx + g (q - q̄)²:
   about the spread of p(x|q), Gaussian (width² 1/(βa)) or bimodal (modes at ±√(-a/μ));
2. q' = q + σ_q(x) ξ at fixed x, with σ_q(x)² = c² / (βg (x - x̄)² + αλq + 1/L²): about the width of p(q|x)
   (L = 10 s₀, s₀ the starting width of :mod:`statmech_nn.sampling.quartic_setup`).

Each proposal scale depends only on the coordinate that stays fixed, so each proposal is symmetric and
the acceptance ratio is the density ratio. The scales only set efficiency; c = ``step_scale`` (2.4 by
default). Acceptance rates of both updates are reported.

Kernels: :func:`mh_update` is the pure sweep of one chain, fed its normals and uniforms; :func:`mh_step`
applies it to every chain with the noise passed in as an array; :func:`quartic_mh_kernel` draws the noise
from each chain's stream (z_x, u_x, z_q, u_q in that order) and calls the same update.
"""

from __future__ import annotations

import numba
import numpy as np

from ..params import require_positive
from ..rng import normal, uniform_open
from ..quartic import QuarticModel
from ..quartic.hamiltonian import ALPHA, BETA, G, LAMBDA_Q, MU, Q_BAR, X_BAR, energy, free_energy, x_curvature
from .chains import ChainRun, RunLength, run_blocks
from .quartic_setup import initial_state, initial_width, require_marginal

DEFAULT_STEP_SCALE = 2.4


@numba.njit(inline="always")
def mh_update(p, step_scale, inverse_l2, y, d, free, z_x, u_x, z_q, u_q):
    """One Metropolis-within-Gibbs sweep of one chain at y = x - x̄, d = q - q̄ with F(d) = ``free`` (pure).

    Returns (y', d', F(d'), x accepted, q accepted); z_* standard normals, u_* uniforms on (0, 1).
    """
    beta, alpha, mu = p[BETA], p[ALPHA], p[MU]
    # 1. x at fixed q: log ratio -β ΔH
    a = x_curvature(p, d)
    spread = 1.0 / (beta * abs(a) + np.sqrt(beta * mu))
    if mu > 0.0 and a < 0.0:
        spread += -a / mu
    y_new = y + step_scale * np.sqrt(spread) * z_x
    accept_x = np.log(u_x) < -beta * (energy(p, y_new, d) - energy(p, y, d))
    if accept_x:
        y = y_new
    # 2. q at fixed x: log ratio -β ΔH + (β - α) ΔF
    d_new = d + step_scale * z_q / np.sqrt(beta * p[G] * y * y + alpha * p[LAMBDA_Q] + inverse_l2)
    free_new = free_energy(p, d_new)
    accept_q = np.log(u_q) < -beta * (energy(p, y, d_new) - energy(p, y, d)) + (beta - alpha) * (free_new - free)
    if accept_q:
        d = d_new
        free = free_new
    return y, d, free, accept_x, accept_q


@numba.njit(cache=True)
def mh_step(p, step_scale, inverse_l2, x, q, noise):
    """Every chain one sweep with the noise given: ``noise`` (chains, 4) holds (z_x, u_x, z_q, u_q); new (x, q)."""
    x_new = np.empty_like(x)
    q_new = np.empty_like(q)
    for c in range(x.shape[0]):
        y, d = x[c] - p[X_BAR], q[c] - p[Q_BAR]
        y, d, _, _, _ = mh_update(p, step_scale, inverse_l2, y, d, free_energy(p, d), noise[c, 0], noise[c, 1],
                                  noise[c, 2], noise[c, 3])
        x_new[c], q_new[c] = p[X_BAR] + y, p[Q_BAR] + d
    return x_new, q_new


@numba.njit(cache=True, parallel=True)
def quartic_mh_kernel(p, step_scale, inverse_l2, x, q, states, accepted, n_steps, thin,
                      out_q, out_x, status):
    """Advance every chain by ``n_steps`` sweeps; ``accepted[c]`` counts accepted (x, q) moves."""
    rows = out_q.shape[0]
    for c in numba.prange(x.shape[0]):
        y = x[c] - p[X_BAR]
        d = q[c] - p[Q_BAR]
        free = free_energy(p, d)
        countdown = thin
        row = 0
        for n in range(n_steps):
            z_x = normal(states, c)
            u_x = uniform_open(states, c)
            z_q = normal(states, c)
            u_q = uniform_open(states, c)
            y, d, free, accept_x, accept_q = mh_update(p, step_scale, inverse_l2, y, d, free, z_x, u_x, z_q, u_q)
            accepted[c, 0] += accept_x
            accepted[c, 1] += accept_q
            if not (np.isfinite(y) and np.isfinite(d) and np.isfinite(free)):
                status[c] = n + 1
                break
            countdown -= 1
            if countdown == 0:
                countdown = thin
                if row < rows:
                    out_q[row, c, 0] = p[Q_BAR] + d
                    out_x[row, c, 0] = p[X_BAR] + y
                    row += 1
        x[c] = p[X_BAR] + y
        q[c] = p[Q_BAR] + d


def sample_quartic_mh(model: QuarticModel, *, chains: int, steps: int, seed, burn_in: int | None = None,
                      thin: int | None = None, step_scale: float = DEFAULT_STEP_SCALE,
                      progress: bool | None = None, store=None) -> ChainRun:
    """Run ``chains`` Metropolis-within-Gibbs chains of ``steps`` sweeps each (burn-in included).

    ``store``: a :class:`~statmech_nn.sampling.chain_store.ChainStore` to stream into (and resume from).
    """
    step_scale = require_positive("step_scale", step_scale)
    length = RunLength.of(chains, steps, burn_in, thin)
    require_marginal(model)
    x, q, states = initial_state(model, length.chains, seed)
    p = model.packed()
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
