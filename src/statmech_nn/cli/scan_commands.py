"""``statmech-nn scan SPEC.toml --grid KEY=START:STOP:N[log] ... --out STORE``: any scan on the scan engine.

``statmech-nn scan quartic --grid NAME=START:STOP:N ... [model flags] --out scan.nc`` is the quartic model's
scan (002 eqs. (6)-(7)) on the same engine; an ``--out`` ending in ``.nc`` keeps the store beside it (``.zarr``)
and writes the combined NetCDF file at the end.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from math import prod

from ._common import Interrupted, UsageError, add_command, add_json_flag, add_large_flag, emit, out_path
from .quartic_commands import add_model_arguments, model_parameters

QUARTIC_FIGURES = ("powerlaw_decades", "q2_mean", "mass_powerlaw", "u_gauss")


BYTES_PER_POINT = 8 * 24  # a cell's grid values, bookkeeping and results in the store, float64 (quartic: its meshes)
POINTS_PER_S = 1e3        # a conservative rate of the quartic batch evaluator (a few 1e4 points/s on one core)


def register(subparsers) -> None:
    scan = add_command(subparsers, "scan")
    scan.add_argument("target", metavar="SPEC",
                      help="a scan spec TOML (validation/scans/*.toml, or its name), or 'quartic'")
    scan.add_argument("--grid", action="append", default=[], metavar="KEY=START:STOP:N[log]",
                      help="a grid axis over a dotted key of the spec (repeat for more axes); also KEY=V1,V2,...")
    scan.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="set a dotted key of the spec (a number, true/false or a word); setting an axis of the "
                           "spec's [grid] pins it (the axis is dropped)")
    scan.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                      help="import MODULE first: a module of your own scan tasks, which the spec then names as "
                           "MODULE:function (a spec file alone never imports code)")
    scan.add_argument("--out", type=out_path, required=True, help="the Zarr store (re-running the command resumes it)")
    where = scan.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: the machine's cores)")
    where.add_argument("--local-cluster", type=int, metavar="N", help="start a Dask LocalCluster of N workers")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, tcp://HOST:PORT")
    scan.add_argument("--retries", type=int, default=0, help="re-run a failing cell up to N more times")
    scan.add_argument("--overwrite", action="store_true", help="start the store afresh")
    scan.add_argument("--figures", type=out_path,
                      help="directory for the figures (default: STORE_figures/ beside the store, one per store)")
    scan.add_argument("--no-figures", action="store_true", help="skip the figures")
    add_model_arguments(scan, required=False)
    add_large_flag(scan)
    add_json_flag(scan)
    scan.set_defaults(handler=_scan, claimed=store_path)


def store_path(out) -> Path:
    """The store of ``--out``: an ``--out`` ending in ``.nc`` keeps it beside (``.zarr``). The store is what the
    command claims, so that ``--out X.nc`` and ``--out X.zarr`` share one lock."""
    out = Path(out)
    return out.with_suffix(".zarr") if out.suffix == ".nc" else out


def _value(text: str):
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _spec(args):
    from ..params import GridAxis, require_budget
    from ..scan.grid import check_quartic_grid
    from ..package_data import find_spec
    from ..scan.scan_spec import ScanSpec

    points = prod(GridAxis.points(text) for text in args.grid)
    quartic = args.target == "quartic"
    require_budget(f"--grid {' x '.join(args.grid)} ({points:.3g} cells)", memory=BYTES_PER_POINT * points,
                   seconds=points / POINTS_PER_S if quartic else 0.0, confirmed=args.yes_large)
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key.strip()] = _value(value)
    if quartic:
        fixed = check_quartic_grid([GridAxis.parse(text, args.yes_large) for text in args.grid],
                                   model_parameters(args, required=False))
        header = {"task": "quartic", "name": "quartic", "figures": list(QUARTIC_FIGURES),
                  "boundaries": [{"variable": "normalizable", "level": 0.5, "label": "normalizable"}]}
        return ScanSpec.from_dict({"scan": header, "model": fixed}, [f"model.{text}" for text in args.grid],
                                  overrides, confirmed=args.yes_large)
    return ScanSpec.load(find_spec(args.target, "scan"), args.grid, overrides, confirmed=args.yes_large)


def figures_directory(store: Path) -> Path:
    """The figures of the scan in ``store`` (``runs/a.zarr`` -> ``runs/a_figures``): a folder of its own, so that
    two scans in one folder never overwrite each other's figures."""
    return store.with_name(store.stem + "_figures")


def _cells_done(store: Path, cells: int) -> str:
    """"2 of 6 cells done", read from the store (what a resumed scan will not compute again)."""
    from ..scan.engine import load_scan
    from ..scan.scan_store import DONE

    try:
        done = int((load_scan(store)["status"] == DONE).sum())
    except (OSError, KeyError, ValueError):   # no store yet, or one cut off before its first cell
        done = 0
    return f"{done} of {cells} cells done"


def _scan(args) -> None:
    from ..io import save_dataset
    from ..report.scan_figures import draw_scan
    from ..scan.engine import load_scan, run_scan
    from ..scan.executors import make_executor

    for module in args.imports:   # asked for on the command line, not by the spec file
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UsageError(f"--import {module}: {exc}") from None
    spec = _spec(args)
    out = Path(args.out)
    store = store_path(out)
    try:
        outcome = run_scan(spec, store, make_executor(args.workers, args.local_cluster, args.scheduler),
                           retries=args.retries, progress=not args.json, overwrite=args.overwrite,
                           confirmed=args.yes_large)
    except KeyboardInterrupt:
        raise Interrupted(_cells_done(store, spec.cells)) from None
    dataset = load_scan(store)
    figures_dir = Path(args.figures) if args.figures else figures_directory(store)
    figures = [] if args.no_figures else draw_scan(dataset, figures_dir, spec.figures, spec.boundaries)
    payload = {**outcome.summary(), "figures": [str(f) for f in figures]}
    if store != out:
        payload["netcdf"] = str(save_dataset(dataset, out))
    if spec.task == "quartic" and "normalizable" in dataset:   # absent only when every cell failed
        payload.update({"points": outcome.cells, "points_per_s": outcome.cells_per_s,
                        "normalizable_fraction": float(dataset["normalizable"].where(dataset["status"] == 1).mean())})
    emit(payload, args.json)
