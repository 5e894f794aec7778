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

import sys
from math import prod

import numba
import numpy as np

from ..errors import ParameterError
from ..linearized import load_model
from ..params import GridAxis, require_budget, require_int, require_positive
from ..report.bias_figures import plot_bias
from ..runs.directory import command_line, open_run, save_results
from ..sampling.langevin import INTEGRATORS
from ..sampling.linearized_sampler import LINEARIZED_DEFAULTS, LINEARIZED_METHODS
from ..sampling.metropolis import DEFAULT_STEP_SCALE
from ..sampling.quartic_sampler import DEFAULT_DT, DEFAULT_EPSILON, METHODS
from ..sampling.sampler_runs import linearized_run, quartic_run
from ..scan.langevin_bias import BIAS_FIGURE, BIAS_FILE, DEFAULT_SLOW_TIME, bias_summary, langevin_bias
from ..quartic.parameters import NAMES
from ._common import add_command, add_json_flag, add_large_flag, emit, out_path, positive, seed
from .quartic_commands import add_model_arguments, model_from_args


def register(subparsers) -> None:
    parser = add_command(subparsers, "sample")
    commands = parser.add_subparsers(dest="sample_command", metavar="MODEL")

    quartic = commands.add_parser("quartic", help="the quartic toy model of 002 section 2")
    add_model_arguments(quartic)
    quartic.add_argument("--method", choices=METHODS, required=True)
    quartic.add_argument("--epsilon", type=positive, default=DEFAULT_EPSILON,
                         help="time-scale ratio of q to x (langevin)")
    quartic.add_argument("--dt", type=positive, default=DEFAULT_DT, help="Euler-Maruyama step of x (langevin)")
    quartic.add_argument("--integrator", choices=tuple(INTEGRATORS), default="euler",
                         help="langevin: euler (Euler-Maruyama) or exponential (exact OU step for x)")
    quartic.add_argument("--step-scale", type=positive, default=DEFAULT_STEP_SCALE, help="proposal scale factor (mh)")
    _add_run_options(quartic)
    quartic.set_defaults(handler=_quartic, claims_out=True)   # quartic_run claims --out

    bias = commands.add_parser("quartic-bias",
                               help="KS distance of Langevin's q-marginal to the exact one over (epsilon, dt)")
    add_model_arguments(bias)
    bias.add_argument("--grid", action="append", required=True, metavar="AXIS",
                      help="epsilon=START:STOP:N[log] and dt=START:STOP:N[log] (give both)")
    bias.add_argument("--chains", type=int, default=256)
    bias.add_argument("--slow-time", type=positive, default=DEFAULT_SLOW_TIME,
                      help="run length in q's own time epsilon*t at every grid point")
    bias.add_argument("--integrator", choices=tuple(INTEGRATORS), default="euler")
    bias.add_argument("--seed", type=seed, default=0)
    bias.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    bias.add_argument("--out", type=out_path, help="directory for bias.nc, bias.png, run.json")
    add_large_flag(bias)
    add_json_flag(bias)
    bias.set_defaults(handler=_quartic_bias)

    linearized = commands.add_parser("linearized", help="the linearized network model of 002 section 4")
    linearized.add_argument("--model", required=True,
                            help="model spec: a TOML file or a shipped name (e.g. linearized_small)")
    linearized.add_argument("--method", choices=LINEARIZED_METHODS, default="mala")
    linearized.add_argument("--dt", type=positive, help="Langevin step in q's time (default: " + ", ".join(
        f"{method} {value['dt']:g}" for method, value in LINEARIZED_DEFAULTS.items()) + ")")
    _add_run_options(linearized, steps=None)
    linearized.set_defaults(handler=_linearized, claims_out=True)   # linearized_run claims --out


def _add_run_options(parser, steps: int | None = 20000) -> None:
    parser.add_argument("--chains", type=int, default=256)
    parser.add_argument("--steps", type=int, default=steps,
                        help="steps per chain, burn-in included" + (f" (default {steps})" if steps else
                                                                    " (default: per method, see --dt)"))
    parser.add_argument("--burn-in", type=int, help="unrecorded steps per chain (default: a quarter)")
    parser.add_argument("--thin", type=int, help="record every THIN-th step (default: <= 2000 samples per chain)")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--threads", type=int, help="numba threads (default: all cores)")
    parser.add_argument("--out", type=out_path, help="directory for trajectory.h5, run.json, summary.json")
    add_large_flag(parser)
    parser.add_argument("--strict", action="store_true", help="exit with status 2 when the run is not reliable")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run in --out from its checkpoint (same arguments)")
    add_json_flag(parser)


CHAIN_STEPS_PER_S = 1e6  # a conservative rate of the numba samplers (a few 1e7 chain-steps/s on one core)
BYTES_PER_CHAIN = 64     # state, proposal and running sums of one chain, float64


def _require_run_budget(args, steps: int, flops_per_step: float = 0.0) -> None:
    """Refuse a run beyond the budget (:func:`statmech_nn.params.require_budget`) before anything is allocated:
    memory 64 bytes per chain, work chains x steps at 1e6 chain-steps/s (or flops_per_step at 1e9 flop/s)."""
    chains, steps = require_int("chains", args.chains, 1), require_int("steps", steps, 1)
    seconds = chains * steps * max(1.0 / CHAIN_STEPS_PER_S, flops_per_step / 1e9)
    require_budget(f"--chains {chains} x --steps {steps}", memory=BYTES_PER_CHAIN * chains, seconds=seconds,
                   confirmed=args.yes_large)


