"""Welch spectra, f²·P(f) and the band exponents (002 eqs. (22)-(23), Fig. 4) on signals with known spectra."""

import numpy as np
import pytest
from scipy.signal import lfilter

from statmech_nn.errors import DataError
from statmech_nn.observables.spectrum import band_exponent, spectrum_dataset, welch_psd


def test_white_noise_increments_give_a_flat_f2_spectrum():
    """A random walk (independent increments, 002 eq. (23)): P ∝ 1/f², so a = 2 in both default bands
    (mean over 16 walks within 0.08; each within 4 standard errors), f²·P flat to 15% on [4f₁, 0.1]."""
    walk = np.cumsum(np.random.default_rng(0).normal(size=(2**16, 16)), axis=0)
    ds = spectrum_dataset(walk)
    for band in ("low", "high"):
        a, err = ds[f"exponent_{band}"].values, ds[f"exponent_{band}_err"].values
        assert abs(a.mean() - 2.0) < 0.08, band
        assert np.all(np.abs(a - 2.0) < 4 * err + 0.05), band
    f = ds["freq_bin"].values
    f1 = 1.0 / ds.attrs["segment_rows"]
    flat = ds["f2_psd"].values.mean(axis=0)[(f >= 4 * f1) & (f <= 0.1)]
    # the one-sided density of the unit-variance walk is 2/(4 sin²(πf)), so f²P → 1/(2π²) as f → 0
    assert np.all(np.abs(flat * 2 * np.pi**2 - 1.0) < 0.15)


def test_ar1_spectrum_matches_the_exact_lorentzian():
    """AR(1), x(t+1) = φx(t) + ε (discrete Ornstein-Uhlenbeck): P(f) = 2/(1 + φ² - 2φ cos 2πf). Welch's
    estimate averaged over 8 series within 3% of it at every frequency band of a decade, and the band
    exponents equal those of the exact spectrum fitted the same way, within 4 standard errors."""
    phi = 0.99
    x = lfilter([1.0], [1.0, -phi], np.random.default_rng(1).normal(size=(2**16, 8)), axis=0)
    f, psd = welch_psd(x)
    exact = 2.0 / (1.0 + phi**2 - 2.0 * phi * np.cos(2 * np.pi * f))
    ratio = psd.mean(axis=0)[1:] / exact[1:]
    for lo in (1e-3, 1e-2, 1e-1):
        band = (f[1:] >= lo) & (f[1:] < 10 * lo)
        assert abs(ratio[band].mean() - 1.0) < 0.03, lo
    ds = spectrum_dataset(x, low_band=(2e-4, 2e-3), high_band=(0.03, 0.3))
    centers, counts = ds["freq_bin"].values, ds["freq_bin_count"].values
    lo_edges, hi_edges = ds["freq_bin_lo"].values, ds["freq_bin_hi"].values
    exact_mean = np.array([[exact[(f >= lo) & (f < hi)].mean() for lo, hi in zip(lo_edges, hi_edges)]])
    for band, edges in (("low", (2e-4, 2e-3)), ("high", (0.03, 0.3))):
        expected, _ = band_exponent(centers, exact_mean, counts, edges)
        measured, err = ds[f"exponent_{band}"].values, ds[f"exponent_{band}_err"].values
        assert np.all(np.abs(measured - expected[0]) < 4 * err + 0.02), band
    # the corner frequency f_c = -ln φ / 2π = 1.6e-3 separates a flat P (a → 0) from P ∝ 1/f² (a → 2)
    assert ds["exponent_low"].values.mean() < 1.0 and ds["exponent_high"].values.mean() > 1.7


def test_frequencies_are_per_step_of_the_source():
    """Rows recorded every 10 steps: frequencies per step are 10 times lower, the PSD 10 times higher."""
    x = np.cumsum(np.random.default_rng(2).normal(size=(4096, 1)), axis=0)
    per_row = spectrum_dataset(x)
    per_step = spectrum_dataset(x, step=10, high_band=(1e-3, 1e-2))
    np.testing.assert_allclose(per_step["frequency"].values, per_row["frequency"].values / 10)
    np.testing.assert_allclose(per_step["psd"].values, per_row["psd"].values * 10)
    assert per_step["frequency"].attrs["units"] == "1/step"


def test_bands_with_too_few_bins_give_nan():
    x = np.cumsum(np.random.default_rng(3).normal(size=(1024, 2)), axis=0)
    ds = spectrum_dataset(x, high_band=(0.2, 0.21))
    assert np.all(np.isnan(ds["exponent_high"].values))


def test_bad_series_are_clear_errors():
    with pytest.raises(DataError, match="NaN"):
        spectrum_dataset(np.array([[0.0], [np.nan]] * 20))
    with pytest.raises(DataError, match="longer than the series"):
        welch_psd(np.zeros((100, 1)), segment=256)
