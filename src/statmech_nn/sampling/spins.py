"""Heat-bath Monte Carlo of Ising spins s_i = ±1 (001): the third, independent estimate beside exact sums and mean
field.

The models' physics comes from the model objects of :mod:`statmech_nn.meanfield`:

- Curie–Weiss (:class:`~statmech_nn.meanfield.CurieWeiss`), H = -(J/2N) M² - b M: the heat-bath probability of
  s_i = +1 given the others is 1/(1 + e^{-2βφ}) with the local field φ = :meth:`CurieWeiss.local_field
  <statmech_nn.meanfield.CurieWeiss.local_field>` (M_{≠i}/N), tabulated over M_{≠i}: O(1) per update; the energy
  per spin of each recorded sweep is
  :meth:`CurieWeiss.energy_per_spin <statmech_nn.meanfield.CurieWeiss.energy_per_spin>`;
- general couplings (:class:`~statmech_nn.meanfield.GeneralCouplings`), H = -(1/2N) Σ_ij W_ij s_i s_j - Σ_i h_i s_i:
  the local field φ_i = Σ_{j≠i} W_ij s_j/N + h_i is kept in a vector updated on each flip (O(N) per flip,
  O(1) per rejected change), with the model's symmetrized W and field h.

Kernels (BlackJAX-like, as the samplers of p(x, q)): :func:`curie_weiss_sweep` and :func:`couplings_sweep` are
the pure sweeps of one chain fed N uniforms; the run kernels draw those uniforms from each chain's stream of
:mod:`statmech_nn.rng` (the same seed gives the same bits whatever the thread count) and record m = M/N (and
H/N) after each sweep. The run loop is :func:`statmech_nn.sampling.chains.run_blocks` and the run record its
:class:`~statmech_nn.sampling.chains.ChainRun` (``MonteCarloEstimate.run``).

Sweeps are sequential (site 0..N-1), which satisfies balance for the heat bath. Errors are jackknife
estimates over batches at least four integrated autocorrelation times long (τ from the shared estimator
:func:`statmech_nn.autocorrelation.integrated_time`, Sokal's automatic window), so that they stay honest near
T_c, where the chains slow down; a run shorter than ``LENGTH_FACTOR`` τ is not ``reliable``. The free energy,
which no single chain measures, comes from thermodynamic integration over β: βf(β) = -ln 2 + ∫₀^β <H>_β'/N dβ'
(at β = 0 every one of the 2^N states is equally likely), by Gauss–Legendre quadrature with one extra chain
per node, split at β_c when it is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from ..autocorrelation import LENGTH_FACTOR, integrated_time
from ..errors import ParameterError
from ..meanfield.curie_weiss import CurieWeiss
from ..meanfield.hs import GeneralCouplings
from ..params import require_int, require_positive, rng_from
from ..rng import chain_states, uniform
from .chains import ChainRun, RunLength, run_blocks

BATCHES = 20
QUADRATURE_NODES = 16
AUTO_UPDATES = 400_000_000  # spin updates of a run with sweeps=None


@numba.njit(inline="always")
def curie_weiss_sweep(s, p_up, total, u):
    """One sequential heat-bath sweep of a Curie–Weiss chain in place; returns the new M = Σs.

    ``p_up[M_{≠i} + N]`` is the probability of s_i = +1; ``u`` holds N uniforms on [0, 1).
    """
    n = s.shape[0]
    for i in range(n):
        new = 1 if u[i] < p_up[total - s[i] + n] else -1
        total += new - s[i]
        s[i] = new
    return total


@numba.njit(cache=True, parallel=True)
def curie_weiss_kernel(spins, betas, fields, states, n_steps, thin, out_q, out_x, status):
    """``n_steps`` sweeps of every chain; m = M/N after every ``thin``-th into ``out_q[row, c, 0]``.

    ``fields[r]`` is the local field at M_{≠i} = r - N (the model's); the heat-bath table is built once per chain.
    """
    chains, n = spins.shape
    rows = out_q.shape[0]
    for c in numba.prange(chains):
        s, beta = spins[c], betas[c]
        p_up = 1.0 / (1.0 + np.exp(-2.0 * beta * fields))
        u = np.empty(n)
        total = 0
        for i in range(n):
            total += s[i]
        countdown = thin
        row = 0
        for _t in range(n_steps):
            for i in range(n):
                u[i] = uniform(states, c)
            total = curie_weiss_sweep(s, p_up, total, u)
            countdown -= 1
            if countdown == 0:
                countdown = thin
                if row < rows:
                    out_q[row, c, 0] = total / n
                    row += 1


@numba.njit(inline="always")
def couplings_sweep(a, h, beta, s, fields, u):
    """One sequential heat-bath sweep in place with couplings a = W_sym/N and field h; ``fields`` = a @ s is kept
    up to date on every flip; ``u`` holds N uniforms on [0, 1)."""
    n = s.shape[0]
    for i in range(n):
        phi = fields[i] - a[i, i] * s[i] + h[i]
        new = 1 if u[i] * (1.0 + np.exp(-2.0 * beta * phi)) < 1.0 else -1
        if new != s[i]:
            d = float(new - s[i])
            row = a[i]
            for k in range(n):
                fields[k] += row[k] * d
            s[i] = new


@numba.njit(cache=True, parallel=True)
def couplings_kernel(a, h, spins, betas, states, site_sum, site_m_sum, n_steps, thin, out_q, out_x, status):
    """``n_steps`` sweeps of every chain; after every ``thin``-th, (m, H/N) into ``out_q[row, c]`` and, while rows
    are recorded, Σ s_i and Σ s_i m into ``site_sum``, ``site_m_sum``. The local fields a @ s are computed afresh
    at each call (no drift from the incremental updates)."""
    chains, n = spins.shape
    rows = out_q.shape[0]
    for c in numba.prange(chains):
        s, beta = spins[c], betas[c]
        fields = np.zeros(n)
        u = np.empty(n)
        for k in range(n):
            row_a = a[k]
            total = 0.0
            for j in range(n):
                total += row_a[j] * s[j]
            fields[k] = total
        countdown = thin
        row = 0
        for _t in range(n_steps):
            for i in range(n):
                u[i] = uniform(states, c)
            couplings_sweep(a, h, beta, s, fields, u)
            countdown -= 1
            if countdown == 0:
                countdown = thin
                if row < rows:
                    total = 0.0
                    energy = 0.0
                    for k in range(n):
                        total += s[k]
                        energy -= s[k] * (0.5 * fields[k] + h[k])
                    m = total / n
                    out_q[row, c, 0] = m
                    out_q[row, c, 1] = energy / n
                    for k in range(n):
                        site_sum[c, k] += s[k]
                        site_m_sum[c, k] += s[k] * m
                    row += 1


@dataclass(frozen=True)
class MonteCarloEstimate:
    """Monte Carlo averages with jackknife standard errors over batches (``*_err``).

    ``m``: <Σs>/N; ``m_abs``: <|Σs|>/N; ``chi``: Nβ(<m²> - <m>²); ``energy_per_spin``: <H>/N; ``tau``: the
    integrated autocorrelation time in sweeps (``reliable`` when the run is at least ``LENGTH_FACTOR`` τ long);
    ``free_energy_per_spin``: by thermodynamic integration (None when not asked for); ``sites``: <s_i> and
    ``site_chi``: β N cov(s_i, m) = ∂<s_i>/∂h (general couplings only); ``m_series``: (chains, sweeps) at β;
    ``run``: the run record (every chain, the quadrature chains included).
    """

    beta: float
    n: int
    m: float
    m_err: float
    m_abs: float
    m_abs_err: float
    chi: float
    chi_err: float
    energy_per_spin: float
    energy_err: float
    tau: float
    m_series: np.ndarray = field(repr=False)
    free_energy_per_spin: float | None = None
    free_energy_err: float | None = None
    sites: np.ndarray | None = field(default=None, repr=False)
    site_chi: np.ndarray | None = field(default=None, repr=False)
    run: ChainRun | None = field(default=None, repr=False)

    @property
    def reliable(self) -> bool:
        """At least ``LENGTH_FACTOR`` (50) autocorrelation times recorded per chain (the samplers' rule, emcee's)."""
        return self.m_series.shape[1] >= LENGTH_FACTOR * self.tau

    def observables(self) -> dict[str, float]:
        """m, <|m|>, χ and the free energy per spin: the keys of the models' ``observables``."""
        return {"m": self.m, "m_abs": self.m_abs, "chi": self.chi, "free_energy_per_spin": self.free_energy_per_spin}

    def summary(self) -> dict:
        """The scalar estimates, their errors and the autocorrelation diagnostics."""
        keys = ("m", "m_err", "m_abs", "m_abs_err", "chi", "chi_err", "energy_per_spin", "energy_err",
                "free_energy_per_spin", "free_energy_err", "tau", "reliable")
        return {key: getattr(self, key) for key in keys}


def _sweeps_tau(series: np.ndarray) -> float:
    """τ in sweeps of a (chains, sweeps) series (:func:`statmech_nn.autocorrelation.integrated_time`; the
    run's own ``reliable`` flag, not a warning, reports a run shorter than ``LENGTH_FACTOR`` τ)."""
    return integrated_time(series.T, tol=0.0)


def _batch_means(series: np.ndarray, statistic, tau: float) -> tuple[float, float]:
    """``statistic`` over the whole (chains, sweeps) series, and its jackknife standard error over batches.

    A batch is at least 4τ sweeps of one chain (at most ``BATCHES`` per chain, at least 2), so that batches are
    nearly independent even when the chain is slow, as near T_c; leaving one batch out at a time keeps the
    error of a nonlinear statistic (the variance behind χ) free of the short-batch bias.
    """
    chains, sweeps = series.shape
    per_chain = int(np.clip(sweeps // max(4.0 * tau, 1.0), 2, BATCHES))
    length = sweeps // per_chain
    blocks = series[:, sweeps - per_chain * length:].reshape(chains * per_chain, length)
    count = blocks.shape[0]
    leave_one_out = np.broadcast_to(blocks, (count,) + blocks.shape)[~np.eye(count, dtype=bool)]
    values = statistic(leave_one_out.reshape(count, (count - 1) * length))
    error = np.sqrt((count - 1) / count * np.sum((values - values.mean()) ** 2))
    return float(statistic(series.reshape(1, -1))[0]), float(error)


def _initial_spins(initial, chains: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(initial, str):
        if initial == "up":
            return np.ones((chains, n), np.int8)
        if initial == "down":
            return -np.ones((chains, n), np.int8)
        if initial == "random":
            return rng.choice(np.array([-1, 1], np.int8), size=(chains, n))
        raise ParameterError("initial", initial, "'up', 'down', 'random' or an array of ±1 spins")
    spins = np.asarray(initial)
    if spins.shape[-1] != n or not np.isin(spins, (-1, 1)).all():
        raise ParameterError("initial", f"array of shape {spins.shape}", f"±1 spins with last axis of length {n}")
    return np.ascontiguousarray(np.broadcast_to(spins, (chains, n)), dtype=np.int8)


def _starting_states(initial, betas, chains: int, critical_beta, n: int, rng) -> np.ndarray:
    """``initial`` for the chains at β and for the quadrature chains in the ordered phase; the quadrature chains
    above T_c (β < β_c) start at random, in the paramagnet they sample."""
    spins = _initial_spins(initial, betas.size, n, rng)
    hot = np.flatnonzero((np.arange(betas.size) >= chains) & (betas < (critical_beta or np.inf)))
    spins[hot] = _initial_spins("random", hot.size, n, rng)
    return spins


def _schedule(beta: float, chains: int, free_energy: bool, critical_beta: float | None = None):
    """Inverse temperatures of every chain: ``chains`` at β, then one per quadrature node on [0, β], and the weights.

    When the critical point β_c lies inside (0, β), where <H>/N has a kink as N → ∞, the nodes are split
    between [0, β_c] and [β_c, β] (half on each), so that each Gauss–Legendre rule integrates a smooth piece.
    """
    if not free_energy:
        return np.full(chains, beta), None
    pieces = [(0.0, beta)]
    if critical_beta is not None and 0.0 < critical_beta < beta:
        pieces = [(0.0, critical_beta), (critical_beta, beta)]
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES // len(pieces))
    betas = [0.5 * (hi - lo) * (nodes + 1.0) + lo for lo, hi in pieces]
    return (np.concatenate([np.full(chains, beta), *betas]),
            np.concatenate([0.5 * (hi - lo) * weights for lo, hi in pieces]))


def _validate_run(sweeps, burn_in, chains, n: int, free_energy: bool):
    """Validated (sweeps, burn_in, chains); ``sweeps=None`` spends about ``AUTO_UPDATES`` spin updates in all
    (between 100 and 2000 sweeps per chain), ``burn_in=None`` a tenth of the sweeps."""
    chains = require_int("chains", chains, minimum=1)
    if sweeps is None:
        total_chains = chains + (QUADRATURE_NODES if free_energy else 0)
        sweeps = int(np.clip(AUTO_UPDATES // (n * total_chains), 100, 2000))
    sweeps = require_int("sweeps", sweeps, minimum=2 * BATCHES)
    burn_in = sweeps // 10 if burn_in is None else require_int("burn_in", burn_in, minimum=0)
    return sweeps, burn_in, chains


def _run(kernel, n_chains: int, sweeps: int, burn_in: int, records: int, progress: bool, label: str,
         state: dict, settings: dict) -> ChainRun:
    """Drive ``kernel`` through burn-in and ``sweeps`` recorded sweeps (one record per sweep) by the shared loop."""
    length = RunLength.of(n_chains, burn_in + sweeps, burn_in, 1)
    done = run_blocks(kernel, length, records, 0, desc=label, progress=progress, state=state)
    return ChainRun(q=done.q, x=done.x, t=done.t, method="heat-bath", length=length, settings=settings,
                    elapsed_s=done.elapsed_s, steps_run=done.steps_run)


def _estimate(beta, n, m_series, e_series, chains, weights, **extra) -> MonteCarloEstimate:
    main_m, main_e = m_series[:chains], e_series[:chains]
    tau = max(_sweeps_tau(main_m), _sweeps_tau(main_e))
    m, m_err = _batch_means(main_m, lambda x: x.mean(axis=1), tau)
    m_abs, m_abs_err = _batch_means(main_m, lambda x: np.abs(x).mean(axis=1), tau)
    chi, chi_err = _batch_means(main_m, lambda x: n * beta * x.var(axis=1), tau)
    energy, energy_err = _batch_means(main_e, lambda x: x.mean(axis=1), tau)
    free, free_err = None, None
    if weights is not None:
        node_e = e_series[chains:]
        stats = [_batch_means(row[None, :], lambda x: x.mean(axis=1), _sweeps_tau(row[None, :]))
                 for row in node_e]
        means, errs = np.array(stats).T
        free = float((-np.log(2.0) + weights @ means) / beta)
        free_err = float(np.sqrt(weights**2 @ errs**2) / beta)
    return MonteCarloEstimate(beta=beta, n=n, m=m, m_err=m_err, m_abs=m_abs, m_abs_err=m_abs_err, chi=chi,
                              chi_err=chi_err, energy_per_spin=energy, energy_err=energy_err, tau=tau,
                              m_series=main_m, free_energy_per_spin=free, free_energy_err=free_err, **extra)


def curie_weiss_monte_carlo(model: CurieWeiss, n, beta, *, sweeps=None, burn_in=None, chains=4, initial=None,
                            free_energy=True, seed=None, progress=False) -> MonteCarloEstimate:
    """Heat-bath Monte Carlo of the N-spin Curie–Weiss magnet ``model``.

    Below T_c at b = 0 a chain of large N stays in one ordered state (it does not tunnel): its m and χ are
    those of that state, not the symmetric averages of the exact sums (<m> = 0, χ ∝ N). ``initial`` defaults
    to all spins along the field (up at b = 0): below T_c a chain started at random can stay in the
    metastable well for a time exponential in N. ``free_energy`` adds one chain per quadrature node for the
    thermodynamic integration. ``sweeps=None`` chooses the run length from N (see :func:`_validate_run`).
    """
    n = require_int("n", n, minimum=1)
    beta = require_positive("beta", beta)
    sweeps, burn_in, chains = _validate_run(sweeps, burn_in, chains, n, free_energy)
    rng = rng_from(seed)
    critical_beta = 1.0 / model.j if model.j > 0 else None
    betas, weights = _schedule(float(beta), chains, free_energy, critical_beta)
    default = "down" if model.b < 0 else "up"
    spins = _starting_states(default if initial is None else initial, betas, chains, critical_beta, n, rng)
    states = chain_states(np.random.SeedSequence(int(rng.integers(2**63))), betas.size)
    fields = np.asarray(model.local_field((np.arange(2 * n + 1) - n) / n), float)

    def kernel(n_steps, thin, out_q, out_x, status):
        curie_weiss_kernel(spins, betas, fields, states, n_steps, thin, out_q, out_x, status)

    run = _run(kernel, betas.size, sweeps, burn_in, 1, progress, "Curie-Weiss heat bath",
               {"spins": spins, "states": states}, {"seed": seed, "j": model.j, "b": model.b, "n": n})
    m_series = run.q[:, :, 0].T
    return _estimate(float(beta), n, m_series, model.energy_per_spin(m_series), chains, weights, run=run)


def couplings_monte_carlo(model: GeneralCouplings, beta, *, sweeps=None, burn_in=None, chains=4, initial="random",
                          free_energy=True, critical_beta="auto", seed=None, progress=False) -> MonteCarloEstimate:
    """Heat-bath Monte Carlo of the general-coupling model H = -(1/2N) sᵀ W s - hᵀ s (the model's symmetric W, h).

    ``critical_beta`` (default: the model's N/λ_max(W) when T_c > 0) splits the thermodynamic integration there.
    """
    beta = require_positive("beta", beta)
    if isinstance(critical_beta, str) and critical_beta == "auto":
        tc = model.critical_temperature
        critical_beta = 1.0 / tc if tc > 0 else None
    n = model.n
    a = np.ascontiguousarray(model.weights / n)
    h = np.ascontiguousarray(model.field, dtype=float)
    sweeps, burn_in, chains = _validate_run(sweeps, burn_in, chains, n, free_energy)
    rng = rng_from(seed)
    betas, weights = _schedule(float(beta), chains, free_energy, critical_beta)
    spins = _starting_states(initial, betas, chains, critical_beta, n, rng)
    states = chain_states(np.random.SeedSequence(int(rng.integers(2**63))), betas.size)
    site_sum, site_m_sum = np.zeros((betas.size, n)), np.zeros((betas.size, n))

    def kernel(n_steps, thin, out_q, out_x, status):
        couplings_kernel(a, h, spins, betas, states, site_sum, site_m_sum, n_steps, thin, out_q, out_x, status)

    run = _run(kernel, betas.size, sweeps, burn_in, 2, progress, "heat bath",
               {"spins": spins, "states": states, "site_sum": site_sum, "site_m_sum": site_m_sum},
               {"seed": seed, "n": n})
    m_series, e_series = run.q[:, :, 0].T, run.q[:, :, 1].T
    total = chains * sweeps
    sites = site_sum[:chains].sum(0) / total
    m_mean = m_series[:chains].mean()
    site_chi = n * beta * (site_m_sum[:chains].sum(0) / total - sites * m_mean)
    return _estimate(float(beta), n, m_series, e_series, chains, weights, sites=sites, site_chi=site_chi, run=run)
