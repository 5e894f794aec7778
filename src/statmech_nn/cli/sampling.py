"""``statmech-nn sample``: sample p(x, q) of the quartic toy model or of the linearized network (002 §2, §4).

- ``sample quartic``: exact, Metropolis–Hastings or two-timescale Langevin samples, compared with the exact
  marginal (⟨(q-q̄)²⟩ from quadrature, KS distance), with τ, ESS and R̂;
- ``sample quartic-bias``: the Langevin bias, KS(ε, dt) on a grid (NetCDF + PNG);
- ``sample linearized``: Langevin or MALA on p(q) ∝ exp(-αF) of a network model spec, x|q exact.

A run that is too short for its autocorrelation time, whose chains have not mixed, or that disagrees
with the exact law (z of ⟨(q-q̄)²⟩ or the KS distance beyond their critical values: bias) prints a
warning line on stderr and sets ``"reliable": false``; ``--strict`` turns that into an error (exit status 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numba

from ..errors import ConvergenceError, DataError, ParameterError
from ..io import RunDirectory, save_dataset, write_json
from ..params import GridAxis, require_int
from ..sampling.bias import DEFAULT_SLOW_TIME, langevin_bias, plot_bias
from ..linearized import load_model
from ..sampling.chains import SUMMARY_FILE, write_run_directory
from ..sampling.linearized_sampler import LINEARIZED_DEFAULTS, LINEARIZED_METHODS, sample_linearized
from ..sampling.langevin import INTEGRATORS
from ..sampling.metropolis import DEFAULT_STEP_SCALE
from ..sampling.quartic import DEFAULT_DT, DEFAULT_EPSILON, METHODS, quartic_reference, quartic_trajectory, sample_quartic
from ..sampling.store import RunStore
from ..sampling.summary import summarize
from ..toy import QuarticModel
from ._common import add_command, add_json_flag, emit, jsonable

_MODEL_OPTIONS = (("lambda_x", None), ("g", None), ("lambda_q", None), ("alpha", None), ("beta", None),
                  ("mu", 0.0), ("x_bar", 0.0), ("q_bar", 0.0))


def register(subparsers) -> None:
    parser = add_command(subparsers, "sample")
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
    linearized.add_argument("--dt", type=float, help="Langevin step in q's time (default: " + ", ".join(
        f"{method} {value['dt']:g}" for method, value in LINEARIZED_DEFAULTS.items()) + ")")
    _add_run_options(linearized, steps=None)
    linearized.set_defaults(handler=_linearized)


def _add_model_options(parser) -> None:
    for name, default in _MODEL_OPTIONS:
        flag = "--" + name.replace("_", "-")
        if default is None:
            parser.add_argument(flag, type=float, required=True)
        else:
            parser.add_argument(flag, type=float, default=default)


def _add_run_options(parser, steps: int | None = 20000) -> None:
    parser.add_argument("--chains", type=int, default=256)
    parser.add_argument("--steps", type=int, default=steps,
                        help="steps per chain, burn-in included" + (f" (default {steps})" if steps else
                                                                    " (default: per method, see --dt)"))
    parser.add_argument("--burn-in", type=int, help="unrecorded steps per chain (default: a quarter)")
    parser.add_argument("--thin", type=int, help="record every THIN-th step (default: <= 2000 samples per chain)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    parser.add_argument("--out", help="directory for trajectory.h5, run.json, summary.json")
    parser.add_argument("--strict", action="store_true", help="exit with status 2 when the run is not reliable")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run in --out from its checkpoint (same arguments)")
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


_QUARTIC_NAMES = tuple(n for n, _ in _MODEL_OPTIONS) + ("method", "epsilon", "dt", "integrator", "step_scale", "chains",
                                                       "steps", "burn_in", "thin", "seed", "threads", "out", "strict")
_RUN_SETTINGS = ("chains", "steps", "burn_in", "thin", "seed")


def _open_store(args, subcommand: str, options: tuple[str, ...], parameters: dict, **header) -> RunStore:
    """The streaming store of ``--out``: a new run (run.json first), or, with ``--resume``, the interrupted one."""
    directory = RunDirectory(args.out)
    parameters = json.loads(json.dumps(jsonable(parameters)))
    if args.resume:
        recorded = directory.read_run_info().get("parameters")
        if recorded != parameters:
            changed = sorted(k for k in set(recorded or {}) | set(parameters)
                             if (recorded or {}).get(k) != parameters.get(k))
            raise DataError(f"{directory.path} holds a different run: {', '.join(changed)} differ; resume with the "
                            "command in its run.json")
        return RunStore.reopen(args.out, chains=args.chains)
    directory.create()
    directory.write_run_info(command=_command(args, subcommand, options), parameters=parameters, seed=args.seed)
    return RunStore.create(args.out, chains=args.chains, seed=args.seed, parameters=parameters["model"], **header)


def _streamed(store: RunStore | None, sample, run_of, metadata: dict):
    """Run ``sample(store)``; close the store if it is interrupted (the checkpoint stays for --resume),
    else finish it with the metadata of the ChainRun ``run_of(result)``."""
    try:
        result = sample(store)
    except BaseException:
        if store is not None:
            store.close()
        raise
    if store is not None:
        store.finish(run_of(result).metadata(metadata))
    return result


def _quartic(args) -> int:
    _set_threads(args)
    model = _model(args)
    if args.resume and (not args.out or args.method == "exact"):
        raise ParameterError("resume", True, "used with --out DIR and --method mh or langevin "
                                             "(exact runs are one vectorized draw, never checkpointed)")
    parameters = {"model": model.to_dict(), "method": args.method,
                  **{name: getattr(args, name) for name in ("epsilon", "dt", "integrator", "step_scale", *_RUN_SETTINGS)}}
    store = None
    if args.out and args.method != "exact":
        store = _open_store(args, "quartic", _QUARTIC_NAMES, parameters, names=["q"], x_dim=1,
                            source=f"sampler:quartic:{args.method}", step_size=args.dt if args.method == "langevin" else None)

    def sample(store):
        return sample_quartic(model, args.method, chains=args.chains, steps=args.steps, seed=args.seed,
                              epsilon=args.epsilon, dt=args.dt, burn_in=args.burn_in, thin=args.thin,
                              step_scale=args.step_scale, integrator=args.integrator, store=store)

    run = _streamed(store, sample, lambda run: run, {"model": "quartic"})
    summary = summarize(run, model.q_bar, quartic_reference(model))
    if store is not None:
        write_json(store.directory.path / SUMMARY_FILE, summary)
    elif args.out:
        write_run_directory(args.out, quartic_trajectory(model, run), summary,
                            command=_command(args, "quartic", _QUARTIC_NAMES), parameters=parameters, seed=args.seed)
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
               "q2_exact": dataset.attrs["q2_exact"], "converged": bool(dataset["converged"].all())}
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
    unconverged = int((~dataset["converged"].values).sum())
    if unconverged:
        print(f"statmech-nn: warning: {unconverged} of {dataset['converged'].size} grid points are not converged "
              "(chains too short for their autocorrelation time, or R-hat > 1.01): raise --slow-time", file=sys.stderr)
    emit(summary, args.json)
    return 0


_LINEARIZED_NAMES = ("model", "method", "dt", "chains", "steps", "burn_in", "thin", "seed", "threads", "out", "strict")


def _linearized(args) -> int:
    _set_threads(args)
    model = load_model(args.model)
    for name in ("dt", "steps"):           # defaults that keep the default run reliable (LINEARIZED_DEFAULTS)
        if getattr(args, name) is None:
            setattr(args, name, LINEARIZED_DEFAULTS[args.method][name])
    if args.resume and not args.out:
        raise ParameterError("resume", True, "used with --out DIR")
    parameters = {"model": model.to_dict(), "method": args.method, "dt": args.dt,
                  **{name: getattr(args, name) for name in _RUN_SETTINGS}}
    store = None
    if args.out:
        store = _open_store(args, "linearized", _LINEARIZED_NAMES, parameters, names=model.names,
                            x_dim=model.n_neurons, source=f"sampler:linearized:{args.method}", step_size=args.dt)

    def sample(store):
        return sample_linearized(model, args.method, dt=args.dt, chains=args.chains, steps=args.steps,
                                 seed=args.seed, burn_in=args.burn_in, thin=args.thin, store=store)

    result = _streamed(store, sample, lambda result: result.run, {"model": model.name})
    if store is not None:
        write_json(store.directory.path / SUMMARY_FILE, result.summary)
        save_dataset(result.expansion, store.directory.path / "expansion.nc")
    return _finish(result.summary, args)
