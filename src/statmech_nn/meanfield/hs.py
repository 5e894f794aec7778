"""Spin models with general couplings, by the Hubbard–Stratonovich saddle point.

H(s) = -(1/2N) Σ_ij W_ij s_i s_j - Σ_i h_i s_i with any real W and a field h (scalar or per site).

001 slides 'Statistical model of a neural network' to 'More magic': introducing V_i (for s_i) and U_i (its
conjugate) gives the effective Hamiltonian H^g(V, U) whose stationary points solve

    V_i = tanh(β(Σ_j W_ij V_j/N + h_i))                                                (saddle point)

with the on-shell free energy per spin (001 'More magic', F[h], with the ln 2 of Σ_{s=±1} e^{Us} = 2cosh U
restored so that it is the large-N limit of -T ln Z/N and not that minus T ln 2)

    f = (1/2N²) Σ_ij W_ij V_i V_j - (T/N) Σ_i ln 2cosh(β(Σ_j W_ij V_j/N + h_i)),

the magnetization m = (1/N) Σ V_i = -∂f/∂h (the slides' "m = dF/dh" has the wrong sign), and the
susceptibility equation (001, the P_c slide), in matrix form with D = diag(1 - V²):

    (I - β D W/N) χ = β D 1,     χ_i = ∂V_i/∂h.

Only the symmetric part W_sym = (W + Wᵀ)/2 enters H, so every formula uses it. At h = 0 the paramagnet V = 0
becomes unstable at T_c = λ_max(W_sym)/N (where I - βW/N first becomes singular). Gaussian fluctuations
around a stable saddle add the one-loop term (T/2N) ln det(I - β D W/N) to f (from the Hessian of H^g,
001 'More magic': H^g_VV = -βW/N, H^g_UU = -diag(1 - tanh² U), H^g_VU = I).

A solution is locally stable (a minimum of the Bragg–Williams free energy
-(1/2N²) VᵀWV - hᵀV/N - (T/N) Σ S(V_i)) when λ_max(β D^{1/2} W_sym D^{1/2}/N) < 1; of the stable ones the one
with the lowest f is the thermodynamic state ('stable'), the others are 'metastable'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator, eigsh

from ..errors import ParameterError
from ..params import require_finite, require_int, require_positive, rng_from
from .cw_mean_field import STABLE, METASTABLE, UNSTABLE, log_2cosh
from .enumeration import Enumeration, ExactAverages
from .saddle import SolverOptions, batched_gmres, distinct_columns, find_saddle_points

# Above this N, dense eigen/Cholesky factorizations give way to Lanczos and GMRES.
DENSE_LIMIT = 1000
# From this N on, the saddle-point solver steers with single-precision products (its residual stays double).
MIXED_PRECISION_LIMIT = 2000
_DENSE_EIGEN_LIMIT = 400
_DEGENERACY = 1e-12


def symmetric_part(weights) -> np.ndarray:
    """W_sym = (W + Wᵀ)/2 as a C-contiguous float64 array (W itself when it already is symmetric)."""
    W = np.asarray(weights)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
        raise ParameterError("weights", f"array of shape {W.shape}", "a square (N, N) matrix with N >= 1")
    if not np.issubdtype(W.dtype, np.number) or np.iscomplexobj(W):
        raise ParameterError("weights", f"array of dtype {W.dtype}", "real numbers")
    W = np.ascontiguousarray(W, dtype=float)
    if not np.isfinite(W).all():
        raise ParameterError("weights", "a matrix with NaN or infinite entries", "finite")
    if np.array_equal(W, W.T):
        return W
    return 0.5 * (W + W.T)


def _field_vector(field_value, n: int) -> np.ndarray:
    h = np.asarray(field_value, float)
    if h.ndim == 0:
        return np.full(n, require_finite("h", h))
    if h.shape != (n,) or not np.isfinite(h).all():
        raise ParameterError("h", f"array of shape {h.shape}", f"a finite number or {n} finite numbers")
    return h.copy()


def fluctuation_matrix(W_sym, beta: float, V) -> np.ndarray:
    """I - β D^{1/2} W_sym D^{1/2}/N, D = diag(1 - V²): similar to I - βDW/N, symmetric, positive definite iff V is
    stable."""
    d = np.sqrt(1.0 - V * V)
    return np.eye(V.size) - (beta / V.size) * d[:, None] * W_sym * d[None, :]


def stability_and_log_det(W_sym, beta: float, V) -> tuple[bool, float]:
    """(λ_max(β D^{1/2} W_sym D^{1/2}/N) < 1, ln det(I - β D W_sym/N)); the log det is NaN for an unstable solution.

    Dense: one Cholesky factorization of I - β D^{1/2} a D^{1/2}, which exists exactly when the solution is
    stable and whose diagonal gives the log det. Above ``DENSE_LIMIT``: Lanczos for λ_max, and the log det
    (O(N³)) only when asked for through :meth:`SaddlePoints.one_loop`.
    """
    n = V.size
    if n <= DENSE_LIMIT:
        try:
            factor = scipy.linalg.cholesky(fluctuation_matrix(W_sym, beta, V), lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return False, float("nan")
        return True, float(2.0 * np.log(np.diag(factor)).sum())
    d = np.sqrt(1.0 - V * V)
    operator = LinearOperator((n, n), matvec=lambda x: (beta / n) * d * (W_sym @ (d * x)), dtype=float)
    top = eigsh(operator, k=1, which="LA", tol=1e-8, return_eigenvectors=False)[0]
    return bool(top < 1.0), float("nan")


def leading_eigenpair(W_sym) -> tuple[float, np.ndarray]:
    """(λ_max, its unit eigenvector) of a symmetric matrix: LAPACK for small N, Lanczos (ARPACK) above."""
    n = W_sym.shape[0]
    if n <= _DENSE_EIGEN_LIMIT:
        values, vectors = np.linalg.eigh(W_sym)
        return float(values[-1]), vectors[:, -1]
    start = np.random.default_rng(0).uniform(0.5, 1.5, n)  # generic (never orthogonal to the mode), reproducible
    values, vectors = eigsh(W_sym, k=1, which="LA", tol=1e-12, v0=start)
    return float(values[0]), vectors[:, 0]


class GeneralCouplings:
    """The spin model H(s) = -(1/2N) sᵀ W s - hᵀ s with any real (N, N) matrix W and a field h (scalar or per site).

    Construction validates and symmetrizes W once; :meth:`with_field` shares the matrix with a new field.
    The thermodynamic state (β) is given per call: :meth:`saddle_points` (mean field, every solution),
    :meth:`exact` (enumeration, N ≤ 20); heat-bath Monte Carlo is
    :func:`statmech_nn.sampling.spins.couplings_monte_carlo`.
    """

    def __init__(self, weights, field=0.0):
        self.weights = symmetric_part(weights)
        self.n = self.weights.shape[0]
        self.field = _field_vector(field, self.n)

    @classmethod
    def from_extended_matrix(cls, extended) -> GeneralCouplings:
        """The model of the slides' bias-extended matrix: unit 0 is the always-on unit, clamped to +1 (001 slide
        'Statistical model of a neural network', W acting on (1, V_1, ..., V_N)).

        -(1/2N) (1, s)ᵀ W_ext (1, s) = -(1/2N) sᵀ W s - hᵀ s + const with W = W_ext[1:, 1:] and
        h_a = (W_ext[a, 0] + W_ext[0, a])/(2N), N = (size of W_ext) - 1: the slides' 2Nh in column 0 is a field h.
        """
        W_ext = np.asarray(extended, float)
        if W_ext.ndim != 2 or W_ext.shape[0] != W_ext.shape[1] or W_ext.shape[0] < 2:
            raise ParameterError("weights", f"array of shape {W_ext.shape}", "a square (N+1, N+1) matrix, N >= 1")
        n = W_ext.shape[0] - 1
        return cls(W_ext[1:, 1:], (W_ext[1:, 0] + W_ext[0, 1:]) / (2.0 * n))

    @classmethod
    def _from_parts(cls, W_sym, field_vector, cached: dict):
        model = cls.__new__(cls)
        model.weights, model.n, model.field = W_sym, W_sym.shape[0], field_vector
        for key in ("_eigenpair", "_weights_single"):  # what depends on W only is shared
            if key in cached:
                model.__dict__[key] = cached[key]
        return model

    def with_field(self, field) -> GeneralCouplings:
        """The same couplings with another field (no copy of W, no new eigen-decomposition)."""
        return self._from_parts(self.weights, _field_vector(field, self.n), self.__dict__)

    @cached_property
    def _eigenpair(self):
        return leading_eigenpair(self.weights)

    @property
    def critical_temperature(self) -> float:
        """T_c = λ_max(W_sym)/N, where the h = 0 paramagnet V = 0 becomes unstable (≤ 0: it never does)."""
        return self._eigenpair[0] / self.n

    @property
    def leading_mode(self) -> np.ndarray:
        """The eigenvector of λ_max(W_sym): the pattern that orders first below T_c."""
        return self._eigenpair[1]

    def energy(self, spins) -> np.ndarray:
        """H(s) for spins of shape (..., N)."""
        s = np.asarray(spins, float)
        return -0.5 * np.einsum("...i,...i->...", s, s @ self.weights) / self.n - s @ self.field

    def default_starts(self, random_starts: int = 4, seed=None) -> np.ndarray:
        """Starts (N, k): the paramagnet, all up, all down, ± the sign pattern of the leading mode (and of h when it
        is not uniform), and ``random_starts`` uniform draws in [-1, 1]^N."""
        random_starts = require_int("random_starts", random_starts, minimum=0)
        n = self.n
        columns = [np.zeros(n), np.ones(n), -np.ones(n)]
        for pattern in (np.sign(self.leading_mode), np.sign(self.field)):
            if np.any(pattern != 0) and not (np.all(pattern == pattern[0])):
                columns += [pattern, -pattern]
        columns += list(rng_from(seed).uniform(-1.0, 1.0, size=(random_starts, n)))
        return np.column_stack(columns)

    def saddle_points(self, beta: float, *, random_starts: int = 4, seed=0, extra_starts=None,
                      options: SolverOptions | None = None) -> SaddlePoints:
        """Every distinct solution of V = tanh(β(W V/N + h)) from the default starts and ``extra_starts`` (N, k).

        At h = 0 the mirror image -V of every solution found is added (the equations are odd in V).
        """
        beta = require_positive("beta", beta)
        starts = self.default_starts(random_starts, seed)
        if extra_starts is not None:
            starts = np.hstack([starts, np.asarray(extra_starts, float).reshape(self.n, -1)])
        V, residuals = self.solve(beta, starts, options)
        if not self.field.any():  # h = 0: tanh is odd, so -V solves the equations whenever V does
            V, residuals = np.hstack([V, -V]), np.concatenate([residuals, residuals])
            keep = distinct_columns(V, (options or SolverOptions()).distinct)
            V, residuals = V[:, keep], residuals[keep]
        return SaddlePoints(self, beta, V.T.copy(), residuals)

    def product(self, X) -> np.ndarray:
        """W_sym X/N for a vector or an (N, k) block, without forming W_sym/N."""
        return (self.weights @ X) / self.n

    @cached_property
    def _weights_single(self) -> np.ndarray:
        return self.weights.astype(np.float32)

    def product_single(self, X) -> np.ndarray:
        """W_sym X/N in single precision (relative error ~1e-7; half the memory traffic of :meth:`product`)."""
        return (self._weights_single @ X.astype(np.float32)).astype(float) / self.n

    def solve(self, beta: float, starts, options: SolverOptions | None = None):
        """The distinct solutions (N, k) reached from ``starts`` (N, m) and their residuals: the bare solver of
        :mod:`statmech_nn.meanfield.saddle`, steering in single precision from ``MIXED_PRECISION_LIMIT`` spins on."""
        fast = self.product_single if self.n >= MIXED_PRECISION_LIMIT else None
        return find_saddle_points(self.product, self.field, beta, starts, options, fast)

    def exact(self, beta: float) -> ExactAverages:
        """Exact averages over all 2^N states (N ≤ 20)."""
        return self._enumeration.averages(beta)

    @cached_property
    def _enumeration(self) -> Enumeration:
        return Enumeration(self.weights / self.n, self.field)


def saddle_free_energy(W_sym, h, beta: float, V) -> np.ndarray:
    """f per spin of solutions V (k, N): (1/2N) V·aV - (T/N) Σ ln 2cosh(β(aV + h)), a = W_sym/N (001 F[h] + ln 2)."""
    V = np.atleast_2d(V)
    n = V.shape[-1]
    aV = (V @ W_sym) / n  # W_sym is symmetric
    return 0.5 * np.einsum("ki,ki->k", V, aV) / n - log_2cosh(beta * (aV + h)).sum(axis=-1) / (beta * n)


def susceptibility_vector(W_sym, beta: float, V, direction=None) -> np.ndarray:
    """χ solving (I - β D W/N) χ = β D u, D = diag(1 - V²): the response ∂V_i/∂ε to a field ε u (001, the P_c slide,
    whose equation is the case u = 1, a uniform field)."""
    d = 1.0 - V * V
    n = V.size
    rhs = beta * d * (np.ones(n) if direction is None else np.asarray(direction, float))
    if n <= DENSE_LIMIT:
        return np.linalg.solve(np.eye(n) - (beta / n) * d[:, None] * W_sym, rhs)
    return batched_gmres(lambda X: X - (beta / n) * d[:, None] * (W_sym @ X), rhs[:, None], np.array([1e-12]),
                         60, 20)[:, 0]


@dataclass
class SaddlePoints:
    """The distinct saddle points at one β, sorted by free energy; the first stable one is the thermodynamic state."""

    model: GeneralCouplings
    beta: float
    solutions: np.ndarray  # (k, N)
    residuals: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        order = np.argsort(self.free_energies, kind="stable")
        self.solutions, self.residuals = self.solutions[order], self.residuals[order]
        self._cache.clear()

    @property
    def count(self) -> int:
        return self.solutions.shape[0]

    @property
    def free_energies(self) -> np.ndarray:
        """f per spin of each solution (the slides' F[h], with the ln 2)."""
        if "f" not in self._cache:
            self._cache["f"] = saddle_free_energy(self.model.weights, self.model.field, self.beta, self.solutions)
        return self._cache["f"]

    def _stability_and_log_det(self, index: int):
        key = ("stab", index)
        if key not in self._cache:
            self._cache[key] = stability_and_log_det(self.model.weights, self.beta, self.solutions[index])
        return self._cache[key]

    @property
    def stability(self) -> list[str]:
        """'stable', 'metastable' or 'unstable' per solution (order of :attr:`solutions`)."""
        local = [self._stability_and_log_det(i)[0] for i in range(self.count)]
        if not any(local):  # only marginal solutions (exactly at a critical point): the lowest is the state
            local[0] = True
        lowest = self.free_energies[np.flatnonzero(local)[0]]
        tie = _DEGENERACY * max(1.0, abs(lowest))
        return [UNSTABLE if not ok else (STABLE if f - lowest <= tie else METASTABLE)
                for ok, f in zip(local, self.free_energies)]

    @property
    def state(self) -> int:
        """Index of the thermodynamic state: the stable solution (of degenerate ones, the largest mean V)."""
        stable = [i for i, s in enumerate(self.stability) if s == STABLE]
        return max(stable, key=lambda i: self.solutions[i].mean())

    @property
    def V(self) -> np.ndarray:
        return self.solutions[self.state]

    @property
    def m(self) -> float:
        """(1/N) Σ_i V_i of the thermodynamic state."""
        return float(self.V.mean())

    @property
    def free_energy(self) -> float:
        """Free energy per spin of the thermodynamic state (saddle point, without the one-loop term)."""
        return float(self.free_energies[self.state])

    @property
    def chi(self) -> np.ndarray:
        """χ_i = ∂V_i/∂h of the thermodynamic state."""
        if "chi" not in self._cache:
            self._cache["chi"] = susceptibility_vector(self.model.weights, self.beta, self.V)
        return self._cache["chi"]

    def mode_response(self) -> tuple[float, float]:
        """(m_v, χ_v) along the leading mode v of W_sym (unit norm): m_v = |vᵀV|/√N and χ_v = vᵀ ∂V/∂ε for a
        field ε v. χ_v diverges at T_c = λ_max/N even when v is orthogonal to the uniform field, where χ does not;
        for v ∝ 1 they are m and χ."""
        v = self.model.leading_mode
        response = susceptibility_vector(self.model.weights, self.beta, self.V, v)
        return float(abs(v @ self.V) / np.sqrt(self.model.n)), float(v @ response)

    def one_loop(self, index: int | None = None) -> float:
        """(T/2N) ln det(I - β D W/N) of a stable solution (default: the state); NaN for an unstable one.

        Adding it to the saddle free energy gives -T ln Z/N up to O(1/N²) in the paramagnet and in each ordered
        state. Dense LAPACK above ``DENSE_LIMIT`` too (O(N³)), computed only here.
        """
        index = self.state if index is None else index
        stable, log_det = self._stability_and_log_det(index)
        if stable and np.isnan(log_det):
            _, log_det = np.linalg.slogdet(fluctuation_matrix(self.model.weights, self.beta, self.solutions[index]))
        return float(log_det / (2.0 * self.beta * self.model.n)) if stable else float("nan")

    def table(self) -> list[dict]:
        """One dict per solution: mean V, free energy per spin, stability, residual."""
        return [{"m": float(V.mean()), "free_energy": float(f), "stability": s, "residual": float(r)}
                for V, f, s, r in zip(self.solutions, self.free_energies, self.stability, self.residuals)]
