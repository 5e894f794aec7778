"""``statmech-nn gates | circuits | assembly | capacity``: 003's stochastic gates, basis circuits, eq. (20),
capacity scan."""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..networks.config import PRESETS
from ..params import require_budget
from ._common import (add_allow_incomplete, add_command, add_json_flag, add_large_flag, count, emit, finite,
                      input_file, out_path, seed)

METHODS = ("exact", "mc", "mean-field")
CAPACITY = PRESETS["capacity"]


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise DataError(f"{text!r} is not a comma-separated list of numbers") from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise DataError(f"{text!r} is not a comma-separated list of integers") from None


FLOPS_PER_S = 1e9  # a conservative rate of numpy's matrix products on one core
BYTES_PER_PATH = 8 * 64   # a sampled path's units, weights and products per layer, float64 (a generous bound)
PATHS_PER_S = 1e5         # a conservative rate of the path sampler


def _require_networks_budget(args, depths, widths, networks: int, steps: int = 1) -> None:
    """networks x depth matrices of width² float64 at once; steps x networks x depth x width² x 2 flops of work."""
    depth, width = max(depths, default=1), max(widths, default=1)
    size = float(networks) * depth * width**2
    require_budget(f"--depths {max(depths, default=0)} x --widths {width} x {networks} networks x {steps} steps",
                   memory=8.0 * size, seconds=2.0 * size * steps / FLOPS_PER_S, confirmed=args.yes_large)


def register(subparsers) -> None:
    gates = add_command(subparsers, "gates")
    gates.add_argument("--weights", type=input_file, required=True,
                       help="NPZ with W1, W2, ... (torch Linear layout, n_out x n_in)")
    gates.add_argument("--input", type=input_file, required=True, help="NPY holding one input vector")
    gates.add_argument("--temperature", type=finite, required=True, help="gate temperature T >= 0 (0: ReLU)")
    gates.add_argument("--method", choices=METHODS, default="exact")
    gates.add_argument("--samples", type=count, default=10000, help="Monte Carlo draws (method mc)")
    gates.add_argument("--seed", type=seed, default=0)
    add_large_flag(gates)
    add_json_flag(gates)
    gates.set_defaults(handler=_gates)

    circuits = add_command(subparsers, "circuits")
    circuits.add_argument("run_dir", help="run directory of statmech-nn train with a bias-free architecture")
    circuits.add_argument("--paths", type=int, default=20000, help="paths sampled per snapshot")
    circuits.add_argument("--inputs", type=int, default=8, help="training inputs the paths are spread over")
    circuits.add_argument("--seed", type=seed, default=0)
    circuits.add_argument("--out", type=out_path, required=True, help="directory for circuits.nc and the figure")
    add_allow_incomplete(circuits)
    add_large_flag(circuits)
    add_json_flag(circuits)
    circuits.set_defaults(handler=_circuits)

    assembly = add_command(subparsers, "assembly")
    assembly.add_argument("--depths", default="2,3,4,5,6,8")
    assembly.add_argument("--widths", default="16,64")
    assembly.add_argument("--c", type=finite, default=1.0, help="weight scale: W ~ N(0, 2c²/n_in); 1 = edge of chaos")
    assembly.add_argument("--mu", type=finite, default=0.5, help="√n^(1-μ) broken weights per layer; <= 0: none")
    assembly.add_argument("--networks", type=count, default=2000)
    assembly.add_argument("--seed", type=seed, default=0)
    assembly.add_argument("--out", type=out_path, required=True, help="directory for assembly.nc and the figure")
    add_large_flag(assembly)
    add_json_flag(assembly)
    assembly.set_defaults(handler=_assembly)

    capacity = add_command(subparsers, "capacity")
    capacity.add_argument("--depths", default="2", help="hidden layers, comma-separated")
    capacity.add_argument("--widths", default="2,4,8,16,32,64")
    capacity.add_argument("--n-train", default="64,256,1024", help="numbers of training examples")
    capacity.add_argument("--label-noise", default="0,0.5", help="fractions of labels replaced by a coin")
    capacity.add_argument("--temperatures", default="0,0.1", help="gate temperatures")
    capacity.add_argument("--steps", type=count, default=CAPACITY["epochs"],
                          help="full-batch steps per cell (preset capacity)")
    capacity.add_argument("--lr", type=finite, default=CAPACITY["lr"], help="Adam's step size (preset capacity)")
    capacity.add_argument("--risk-tol", type=float, default=1e-3, help="plastic when the final risk is below")
    capacity.add_argument("--op-tol", type=float, default=1e-6,
                          help="frustrated when the risk is above --risk-tol and the OP plateau below this")
    capacity.add_argument("--stall-tol", type=float, default=0.05,
                          help="... or when the risk fell by less than this fraction over the second half")
    capacity.add_argument("--seed", type=seed, default=0)
    capacity.add_argument("--workers", type=int, default=1)
    capacity.add_argument("--out", type=out_path, required=True, help="NetCDF file to write")
    capacity.add_argument("--figure", type=out_path, help="phase-diagram PNG (default: next to --out)")
    add_large_flag(capacity)
    add_json_flag(capacity)
    capacity.set_defaults(handler=_capacity)


