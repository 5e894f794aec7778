"""Observables of neuron outputs: bimodality (002 §5 Fig. 1) and rank-frequency laws of activation patterns (001).

Bimodality. 002 Fig. 1 shows outputs p(x|q) of frozen neurons with two maxima (the frustrated regime,
negative λ₀ in 002 eq. (20)). :func:`bimodality` fits one Gaussian and a two-Gaussian mixture (EM,
vectorized over several seeded starts, stopped when the log-likelihood gains less than 1e-7 relative
or after 500 iterations, variances floored at 1e-6 of the sample variance so that the likelihood
stays bounded) and compares them by BIC. A lower BIC for two components only says "not
Gaussian" — a skewed or heavy-tailed unimodal sample passes it too — so the verdict also requires
the fitted mixture density itself to have two modes (found on a fine grid). Ashman's D (separation
of the two means in units of their pooled width; D > 2 guarantees two modes for equal widths) is reported.

Rank-frequency. For activation patterns (which units are active), 001 plots the frequency of each
distinct pattern against its rank. :func:`pattern_counts` counts distinct binary patterns;
:func:`fit_zipf` fits n(r) ∝ r^{-s} by maximum likelihood: every observation of a pattern of rank
r ≤ R is a draw from P(r) = r^{-s}/H_R(s), H_R(s) = Σ_{r≤R} r^{-s}, where R is the number of patterns
seen at least ``min_count`` times (rare patterns have unreliable ranks). σ_s = 1/√(N Var_s(log r)).
As a cross-check it also fits the discrete power law of the counts themselves (CSN), whose exponent α
relates to s by α = 1 + 1/s.

Counting a probe. :func:`activity_observables` turns the activations a probe records
(:func:`statmech_nn.networks.probes.probe`) into 001's four observable classes and 002 Fig. 1's samples:

=============================  ===============================  ===============================================
variable                       dims                             what
=============================  ===============================  ===============================================
``preactivation``              (layer, neuron, sample)          the probe's samples of p(x|q) (002 Fig. 1), as
``activation``                                                  recorded, with ``neuron_index``
``pattern_count``              (layer, pattern_rank)            how many inputs produce each distinct binary
                                                                activation pattern (unit active = output > 0),
                                                                sorted descending (001 class 2); 0 = padding
``n_patterns``                 (layer)                          number of distinct patterns
``unit_activation_frequency``  (layer, unit_rank)               fraction of inputs for which a unit is active,
                                                                sorted descending (001 class 3); NaN = padding
``unit_by_rank``               (layer, unit_rank)               which unit has that rank (-1: padding)
``layer_mean_activation``      (layer, sample)                  per input, the mean ReLU output over the layer's
                                                                units (001 class 4: its distribution), as recorded
``layer_active_fraction``      (layer, sample)                  per input, the fraction of active units
``layer_width``                (layer)                          number of units
``weight_histogram``           (weight_param, weight_bin)       counts of each weight tensor's entries (001
                                                                class 1), ``weight_bins`` equal bins over its range
``weight_bin_edges``           (weight_param, weight_edge)      the bin edges
``weight_mean``, ``weight_std``  (weight_param)                 moments of each weight tensor
``label``                      (sample)                         the class of each input
=============================  ===============================  ===============================================

Raw counts, not fits: power-law (Zipf) exponents and bimodality are fitted by the functions above.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from ..errors import DataError
from ..params import require_int, rng_from
from ..patterns import packed_pattern_counts
from .powerlaw import fit_powerlaw

_EM_ITERATIONS = 500    # EM's log-likelihood only rises; near-degenerate (unimodal) fits converge slowly,
_EM_TOLERANCE = 1e-7    # and gains below 1e-7 of |log L| per step do not change a BIC verdict at margin 10
_MODE_GRID = 2001
BIC_MARGIN = 10.0  # "very strong" evidence on the Kass-Raftery scale


@dataclass(frozen=True)
class Bimodality:
    """One Gaussian vs a mixture of two, for one sample of neuron outputs."""

    n: int
    bic_one: float
    bic_two: float
    delta_bic: float            # bic_one - bic_two: > 0 favours two components
    weights: tuple
    means: tuple
    sds: tuple
    modes: int                  # local maxima of the fitted mixture density
    ashman_d: float
    bimodal: bool               # delta_bic > BIC_MARGIN and modes == 2

    def to_dict(self) -> dict:
        return asdict(self)


def _normal_logpdf(x, mean, sd):
    z = (x - mean) / sd
    return -0.5 * z * z - np.log(sd) - 0.5 * np.log(2.0 * np.pi)


def _two_component_em(x, starts: int, rng):
    """EM for w N(μ1, σ1²) + (1-w) N(μ2, σ2²) from ``starts`` random starts at once; the best (log L, params)."""
    n = x.size
    floor = 1e-6 * np.var(x)
    picks = np.sort(rng.choice(x, size=(starts, 2), replace=True), axis=1)
    means = picks.copy()
    sds = np.full((starts, 2), np.std(x) / 2.0)
    weights = np.full((starts, 2), 0.5)
    previous = np.full(starts, -np.inf)
    for _ in range(_EM_ITERATIONS):
        joint = np.log(weights)[:, :, None] + _normal_logpdf(x[None, None, :], means[:, :, None], sds[:, :, None])
        high = np.maximum(joint[:, 0], joint[:, 1])
        total = high + np.log1p(np.exp(-np.abs(joint[:, 0] - joint[:, 1])))  # (starts, n)
        loglik = total.sum(axis=1)
        responsibility = np.exp(joint - total[:, None, :])     # (starts, 2, n)
        mass = responsibility.sum(axis=2) + 1e-300
        weights = mass / n
        means = responsibility @ x / mass
        variance = np.einsum("skn,skn->sk", responsibility, (x[None, None, :] - means[:, :, None]) ** 2) / mass
        sds = np.sqrt(np.maximum(variance, floor))
        if np.all(loglik - previous <= _EM_TOLERANCE * np.abs(loglik)):
            break
        previous = loglik
    best = int(np.argmax(loglik))
    order = np.argsort(means[best])
    return loglik[best], weights[best][order], means[best][order], sds[best][order]


def _count_modes(weights, means, sds) -> int:
    lo = np.min(means - 4 * sds)
    hi = np.max(means + 4 * sds)
    grid = np.linspace(lo, hi, _MODE_GRID)
    components = np.log(weights)[:, None] + _normal_logpdf(grid[None, :], means[:, None], sds[:, None])
    density = np.exp(logsumexp(components, axis=0))
    interior = (density[1:-1] > density[:-2]) & (density[1:-1] >= density[2:])
    return int(interior.sum())


def bimodality(samples, seed=None, starts: int = 4) -> Bimodality:
    """Test one sample of outputs (1-D array) for two modes: BIC of 1 vs 2 Gaussians plus the mixture's modes."""
    x = np.asarray(samples, float).ravel()
    if x.size < 10 or not np.all(np.isfinite(x)):
        raise DataError("bimodality needs at least 10 finite samples")
    if np.ptp(x) == 0:
        raise DataError("bimodality needs samples that are not all equal")
    n = x.size
    rng = rng_from(seed)
    one = float(np.sum(_normal_logpdf(x, x.mean(), x.std())))
    two, weights, means, sds = _two_component_em(x, require_int("starts", starts, 1), rng)
    bic_one = -2.0 * one + 2.0 * np.log(n)
    bic_two = -2.0 * two + 5.0 * np.log(n)
    modes = _count_modes(weights, means, sds)
    ashman = float(np.sqrt(2.0) * abs(means[1] - means[0]) / np.sqrt(sds[0] ** 2 + sds[1] ** 2))
    delta = float(bic_one - bic_two)
    return Bimodality(n, float(bic_one), float(bic_two), delta, tuple(map(float, weights)), tuple(map(float, means)),
                      tuple(map(float, sds)), modes, ashman, bool(delta > BIC_MARGIN and modes == 2))


