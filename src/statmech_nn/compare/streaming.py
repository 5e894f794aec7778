"""The analysis of a trajectory file read in blocks of rows, so that its memory does not grow with the window
(issue 23, item 4): the chain of :mod:`statmech_nn.compare.analysis` for ``analyze_trajectory(path)`` and
``statmech-nn analyze``; an array or a :class:`~statmech_nn.io.Trajectory` is analysed in memory.

Two or three passes over the file (:class:`~statmech_nn.io.TrajectoryReader`, blocks of ``block_rows`` rows,
default :data:`~statmech_nn.compare.analysis.BLOCK_VALUES` / K). Each pass computes, block by block, the analysed
series (the momentum filter of :mod:`statmech_nn.compare.dynamics` run with its state carried between blocks,
``scipy.signal.lfilter(..., zi=)``), the steps (w, y, rounding) and the fluctuation samples, from the stored rows
and a carried tail (the previous stored row, the last ``lag`` rows of the series, or the running cumulative sum
for ``mode="running_mean"``, so that every sum is added in the in-memory order):

1. per column: finiteness, the series' sum, the Welch periodograms of its complete segments
   (:class:`~statmech_nn.observables.spectrum.WelchAccumulator`), Σw² and Σwy (each column's own decay rate,
   :func:`~statmech_nn.compare.steps.rates_from_sums`), the sums of the steps' lag-1 autocorrelation, whether a
   step moved, every m_s-th stored row (the stationarity rows), and the samples' ranges and moments
   (:class:`~statmech_nn.observables.fluctuations.FluctuationHistogram`);
2. the samples' counts in the densities' bins, whether every step of a column matches its own decay rate
   (decay-only columns), every m_f-th sample (the fit subsample), and, when the run header records the decay rate,
   the decay labels of the steps (:class:`_Labels`);
3. only for ``mode="mean"`` (the samples need the mean of pass 1: ranges in pass 2, counts here) or when the decay
   rate comes from the data (:func:`~statmech_nn.compare.steps.decay_rate`: decay-only columns, or the mode of
   -Δ/w on the subsample's steps kept in pass 2): the counts, or the labels.

Against the in-memory path on the same rows (tests/test_compare_streaming.py):

- exact: the densities' bins and counts, which columns are decay-only, the decay source and rate when recorded
  or from decay-only columns;
- equal up to the order of summation (relative 1e-9 in the tests): delta_rms, delta_mean, the Welch P(f) (the
  same segments' periodograms, summed), the band exponents, the steps' lag-1 autocorrelation (from sums) and each
  column's own decay rate;
- on a subsample: the fits and everything they give (status, exponent, c, σ, intervals, goodness of fit,
  alternatives, peak mass, halves, the gradient-peak and CSN bootstraps), the decay split of the fitted samples and a
  decay rate found as the mode of -Δ/w see every m_f-th sample, m_f = ⌈n / fit_rows⌉: all of them when
  n ≤ ``fit_rows``, and then they are identical;
- stationarity: :func:`~statmech_nn.observables.stationarity.stationarity_rows` of the trajectory thinned to every
  m_s-th row, m_s = ⌈T / stationarity_rows⌉, i.e. the trajectory as if recorded every m_s steps (all rows, and
  identical, when T ≤ ``stationarity_rows``). Thinning keeps each weight's marginal law and, for a column whose
  autocorrelation time τ exceeds m_s rows, its n/τ; a column with τ < m_s looks independent from row to row
  (τ̂ ≈ 1 thinned row), so its window counts T/m_s autocorrelation times instead of T/τ: the "window ≥ 50 τ" and
  drift-bound checks are then judged on fewer effective samples than the data hold (conservative: "supported"
  needs more), and the drift test's power is that of T/m_s independent rows (calibrated at m_s = 3 and 9: the ``thin*``
  scenarios of :mod:`statmech_nn.compare.planted.stationarity_truths`, within design);
- the Analysis's ``trajectory`` holds the thinned rows (the traces figure draws them) and x, read whole.

Memory: a few arrays of one block, the Welch buffer of one segment (segment × K, in the stored dtype for an
unfiltered series) and its (K, segment/2 + 1) periodogram sum, the fit subsample (≤ fit_rows × K, four arrays)
and the stationarity rows (≤ stationarity_rows × K). The default segment grows with the window (2^⌊log2(n/8)⌋
rows, :func:`~statmech_nn.observables.spectrum.default_segment`); ``segment`` bounds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import lfilter
from tqdm import tqdm

from .analysis import BLOCK_VALUES, STATIONARITY_ROWS, AnalysisOptions, Analysis, Measured, conclude
from .dynamics import StepTreatment, treatment
from .steps import DecaySplit, decay_rate, label_decay, own_rates_fit, rates_from_sums, rounding
from ..errors import DataError
from ..io import TrajectoryReader
from ..runs.directory import RunDirectory
from ..observables.fluctuations import FluctuationHistogram
from ..observables.spectrum import WelchAccumulator, default_segment, spectrum_from_psd
from ..params import require_int


@dataclass
class _Block:
    """One block's rows: stored (q, t, from row ``start``), the new rows of the analysed series, the analysed steps
    ending in the block (w, y, rounding; from step ``step_start``) and the new samples (from ``sample_start``)."""

    start: int
    t: np.ndarray
    q: np.ndarray
    series: np.ndarray
    w: np.ndarray
    y: np.ndarray
    tolerance: np.ndarray
    step_start: int
    samples: np.ndarray | None
    sample_start: int


class _Filter:
    """The step treatment's filter with its state carried from block to block (identity without a filter)."""

    def __init__(self, step: StepTreatment, columns: int):
        self.step = step
        order = max(len(step.numerator), len(step.denominator)) - 1
        self.state = np.zeros((order, columns)) if step.filtered else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.state is None or x.shape[0] == 0:
            return x
        y, self.state = lfilter(self.step.numerator, self.step.denominator, x, axis=0, zi=self.state)
        return y


