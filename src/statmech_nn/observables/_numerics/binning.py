"""Log-spaced binning shared by the observables: densities of samples and averages of spectra.

Two jobs, both vectorized over columns and padded with NaN where a column has fewer bins:

- :func:`log_binned_density`: a histogram density with Poisson error bars on log-spaced bins, the
  estimator behind the log-log views of 002 Figs. 2-3;
- :func:`log_binned_mean`: the mean of y(x) over log-spaced bins of x with the standard error of that
  mean, used for f²·P(f) (002 Fig. 4) where a raw periodogram has one noisy point per frequency.

Bins are given per decade, so their width in log10 is the same for every column; the edges of each
column start at its own smallest positive value (different weights fluctuate on different scales).
"""

from __future__ import annotations

import numpy as np

from ...errors import DataError
from ...params import require_int


_ROWS_AT_ONCE = 8


def log_edges(lo: float, hi: float, per_decade: int) -> np.ndarray:
    """Edges lo · 10^{i/per_decade}, i = 0, 1, ..., up to the first edge ≥ hi (at least one bin)."""
    if not (0 < lo < np.inf and 0 < hi < np.inf):
        raise DataError(f"log bins need finite positive limits, got [{lo}, {hi}]")
    count = max(1, int(np.ceil(per_decade * np.log10(hi / lo) - 1e-12)))
    edges = lo * 10.0 ** (np.arange(count + 1) / per_decade)
    edges[-1] = max(edges[-1], hi)
    return edges


def log_binned_density(values, per_decade: int = 10, total=None):
    """Density of positive samples on log bins, per column.

    ``values``: (n, K) array; zeros and non-finite entries are not binned. The density of column k is
    count / (total_k · width), so that with ``total`` = the number of all samples (zeros included, the
    default) it integrates to the fraction of positive samples. Errors are Poisson: √count / (total · width).

    Returns a dict of (K, B) arrays ``center`` (geometric), ``lo``, ``hi``, ``density``, ``error``,
    ``count`` (NaN or 0 beyond a column's last bin).
    """
    per_decade = require_int("per_decade", per_decade, 1)
    values = np.asarray(values, float)
    if values.ndim == 1:
        values = values[:, None]
    n, k = values.shape
    total = np.full(k, float(n)) if total is None else np.broadcast_to(np.asarray(total, float), (k,))
    positive = np.isfinite(values) & (values > 0)
    column_edges, column_counts = [], []
    for j in range(k):  # one histogram per column (a handful of columns), each vectorized over samples
        x = values[positive[:, j], j]
        edges = log_edges(x.min(), x.max(), per_decade) if x.size else np.array([np.nan, np.nan])
        column_edges.append(edges)
        column_counts.append(log_bin_counts(edges, x))
    return log_density_table(column_edges, column_counts, total)


def log_bin_counts(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Counts of the positive values ``x`` on the bins ``edges`` (values past the ends go to the end bins)."""
    if not np.isfinite(edges[0]):
        return np.zeros(0, np.int64)
    return np.bincount(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2),
                       minlength=edges.size - 1)


def log_density_table(column_edges: list, column_counts: list, total) -> dict:
    """The dict of :func:`log_binned_density` from each column's edges (NaN edges: no positive value) and counts
    (e.g. accumulated block by block with :func:`log_bin_counts`), ``total`` samples per column."""
    k = len(column_edges)
    total = np.broadcast_to(np.asarray(total, float), (k,))
    width = max(e.size for e in column_edges) - 1
    out = {name: np.full((k, width), np.nan) for name in ("center", "lo", "hi", "density", "error")}
    out["count"] = np.zeros((k, width), np.int64)
    for j, (edges, counts) in enumerate(zip(column_edges, column_counts)):
        if not np.isfinite(edges[0]):
            continue
        b = edges.size - 1
        widths = np.diff(edges)
        out["lo"][j, :b], out["hi"][j, :b] = edges[:-1], edges[1:]
        out["center"][j, :b] = np.sqrt(edges[:-1] * edges[1:])
        out["count"][j, :b] = counts
        out["density"][j, :b] = counts / (total[j] * widths)
        out["error"][j, :b] = np.sqrt(counts) / (total[j] * widths)
    return out


def log_binned_mean(x, y, per_decade: int = 10, x_min=None):
    """Mean of ``y`` over log-spaced bins of ``x`` (shared by all columns), with standard errors.

    ``x``: (m,) positive abscissae (e.g. frequencies); ``y``: (K, m). Bins start at ``x_min`` (default
    the smallest positive x). A bin holding one point gets the error NaN (no spread to estimate).
    Returns a dict with (B,) ``center`` (geometric), ``lo``, ``hi``, ``count`` and (K, B) ``mean``, ``error``.
    """
    per_decade = require_int("per_decade", per_decade, 1)
    x = np.asarray(x, float)
    y = np.atleast_2d(np.asarray(y, float))
    keep = np.isfinite(x) & (x > 0)
    if x_min is not None:
        keep &= x >= x_min
    if not keep.any():
        raise DataError("log_binned_mean needs at least one positive abscissa")
    if not keep.all():
        x, y = x[keep], y[:, keep]
    edges = log_edges(x.min(), x.max(), per_decade)
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    bins = edges.size - 1
    count = np.bincount(index, minlength=bins).astype(float)
    sums = np.zeros((y.shape[0], bins))
    squares = np.zeros((y.shape[0], bins))
    for lo in range(0, y.shape[0], _ROWS_AT_ONCE):   # y can be a long spectrum of many columns: y² a few at a time
        part = y[lo:lo + _ROWS_AT_ONCE]
        np.add.at(sums[lo:lo + _ROWS_AT_ONCE].T, index, part.T)
        np.add.at(squares[lo:lo + _ROWS_AT_ONCE].T, index, (part * part).T)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / count
        variance = (squares - count * mean * mean) / (count - 1.0)
        error = np.sqrt(np.maximum(variance, 0.0) / count)
    error[:, count < 2] = np.nan
    used = count > 0
    return {"center": np.sqrt(edges[:-1] * edges[1:])[used], "lo": edges[:-1][used], "hi": edges[1:][used],
            "count": count[used].astype(np.int64), "mean": mean[:, used], "error": error[:, used]}
