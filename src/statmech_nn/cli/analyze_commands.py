"""``statmech-nn fit-powerlaw`` and ``statmech-nn analyze``: the comparison layer's instruments from the shell."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..observables.fluctuations import MODES
from ..observables.powerlaw import fit_powerlaw
from ..observables.spectrum import HIGH_BAND
from ..observables.tail_models import ALTERNATIVES
from ..params import require_budget, require_finite, require_int
from ..compare.analysis import FIT_ROWS, STATIONARITY_ROWS
from ..compare.verdicts import summary_text
from ..report.analysis_figures import AnalysisOptions, analyze_run
from ..runs.outcome import flag_incomplete, require_complete
from ._common import (UsageError, add_allow_incomplete, add_command, add_json_flag, add_large_flag, emit, input_file,
                      out_path, seed)


def register(subparsers) -> None:
    fit = add_command(subparsers, "fit-powerlaw")
    fit.add_argument("file", type=input_file,
                     help="text file (whitespace/newline separated) or .npy, one value per entry")
    fit.add_argument("--discrete", action="store_true", help="the values are integers (discrete power law)")
    fit.add_argument("--xmin", type=float, help="fix x_min instead of scanning it by minimum KS distance")
    fit.add_argument("--gof", type=int, metavar="N",
                     help="also the bootstrap goodness-of-fit p-value from N synthetic sets")
    fit.add_argument("--compare", action="store_true",
                     help="also likelihood-ratio tests against " + ", ".join(ALTERNATIVES))
    fit.add_argument("--seed", type=seed, default=0, help="seed of the bootstrap (default 0)")
    add_large_flag(fit)
    add_json_flag(fit)
    fit.set_defaults(handler=_fit_powerlaw)

    analyze = add_command(subparsers, "analyze")
    analyze.add_argument("run_dir", help="a run directory holding trajectory.h5 (from a sampler or a network), or "
                                         "a scan store with a replica axis (then --point)")
    analyze.add_argument("--point", action="append", default=[], metavar="AXIS=VALUE",
                         help="a scan store's grid point (repeat per axis): its replica cells analysed as one "
                              "ensemble (statmech_nn.scan.ensemble)")
    analyze.add_argument("--out", type=out_path, required=True,
                         help="directory for observables.nc, fits.json and figures/")
    analyze.add_argument("--mode", choices=[m.replace("_", "-") for m in MODES], default="increment",
                         help="fluctuations: q(t+lag)-q(t), or q(t+1) minus the running mean of the last WINDOW rows")
    analyze.add_argument("--lag", type=int, default=1, help="rows between the two ends of an increment (default 1)")
    analyze.add_argument("--window", type=int, default=100, help="rows in the running mean (default 100)")
    analyze.add_argument("--per-decade", type=int, default=10, help="log bins per decade (default 10)")
    analyze.add_argument("--quadratic-bins", type=int, default=40, help="bins uniform in Δ² (default 40)")
    analyze.add_argument("--segment", type=int, help="Welch segment length in rows (default 2^floor(log2(n/8)))")
    analyze.add_argument("--low-band", metavar="LO:HI",
                         help="low band of the spectrum fit, in 1/step (default 4f1:40f1)")
    analyze.add_argument("--high-band", metavar="LO:HI", default=f"{HIGH_BAND[0]}:{HIGH_BAND[1]}",
                         help="high band of the spectrum fit, in 1/step (default %(default)s)")
    analyze.add_argument("--bootstrap", type=int, default=0, metavar="N",
                         help="the CSN bootstrap p-value of every column's |Δ| power law, N synthetic sets "
                              "(default 0: none, or 12 representative columns with --gof-bootstrap)")
    analyze.add_argument("--gof-bootstrap", type=int, default=0, metavar="N",
                         help="CSN bootstrap sets for the p-values of 12 columns chosen as the figures' are, "
                              "reported beside Q2, read by no verdict (default 0: none)")
    analyze.add_argument("--seed", type=seed, default=0, help="seed of the bootstrap and mixture fits (default 0)")
    analyze.add_argument("--units", default="q", help="unit of the tracked variables, for labels (default q)")
    analyze.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    analyze.add_argument("--block-rows", type=int, metavar="N",
                         help="rows read from trajectory.h5 at a time (default about 10^6 values per block)")
    analyze.add_argument("--fit-rows", type=int, default=FIT_ROWS, metavar="N",
                         help="fits on every m-th fluctuation sample, at most N (default %(default)s)")
    analyze.add_argument("--stationarity-rows", type=int, default=STATIONARITY_ROWS, metavar="N",
                         help="stationarity tests on every m-th row, at most N (default %(default)s)")
    add_allow_incomplete(analyze)
    add_json_flag(analyze)
    analyze.set_defaults(handler=_analyze)


def read_values(path) -> np.ndarray:
    """The numbers in a text file (whitespace or newline separated) or a .npy file, flattened."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    try:
        if path.suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        else:
            values = np.array(path.read_text(encoding="utf-8").split(), dtype=float)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path} does not hold numbers: {exc}") from None
    return np.asarray(values, float).ravel()


