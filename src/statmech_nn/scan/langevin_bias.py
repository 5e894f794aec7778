"""A scan of the bias of two-timescale Langevin dynamics: KS distance of q's marginal to exp(-αF) over (ε, dt).

At finite ε the fast x has not fully equilibrated while q moves, and the Euler–Maruyama step dt biases
p(x|q) (for a Gaussian x, ⟨(x-x̄)²⟩ is too large by 1/(1 - a dt/2)); both shift q's stationary marginal
away from 002 eq. (6). Its figure is :func:`statmech_nn.report.bias_figures.plot_bias`. Every grid point runs
the same slow time ``slow_time`` (in units of εt, q's own
time), i.e. ⌈slow_time/(ε dt)⌉ steps, so that the statistical noise is similar across the grid; it is
reported as ``ks_noise`` ≈ 0.87/√ESS (the mean KS distance of that many independent samples).
``converged`` says whether τ and R̂ can be trusted at a point (the bias is what the grid measures, so a
biased point is not an unreliable one here).

The ε-bias grows with α/β: with α > β the slow q is colder than x, and at finite ε the unaveraged
fluctuations of ∂_qH act on q as extra noise (for α = β, exp(-βH) is stationary for every ε).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import ConvergenceError, ParameterError
from ..params import GridAxis, require_positive
from ..sampling.langevin import INTEGRATORS, sample_quartic_langevin
from ..sampling.quartic_sampler import quartic_reference
from ..sampling.summary import summarize
from ..quartic import QuarticModel
from .tasks import task

# long enough that every point of the README example is reliable (at ε = 1, x mixes no faster than q)
DEFAULT_SLOW_TIME = 800.0
BIAS_FILE = "bias.nc"        # where a run directory keeps the scan, and its figure
BIAS_FIGURE = "bias.png"
_VARIABLES = ("ks", "ks_noise", "q2_mean", "q2_sem", "tau_q", "rhat_q", "converged")


@task
def bias_cell(model: dict, epsilon: float, dt: float, chains: int, seed, slow_time: float, integrator: str) -> dict:
    """The scan task: one (ε, dt) point, ⌈slow_time/(ε dt)⌉ steps of ``chains`` chains; KS to the exact marginal
    and the diagnostics, or ``diverged`` = 1 with NaN values."""
    quartic = QuarticModel(**model)
    steps = math.ceil(slow_time / (epsilon * dt))
    try:
        run = sample_quartic_langevin(quartic, epsilon=epsilon, dt=dt, chains=chains, steps=steps, seed=seed,
                                      integrator=integrator, progress=False)
    except ConvergenceError:
        return {**{name: np.nan for name in _VARIABLES}, "diverged": 1.0, "steps": steps}
    summary = summarize(run, quartic.q_bar, quartic_reference(quartic))
    return {"ks": summary["ks_vs_exact"], **{name: summary[name] for name in _VARIABLES[1:]}, "diverged": 0.0,
            "steps": steps}


def langevin_bias(model: QuarticModel, epsilons, dts, *, chains: int, seed, slow_time: float = DEFAULT_SLOW_TIME,
                  integrator: str = "euler", progress: bool | None = None, executor=None) -> xr.Dataset:
    """KS(ε, dt), ⟨(q-q̄)²⟩ and diagnostics on the grid ``epsilons`` × ``dts`` (dims ``epsilon``, ``dt``), one
    scan-engine task per point (``executor`` as :func:`statmech_nn.scan.engine.run_scan`'s; default a local
    pool of the machine's cores, one numba thread each).

    Every point uses the same ``seed`` (common random numbers make differences across the grid less noisy).
    A point whose dynamics diverges (dt too large for the stiffness) is marked ``diverged`` with NaN values.
    """
    from .engine import load_scan, run_scan
    from .scan_spec import ScanSpec

    slow_time = require_positive("slow_time", slow_time)
    if integrator not in INTEGRATORS:
        raise ParameterError("integrator", integrator, "one of " + ", ".join(INTEGRATORS))
    axes = tuple(GridAxis.from_values(name, [require_positive(name, v) for v in np.atleast_1d(values)])
                 for name, values in (("epsilon", epsilons), ("dt", dts)))
    epsilons, dts = axes[0].values, axes[1].values
    reference = quartic_reference(model)
    spec = ScanSpec(task="langevin-bias", axes=axes, name="bias",
                    base={"model": model.to_dict(), "epsilon": 1.0, "dt": 1.0, "chains": int(chains), "seed": seed,
                          "slow_time": slow_time, "integrator": integrator})
    with tempfile.TemporaryDirectory(prefix="statmech-nn-bias-") as work:
        outcome = run_scan(spec, Path(work) / "scan.zarr", executor, progress=bool(progress))
        scan = load_scan(Path(work) / "scan.zarr")
    if outcome.failed:
        raise ConvergenceError(f"{outcome.failed} grid points failed: {scan['error'].values.ravel()[0]}")
    data = {name: (("epsilon", "dt"), scan[name].values) for name in _VARIABLES if name != "converged"}
    data["converged"] = (("epsilon", "dt"), scan["converged"].values == 1)
    data["diverged"] = (("epsilon", "dt"), scan["diverged"].values == 1)
    data["steps"] = (("epsilon", "dt"), scan["steps"].values.astype(np.int64))
    dataset = xr.Dataset(data, coords={"epsilon": epsilons, "dt": dts},
                         attrs={"q2_exact": float(reference.q2[0]), "chains": int(chains), "slow_time": slow_time,
                                "seed": seed, "integrator": INTEGRATORS[integrator], "model": model.to_dict(),
                                "source": "002 eqs. (3), (6): q's marginal should tend to exp(-alpha F) "
                                          "as epsilon -> 0"})
    units = {"ks": "1", "ks_noise": "1", "q2_mean": "q^2", "q2_sem": "q^2", "tau_q": "steps", "rhat_q": "1",
             "epsilon": "1", "dt": "time", "steps": "steps"}
    for name, unit in units.items():
        dataset[name].attrs["units"] = unit
    dataset["ks"].attrs["long_name"] = "Kolmogorov-Smirnov distance of q's pooled samples to the exact marginal"
    return dataset


def bias_summary(dataset: xr.Dataset) -> dict:
    """The scan's JSON summary: the grid, KS and its noise, ⟨(q-q̄)²⟩ against the exact value, all points converged."""
    return {"epsilon": dataset["epsilon"].values, "dt": dataset["dt"].values, "ks": dataset["ks"].values,
            "ks_noise": dataset["ks_noise"].values, "q2_mean": dataset["q2_mean"].values,
            "q2_exact": dataset.attrs["q2_exact"], "converged": bool(dataset["converged"].all())}
