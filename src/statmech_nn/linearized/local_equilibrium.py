"""The linearized network near local equilibrium (002 §4, eqs. (14)-(19)).

N non-trainable neurons x and K trainable weights q. The weight matrix ŵ(q) is a fixed base matrix ŵ₀
whose K trainable entries (row i_k, column j_k) are replaced by q_k. With the diagonal activation
slopes F̂, local potentials V̂_x (N) and V̂_q (K), all diagonal (002 below eq. (15)),

    H(x, q) = ½ (x - x̄)ᵀ (Ĝ(q) + V̂_x) (x - x̄) + ½ (q - q̄)ᵀ V̂_q (q - q̄)          (eq. 14)
    Ĝ(q)    = (I - F̂ŵ(q))ᵀ (I - F̂ŵ(q))                                        (eq. 15)
    F(β, q) = (1/2β) log det(β(Ĝ(q) + V̂_x)) + ½ (q - q̄)ᵀ V̂_q (q - q̄)          (eq. 16)
    p(x|q)  = N(x̄, (β(Ĝ + V̂_x))⁻¹)  exactly;     p(q) ∝ exp(-αF(β, q))          (eqs. 13, 18, 19)

Like 002 eq. (4), eq. (16) drops the constant -(N/2β) log 2π of the Gaussian integral:
-(1/β) log ∫ exp(-βH) dx = F(β, q) - (N/2β) log 2π (tested against brute-force quadrature).
V̂_x > 0 and V̂_q > 0 are required: then M(q) = Ĝ + V̂_x ⪰ V̂_x is positive definite for every q (p(x|q)
exists) and p(q) ≤ det(V̂_x)^{-α/2β} exp(-α (q-q̄)ᵀV̂_q(q-q̄)/2) is normalizable.

log det by Cholesky; the gradient by ∂F/∂q_k = (1/2β) tr(M⁻¹ ∂M/∂q_k) + [V̂_q(q - q̄)]_k, which with
∂(I - F̂ŵ)/∂q_k = -f_{i_k} e_{i_k} e_{j_k}ᵀ is -(f_{i_k}/β) (M⁻¹(I - F̂ŵ)ᵀ)_{j_k i_k} + [V̂_q(q - q̄)]_k.
The numba functions here are the one implementation, used by the model's methods and by the samplers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..errors import ParameterError
from ..params import require_positive, rng_from


@numba.njit(cache=True)
def fill_precision(q, base, rows, cols, slopes, v_x, A, M):
    """A = I - F̂ŵ(q) and M = AᵀA + V̂_x (eqs. 14-15), written into the (N, N) work arrays A and M."""
    n = base.shape[0]
    for i in range(n):
        for j in range(n):
            A[i, j] = -slopes[i] * base[i, j]
        A[i, i] += 1.0
    for k in range(q.shape[0]):
        A[rows[k], cols[k]] = (1.0 if rows[k] == cols[k] else 0.0) - slopes[rows[k]] * q[k]
    for i in range(n):
        for j in range(i + 1):
            total = 0.0
            for m in range(n):
                total += A[m, i] * A[m, j]
            M[i, j] = total
            M[j, i] = total
        M[i, i] += v_x[i]


@numba.njit(cache=True)
def cholesky_in_place(M):
    """Overwrite the lower triangle of M by its Cholesky factor L (M = LLᵀ); False if M is not positive definite."""
    n = M.shape[0]
    for j in range(n):
        diagonal = M[j, j]
        for m in range(j):
            diagonal -= M[j, m] * M[j, m]
        if not diagonal > 0.0:
            return False
        root = np.sqrt(diagonal)
        M[j, j] = root
        for i in range(j + 1, n):
            total = M[i, j]
            for m in range(j):
                total -= M[i, m] * M[j, m]
            M[i, j] = total / root
    return True


@numba.njit(cache=True)
def solve_cholesky(L, b, out):
    """out = (LLᵀ)⁻¹ b using the lower triangle of L."""
    n = L.shape[0]
    for i in range(n):
        total = b[i]
        for m in range(i):
            total -= L[i, m] * out[m]
        out[i] = total / L[i, i]
    for i in range(n - 1, -1, -1):
        total = out[i]
        for m in range(i + 1, n):
            total -= L[m, i] * out[m]
        out[i] = total / L[i, i]


@numba.njit(cache=True)
def free_energy_and_gradient(q, base, rows, cols, slopes, v_x, v_q, q_bar, beta, A, M, row, z, gradient):
    """F(β, q) of eq. (16) by Cholesky; its gradient into ``gradient`` (K). Work arrays A, M (N, N), row, z (N).

    On return M holds the Cholesky factor of Ĝ(q) + V̂_x in its lower triangle.
    """
    fill_precision(q, base, rows, cols, slopes, v_x, A, M)
    if not cholesky_in_place(M):
        return np.nan
    n = base.shape[0]
    log_det = n * np.log(beta)
    for i in range(n):
        log_det += 2.0 * np.log(M[i, i])
    free = 0.5 * log_det / beta
    for k in range(q.shape[0]):
        d = q[k] - q_bar[k]
        free += 0.5 * v_q[k] * d * d
        i, j = rows[k], cols[k]
        for m in range(n):
            row[m] = A[i, m]
        solve_cholesky(M, row, z)
        gradient[k] = -slopes[i] * z[j] / beta + v_q[k] * d
    return free


@numba.njit(cache=True, parallel=True)
def _batch_free_energy(qs, base, rows, cols, slopes, v_x, v_q, q_bar, beta, out_f, out_g):
    n = base.shape[0]
    for b in numba.prange(qs.shape[0]):
        A = np.empty((n, n))
        M = np.empty((n, n))
        row = np.empty(n)
        z = np.empty(n)
        out_f[b] = free_energy_and_gradient(qs[b], base, rows, cols, slopes, v_x, v_q, q_bar, beta, A, M, row, z,
                                            out_g[b])


def _diagonal(name, value, size):
    """One number or ``size`` numbers as a (size,) float array (a diagonal matrix or a vector)."""
    try:
        array = np.asarray(value, float)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"one number or a list of {size} numbers") from None
    if array.ndim == 0:
        array = np.full(size, float(array))
    if array.shape != (size,):
        raise ParameterError(name, value, f"one number or a list of {size} numbers")
    if not np.all(np.isfinite(array)):
        raise ParameterError(name, value, "finite")
    return array


@dataclass(frozen=True)
class LinearizedModel:
    """The network model of 002 eqs. (14)-(19); see the module docstring. Validated at construction."""

    base: np.ndarray
    trainable: np.ndarray
    slopes: np.ndarray
    v_x: np.ndarray
    v_q: np.ndarray
    alpha: float
    beta: float
    q_bar: np.ndarray | None = None
    x_bar: np.ndarray | None = None
    name: str = "linearized"

    def __post_init__(self):
        base = np.asarray(self.base, float)
        if base.ndim != 2 or base.shape[0] != base.shape[1] or base.shape[0] < 1 or not np.all(np.isfinite(base)):
            raise ParameterError("base", self.base, "a finite square matrix (N x N, N >= 1)")
        n = base.shape[0]
        trainable = np.asarray(self.trainable)
        if trainable.ndim != 2 or trainable.shape[1] != 2 or trainable.shape[0] < 1 or trainable.dtype.kind not in "iu":
            raise ParameterError("trainable", self.trainable, "a list of K >= 1 [row, column] integer pairs")
        trainable = trainable.astype(np.int64)
        if trainable.min() < 0 or trainable.max() >= n:
            raise ParameterError("trainable", self.trainable.tolist(), f"entries with row and column in 0..{n - 1}")
        if len({tuple(e) for e in trainable}) != len(trainable):
            raise ParameterError("trainable", trainable.tolist(), "distinct entries")
        k = trainable.shape[0]
        v_x = _diagonal("v_x", self.v_x, n)
        v_q = _diagonal("v_q", self.v_q, k)
        if np.any(v_x <= 0):
            raise ParameterError("v_x", v_x.tolist(), "> 0 (else G + V_x can be singular and p(x|q) not normalizable)")
        if np.any(v_q <= 0):
            raise ParameterError("v_q", v_q.tolist(), "> 0 (else p(q) need not be normalizable)")
        q_bar = (base[trainable[:, 0], trainable[:, 1]].copy() if self.q_bar is None
                 else _diagonal("q_bar", self.q_bar, k))
        x_bar = np.zeros(n) if self.x_bar is None else _diagonal("x_bar", self.x_bar, n)
        values = {"base": base, "trainable": trainable, "slopes": _diagonal("slopes", self.slopes, n), "v_x": v_x,
                  "v_q": v_q, "alpha": require_positive("alpha", self.alpha),
                  "beta": require_positive("beta", self.beta), "q_bar": q_bar, "x_bar": x_bar}
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def n_neurons(self) -> int:
        return self.base.shape[0]

    @property
    def n_trainable(self) -> int:
        return self.trainable.shape[0]

    @property
    def names(self) -> list[str]:
        """The trainable weights' names, ``w[row,column]``."""
        return [f"w[{i},{j}]" for i, j in self.trainable]

    def kernel_arguments(self) -> tuple:
        """(base, rows, cols, slopes, v_x, v_q, q_bar, beta): what the numba functions take after q."""
        return (self.base, np.ascontiguousarray(self.trainable[:, 0]), np.ascontiguousarray(self.trainable[:, 1]),
                self.slopes, self.v_x, self.v_q, self.q_bar, self.beta)

    def to_dict(self) -> dict:
        return {"name": self.name, "base": self.base.tolist(), "trainable": self.trainable.tolist(),
                "slopes": self.slopes.tolist(), "v_x": self.v_x.tolist(), "v_q": self.v_q.tolist(),
                "alpha": self.alpha, "beta": self.beta, "q_bar": self.q_bar.tolist(), "x_bar": self.x_bar.tolist()}

    # matrices ------------------------------------------------------------------------------
    def _q(self, q) -> np.ndarray:
        q = np.asarray(q, float)
        if q.shape[-1:] != (self.n_trainable,):
            raise ParameterError("q", f"array of shape {q.shape}",
                                 f"an array whose last axis has length K = {self.n_trainable}")
        return q

    def weights(self, q) -> np.ndarray:
        """ŵ(q) (..., N, N): the base matrix with the trainable entries set to q."""
        q = self._q(q)
        w = np.broadcast_to(self.base, q.shape[:-1] + self.base.shape).copy()
        w[..., self.trainable[:, 0], self.trainable[:, 1]] = q
        return w

    def coupling(self, q) -> np.ndarray:
        """Ĝ(q) = (I - F̂ŵ)ᵀ(I - F̂ŵ) (eq. 15)."""
        a = np.eye(self.n_neurons) - self.slopes[:, None] * self.weights(q)
        return np.swapaxes(a, -1, -2) @ a

    def precision(self, q) -> np.ndarray:
        """M(q) = Ĝ(q) + V̂_x: the curvature of H in x (eq. 14)."""
        return self.coupling(q) + np.diag(self.v_x)

    def energy(self, x, q) -> np.ndarray:
        """H(x, q) of eq. (14)."""
        y = np.asarray(x, float) - self.x_bar
        d = self._q(q) - self.q_bar
        return (0.5 * np.einsum("...i,...ij,...j->...", y, self.precision(q), y)
                + 0.5 * np.einsum("...k,k,...k->...", d, self.v_q, d))

    # free energy and distributions ---------------------------------------------------------
    def free_energy_and_gradient(self, q) -> tuple[np.ndarray, np.ndarray]:
        """(F(β, q), ∂F/∂q) of eq. (16), for q of shape (..., K)."""
        q = self._q(q)
        flat = np.ascontiguousarray(q.reshape(-1, self.n_trainable))
        f = np.empty(flat.shape[0])
        g = np.empty_like(flat)
        _batch_free_energy(flat, *self.kernel_arguments(), f, g)
        return f.reshape(q.shape[:-1])[()], g.reshape(q.shape)

    def free_energy(self, q):
        """F(β, q) = (1/2β) log det(β(Ĝ + V̂_x)) + ½(q-q̄)ᵀV̂_q(q-q̄) (eq. 16)."""
        return self.free_energy_and_gradient(q)[0]

    def free_energy_gradient(self, q) -> np.ndarray:
        """∂F/∂q (see the module docstring)."""
        return self.free_energy_and_gradient(q)[1]

    def log_density(self, q):
        """log p(q) + const = -αF(β, q) (eqs. 18-19), unnormalized."""
        return -self.alpha * self.free_energy(q)

    def conditional(self, q) -> LinearizedConditional:
        """p(x|q) = N(x̄, (β(Ĝ(q) + V̂_x))⁻¹) (eq. 13 with eq. 14), for one q or a batch (..., K)."""
        return LinearizedConditional(self, q)