def pattern_counts(active) -> np.ndarray:
    """Counts of the distinct rows of a boolean (samples, units) array, largest first."""
    active = np.asarray(active)
    if active.ndim != 2 or active.shape[0] == 0:
        raise DataError(f"activation patterns must be a (samples, units) array, got shape {active.shape}")
    return packed_pattern_counts(np.packbits(active.astype(bool), axis=1))


@dataclass(frozen=True)
class ZipfFit:
    """n(r) ∝ r^{-s} over the top ``ranks`` patterns (MLE), and the CSN fit of the counts as a cross-check."""

    s: float
    sigma: float
    ranks: int
    observations: int
    patterns: int
    count_alpha: float
    count_xmin: float
    s_from_counts: float

    def to_dict(self) -> dict:
        return asdict(self)


def fit_zipf(counts, min_count: int = 10) -> ZipfFit:
    """Rank-frequency exponent s of pattern counts (any order); see the module docstring."""
    counts = np.sort(np.asarray(counts, float).ravel())[::-1]
    if counts.size == 0 or np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise DataError("pattern counts must be non-negative integers")
    counts = counts[counts > 0]
    min_count = require_int("min_count", min_count, 1)
    top = counts[counts >= min_count]
    if top.size < 3:
        raise DataError(f"fewer than 3 patterns were seen at least min_count={min_count} times")
    log_rank = np.log(np.arange(1, top.size + 1))
    total = top.sum()
    target = top @ log_rank / total                     # E_s[log r] must equal this

    def mean_log_rank(s):
        log_w = -s * log_rank
        w = np.exp(log_w - logsumexp(log_w))
        return w @ log_rank, w @ log_rank**2

    lo, hi = -50.0, 50.0                                 # E_s[log r] decreases in s: bisection
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mean_log_rank(mid)[0] > target:
            lo = mid
        else:
            hi = mid
    s = 0.5 * (lo + hi)
    m1, m2 = mean_log_rank(s)
    sigma = 1.0 / np.sqrt(total * (m2 - m1 * m1))
    csn = fit_powerlaw(counts, discrete=True)
    return ZipfFit(float(s), float(sigma), int(top.size), int(total), int(counts.size), csn.alpha, csn.xmin,
                   float(1.0 / (csn.alpha - 1.0)))


