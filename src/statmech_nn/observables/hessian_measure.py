"""Every Hessian instrument of 003 at one point of training, as one summary and one labelled Dataset.

:func:`measure_hessian` reads an operator with the interface of
:class:`statmech_nn.networks.torch_hessian.HessianOperator` (``dim``, ``n_examples``, ``matvec``, ``exact``,
``per_example_entries``, ``gradient``, ``loss``, ``weights``, ``layer_slices``); it imports no torch. It
computes what :class:`HessianOptions` asks for:

- the SLQ spectrum and its symmetry measures (:mod:`.hessian`; 003 Fig. 8a), the exact spectrum beside it
  (``exact``, P up to a few thousand) and the Wasserstein-1 distance between them;
- bootstrap statistics of sampled entries, their correlations and the coupling exponent
  (:mod:`.hessian_entries`; 003 Figs. 6, 7); entries are drawn among the non-zero entries of the exact
  Hessian when it is computed (:func:`_sample`), else among all (or all cross-layer) entries;
- the order parameter OP = ‖∇R‖² (003 eq. (15)), the distribution of gradient entries (Fig. 4a) and the
  per-layer weight distributions with their skewness (Fig. 3a), each as a histogram of the values divided
  by their standard deviation (81 bins on ±6 std).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from scipy import stats

from ..params import require_int
from .hessian import (DEFAULT_PROBES, DEFAULT_STEPS, SpectralMeasure, density, slq, spectrum_summary,
                      symmetric_grid, wasserstein_to_spectrum)
from .hessian_entries import CORRELATION_SUBSET, entry_statistics, sample_entries

HISTOGRAM_BINS = 81
HISTOGRAM_SPAN = 6.0
DENSITY_POINTS = 801


@dataclass(frozen=True)
class HessianOptions:
    """What to measure: SLQ (``density``), the exact spectrum (``exact``), ``entries`` bootstrapped entries."""

    density: bool = True
    exact: bool = False
    steps: int = DEFAULT_STEPS
    probes: int = DEFAULT_PROBES
    entries: int = 0
    bootstrap: int = 200
    resample_size: int | None = None
    correlation_subset: int = CORRELATION_SUBSET
    seed: int = 0
    skip_same_layer: bool = False   # sample entries outside the same-layer blocks (zero for the hinge loss)

    def __post_init__(self):
        require_int("steps", self.steps, 1)
        require_int("probes", self.probes, 1)
        require_int("entries", self.entries, 0)
        require_int("bootstrap", self.bootstrap, 4)
        require_int("correlation_subset", self.correlation_subset, 3)
        if self.resample_size is not None:
            require_int("resample_size", self.resample_size, 1)


def standardized_histogram(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Density of values/std on ±6 (bin centers are :func:`histogram_centers`), the std and the skewness."""
    values = np.asarray(values, dtype=np.float64).ravel()
    std = float(values.std())
    scaled = values / std if std > 0 else np.zeros_like(values)
    edges = np.linspace(-HISTOGRAM_SPAN, HISTOGRAM_SPAN, HISTOGRAM_BINS + 1)
    counts, _ = np.histogram(scaled, bins=edges)
    width = edges[1] - edges[0]
    skew = float(stats.skew(values)) if std > 0 else float("nan")
    return counts / (values.size * width), std, skew


def histogram_centers() -> np.ndarray:
    edges = np.linspace(-HISTOGRAM_SPAN, HISTOGRAM_SPAN, HISTOGRAM_BINS + 1)
    return 0.5 * (edges[:-1] + edges[1:])


def _prefixed(prefix: str, summary: dict) -> dict:
    return {f"{prefix}{key}": value for key, value in summary.items() if key not in ("P", "exact")}


def _spectra(operator, options: HessianOptions, summary: dict, variables: dict, timings: dict) -> np.ndarray | None:
    """The spectral part; returns the exact Hessian when it was computed."""
    measures: dict[str, SpectralMeasure] = {}
    if options.density:
        started = time.perf_counter()
        measures["slq"] = slq(operator.matvec, operator.dim, steps=options.steps, probes=options.probes,
                              seed=options.seed)
        timings["slq"] = time.perf_counter() - started
        variables["slq_nodes"] = (("probe", "node"), measures["slq"].nodes)
        variables["slq_weights"] = (("probe", "node"), measures["slq"].weights)
    if options.exact:
        started = time.perf_counter()
        hessian = operator.exact()
        eigenvalues = np.linalg.eigvalsh(0.5 * (hessian + hessian.T))
        timings["exact"] = time.perf_counter() - started
        measures["exact"] = SpectralMeasure.from_eigenvalues(eigenvalues)
        variables["eigenvalues"] = (("eigen",), eigenvalues)
        summary["exact_asymmetry_of_matrix"] = float(np.abs(hessian - hessian.T).max())
        lower_entries = operator.dim * (operator.dim + 1) / 2
        summary["nonzero_entry_fraction"] = float(np.count_nonzero(np.tril(hessian)) / lower_entries)
    else:
        hessian = None
    if not measures:
        return hessian
    main = measures.get("slq", measures.get("exact"))
    sigma = main.default_sigma()
    summary.update(spectrum_summary(main, sigma))
    if "slq" in measures:   # steps asked for, and the most taken (fewer where a Krylov space is invariant)
        summary["lanczos_steps_taken"], summary["lanczos_steps"] = summary["lanczos_steps"], options.steps
    else:
        summary["lanczos_steps"] = summary["probes"] = None
    if "slq" in measures and "exact" in measures:
        summary.update(_prefixed("exact_", spectrum_summary(measures["exact"], sigma)))
        summary["wasserstein_to_exact"] = wasserstein_to_spectrum(measures["slq"], measures["exact"].flat[0])
        spread = summary["exact_lambda_max"] - summary["exact_lambda_min"]
        summary["wasserstein_relative_to_range"] = summary["wasserstein_to_exact"] / spread if spread > 0 else None
    grid = symmetric_grid(main, sigma, DENSITY_POINTS)
    variables["lambda"] = grid
    for name, measure in measures.items():
        variables[f"density_{name}"] = (("lambda",), density(measure, grid, sigma))
    return hessian


