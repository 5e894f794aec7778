"""``statmech-nn cw`` and ``statmech-nn hs``: the Curie–Weiss magnet and general-coupling spin models (001).

    statmech-nn cw --n N --beta B --j J --b FIELD --method exact|mean-field|mc --json     (also: cw query ...)
    statmech-nn cw phase-diagram --out DIR [--n N] [--j J] [--t 0.05:2:80] [--b=-0.5:0.5:81]
    statmech-nn hs --weights W.npy --beta B --h H --json                                (also: hs query ...)
    statmech-nn hs scan --weights W.npy --out DIR [--t START:STOP:N] [--h START:STOP:N]
    statmech-nn hs layer --weights w.npy [--bias c.npy] [--out DIR] --json

``cw`` and ``hs`` without an action are the query. A grid whose START is negative is written with "=" (--b=-0.5:0.5:81),
as argparse otherwise reads it as an option. The library is imported inside the handlers, so that
``statmech-nn --help`` stays fast.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError, DataError, ParameterError
from ..inputs import real_array
from ..params import GridAxis, require_budget, require_int
from ._common import add_command, add_json_flag, add_large_flag, emit, finite, input_file, out_path, seed

MAX_MAGNITUDE = 1e100
"""The validity domain of these commands: β, T, J, b, h within 1e-100 <= |value| <= 1e100 (or 0 where 0 is allowed).
Beyond it products such as β²·N·Var(E) overflow float64 and the answers would be NaN or wrong."""
SPIN_UPDATES_PER_S = 1e7  # a conservative rate of the Monte Carlo kernels (cw --method mc)

_CW_ACTIONS = ("query", "phase-diagram")
_HS_ACTIONS = ("query", "scan", "layer")


def register(subparsers) -> None:
    _register_cw(subparsers)
    _register_hs(subparsers)


# --- shared ---------------------------------------------------------------------------------------
def _grid(spec: str, name: str, confirmed: bool = False, positive: bool = False) -> np.ndarray:
    """START:STOP:N (linear, inclusive) or START:STOP:Nlog, inside the validity domain (:data:`MAX_MAGNITUDE`)."""
    values = GridAxis.parse(f"{name}={spec}", confirmed).values
    for value in (values.min(), values.max()):
        _in_domain(name, value, positive)
    return values


def _in_domain(name: str, value, positive: bool = False) -> float:
    """``value`` inside :data:`MAX_MAGNITUDE`'s domain (``positive``: also > 0, at least 1/MAX_MAGNITUDE)."""
    value = float(value)
    low = 1 / MAX_MAGNITUDE if positive else -MAX_MAGNITUDE
    if not low <= value <= MAX_MAGNITUDE:
        raise ParameterError(name, value, f"in [{low:g}, {MAX_MAGNITUDE:g}] (the domain where the sums stay finite)")
    return value


def _require_finite_results(payload: dict, what: str) -> dict:
    """The computed observables, refused (not printed as null) when one of them is NaN or infinite."""
    bad = [key for key, value in payload.items() if not np.all(np.isfinite(np.asarray(value, float)))]
    if bad:
        raise ConvergenceError(f"{', '.join(bad)} evaluated to NaN or infinity at {what}")
    return payload


def _grid_spec(values: np.ndarray) -> str:
    """START:STOP:N of a linear grid (how a default grid is written into run.json)."""
    return f"{values[0]!r}:{values[-1]!r}:{values.size}"


