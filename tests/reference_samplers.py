"""NumPy references of the samplers' step kernels, for bit-for-bit checks (tests) and speed (benchmarks/).

:func:`numpy_langevin_step` is the Euler–Maruyama step of the quartic model's two-timescale Langevin dynamics
(002 §2) written independently of :mod:`statmech_nn.quartic.hamiltonian`, vectorized over chains and in place,
with the same floating-point operations in the same order as :func:`statmech_nn.sampling.langevin.langevin_update`:
fed the same noise, both give the same bits.
"""

from __future__ import annotations

import numpy as np

from statmech_nn.quartic.parameters import NAMES


class LangevinBuffers:
    """Work arrays of :func:`numpy_langevin_step` (preallocated once per run, as a fast NumPy code would)."""

    def __init__(self, chains: int):
        self.y, self.d, self.force, self.term = (np.empty(chains) for _ in range(4))


def numpy_langevin_step(p, dt, epsilon, x, q, z_x, z_q, work: LangevinBuffers) -> None:
    """x, q (chains,) one step in place: x -= dt ∂ₓH - √(2dt/β) z_x, q -= ε dt ∂_qH - √(2ε dt/α) z_q.

    ∂ₓH = (λx + g d²) y + μ y³ and ∂_qH = (g y² + λq) d at y = x - x̄, d = q - q̄ (002 eq. (1) + μ y⁴/4).
    """
    named = dict(zip(NAMES, (float(v) for v in p)))   # the packed vector holds the parameter table's order
    lambda_x, g, lambda_q, mu = named["lambda_x"], named["g"], named["lambda_q"], named["mu"]
    x_bar, q_bar, beta, alpha = named["x_bar"], named["q_bar"], named["beta"], named["alpha"]
    slow_dt, noise_x, noise_q = epsilon * dt, np.sqrt(2.0 * dt / beta), np.sqrt(2.0 * epsilon * dt / alpha)
    y, d, force, term = work.y, work.d, work.force, work.term
    np.subtract(x, x_bar, out=y)
    np.subtract(q, q_bar, out=d)
    np.multiply(d, g, out=force)            # a y + μ y³ with a = λx + g d d
    force *= d
    force += lambda_x
    force *= y
    np.multiply(y, mu, out=term)
    term *= y
    term *= y
    force += term
    force *= dt
    np.multiply(z_x, noise_x, out=term)
    force -= term
    x -= force
    np.multiply(y, g, out=force)            # (g y y + λq) d
    force *= y
    force += lambda_q
    force *= d
    force *= slow_dt
    np.multiply(z_q, noise_q, out=term)
    force -= term
    q -= force


def numpy_langevin(p, dt, epsilon, x, q, rng: np.random.Generator, n_steps: int, thin: int, out_q, out_x) -> None:
    """``n_steps`` steps of every chain with normals from ``rng``, every ``thin``-th state into out_q, out_x rows."""
    work = LangevinBuffers(x.size)
    noise = np.empty((2, x.size))
    row = 0
    for n in range(n_steps):
        rng.standard_normal(out=noise)
        numpy_langevin_step(p, dt, epsilon, x, q, noise[0], noise[1], work)
        if (n + 1) % thin == 0 and row < out_q.shape[0]:
            out_q[row] = q
            out_x[row] = x
            row += 1
