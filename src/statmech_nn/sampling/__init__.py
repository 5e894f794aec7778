"""Samplers of p(x, q) = p(x|q) p(q) (002 §2 and §4) and their diagnostics.

- quartic toy model: :func:`~.quartic_sampler.sample_quartic` with "exact" (:mod:`.exact`), "mh"
  (:mod:`.metropolis`) or "langevin" (:mod:`.langevin`, two-timescale), the exact reference
  (:func:`~.quartic_sampler.quartic_reference`); the Langevin bias over (ε, dt) is a scan
  (:mod:`statmech_nn.scan.langevin_bias`);
- Ising spins of the mean-field models: heat-bath Monte Carlo (:mod:`.spins`);
- linearized network: :func:`~.linearized_sampler.sample_linearized` (Langevin or MALA on p(q), x|q exact);
- :mod:`.diagnostics`: τ with Sokal's window, ESS, rank-normalized split R̂, KS distance;
- :mod:`statmech_nn.rng` (shared core): per-chain xoshiro256++ streams, so that the same seed gives the same bits
  for any thread count.

Every kernel is a pure update fed its noise, driven by one run loop (:func:`~.chains.run_blocks`); every run is a
:class:`~.chains.ChainRun` that becomes the shared Trajectory and a JSON summary (:mod:`.summary`), and with a run
directory is streamed, checkpointed and resumable (:mod:`.sampler_runs`).
"""

from .chains import ChainRun, RunLength
from .diagnostics import ChainTooShortError, ChainTooShortWarning, diagnose, integrated_time, ks_distance, split_rhat
from .linearized_sampler import sample_linearized
from .quartic_sampler import quartic_reference, quartic_trajectory, sample_quartic
from .sampler_runs import linearized_run, quartic_run
from .spins import MonteCarloEstimate, couplings_monte_carlo, curie_weiss_monte_carlo
from .summary import summarize

__all__ = ["ChainRun", "ChainTooShortError", "ChainTooShortWarning", "MonteCarloEstimate", "RunLength",
           "couplings_monte_carlo", "curie_weiss_monte_carlo", "diagnose", "integrated_time", "ks_distance",
           "linearized_run", "quartic_reference", "quartic_run", "quartic_trajectory", "sample_linearized",
           "sample_quartic", "split_rhat", "summarize"]