def _band(text, name):
    if text is None:
        return None
    parts = str(text).split(":")
    if len(parts) != 2:
        raise UsageError(f"--{name} must be LO:HI, got {text!r}")
    lo, hi = (require_finite(name, p) for p in parts)
    if not 0 < lo < hi:
        raise UsageError(f"--{name} needs 0 < LO < HI, got {text!r}")
    return (lo, hi)


GOF_OPERATIONS_PER_S = 1e7  # a conservative rate of one refit's xmin scan, counted as n² operations


def _fit_powerlaw(args) -> int:
    values = read_values(args.file)
    if args.gof is not None:
        gof = require_int("gof", args.gof, 1)
        require_budget(f"--gof {gof} on {values.size} values", seconds=gof * values.size**2 / GOF_OPERATIONS_PER_S,
                       confirmed=args.yes_large)
    fit = fit_powerlaw(values, discrete=args.discrete, xmin=args.xmin)
    payload = fit.to_dict()
    if args.gof:
        payload["gof_p"] = fit.gof_pvalue(args.gof, seed=args.seed, progress=True)
    if args.compare:
        payload["compare"] = {name: dict(zip(("R", "p"), fit.compare(name))) for name in ALTERNATIVES}
    emit(payload, args.json)
    return 0


def _point(items: list[str]) -> dict:
    """``--point AXIS=VALUE`` items as {axis: float}."""
    point = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--point {item!r}: expected AXIS=VALUE")
        point[key.strip()] = require_finite(f"--point {key.strip()}", value)
    return point


def _analyze(args) -> int:
    options = AnalysisOptions(mode=args.mode.replace("-", "_"), lag=args.lag, window=args.window,
                              per_decade=args.per_decade, quadratic_bins=args.quadratic_bins, segment=args.segment,
                              low_band=_band(args.low_band, "low-band"), high_band=_band(args.high_band, "high-band"),
                              bootstrap=args.bootstrap, gof_bootstrap=args.gof_bootstrap, seed=args.seed,
                              units=args.units, figures=not args.no_figures, block_rows=args.block_rows,
                              fit_rows=args.fit_rows, stationarity_rows=args.stationarity_rows)
    from ..scan.cell_runs import CELLS

    if args.point or (Path(args.run_dir) / CELLS).is_dir():   # a scan store: the replica cells of one point
        from ..scan.ensemble import write_ensemble

        write_ensemble(args.run_dir, Path(args.out) / "trajectory.h5", **_point(args.point))   # read in blocks
        summary = analyze_run(args.out, args.out, options, progress=True)
    else:
        outcome = require_complete(args.run_dir, args.allow_incomplete)
        summary = analyze_run(args.run_dir, args.out, options, progress=True)
        summary.update(flag_incomplete(args.out, outcome))
    emit(summary, args.json, f"{summary_text(summary)}\nwritten: {args.out}")
    return 0
