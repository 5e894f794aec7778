"""Sampling the quartic toy model (002 §2) by any of the three methods, with its exact reference.

``sample_quartic(model, "exact" | "mh" | "langevin", ...)`` dispatches to :mod:`.exact`,
:mod:`.metropolis` or :mod:`.langevin`; :func:`quartic_reference` gives ⟨(q - q̄)²⟩ from quadrature and the
exact marginal CDF; :func:`quartic_trajectory` packs a run into the shared Trajectory.
"""

from __future__ import annotations

from ..errors import ParameterError
from ..io import Trajectory
from ..quartic import QuarticModel
from .chains import ChainRun
from .exact import sample_quartic_exact
from .langevin import sample_quartic_langevin
from .metropolis import DEFAULT_STEP_SCALE, sample_quartic_mh
from .summary import Reference

METHODS = ("exact", "mh", "langevin")
DEFAULT_EPSILON = 0.02
DEFAULT_DT = 0.01


def sample_quartic(model: QuarticModel, method: str, *, chains: int, steps: int, seed, epsilon: float = DEFAULT_EPSILON,
                   dt: float = DEFAULT_DT, burn_in: int | None = None, thin: int | None = None,
                   step_scale: float = DEFAULT_STEP_SCALE, integrator: str = "euler",
                   progress: bool | None = None, store=None) -> ChainRun:
    """Samples of p(x, q) by ``method``; ``epsilon``/``dt``/``integrator`` are used by langevin, ``step_scale`` by mh.

    For "exact", ``steps`` is the number of independent draws per chain (no burn-in, no thinning).
    ``store`` (mh, langevin): a :class:`~statmech_nn.sampling.chain_store.ChainStore` to stream into and resume from.
    """
    if method == "exact":
        return sample_quartic_exact(model, chains=chains, steps=steps, seed=seed)
    if method == "mh":
        return sample_quartic_mh(model, chains=chains, steps=steps, seed=seed, burn_in=burn_in, thin=thin,
                                 step_scale=step_scale, progress=progress, store=store)
    if method == "langevin":
        return sample_quartic_langevin(model, epsilon=epsilon, dt=dt, chains=chains, steps=steps, seed=seed,
                                       burn_in=burn_in, thin=thin, integrator=integrator, progress=progress,
                                       store=store)
    raise ParameterError("method", method, "one of " + ", ".join(METHODS))


def quartic_reference(model: QuarticModel) -> Reference:
    """⟨(q - q̄)²⟩ = ``model.marginal().var()`` and the exact CDF ``model.marginal().cdf``."""
    marginal = model.marginal()
    return Reference(q2=[marginal.var()], cdfs=[marginal.cdf])


def quartic_trajectory(model: QuarticModel, run: ChainRun) -> Trajectory:
    """The run as a Trajectory: one column "q" per chain, x (one per chain and sample), the model and settings."""
    return run.to_trajectory(source=f"sampler:quartic:{run.method}", parameters=model.to_dict(), names=["q"],
                             seed=run.settings.get("seed"),
                             metadata={"model_name": "quartic"})
