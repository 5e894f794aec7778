"""A sampler run into its run directory (DESIGN: run directory): streamed block by block, checkpointed, resumable.

:func:`quartic_run` and :func:`linearized_run` sample, summarize against the exact reference and, with ``out``,
write ``run.json`` (with the ``command`` that re-runs them, see :func:`statmech_nn.runs.directory.command_line`),
``trajectory.h5`` and ``summary.json``. Markov chains stream into the directory through a
:class:`~statmech_nn.sampling.chain_store.ChainStore`, so that an interrupted run keeps its checkpoint and continues
with ``resume=True`` (after :func:`statmech_nn.runs.directory.open_run` has checked that the directory holds the same
run); exact draws are one vectorized call and are written when done. The directory is claimed first
(:func:`statmech_nn.runs.claim.claim`: one writer, never overwritten without ``overwrite``, the outcome in
run.json).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

from ..errors import ConvergenceError, ParameterError
from ..io import SUMMARY_FILE, Dynamics, RunHeader, save_dataset, write_json
from ..linearized import LinearizedModel
from ..params import jsonable
from ..runs.claim import claim
from ..runs.directory import open_run
from ..quartic import QuarticModel
from .chains import write_run_directory
from .langevin import INTEGRATORS
from .linearized_sampler import sample_linearized
from .metropolis import DEFAULT_STEP_SCALE
from .quartic_sampler import DEFAULT_DT, DEFAULT_EPSILON, quartic_reference, quartic_trajectory, sample_quartic
from .chain_store import ChainStore, has_checkpoint
from .summary import summarize

EXPANSION_FILE = "expansion.nc"


def _store(out, resume: bool, command: Sequence[str], parameters: dict, chains: int, seed, *, names, x_dim,
           source: str, dynamics: Dynamics) -> ChainStore:
    """The streaming store of ``out``: a new run (run.json first), or, resuming, the interrupted one (from step 0
    when it was killed before its first checkpoint)."""
    directory = open_run(out, command=command, parameters=parameters, seed=seed, resume=resume)
    started = has_checkpoint(directory.path) or (directory.path / SUMMARY_FILE).is_file()
    if resume and started:
        return ChainStore.reopen(out, chains=chains)
    header = RunHeader(source, jsonable(parameters["model"]), dynamics, seed)
    return ChainStore.create(out, names=names, chains=chains, x_dim=x_dim, header=header)


def _streamed(store: ChainStore | None, sample, run_of, metadata: dict):
    """Run ``sample(store)``; close the store if it is interrupted (the checkpoint stays for a resume),
    else finish it with the metadata of the ChainRun ``run_of(result)``."""
    try:
        result = sample(store)
    except BaseException:
        if store is not None:
            try:
                store.close()
            except OSError:     # a full disk: the error being raised says so
                pass
        raise
    if store is not None:
        store.finish(run_of(result).metadata(metadata))
    return result


def quartic_run(model: QuarticModel, method: str, *, chains: int, steps: int, seed, epsilon: float = DEFAULT_EPSILON,
                dt: float = DEFAULT_DT, burn_in: int | None = None, thin: int | None = None,
                step_scale: float = DEFAULT_STEP_SCALE, integrator: str = "euler", out=None, resume: bool = False,
                overwrite: bool = False, command: Sequence[str] = (), progress: bool | None = None,
                strict: bool = False) -> dict:
    """Sample the quartic model by ``method`` (:func:`~.quartic_sampler.sample_quartic`), summarize it against the exact
    marginal, and with ``out`` write the run directory; ``resume`` continues an interrupted mh or langevin run;
    ``strict``: an unreliable run is an error (:func:`_checked`)."""
    if resume and (out is None or method == "exact"):
        raise ParameterError("resume", True, "used with --out DIR and --method mh or langevin "
                                             "(exact runs are one vectorized draw, never checkpointed)")
    parameters = {"model": model.to_dict(), "method": method, "epsilon": epsilon, "dt": dt, "integrator": integrator,
                  "step_scale": step_scale, "chains": chains, "steps": steps, "burn_in": burn_in, "thin": thin,
                  "seed": seed}
    with _claimed(out, resume, overwrite):
        return _checked(_quartic_run(model, method, parameters, out, resume, command, progress), strict)


def _checked(summary: dict, strict: bool) -> dict:
    """``summary``; with ``strict`` a ConvergenceError naming its warnings when the run is not reliable (raised
    inside the claim, so that run.json records the run as failed)."""
    if strict and not summary["reliable"]:
        raise ConvergenceError(f"the run is not reliable: {' | '.join(summary['warnings'])}")
    return summary


def _claimed(out, resume: bool, overwrite: bool):
    """The claim of ``out`` (nothing to claim without one)."""
    return nullcontext() if out is None else claim(out, resume=resume, overwrite=overwrite)


def _quartic_run(model, method, parameters, out, resume, command, progress) -> dict:
    p = parameters
    chains, seed = p["chains"], p["seed"]
    store = None
    if out is not None and method != "exact":
        langevin = {"dt": p["dt"], "epsilon": p["epsilon"], "integrator": INTEGRATORS[p["integrator"]]}
        store = _store(out, resume, command, parameters, chains, seed, names=["q"], x_dim=1,
                       source=f"sampler:quartic:{method}",
                       dynamics=Dynamics(method, **(langevin if method == "langevin" else {})))

    def sample(store):
        return sample_quartic(model, method, chains=chains, steps=p["steps"], seed=seed, epsilon=p["epsilon"],
                              dt=p["dt"], burn_in=p["burn_in"], thin=p["thin"], step_scale=p["step_scale"],
                              integrator=p["integrator"], progress=progress, store=store)

    run = _streamed(store, sample, lambda run: run, {"model_name": "quartic"})
    summary = summarize(run, model.q_bar, quartic_reference(model))
    if store is not None:
        write_json(store.directory.path / SUMMARY_FILE, summary)
    elif out is not None:
        write_run_directory(out, quartic_trajectory(model, run), summary, command=list(command),
                            parameters=parameters, seed=seed)
    return summary


def linearized_run(model: LinearizedModel, method: str, *, dt: float, chains: int, steps: int, seed,
                   burn_in: int | None = None, thin: int | None = None, out=None, resume: bool = False,
                   overwrite: bool = False, command: Sequence[str] = (), progress: bool | None = None,
                   strict: bool = False) -> dict:
    """Sample the linearized network (:func:`~.linearized_sampler.sample_linearized`) and with ``out`` stream it
    into the run directory, with ``expansion.nc`` (002 eqs. (19)-(21)) beside the summary; ``strict`` as in
    :func:`quartic_run`."""
    if resume and out is None:
        raise ParameterError("resume", True, "used with --out DIR")
    parameters = {"model": model.to_dict(), "method": method, "dt": dt, "chains": chains, "steps": steps,
                  "burn_in": burn_in, "thin": thin, "seed": seed}
    with _claimed(out, resume, overwrite):
        return _checked(_linearized_run(model, method, parameters, out, resume, command, progress), strict)


def _linearized_run(model, method, parameters, out, resume, command, progress) -> dict:
    p = parameters
    chains, seed, dt = p["chains"], p["seed"], p["dt"]
    store = None
    if out is not None:
        store = _store(out, resume, command, parameters, chains, seed, names=model.names, x_dim=model.n_neurons,
                       source=f"sampler:linearized:{method}",
                       dynamics=Dynamics(method, dt=dt, integrator="euler-maruyama"))

    def sample(store):
        return sample_linearized(model, method, dt=dt, chains=chains, steps=p["steps"], seed=seed,
                                 burn_in=p["burn_in"], thin=p["thin"], progress=progress, store=store)

    result = _streamed(store, sample, lambda result: result.run, {"model_name": model.name})
    if store is not None:
        write_json(store.directory.path / SUMMARY_FILE, result.summary)
        save_dataset(result.expansion, store.directory.path / EXPANSION_FILE)
    return result.summary
