"""The analysis of one trajectory: every observable, fit and verdict (DESIGN: the analysis of a run lives in
compare/; its figures and files are :mod:`statmech_nn.report.analysis_figures`).

:func:`analyze_trajectory` takes a :class:`~statmech_nn.io.Trajectory`, an array q (T, K) or a path (a run
directory or a ``trajectory.h5``) and runs the same chain for a sampler and a network. A Trajectory or an array is
analysed in memory; a path is always read in blocks of rows (:mod:`statmech_nn.compare.streaming`: memory bounded by
a block, the Welch segment, ``fit_rows`` fluctuation samples and ``stationarity_rows`` rows, whatever the window),
with the same numbers as in memory when the window is within ``fit_rows`` and ``stationarity_rows`` (beyond them the
fits and the stationarity tests see every m-th sample / row; that module's docstring says what differs). Both paths
measure (steps 0-2, the densities and the spectrum) and then share :func:`conclude` (the fits and verdicts):

0. the run's dynamics (the run header's, or ``dynamics=`` for an array or a foreign file) decide which series
   the step analysis works on: the weights themselves (plain SGD, samplers), or the innovation walk whose
   increments undo heavy-ball or Nesterov momentum; with Adam the step-law verdicts are not covered
   (:mod:`statmech_nn.compare.dynamics`);
1. fluctuation samples per column (increments at a lag, or deviations from a running mean; 002 §5), and
   the split of the lag-1 steps into weight-decay and gradient steps (:mod:`statmech_nn.compare.steps`: κ recorded,
   or from the data);
2. their densities in both views (:mod:`statmech_nn.observables.fluctuations`);
3. per column a status, the MLE fit of 002 eqs. (6)/(21) to the gradient steps, its goodness of fit,
   crossovers and alternatives, and the peak's mixture weight (:mod:`statmech_nn.compare.columns`);
   on request, the CSN bootstrap p of the |Δ| power law of the gradient steps for every column (``bootstrap``)
   or for :data:`CSN_COLUMNS` columns chosen by the figures' rule (``gof_bootstrap``): a reported number that
   no verdict reads (CSN test a pure power law from x_min to ∞, which 002 eq. (6) with its cut-off inside
   the data is not), off by default since it cost 32 of 40 s at 1e5 steps × 12 weights; the pooled
   parametric-bootstrap p of a narrow extra component in each weight's gradient steps (``peak_bootstrap``,
   :mod:`statmech_nn.compare.mixture`);
4. the predicted bin averages of every fitted model on the measured bins (:mod:`statmech_nn.compare.overlay`);
5. the power spectrum of q(t), f²·P(f) and its band exponents (:mod:`statmech_nn.observables.spectrum`);
6. when the trajectory holds samples x of the non-trainable variables: the bimodality of each of the first
   64 (002 Fig. 1; on a seeded subsample of at most 20 000 rows) and the rank-frequency exponent of the
   activation patterns x > 0 (:mod:`statmech_nn.observables.activity`);
7. the stationarity of every column in the window (:mod:`statmech_nn.observables.stationarity`, joined with
   the prefix ``stationarity_``);
8. the verdicts Q1-Q6 and S (:mod:`statmech_nn.compare.verdicts`), then D (the steps' lag-1 autocorrelation),
   with the verdicts that the dynamics leave uncovered, or that rest on correlated increments, "inconclusive".

Warnings raised on the way (e.g. the xmin scan's budget, once per refit) are gathered into one
:class:`AnalysisWarning` per analysis, one line without a source line.

The result, an :class:`Analysis`, has ``.table()`` (a pandas DataFrame, one row per column: a short view,
``table(full=True)`` for every column),
``.verdicts()`` (a list of :class:`~statmech_nn.compare.verdicts.Verdict`), ``.summary()`` (the dict
``analyze --json`` prints), ``.dataset()`` (everything as one xarray Dataset) and ``.write(directory)``:
``observables.nc`` (the per-column table as variables prefixed ``fit_``), ``fits.json`` (headline and rows)
and ``analysis.json`` (what was analysed, with which options). More per-column results join with
:meth:`Analysis.add_columns`, more verdicts with :meth:`Analysis.add_verdict`.
"""


