"""Local fluctuations of the tracked variables and their densities (002 §5, Figs. 2-3).

002 §5 studies "truly local fluctuations" w_i(t+1) - w̄_i(t) ≈ w_i(t+1) - w_i(t). Both are here:

- :func:`increments`: Δq = q(t + lag) - q(t) per column;
- :func:`running_mean_deviations`: q(t+1) - q̄_W(t), q̄_W(t) the mean of the W rows up to t;
- :func:`mean_deviations`: q(t) - <q>, the mean over the whole run: the fluctuation q - q̄ of 002 eq. (6)
  for samples of an equilibrium (a sampler), where q̄ does not move.

:func:`fluctuation_densities` turns samples Δ (n, K) into an xarray Dataset with the two views of
002 Fig. 3: the density p(Δ) at |Δ| on log-spaced bins (log-log view: a power law is a straight
line), and p(Δ) on bins uniform in Δ² (log-quadratic view: a Gaussian is a straight line). The
densities are of the signed Δ, symmetrized: on a bin of |Δ| of width w holding c samples,
p = c / (2 n w). Error bars are Poisson, √c/(2 n w); successive increments of a time series are
correlated, so treat them as lower bounds. Exact zeros (a weight that did not move) count in n but
lie in no log bin; ``n_zero`` records them.

Every source is read the same way (:func:`fluctuation_samples` takes a
:class:`~statmech_nn.io.Trajectory`), so a sampler's chains and a network's weights give the same
Dataset; the theory of :mod:`statmech_nn.compare.overlay` is evaluated on its coordinates.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError
from ..io import Trajectory
from ..params import require_int, sample_columns
from ._numerics.binning import log_bin_counts, log_density_table, log_edges

MODES = ("increment", "running_mean", "mean")


def increments(q, lag: int = 1) -> np.ndarray:
    """Δq = q(t + lag) - q(t) along axis 0 of a (time, K) array."""
    lag = require_int("lag", lag, 1)
    q = np.asarray(q, float)
    if q.shape[0] <= lag:
        raise DataError(f"a series of {q.shape[0]} rows has no increments at lag {lag}")
    return q[lag:] - q[:-lag]


def running_mean_deviations(q, window: int) -> np.ndarray:
    """q(t+1) - q̄_W(t), with q̄_W(t) the mean of rows t-W+1, ..., t (002 §5's w(t+1) - w̄(t)); (time - W, K)."""
    window = require_int("window", window, 1)
    q = np.asarray(q, float)
    if q.shape[0] <= window:
        raise DataError(f"a series of {q.shape[0]} rows has no running mean over {window} rows")
    centred = q - q[:1]  # keeps the cumulative sums small
    cumulative = np.concatenate([np.zeros((1, q.shape[1])), np.cumsum(centred, axis=0)])
    means = (cumulative[window:-1] - cumulative[:-window - 1]) / window  # rows W-1 ... T-2
    return centred[window:] - means


def mean_deviations(q) -> np.ndarray:
    """q(t) - <q>, with <q> each column's mean over all rows (002 eq. (6)'s q - q̄ for equilibrium samples)."""
    q = np.asarray(q, float)
    if q.shape[0] < 2:
        raise DataError(f"a series of {q.shape[0]} rows has no fluctuations about its mean")
    return q - q.mean(axis=0)


def uniform_step(t) -> int:
    """The common spacing of the step indices t; a trajectory with gaps or uneven spacing is an error."""
    t = np.asarray(t, np.int64)
    if t.size < 2:
        raise DataError("a trajectory needs at least two rows")
    steps = np.diff(t)
    if np.any(steps != steps[0]) or steps[0] <= 0:
        raise DataError("the trajectory's step indices t are not evenly spaced: fluctuations and spectra need a "
                        "uniform time grid")
    return int(steps[0])


def fluctuation_samples(trajectory: Trajectory, mode: str = "increment", lag: int = 1, window: int = 100) -> np.ndarray:
    """The fluctuation samples (n, K) of every column of a trajectory; ``mode`` is one of :data:`MODES`."""
    uniform_step(trajectory.t)
    if mode == "increment":
        return increments(trajectory.q, lag)
    if mode == "running_mean":
        return running_mean_deviations(trajectory.q, window)
    if mode == "mean":
        return mean_deviations(trajectory.q)
    raise DataError(f"unknown fluctuation mode {mode!r}: choose one of {', '.join(MODES)}")


def _binnable(samples: np.ndarray) -> np.ndarray:
    """|Δ|, with non-finite samples at 0 (they lie in no log bin)."""
    return np.where(np.isfinite(samples), np.abs(samples), 0.0)


class FluctuationHistogram:
    """The densities of :func:`fluctuation_densities` accumulated block by block, for samples too many to hold: a
    first pass (:meth:`scan`) over every block fixes each column's ranges (smallest positive and largest |Δ|, which
    set the log bins and the Δ² shells) and sums the moments; a second (:meth:`count`) over the same blocks counts
    them into the bins. The counts are exact; ``delta_rms`` and ``delta_mean`` equal the one-block values up to the
    order of summation."""

    def __init__(self, columns: int, per_decade: int = 10, quadratic_bins: int = 40):
        self.per_decade = require_int("per_decade", per_decade, 1)
        self.quadratic_bins = require_int("quadratic_bins", quadratic_bins, 2)
        self.n = 0
        self.n_zero = np.zeros(columns, np.int64)
        self.sum = np.zeros(columns)
        self.sum_squares = np.zeros(columns)
        self.smallest = np.full(columns, np.inf)    # smallest positive |Δ|
        self.largest = np.zeros(columns)            # largest |Δ|
        self._edges = None

    def scan(self, samples) -> None:
        samples = np.asarray(samples, float)
        magnitude = _binnable(samples)
        self.n += samples.shape[0]
        self.n_zero += np.sum(samples == 0, axis=0)
        self.sum += samples.sum(axis=0)
        self.sum_squares += np.sum(samples * samples, axis=0)
        self.smallest = np.minimum(self.smallest, np.min(np.where(magnitude > 0, magnitude, np.inf), axis=0))
        self.largest = np.maximum(self.largest, magnitude.max(axis=0))

    def zero_columns(self, columns) -> None:
        """Count every sample of the chosen columns as 0 (e.g. a diverged weight), after they were scanned."""
        columns = np.asarray(columns, bool)
        self.n_zero[columns] = self.n
        self.sum[columns] = self.sum_squares[columns] = 0.0
        self.smallest[columns], self.largest[columns] = np.inf, 0.0

    def _fix_bins(self) -> None:
        self._edges = [log_edges(lo, hi, self.per_decade) if np.isfinite(lo) else np.array([np.nan, np.nan])
                       for lo, hi in zip(self.smallest, self.largest)]
        self._counts = [np.zeros(max(edges.size - 1, 0) if np.isfinite(edges[0]) else 0, np.int64)
                        for edges in self._edges]
        top = self.largest * self.largest
        self._top = np.where(top > 0, top, 1.0)
        self._shells = np.zeros((self.n_zero.size, self.quadratic_bins), np.int64)

    def count(self, samples) -> None:
        """Count a block (after every block was scanned)."""
        if self._edges is None:
            self._fix_bins()
        samples = np.asarray(samples, float)
        magnitude = _binnable(samples)
        for j, edges in enumerate(self._edges):  # one histogram per column, each vectorized over samples
            x = magnitude[:, j]
            self._counts[j] += log_bin_counts(edges, x[x > 0])
        bins, k = self.quadratic_bins, samples.shape[1]
        index = np.minimum((samples * samples / self._top * bins).astype(np.int64), bins - 1)
        self._shells += np.bincount((index + bins * np.arange(k)[None, :]).ravel(),
                                    minlength=k * bins).reshape(k, bins)

    def dataset(self, names=None, chain=None, units: str = "q", kind: str = "increment") -> xr.Dataset:
        if self._edges is None:
            self._fix_bins()
        n, k, bins = self.n, self.n_zero.size, self.quadratic_bins
        names = [f"q{j}" for j in range(k)] if names is None else [str(v) for v in names]
        chain = np.zeros(k, np.int64) if chain is None else np.asarray(chain, np.int64)
        folded = log_density_table(self._edges, self._counts, float(n))
        edges = self._top[:, None] * np.linspace(0.0, 1.0, bins + 1)[None, :]  # (K, bins + 1), uniform in Δ²
        width = 2.0 * np.diff(np.sqrt(edges), axis=1)  # the Δ-measure of {Δ: Δ² in the bin}
        counts = self._shells
        density, error = counts / (n * width), np.sqrt(counts) / (n * width)
        return _densities_dataset(folded, edges, counts, density, error, self, names, chain, units, kind)


def fluctuation_densities(samples, names=None, chain=None, per_decade: int = 10, quadratic_bins: int = 40,
                          units: str = "q", kind: str = "increment") -> xr.Dataset:
    """Densities of fluctuation samples (n, K) in both views, as a Dataset over (column, abs_bin | sq_bin).

    ``units``: the unit of the tracked variable, written into the attributes. See the module docstring.
    """
    samples = sample_columns(samples, 2, "fluctuation samples")
    histogram = FluctuationHistogram(samples.shape[1], per_decade, quadratic_bins)
    histogram.scan(samples)
    histogram.count(samples)
    return histogram.dataset(names, chain, units, kind)


def _densities_dataset(folded, edges, counts, density, error, histogram, names, chain, units, kind) -> xr.Dataset:
    n, k = histogram.n, len(names)
    density_unit, square_unit = f"1/{units}", f"{units}^2"
    coords = {
        "column": ("column", np.arange(k)), "name": ("column", names), "chain": ("column", chain),
        "abs_delta": (("column", "abs_bin"), folded["center"],
                      {"units": units, "long_name": "|Δ| (bin centre, geometric)"}),
        "abs_delta_lo": (("column", "abs_bin"), folded["lo"], {"units": units}),
        "abs_delta_hi": (("column", "abs_bin"), folded["hi"], {"units": units}),
        "delta_sq": (("column", "sq_bin"), 0.5 * (edges[:, 1:] + edges[:, :-1]),
                     {"units": square_unit, "long_name": "Δ² (bin centre)"}),
        "delta_sq_lo": (("column", "sq_bin"), edges[:, :-1], {"units": square_unit}),
        "delta_sq_hi": (("column", "sq_bin"), edges[:, 1:], {"units": square_unit}),
    }
    data = {
        "density_abs": (("column", "abs_bin"), 0.5 * folded["density"],
                        {"units": density_unit, "long_name": "p(Δ) at |Δ|, log-binned"}),
        "density_abs_err": (("column", "abs_bin"), 0.5 * folded["error"], {"units": density_unit}),
        "count_abs": (("column", "abs_bin"), folded["count"], {"units": "1"}),
        "density_sq": (("column", "sq_bin"), density, {"units": density_unit, "long_name": "p(Δ) on shells of Δ²"}),
        "density_sq_err": (("column", "sq_bin"), error, {"units": density_unit}),
        "count_sq": (("column", "sq_bin"), counts, {"units": "1"}),
        "n_samples": ("column", np.full(k, n), {"units": "1"}),
        "n_zero": ("column", histogram.n_zero, {"units": "1"}),
        "delta_rms": ("column", np.sqrt(histogram.sum_squares / n), {"units": units}),
        "delta_mean": ("column", histogram.sum / n, {"units": units}),
    }
    attrs = {"observable": "fluctuation densities", "fluctuation": kind, "source_document": "002 §5, Figs. 2-3",
             "per_decade": histogram.per_decade, "error_bars": "Poisson (lower bounds for correlated series)"}
    return xr.Dataset(data, coords=coords, attrs=attrs)
