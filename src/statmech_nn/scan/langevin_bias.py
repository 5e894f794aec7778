"""A scan of the bias of two-timescale Langevin dynamics: KS distance of q's marginal to exp(-αF) over (ε, dt).

At finite ε the fast x has not fully equilibrated while q moves, and the Euler–Maruyama step dt biases
p(x|q) (for a Gaussian x, ⟨(x-x̄)²⟩ is too large by 1/(1 - a dt/2)); both shift q's stationary marginal
away from 002 eq. (6). Its figure is :func:`statmech_nn.report.bias_figures.plot_bias`. Every grid point runs the same slow time ``slow_time`` (in units of εt, q's own
time), i.e. ⌈slow_time/(ε dt)⌉ steps, so that the statistical noise is similar across the grid; it is
reported as ``ks_noise`` ≈ 0.87/√ESS (the mean KS distance of that many independent samples).
``converged`` says whether τ and R̂ can be trusted at a point (the bias is what the grid measures, so a
biased point is not an unreliable one here).

The ε-bias grows with α/β: with α > β the slow q is colder than x, and at finite ε the unaveraged
fluctuations of ∂_qH act on q as extra noise (for α = β, exp(-βH) is stationary for every ε).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import ConvergenceError, ParameterError
from ..params import require_positive
from ..sampling.langevin import INTEGRATORS, sample_quartic_langevin
from ..sampling.quartic import quartic_reference
from ..sampling.summary import summarize
from ..quartic import QuarticModel

DEFAULT_SLOW_TIME = 200.0
BIAS_FILE = "bias.nc"        # where a run directory keeps the scan, and its figure
BIAS_FIGURE = "bias.png"
_VARIABLES = ("ks", "ks_noise", "q2_mean", "q2_sem", "tau_q", "rhat_q", "converged")


def langevin_bias(model: QuarticModel, epsilons, dts, *, chains: int, seed, slow_time: float = DEFAULT_SLOW_TIME,
                  integrator: str = "euler", progress: bool | None = None) -> xr.Dataset:
    """KS(ε, dt), ⟨(q-q̄)²⟩ and diagnostics on the grid ``epsilons`` × ``dts`` (dims ``epsilon``, ``dt``).

    Every point uses the same ``seed`` (common random numbers make differences across the grid less noisy).
    A point whose dynamics diverges (dt too large for the stiffness) is marked ``diverged`` with NaN values.
    """
    slow_time = require_positive("slow_time", slow_time)
    if integrator not in INTEGRATORS:
        raise ParameterError("integrator", integrator, "one of " + ", ".join(INTEGRATORS))
    epsilons = np.atleast_1d(np.asarray(epsilons, float))
    dts = np.atleast_1d(np.asarray(dts, float))
    reference = quartic_reference(model)
    values = {name: np.empty((epsilons.size, dts.size)) for name in _VARIABLES}
    steps = np.empty((epsilons.size, dts.size), np.int64)
    diverged = np.zeros((epsilons.size, dts.size), bool)
    for i, epsilon in enumerate(epsilons):
        for j, dt in enumerate(dts):
            steps[i, j] = math.ceil(slow_time / (epsilon * dt))
            try:
                run = sample_quartic_langevin(model, epsilon=epsilon, dt=dt, chains=chains, steps=int(steps[i, j]),
                                              seed=seed, integrator=integrator, progress=progress)
            except ConvergenceError:
                diverged[i, j] = True
                for name in _VARIABLES:
                    values[name][i, j] = np.nan
                continue
            summary = summarize(run, model.q_bar, reference)
            values["ks"][i, j] = summary["ks_vs_exact"]
            for name in _VARIABLES[1:]:
                values[name][i, j] = summary[name]
    dims = ("epsilon", "dt")
    data = {name: (dims, values[name]) for name in _VARIABLES if name != "converged"}
    data["converged"] = (dims, values["converged"] == 1)
    data["diverged"] = (dims, diverged)
    data["steps"] = (dims, steps)
    dataset = xr.Dataset(data, coords={"epsilon": epsilons, "dt": dts},
                         attrs={"q2_exact": float(reference.q2[0]), "chains": int(chains), "slow_time": slow_time,
                                "seed": seed, "integrator": INTEGRATORS[integrator], "model": model.to_dict(),
                                "source": "002 eqs. (3), (6): q's marginal should tend to exp(-alpha F) as epsilon -> 0"})
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
