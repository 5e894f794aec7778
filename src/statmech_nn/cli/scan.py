"""``statmech-nn scan quartic --grid NAME=START:STOP:N ... --out scan.nc``: phase scans with heatmaps."""

from __future__ import annotations

from pathlib import Path

from math import prod

from ..io import save_dataset
from ..params import GridAxis, require_budget
from ._common import add_command, add_json_flag, add_large_flag, emit, out_path
from .quartic import add_model_arguments, model_parameters


BYTES_PER_POINT = 8 * 24  # the six parameters' meshes and flat copies, and the results, float64
POINTS_PER_S = 1e3        # a conservative rate of the batch evaluator (a few 1e4 points/s on one core)


def register(subparsers) -> None:
    scan = add_command(subparsers, "scan")
    models = scan.add_subparsers(dest="scan_model", metavar="MODEL", required=True)
    quartic = models.add_parser("quartic", help="scan the quartic toy model (002 eqs. (6)-(7))")
    quartic.add_argument("--grid", action="append", required=True, metavar="NAME=START:STOP:N",
                         help="a scanned parameter (repeat for more axes); N may end in 'log' for a log grid")
    add_model_arguments(quartic, required=False)
    quartic.add_argument("--out", type=out_path, required=True, help="NetCDF file to write")
    quartic.add_argument("--figures", type=out_path, help="directory for heatmaps (default: next to --out)")
    quartic.add_argument("--no-figures", action="store_true", help="skip the heatmaps")
    add_large_flag(quartic)
    add_json_flag(quartic)
    quartic.set_defaults(handler=_scan_quartic)


def _scan_quartic(args) -> None:
    from ..report.model_figures import scan_figures
    from ..scan.grid import quartic_scan

    points = prod(GridAxis.points(spec) for spec in args.grid)
    require_budget(f"--grid {' x '.join(args.grid)} ({points:.3g} points)", memory=BYTES_PER_POINT * points,
                   seconds=points / POINTS_PER_S, confirmed=args.yes_large)
    axes = [GridAxis.parse(spec, args.yes_large) for spec in args.grid]
    result = quartic_scan(axes, model_parameters(args, required=False), progress=not args.json)
    out = save_dataset(result, args.out)
    figures = [] if args.no_figures else scan_figures(result, args.figures or Path(args.out).parent / "figures")
    payload = {"out": str(out), "figures": [str(f) for f in figures], "points": result.attrs["points"],
               "seconds": result.attrs["seconds"], "points_per_s": result.attrs["points"] / result.attrs["seconds"],
               "normalizable_fraction": float(result["normalizable"].mean())}
    emit(payload, args.json)
