"""Statistics of Hessian entries, their correlations and coupling-set sizes (003 Figs. 6, 7).

The loss is a mean over examples, so every Hessian entry is a mean of per-example contributions,
H_ab = (1/n) Σ_i h_i,ab. Given those contributions (an (n, N) array for N sampled entries; the torch side
computes them, :func:`statmech_nn.networks.torch_hessian.HessianOperator.per_example_entries`), a bootstrap
replicate of an entry is the mean over a resample of examples: exact, and no Hessian is recomputed per
replicate. 003's supp. I (its bootstrap) is not in the source; our choices:

- **entries**: N entries drawn uniformly without replacement from the P(P+1)/2 distinct entries, or from
  those outside the same-layer blocks (:func:`sample_entries`; for the hinge loss those blocks are exactly
  zero, and in a small net they hold most entries: 78 % for a 64-12-8-1 MLP);
- **replicates**: B resamples of m = ``resample_size`` examples with replacement (default n, the standard
  bootstrap of the full-data Hessian; a training batch size gives the spread of mini-batch Hessians);
- **two readings of 003 Fig. 7b's "means normalized by their standard deviations"**, each with its value
  under the null (every entry's mean 0), which is the largest fraction the reading can show:

  - *bootstrap t* = mean/std of the replicate means ≈ √m·H_ab/σ_ab (σ_ab: the spread of the per-example
    contributions). With every mean 0, H_ab ~ N(0, σ²/n), so t ~ N(0, m/n) and
    frac(|t| < c) → 2Φ(c√(n/m)) − 1 (:func:`t_null_fraction`): 0.119 at m = n and c = 0.15, so a criterion
    "≥ 0.95" cannot be met under this reading (it needs m ≤ n (c/1.96)², n/171 at c = 0.15);
  - *effect* e = |H_ab|/σ_ab: each entry against the spread of its per-example contributions; with every
    mean 0, e ~ |N(0, 1)|/√n and frac(e < c) → 2Φ(c√n) − 1 (:func:`effect_null_fraction`, 1 − 1e-8 at
    n = 1437). Its band is its own: the binomial standard error √(f(1 − f)/N) of a fraction over N entries
    drawn independently (:meth:`EntryBootstrap.effect_band`), not the t reading's replicate band;
- frac(|t| < 0.15) with the t reading's band: per replicate r, the fraction of |est_r/std| < 0.15, and the
  standard deviation of that fraction over replicates;
- **correlations** (003 Figs. 6b,c): a bootstrap correlation of two entries across B replicates converges
  to the correlation of their per-example contributions over the n examples, and a test of it with √(B − 3)
  measures B, not the network (share of "non-zero" pairs 0.89/0.71/0.55/0.43 at B = 50/200/1000/4000). We
  compute the per-example Pearson correlation of a uniformly drawn subset of k entries over the n examples
  directly (:func:`correlation_sparsity`); a coefficient counts as non-zero when Fisher's z test
  (z = atanh(r)·√(n − 3); under independence var r ≈ 1/n for any law with finite fourth moments) rejects
  r = 0 under Benjamini–Hochberg control of the false discovery rate at q = 0.05 over the k(k − 1)/2 pairs.
  It does not depend on B. With independent entries BH rejects any pair with probability ≤ q, so the share
  of pairs not distinguishable from 0 (the sparsity) is 1 but for that;
- coupling-set size (003 Fig. 7c): the mean number of non-zero correlations per entry, extrapolated from
  the k − 1 partners in the subset to all P(P+1)/2 − 1 entries, as the exponent α = log(count)/log P.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import DataError
from ..params import require_int, require_positive, rng_from

T_THRESHOLD = 0.15
CORRELATION_SUBSET = 100
FDR_LEVEL = 0.05


def _triangle(linear: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-major lower-triangle position k → (row, column ≤ row)."""
    rows = ((np.sqrt(8.0 * linear + 1.0) - 1.0) // 2).astype(np.int64)
    rows += (rows + 1) * (rows + 2) // 2 <= linear   # float rounding near triangular numbers
    rows -= rows * (rows + 1) // 2 > linear
    return rows, linear - rows * (rows + 1) // 2


def sample_entries(dim: int, count: int, seed=0, *, exclude_blocks=()) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct entries (row ≥ column) drawn uniformly from the P(P+1)/2 entries of a symmetric P × P
    matrix, or from those outside the diagonal blocks ``exclude_blocks`` (slices of [0, P): e.g. the same-layer
    blocks, exactly zero for a bias-free ReLU net with the hinge loss)."""
    dim = require_int("dim", dim, 1)
    count = require_int("entries", count, 1)
    blocks = [(b.start, b.stop) for b in exclude_blocks]
    total = dim * (dim + 1) // 2 - sum((stop - start) * (stop - start + 1) // 2 for start, stop in blocks)
    if count > total:
        raise DataError(f"cannot sample {count} distinct entries from {total} eligible entries "
                        f"of a {dim} x {dim} matrix")
    rng = rng_from(seed)
    if not blocks:
        return _triangle(np.sort(rng.choice(dim * (dim + 1) // 2, size=count, replace=False)))
    block_of = np.full(dim, -1)
    for index, (start, stop) in enumerate(blocks):
        block_of[start:stop] = index
    chosen = np.empty(0, dtype=np.int64)
    while chosen.size < count:   # rejection: uniform over the eligible entries, distinct
        linear = rng.integers(0, dim * (dim + 1) // 2, size=2 * (count - chosen.size) + 16)
        rows, cols = _triangle(linear)
        keep = (block_of[rows] < 0) | (block_of[rows] != block_of[cols])
        chosen = np.unique(np.concatenate([chosen, linear[keep]]))
    return _triangle(np.sort(rng.choice(chosen, size=count, replace=False)))


def resample_indices(n: int, replicates: int, resample_size: int | None = None, seed=0) -> np.ndarray:
    """(B, m) example indices drawn with replacement: the bootstrap resamples."""
    n = require_int("examples", n, 1)
    replicates = require_int("bootstrap", replicates, 2)
    size = n if resample_size is None else require_int("resample_size", resample_size, 1)
    return rng_from(seed).integers(0, n, size=(replicates, size))


@dataclass(frozen=True)
class EntryBootstrap:
    """Replicate estimates (B, N) of N Hessian entries and their per-entry bootstrap statistics."""

    replicates: np.ndarray
    full: np.ndarray          # the full-data entries (mean of all contributions)
    example_std: np.ndarray   # the spread of the per-example contributions of each entry
    resample_size: int        # m, the examples per replicate

    @property
    def mean(self) -> np.ndarray:
        return self.replicates.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        return self.replicates.std(axis=0, ddof=1)

    @property
    def structural_zero(self) -> np.ndarray:
        """Entries whose every replicate is the same (std = 0): no t statistic."""
        return ~(self.std > 0)

    @property
    def t(self) -> np.ndarray:
        """mean/std per entry; NaN for structural zeros."""
        std = self.std
        return np.where(std > 0, self.mean / np.where(std > 0, std, 1.0), np.nan)

    def t_fraction(self, threshold: float = T_THRESHOLD) -> tuple[float, float]:
        """frac(|t| < threshold) over the entries with a t, and its bootstrap band (std over replicates)."""
        threshold = require_positive("threshold", threshold)
        live = ~self.structural_zero
        if not live.any():
            return float("nan"), float("nan")
        t = self.t[live]
        per_replicate = (np.abs(self.replicates[:, live] / self.std[live]) < threshold).mean(axis=1)
        return float((np.abs(t) < threshold).mean()), float(per_replicate.std(ddof=1))

    def effect_fraction(self, threshold: float = T_THRESHOLD) -> float:
        """frac(|H_ab|/std_i(h_i,ab) < threshold): each entry against the fluctuation of its per-example
        contributions (the other reading of 003 Fig. 6a's "normalized by their standard deviations")."""
        live = ~self.structural_zero
        if not live.any():
            return float("nan")
        return float((np.abs(self.full[live] / self.example_std[live]) < threshold).mean())

    def effect_band(self, threshold: float = T_THRESHOLD) -> float:
        """The effect reading's own band: the binomial standard error √(f(1 − f)/N) of its fraction f over the
        N entries with a t (entries drawn independently; module docstring)."""
        live = int((~self.structural_zero).sum())
        fraction = self.effect_fraction(threshold)
        return float(np.sqrt(fraction * (1 - fraction) / live)) if live else float("nan")


def t_null_fraction(n: int, resample_size: int, threshold: float = T_THRESHOLD) -> float:
    """frac(|t| < threshold) when every entry's mean is 0: 2Φ(c√(n/m)) − 1 (t ~ N(0, m/n); module docstring)."""
    return float(2 * stats.norm.cdf(threshold * np.sqrt(n / resample_size)) - 1)


def effect_null_fraction(n: int, threshold: float = T_THRESHOLD) -> float:
    """frac(|H_ab|/σ_ab < threshold) when every entry's mean is 0: 2Φ(c√n) − 1 (module docstring)."""
    return float(2 * stats.norm.cdf(threshold * np.sqrt(n)) - 1)


def bootstrap_entries(contributions: np.ndarray, indices: np.ndarray) -> EntryBootstrap:
    """Replicate means of per-example contributions (n, N) over resamples ``indices`` (B, m)."""
    contributions = np.asarray(contributions, dtype=np.float64)
    if contributions.ndim != 2 or not np.all(np.isfinite(contributions)):
        raise DataError(f"per-example contributions must be a finite (n, N) array, got shape {contributions.shape}")
    n = contributions.shape[0]
    if indices.ndim != 2 or indices.min() < 0 or indices.max() >= n:
        raise DataError(f"resample indices must be a (B, m) array of example indices below {n}")
    replicates, size = indices.shape
    offsets = (indices + n * np.arange(replicates)[:, None]).ravel()
    counts = np.bincount(offsets, minlength=n * replicates).reshape(replicates, n) / size
    return EntryBootstrap(counts @ contributions, contributions.mean(axis=0), contributions.std(axis=0, ddof=1), size)


def benjamini_hochberg(p_values: np.ndarray, level: float = FDR_LEVEL) -> np.ndarray:
    """The rejections of the Benjamini–Hochberg step-up procedure at false discovery rate ``level``."""
    p = np.asarray(p_values, dtype=np.float64).ravel()
    order = np.argsort(p)
    passed = p[order] <= level * np.arange(1, p.size + 1) / p.size
    reject = np.zeros(p.size, dtype=bool)
    if passed.any():
        reject[order[: np.nonzero(passed)[0].max() + 1]] = True
    return reject.reshape(np.shape(p_values))


@dataclass(frozen=True)
class CorrelationSparsity:
    """The per-example correlation matrix of a subset of entries over n examples and which coefficients are
    non-zero (module docstring)."""

    entries: np.ndarray        # positions (into the N sampled entries) of the subset
    correlation: np.ndarray    # (k, k)
    nonzero: np.ndarray        # (k, k) bool, False on the diagonal
    dim: int
    n_examples: int

    @property
    def pairs(self) -> int:
        return self.entries.size * (self.entries.size - 1) // 2

    @property
    def nonzero_pairs(self) -> int:
        return int(self.nonzero.sum() // 2)

    @property
    def sparsity(self) -> float:
        """Fraction of off-diagonal coefficients not distinguishable from 0."""
        return float(1.0 - self.nonzero_pairs / self.pairs)

    @property
    def degree(self) -> np.ndarray:
        """Per entry of the subset, the share of its k − 1 partners with a non-zero correlation."""
        return self.nonzero.sum(axis=1) / (self.entries.size - 1)

    @property
    def mean_count(self) -> float:
        """Mean number of non-zero correlations per entry, extrapolated to all P(P+1)/2 − 1 partners."""
        partners = self.dim * (self.dim + 1) / 2 - 1
        return float(self.degree.mean() * partners)

    @property
    def alpha(self) -> float:
        """Coupling-set exponent log(count)/log P (NaN when no coefficient is non-zero)."""
        count = self.mean_count
        return float(np.log(count) / np.log(self.dim)) if count > 0 and self.dim > 1 else float("nan")


def correlation_sparsity(contributions: np.ndarray, dim: int, *, subset: int = CORRELATION_SUBSET,
                         level: float = FDR_LEVEL, seed=0) -> CorrelationSparsity:
    """Per-example correlations over the n examples of ``subset`` entries drawn uniformly among those whose
    contributions vary (module docstring); independent of any bootstrap."""
    contributions = np.asarray(contributions, dtype=np.float64)
    n = contributions.shape[0]
    live = np.flatnonzero(contributions.std(axis=0) > 0)
    if live.size < 3:
        raise DataError(f"only {live.size} sampled entries vary over the examples; correlations need at least 3")
    if n < 4:
        raise DataError("Fisher's z test needs at least 4 examples")
    chosen = np.sort(rng_from(seed).choice(live, size=min(subset, live.size), replace=False))
    correlation = np.corrcoef(contributions[:, chosen], rowvar=False)
    upper = np.triu_indices(chosen.size, 1)
    r = np.clip(correlation[upper], -1 + 1e-15, 1 - 1e-15)
    p = 2 * stats.norm.sf(np.abs(np.arctanh(r)) * np.sqrt(n - 3))
    nonzero = np.zeros_like(correlation, dtype=bool)
    nonzero[upper] = benjamini_hochberg(p, level)
    return CorrelationSparsity(chosen, correlation, nonzero | nonzero.T, int(dim), int(n))


def entry_statistics(contributions: np.ndarray, dim: int, *, bootstrap: int, resample_size: int | None = None,
                     correlation_subset: int = CORRELATION_SUBSET, seed: int = 0) -> tuple[dict, dict]:
    """Every statistic of N sampled entries from their per-example contributions (n, N): a flat, JSON-ready
    summary (both readings of 003 Fig. 7b with their bands and null values, the correlation sparsity and the
    coupling exponent) and the per-entry arrays (name → (dims, values)). The plasticity protocol and the
    planted truths of :mod:`statmech_nn.compare.planted.hessian_truths` both go through here."""
    n = np.shape(contributions)[0]
    boot = bootstrap_entries(contributions, resample_indices(n, bootstrap, resample_size, seed + 1))
    fraction, band = boot.t_fraction(T_THRESHOLD)
    live = int((~boot.structural_zero).sum())
    summary = {"entries": int(boot.full.size), "bootstrap": int(bootstrap), "n_examples": int(n),
               "resample_size": boot.resample_size, "structural_zero_entries": int(boot.full.size - live),
               "frac_t_below_0_15": fraction, "frac_t_below_0_15_band": band,
               "frac_t_null": t_null_fraction(n, boot.resample_size),
               "frac_effect_below_0_15": boot.effect_fraction(T_THRESHOLD),
               "frac_effect_below_0_15_band": boot.effect_band(T_THRESHOLD),
               "frac_effect_null": effect_null_fraction(n)}
    variables = {"entry_value": (("entry",), boot.full), "entry_mean": (("entry",), boot.mean),
                 "entry_std": (("entry",), boot.std), "entry_t": (("entry",), boot.t),
                 "entry_example_std": (("entry",), boot.example_std)}
    if live >= 3:
        sparsity = correlation_sparsity(contributions, dim, subset=correlation_subset, seed=seed + 2)
        summary.update({"correlation_subset": int(sparsity.entries.size), "correlation_sparsity": sparsity.sparsity,
                        "correlation_pairs": sparsity.pairs, "correlation_nonzero_pairs": sparsity.nonzero_pairs,
                        "correlation_degree_mean": float(sparsity.degree.mean()),
                        "correlation_degree_std": float(sparsity.degree.std(ddof=1)),
                        "coupling_count": sparsity.mean_count, "coupling_alpha": sparsity.alpha})
        variables.update({"correlation": (("entry_a", "entry_b"), sparsity.correlation),
                          "correlation_nonzero": (("entry_a", "entry_b"), sparsity.nonzero.astype(np.int8))})
    else:
        summary.update({"correlation_subset": 0, "correlation_sparsity": None, "coupling_count": None,
                        "coupling_alpha": None})
    return summary, variables
