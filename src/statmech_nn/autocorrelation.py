"""Integrated autocorrelation time of Markov chains: the error bars of every sampler rest on it.

Samples are shaped ``(n_samples, n_chains)`` (time-major, the layout of a Trajectory's ``q``), one scalar
quantity per chain. τ = 1 + 2 Σ_{t≥1} ρ(t), with ρ the normalized autocovariance computed by FFT for every
chain and averaged over chains, summed up to Sokal's automatic window: the smallest M with M ≥ c τ(M),
c = 5 (as emcee, Foreman-Mackey et al. 2013). A chain shorter than ``tol`` = 50 τ gives an unreliable τ:
:class:`ChainTooShortError`, or a :class:`ChainTooShortWarning` with ``quiet=True``.

Shared by the samplers of p(x, q) (:mod:`statmech_nn.sampling.diagnostics`) and the spin Monte Carlo of
the mean-field models (:mod:`statmech_nn.sampling.spins`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .errors import ConvergenceError
from .params import sample_columns

WINDOW_FACTOR = 5.0          # Sokal's c
LENGTH_FACTOR = 50.0         # a chain needs at least this many τ


class ChainTooShortError(ConvergenceError):
    """The chain is shorter than ``LENGTH_FACTOR`` autocorrelation times: τ, ESS and errors are not reliable."""


class ChainTooShortWarning(UserWarning):
    """As :class:`ChainTooShortError`, issued instead of it with ``quiet=True``."""


def as_chains(samples) -> np.ndarray:
    """Samples as a finite (n_samples >= 4, n_chains) float array, or a clear error."""
    return sample_columns(samples, 4, "diagnostics' samples (n_samples, n_chains)", nonfinite=ConvergenceError)


def autocorrelation(samples) -> np.ndarray:
    """ρ(t) for t = 0 … n-1: every chain's normalized autocovariance (by FFT), averaged over chains.

    Chains that never move (zero variance) make ρ undefined: the result is NaN then.
    """
    chains = as_chains(samples)
    n = chains.shape[0]
    centered = chains - chains.mean(axis=0)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centered, n=size, axis=0)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        acf = acov / acov[0]
    return acf.mean(axis=1)


def _auto_window(taus: np.ndarray, c: float) -> int:
    """Sokal's window: the first M with M ≥ c τ(M), or the last lag if there is none."""
    hits = np.arange(taus.size) >= c * taus
    return int(np.argmax(hits)) if hits.any() else taus.size - 1


def integrated_time(samples, c: float = WINDOW_FACTOR, tol: float = LENGTH_FACTOR, quiet: bool = False) -> float:
    """The integrated autocorrelation time τ in units of samples (1 for independent samples).

    Raises :class:`ChainTooShortError` when n_samples < tol · τ (``quiet=True``: warns and returns τ).
    A chain that never moves has τ = inf.
    """
    chains = as_chains(samples)
    n = chains.shape[0]
    acf = autocorrelation(chains)
    if not np.all(np.isfinite(acf)):
        tau = np.inf
    else:
        taus = 2.0 * np.cumsum(acf) - 1.0
        tau = float(max(taus[_auto_window(taus, c)], 1.0 / n))
    if tol * tau > n:
        message = (f"the chain is too short: {n} samples per chain is less than {tol:g} autocorrelation times "
                   f"(tau = {tau:.4g} samples); run longer (or thin less) before trusting tau, ESS or errors")
        if not quiet:
            raise ChainTooShortError(message)
        warnings.warn(message, ChainTooShortWarning, stacklevel=2)
    return tau
