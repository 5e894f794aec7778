"""Quadrature reference for p(q) ∝ exp(-αF(β, q)) of the linearized network when K ≤ 3 (002 eq. (19)).

A tensor grid with the trapezoid rule in sinh-mapped coordinates q_k = q̄_k + c_k sinh(t): uniform in t,
dense near q̄ (where the power-law factors of eq. (21) vary on the crossover scale) and sparse in the
Gaussian tails. c_k is 1/50 of the Gaussian width w_k = 1/√(α v_q,k) and t runs until c_k sinh(t) = 10 w_k
(where exp(-α v_q q²/2) < e^{-50}). For a smooth, rapidly decaying integrand the trapezoid rule in t
converges exponentially in the number of nodes (checked by refinement in the tests).

It gives ⟨(q_k - q̄_k)²⟩ and each component's marginal CDF, the reference the samplers are tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..errors import StatmechError
from .local_equilibrium import LinearizedModel

MAX_K = 3
DEFAULT_NODES = {1: 4001, 2: 301, 3: 81}
_CORE_FRACTION = 1.0 / 50.0
_REACH = 10.0


@dataclass(frozen=True)
class MarginalReference:
    """Per-component second moments and marginal CDFs (tabulated on the grid, interpolated linearly)."""

    q_bar: np.ndarray
    second_moment: np.ndarray
    axes: list[np.ndarray]
    cdf_values: list[np.ndarray]

    def cdf(self, k: int):
        """The CDF of component k as a vectorized callable."""
        axis, values = self.axes[k], self.cdf_values[k]
        return lambda q: np.interp(q, axis, values, left=0.0, right=1.0)


def reference_marginals(model: LinearizedModel, nodes: int | None = None) -> MarginalReference:
    """Tensor-grid quadrature of exp(-αF) (see the module docstring); K ≤ 3."""
    k = model.n_trainable
    if k > MAX_K:
        raise StatmechError(f"the quadrature reference needs K <= {MAX_K} trainable weights, the model has {k}")
    nodes = DEFAULT_NODES[k] if nodes is None else int(nodes)
    width = 1.0 / np.sqrt(model.alpha * model.v_q)
    core = _CORE_FRACTION * width
    t_max = np.arcsinh(_REACH * width / core)
    t = np.linspace(-1.0, 1.0, nodes)[None, :] * t_max[:, None]                  # (K, nodes)
    axes = model.q_bar[:, None] + core[:, None] * np.sinh(t)
    log_jacobian = np.log(core[:, None] * np.cosh(t)) + np.log(2.0 * t_max[:, None] / (nodes - 1))
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)                  # (nodes,)*K + (K,)
    log_weight = model.log_density(mesh)
    for axis in range(k):
        shape = [1] * k
        shape[axis] = nodes
        log_weight = log_weight + log_jacobian[axis].reshape(shape)
    log_weight = log_weight - logsumexp(log_weight)
    weight = np.exp(log_weight)
    second = np.array([np.sum(weight * (mesh[..., axis] - model.q_bar[axis]) ** 2) for axis in range(k)])
    cdfs = []
    for axis in range(k):
        others = tuple(a for a in range(k) if a != axis)
        mass = weight.sum(axis=others) if others else weight
        # trapezoid masses between nodes, accumulated: CDF at each node
        cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (mass[1:] + mass[:-1]))])
        cdfs.append(cumulative / cumulative[-1])
    return MarginalReference(model.q_bar.copy(), second, list(axes), cdfs)
