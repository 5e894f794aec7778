"""Exact Boltzmann averages of H(s) = -(1/2N) Σ_ij W_ij s_i s_j - Σ_i h_i s_i: the references for the saddle point.

- :class:`Enumeration`: all 2^N states (N ≤ ``MAX_SPINS``). The energies are generated in Gray-code order
  (one spin flip, O(N), per state) by a numba kernel and stored once; each β then costs one pass that
  accumulates <s_i> and <s_i s_j> with log-space weights.
- :func:`block_model_exact`: couplings constant on blocks, W_ij = J_{B(i)B(j)}, fields h_{B(i)}. The energy
  depends only on the block magnetizations M_B, so Z is a sum over Π_B (N_B + 1) sectors weighted by Π_B C(N_B, k_B)
  (the Curie–Weiss trick of :mod:`statmech_nn.meanfield.cw_exact`, block by block): exact for large N with a
  non-uniform W, where the saddle point must become exact.

Index convention: bit i of the state index is 1 when s_i = -1 (index 0 is all spins up).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
from scipy.special import logsumexp

from ..errors import ParameterError
from ..params import require_positive
from .cw_exact import log_multiplicity, sector_magnetizations

MAX_SPINS = 20
MAX_BLOCK_SECTORS = 20_000_000


@numba.njit(cache=True)
def _gray_code_energies(a, h):
    """H of every state, a = W_sym/N: E[index] with bit i of index set when s_i = -1."""
    n = h.shape[0]
    s = np.ones(n)
    u = a @ s
    energy = -0.5 * (s @ u) - h @ s
    out = np.empty(1 << n)
    out[0] = energy
    index = 0
    for step in range(1, 1 << n):
        i = 0
        while not (step >> i) & 1:
            i += 1
        d = -2.0 * s[i]
        energy -= d * (u[i] - a[i, i] * s[i] + h[i])
        for k in range(n):
            u[k] += a[k, i] * d
        s[i] = -s[i]
        index ^= 1 << i
        out[index] = energy
    return out


@numba.njit(cache=True)
def _weighted_moments(weights, n):
    """Σ_states w s_i and Σ_states w s_i s_j (weights already normalized)."""
    first = np.zeros(n)
    second = np.zeros((n, n))
    s = np.empty(n)
    for index in range(weights.shape[0]):
        w = weights[index]
        for i in range(n):
            s[i] = -1.0 if (index >> i) & 1 else 1.0
        for i in range(n):
            first[i] += w * s[i]
            ws = w * s[i]
            for j in range(i, n):
                second[i, j] += ws * s[j]
    for i in range(n):
        for j in range(i):
            second[i, j] = second[j, i]
    return first, second


@dataclass(frozen=True)
class ExactAverages:
    """Exact averages at one β: ``sites`` <s_i>, ``correlations`` <s_i s_j> - <s_i><s_j>, and derived quantities."""

    beta: float
    log_partition: float
    sites: np.ndarray
    correlations: np.ndarray
    energy_per_spin: float

    @property
    def n(self) -> int:
        return self.sites.size

    @property
    def m(self) -> float:
        return float(self.sites.mean())

    @property
    def free_energy_per_spin(self) -> float:
        return -self.log_partition / (self.beta * self.n)

    @property
    def site_chi(self) -> np.ndarray:
        """∂<s_i>/∂h for a uniform h: β Σ_j C_ij."""
        return self.beta * self.correlations.sum(axis=1)

    @property
    def chi(self) -> float:
        """∂m/∂h = Nβ(<m²> - <m>²)."""
        return float(self.site_chi.mean())


class Enumeration:
    """Exact sums over the 2^N states of a spin model with symmetric couplings ``a`` = W_sym/N and fields ``h``."""

    def __init__(self, a: np.ndarray, h: np.ndarray):
        n = h.shape[0]
        if n > MAX_SPINS:
            raise ParameterError("N", n, f"<= {MAX_SPINS} for exact enumeration (2^N states)")
        self._a, self._h = np.ascontiguousarray(a, float), np.ascontiguousarray(h, float)

    @cached_property
    def energies(self) -> np.ndarray:
        """H(s) of every state (index convention in the module docstring)."""
        return _gray_code_energies(self._a, self._h)

    def averages(self, beta: float) -> ExactAverages:
        beta = require_positive("beta", beta)
        log_w = -beta * self.energies
        log_z = logsumexp(log_w)
        weights = np.exp(log_w - log_z)
        first, second = _weighted_moments(weights, self._h.shape[0])
        return ExactAverages(beta=beta, log_partition=float(log_z), sites=first,
                             correlations=second - np.outer(first, first),
                             energy_per_spin=float(weights @ self.energies) / self._h.shape[0])


@dataclass(frozen=True)
class BlockAverages:
    """Exact block-model results: ``block_m`` (<M_B>/N_B), free energy per spin, χ = ∂m/∂h (uniform h)."""

    beta: float
    sizes: np.ndarray
    log_partition: float
    block_m: np.ndarray
    chi: float

    @property
    def n(self) -> int:
        return int(self.sizes.sum())

    @property
    def m(self) -> float:
        return float(self.sizes @ self.block_m / self.n)

    @property
    def free_energy_per_spin(self) -> float:
        return -self.log_partition / (self.beta * self.n)


def block_model_exact(sizes, block_couplings, block_fields, beta: float) -> BlockAverages:
    """Exact Z for W_ij = J_{B(i)B(j)} (J symmetric, p × p) and h_i = h_{B(i)}, by a sum over block magnetizations."""
    sizes = np.asarray(sizes, dtype=np.int64)
    couplings = np.asarray(block_couplings, float)
    fields = np.asarray(block_fields, float)
    p = sizes.size
    if couplings.shape != (p, p) or fields.shape != (p,) or np.any(sizes < 1):
        raise ParameterError("block model", f"sizes {sizes.tolist()}, J {couplings.shape}, h {fields.shape}",
                             "positive sizes, a p × p coupling matrix and p fields")
    if np.prod(sizes + 1.0) > MAX_BLOCK_SECTORS:
        raise ParameterError("sizes", sizes.tolist(), f"with Π (N_B + 1) <= {MAX_BLOCK_SECTORS}")
    beta = require_positive("beta", beta)
    n = sizes.sum()
    couplings = 0.5 * (couplings + couplings.T)
    grids = np.meshgrid(*[sector_magnetizations(int(size)) * size for size in sizes], indexing="ij", sparse=True)
    log_w = sum(np.reshape(log_multiplicity(int(size)), [-1 if b == a else 1 for b in range(p)])
                for a, size in enumerate(sizes))
    pair = sum(couplings[a, b] * grids[a] * grids[b] for a in range(p) for b in range(p))
    log_w = log_w + beta * (pair / (2.0 * n) + sum(fields[a] * grids[a] for a in range(p)))
    log_z = logsumexp(log_w)
    weights = np.exp(log_w - log_z)
    total = sum(grids)
    mean_total = float(np.sum(weights * total))
    block_m = np.array([np.sum(weights * grids[a]) / sizes[a] for a in range(p)])
    chi = beta * float(np.sum(weights * (total - mean_total) ** 2)) / n
    return BlockAverages(beta=beta, sizes=sizes, log_partition=float(log_z), block_m=block_m, chi=chi)
