"""Chain diagnostics shared by every source of data: τ, split R̂ and the drift of a series.

The error bars of every sampler rest on them, and the stationarity of a network's weights is judged
with the same instruments (:mod:`statmech_nn.observables.stationarity`, the weight criterion of
:mod:`statmech_nn.networks.equilibrium`).

Samples are shaped ``(n_samples, n_chains)`` (time-major, the layout of a Trajectory's ``q``), one scalar
quantity per chain. τ = 1 + 2 Σ_{t≥1} ρ(t), with ρ the normalized autocovariance computed by FFT for every
chain and averaged over chains, summed up to Sokal's automatic window: the smallest M with M ≥ c τ(M),
c = 5 (as emcee, Foreman-Mackey et al. 2013). A chain shorter than ``tol`` = 50 τ gives an unreliable τ:
:class:`ChainTooShortError`, or a :class:`ChainTooShortWarning` with ``quiet=True``.

:func:`column_times` gives each column's own τ (no averaging over columns), vectorized.
:func:`spectral_time` gives each column's τ from an AR(p) fit (spectral density at frequency 0) with the
mean/trend-removal bias added back: right to a few % at n/τ ≥ 10, where Sokal's window reads 40–60 % low
(the stationarity verdict S uses it; the samplers keep :func:`integrated_time`, whose chains are ≥ 50 τ).

R̂: the rank-normalized split R̂ of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), i.e. the
larger of the bulk R̂ (split chains, ranks mapped to normal scores) and the tail R̂ (the same on
|x - median|). Values above ``RHAT_THRESHOLD`` = 1.01 mean the chains have not mixed.
:func:`split_rhat` pools all chains into one R̂; :func:`segment_rhat` gives each column of one series
its own R̂ across consecutive segments of it.

Drift (:func:`drift_ratio`): the change of the least-squares line through a series over its window,
in units of the standard deviation of the series about that line.

Shared by the samplers of p(x, q) (:mod:`statmech_nn.sampling.diagnostics`), the spin Monte Carlo of
the mean-field models (:mod:`statmech_nn.sampling.spins`), the stationarity of tracked weights
and the training loop's weight criterion.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtri
from scipy.stats import rankdata

from .errors import ConvergenceError
from .params import sample_columns

WINDOW_FACTOR = 5.0          # Sokal's c
LENGTH_FACTOR = 50.0         # a chain needs at least this many τ
RHAT_THRESHOLD = 1.01        # Vehtari et al. (2021)
DRIFT_LIMIT = 1.0            # a trend that moves a series by more than one of its fluctuations is a drift


class ChainTooShortError(ConvergenceError):
    """The chain is shorter than ``LENGTH_FACTOR`` autocorrelation times: τ, ESS and errors are not reliable."""


class ChainTooShortWarning(UserWarning):
    """As :class:`ChainTooShortError`, issued instead of it with ``quiet=True``."""


def as_chains(samples) -> np.ndarray:
    """Samples as a finite (n_samples >= 4, n_chains) float array, or a clear error."""
    return sample_columns(samples, 4, "diagnostics' samples (n_samples, n_chains)", nonfinite=ConvergenceError)


def _column_autocorrelation(chains: np.ndarray) -> np.ndarray:
    """ρ(t) of every column (by FFT), shaped like ``chains``; NaN for a column that never moves."""
    n = chains.shape[0]
    centered = np.ascontiguousarray((chains - chains.mean(axis=0)).T)     # transforms along contiguous rows
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centered, n=size, axis=1)
    acov = np.fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=size, axis=1)[:, :n].T
    with np.errstate(invalid="ignore", divide="ignore"):
        return acov / acov[0]


def autocorrelation(samples) -> np.ndarray:
    """ρ(t) for t = 0 … n-1: every chain's normalized autocovariance (by FFT), averaged over chains.

    Chains that never move (zero variance) make ρ undefined: the result is NaN then.
    """
    return _column_autocorrelation(as_chains(samples)).mean(axis=1)


def _windowed_times(acf: np.ndarray, c: float) -> np.ndarray:
    """τ of each column of ρ (lags × columns) summed up to Sokal's window: the first M with M ≥ c τ(M),
    or the last lag if there is none; at least 1/n, inf where ρ is undefined."""
    n = acf.shape[0]
    taus = 2.0 * np.cumsum(acf, axis=0) - 1.0
    hits = np.arange(n)[:, None] >= c * taus
    window = np.where(hits.any(axis=0), np.argmax(hits, axis=0), n - 1)
    tau = np.maximum(taus[window, np.arange(acf.shape[1])], 1.0 / n)
    return np.where(np.all(np.isfinite(acf), axis=0), tau, np.inf)


def column_times(samples, c: float = WINDOW_FACTOR) -> np.ndarray:
    """Each column's own integrated autocorrelation time (K,), in samples; inf for a column that never moves.

    No length check: compare ``n_samples`` with ``LENGTH_FACTOR`` · τ yourself.
    """
    return _windowed_times(_column_autocorrelation(as_chains(samples)), c)


def integrated_time(samples, c: float = WINDOW_FACTOR, tol: float = LENGTH_FACTOR, quiet: bool = False) -> float:
    """The integrated autocorrelation time τ in units of samples (1 for independent samples).

    Raises :class:`ChainTooShortError` when n_samples < tol · τ (``quiet=True``: warns and returns τ).
    A chain that never moves has τ = inf.
    """
    chains = as_chains(samples)
    n = chains.shape[0]
    tau = float(_windowed_times(autocorrelation(chains)[:, None], c)[0])
    if tol * tau > n:
        message = (f"the chain is too short: {n} samples per chain is less than {tol:g} autocorrelation times "
                   f"(tau = {tau:.4g} samples); run longer (or thin less) before trusting tau, ESS or errors")
        if not quiet:
            raise ChainTooShortError(message)
        warnings.warn(message, ChainTooShortWarning, stacklevel=2)
    return tau


def _rhat_of_split(split: np.ndarray) -> np.ndarray:
    """R̂ of draws shaped (n, chains, columns), one value per column (Gelman–Rubin with split chains)."""
    n = split.shape[0]
    within = split.var(axis=0, ddof=1).mean(axis=0)
    between = n * split.mean(axis=0).var(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhat = np.sqrt(((n - 1) / n * within + between / n) / within)
    return np.where(within > 0, rhat, np.where(between == 0, 1.0, np.inf))


def _normal_scores(split: np.ndarray) -> np.ndarray:
    """Ranks over all draws of each column mapped to normal quantiles with Blom's offset (Vehtari et al. 2021,
    eq. 14); ``split`` is (n, chains, columns)."""
    n, m, k = split.shape
    ranks = rankdata(np.ascontiguousarray(split.reshape(n * m, k).T), method="average", axis=1).T.reshape(split.shape)
    return ndtri((ranks - 0.375) / (n * m + 0.25))


def _rank_rhat(split: np.ndarray) -> np.ndarray:
    """Rank-normalized R̂ per column of (n, chains, columns) draws: max of the bulk and the folded (tail) R̂."""
    bulk = _rhat_of_split(_normal_scores(split))
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    return np.maximum(bulk, _rhat_of_split(_normal_scores(folded)))


def split_rhat(samples) -> float:
    """Rank-normalized split R̂ (Vehtari et al. 2021) of all chains together: each chain split in halves."""
    chains = as_chains(samples)
    half = chains.shape[0] // 2
    split = np.concatenate([chains[:half], chains[chains.shape[0] - half:]], axis=1)
    return float(_rank_rhat(split[:, :, None])[0])


def segment_rhat(series, segments: int = 4) -> np.ndarray:
    """Rank-normalized R̂ of each column of ``series`` (n, K) across ``segments`` consecutive segments of it.

    The segments play the chains of :func:`split_rhat` (``segments`` = 4 is split R̂ of the two halves);
    the last n mod ``segments`` rows are left out. A column that never moves has R̂ = 1.
    """
    series = as_chains(series)
    length = series.shape[0] // segments
    if length < 2:
        raise ConvergenceError(f"R-hat over {segments} segments needs at least {2 * segments} rows, "
                               f"got {series.shape[0]}")
    split = series[:segments * length].reshape(segments, length, -1).transpose(1, 0, 2)
    return _rank_rhat(split)


def drift_ratio(series) -> np.ndarray:
    """|change of the least-squares line over the window| / standard deviation about that line, per column.

    ``series`` is (n, K), rows equally spaced in time. For a stationary series with integrated
    autocorrelation time τ the ratio is ≈ |N(0, 1)| · √(12 τ / n) (the slope's standard error times the
    window); a trend that moves the series by more than its own fluctuations gives a ratio above 1.
    A column that is exactly a line has ratio inf (0/0 = NaN for a constant column).
    """
    series = as_chains(series)
    n = series.shape[0]
    time = np.arange(n) - (n - 1) / 2.0
    centered = series - series.mean(axis=0)
    slope = time @ centered / (time @ time)
    residual = centered - np.outer(time, slope)
    scale = np.sqrt((residual ** 2).sum(axis=0) / (n - 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(slope) * (n - 1) / scale


SPECTRAL_MAX_ORDER = 10       # the largest AR order spectral_time considers


def _levinson_durbin(acf: np.ndarray, order: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Yule–Walker AR coefficients of every order 1 … ``order`` for every column of ρ (lags × columns), by the
    Levinson–Durbin recursion vectorized over columns; returns the coefficients of each order and the
    innovation variance over γ(0) of each order (orders × columns)."""
    k = acf.shape[1]
    phi = np.zeros((0, k))
    variance = np.ones(k)
    coefficients, variances = [], []
    for p in range(1, order + 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            reflection = (acf[p] - np.einsum("ik,ik->k", phi, acf[p - 1:0:-1])) / variance
        phi = np.vstack([phi - reflection * phi[::-1], reflection])
        variance = variance * (1.0 - reflection ** 2)
        coefficients.append(phi)
        variances.append(variance)
    return coefficients, np.array(variances)


def spectral_time(series, removed: int = 1, max_order: int = SPECTRAL_MAX_ORDER) -> np.ndarray:
    """Each column's integrated autocorrelation time from an AR(p) fit: τ = 2π f(0)/γ(0) = σ_e² / (γ(0) (1 − Σφ)²),
    in samples (K,); inf for a column that never moves or whose fit has a unit root.

    The spectral-density-at-zero estimator of R's ``coda::spectrum0.ar`` (Plummer et al. 2006; Heidelberger &
    Welch 1981): Yule–Walker coefficients by Levinson–Durbin, the order p ≤ ``max_order`` chosen per column by
    Schwarz's criterion (BIC). ``removed`` is how many smooth regressors were taken out of ``series`` before
    (1: its mean, as here; 2: a least-squares line, for a detrended series): each lowers every sample
    autocovariance by ≈ γ(0) τ / n (Priestley 1981, §5.3), which this estimator adds back, iterated to its
    fixed point. That correction removes the O(τ/n) bias that makes windowed estimators (:func:`column_times`,
    Sokal) read low when n/τ is tens. What is left, measured on detrended AR(1) columns (τ known, 400 columns
    of n = 2e4 each): mean τ̂/τ − 1 = −4 %, −2 %, −1 %, −1 %, 0 % at n/τ = 10, 25, 50, 100, 1000 (the
    Yule–Walker φ̂'s remaining O(1/n) bias and Jensen's inequality on (1+φ)/(1−φ) partly cancel; Sokal's
    window: −61 %, −39 %, −20 %, −13 %, −1 %), with a relative spread ≈ √(τ/n) per column. For a series that
    is not autoregressive of order ≤ ``max_order`` the estimate is that of its best AR approximation.
    """
    chains = as_chains(series)
    n, k = chains.shape
    centered = chains - chains.mean(axis=0)
    order_max = min(max_order, n - 2)
    acov = np.array([np.einsum("ik,ik->k", centered[lag:], centered[:n - lag]) for lag in range(order_max + 1)])
    with np.errstate(invalid="ignore", divide="ignore"):
        acf = acov / acov[0]
    usable = np.all(np.isfinite(acf), axis=0)
    acf = np.where(usable, acf, 0.0)
    _, variances = _levinson_durbin(acf, order_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        bic = n * np.log(np.maximum(variances, 1e-300)) + np.log(n) * np.arange(1, order_max + 1)[:, None]
    order = np.argmin(bic, axis=0) + 1
    tau = np.ones(k)
    for _ in range(4):                     # the mean/trend-removal correction, to its fixed point
        shift = removed * np.minimum(tau, n) / n       # a unit root (τ = inf) stays one
        corrected = (acf + shift) / (1.0 + shift)
        corrected[0] = 1.0
        coefficients, variances = _levinson_durbin(corrected, order_max)
        phi_sum = np.array([c.sum(axis=0) for c in coefficients])[order - 1, np.arange(k)]
        innovation = variances[order - 1, np.arange(k)]
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where(phi_sum < 1.0, innovation / (1.0 - phi_sum) ** 2, np.inf)
    return np.where(usable, np.maximum(tau, 1.0 / n), np.inf)
