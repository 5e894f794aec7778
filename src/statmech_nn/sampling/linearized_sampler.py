"""Sampling the linearized network (002 §4): q by Langevin or MALA on p(q) ∝ exp(-αF(β, q)), x|q exact.

With x integrated out exactly (F of 002 eq. (16), log det by Cholesky, exact gradient), q follows the
slow dynamics of 002 §4 in its own time: dq = -∇F dt + √(2/α) dW, whose stationary density is eq. (18).

- ``langevin``: the unadjusted Euler–Maruyama chain q' = q - dt ∇F(q) + √(2dt/α) ξ (biased at O(dt));
- ``mala``: the same proposal with a Metropolis–Hastings correction (exact for any dt).

At every recorded step x is drawn exactly from p(x|q) = N(x̄, (β(Ĝ + V̂_x))⁻¹), x = x̄ + L⁻ᵀz/√β, from the
chain's own RNG stream. Chains start at q₀ ~ N(q̄, (αV̂_q)⁻¹), the large-scale Gaussian of eq. (19).
For K ≤ 3 the run is compared with the quadrature reference (:mod:`statmech_nn.linearized.reference`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..io import Trajectory
from ..linearized import LinearizedModel, compare_expansion, eigen_expansion, load_model, reference_marginals
from ..linearized.local_equilibrium import cholesky_in_place, fill_precision, free_energy_and_gradient
from ..linearized.reference import MAX_K
from ..params import require_positive
from .chains import ChainRun, RunLength, run_blocks
from ..rng import chain_states, normal, uniform_open
from .summary import Reference, summarize

LINEARIZED_METHODS = ("mala", "langevin")
# Default step and run length per method, chosen so that the default run of models/linearized_small.toml
# (256 chains) is reliable: converged (>= 50 tau, R-hat <= 1.01) and unbiased against the quadrature
# (summary.py). MALA is exact for any dt. Unadjusted Langevin is biased at O(dt): at dt = 0.2 its
# <(q - q_bar)^2> is 7-9 % high (z = 10-13, KS 0.054 against a critical 0.011); at dt = 0.02 the bias is
# below the noise (z = 0.3, -1.3, 2.6 and KS 0.006-0.007 < 0.011 for seeds 0-2), and the chain, ten times
# slower in q's time, needs 200000 steps to converge.
LINEARIZED_DEFAULTS = {"mala": {"dt": 0.2, "steps": 20_000}, "langevin": {"dt": 0.02, "steps": 200_000}}


@numba.njit(cache=True, parallel=True)
def linearized_kernel(base, rows, cols, slopes, v_x, v_q, q_bar, x_bar, beta, alpha, dt, adjust, q, states,
                      accepted, n_steps, thin, out_q, out_x, status):
    """Advance every chain by ``n_steps`` Langevin (``adjust`` False) or MALA (True) steps on exp(-αF)."""
    n = base.shape[0]
    k = q.shape[1]
    noise = np.sqrt(2.0 * dt / alpha)
    rows_out = out_q.shape[0]
    for c in numba.prange(q.shape[0]):
        A = np.empty((n, n))
        M = np.empty((n, n))
        row = np.empty(n)
        z = np.empty(n)
        current = q[c].copy()
        proposal = np.empty(k)
        gradient = np.empty(k)
        gradient_new = np.empty(k)
        free = free_energy_and_gradient(current, base, rows, cols, slopes, v_x, v_q, q_bar, beta, A, M, row, z,
                                        gradient)
        countdown = thin
        record = 0
        for step in range(n_steps):
            for i in range(k):
                xi = normal(states, c)
                proposal[i] = current[i] - dt * gradient[i] + noise * xi
            free_new = free_energy_and_gradient(proposal, base, rows, cols, slopes, v_x, v_q, q_bar, beta, A, M, row,
                                                z, gradient_new)
            if not np.isfinite(free_new):
                status[c] = step + 1
                break
            accept = True
            if adjust:
                # log π(q') q(q|q') - log π(q) q(q'|q), with q(b|a) ∝ exp(-α |b - a + dt ∇F(a)|² / (4 dt))
                forward = 0.0
                backward = 0.0
                for i in range(k):
                    f = proposal[i] - current[i] + dt * gradient[i]
                    b = current[i] - proposal[i] + dt * gradient_new[i]
                    forward += f * f
                    backward += b * b
                log_ratio = -alpha * (free_new - free) - alpha * (backward - forward) / (4.0 * dt)
                u = uniform_open(states, c)
                accept = np.log(u) < log_ratio
            if accept:
                for i in range(k):
                    current[i] = proposal[i]
                    gradient[i] = gradient_new[i]
                free = free_new
                accepted[c] += 1
            countdown -= 1
            if countdown == 0:
                countdown = thin
                if record < rows_out:
                    fill_precision(current, base, rows, cols, slopes, v_x, A, M)
                    cholesky_in_place(M)
                    # y = L⁻ᵀ ζ / √β: back substitution with Lᵀ
                    for i in range(n):
                        zeta = normal(states, c)
                        z[i] = zeta / np.sqrt(beta)
                    for i in range(n - 1, -1, -1):
                        total = z[i]
                        for m in range(i + 1, n):
                            total -= M[m, i] * out_x[record, c, m]
                        out_x[record, c, i] = total / M[i, i]
                    for i in range(n):
                        out_x[record, c, i] += x_bar[i]
                    for i in range(k):
                        out_q[record, c, i] = current[i]
                    record += 1
        for i in range(k):
            q[c, i] = current[i]


def sample_linearized_chains(model: LinearizedModel, method: str, *, dt: float, chains: int, steps: int, seed,
                             burn_in: int | None = None, thin: int | None = None,
                             progress: bool | None = None, store=None) -> ChainRun:
    """Langevin or MALA chains on p(q) of the linearized network, with exact x|q at the recorded steps.

    ``store``: a :class:`~statmech_nn.sampling.chain_store.ChainStore` to stream into (and resume from).
    """
    if method not in LINEARIZED_METHODS:
        raise ParameterError("method", method, "one of " + ", ".join(LINEARIZED_METHODS))
    dt = require_positive("dt", dt)
    length = RunLength.of(chains, steps, burn_in, thin)
    init_seq, chain_seq = np.random.SeedSequence(seed).spawn(2)
    width = 1.0 / np.sqrt(model.alpha * model.v_q)
    q = model.q_bar + width * np.random.default_rng(init_seq).standard_normal((length.chains, model.n_trainable))
    states = chain_states(chain_seq, length.chains)
    accepted = np.zeros(length.chains, np.int64)
    base, rows, cols, slopes, v_x, v_q, q_bar, beta = model.kernel_arguments()

    def kernel(n_steps, step_thin, out_q, out_x, status):
        linearized_kernel(base, rows, cols, slopes, v_x, v_q, q_bar, model.x_bar, beta, model.alpha, dt,
                          method == "mala", q, states, accepted, n_steps, step_thin, out_q, out_x, status)

    done = run_blocks(kernel, length, model.n_trainable, model.n_neurons, desc=method, progress=progress,
                      state={"q": q, "states": states, "accepted": accepted}, store=store)
    return ChainRun(q=done.q, x=done.x, t=done.t, method=method, length=length, elapsed_s=done.elapsed_s,
                    steps_run=done.steps_run,
                    settings={"dt": dt, "seed": seed, "integrator": "euler-maruyama"},
                    stats={"acceptance": float(accepted.sum() / (length.chains * length.steps))})


@dataclass
class LinearizedResult:
    """A linearized-network run: samples, Trajectory, summary, eq. (19)-(21) comparison, run parameters."""

    run: ChainRun
    trajectory: Trajectory
    summary: dict
    expansion: xr.Dataset
    parameters: dict


def sample_linearized(model, method: str, *, dt: float, chains: int, steps: int, seed, burn_in: int | None = None,
                      thin: int | None = None, progress: bool | None = None, store=None) -> LinearizedResult:
    """Sample a model (or a spec file path), summarize against the quadrature reference (K ≤ 3), compare eq. (21)."""
    if not isinstance(model, LinearizedModel):
        model = load_model(model)
    run = sample_linearized_chains(model, method, dt=dt, chains=chains, steps=steps, seed=seed, burn_in=burn_in,
                                   thin=thin, progress=progress, store=store)
    reference = None
    if model.n_trainable <= MAX_K:
        marginals = reference_marginals(model)
        reference = Reference(q2=marginals.second_moment,
                              cdfs=[marginals.cdf(k) for k in range(model.n_trainable)])
    summary = summarize(run, model.q_bar, reference)
    expansion = compare_expansion(model, seed=seed)
    summary["expansion"] = _expansion_summary(model, expansion, run)
    trajectory = run.to_trajectory(source=f"sampler:linearized:{method}", parameters=model.to_dict(),
                                   names=model.names, seed=seed, metadata={"model_name": model.name})
    parameters = {"model": model.to_dict(), "method": method, **run.settings, **run.length.to_dict()}
    return LinearizedResult(run, trajectory, summary, expansion, parameters)


def _expansion_summary(model: LinearizedModel, expansion: xr.Dataset, run: ChainRun) -> dict:
    """Per-mode exponents and crossovers, the median failure radius of eq. (21), and its error at the samples."""
    eigen = eigen_expansion(model)
    samples = run.q.reshape(-1, model.n_trainable)
    exact = model.log_density(samples) - model.log_density(model.q_bar)
    errors = {}
    for name, linear in (("eq21", False), ("taylor2", True)):
        approx = eigen.log_density(samples, linear) - eigen.log_density(model.q_bar, linear)
        error = np.abs(approx - exact)
        errors[name] = {"median_abs_error_at_samples": float(np.nanmedian(error)),
                        "fraction_undefined_at_samples": float(np.mean(np.isnan(approx))),
                        "median_failure_radius": float(np.median(expansion[f"failure_radius_{name}"].values))}
    return {"exponent_per_mode": eigen.exponent, "lambda0": eigen.lambda0.tolist(),
            "crossover_radius": eigen.crossover_radius().tolist(),
            "gradient_norm": np.linalg.norm(eigen.gradient, axis=1).tolist(),
            "tolerance_nats": expansion.attrs["tolerance_nats"], **errors}
