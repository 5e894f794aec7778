"""Every solution of the saddle-point equations V = tanh(β(W V/N + h)) (001 slide 'More magic', ∂H^g/∂V = ∂H^g/∂U = 0).

All starts are solved together, as the columns of one (N, k) matrix, so that each product with the coupling
matrix is one matrix-matrix product (BLAS 3) instead of k matrix-vector products:

1. damped iteration V ← V - α (V - tanh(β(aV + h))), a = W_sym/N, from every start, until the residual is
   below ``switch_tolerance``: it contracts onto the locally stable solutions (where the eigenvalues of
   β D^{1/2} a D^{1/2}, D = diag(1 - V²), lie in (1 - 2/α, 1)); α is halved for a column whose residual
   oscillates; the iteration only picks the basin, so it stops early;
2. Newton–Krylov from the end points of 1 *and* from the raw starts: Newton steps J δ = -F with
   J = I - D β a, solved by a GMRES that runs all columns in lockstep (one product with a per iteration for
   all of them), with a backtracking line search on |F|. From the raw starts Newton also converges to the
   unstable solutions (the paramagnet below T_c, the middle root of a first-order region);
   the products of steps 1 and 2 that only steer (the damped iteration, the Jacobian products inside GMRES)
   may use a cheaper approximate product ``a_fast`` (single precision for large N): the residual F, which
   decides convergence, always uses the exact one, so the answer keeps double precision (inexact Newton);
3. the converged columns (max |F| ≤ ``tolerance``) are clustered: two solutions closer than ``distinct`` in
   max-norm are one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, ParameterError
from ..params import require_int, require_positive


@dataclass(frozen=True)
class SolverOptions:
    """Tolerances and budgets of :func:`find_saddle_points`."""

    damping: float = 1.0
    damped_iterations: int = 50
    switch_tolerance: float = 1e-1
    tolerance: float = 1e-12
    newton_iterations: int = 40
    gmres_restart: int = 30
    gmres_cycles: int = 8
    distinct: float = 1e-6

    def __post_init__(self):
        if not 0.0 < self.damping <= 1.0:
            raise ParameterError("damping", self.damping, "in (0, 1]")
        for name in ("switch_tolerance", "tolerance", "distinct"):
            require_positive(name, getattr(self, name))
        for name in ("damped_iterations", "newton_iterations", "gmres_restart", "gmres_cycles"):
            require_int(name, getattr(self, name), minimum=1)


def residual(a, h, beta, V):
    """F = V - tanh(β(aV + h)) and D = 1 - tanh²(β(aV + h)), for the columns of V; ``a(X)`` computes W_sym X/N."""
    t = np.tanh(beta * (a(V) + h[:, None]))
    return V - t, 1.0 - t * t


def damped_iteration(a, h, beta, V, options: SolverOptions):
    """V ← V - α_c F(V) on every column c until max |F| ≤ switch_tolerance (finished columns are frozen).

    α_c starts at ``damping`` and is halved (down to ``damping``/16) whenever F of column c flips direction
    (F_new · F_old < 0): the oscillation of the plain iteration where β D^{1/2} a D^{1/2} has eigenvalues
    below -1. A growing but not flipping F (the escape from an unstable solution) keeps α.
    """
    V = V.copy()
    active = np.arange(V.shape[1])
    alpha = np.full(V.shape[1], options.damping)
    previous = np.zeros_like(V)
    for _ in range(options.damped_iterations):
        F, _ = residual(a, h, beta, V[:, active])
        flipped = np.einsum("ik,ik->k", F, previous[:, active]) < 0.0
        alpha[active[flipped]] = np.maximum(0.5 * alpha[active[flipped]], options.damping / 16.0)
        previous[:, active] = F
        done = np.abs(F).max(axis=0) <= options.switch_tolerance
        V[:, active[~done]] -= alpha[active[~done]] * F[:, ~done]
        active = active[~done]
        if active.size == 0:
            break
    return V


def batched_gmres(matvec, rhs, rtol, restart: int, cycles: int):
    """Solve A_c x_c = rhs_c for every column c at once (restarted GMRES, Givens rotations, CGS2 orthogonalization).

    ``matvec`` maps an (N, k) block to (A_c x_c)_c; every column has its own Krylov space and Hessenberg
    matrix, but they share each call of ``matvec``. A column stops improving once |r_c| ≤ rtol_c |rhs_c|.
    """
    n, k = rhs.shape
    x = np.zeros_like(rhs)
    target = rtol * np.linalg.norm(rhs, axis=0)
    for cycle in range(cycles):
        r = rhs - matvec(x) if cycle else rhs.copy()
        r_norm = np.linalg.norm(r, axis=0)
        if np.all(r_norm <= target):
            break
        Q = np.zeros((restart + 1, n, k))
        H = np.zeros((restart + 1, restart, k))
        cs, sn = np.ones((restart, k)), np.zeros((restart, k))
        g = np.zeros((restart + 1, k))
        g[0] = r_norm
        Q[0] = r / np.where(r_norm > 0, r_norm, 1.0)
        steps = restart
        for i in range(restart):
            w = matvec(Q[i])
            for _ in range(2):  # classical Gram–Schmidt, twice
                coeff = np.einsum("jnk,nk->jk", Q[: i + 1], w)
                w -= np.einsum("jnk,jk->nk", Q[: i + 1], coeff)
                H[: i + 1, i] += coeff
            h_next = np.linalg.norm(w, axis=0)
            H[i + 1, i] = h_next
            Q[i + 1] = w / np.where(h_next > 0, h_next, 1.0)
            for j in range(i):
                upper = cs[j] * H[j, i] + sn[j] * H[j + 1, i]
                H[j + 1, i] = -sn[j] * H[j, i] + cs[j] * H[j + 1, i]
                H[j, i] = upper
            denom = np.hypot(H[i, i], H[i + 1, i])
            safe = denom > 0
            cs[i] = np.where(safe, H[i, i] / np.where(safe, denom, 1.0), 1.0)
            sn[i] = np.where(safe, H[i + 1, i] / np.where(safe, denom, 1.0), 0.0)
            H[i, i], H[i + 1, i] = denom, 0.0
            g[i + 1], g[i] = -sn[i] * g[i], cs[i] * g[i]
            if np.all(np.abs(g[i + 1]) <= target):
                steps = i + 1
                break
        R = H[:steps, :steps].transpose(2, 0, 1).copy()
        diagonal = np.einsum("kii->ki", R)
        diagonal[diagonal == 0.0] = 1.0  # columns that broke down (exactly solved) or had nothing to solve
        y = np.linalg.solve(R, g[:steps].T[..., None])[..., 0]
        x += np.einsum("jnk,kj->nk", Q[:steps], y)
    return x


def newton_krylov(a, h, beta, V, options: SolverOptions, a_fast=None):
    """Newton's method on F(V) = 0 for every column, with GMRES for the steps and a backtracking line search.

    ``a_fast`` (default ``a``) computes the Jacobian products. Returns the final V and max |F| per column
    (columns that stall keep their last iterate).
    """
    a_fast = a if a_fast is None else a_fast
    V = V.copy()
    F, D = residual(a, h, beta, V)
    norms = np.abs(F).max(axis=0)
    active = np.flatnonzero(norms > options.tolerance)
    for _ in range(options.newton_iterations):
        if active.size == 0:
            break
        Fa, Da = F[:, active], D[:, active]
        forcing = np.minimum(0.1, np.sqrt(np.linalg.norm(Fa, axis=0)))  # Eisenstat–Walker-style forcing term
        step = batched_gmres(lambda X, Da=Da: X - beta * Da * a_fast(X), -Fa, forcing,
                             options.gmres_restart, options.gmres_cycles)
        old = np.linalg.norm(Fa, axis=0)
        scale = np.ones(active.size)
        pending = np.arange(active.size)
        for _ in range(30):  # backtracking, halving the step of the columns that did not decrease |F|
            trial = np.clip(V[:, active[pending]] + scale[pending] * step[:, pending], -1.0, 1.0)
            F_trial, D_trial = residual(a, h, beta, trial)
            good = np.linalg.norm(F_trial, axis=0) <= (1.0 - 1e-4 * scale[pending]) * old[pending]
            accept = pending[good]
            columns = active[accept]
            V[:, columns], F[:, columns], D[:, columns] = trial[:, good], F_trial[:, good], D_trial[:, good]
            pending = pending[~good]
            if pending.size == 0:
                break
            scale[pending] *= 0.5
        norms[active] = np.abs(F[:, active]).max(axis=0)
        stalled = np.isin(np.arange(active.size), pending)
        active = active[(norms[active] > options.tolerance) & ~stalled]
    return V, norms


def distinct_columns(V, tolerance: float) -> np.ndarray:
    """Indices of the columns of V that differ (max-norm > tolerance) from every earlier kept column."""
    kept: list[int] = []
    for c in range(V.shape[1]):
        if not kept or np.abs(V[:, kept] - V[:, [c]]).max(axis=0).min() > tolerance:
            kept.append(c)
    return np.array(kept, dtype=np.int64)


def find_saddle_points(a, h, beta: float, starts, options: SolverOptions | None = None, a_fast=None):
    """All distinct solutions reached from ``starts`` (N, k): returns (solutions (N, m), max |F| (m,)).

    ``a`` is the product with W_sym/N (a callable on (N, k) blocks), ``a_fast`` an optional cheaper
    approximation of it for the steering products, ``h`` the field per site. Raises
    :class:`ConvergenceError` if no start converges.
    """
    options = options or SolverOptions()
    starts = np.asarray(starts, float)
    damped = damped_iteration(a if a_fast is None else a_fast, h, beta, starts, options)
    V, norms = newton_krylov(a, h, beta, np.hstack([damped, starts]), options, a_fast)
    converged = norms <= options.tolerance
    if not converged.any():
        raise ConvergenceError(f"no saddle point reached from {starts.shape[1]} starts at beta={beta}: "
                               f"smallest residual {norms.min():.3g} > tolerance {options.tolerance:g}")
    V, norms = V[:, converged], norms[converged]
    keep = distinct_columns(V, options.distinct)
    return V[:, keep], norms[keep]
