"""What the dynamical samplers of the quartic toy model share: checks and starting states (the packed
parameters their kernels read are the model's, :meth:`~statmech_nn.quartic.model.QuarticModel.packed`).

- A run first asks for the model's marginal: when p(q) ∝ exp(-αF(β, q)) does not exist (e.g. μ = 0
  with λx < 0, where the x-dynamics diverges wherever λx + g (q - q̄)² < 0) it raises
  :class:`~statmech_nn.errors.NotNormalizableError` with the reason, before any step is taken.
- Starting states are deliberately not the equilibrium: q₀ ~ N(q̄, s²) with s² = 1/(αλq), the large-scale
  Gaussian of 002 eq. (7), which is broader than p(q) (or 10·u_low when λq = 0), and x₀ drawn from
  p(x|q₀), its fast equilibrium. The burn-in must take q to p(q); R̂ checks that it did.
- Seeds: ``SeedSequence(seed).spawn(2)`` gives one stream for the starting states and one parent for
  the per-chain kernel streams (:func:`statmech_nn.rng.chain_states`).
"""

from __future__ import annotations

import numpy as np

from ..quartic import QuarticModel
from ..rng import chain_states

def require_marginal(model: QuarticModel):
    """The model's p(q), or the NotNormalizableError that says why no sampler can reach it."""
    return model.marginal()


def initial_width(model: QuarticModel) -> float:
    """s of the starting distribution q₀ ~ N(q̄, s²) (see the module docstring)."""
    if model.lambda_q > 0:
        return float(1.0 / np.sqrt(model.alpha * model.lambda_q))
    return float(np.sqrt(10.0 * model.regimes().u_low))


def initial_state(model: QuarticModel, chains: int, seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x₀, q₀, rng states) for ``chains`` chains, reproducible from ``seed``."""
    init_seq, chain_seq = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(init_seq)
    q0 = model.q_bar + initial_width(model) * rng.standard_normal(chains)
    x0 = np.atleast_1d(model.conditional(q0).rvs(random_state=rng)).astype(float)
    return x0, q0, chain_states(chain_seq, chains)