def _read_weights(path: str) -> list[np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError(f"{path} must be an NPZ archive holding W1, W2, ... (it is an NPY array)")
        with archive:
            found = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, (FileNotFoundError, DataError)):
            raise
        raise DataError(f"{path} is not a readable NPZ file: {exc}") from None
    numbers = sorted(int(m.group(1)) for name in found if (m := re.fullmatch(r"W(\d+)", name)))
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise DataError(f"{path} must hold the layer matrices W1, W2, ... (found {sorted(found)})")
    return [found[f"W{i}"] for i in numbers]


def _read_input(path: str) -> np.ndarray:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataError(f"{path} is not a readable NPY file: {exc}") from None
    if not isinstance(loaded, np.ndarray):
        loaded.close()
        raise DataError(f"{path} must be an NPY file holding one array, not an NPZ archive")
    return loaded


def _gates(args) -> None:
    layers, x = _read_weights(args.weights), _read_input(args.input)
    if args.method == "mc":
        require_budget(f"--samples {args.samples}", memory=8.0 * args.samples * sum(w.shape[0] for w in layers),
                       confirmed=args.yes_large)
    payload = {"method": args.method, "temperature": args.temperature, "sem": None, "patterns": None}
    with np.errstate(all="ignore"):   # an overflow is reported below, as one error line
        _gate_law(args, layers, x, payload)
    numbers = [v for key in ("mean", "variance", "sem", "std") if payload.get(key) is not None
               for v in np.ravel(payload[key])]
    if not np.all(np.isfinite(numbers)):
        raise DataError("the output law is not finite for these weights and input (an overflow in float64); "
                        "rescale the weights or the input")
    emit(payload, args.json)


def _gate_law(args, layers, x, payload: dict) -> None:
    """The output law by ``args.method``, into ``payload``."""
    from ..gates import stochastic

    if args.method == "exact":
        law = stochastic.exact(layers, x, args.temperature)
        payload.update(mean=law.mean, variance=law.variance, patterns=law.patterns,
                       marginals=[m.tolist() for m in law.marginals])
    elif args.method == "mc":
        sample = stochastic.monte_carlo(layers, x, args.temperature, args.samples, args.seed)
        payload.update(mean=sample.mean, sem=sample.sem, std=sample.std, samples=sample.samples, seed=args.seed)
    else:
        payload.update(mean=stochastic.mean_field(layers, x, args.temperature))