from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from tqdm import tqdm

from .. import __version__
from .columns import fit_table, rows_dataset
from .dynamics import StepTreatment, correlation_verdict, lag1_autocorrelation, qualify, treatment
from .mixture import BOOTSTRAP as PEAK_BOOTSTRAP, gradient_peak_columns
from .overlay import predicted_densities
from .steps import DecaySplit, rounding, split_decay_steps
from .verdicts import (STATIONARITY_PREFIX, Verdict, headline, merge_columns, network_verdicts,
                       representative_columns, summary_text, trajectory_stationarity_columns)
from ..errors import ParameterError, StatmechError
from ..inputs import real_array
from ..io import OBSERVABLES_FILE, Dynamics, Trajectory, save_dataset, write_json
from ..observables.activity import bimodality, fit_zipf, pattern_counts
from ..observables.fluctuations import MODES, fluctuation_densities, fluctuation_samples, uniform_step
from ..observables.powerlaw import fit_powerlaw
from ..observables.spectrum import HIGH_BAND, spectrum_dataset
from ..params import jsonable, require_int, require_number, rng_from

FITS_FILE = "fits.json"
ANALYSIS_FILE = "analysis.json"
MAX_OUTPUT_COLUMNS = 64      # neurons tested for bimodality (the first ones)
MAX_OUTPUT_SAMPLES = 20_000  # a seeded subsample of outputs per neuron keeps the EM fits quick
BLOCK_VALUES = 1 << 20      # a file is read in blocks of about this many values (8 MB in float64)
FIT_ROWS = 200_000          # the fits of a file see at most this many fluctuation samples per column (every m-th)
STATIONARITY_ROWS = 100_000  # the stationarity tests of a file see at most this many rows (every m-th)
CSN_COLUMNS = 12             # columns given a CSN bootstrap p with ``gof_bootstrap`` (chosen as the figures' are)
_SPECTRUM_KEYS = ("exponent_low", "exponent_low_err", "exponent_high", "exponent_high_err")
# The short view of Analysis.table(): the answer per column (status and why, the fitted exponent 2s of 002 eq. (21)
# with its 95% interval, c, σ, the decades of power law in u inside the data, the peak mass, the binned χ² p of the
# fit and the CSN p of the power law, whether the column was stationary).
TABLE_COLUMNS = ("status", "exponent", "exponent_lo", "exponent_hi", "c", "sigma", "decades_in_data", "peak_mass",
                 "gof_p", "power_law_gof_p", f"{STATIONARITY_PREFIX}stationary", "reason")


class AnalysisWarning(UserWarning):
    """The warnings of one analysis, gathered into one line."""