def _load_matrix(path: str, name: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"--{name} {path}: not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise DataError(f"--{name} {path}: an NPZ archive, not one .npy array")
    if array.size == 0:
        raise DataError(f"--{name} {path}: an empty array (shape {array.shape})")
    return real_array(array, f"--{name} {path}")   # real, finite, squares within float64


def _write_run(words: list[str], parameters: dict, dataset, plot, figure_name: str) -> dict:
    """run.json (re-runnable from its command), observables.nc and figures/<figure_name>.png in ``--out``."""
    from ..runs.directory import command_line, figure_path, open_run, save_results
    directory = open_run(parameters["out"], command=command_line(words, parameters), parameters=parameters)
    return save_results(directory, dataset=dataset, figures={figure_path(figure_name): plot})


# --- cw ---------------------------------------------------------------------------------------------
def _add_cw_query_options(parser) -> None:
    parser.add_argument("--n", type=int, help="number of spins (exact and mc)")
    parser.add_argument("--beta", type=finite, help="inverse temperature β > 0")
    parser.add_argument("--j", type=finite, default=1.0, help="coupling J (default 1)")
    parser.add_argument("--b", type=finite, default=0.0, help="external field b (default 0)")
    parser.add_argument("--method", choices=("exact", "mean-field", "mc"), default="exact")
    parser.add_argument("--sweeps", type=int,
                        help="mc: recorded sweeps per chain (default: 100-2000, about 4e8 spin updates in all)")
    parser.add_argument("--burn-in", type=int, help="mc: discarded sweeps per chain (default: sweeps/10)")
    parser.add_argument("--chains", type=int, default=4, help="mc: independent chains at β")
    parser.add_argument("--seed", type=seed, default=0, help="mc: random seed")
    add_large_flag(parser)
    parser.add_argument("--details", action="store_true",
                        help="add a 'details' object (all solutions, error bars, Binder cumulant, ...)")
    add_json_flag(parser)
    parser.set_defaults(handler=_cw_query)


def _register_cw(subparsers) -> None:
    parser = add_command(subparsers, "cw", description="Query (default) or 'phase-diagram'.")
    _add_cw_query_options(parser)
    actions = parser.add_subparsers(dest="cw_action", metavar="{query,phase-diagram}")
    _add_cw_query_options(actions.add_parser("query", help="m, <|m|>, chi, free energy per spin at one point"))
    diagram = actions.add_parser("phase-diagram", help="(T, b) grid as NetCDF with figures")
    diagram.add_argument("--out", type=out_path, required=True, help="run directory to write")
    diagram.add_argument("--j", type=finite, default=1.0)
    diagram.add_argument("--n", type=int, default=1000, help="N of the exact sums beside mean field (0: none)")
    diagram.add_argument("--t", default="0.05:2:80", help="temperatures START:STOP:N (default 0.05:2:80)")
    diagram.add_argument("--b", default="-0.5:0.5:81",
                         help="fields START:STOP:N (default -0.5:0.5:81; write --b=-0.5:0.5:81 when START < 0)")
    add_large_flag(diagram)
    add_json_flag(diagram)
    diagram.set_defaults(handler=_cw_phase_diagram)


def _cw_query(args) -> None:
    from ..meanfield.curie_weiss import CurieWeiss
    if args.beta is None:
        raise ParameterError("beta", None, "given (--beta B, B > 0)")
    beta, j, b = _in_domain("beta", args.beta, positive=True), _in_domain("j", args.j), _in_domain("b", args.b)
    if args.method != "mean-field":
        n = require_int("n", args.n, 1) if args.n is not None else None
        if n is not None:
            _require_cw_budget(args, n, beta, j, b)
    model = CurieWeiss(j, b)
    if args.method == "mc":
        from ..sampling.spins import curie_weiss_monte_carlo
        estimate = curie_weiss_monte_carlo(model, args.n, args.beta, sweeps=args.sweeps, burn_in=args.burn_in,
                                           chains=args.chains, seed=args.seed, progress=True)
        payload, details = estimate.observables(), estimate.summary
    elif args.method == "mean-field":
        payload = model.observables(args.method, args.beta)
        details = lambda: {"solutions": model.mean_field(args.beta).table()}  # noqa: E731
    else:
        payload = model.observables(args.method, args.beta, args.n)
        details = lambda: model.exact(args.n, args.beta).observables  # noqa: E731
    _require_finite_results(payload, f"beta={args.beta!r}")
    if args.details:
        payload["details"] = {**details(), "Tc": model.critical_temperature}
    emit(payload, args.json)


def _require_cw_budget(args, n: int, beta: float, j: float, b: float) -> None:
    """The exact sums hold (N + 1) terms (8 arrays of float64); Monte Carlo does chains x sweeps x N spin updates
    at :data:`SPIN_UPDATES_PER_S`; β·N·(|J| + |b|) <= MAX_MAGNITUDE keeps the exponents finite."""
    if beta * n * (abs(j) + abs(b)) > MAX_MAGNITUDE:
        raise ParameterError("beta", beta, f"at most {MAX_MAGNITUDE:g} / (N (|J| + |b|)) for N = {n}")
    if args.method == "mc":
        chains = require_int("chains", args.chains, 1)
        sweeps = require_int("sweeps", args.sweeps, 1) if args.sweeps is not None else 1
        burn_in = require_int("burn-in", args.burn_in, 0) if args.burn_in is not None else 0
        require_budget(f"--n {n} x --chains {chains} x --sweeps {sweeps}", memory=8.0 * n * chains,
                       seconds=n * chains * (sweeps + burn_in) / SPIN_UPDATES_PER_S, confirmed=args.yes_large)
    else:
        require_budget(f"--n {n}", memory=8 * 8.0 * (n + 1), confirmed=args.yes_large)


def _cw_phase_diagram(args) -> None:
    from ..report.meanfield_figures import plot_cw_phase_diagram
    from ..scan.meanfield_tasks import cw_phase_diagram
    _in_domain("j", args.j)
    temperatures = _grid(args.t, "t", args.yes_large, positive=True)
    fields = _grid(args.b, "b", args.yes_large)
    n = require_int("n", args.n, 0)
    require_budget(f"--t {args.t} x --b {args.b} x --n {n}", confirmed=args.yes_large,
                   memory=8.0 * temperatures.size * (16 * fields.size + 8 * (n + 1)))
    dataset = cw_phase_diagram(temperatures, fields, args.j, args.n or None, progress=True)
    parameters = {"out": args.out, "j": args.j, "n": args.n, "t": args.t, "b": args.b}
    written = _write_run(["cw", "phase-diagram"], parameters, dataset, plot_cw_phase_diagram, "phase_diagram")
    emit({**written, "Tc": max(args.j, 0.0), "shape": dict(dataset.sizes)}, args.json)


# --- hs ---------------------------------------------------------------------------------------------
def _add_hs_query_options(parser) -> None:
    parser.add_argument("--weights", type=input_file, help="square coupling matrix W (.npy)")
    parser.add_argument("--beta", type=finite, help="inverse temperature β > 0")
    parser.add_argument("--h", type=finite, default=0.0, help="uniform field h (default 0)")
    parser.add_argument("--bias-unit", action="store_true",
                        help="unit 0 of W is the slides' always-on bias unit (clamped to +1): its row and column "
                             "become a field; N = size - 1")
    parser.add_argument("--random-starts", type=int, default=4, help="random starts besides the structured ones")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--details", action="store_true",
                        help="add a 'details' object (every solution with its stability, one-loop term)")
    add_large_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=_hs_query)