_UNPACK_ROWS = 4096     # inputs unpacked at a time when counting unit activity (bounded memory)
_PASSED_THROUGH = ("preactivation", "activation", "neuron_index", "layer_mean_activation", "layer_width", "label")


def _pad(rows: list[np.ndarray], fill) -> np.ndarray:
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), fill, dtype=np.result_type(rows[0].dtype, np.asarray(fill).dtype))
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def _unit_counts(bits: np.ndarray, width: int) -> np.ndarray:
    """How many rows of the packed activity ``bits`` (samples, bytes) have each of the ``width`` units active."""
    counts = np.zeros(width, np.int64)
    for start in range(0, bits.shape[0], _UNPACK_ROWS):
        counts += np.unpackbits(bits[start:start + _UNPACK_ROWS], axis=1, count=width).sum(axis=0, dtype=np.int64)
    return counts


def activity_observables(activations: xr.Dataset, weight_bins: int = 200) -> xr.Dataset:
    """001's observable classes 1-4 (and 002 Fig. 1's samples) counted from a probe's activations (see the module
    docstring for the variables)."""
    weight_bins = require_int("weight_bins", weight_bins, 1)
    missing = set(_PASSED_THROUGH) | {"active_bits", "weight_value", "weight_size"}
    missing -= set(activations.data_vars)
    if missing:
        raise DataError(f"not a probe's activations: no {', '.join(sorted(missing))}")
    n = activations.sizes["sample"]
    patterns, frequencies, ranks, fractions = [], [], [], []
    for i, width in enumerate(activations["layer_width"].values):
        bits = activations["active_bits"].values[i][:, :-(-int(width) // 8)]
        patterns.append(packed_pattern_counts(bits))
        counts = _unit_counts(bits, int(width))
        by_rank = np.argsort(-counts, kind="stable")
        ranks.append(by_rank)
        frequencies.append(counts[by_rank] / n)
        fractions.append(np.bitwise_count(bits).sum(axis=1) / width)
    sizes = activations["weight_size"].values
    weights = np.split(activations["weight_value"].values, np.cumsum(sizes)[:-1])
    histograms, edges = zip(*(np.histogram(w, bins=weight_bins) for w in weights))
    data = {
        "pattern_count": (("layer", "pattern_rank"), _pad(patterns, 0),
                          {"units": "inputs", "long_name": "inputs per distinct binary activation pattern, by rank"}),
        "n_patterns": (("layer",), np.array([len(r) for r in patterns]), {"long_name": "distinct patterns"}),
        "unit_activation_frequency": (("layer", "unit_rank"), _pad(frequencies, np.nan),
                                      {"units": "1", "long_name": "fraction of inputs activating the unit, by rank"}),
        "unit_by_rank": (("layer", "unit_rank"), _pad(ranks, -1), {"long_name": "unit index at each rank"}),
        "layer_active_fraction": (("layer", "sample"), np.stack(fractions),
                                  {"units": "1", "long_name": "fraction of active units, per input"}),
        "weight_histogram": (("weight_param", "weight_bin"), np.stack(histograms),
                             {"units": "weights", "long_name": "counts of weight values per bin"}),
        "weight_bin_edges": (("weight_param", "weight_edge"), np.stack(edges), {"units": "1"}),
        "weight_mean": (("weight_param",), np.array([w.mean() for w in weights]), {"units": "1"}),
        "weight_std": (("weight_param",), np.array([w.std() for w in weights]), {"units": "1"}),
    }
    counted = xr.Dataset(data, coords={"layer": activations["layer"].values,
                                       "weight_param": activations["weight_param"].values})
    result = xr.merge([activations[list(_PASSED_THROUGH)], counted], combine_attrs="override")
    result.attrs = {**activations.attrs,
                    "description": "probes of a frozen network: 002 Fig. 1 and 001 observable classes 1-4"}
    return result