def _sample(operator, options: HessianOptions, hessian: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Entries uniform among the eligible ones; with the exact Hessian at hand, among its non-zero entries.

    An entry with H_ab = 0 exactly is (but for a coincidence of measure zero) a structural zero, whose
    contributions all vanish and which has no t: drawing among the non-zero entries is drawing uniformly and
    keeping the entries with a t, without paying for the per-example passes of the discarded ones.
    """
    if hessian is not None:
        rows, cols = np.nonzero(np.tril(hessian))
        if options.skip_same_layer:
            block = np.zeros(operator.dim, dtype=np.int64)
            for index, s in enumerate(operator.layer_slices().values()):
                block[s] = index
            keep = block[rows] != block[cols]
            rows, cols = rows[keep], cols[keep]
        if rows.size == 0:
            return rows, cols
        rng = np.random.default_rng(options.seed)
        chosen = np.sort(rng.choice(rows.size, min(options.entries, rows.size), replace=False))
        return rows[chosen], cols[chosen]
    total = operator.dim * (operator.dim + 1) // 2
    blocks = list(operator.layer_slices().values()) if options.skip_same_layer else []
    eligible = total - sum((b.stop - b.start) * (b.stop - b.start + 1) // 2 for b in blocks)
    return sample_entries(operator.dim, min(options.entries, eligible), options.seed, exclude_blocks=blocks)


def _entries(operator, options: HessianOptions, summary: dict, variables: dict, timings: dict,
             hessian: np.ndarray | None) -> None:
    started = time.perf_counter()
    rows, cols = _sample(operator, options, hessian)
    summary["entries_drawn_from"] = "non-zero entries of the exact Hessian" if hessian is not None else "all entries"
    if rows.size == 0:
        summary.update({"entries": 0, "frac_t_below_0_15": None, "coupling_alpha": None})
        return
    contributions = operator.per_example_entries(rows, cols)
    stats_summary, stats_variables = entry_statistics(contributions, operator.dim, bootstrap=options.bootstrap,
                                                      resample_size=options.resample_size,
                                                      correlation_subset=options.correlation_subset, seed=options.seed)
    summary.update({**stats_summary, "same_layer_skipped": options.skip_same_layer})
    variables.update({"entry_row": (("entry",), rows), "entry_col": (("entry",), cols), **stats_variables})
    timings["entries"] = time.perf_counter() - started


def _first_order(operator, summary: dict, variables: dict) -> None:
    gradient = operator.gradient()
    summary["loss"] = operator.loss()
    summary["order_parameter"] = float(gradient @ gradient)
    hist, std, skew = standardized_histogram(gradient)
    summary["gradient_std"], summary["gradient_skewness"] = std, skew
    variables["gradient_hist"] = (("bin",), hist)
    weights = operator.weights
    layers = operator.layer_slices()
    rows = [standardized_histogram(weights[s]) for s in layers.values()]
    variables["weight_hist"] = (("layer", "bin"), np.array([r[0] for r in rows]))
    variables["weight_std"] = (("layer",), np.array([r[1] for r in rows]))
    variables["weight_skewness"] = (("layer",), np.array([r[2] for r in rows]))
    variables["layer"] = list(layers)
    summary["weight_skewness"] = {name: r[2] for name, r in zip(layers, rows)}


def measure_hessian(operator, options: HessianOptions = HessianOptions()) -> tuple[dict, xr.Dataset]:
    """The summary (flat, JSON-ready; symmetry keys None when no spectrum was asked for) and the Dataset."""
    summary: dict = {"P": operator.dim, "n_examples": operator.n_examples, "lanczos_steps": None, "probes": None,
                     "negative_mass": None, "asymmetry": None, "skewness": None, "lambda_min": None,
                     "lambda_max": None, "trace": None, "frac_t_below_0_15": None, "coupling_alpha": None,
                     "wasserstein_to_exact": None}
    variables: dict = {"bin": histogram_centers()}
    timings: dict = {}
    _first_order(operator, summary, variables)
    hessian = _spectra(operator, options, summary, variables, timings)
    if options.entries:
        _entries(operator, options, summary, variables, timings, hessian)
    summary["timings_s"] = timings
    coords = {name: variables.pop(name) for name in ("bin", "lambda", "layer") if name in variables}
    dataset = xr.Dataset(variables, coords=coords, attrs={"options": asdict(options), **{
        k: v for k, v in summary.items() if isinstance(v, (int, float, str)) and v is not None}})
    return summary, dataset