def _register_hs(subparsers) -> None:
    parser = add_command(subparsers, "hs", description="Query (default), 'scan' or 'layer'.")
    _add_hs_query_options(parser)
    actions = parser.add_subparsers(dest="hs_action", metavar="{query,scan,layer}")
    _add_hs_query_options(actions.add_parser("query", help="the saddle point at one (β, h)"))
    scan = actions.add_parser("scan", help="(T, h) grid as NetCDF with figures")
    scan.add_argument("--weights", type=input_file, required=True, help="square coupling matrix W (.npy)")
    scan.add_argument("--out", type=out_path, required=True, help="run directory to write")
    scan.add_argument("--t", help="temperatures START:STOP:N (default 0.1 T_c : 2 T_c : 40)")
    scan.add_argument("--h", default="-0.1:0.1:5",
                      help="uniform fields START:STOP:N (default -0.1:0.1:5; write --h=-0.1:0.1:5 when START < 0)")
    scan.add_argument("--random-starts", type=int, default=2)
    scan.add_argument("--seed", type=seed, default=0)
    add_large_flag(scan)
    add_json_flag(scan)
    scan.set_defaults(handler=_hs_scan)
    layer = actions.add_parser("layer", help="a trained layer (weight n_out x n_in, bias) as a spin model")
    layer.add_argument("--weights", type=input_file, required=True,
                       help="layer weight matrix, shape (n_out, n_in) (.npy)")
    layer.add_argument("--bias", type=input_file, help="layer bias, shape (n_out,) (.npy)")
    layer.add_argument("--t", help="temperatures of the curves START:STOP:N (default 0.05 : max(3 T_c, 2) : 60)")
    layer.add_argument("--out", type=out_path, help="run directory for the curves (NetCDF and figure)")
    layer.add_argument("--seed", type=seed, default=0)
    add_large_flag(layer)
    add_json_flag(layer)
    layer.set_defaults(handler=_hs_layer)


