"""``analyze``: every observable and fit of one run directory, whatever produced its trajectory.

A sampler and a network trainer both write ``trajectory.h5`` (:class:`statmech_nn.io.Trajectory`); this
module reads it and runs the same chain on both:

1. fluctuation samples per column (increments at a lag, or deviations from a running mean; 002 §5);
2. their densities in both views (:mod:`statmech_nn.observables.fluctuations`);
3. per column, the MLE fit of 002 eqs. (6)/(21), the crossovers and the alternatives
   (:mod:`statmech_nn.compare.fits`), optionally the CSN bootstrap p-value of the |Δ| power law;
4. the predicted bin averages of every fitted model on the measured bins (:mod:`statmech_nn.compare.overlay`);
5. the power spectrum of q(t), f²·P(f) and its band exponents (:mod:`statmech_nn.observables.spectrum`);
6. when the trajectory holds samples x of the non-trainable variables: the bimodality of each of the first
   64 (002 Fig. 1; on a seeded subsample of at most 20 000 rows) and the rank-frequency exponent of the
   activation patterns x > 0 (:mod:`statmech_nn.observables.activity`).

Outputs in ``out``: ``observables.nc`` (all of it, fit table included, variables of the fit table
prefixed ``fit_``), ``fits.json`` (the per-weight table), ``analysis.json`` (inputs and options, to
re-run), and ``figures/*.png``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from tqdm import tqdm

from .. import __version__
from ..compare.fits import fit_table
from ..compare.overlay import predicted_densities
from ..errors import DataError, StatmechError
from ..io import FIGURES_DIR, OBSERVABLES_FILE, RunDirectory, Trajectory, save_dataset, write_json
from ..observables.activity import bimodality, fit_zipf, pattern_counts
from ..observables.fluctuations import fluctuation_densities, fluctuation_samples, uniform_step
from ..observables.powerlaw import fit_powerlaw
from ..observables.spectrum import HIGH_BAND, spectrum_dataset
from ..params import require_int, rng_from
from . import figures

FITS_FILE = "fits.json"
ANALYSIS_FILE = "analysis.json"
MAX_OUTPUT_COLUMNS = 64      # neurons tested for bimodality (the first ones)
MAX_OUTPUT_SAMPLES = 20_000  # a seeded subsample of outputs per neuron keeps the EM fits quick


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
    bootstrap: int = 0
    seed: int = 0
    units: str = "q"
    figures: bool = True


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


def _bootstrap(samples: np.ndarray, n_boot: int, seed, progress: bool) -> np.ndarray:
    rng = rng_from(seed)
    out = np.full(samples.shape[1], np.nan)
    for j in tqdm(range(samples.shape[1]), desc="bootstrap p", unit="column", disable=not progress):
        magnitude = np.abs(samples[:, j])
        try:
            out[j] = fit_powerlaw(magnitude).gof_pvalue(n_boot, seed=rng)
        except StatmechError:
            pass
    return out


def analyze_run(run_dir, out, options: AnalysisOptions = AnalysisOptions(), progress: bool = True) -> dict:
    """Run the whole analysis of ``run_dir`` into ``out``; returns the summary printed by ``analyze --json``."""
    run = RunDirectory(run_dir)
    if not run.trajectory.is_file():
        raise DataError(f"{run.path} holds no {run.trajectory.name}")
    trajectory = Trajectory.load(run.trajectory)
    step = uniform_step(trajectory.t)
    out = Path(out)
    names, chain, units = trajectory.names, trajectory.chain, options.units
    samples = fluctuation_samples(trajectory, options.mode, require_int("lag", options.lag, 1),
                                  require_int("window", options.window, 1))
    densities = fluctuation_densities(samples, names, chain, options.per_decade, options.quadratic_bins, units, options.mode)
    rows, table = fit_table(samples, names, chain, progress=progress, units=units)
    if options.bootstrap:
        gof = _bootstrap(samples, require_int("bootstrap", options.bootstrap, 1), options.seed, progress)
        table["power_law_gof_p"] = ("column", gof, {"units": "1"})
        for row, p in zip(rows, gof):
            row["power_law_gof_p"] = float(p)
    predicted = predicted_densities(densities, table)
    spectra = spectrum_dataset(trajectory.q, names, chain, options.segment, options.per_decade, options.low_band,
                               options.high_band, units, step)
    for j, row in enumerate(rows):
        for key in ("exponent_low", "exponent_low_err", "exponent_high", "exponent_high_err"):
            row[f"spectrum_{key}"] = float(spectra[key].values[j])
    combined = xr.merge([
        densities,
        table.rename({name: f"fit_{name}" for name in table.data_vars}),
        predicted.rename({"density_abs": "predicted_density_abs", "density_sq": "predicted_density_sq"}).drop_vars(
            ["abs_delta", "delta_sq"]),
        spectra,
    ], compat="override", combine_attrs="override")
    combined.attrs = {"source": trajectory.source, "run_dir": str(run.path), "package_version": __version__,
                      "fluctuation": options.mode, "lag": options.lag, "steps_per_row": step,
                      "spectrum_method": spectra.attrs["method"], "spectrum_segment_rows": spectra.attrs["segment_rows"],
                      "spectrum_low_band": spectra.attrs["low_band"], "spectrum_high_band": spectra.attrs["high_band"],
                      "theory": table.attrs["fit"], "crossover_convention": table.attrs["crossover_convention"]}
    outputs = None
    if trajectory.x is not None and trajectory.x.shape[0] >= 10:
        output_data, outputs = _output_observables(np.asarray(trajectory.x, float), options.seed)
        combined = xr.merge([combined, output_data], combine_attrs="no_conflicts")
    files = [save_dataset(combined, out / OBSERVABLES_FILE)]
    files.append(write_json(out / FITS_FILE, {"source": trajectory.source, "columns": [_strict(row) for row in rows]}))
    files.append(write_json(out / ANALYSIS_FILE, {"run_dir": str(run.path.resolve()), "options": asdict(options),
                                                  "package_version": __version__}))
    if options.figures:
        directory = out / FIGURES_DIR
        for view, name in (("full", "fig2_fluctuations.png"), ("powerlaw", "fig3_powerlaw.png"),
                           ("gaussian", "fig3_gaussian.png")):
            files.append(figures.fluctuation_figure(densities, predicted, table, view, directory / name))
        files.append(figures.spectrum_figure(spectra, directory / "fig4_spectrum.png"))
        if outputs is not None:
            files.append(figures.outputs_figure(trajectory.x, outputs, directory / "fig1_outputs.png"))
    return _summary(trajectory, samples, table, spectra, outputs, out, files)


def _strict(row: dict) -> dict:
    """Non-finite numbers as null, so that fits.json is strict JSON."""
    return {key: (None if isinstance(value, float) and not np.isfinite(value) else value) for key, value in row.items()}


def _median(values) -> float:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def _summary(trajectory, samples, table, spectra, outputs, out, files) -> dict:
    ok = np.array([str(s) == "ok" for s in table["status"].values])
    summary = {
        "source": trajectory.source, "out": str(out), "n_columns": int(samples.shape[1]), "n_samples": int(samples.shape[0]),
        "columns_fitted": int(ok.sum()),
        "median_exponent": _median(table["exponent"].values) if "exponent" in table else float("nan"),
        "median_decades": _median(table["decades"].values) if "decades" in table else float("nan"),
        "median_spectrum_exponent_low": _median(spectra["exponent_low"].values),
        "median_spectrum_exponent_high": _median(spectra["exponent_high"].values),
        "files": [str(Path(f).relative_to(out)) if Path(f).is_relative_to(out) else str(f) for f in files],
    }
    if outputs is not None:
        summary["outputs_bimodal"] = int(sum(r.bimodal for r in outputs))
        summary["outputs_tested"] = len(outputs)
    return summary
