"""Heat-bath Monte Carlo of Ising spins s_i = ±1: the third, independent estimate beside exact sums and mean field.

Two numba kernels, each running many chains in parallel (one stream of :mod:`statmech_nn.rng` per chain, so
the same seed gives the same bits whatever the thread count):

- Curie–Weiss, H = -(J/2N) M² - b M (001 slide 'Simple (relevant) model'): the heat-bath probability of
  s_i = +1 given the others is 1/(1 + e^{-2β(J M_{≠i}/N + b)}), tabulated over M_{≠i}: O(1) per update;
- general couplings, H = -(1/2N) Σ_ij W_ij s_i s_j - Σ_i h_i s_i (001 slide 'Statistical model of a neural
  network'): the local field φ_i = Σ_{j≠i} W_ij s_j/N + h_i is kept in a vector updated on each flip
  (O(N) per flip, O(1) per rejected change), with W symmetrized.

Sweeps are sequential (site 0..N-1), which satisfies balance for the heat bath. Errors are jackknife
estimates over batches at least four integrated autocorrelation times long (Sokal's automatic window), so
that they stay honest near T_c, where the chains slow down. The free energy, which no single chain
measures, comes from thermodynamic integration over β: βf(β) = -ln 2 + ∫₀^β <H>_β'/N dβ' (at β = 0 every
one of the 2^N states is equally likely), by Gauss–Legendre quadrature with one extra chain per node,
split at β_c when it is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
from tqdm import tqdm

from ..autocorrelation import integrated_time
from ..errors import ParameterError
from ..params import require_int, rng_from
from ..rng import chain_states, uniform

BATCHES = 20
QUADRATURE_NODES = 16
AUTO_UPDATES = 400_000_000  # spin updates of a run with sweeps=None
_CHUNKS = 20  # kernel calls per run, so that the progress bar moves


@numba.njit(cache=True, parallel=True)
def _cw_heat_bath(spins, betas, j, b, states, m_out, e_out):
    """Run m_out.shape[1] sweeps of every chain; record m = M/N and H/N after each sweep.

    The heat-bath probability depends on the other spins only through M_{≠i} ∈ {-(N-1), ..., N-1}: it is
    tabulated once per chain, so an update costs one random number and one comparison.
    """
    chains, n = spins.shape
    for c in numba.prange(chains):
        s, beta = spins[c], betas[c]
        p_up = np.empty(2 * n + 1)
        for r in range(2 * n + 1):
            p_up[r] = 1.0 / (1.0 + np.exp(-2.0 * beta * (j * (r - n) / n + b)))
        total = 0
        for i in range(n):
            total += s[i]
        for t in range(m_out.shape[1]):
            for i in range(n):
                new = 1 if uniform(states, c) < p_up[total - s[i] + n] else -1
                total += new - s[i]
                s[i] = new
            m = total / n
            m_out[c, t] = m
            e_out[c, t] = -0.5 * j * m * m - b * m


@numba.njit(cache=True, parallel=True)
def _couplings_heat_bath(a, h, spins, betas, states, m_out, e_out, site_sum, site_m_sum):
    """Sweeps with couplings a = W_sym/N; the local fields u = a @ s are computed afresh at each call (no drift
    from the incremental updates) and kept up to date on every flip."""
    chains, n = spins.shape
    for c in numba.prange(chains):
        s, beta = spins[c], betas[c]
        u = np.zeros(n)
        for k in range(n):
            row = a[k]
            total = 0.0
            for j in range(n):
                total += row[j] * s[j]
            u[k] = total
        for t in range(m_out.shape[1]):
            for i in range(n):
                phi = u[i] - a[i, i] * s[i] + h[i]
                new = 1 if uniform(states, c) * (1.0 + np.exp(-2.0 * beta * phi)) < 1.0 else -1
                if new != s[i]:
                    d = float(new - s[i])
                    row = a[i]
                    for k in range(n):
                        u[k] += row[k] * d
                    s[i] = new
            total = 0.0
            energy = 0.0
            for k in range(n):
                total += s[k]
                energy -= s[k] * (0.5 * u[k] + h[k])
            m = total / n
            m_out[c, t] = m
            e_out[c, t] = energy / n
            for k in range(n):
                site_sum[c, k] += s[k]
                site_m_sum[c, k] += s[k] * m


@dataclass(frozen=True)
class MonteCarloEstimate:
    """Monte Carlo averages with jackknife standard errors over batches (``*_err``).

    ``m``: <Σs>/N; ``m_abs``: <|Σs|>/N; ``chi``: Nβ(<m²> - <m>²); ``energy_per_spin``: <H>/N; ``tau``: the
    integrated autocorrelation time in sweeps (``reliable`` when the run is at least 50 τ long);
    ``free_energy_per_spin``: by thermodynamic integration (None when not asked for); ``sites``: <s_i> and
    ``site_chi``: β N cov(s_i, m) = ∂<s_i>/∂h (general couplings only); ``m_series``: (chains, sweeps).
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

    @property
    def reliable(self) -> bool:
        """At least 50 autocorrelation times recorded per chain (emcee's rule of thumb)."""
        return self.m_series.shape[1] >= 50.0 * self.tau

    def summary(self) -> dict:
        """The scalar estimates, their errors and the autocorrelation diagnostics."""
        keys = ("m", "m_err", "m_abs", "m_abs_err", "chi", "chi_err", "energy_per_spin", "energy_err",
                "free_energy_per_spin", "free_energy_err", "tau", "reliable")
        return {key: getattr(self, key) for key in keys}


