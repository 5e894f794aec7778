"""Convergence diagnostics of Markov chains: autocorrelation time, effective sample size, split R̂, KS distance.

Every function takes samples shaped ``(n_samples, n_chains)`` (time-major, the layout of a Trajectory's
``q``), one scalar quantity per chain.

- Integrated autocorrelation time τ = 1 + 2 Σ_{t≥1} ρ(t), with ρ the normalized autocovariance computed
  by FFT for every chain and averaged over chains, summed up to Sokal's automatic window: the smallest M
  with M ≥ c τ(M), c = 5 (as emcee, Foreman-Mackey et al. 2013). A chain shorter than ``tol`` = 50 τ
  gives an unreliable τ: :class:`ChainTooShortError`, or a :class:`ChainTooShortWarning` with
  ``quiet=True``.
- Effective sample size ESS = n_chains · n_samples / τ.
- R̂: the rank-normalized split R̂ of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), i.e. the
  larger of the bulk R̂ (split chains, ranks mapped to normal scores) and the tail R̂ (the same on
  |x - median|). Values above 1.01 mean the chains have not mixed. τ and R̂ live in the shared core
  (:mod:`statmech_nn.autocorrelation`), which the comparison layer uses too.
- The Kolmogorov–Smirnov distance of pooled samples to a reference CDF.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from ..autocorrelation import (  # noqa: F401  (ChainTooShort*, split_rhat are part of this module's interface)
    LENGTH_FACTOR, RHAT_THRESHOLD, ChainTooShortError, ChainTooShortWarning, as_chains, integrated_time, split_rhat,
)
from ..errors import ConvergenceError

KS_GRID_POINTS = 4097


def effective_sample_size(samples, tau: float | None = None) -> float:
    """n_chains · n_samples / τ (τ from :func:`integrated_time` with ``quiet=True`` when not given)."""
    chains = as_chains(samples)
    if tau is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChainTooShortWarning)
            tau = integrated_time(chains, quiet=True)
    return float(chains.size / tau)


@dataclass(frozen=True)
class ChainDiagnostics:
    """τ (in samples and in sampler steps), ESS and R̂ of one scalar quantity, and whether to trust them."""

    tau_samples: float
    tau_steps: float
    ess: float
    rhat: float
    n_samples: int
    n_chains: int
    reliable: bool
    message: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def diagnose(samples, thin: int = 1) -> ChainDiagnostics:
    """τ, ESS and R̂ of ``samples`` (n_samples, n_chains); never raises for a short chain, says so instead.

    ``reliable`` is False when the chain is shorter than 50 τ or R̂ > 1.01; ``message`` says why.
    """
    chains = as_chains(samples)
    problems = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChainTooShortWarning)
        tau = integrated_time(chains, quiet=True)
    problems += [str(w.message) for w in caught if issubclass(w.category, ChainTooShortWarning)]
    rhat = split_rhat(chains)
    if not rhat <= RHAT_THRESHOLD:
        problems.append(f"split R-hat = {rhat:.4g} > {RHAT_THRESHOLD}: the chains have not mixed")
    return ChainDiagnostics(tau_samples=tau, tau_steps=tau * thin, ess=float(chains.size / tau), rhat=rhat,
                            n_samples=chains.shape[0], n_chains=chains.shape[1], reliable=not problems,
                            message="; ".join(problems))


def ks_distance(samples, cdf, grid_points: int = KS_GRID_POINTS) -> tuple[float, float]:
    """sup |F_n - F| of the pooled samples against the reference CDF ``cdf`` (a vectorized callable).

    ``cdf`` is evaluated at ``grid_points`` sample quantiles and interpolated linearly in between (an
    exact reference CDF can be slow to evaluate at millions of points). Because F is monotone, that
    changes the distance by at most the largest reference probability between two nodes, which is
    returned as the second value (the resolution of the first).
    """
    pooled = np.sort(np.asarray(samples, float).ravel())
    if pooled.size == 0 or not np.all(np.isfinite(pooled)):
        raise ConvergenceError("the KS distance needs finite samples")
    nodes = np.unique(np.quantile(pooled, np.linspace(0.0, 1.0, grid_points)))
    at_nodes = np.asarray(cdf(nodes), float)
    reference = np.interp(pooled, nodes, at_nodes)
    n = pooled.size
    upper = np.arange(1, n + 1) / n - reference
    lower = reference - np.arange(n) / n
    resolution = float(np.max(np.diff(at_nodes), initial=0.0))
    return float(max(upper.max(), lower.max())), resolution