def _command(args, subcommand: str, names: tuple[str, ...]) -> list[str]:
    """The command line that reproduces this run (for run.json): the options ``names`` as parsed."""
    return command_line(["sample", subcommand], {name: getattr(args, name) for name in names})


def _set_threads(args) -> None:
    if args.threads is not None:
        threads = require_int("threads", args.threads, 1)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _finish(summary: dict, args) -> int:
    """Warn (stderr, one line) about an unreliable run (with --strict the library refused it)."""
    if not summary["reliable"]:
        print(f"statmech-nn: warning: the run is not reliable: {' | '.join(summary['warnings'])}", file=sys.stderr)
    emit(summary, args.json)
    return 0


_QUARTIC_NAMES = ("model", *NAMES, "method", "epsilon", "dt", "integrator", "step_scale", "chains", "steps", "burn_in",
                  "thin", "seed", "threads", "out", "strict")
_BIAS_NAMES = ("model", *NAMES, "grid", "chains", "slow_time", "integrator", "seed", "threads", "out")
_LINEARIZED_NAMES = ("model", "method", "dt", "chains", "steps", "burn_in", "thin", "seed", "threads", "out", "strict")


def _quartic(args) -> int:
    _set_threads(args)
    _require_run_budget(args, args.steps)
    summary = quartic_run(model_from_args(args), args.method, chains=args.chains, steps=args.steps, seed=args.seed,
                          epsilon=args.epsilon, dt=args.dt, burn_in=args.burn_in, thin=args.thin,
                          step_scale=args.step_scale, integrator=args.integrator, out=args.out, resume=args.resume,
                          overwrite=args.overwrite, command=_command(args, "quartic", _QUARTIC_NAMES),
                          strict=args.strict)
    return _finish(summary, args)


def _quartic_bias(args) -> int:
    _set_threads(args)
    model = model_from_args(args)
    points = prod(GridAxis.points(spec) for spec in args.grid)   # before any axis is made
    require_budget(f"--grid {' x '.join(args.grid)} ({points:.3g} points)", memory=8.0 * points,
                   confirmed=args.yes_large)
    axes = {axis.name: axis.values for axis in (GridAxis.parse(spec, args.yes_large) for spec in args.grid)}
    if set(axes) != {"epsilon", "dt"}:
        raise ParameterError("grid", ",".join(args.grid), "one axis named epsilon and one named dt")
    for name, values in axes.items():
        if values.min() <= 0:
            raise ParameterError(f"{name} grid", float(values.min()), "> 0 at every point")
    chains = require_int("chains", args.chains, 1)
    slow_time = require_positive("slow-time", args.slow_time)
    with np.errstate(over="ignore", divide="ignore"):   # a step count beyond float64: refused by the budget below
        steps = slow_time / np.multiply.outer(axes["epsilon"], axes["dt"])
    require_budget(f"--chains {chains} x --grid ... x --slow-time {args.slow_time:g} ({steps.sum():.3g} steps)",
                   memory=BYTES_PER_CHAIN * chains, seconds=chains * steps.sum() / CHAIN_STEPS_PER_S,
                   confirmed=args.yes_large)
    dataset = langevin_bias(model, axes["epsilon"], axes["dt"], chains=chains, seed=args.seed,
                            slow_time=args.slow_time, integrator=args.integrator)
    summary = bias_summary(dataset)
    if args.out:
        directory = open_run(args.out, command=_command(args, "quartic-bias", _BIAS_NAMES), seed=args.seed,
                             parameters={"model": model.to_dict(), "grid": args.grid, "chains": chains,
                                         "slow_time": args.slow_time, "integrator": args.integrator})
        save_results(directory, dataset=dataset, dataset_file=BIAS_FILE, figures={BIAS_FIGURE: plot_bias},
                     summary=summary)
    unconverged = int((~dataset["converged"].values).sum())
    if unconverged:
        print(f"statmech-nn: warning: {unconverged} of {dataset['converged'].size} grid points are not converged "
              "(chains too short for their autocorrelation time, or R-hat > 1.01): raise --slow-time", file=sys.stderr)
    emit(summary, args.json)
    return 0


def _linearized(args) -> int:
    _set_threads(args)
    for name in ("dt", "steps"):           # defaults that keep the default run reliable
        if getattr(args, name) is None:
            setattr(args, name, LINEARIZED_DEFAULTS[args.method][name])
    model = load_model(args.model, confirmed=args.yes_large)
    _require_run_budget(args, args.steps, flops_per_step=model.n_neurons ** 3)
    summary = linearized_run(model, args.method, dt=args.dt, chains=args.chains, steps=args.steps,
                             seed=args.seed, burn_in=args.burn_in, thin=args.thin, out=args.out, resume=args.resume,
                             overwrite=args.overwrite, command=_command(args, "linearized", _LINEARIZED_NAMES),
                             strict=args.strict)
    return _finish(summary, args)