def _sweeps_tau(series: np.ndarray) -> float:
    """τ in sweeps of a (chains, sweeps) series (:func:`statmech_nn.autocorrelation.integrated_time`; the
    run's own ``reliable`` flag, not a warning, reports a run shorter than 50 τ)."""
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


def run_chains(step, n_chains: int, sweeps: int, burn_in: int, progress: bool, label: str):
    """Call ``step(m_out, e_out, record)`` on chunks of sweeps; return the recorded (chains, sweeps) series."""
    m_series, e_series = np.empty((n_chains, sweeps)), np.empty((n_chains, sweeps))
    total = burn_in + sweeps
    chunk = max(1, -(-total // _CHUNKS))
    done = 0
    with tqdm(total=total, unit="sweep", desc=label, disable=not progress, file=None) as bar:
        while done < total:
            size = min(chunk, total - done)
            m_out, e_out = np.empty((n_chains, size)), np.empty((n_chains, size))
            start = done - burn_in
            record = start >= 0
            if start < 0 and start + size > 0:  # a chunk straddling the end of burn-in is shortened
                size = burn_in - done
                m_out, e_out = m_out[:, :size].copy(), e_out[:, :size].copy()
            step(m_out, e_out, record)
            if record:
                m_series[:, start:start + size], e_series[:, start:start + size] = m_out, e_out
            done += size
            bar.update(size)
    return m_series, e_series


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


def curie_weiss_monte_carlo(n, beta, j=1.0, b=0.0, *, sweeps=None, burn_in=None, chains=4, initial=None,
                            free_energy=True, seed=None, progress=False) -> MonteCarloEstimate:
    """Heat-bath Monte Carlo of the N-spin Curie–Weiss magnet.

    Below T_c at b = 0 a chain of large N stays in one ordered state (it does not tunnel): its m and χ are
    those of that state, not the symmetric averages of the exact sums (<m> = 0, χ ∝ N). ``initial`` defaults
    to all spins along the field (up at b = 0): below T_c a chain started at random can stay in the
    metastable well for a time exponential in N. ``free_energy`` adds one chain per quadrature node for the
    thermodynamic integration. ``sweeps=None`` chooses the run length from N (see :func:`_validate_run`).
    """
    n = require_int("n", n, minimum=1)
    sweeps, burn_in, chains = _validate_run(sweeps, burn_in, chains, n, free_energy)
    rng = rng_from(seed)
    betas, weights = _schedule(float(beta), chains, free_energy, 1.0 / j if j > 0 else None)
    default = "down" if b < 0 else "up"
    spins = _starting_states(default if initial is None else initial, betas, chains, 1.0 / j if j > 0 else None, n,
                             rng)
    states = chain_states(np.random.SeedSequence(int(rng.integers(2**63))), betas.size)

    def step(m_out, e_out, record):
        _cw_heat_bath(spins, betas, float(j), float(b), states, m_out, e_out)

    m_series, e_series = run_chains(step, betas.size, sweeps, burn_in, progress, "Curie-Weiss heat bath")
    return _estimate(float(beta), n, m_series, e_series, chains, weights)


def couplings_monte_carlo(couplings, field, beta, *, sweeps=None, burn_in=None, chains=4, initial="random",
                          free_energy=True, critical_beta=None, seed=None, progress=False) -> MonteCarloEstimate:
    """Heat-bath Monte Carlo of H = -(1/2N) sᵀ W s - hᵀ s with a symmetric (N, N) ``couplings`` W and field h (N,).

    ``critical_beta`` (N/λ_max(W), when known) splits the thermodynamic integration there.
    """
    a = np.ascontiguousarray(couplings, dtype=float) / couplings.shape[0]
    h = np.ascontiguousarray(np.broadcast_to(np.asarray(field, float), (a.shape[0],)))
    n = a.shape[0]
    sweeps, burn_in, chains = _validate_run(sweeps, burn_in, chains, n, free_energy)
    rng = rng_from(seed)
    betas, weights = _schedule(float(beta), chains, free_energy, critical_beta)
    spins = _starting_states(initial, betas, chains, critical_beta, n, rng)
    states = chain_states(np.random.SeedSequence(int(rng.integers(2**63))), betas.size)
    site_sum, site_m_sum = np.zeros((betas.size, n)), np.zeros((betas.size, n))

    def step(m_out, e_out, record):
        sums = (site_sum, site_m_sum) if record else (np.zeros_like(site_sum), np.zeros_like(site_m_sum))
        _couplings_heat_bath(a, h, spins, betas, states, m_out, e_out, *sums)

    m_series, e_series = run_chains(step, betas.size, sweeps, burn_in, progress, "heat bath")
    total = chains * sweeps
    sites = site_sum[:chains].sum(0) / total
    m_mean = m_series[:chains].mean()
    site_chi = n * beta * (site_m_sum[:chains].sum(0) / total - sites * m_mean)
    return _estimate(float(beta), n, m_series, e_series, chains, weights, sites=sites, site_chi=site_chi)
