"""Bootstrap statistics of Hessian entries, their correlations and coupling-set sizes (003 Figs. 6, 7).

The loss is a mean over examples, so every Hessian entry is a mean of per-example contributions,
H_ab = (1/n) Σ_i h_i,ab. Given those contributions (an (n, N) array for N sampled entries; the torch side
computes them, :func:`statmech_nn.networks.hessian.HessianOperator.per_example_entries`), a bootstrap
replicate of an entry is the mean over a resample of examples: exact, and no Hessian is recomputed per
replicate. 003's supp. I (its bootstrap) is not in the source; our choices:

- **entries**: N entries drawn uniformly without replacement from the P(P+1)/2 distinct entries, or from
  those outside the same-layer blocks (:func:`sample_entries`; for the hinge loss those blocks are exactly
  zero, and in a small net they hold most entries: 78 % for a 64-12-8-1 MLP);
- **replicates**: B resamples of ``resample_size`` examples with replacement (default n, the standard
  bootstrap of the full-data Hessian; a training batch size gives the spread of mini-batch Hessians);
- per entry: the bootstrap mean and standard deviation of the replicate means and t = mean/std
  (003 Fig. 7a, "means normalized by the standard deviations"); entries with std = 0 (structural zeros,
  e.g. same-layer entries of a bias-free ReLU net with the hinge loss, or weights of always-zero inputs)
  have no t and are counted apart. With m = n the bootstrap std is the standard error, so an entry whose
  mean is 0 has t ~ N(0, 1) and frac(|t| < 0.15) ≈ 0.12; the other reading of 003's normalization, each
  entry against the spread of its per-example contributions (std_i h_i,ab ≈ √m · bootstrap std), is
  :meth:`EntryBootstrap.effect_fraction`;
- frac(|t| < 0.15) (003 Fig. 7b) with a band: per replicate r, the fraction of |est_r/std| < 0.15, and the
  standard deviation of that fraction over replicates;
- correlations: the Pearson correlation matrix of a uniformly drawn 100-entry subset across the replicates
  (003 Fig. 6b,c); a coefficient counts as non-zero when Fisher's z test (z = atanh(r)·√(B − 3)) rejects
  r = 0 under Benjamini–Hochberg control of the false discovery rate at q = 0.05 over the off-diagonal pairs;
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


def bootstrap_entries(contributions: np.ndarray, indices: np.ndarray) -> EntryBootstrap:
    """Replicate means of per-example contributions (n, N) over resamples ``indices`` (B, m)."""
    contributions = np.asarray(contributions, dtype=np.float64)
    if contributions.ndim != 2 or not np.all(np.isfinite(contributions)):
        raise DataError(f"per-example contributions must be a finite (n, N) array, got shape {contributions.shape}")
    n = contributions.shape[0]
    if indices.ndim != 2 or indices.min() < 0 or indices.max() >= n:
        raise DataError(f"resample indices must be a (B, m) array of example indices below {n}")
    counts = np.stack([np.bincount(row, minlength=n) for row in indices]).astype(np.float64) / indices.shape[1]
    return EntryBootstrap(counts @ contributions, contributions.mean(axis=0), contributions.std(axis=0, ddof=1))


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
    """The correlation matrix of a subset of entries across replicates and which coefficients are non-zero."""

    entries: np.ndarray        # positions (into the N sampled entries) of the subset
    correlation: np.ndarray    # (k, k)
    nonzero: np.ndarray        # (k, k) bool, False on the diagonal
    dim: int

    @property
    def sparsity(self) -> float:
        """Fraction of off-diagonal coefficients not distinguishable from 0."""
        k = self.entries.size
        return float(1.0 - self.nonzero.sum() / (k * (k - 1)))

    @property
    def mean_count(self) -> float:
        """Mean number of non-zero correlations per entry, extrapolated to all P(P+1)/2 − 1 partners."""
        k = self.entries.size
        partners = self.dim * (self.dim + 1) / 2 - 1
        return float(self.nonzero.sum(axis=1).mean() / (k - 1) * partners)

    @property
    def alpha(self) -> float:
        """Coupling-set exponent log(count)/log P (NaN when no coefficient is non-zero)."""
        count = self.mean_count
        return float(np.log(count) / np.log(self.dim)) if count > 0 and self.dim > 1 else float("nan")


def correlation_sparsity(boot: EntryBootstrap, dim: int, *, subset: int = CORRELATION_SUBSET, level: float = FDR_LEVEL,
                         seed=0) -> CorrelationSparsity:
    """Correlations across replicates of ``subset`` entries drawn uniformly among those with a t (module docstring)."""
    live = np.flatnonzero(~boot.structural_zero)
    if live.size < 3:
        raise DataError(f"only {live.size} sampled entries vary over the replicates; correlations need at least 3")
    chosen = np.sort(rng_from(seed).choice(live, size=min(subset, live.size), replace=False))
    replicates = boot.replicates.shape[0]
    if replicates < 4:
        raise DataError("Fisher's z test needs at least 4 bootstrap replicates")
    correlation = np.corrcoef(boot.replicates[:, chosen], rowvar=False)
    upper = np.triu_indices(chosen.size, 1)
    r = np.clip(correlation[upper], -1 + 1e-15, 1 - 1e-15)
    p = 2 * stats.norm.sf(np.abs(np.arctanh(r)) * np.sqrt(replicates - 3))
    nonzero = np.zeros_like(correlation, dtype=bool)
    nonzero[upper] = benjamini_hochberg(p, level)
    return CorrelationSparsity(chosen, correlation, nonzero | nonzero.T, int(dim))