class LinearizedConditional:
    """The Gaussian p(x|q) of the linearized network: mean, cov, logpdf, rvs (one x per q)."""

    def __init__(self, model: LinearizedModel, q):
        self.model = model
        self.q = model._q(q)
        self._precision = model.beta * model.precision(self.q)
        self._cholesky = np.linalg.cholesky(self._precision)

    def mean(self) -> np.ndarray:
        return np.broadcast_to(self.model.x_bar, self.q.shape[:-1] + (self.model.n_neurons,)).copy()

    def cov(self) -> np.ndarray:
        return np.linalg.inv(self._precision)

    def logpdf(self, x):
        y = np.asarray(x, float) - self.model.x_bar
        quadratic = np.einsum("...i,...ij,...j->...", y, self._precision, y)
        log_det = 2.0 * np.log(np.diagonal(self._cholesky, axis1=-2, axis2=-1)).sum(-1)
        return -0.5 * quadratic + 0.5 * log_det - 0.5 * self.model.n_neurons * np.log(2.0 * np.pi)

    def rvs(self, random_state=None) -> np.ndarray:
        """One exact draw per q: x = x̄ + L⁻ᵀ z with βM = LLᵀ."""
        z = rng_from(random_state).standard_normal(self.q.shape[:-1] + (self.model.n_neurons,))
        y = np.linalg.solve(np.swapaxes(self._cholesky, -1, -2), z[..., None])[..., 0]
        return self.model.x_bar + y
