"""The quartic model's physics for numba kernels, written once: H, its forces, and F (002 eqs. (1), (4)).

With y = x - x̄ and d = q - q̄ (002 eq. (1) plus our μ term),

    H = a(d) y²/2 + μ y⁴/4 + λq d²/2,      a(d) = λx + g d²          (the curvature of H in x at fixed q)
    ∂ₓH = a(d) y + μ y³,                    ∂_qH = c(y) d,   c(y) = g y² + λq   (the curvature in q at fixed x)
    F(β, q) = λq d²/2 - (1/β) log ∫ exp(-βH) dx                     (exact, :func:`.free_energy.free_energy_scalar`)

Kernels read the parameters from one packed float64 vector (:meth:`QuarticModel.packed
<statmech_nn.quartic.model.QuarticModel.packed>`, in the table's order, :func:`.parameters.packed`) at the positions
:data:`LAMBDA_X` ... (looked up by name in :data:`.parameters.INDEX`). Samplers
(:mod:`statmech_nn.sampling.langevin`, :mod:`statmech_nn.sampling.metropolis`) take their forces, energies and
free energies from here, so the model's physics lives in one place. The NumPy faces (:meth:`QuarticModel.energy`)
are these functions broadcast.
"""

from __future__ import annotations

import numba

from .free_energy import free_energy_scalar
from .parameters import INDEX

# where the kernels find each parameter in the packed vector (numba reads these as compile-time constants)
LAMBDA_X, G, LAMBDA_Q, ALPHA = INDEX["lambda_x"], INDEX["g"], INDEX["lambda_q"], INDEX["alpha"]
BETA, MU, X_BAR, Q_BAR = INDEX["beta"], INDEX["mu"], INDEX["x_bar"], INDEX["q_bar"]


@numba.njit(inline="always")
def energy_scalar(y, d, lambda_x, g, lambda_q, mu):
    """H at y = x - x̄, d = q - q̄ (002 eq. (1) + μ y⁴/4)."""
    y2 = y * y
    return 0.5 * (lambda_x + g * d * d) * y2 + 0.25 * mu * y2 * y2 + 0.5 * lambda_q * d * d


@numba.njit(inline="always")
def energy(p, y, d):
    """H(y, d) with the packed parameters ``p``."""
    return energy_scalar(y, d, p[LAMBDA_X], p[G], p[LAMBDA_Q], p[MU])


@numba.njit(inline="always")
def x_curvature(p, d):
    """a(d) = λx + g d²: the linear part of the force on x (the exponential integrator steps it exactly)."""
    return p[LAMBDA_X] + p[G] * d * d


@numba.njit(inline="always")
def x_anharmonic_force(p, y):
    """μ y³: the nonlinear part of the force on x."""
    return p[MU] * y * y * y


@numba.njit(inline="always")
def x_force(p, y, d):
    """∂ₓH = a(d) y + μ y³."""
    return x_curvature(p, d) * y + x_anharmonic_force(p, y)


@numba.njit(inline="always")
def q_curvature(p, y):
    """c(y) = g y² + λq: ∂_qH / d, the curvature of H in q at fixed x."""
    return p[G] * y * y + p[LAMBDA_Q]


@numba.njit(inline="always")
def q_force(p, y, d):
    """∂_qH = c(y) d."""
    return q_curvature(p, y) * d


@numba.njit(inline="always")
def free_energy(p, d):
    """F(β, q̄ + d) with the exact log Z (002 eq. (4) without approximation)."""
    return free_energy_scalar(d * d, p[LAMBDA_X], p[G], p[LAMBDA_Q], p[BETA], p[MU])


energy_ufunc = numba.vectorize(["float64(" + ", ".join(["float64"] * 6) + ")"], cache=True)(energy_scalar)
energy_ufunc.__doc__ = "energy_ufunc(y, d, lambda_x, g, lambda_q, mu) = H, broadcasting (002 eq. (1) + μ y⁴/4)."
