"""Exact independent samples of p(x, q) = p(x|q) p(q) of the quartic toy model (002 eqs. (3), (6)).

q by inverse CDF of the exact marginal (:meth:`statmech_nn.quartic.model.QuarticModel.marginal`), then one x
per q from p(x|q) (Gaussian, or exact rejection sampling in the frustrated regime). The samples come as
``chains`` columns of ``steps`` draws each, so that they go through the same diagnostics and the same
Trajectory layout as the Markov chains (τ = 1 up to noise).
"""

from __future__ import annotations

import time

import numpy as np

from ..quartic import QuarticModel
from .chains import ChainRun, RunLength


def sample_quartic_exact(model: QuarticModel, *, chains: int, steps: int, seed) -> ChainRun:
    """``chains`` × ``steps`` independent draws of (x, q), reproducible from ``seed``."""
    length = RunLength.of(chains, steps, burn_in=0, thin=1)
    marginal = model.marginal()
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    q = np.asarray(marginal.rvs(size=(length.samples, length.chains), random_state=rng), float)
    x = np.asarray(model.conditional(q).rvs(random_state=rng), float)
    elapsed = time.perf_counter() - start
    return ChainRun(q=q[..., None], x=x[..., None], t=np.arange(1, length.samples + 1), method="exact",
                    length=length, elapsed_s=elapsed, settings={"seed": seed})
