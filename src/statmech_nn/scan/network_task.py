"""The network SOC scan's task: one training run of 002 §5's protocol per cell, analysed by the comparison layer.

:func:`soc_cell` trains per ``[training]`` (the grid sets e.g. ``training.lr``, ``training.weight_decay``,
``training.batch_size``) into a temporary run directory (with a ``replica`` axis: one replica, or a block, per
cell, into a run directory kept in the store, :mod:`.cell_runs`), analyses its weight trajectory with
:func:`statmech_nn.analyze` (``[analysis]``) and returns the cell's order parameters: test accuracy, whether
equilibrium was reached before tracking, the fraction of tracked weights whose law is resolved, the median
exponent 2s = α/β of 002 eqs. (6)/(21) with a bootstrap 95% interval of that median over the resolved weights,
the decades of power law inside the data, the peak mass (share of steps that are pure weight decay), the
spectrum's band exponents a_low and a_high, the verdicts Q1-Q4 (:func:`statmech_nn.compare.verdicts.headline`
and :meth:`Analysis.verdicts`), and the stationarity verdict S and stationary fraction where the analysis
table carries them (NaN / empty otherwise). ``law_holds`` is Q2 as a number: 1 supported, 0 not supported,
NaN inconclusive.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..checks import registered_check
from ..package_data import find_spec
from ..params import rng_from
from .cell_runs import check_replica_axis, trained_cell
from .tasks import task

BOOTSTRAP = 1000
LAW_VERDICTS = {"supported": 1.0, "not supported": 0.0, "inconclusive": np.nan}


def _median(rows: list[dict], key: str) -> float:
    values = np.array([row[key] for row in rows if row.get(key) is not None], float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else np.nan


def median_interval(values, seed=0, level: float = 0.95) -> tuple[float, float]:
    """A percentile-bootstrap interval of the median of ``values`` (NaN, NaN when fewer than two)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return np.nan, np.nan
    draws = rng_from(seed).choice(values, size=(BOOTSTRAP, values.size), replace=True)
    medians = np.median(draws, axis=1)
    return tuple(float(v) for v in np.quantile(medians, [(1 - level) / 2, (1 + level) / 2]))


@task
def soc_cell(training: dict, analysis: dict | None = None, replica=None, cell_dir=None, **_spec) -> dict:
    """Train, analyse and summarise one cell of the network SOC scan (see the module docstring); with a
    ``replica`` axis the cell trains that replica (block) into its kept run directory ``cell_dir``
    (:mod:`.cell_runs`) and its order parameters are that replica's."""
    from ..compare.verdicts import headline
    from ..report.analysis_figures import AnalysisOptions, analyze

    options = AnalysisOptions(**{"figures": False, **(analysis or {})})
    with trained_cell(training, replica, cell_dir) as (result, run):
        measured = analyze(run, options)
    rows = measured.rows
    head = headline(rows)
    resolved = [row for row in rows if row.get("status") == "resolved"]
    lo, hi = median_interval([row["exponent"] for row in resolved], seed=options.seed)
    verdicts = {v.id: v.verdict for v in measured.verdicts()}
    stationary = [row["stationarity_stationary"] for row in rows if row.get("stationarity_stationary") is not None]
    return {
        "test_accuracy": result.final_test_accuracy,
        "equilibrium_reached": float(result.equilibrium_reached),
        "equilibrium_before_tracking": float(result.equilibrium_epoch is not None),
        "weights_resolved_fraction": head["weights_resolved"] / max(1, head["weights"]),
        "median_exponent_2s": np.nan if head["median_exponent_2s"] is None else head["median_exponent_2s"],
        "exponent_2s_lo": lo, "exponent_2s_hi": hi,
        "decades_in_data_u": np.nan if head["median_decades_in_data_u"] is None else head["median_decades_in_data_u"],
        "peak_mass": _median(rows, "peak_mass"),
        "spectrum_a_low": _median(rows, "spectrum_exponent_low"),
        "spectrum_a_high": _median(rows, "spectrum_exponent_high"),
        "law_holds": LAW_VERDICTS[verdicts.get("Q2", "inconclusive")],
        "stationary_fraction": float(np.mean(stationary)) if stationary else np.nan,
        **{f"verdict_{key}": verdicts.get(key, "") for key in ("Q1", "Q2", "Q3", "Q4", "S")},
        "train_seconds": result.seconds,
    }