class _Samples:
    """The fluctuation samples of :func:`~statmech_nn.observables.fluctuations.fluctuation_samples` from the series
    fed block by block: increments from the last ``lag`` rows carried; running-mean deviations from the running
    cumulative sum of the centred series carried (its last ``window`` + 1 values), so that the sums are added in the
    in-memory order."""

    def __init__(self, mode: str, lag: int, window: int, mean: np.ndarray | None):
        self.mode, self.lag, self.window, self.mean = mode, lag, window, mean
        self.tail = None        # increments: the last lag rows; running mean: the last window + 1 cumulative sums
        self.origin = None      # the running mean's centring: the first row of the series
        self.rows = 0           # rows of the series fed so far

    def __call__(self, series: np.ndarray) -> np.ndarray:
        if self.mode == "mean":
            return series - self.mean
        if self.mode == "increment":
            joined = series if self.tail is None else np.concatenate([self.tail, series])
            self.tail = joined[-self.lag:]
            return joined[self.lag:] - joined[:-self.lag] if joined.shape[0] > self.lag else joined[:0]
        if series.shape[0] == 0:
            return series
        if self.origin is None:
            self.origin, self.tail = series[:1].copy(), np.zeros((1, series.shape[1]))
        centred = series - self.origin
        start, self.rows = self.rows, self.rows + series.shape[0]
        cumulative = np.concatenate([self.tail, np.cumsum(np.concatenate([self.tail[-1:], centred]), axis=0)[1:]])
        offset = start + 1 - self.tail.shape[0]       # the row index of cumulative[0]
        self.tail = cumulative[-(self.window + 1):]
        rows = np.arange(max(start, self.window), self.rows) - offset
        means = (cumulative[rows] - cumulative[rows - self.window]) / self.window
        return centred[rows + offset - start] - means


def _walk(reader: TrajectoryReader, step: StepTreatment, block_rows: int, samples: _Samples | None, desc: str,
          progress: bool):
    """Yield a :class:`_Block` per block of the file (see the module docstring)."""
    k = reader.n_columns
    series_filter, step_filter = _Filter(step, k), _Filter(step, k)
    previous = None
    sample_index = 0
    gain = step.rounding_gain
    with tqdm(total=reader.n_rows, desc=desc, unit="row", disable=not progress) as bar:
        for start, t, q in reader.blocks(block_rows):
            rows = q.astype(float)
            series = series_filter(rows)[max(0, step.drop - start):]
            joined = q if previous is None else np.concatenate([previous, q])
            first_step = 0 if previous is None else start - 1
            values = joined.astype(float)
            skip = max(0, step.drop - first_step)
            w, y = values[:-1][skip:], step_filter(np.diff(values, axis=0))[skip:]
            tolerance = (rounding(joined) * gain)[skip:]
            previous = q[-1:]
            new = None if samples is None else samples(series)
            yield _Block(start, t, q, series, w, y, tolerance, max(first_step, step.drop) - step.drop, new,
                         sample_index)
            sample_index += 0 if new is None else new.shape[0]
            bar.update(q.shape[0])


