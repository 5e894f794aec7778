"""The shared instruments (DESIGN: one comparison layer): every observable reads a Trajectory, whatever
produced it — fluctuation densities, power-law fits, spectra, bimodality and rank-frequency laws,
stationarity of the tracked variables."""

from .activity import Bimodality, ZipfFit, bimodality, fit_zipf, pattern_counts
from .fluctuations import fluctuation_densities, fluctuation_samples, increments, running_mean_deviations
from .powerlaw import PowerLawFit, fit_powerlaw, sample_powerlaw
from .spectrum import spectrum_dataset, welch_psd
from .stationarity import stationarity_dataset, stationarity_rows, stationarity_verdict

__all__ = ["Bimodality", "PowerLawFit", "ZipfFit", "bimodality", "fit_powerlaw", "fit_zipf", "fluctuation_densities",
           "fluctuation_samples", "increments", "pattern_counts", "running_mean_deviations", "sample_powerlaw",
           "spectrum_dataset", "stationarity_dataset", "stationarity_rows", "stationarity_verdict", "welch_psd"]
