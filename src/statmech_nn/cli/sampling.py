"""``statmech-nn sample``: sample p(x, q) of the quartic toy model or of the linearized network (002 §2, §4).

- ``sample quartic``: exact, Metropolis–Hastings or two-timescale Langevin samples, compared with the exact
  marginal (⟨(q-q̄)²⟩ from quadrature, KS distance), with τ, ESS and R̂;
- ``sample quartic-bias``: the Langevin bias, KS(ε, dt) on a grid (NetCDF + PNG);
- ``sample linearized``: Langevin or MALA on p(q) ∝ exp(-αF) of a network model spec, x|q exact.

A run that is too short for its autocorrelation time (or whose chains have not mixed) prints a warning
line on stderr and sets ``"reliable": false``; ``--strict`` turns that into an error (exit status 2).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba

from ..errors import ConvergenceError, ParameterError
from ..io import RunDirectory, save_dataset, write_json
from ..params import GridAxis, require_int
from ..sampling.bias import DEFAULT_SLOW_TIME, langevin_bias, plot_bias
from ..sampling.chains import write_run_directory
from ..sampling.linearized_sampler import DEFAULT_LINEARIZED_DT, LINEARIZED_METHODS, sample_linearized
from ..sampling.langevin import INTEGRATORS
from ..sampling.metropolis import DEFAULT_STEP_SCALE
from ..sampling.quartic import DEFAULT_DT, DEFAULT_EPSILON, METHODS, quartic_reference, quartic_trajectory, sample_quartic
from ..sampling.summary import summarize
from ..toy import QuarticModel
from ._common import add_json_flag, emit

_MODEL_OPTIONS = (("lambda_x", None), ("g", None), ("lambda_q", None), ("alpha", None), ("beta", None),
                  ("mu", 0.0), ("x_bar", 0.0), ("q_bar", 0.0))


def register(subparsers) -> None:
    parser = subparsers.add_parser("sample", help="sample p(x, q): exact, Metropolis-Hastings, two-timescale Langevin")
    commands = parser.add_subparsers(dest="sample_command", metavar="MODEL")

    quartic = commands.add_parser("quartic", help="the quartic toy model of 002 section 2")
    _add_model_options(quartic)
    quartic.add_argument("--method", choices=METHODS, required=True)
    quartic.add_argument("--epsilon", type=float, default=DEFAULT_EPSILON, help="time-scale ratio of q to x (langevin)")
    quartic.add_argument("--dt", type=float, default=DEFAULT_DT, help="Euler-Maruyama step of x (langevin)")
    quartic.add_argument("--integrator", choices=tuple(INTEGRATORS), default="euler",
                         help="langevin: euler (Euler-Maruyama) or exponential (exact OU step for x)")
    quartic.add_argument("--step-scale", type=float, default=DEFAULT_STEP_SCALE, help="proposal scale factor (mh)")
    _add_run_options(quartic)
    quartic.set_defaults(handler=_quartic)

    bias = commands.add_parser("quartic-bias", help="KS distance of Langevin's q-marginal to the exact one over (epsilon, dt)")
    _add_model_options(bias)
    bias.add_argument("--grid", action="append", required=True, metavar="AXIS",
                      help="epsilon=START:STOP:N[log] and dt=START:STOP:N[log] (give both)")
    bias.add_argument("--chains", type=int, default=256)
    bias.add_argument("--slow-time", type=float, default=DEFAULT_SLOW_TIME,
                      help="run length in q's own time epsilon*t at every grid point")
    bias.add_argument("--integrator", choices=tuple(INTEGRATORS), default="euler")
    bias.add_argument("--seed", type=int, default=0)
    bias.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    bias.add_argument("--out", help="directory for bias.nc, bias.png, run.json")
    add_json_flag(bias)
    bias.set_defaults(handler=_quartic_bias)

    linearized = commands.add_parser("linearized", help="the linearized network model of 002 section 4")
    linearized.add_argument("--model", required=True, help="model spec TOML (e.g. models/linearized_small.toml)")
    linearized.add_argument("--method", choices=LINEARIZED_METHODS, default="mala")
    linearized.add_argument("--dt", type=float, default=DEFAULT_LINEARIZED_DT, help="Langevin step in q's time")
    _add_run_options(linearized)
    linearized.set_defaults(handler=_linearized)


def _add_model_options(parser) -> None:
    for name, default in _MODEL_OPTIONS:
        flag = "--" + name.replace("_", "-")
        if default is None:
            parser.add_argument(flag, type=float, required=True)
        else:
            parser.add_argument(flag, type=float, default=default)


def _add_run_options(parser) -> None:
    parser.add_argument("--chains", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20000, help="steps per chain, burn-in included")
    parser.add_argument("--burn-in", type=int, help="unrecorded steps per chain (default: a quarter)")
    parser.add_argument("--thin", type=int, help="record every THIN-th step (default: <= 2000 samples per chain)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    parser.add_argument("--out", help="directory for trajectory.h5, run.json, summary.json")
    parser.add_argument("--strict", action="store_true", help="exit with status 2 when the run is not reliable")
    add_json_flag(parser)


def _command(args, subcommand: str, names: tuple[str, ...]) -> list[str]:
    """The command line that reproduces this run (for run.json)."""
    command = ["statmech-nn", "sample", subcommand]
    for name in names:
        value = getattr(args, name)
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            command.append(flag)
        elif isinstance(value, list):
            for item in value:
                command += [flag, str(item)]
        else:
            command += [flag, str(value)]
    return command


def _set_threads(args) -> None:
    if args.threads is not None:
        threads = require_int("threads", args.threads, 1)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _model(args) -> QuarticModel:
    return QuarticModel(**{name: getattr(args, name) for name, _ in _MODEL_OPTIONS})


def _finish(summary: dict, args) -> int:
    """Warn (stderr, one line) about an unreliable run; with --strict make it an error."""
    if not summary["reliable"]:
        reasons = " | ".join(summary["warnings"])
        if args.strict:
            raise ConvergenceError(f"the run is not reliable: {reasons}")
        print(f"statmech-nn: warning: the run is not reliable: {reasons}", file=sys.stderr)
    emit(summary, args.json)
    return 0


_QUARTIC_NAMES = tuple(n for n, _ in _MODEL_OPTIONS) + ("method", "epsilon", "dt", "integrator", "step_scale", "chains", "steps",
                                                       "burn_in", "thin", "seed", "threads", "out", "strict")


def _quartic(args) -> int:
    _set_threads(args)
    model = _model(args)
    run = sample_quartic(model, args.method, chains=args.chains, steps=args.steps, seed=args.seed,
                         epsilon=args.epsilon, dt=args.dt, burn_in=args.burn_in, thin=args.thin,
                         step_scale=args.step_scale, integrator=args.integrator)
    summary = summarize(run, model.q_bar, quartic_reference(model))
    if args.out:
        write_run_directory(args.out, quartic_trajectory(model, run), summary,
                            command=_command(args, "quartic", _QUARTIC_NAMES),
                            parameters={"model": model.to_dict(), **run.settings, **run.length.to_dict(),
                                        "method": run.method}, seed=args.seed)
    return _finish(summary, args)


def _quartic_bias(args) -> int:
    _set_threads(args)
    model = _model(args)
    axes = {axis.name: axis.values for axis in map(GridAxis.parse, args.grid)}
    if set(axes) != {"epsilon", "dt"}:
        raise ParameterError("grid", ",".join(args.grid), "one axis named epsilon and one named dt")
    chains = require_int("chains", args.chains, 1)
    dataset = langevin_bias(model, axes["epsilon"], axes["dt"], chains=chains, seed=args.seed,
                            slow_time=args.slow_time, integrator=args.integrator)
    summary = {"epsilon": dataset["epsilon"].values, "dt": dataset["dt"].values, "ks": dataset["ks"].values,
               "ks_noise": dataset["ks_noise"].values, "q2_mean": dataset["q2_mean"].values,
               "q2_exact": dataset.attrs["q2_exact"], "reliable": bool(dataset["reliable"].all())}
    if args.out:
        out = Path(args.out)
        save_dataset(dataset, out / "bias.nc")
        plot_bias(dataset, out / "bias.png")
        write_json(out / "summary.json", summary)
        RunDirectory(out).write_run_info(
            command=_command(args, "quartic-bias", tuple(n for n, _ in _MODEL_OPTIONS) + ("grid", "chains", "slow_time",
                                                                                         "integrator", "seed", "threads", "out")),
            parameters={"model": model.to_dict(), "grid": args.grid, "chains": chains, "slow_time": args.slow_time,
                        "integrator": args.integrator},
            seed=args.seed)
    unreliable = int((~dataset["reliable"].values).sum())
    if unreliable:
        print(f"statmech-nn: warning: {unreliable} of {dataset['reliable'].size} grid points are not reliable "
              "(chains too short for their autocorrelation time, or R-hat > 1.01): raise --slow-time", file=sys.stderr)
    emit(summary, args.json)
    return 0


_LINEARIZED_NAMES = ("model", "method", "dt", "chains", "steps", "burn_in", "thin", "seed", "threads", "out", "strict")


def _linearized(args) -> int:
    _set_threads(args)
    result = sample_linearized(args.model, args.method, dt=args.dt, chains=args.chains, steps=args.steps,
                               seed=args.seed, burn_in=args.burn_in, thin=args.thin)
    if args.out:
        directory = write_run_directory(args.out, result.trajectory, result.summary,
                                        command=_command(args, "linearized", _LINEARIZED_NAMES),
                                        parameters=result.parameters, seed=args.seed)
        save_dataset(result.expansion, directory.path / "expansion.nc")
    return _finish(result.summary, args)
