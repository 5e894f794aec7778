"""Power spectrum of q(t), f²·P(f) and its low- and high-frequency exponents (002 eqs. (22)-(23), Fig. 4).

002 shows f²·P(f) of w(t): flat for independent increments (P ∝ 1/f², eq. (23)), rising as f^{2-a}
where the long-time dynamics gives P ∝ 1/f^a with a < 2. Our estimator and conventions:

- Welch's method (``scipy.signal.welch``) with Hann windows, 50% overlap, the mean removed per segment,
  one-sided density scaling; segments of 2^⌊log2(n/8)⌋ steps by default (≥ 8 segments, ~15 with
  overlap), so the lowest resolved frequency is f₁ = 1/segment;
- frequencies in cycles per recorded step of the trajectory (``frequency_unit``), P in q²·step;
- f²·P(f) averaged over log-spaced bins (:func:`~statmech_nn.observables._numerics.binning.log_binned_mean`);
- the exponent a of P ∝ f^{-a} on a band: weighted least squares of log P̄ against log f over the
  log bins inside the band (weights: frequencies per bin, i.e. inverse variance of the bin mean), its
  standard error from the residual scatter. Default bands: low [4 f₁, 40 f₁] (the first bins, where
  Hann leakage would bias, left out), high [0.01, 0.1] cycles/step (where the discrete-time
  spectrum of white increments, 1/(4 sin²(πf)), still follows 1/f² to 3.5%).

Exponent a = 2 is 002's "uncorrelated jumps"; the flat f²·P line in the figure.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import signal

from ..errors import DataError
from ..params import require_int
from ._numerics.binning import log_binned_mean

HIGH_BAND = (0.01, 0.1)
LOW_BAND_IN_F1 = (4.0, 40.0)
_MIN_BINS_PER_FIT = 3


def default_segment(n: int) -> int:
    """2^⌊log2(n/8)⌋, at least 16: about 15 half-overlapping Hann segments."""
    return max(16, 2 ** int(np.floor(np.log2(max(n / 8.0, 1.0)))))


def welch_psd(q, segment: int | None = None):
    """(f, P): one-sided PSD of each column of a (time, K) array, f in cycles per row; P shape (K, m)."""
    q = np.asarray(q, float)
    if q.ndim == 1:
        q = q[:, None]
    n = q.shape[0]
    segment = default_segment(n) if segment is None else require_int("segment", segment, 4)
    if segment > n:
        raise DataError(f"a spectrum segment of {segment} rows is longer than the series ({n} rows)")
    f, p = signal.welch(q, fs=1.0, window="hann", nperseg=segment, noverlap=segment // 2, detrend="constant",
                        scaling="density", axis=0)
    return f, p.T


class WelchAccumulator:
    """:func:`welch_psd` block by block, for a series too long to hold: rows are fed in order (:meth:`add`), each
    complete Hann segment of ``segment`` rows (half-overlapping, as scipy's) is transformed when it fills, a few
    columns at a time, and its periodogram summed; memory is one segment of rows. :meth:`result` gives (f, P (K, m))
    equal to :func:`welch_psd` of the whole series up to the order of the segment sum. Non-finite values make NaN."""

    def __init__(self, columns: int, segment: int, dtype=np.float64, group: int = 8):
        self.segment = require_int("segment", segment, 4)
        self._hop = segment - segment // 2
        self._buffer = np.empty((segment, columns), dtype)
        self._filled = 0
        self._group = group
        self._sum = np.zeros((columns, segment // 2 + 1))
        self.segments = 0
        self.frequencies = np.fft.rfftfreq(segment)

    def add(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows)
        start = 0
        while start < rows.shape[0]:
            take = min(self.segment - self._filled, rows.shape[0] - start)
            self._buffer[self._filled:self._filled + take] = rows[start:start + take]
            self._filled += take
            start += take
            if self._filled == self.segment:
                self._transform()
                kept = self.segment - self._hop
                self._buffer[:kept] = self._buffer[self._hop:]
                self._filled = kept

    def _transform(self) -> None:
        for lo in range(0, self._buffer.shape[1], self._group):
            hi = min(lo + self._group, self._buffer.shape[1])
            _, p = signal.welch(self._buffer[:, lo:hi].astype(float), fs=1.0, window="hann", nperseg=self.segment,
                                noverlap=self.segment // 2, detrend="constant", scaling="density", axis=0)
            self._sum[lo:hi] += p.T
        self.segments += 1

    def result(self):
        """(f, P): f in cycles per row, P (K, m) the mean periodogram of the segments fed (the last call: the
        buffer is released and P is the accumulator's own array)."""
        if self.segments == 0:
            raise DataError(f"a spectrum segment of {self.segment} rows is longer than the series")
        self._buffer = None                  # the accumulator is done: its sum becomes the mean in place
        self._sum /= self.segments
        self.segments = 1
        return self.frequencies, self._sum


def band_exponent(center, mean, count, band):
    """(a, standard error) of P ∝ f^{-a} from log-binned P̄ on bins with centres inside ``band``; NaN if < 3 bins."""
    lo, hi = band
    inside = (center >= lo) & (center <= hi) & (count > 0)
    k = mean.shape[0]
    if inside.sum() < _MIN_BINS_PER_FIT:
        return np.full(k, np.nan), np.full(k, np.nan)
    x = np.log(center[inside])
    w = count[inside].astype(float)
    y = np.log(np.where(mean[:, inside] > 0, mean[:, inside], np.nan))
    xbar = (w @ x) / w.sum()
    sxx = w @ (x - xbar) ** 2
    ybar = (y @ w) / w.sum()
    slope = ((y - ybar[:, None]) * (x - xbar)) @ w / sxx
    residual = y - ybar[:, None] - slope[:, None] * (x - xbar)
    dof = inside.sum() - 2
    scale = (residual * residual) @ w / dof if dof > 0 else np.full(k, np.nan)
    return -slope, np.sqrt(scale / sxx)


def spectrum_dataset(q, names=None, chain=None, segment: int | None = None, per_decade: int = 10,
                     low_band=None, high_band=HIGH_BAND, units: str = "q", step: int = 1) -> xr.Dataset:
    """P(f), f²·P(f) log-binned, and the low/high band exponents of every column of q (time, K).

    ``step``: the number of training/sampling steps between rows (frequencies are reported per step
    of the source, f = cycles per row / step). Band edges are in the same unit; ``low_band=None`` is
    [4 f₁, 40 f₁].
    """
    q = np.asarray(q, float)
    if q.ndim == 1:
        q = q[:, None]
    if not np.all(np.isfinite(q)):
        raise DataError("the series for the spectrum contains NaN or inf")
    segment = default_segment(q.shape[0]) if segment is None else segment
    f_rows, psd_rows = welch_psd(q, segment)
    return spectrum_from_psd(f_rows, psd_rows, segment, names, chain, per_decade, low_band, high_band, units, step)


def spectrum_from_psd(f_rows, psd_rows, segment: int, names=None, chain=None, per_decade: int = 10, low_band=None,
                      high_band=HIGH_BAND, units: str = "q", step: int = 1) -> xr.Dataset:
    """The Dataset of :func:`spectrum_dataset` from a Welch PSD already computed (f in cycles per row, P (K, m)
    per row; e.g. by a :class:`WelchAccumulator`) with segments of ``segment`` rows."""
    k = psd_rows.shape[0]
    f = f_rows / step
    psd = psd_rows * step if step != 1 else psd_rows   # (K, m) can be large: no copy when there is nothing to scale
    f1 = 1.0 / (segment * step)
    low_band = (LOW_BAND_IN_F1[0] * f1, LOW_BAND_IN_F1[1] * f1) if low_band is None else tuple(low_band)
    high_band = tuple(high_band)
    positive = slice(int(np.searchsorted(f, 0.0, side="right")), None)   # f ascends from 0: a view, not a copy
    f2p = f[positive] ** 2 * psd[:, positive]
    binned = log_binned_mean(f[positive], f2p, per_decade=per_decade)
    power = log_binned_mean(f[positive], psd[:, positive], per_decade=per_decade)
    low, low_err = band_exponent(power["center"], power["mean"], power["count"], low_band)
    high, high_err = band_exponent(power["center"], power["mean"], power["count"], high_band)
    names = [f"q{j}" for j in range(k)] if names is None else [str(v) for v in names]
    chain = np.zeros(k, np.int64) if chain is None else np.asarray(chain, np.int64)
    f_unit, psd_unit = "1/step", f"{units}^2 step"
    coords = {
        "column": ("column", np.arange(k)), "name": ("column", names), "chain": ("column", chain),
        "frequency": ("frequency", f, {"units": f_unit}),
        "freq_bin": ("freq_bin", binned["center"], {"units": f_unit, "long_name": "f (bin centre, geometric)"}),
        "freq_bin_lo": ("freq_bin", binned["lo"], {"units": f_unit}),
        "freq_bin_hi": ("freq_bin", binned["hi"], {"units": f_unit}),
        "freq_bin_count": ("freq_bin", binned["count"], {"units": "1"}),
    }
    data = {
        "psd": (("column", "frequency"), psd, {"units": psd_unit, "long_name": "P(f), Welch (Hann)"}),
        "f2_psd": (("column", "freq_bin"), binned["mean"],
                   {"units": f"{units}^2/step", "long_name": "f²·P(f), log-binned"}),
        "f2_psd_err": (("column", "freq_bin"), binned["error"], {"units": f"{units}^2/step"}),
        "exponent_low": ("column", low, {"units": "1", "long_name": "a of P ∝ f^-a, low band"}),
        "exponent_low_err": ("column", low_err, {"units": "1"}),
        "exponent_high": ("column", high, {"units": "1", "long_name": "a of P ∝ f^-a, high band"}),
        "exponent_high_err": ("column", high_err, {"units": "1"}),
    }
    attrs = {"observable": "power spectrum", "source_document": "002 eqs. (22)-(23), Fig. 4",
             "method": "Welch, Hann window, 50% overlap, mean removed per segment", "segment_rows": segment,
             "steps_per_row": step, "low_band": list(low_band), "high_band": list(high_band), "per_decade": per_decade}
    return xr.Dataset(data, coords=coords, attrs=attrs)