def _circuits(args) -> None:
    from ..io import save_dataset
    from ..networks.circuit_io import run_snapshots
    from ..observables.circuit_symmetry import circuit_symmetry
    from ..params import require_int
    from ..report.gates_figures import circuit_histograms
    from ..runs.outcome import flag_incomplete, require_complete

    inputs = require_int("inputs", args.inputs, 1)
    paths = require_int("paths", args.paths, 1)
    require_budget(f"--paths {paths} x --inputs {inputs}", memory=BYTES_PER_PATH * paths,
                   seconds=paths * inputs / PATHS_PER_S, confirmed=args.yes_large)
    outcome = require_complete(args.run_dir, args.allow_incomplete)
    data, snapshots = run_snapshots(args.run_dir)
    chosen = np.random.default_rng(args.seed).permutation(data.x_train.shape[0])[:inputs]
    result = circuit_symmetry(snapshots, data.x_train[chosen].astype(np.float64), args.paths, args.seed)
    out = Path(args.out)
    nc = save_dataset(result, out / "circuits.nc")
    figure = circuit_histograms(result, out / "figures" / "circuit_symmetry.png")
    statistics = {str(s): {str(k): {str(n): float(result["statistic_value"].sel(snapshot=s, kind=k, statistic=n))
                                    for n in result["statistic"].values} for k in result["kind"].values}
                  for s in result["snapshot"].values}
    emit({"out": str(nc), "figures": [str(figure)], "snapshots": list(result["snapshot"].values),
          "paths": args.paths, "inputs": len(chosen), "paths_per_input": result["paths_per_input"].values,
          "statistics": statistics, **flag_incomplete(out, outcome)}, args.json)


def _assembly(args) -> None:
    from ..gates.assembly import assembly_moments, decay_rates
    from ..io import save_dataset
    from ..report.gates_figures import assembly_figure

    _require_networks_budget(args, _ints(args.depths), _ints(args.widths), args.networks)
    moments = assembly_moments(_ints(args.depths), _ints(args.widths), c=args.c,
                               mu=args.mu if args.mu > 0 else None, networks=args.networks, seed=args.seed)
    out = Path(args.out)
    nc = save_dataset(moments, out / "assembly.nc")
    with warnings.catch_warnings():   # moments that underflowed to 0 leave a log axis empty: the figure says so
        warnings.simplefilter("ignore", UserWarning)
        figure = assembly_figure(moments, out / "figures" / "assembly_moments.png")
    emit({"out": str(nc), "figures": [str(figure)], "rates": decay_rates(moments)}, args.json)


def _capacity(args) -> None:
    from ..io import save_dataset
    from ..report.gates_figures import capacity_phase_figure
    from ..scan.capacity import CapacityGrid, capacity_scan, phase_boundary
    from ..runs.claim import claim
    from ..scan.executors import LocalPool

    _require_networks_budget(args, _ints(args.depths), _ints(args.widths), max(_ints(args.n_train)), args.steps)
    grid = CapacityGrid(depth=_ints(args.depths), width=_ints(args.widths), n_train=_ints(args.n_train),
                        label_noise=_floats(args.label_noise), temperature=_floats(args.temperatures),
                        steps=args.steps, lr=args.lr, risk_tol=args.risk_tol, op_tol=args.op_tol,
                        stall_tol=args.stall_tol, seed=args.seed)
    figure_path = Path(args.figure) if args.figure else Path(args.out).with_suffix(".png")
    with claim(figure_path, overwrite=args.overwrite):   # every output file is claimed like --out
        scan = capacity_scan(grid, executor=LocalPool(args.workers), progress=not args.json)
        out = save_dataset(scan, args.out)
        figure = capacity_phase_figure(scan, figure_path)
    emit({"out": str(out), "figures": [str(figure)], "cells": scan.attrs["cells"], "seconds": scan.attrs["seconds"],
          "plastic_fraction": float(scan["plastic"].mean()), "frustrated_fraction": float(scan["frustrated"].mean()),
          "boundary": phase_boundary(scan)}, args.json)