soc_cell.attributes = {
    "test_accuracy": {"long_name": "final test accuracy"},
    "equilibrium_reached": {"long_name": "1 if the test loss was flat at some epoch of the run, else 0"},
    "equilibrium_before_tracking": {"long_name": "1 if the warm-up ended at equilibrium (002 §5), else 0"},
    "weights_resolved_fraction": {"long_name": "fraction of tracked weights with a resolved fit of 002 eq. (21)"},
    "median_exponent_2s": {"long_name": "median fitted exponent 2s = alpha/beta over resolved weights"},
    "exponent_2s_lo": {"long_name": "bootstrap 95% interval of that median: low end"},
    "exponent_2s_hi": {"long_name": "bootstrap 95% interval of that median: high end"},
    "decades_in_data_u": {"long_name": "median decades of power law in u = Δ² inside the data", "units": "decades"},
    "peak_mass": {"long_name": "median share of steps that are pure weight decay (the peak)"},
    "spectrum_a_low": {"long_name": "median low-band exponent of f² P(f)"},
    "spectrum_a_high": {"long_name": "median high-band exponent of f² P(f)"},
    "law_holds": {"long_name": "Q2 (power law inside the data): 1 supported, 0 not supported, NaN inconclusive"},
    "stationary_fraction": {"long_name": "fraction of tracked weights stationary in the tracked window"},
    "train_seconds": {"long_name": "training time of the cell", "units": "s"},
}
soc_cell.check = check_replica_axis
soc_cell.keeps_runs = True   # the engine hands each cell its run directory (cell_dir), kept with a replica axis


@registered_check
def exponent_trend_with_noise_scale(lrs, weight_decay: float, batch_sizes=(1,), spec: str = "soc_digits_lr_wd",
                                    gof_bootstrap: int = 0, epochs: int | None = None):
    """The check of the claim that the tail exponent falls as the SGD noise scale lr / batch rises (Şimşekli et
    al. 2019): the network SOC scan (the shipped scan spec ``spec``) over ``lrs`` x ``batch_sizes`` at one weight
    decay, in a temporary store; deviation = max(0, Spearman ρ(lr / batch, median 2s)) (0 when 2s falls as
    lr / batch rises)."""
    from scipy.stats import spearmanr

    from .engine import load_scan, run_scan
    from .executors import LocalPool
    from .scan_spec import ScanSpec

    overrides = {"training.weight_decay": float(weight_decay), "analysis.gof_bootstrap": int(gof_bootstrap)}
    if epochs is not None:
        overrides["training.epochs"] = int(epochs)
    grid = ["training.lr=" + ",".join(repr(float(lr)) for lr in lrs),
            "training.batch_size=" + ",".join(str(int(b)) for b in batch_sizes)]
    scan_spec = ScanSpec.load(find_spec(spec, "scan"), grid, overrides)   # the set decay pins the spec's axis
    with tempfile.TemporaryDirectory(prefix="statmech-nn-claim-") as work:
        run_scan(scan_spec, Path(work) / "scan.zarr", LocalPool(), progress=False)
        scan = load_scan(Path(work) / "scan.zarr")
    exponent, low, high = (scan[name].transpose("lr", "batch_size").values.ravel()
                           for name in ("median_exponent_2s", "exponent_2s_lo", "exponent_2s_hi"))
    cells = [(float(lr), int(b)) for lr in scan["lr"].values for b in scan["batch_size"].values]
    if not np.all(np.isfinite(exponent)):
        return np.nan, f"no resolved exponent in some cell: 2s = {exponent.tolist()}"
    noise = np.array([lr / b for lr, b in cells])
    rho = float(spearmanr(noise, exponent).statistic)
    detail = ", ".join(f"lr {lr:.3g} / batch {b}: 2s = {e:.3f} [{lo:.3f}, {hi:.3f}]"
                       for (lr, b), e, lo, hi in zip(cells, exponent, low, high))
    return max(0.0, rho), f"Spearman rho(lr / batch, 2s) = {rho:+.2f}; {detail}"