def stationarity_stride(n_rows: int, limit: int = STATIONARITY_ROWS) -> int:
    """m_s = ⌈T / limit⌉: the stationarity tests of a file of T rows see every m_s-th row, those whose index is a
    multiple of m_s (``q[::m_s]``; module docstring), at most ``limit`` rows."""
    return -(-n_rows // limit)


def _every(stride: int, start: int, size: int) -> slice:
    """The rows of a block (global indices start .. start + size) whose global index is a multiple of ``stride``."""
    return slice((-start) % stride, size, stride)


class _FirstPass:
    """Pass 1's accumulators (module docstring)."""

    def __init__(self, k: int, welch: WelchAccumulator, thin: int):
        self.welch, self.thin = welch, thin
        self.finite = np.ones(k, bool)
        self.series_sum, self.series_n = np.zeros(k), 0
        self.norm, self.cross = np.zeros(k), np.zeros(k)          # Σw², Σwy
        self.moved = np.zeros(k, bool)
        self.n, self.total, self.squares, self.lagged = 0, np.zeros(k), np.zeros(k), np.zeros(k)
        self.first_y = self.last_y = None
        self.kept_q, self.kept_t = [], []
        self.last_t, self.spacing = None, None

    def add(self, block: _Block) -> None:
        self._check_spacing(block.t)
        series, y, w = block.series, block.y, block.w
        self.finite &= np.all(np.isfinite(series), axis=0)
        # added row after row onto the running sum, as numpy sums a (T, K > 1) array's axis 0 in memory
        self.series_sum = np.sum(np.concatenate([self.series_sum[None, :], series]), axis=0)
        self.series_n += series.shape[0]
        self.welch.add(series)
        self.norm += np.sum(w * w, axis=0)
        self.cross += np.sum(y * w, axis=0)
        self.moved |= np.any(y != 0, axis=0)
        if y.shape[0]:
            joined = y if self.last_y is None else np.concatenate([self.last_y, y])
            self.lagged += np.sum(joined[1:] * joined[:-1], axis=0)
            self.first_y = y[:1] if self.first_y is None else self.first_y
            self.last_y = y[-1:]
            self.n += y.shape[0]
            self.total += y.sum(axis=0)
            self.squares += np.sum(y * y, axis=0)
        rows = _every(self.thin, block.start, block.q.shape[0])
        self.kept_q.append(block.q[rows].copy())     # copies: a view would keep the whole block alive
        self.kept_t.append(block.t[rows].copy())

    def _check_spacing(self, t: np.ndarray) -> None:
        joined = t.astype(np.int64) if self.last_t is None else np.concatenate([self.last_t, t.astype(np.int64)])
        steps = np.diff(joined)
        if steps.size:
            self.spacing = int(steps[0]) if self.spacing is None else self.spacing
            if np.any(steps != self.spacing) or self.spacing <= 0:
                raise DataError("the trajectory's step indices t are not evenly spaced: fluctuations and spectra need "
                                "a uniform time grid")
        self.last_t = joined[-1:]

    def lag1_autocorrelation(self) -> np.ndarray:
        """:func:`~statmech_nn.compare.dynamics.lag1_autocorrelation` of the steps, from the sums."""
        if self.n < 2:
            return np.full(self.total.size, np.nan)
        mean = self.total / self.n
        lagged = self.lagged - mean * (2.0 * self.total - self.first_y[0] - self.last_y[0]) + (self.n - 1) * mean ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return lagged / (self.squares - self.n * mean * mean)


class _Labels:
    """The decay labels of the steps at a known rate, block by block: whether every step of a column is decay, and the
    labels of every m_f-th step (those of the fitted samples); the decay-only columns (own rate) are added at the
    end, when pass 2 has judged them."""

    def __init__(self, k: int, stride: int, kappa, own: np.ndarray):
        self.stride, self.kappa, self.own = stride, kappa, own
        self.all = np.ones(k, bool)
        self.kept = []

    def add(self, block: _Block) -> None:
        none = np.zeros(self.own.size, bool)
        decay = label_decay(block.w, block.y, block.tolerance, self.kappa, self.own, none, "").decay
        self.all &= decay.all(axis=0)
        self.kept.append(decay[_every(self.stride, block.step_start, decay.shape[0])].copy())

    def split(self, own_fits: np.ndarray, source: str) -> tuple[DecaySplit, np.ndarray]:
        """(the DecaySplit of the fitted samples, the decay-only columns judged on every step)."""
        empty = np.zeros((0, self.own.size))
        kappa = label_decay(empty, empty, empty, self.kappa, self.own, own_fits, source).kappa
        split = DecaySplit(np.concatenate(self.kept) | own_fits, kappa, source)
        return split, (self.all | own_fits) & np.isfinite(kappa) & (kappa > 0)


def _sample_count(options: AnalysisOptions, series_rows: int) -> int:
    reach = {"increment": options.lag, "running_mean": options.window, "mean": 0}[options.mode]
    if series_rows <= reach or series_rows < 2:
        what = {"increment": f"increments at lag {options.lag}", "running_mean":
                f"running mean over {options.window} rows", "mean": "fluctuations about its mean"}[options.mode]
        raise DataError(f"a series of {series_rows} rows has no {what}")
    return series_rows - reach


def analyze_file(path, options: AnalysisOptions, progress: bool, recorded) -> Analysis:
    """The analysis of ``path`` (a run directory or a trajectory.h5) in three passes of blocks (module docstring);
    ``recorded``: dynamics replacing the file's header, or None."""
    if Path(path).is_dir() and not RunDirectory(path).trajectory.is_file():
        raise DataError(f"{path} holds no trajectory.h5")
    with TrajectoryReader(path) as reader:
        return _analyze_reader(reader, path, options, progress, recorded)


def _analyze_reader(reader: TrajectoryReader, path, options: AnalysisOptions, progress: bool, recorded) -> Analysis:
    k, n_rows = reader.n_columns, reader.n_rows
    if n_rows < 2:
        raise DataError("a trajectory needs at least two rows")
    step = treatment(reader.header.dynamics if recorded is None else recorded)
    lag, window = require_int("lag", options.lag, 1), require_int("window", options.window, 1)
    block_rows = options.block_rows or max(16, BLOCK_VALUES // max(k, 1))
    series_rows = n_rows - step.drop
    n_samples = _sample_count(options, series_rows)
    segment = default_segment(series_rows) if options.segment is None else options.segment
    if segment > series_rows:
        raise DataError(f"a spectrum segment of {segment} rows is longer than the series ({series_rows} rows)")
    buffer = np.float64 if step.filtered or not np.issubdtype(reader.dtype, np.floating) else reader.dtype
    thin = stationarity_stride(n_rows, options.stationarity_rows)
    first = _FirstPass(k, WelchAccumulator(k, segment, buffer), thin)
    histogram = FluctuationHistogram(k, options.per_decade, options.quadratic_bins)
    centred = options.mode == "mean"   # the samples need the series' mean: scanned in pass 2, counted in pass 3
    for block in _walk(reader, step, block_rows, None if centred else _Samples(options.mode, lag, window, None),
                       "analysis pass 1", progress):
        first.add(block)
        if not centred:
            histogram.scan(block.samples)
    finite = first.finite
    histogram.zero_columns(~finite)      # a diverged column's samples count as zeros (as in memory)
    own = rates_from_sums(first.norm, first.cross)
    own_fits = own > 0
    stride = -(-n_samples // options.fit_rows)
    kept: dict[str, list] = {"samples": [], "w": [], "y": [], "tolerance": []}
    find_rate = step.kappa is None   # the rate may have to come from the data: label the steps in a third pass
    if not find_rate:                # recorded: the rate, or no decay at all
        kappa, source = decay_rate(step.kappa, own, own_fits, None, None, None)
    labels = None if find_rate else _Labels(k, stride, kappa, own)
    mean = first.series_sum / max(first.series_n, 1)
    for block in _walk(reader, step, block_rows, _Samples(options.mode, lag, window, mean), "analysis pass 2",
                       progress):
        samples = np.where(finite, block.samples, 0.0)
        if centred:
            histogram.scan(samples)
        else:
            histogram.count(samples)
        own_fits &= own_rates_fit(block.w, block.y, block.tolerance, own)
        kept["samples"].append(block.samples[_every(stride, block.sample_start, block.samples.shape[0])].copy())
        if labels is not None:
            labels.add(block)
        rows = _every(stride, block.step_start, block.y.shape[0])
        for key in ("w", "y", "tolerance") if find_rate else ():   # for the mode of -Δ/w
            kept[key].append(getattr(block, key)[rows].copy())
    if find_rate:
        sub = {key: np.concatenate(kept.pop(key)) for key in ("w", "y", "tolerance")}
        kappa, source = decay_rate(None, own, own_fits, sub["w"], sub["y"], sub["tolerance"])
        del sub
    if centred or find_rate:
        labels = _Labels(k, stride, kappa, own) if find_rate else labels
        for block in _walk(reader, step, block_rows, _Samples(options.mode, lag, window, mean), "analysis pass 3",
                           progress):
            if centred:
                histogram.count(np.where(finite, block.samples, 0.0))
            if find_rate:
                labels.add(block)
    split, decay_only = labels.split(own_fits, source)
    names, chain = reader.names, reader.chain
    frequencies, psd = first.welch.result()
    psd[~finite] = 0.0
    spectra = spectrum_from_psd(frequencies, psd, segment, names, chain, options.per_decade, options.low_band,
                                options.high_band, options.units, first.spacing)
    densities = histogram.dataset(names, chain, options.units, options.mode)
    thinned_q, thinned_t = np.concatenate(first.kept_q), np.concatenate(first.kept_t)
    moved = finite & first.moved & ~decay_only
    measured = Measured(np.concatenate(kept["samples"]), finite, split, decay_only, densities, spectra, thinned_q,
                        first.lag1_autocorrelation(), moved)
    trajectory = reader.trajectory(thinned_q, thinned_t, reader.x())
    return conclude(trajectory, options, measured, step, progress, path)