def _warn_once(caught: list) -> None:
    """One AnalysisWarning for the ``caught`` warnings (counted by kind, the first message of each), shown without a
    source line (``warn_explicit`` at a location that is no file)."""
    if not caught:
        return
    kinds = Counter(warning.category.__name__ for warning in caught)
    first = {}
    for warning in caught:
        first.setdefault(warning.category.__name__, str(warning.message))
    text = "; ".join(f"{count} x {name} (the first: {first[name]})" for name, count in kinds.items())
    warnings.warn_explicit(f"{len(caught)} warning(s) in this analysis: {text}", AnalysisWarning,
                           "statmech_nn.analyze", 0, module="statmech_nn.analyze")


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything ``analyze`` can be told; written to ``analysis.json``."""

    mode: str = "increment"
    lag: int = 1
    window: int = 100
    per_decade: int = 10
    quadratic_bins: int = 40
    segment: int | None = None
    low_band: tuple | None = None
    high_band: tuple = HIGH_BAND
    bootstrap: int = 0          # CSN bootstrap sets for every column (0: only the representative ones)
    gof_bootstrap: int = 0      # CSN bootstrap sets for CSN_COLUMNS representative columns when ``bootstrap`` is 0
    peak_bootstrap: int = PEAK_BOOTSTRAP   # pooled bootstrap sets of the gradient-peak test (0: Q1 untested)
    seed: int = 0
    units: str = "q"
    figures: bool = True
    block_rows: int | None = None   # rows per block read from a file (None: BLOCK_VALUES // K)
    fit_rows: int = FIT_ROWS        # a file's fits see every m-th fluctuation sample, at most this many
    stationarity_rows: int = STATIONARITY_ROWS   # a file's stationarity tests see every m-th row, at most this many

    def __post_init__(self):
        """Checked when given (``analyze``'s flags, a spec's [analysis] table at load), not when first used."""
        if self.mode not in MODES:
            raise ParameterError("analysis.mode", self.mode, "one of " + ", ".join(MODES))
        for name, minimum in (("lag", 1), ("window", 1), ("per_decade", 1), ("quadratic_bins", 1), ("bootstrap", 0),
                              ("gof_bootstrap", 0), ("peak_bootstrap", 0), ("seed", 0), ("fit_rows", 1000),
                              ("stationarity_rows", 1000)):
            require_int(f"analysis.{name}", getattr(self, name), minimum)
        if self.segment is not None:
            require_int("analysis.segment", self.segment, 2)
        if self.block_rows is not None:
            require_int("analysis.block_rows", self.block_rows, 16)
        for name in ("low_band", "high_band"):
            band = getattr(self, name)
            if band is None:
                continue
            if not isinstance(band, (list, tuple)) or len(band) != 2:
                raise ParameterError(f"analysis.{name}", band, "[LO, HI] with 0 < LO < HI")
            lo, hi = (require_number(f"analysis.{name}", v) for v in band)
            if not 0 < lo < hi:
                raise ParameterError(f"analysis.{name}", band, "[LO, HI] with 0 < LO < HI")
        if not isinstance(self.units, str):
            raise ParameterError("analysis.units", self.units, "a string")
        if not isinstance(self.figures, bool):
            raise ParameterError("analysis.figures", self.figures, "true or false")


def _output_observables(x: np.ndarray, seed) -> tuple[xr.Dataset, list]:
    """Bimodality of each of the first MAX_OUTPUT_COLUMNS columns of x (on at most MAX_OUTPUT_SAMPLES rows),
    and the Zipf fit of the activation patterns x > 0 (all rows)."""
    rng = rng_from(seed)
    columns = min(x.shape[1], MAX_OUTPUT_COLUMNS)
    rows = slice(None)
    if x.shape[0] > MAX_OUTPUT_SAMPLES:
        rows = np.sort(rng.choice(x.shape[0], MAX_OUTPUT_SAMPLES, replace=False))
    results = [bimodality(x[rows, j], seed=rng) for j in range(columns)]
    data = {key: ("output", np.array([getattr(r, key) for r in results], float))
            for key in ("delta_bic", "ashman_d", "modes")}
    data["bimodal"] = ("output", np.array([r.bimodal for r in results], np.int8))
    data["output_means"] = (("output", "component"), np.array([r.means for r in results]))
    data["output_sds"] = (("output", "component"), np.array([r.sds for r in results]))
    data["output_weights"] = (("output", "component"), np.array([r.weights for r in results]))
    dataset = xr.Dataset(data, coords={"output": np.arange(columns), "component": [0, 1]})
    if x.shape[1] >= 2:
        try:
            zipf = fit_zipf(pattern_counts(x > 0))
            dataset.attrs.update({f"zipf_{k}": v for k, v in zipf.to_dict().items()})
        except StatmechError as exc:
            dataset.attrs["zipf_status"] = f"not fitted: {exc}"
    return dataset, results


def _csn_pvalues(samples: np.ndarray, decay, columns, n_boot: int, seed, progress: bool) -> dict:
    """{column: CSN bootstrap p of the |Δ| power law of its gradient steps} (columns whose power law cannot be
    fitted are left out)."""
    rng = rng_from(seed)
    out = {}
    for j in tqdm(list(columns), desc="bootstrap p", unit="column", disable=not progress):
        magnitude = np.abs(samples[:, j] if decay is None else samples[~decay[:, j], j])
        try:
            out[int(j)] = fit_powerlaw(magnitude).gof_pvalue(n_boot, seed=rng)
        except StatmechError:
            pass
    return out


def _as_trajectory(source) -> Trajectory:
    if isinstance(source, Trajectory):
        return source
    q = real_array(source, "the array given to analyze (T, K)", ndim=2, varying=True)
    if np.asarray(source).dtype.kind == "f":   # the stored precision decides which steps are decay to rounding
        q = q.astype(np.asarray(source).dtype)
    return Trajectory(q=q, t=np.arange(q.shape[0]), names=[f"q{j}" for j in range(q.shape[1])], chain=None,
                      source="array")


@dataclass
class Analysis:
    """The analysis of one trajectory, in memory (see the module docstring)."""

    trajectory: Trajectory
    options: AnalysisOptions
    rows: list[dict]
    densities: xr.Dataset
    spectra: xr.Dataset
    decay: DecaySplit
    outputs: list | None = None
    output_data: xr.Dataset | None = None
    origin: str | None = None   # the run directory or file analysed, if any
    extra_verdicts: list[Verdict] = field(default_factory=list)
    steps: StepTreatment | None = None   # how the dynamics turned the trajectory into steps
    correlation: Verdict | None = None   # D, the steps' lag-1 autocorrelation

    # ------------------------------------------------------------------ answers
    def table(self, full: bool = False):
        """One row per tracked column (a pandas DataFrame indexed by the column's name): the short view of
        :data:`TABLE_COLUMNS` (those present), or every column of the rows with ``full=True``."""
        import pandas as pd

        table = pd.DataFrame(self.rows).set_index("name")
        if full:
            return table
        if {"s_lo", "s_hi"} <= set(table.columns):   # the exponent is 2s: its interval is twice s's
            table = table.assign(exponent_lo=2.0 * table["s_lo"], exponent_hi=2.0 * table["s_hi"])
        return table[[key for key in TABLE_COLUMNS if key in table.columns]]

    def headline(self) -> dict:
        return headline(self.rows)

    def verdicts(self) -> list[Verdict]:
        """Q1-Q6 (Q5 from the neuron outputs x of the trajectory, when it holds them), then any added ones."""
        bimodal = None if self.outputs is None else int(sum(r.bimodal for r in self.outputs))
        tested = None if self.outputs is None else len(self.outputs)
        verdicts = network_verdicts(self.rows, bimodal, tested, "columns of x recorded in the trajectory",
                                    self.decay.source)
        if self.steps is not None:
            verdicts = qualify(verdicts, self.steps, self.correlation)
        return verdicts + list(self.extra_verdicts)

    def add_verdict(self, verdict: Verdict) -> None:
        """Append one more verdict (e.g. whether the weights were stationary in the tracked window)."""
        self.extra_verdicts.append(verdict)

    def add_columns(self, extra: list[dict], prefix: str = "") -> None:
        """Join more per-column results (dicts with ``column``) into the rows, their keys prefixed by ``prefix``;
        stationarity diagnostics joined with ``prefix="stationarity_"`` add the verdict S."""
        self.rows = merge_columns(self.rows, extra, prefix)

    def representative(self, most: int = 4) -> list[int]:
        return representative_columns(self.rows, most)

    def fit_dataset(self) -> xr.Dataset:
        return rows_dataset(self.rows, self.options.units)

    def summary(self) -> dict:
        """What ``statmech-nn analyze --json`` prints: sizes, the headline, status counts and the verdicts."""
        head = self.headline()
        summary = {"source": self.trajectory.source, "n_columns": len(self.rows),
                   "n_samples": int(self.densities["n_samples"].values[0]) if len(self.rows) else 0,
                   "columns_fitted": head["weights_resolved"], "headline": head,
                   "decay_rate": {"source": self.decay.source,
                                  "kappa": (_json_float(np.nanmedian(self.decay.kappa))
                                            if np.isfinite(self.decay.kappa).any() else None)},
                   "dynamics": (self.trajectory.dynamics if self.steps is None else self.steps.dynamics).to_dict(),
                   "steps": None if self.steps is None else self.steps.description,
                   "representative_columns": [self.rows[j]["name"] for j in self.representative()],
                   "verdicts": [v.to_dict() for v in self.verdicts()]}
        if self.outputs is not None:
            summary["outputs_bimodal"] = int(sum(r.bimodal for r in self.outputs))
            summary["outputs_tested"] = len(self.outputs)
        return summary

    def text(self) -> str:
        """The plain-text answer (the CLI's output without --json): verdicts first, then the headline."""
        return summary_text(self.summary())

    # ------------------------------------------------------------------ outputs
    def predicted(self) -> xr.Dataset:
        return predicted_densities(self.densities, self.fit_dataset())

    def dataset(self) -> xr.Dataset:
        """Everything as one Dataset (the per-column table prefixed ``fit_``), as saved in observables.nc."""
        table, predicted = self.fit_dataset(), self.predicted()
        combined = xr.merge([
            self.densities,
            table.rename({name: f"fit_{name}" for name in table.data_vars}),
            predicted.rename({"density_abs": "predicted_density_abs", "density_sq": "predicted_density_sq"}).drop_vars(
                ["abs_delta", "delta_sq"]),
            self.spectra,
        ], compat="override", combine_attrs="override")
        spectra, options = self.spectra.attrs, self.options
        combined.attrs = {"source": self.trajectory.source, "package_version": __version__,
                          "fluctuation": options.mode, "lag": options.lag, "steps_per_row": spectra["steps_per_row"],
                          "spectrum_method": spectra["method"], "spectrum_segment_rows": spectra["segment_rows"],
                          "spectrum_low_band": spectra["low_band"], "spectrum_high_band": spectra["high_band"],
                          "theory": table.attrs["fit"], "crossover_convention": table.attrs["crossover_convention"],
                          "goodness_of_fit": table.attrs["goodness_of_fit"], "decay_rate_source": self.decay.source}
        if self.output_data is not None:
            combined = xr.merge([combined, self.output_data], combine_attrs="no_conflicts")
        return combined

    def write(self, directory) -> list[Path]:
        """Write observables.nc, analysis.json (inputs and options, to re-run) and fits.json; returns their paths."""
        out = Path(directory)
        return [save_dataset(self.dataset(), out / OBSERVABLES_FILE),
                write_json(out / ANALYSIS_FILE, {"run_dir": self.origin, "options": asdict(self.options),
                                                 "package_version": __version__}),
                write_json(out / FITS_FILE, jsonable({"source": self.trajectory.source, "headline": self.headline(),
                                                      "columns": self.rows}))]


def analyze_trajectory(source, options: AnalysisOptions = AnalysisOptions(), progress: bool = False, *,
                       dynamics: Dynamics | dict | None = None) -> Analysis:
    """Analyse a trajectory or an array q (T, K) in memory, or a run directory / trajectory.h5 in blocks of rows
    (:mod:`statmech_nn.compare.streaming`; ``options.block_rows``, ``fit_rows``, ``stationarity_rows``). ``dynamics`` (a
    :class:`~statmech_nn.io.Dynamics` or a dict of its fields, checked: a ValueError names a bad field) replaces
    the run header's, e.g. for an array or a file written by another program. The warnings raised on the way come
    out as one :class:`AnalysisWarning`."""
    recorded = None if dynamics is None else Dynamics.from_dict(dynamics)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _analyze(source, options, progress, recorded)
    _warn_once(caught)
    return result


def _analyze(source, options: AnalysisOptions, progress: bool, recorded) -> Analysis:
    if isinstance(source, (str, Path)):
        from .streaming import analyze_file   # the file is read in blocks of rows

        return analyze_file(source, options, progress, recorded)
    trajectory = _as_trajectory(source)
    step = treatment(trajectory.dynamics if recorded is None else recorded)
    analysed = step.series(trajectory)
    spacing = uniform_step(analysed.t)
    names, chain, units = trajectory.names, trajectory.chain, options.units
    lag, window = require_int("lag", options.lag, 1), require_int("window", options.window, 1)
    samples = fluctuation_samples(analysed, options.mode, lag, window)
    finite = np.all(np.isfinite(analysed.q), axis=0)  # a diverged column gets a status; its observables are zeros
    weights, step_values = step.steps(trajectory.q)
    split = split_decay_steps(weights, step_values, rounding(trajectory.q)[step.drop:] * step.rounding_gain, step.kappa)
    densities = fluctuation_densities(np.where(finite, samples, 0.0), names, chain, options.per_decade,
                                      options.quadratic_bins, units, options.mode)
    spectra = spectrum_dataset(np.where(finite, analysed.q, 0.0), names, chain, options.segment, options.per_decade,
                               options.low_band, options.high_band, units, spacing)
    moved = finite & np.any(step_values != 0, axis=0) & ~split.decay_only
    measured = Measured(samples, finite, split, split.decay_only, densities, spectra, trajectory.q,
                        lag1_autocorrelation(step_values), moved)
    return conclude(trajectory, options, measured, step, progress, source)


@dataclass
class Measured:
    """What the in-memory and the streaming paths hand to :func:`conclude`: the fluctuation samples the fits see
    (all of them, or the streaming path's subsample), which columns stayed finite, the decay split of those samples
    (with decay-only columns judged on every step), the densities and spectra, the rows q the stationarity tests
    see, every column's lag-1 autocorrelation of the steps and which columns moved."""

    samples: np.ndarray
    finite: np.ndarray
    split: DecaySplit
    decay_only: np.ndarray
    densities: xr.Dataset
    spectra: xr.Dataset
    stationarity_q: np.ndarray
    rho: np.ndarray
    moved: np.ndarray


def conclude(trajectory: Trajectory, options: AnalysisOptions, measured: Measured, step: StepTreatment,
             progress: bool, source=None) -> Analysis:
    """The fits, the spectra's exponents in the rows, stationarity, correlation, outputs and the Analysis."""
    names, chain, units = trajectory.names, trajectory.chain, options.units
    samples, finite, split, spectra = measured.samples, measured.finite, measured.split, measured.spectra
    steps_are_increments = options.mode == "increment" and options.lag == 1
    decay = split.decay if steps_are_increments else None
    rows, _ = fit_table(samples, names, chain, decay=decay, decay_only=measured.decay_only, progress=progress,
                        units=units)
    if options.peak_bootstrap:
        rows = merge_columns(rows, gradient_peak_columns(np.where(finite, samples, 0.0), decay, rows,
                                                         options.peak_bootstrap, options.seed))
    for j, row in enumerate(rows):
        for key in _SPECTRUM_KEYS:
            row[f"spectrum_{key}"] = float(spectra[key].values[j])
    tested = range(samples.shape[1]) if options.bootstrap else representative_columns(rows, CSN_COLUMNS)
    n_boot = options.bootstrap or options.gof_bootstrap
    if n_boot:
        pvalues = _csn_pvalues(samples, decay, tested, require_int("bootstrap", n_boot, 1), options.seed, progress)
        rows = merge_columns(rows, [{"column": j, "power_law_gof_p": p} for j, p in pvalues.items()])
    rows = merge_columns(rows, trajectory_stationarity_columns(trajectory, measured.stationarity_q),
                         STATIONARITY_PREFIX)
    correlation = correlation_verdict(measured.rho[measured.moved], step)
    outputs = output_data = None
    if trajectory.x is not None and trajectory.x.shape[0] >= 10:
        output_data, outputs = _output_observables(np.asarray(trajectory.x, float), options.seed)
    origin = str(Path(source).resolve()) if isinstance(source, (str, Path)) else None
    return Analysis(trajectory, options, rows, measured.densities, spectra, split, outputs, output_data, origin,
                    steps=step, correlation=correlation)


def _json_float(value) -> float | None:
    return float(value) if np.isfinite(value) else None
