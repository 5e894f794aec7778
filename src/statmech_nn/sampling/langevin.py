"""Two-timescale Langevin dynamics of the quartic toy model (002 §2), many chains in parallel in numba.

The fast non-trainable x equilibrates at inverse temperature β, the slow trainable q at α
(002 eqs. (3), (5)-(6)):

    dx = -∂ₓH dt + √(2/β) dW₁,        dq = -ε ∂_qH dt + √(2ε/α) dW₂,        ε ≪ 1.

For ε → 0, q sees x averaged over p(x|q), i.e. the force -ε ∂_qF(β, q), so q's stationary marginal tends
to p(q) ∝ exp(-αF(β, q)); at finite ε and step dt it is biased (measured by
:mod:`statmech_nn.scan.langevin_bias`). With β = α the joint stationary density is exp(-βH) for any ε.

Discretization (default): Euler–Maruyama with one step dt for both (x and q updated simultaneously from
the old state): x' = x - dt ∂ₓH + √(2dt/β) ξ₁, q' = q - ε dt ∂_qH + √(2ε dt/α) ξ₂, ξ standard normal
from each chain's own xoshiro256++ stream (:mod:`statmech_nn.rng`): the same seed gives the
same bits for any number of threads. Euler overestimates ⟨(x-x̄)²⟩ at fixed q by 1/(1 - a dt/2)
(a = λx + g(q-q̄)²), which biases q's marginal at O(dt). ``integrator="exponential"`` removes that
part: x moves by the exact Ornstein–Uhlenbeck transition of its linear force (exponential Euler, exact
at fixed q when μ = 0), q still by Euler (its own bias is O(ε dt)).

Kernels (BlackJAX-like): :func:`langevin_update` is the pure step of one chain, fed its two standard normals;
:func:`langevin_step` applies it to every chain with the noise passed in as an array (the entry point of the
bit-for-bit NumPy reference in the tests); :func:`quartic_langevin_kernel` is the run kernel that draws the
noise from each chain's stream and calls the same update. Forces come from the model
(:mod:`statmech_nn.quartic.hamiltonian`); the run loop and run record are :mod:`.chains`'.

A chain that leaves the finite numbers (dt too large for the stiffness λx + g (q - q̄)² or μ x²) raises
:class:`~statmech_nn.errors.ConvergenceError`, never NaNs: the state is checked at every recorded step
and at the end of every block (inf and NaN persist once reached).
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import ParameterError
from ..params import require_positive
from ..rng import normal
from ..quartic import QuarticModel
from ..quartic.hamiltonian import ALPHA, BETA, Q_BAR, X_BAR, q_force, x_anharmonic_force, x_curvature, x_force
from .chains import ChainRun, RunLength, run_blocks
from .quartic_setup import initial_state, require_marginal

# |x| or |q| beyond this counts as diverged (an unstable Euler step grows geometrically past it)
DIVERGENCE_BOUND = 1e100
# chains stepped together by one thread (independent updates the CPU can overlap)
LANES = 8
INTEGRATORS = {"euler": "euler-maruyama", "exponential": "exponential-euler (x), euler-maruyama (q)"}


@numba.njit(cache=True)
def _exponential_step(y, a, anharmonic, dt, beta, z):
    """y' = e^{-a dt} y - φ₁(a dt) dt r + √((1 - e^{-2a dt})/(βa)) z, φ₁(h) = (1 - e^{-h})/h.

    The exact Ornstein–Uhlenbeck transition of the linear force -a y (any sign of a), with the
    anharmonic force r = μ y³ held fixed over the step (exponential Euler). Exact in x at fixed q when μ = 0.
    """
    h = a * dt
    decay = np.expm1(-h)                       # e^{-h} - 1; 1 - e^{-2h} = -decay (2 + decay)
    if abs(h) < 1e-8:
        phi = 1.0 - 0.5 * h
        variance = 2.0 * dt * (1.0 - h) / beta
    else:
        phi = -decay / h
        variance = -decay * (2.0 + decay) / (beta * a)
    return (1.0 + decay) * y - phi * dt * anharmonic + np.sqrt(variance) * z


@numba.njit(inline="always")
def langevin_update(p, dt, slow_dt, noise_x, noise_q, exponential, x, q, z_x, z_q):
    """One step of one chain, (x, q) -> (x', q'), both from the old state (pure; z_x, z_q standard normals).

    x' = x - (dt ∂ₓH - noise_x z_x) (or exponential Euler), q' = q - (ε dt ∂_qH - noise_q z_q), with
    noise_x = √(2dt/β), noise_q = √(2ε dt/α) (:func:`step_scales`).
    """
    y = x - p[X_BAR]
    d = q - p[Q_BAR]
    if exponential:
        x_new = p[X_BAR] + _exponential_step(y, x_curvature(p, d), x_anharmonic_force(p, y), dt, p[BETA], z_x)
    else:
        x_new = x - (dt * x_force(p, y, d) - noise_x * z_x)
    return x_new, q - (slow_dt * q_force(p, y, d) - noise_q * z_q)


@numba.njit(inline="always")
def step_scales(p, dt, epsilon):
    """(ε dt, √(2dt/β), √(2ε dt/α)): the slow step and the noise amplitudes of x and q."""
    return epsilon * dt, np.sqrt(2.0 * dt / p[BETA]), np.sqrt(2.0 * epsilon * dt / p[ALPHA])


@numba.njit(cache=True)
def langevin_step(p, dt, epsilon, exponential, x, q, noise):
    """Every chain one step with the noise given: ``noise`` (chains, 2) holds (z_x, z_q) per chain; new (x, q)."""
    slow_dt, noise_x, noise_q = step_scales(p, dt, epsilon)
    x_new = np.empty_like(x)
    q_new = np.empty_like(q)
    for c in range(x.shape[0]):
        x_new[c], q_new[c] = langevin_update(p, dt, slow_dt, noise_x, noise_q, exponential, x[c], q[c],
                                             noise[c, 0], noise[c, 1])
    return x_new, q_new


@numba.njit(cache=True)
def _diverged(xs, qs, lanes, status, first, step):
    """Mark chains whose state is no longer finite (status = the step where it was found); True if any."""
    found = False
    for lane in range(lanes):
        if not (abs(xs[lane]) < DIVERGENCE_BOUND and abs(qs[lane]) < DIVERGENCE_BOUND):
            status[first + lane] = step
            found = True
    return found


@numba.njit(cache=True, parallel=True)
def quartic_langevin_kernel(p, dt, epsilon, exponential, x, q, states, n_steps, thin, out_q, out_x, status):
    """Advance every chain by ``n_steps`` steps of :func:`langevin_update`, its two normals (z_x, then z_q)
    drawn from the chain's stream; record every ``thin``-th state (see run_blocks).

    Chains go in groups of ``LANES``, stepped together: their updates are independent, so the CPU overlaps
    them instead of waiting on one chain's serial dependency (a ~3x gain over one chain at a time).
    """
    slow_dt, noise_x, noise_q = step_scales(p, dt, epsilon)
    rows = out_q.shape[0]
    n_chains = x.shape[0]
    for group in numba.prange((n_chains + LANES - 1) // LANES):
        first = group * LANES
        lanes = min(LANES, n_chains - first)
        xs = x[first:first + lanes].copy()
        qs = q[first:first + lanes].copy()
        st = states[first:first + lanes].copy()
        countdown = thin
        row = 0
        for n in range(n_steps):
            for lane in range(lanes):
                z_x = normal(st, lane)
                z_q = normal(st, lane)
                xs[lane], qs[lane] = langevin_update(p, dt, slow_dt, noise_x, noise_q, exponential, xs[lane],
                                                     qs[lane], z_x, z_q)
            countdown -= 1
            if countdown == 0 or n == n_steps - 1:
                # a diverged chain reaches inf or NaN and stays there: checking here catches every one
                if _diverged(xs, qs, lanes, status, first, n + 1):
                    break
                if countdown == 0:
                    countdown = thin
                    if row < rows:
                        for lane in range(lanes):
                            out_q[row, first + lane, 0] = qs[lane]
                            out_x[row, first + lane, 0] = xs[lane]
                        row += 1
        x[first:first + lanes] = xs
        q[first:first + lanes] = qs
        states[first:first + lanes] = st


def sample_quartic_langevin(model: QuarticModel, *, epsilon: float, dt: float, chains: int, steps: int,
                            seed, burn_in: int | None = None, thin: int | None = None,
                            integrator: str = "euler", progress: bool | None = None, store=None) -> ChainRun:
    """Run ``chains`` two-timescale Langevin chains of ``steps`` steps each (burn-in included).

    ``integrator``: "euler" (Euler–Maruyama) or "exponential" (x by exponential Euler, q by Euler).
    Raises NotNormalizableError up front when p(q) does not exist (e.g. μ = 0 with λx < 0, where the
    x-dynamics diverges), and ConvergenceError if a chain diverges (reduce ``dt``). ``store``: a
    :class:`~statmech_nn.sampling.chain_store.ChainStore` to stream into (and resume from).
    """
    epsilon = require_positive("epsilon", epsilon)
    dt = require_positive("dt", dt)
    if integrator not in INTEGRATORS:
        raise ParameterError("integrator", integrator, "one of " + ", ".join(INTEGRATORS))
    exponential = integrator == "exponential"
    length = RunLength.of(chains, steps, burn_in, thin)
    require_marginal(model)
    x, q, states = initial_state(model, length.chains, seed)
    p = model.packed()

    def kernel(n_steps, step_thin, out_q, out_x, status):
        quartic_langevin_kernel(p, dt, epsilon, exponential, x, q, states, n_steps, step_thin, out_q, out_x, status)

    done = run_blocks(kernel, length, 1, 1, desc="langevin", progress=progress,
                      state={"x": x, "q": q, "states": states}, store=store)
    return ChainRun(q=done.q, x=done.x, t=done.t, method="langevin", length=length, elapsed_s=done.elapsed_s,
                    steps_run=done.steps_run,
                    settings={"epsilon": epsilon, "dt": dt, "integrator": INTEGRATORS[integrator], "seed": seed})