def _require(value, name: str, allowed: str):
    if value is None:
        raise ParameterError(name, None, allowed)
    return value


def _hs_query(args) -> None:
    from ..meanfield.hs import DENSE_LIMIT, GeneralCouplings
    weights = _load_matrix(_require(args.weights, "weights", "given (--weights W.npy)"), "weights")
    beta = _in_domain("beta", _require(args.beta, "beta", "given (--beta B, B > 0)"), positive=True)
    _in_domain("h", args.h)
    if args.bias_unit:
        base = GeneralCouplings.from_extended_matrix(weights)
        model = base.with_field(base.field + args.h)
    else:
        model = GeneralCouplings(weights, args.h)
    _require_starts_budget(args, model.n)
    points = model.saddle_points(beta, random_starts=args.random_starts, seed=args.seed)
    payload = {"m": points.m, "V": points.V, "chi": points.chi, "Tc": model.critical_temperature,
               "free_energy": points.free_energy, "solutions": points.count}
    if args.details:
        payload["details"] = {"solutions": points.table(), "state": points.state, "n": model.n,
                              "one_loop": points.one_loop() if model.n <= DENSE_LIMIT else None,
                              "chi_total": float(points.chi.mean())}
    emit(payload, args.json)


def _require_starts_budget(args, n: int) -> None:
    """Each random start is an N-vector solved by Newton steps of O(N³) flops (at 1e9 flop/s, 100 steps)."""
    starts = require_int("random-starts", args.random_starts, 0)
    require_budget(f"--random-starts {starts} with N = {n}", memory=8.0 * 4 * (starts + 2) * n,
                   seconds=(starts + 2) * 100 * n**3 / 1e9, confirmed=args.yes_large)


def _hs_scan(args) -> None:
    from ..report.meanfield_figures import plot_hs_scan
    from ..meanfield.hs import GeneralCouplings
    from ..scan.meanfield_tasks import hs_scan
    model = GeneralCouplings(_load_matrix(args.weights, "weights"))
    _require_starts_budget(args, model.n)
    tc = model.critical_temperature
    if args.t is None and tc <= 0:
        raise ParameterError("t", None, "given (--t START:STOP:N): T_c <= 0, so there is no default range")
    temperatures = _grid(args.t, "t", args.yes_large, positive=True) if args.t else np.linspace(0.1 * tc, 2.0 * tc, 40)
    dataset = hs_scan(model, temperatures, _grid(args.h, "h", args.yes_large), random_starts=args.random_starts,
                      seed=args.seed, progress=True)
    parameters = {"weights": args.weights, "out": args.out, "t": args.t or _grid_spec(temperatures), "h": args.h,
                  "random-starts": args.random_starts, "seed": args.seed}
    written = _write_run(["hs", "scan"], parameters, dataset, plot_hs_scan, "scan")
    emit({**written, "Tc": tc, "shape": dict(dataset.sizes)}, args.json)


def _hs_layer(args) -> None:
    from ..meanfield.bridge import LayerSpinModel
    from ..report.meanfield_figures import plot_layer_curves
    from ..scan.meanfield_tasks import layer_curves
    weight = _load_matrix(args.weights, "weights")
    bias = _load_matrix(args.bias, "bias") if args.bias else None
    model = LayerSpinModel.from_layer(weight, bias)
    tc = model.critical_temperature
    temperatures = (_grid(args.t, "t", args.yes_large, positive=True) if args.t
                    else np.linspace(0.05, max(3.0 * tc, 2.0), 60))
    report = model.report(seed=args.seed)
    curves = layer_curves(model, temperatures, seed=args.seed, progress=True)
    report["t_chi_peak"] = curves.attrs["t_chi_peak"]
    if args.out:
        parameters = {"weights": args.weights, "bias": args.bias, "t": args.t or _grid_spec(temperatures),
                      "out": args.out, "seed": args.seed}
        report.update(_write_run(["hs", "layer"], parameters, curves, plot_layer_curves, "layer_curves"))
    emit(report, args.json)
