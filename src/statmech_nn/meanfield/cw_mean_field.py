"""Mean-field Curie–Weiss: every solution of m = tanh(β(J m + b)), its stability and free energy.

Source: 001 slide 'Simple (relevant) model'.

The slides print the mean-field equation as m = b tanh(K m/b + b/T) with K = (J/T)^{1/2}; what holds (and what
the large-N limit of :mod:`statmech_nn.meanfield.cw_exact` converges to) is

    m = tanh(K m + b/T),   K = J/T,   T_c = J                                    (corrected 001 mean-field equation)

(see ``validation/closed_forms/meanfield.toml``). The roots are found on the monotone pieces of
g(m) = m - tanh(Km + βb): for K ≤ 1 g is increasing (one root); for K > 1 it turns at
Km + βb = ±arccosh √K, which splits [-1, 1] into three brackets, each holding at most one root. Each
bracket is solved by safeguarded Newton iteration (bisection when Newton leaves the bracket) in a
numba kernel, vectorized over any grid of (β, J, b).

Free energy per spin of a solution: the Bragg–Williams form f(m) = -J m²/2 - b m - T S(m) with the mixing
entropy S(m) = ln 2 - [(1+m) ln(1+m) + (1-m) ln(1-m)]/2, the large-N limit of -ln Z/(βN); it equals the
Hubbard–Stratonovich on-shell form J m²/2 - T ln 2cosh(β(Jm + b)) at every solution (001 slide 'More magic',
F[h] with W = J 1 1ᵀ). A solution is locally stable when f''(m) > 0, i.e. βJ(1 - m²) < 1; its
susceptibility is χ = ∂m/∂b = β(1 - m²)/(1 - βJ(1 - m²)).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
from scipy.special import xlogy

from ..params import require_finite, require_positive

STABLE, METASTABLE, UNSTABLE = "stable", "metastable", "unstable"
_MAX_ROOTS = 3
_NEWTON_ITERATIONS = 200
# Two local minima whose free energies differ by less than this (relative) are both "stable" (b = 0 below T_c).
_DEGENERACY = 1e-12


@numba.njit(cache=True)
def _g(m, k, h):
    return m - np.tanh(k * m + h)


@numba.njit(cache=True)
def _bracketed_root(neg, pos, k, h):
    """The root of g between ``neg`` (g ≤ 0) and ``pos`` (g ≥ 0): safeguarded Newton iteration."""
    x = 0.5 * (neg + pos)
    for _ in range(_NEWTON_ITERATIONS):
        t = np.tanh(k * x + h)
        gx = x - t
        if gx == 0.0:
            return x
        if gx < 0.0:
            neg = x
        else:
            pos = x
        slope = 1.0 - k * (1.0 - t * t)
        lo, hi = min(neg, pos), max(neg, pos)
        step_to = x - gx / slope if slope != 0.0 else 0.5 * (lo + hi)
        if not (lo < step_to < hi):
            step_to = 0.5 * (lo + hi)
        if abs(step_to - x) <= 2e-16 * max(1.0, abs(x)) or hi - lo <= 4e-16:
            return step_to
        x = step_to
    return x


@numba.njit(cache=True)
def _roots_kernel(k_values, h_values, out):
    """Fill out[p, :] with the ascending roots of m = tanh(k m + h) in [-1, 1] (NaN-padded); return the counts."""
    counts = np.zeros(k_values.shape[0], np.int64)
    edges = np.empty(4)
    for p in range(k_values.shape[0]):
        k, h = k_values[p], h_values[p]
        edges[0], edges[3] = -1.0, 1.0
        if k > 1.0:
            turn = np.arccosh(np.sqrt(k))
            edges[1] = min(max((-turn - h) / k, -1.0), 1.0)
            edges[2] = min(max((turn - h) / k, -1.0), 1.0)
        else:
            edges[1], edges[2] = -1.0, -1.0
        count = 0
        for i in range(3):
            a, b = edges[i], edges[i + 1]
            if b <= a:
                continue
            ga, gb = _g(a, k, h), _g(b, k, h)
            if ga * gb > 0.0:
                continue
            if ga == 0.0 and count > 0 and out[p, count - 1] == a:
                continue  # a root exactly on a shared edge (a spinodal) is counted once
            out[p, count] = _bracketed_root(a, b, k, h) if ga <= 0.0 else _bracketed_root(b, a, k, h)
            count += 1
        counts[p] = count
    return counts


def mean_field_roots(beta, j=1.0, b=0.0):
    """All solutions of m = tanh(β(J m + b)), ascending, NaN-padded: shape (..., 3), and their number (...)."""
    beta, j, b = np.broadcast_arrays(*(np.asarray(v, float) for v in (beta, j, b)))
    out = np.full((beta.size, _MAX_ROOTS), np.nan)
    counts = _roots_kernel(np.ascontiguousarray((beta * j).ravel()), np.ascontiguousarray((beta * b).ravel()), out)
    return out.reshape(beta.shape + (_MAX_ROOTS,)), counts.reshape(beta.shape)


def mixing_entropy(m):
    """S(m) = ln 2 - [(1+m) ln(1+m) + (1-m) ln(1-m)]/2: ln of the number of states at magnetization m, per spin."""
    m = np.asarray(m, float)
    return np.log(2.0) - 0.5 * (xlogy(1.0 + m, 1.0 + m) + xlogy(1.0 - m, 1.0 - m))


def log_2cosh(x):
    """ln 2cosh x without overflow."""
    x = np.abs(np.asarray(x, float))
    return x + np.log1p(np.exp(-2.0 * x))


def bragg_williams_free_energy(m, beta, j=1.0, b=0.0):
    """f(m) = -J m²/2 - b m - T S(m): the large-N free energy per spin at fixed magnetization."""
    m = np.asarray(m, float)
    return -0.5 * j * m * m - b * m - mixing_entropy(m) / beta


def hs_free_energy(m, beta, j=1.0, b=0.0):
    """J m²/2 - T ln 2cosh(β(J m + b)): 001 slide 'More magic' F[h] for W = J 1 1ᵀ, with the ln 2 restored."""
    m = np.asarray(m, float)
    return 0.5 * j * m * m - log_2cosh(beta * (j * m + b)) / beta


def curvature_factor(m, beta, j=1.0):
    """1 - βJ(1 - m²): positive where the solution is a local minimum of f (f'' = T(1 - βJ(1 - m²))/(1 - m²))."""
    m = np.asarray(m, float)
    return 1.0 - beta * j * (1.0 - m * m)


def mean_field_susceptibility(m, beta, j=1.0):
    """χ = ∂m/∂b = β(1 - m²)/(1 - βJ(1 - m²)) at a solution m (001 slide 'More magic', the P_c equation, W = J11ᵀ)."""
    m = np.asarray(m, float)
    with np.errstate(divide="ignore"):
        return beta * (1.0 - m * m) / curvature_factor(m, beta, j)


def spinodal_field(temperature, j=1.0):
    """b_s(T) = J m_s - T artanh(m_s), m_s = (1 - T/J)^{1/2}: for |b| < b_s two minima coexist; NaN above T_c.

    At b = -b_s the m > 0 minimum merges with the unstable root at m_s (f'' = 0 there: βJ(1 - m_s²) = 1).
    """
    temperature = np.asarray(temperature, float)
    ordered = temperature < j
    m_s = np.sqrt(np.where(ordered, 1.0 - temperature / np.where(ordered, j, 1.0), 0.0))
    return np.where(ordered, j * m_s - temperature * np.arctanh(m_s), np.nan)[()]


def _local_minima(curvature):
    """Solutions with f'' > 0; where none has (T = T_c, b = 0: f ∝ m⁴ at m = 0) the flattest is the minimum."""
    strict = curvature > 0.0
    marginal = ~strict.any(axis=-1, keepdims=True) & (curvature == curvature.max(axis=-1, keepdims=True))
    return strict | marginal


def mean_field_grid(beta, j=1.0, b=0.0) -> dict[str, np.ndarray]:
    """The thermodynamic (lowest free energy) mean-field solution over a grid, plus the metastable one.

    ``m``: the stable magnetization (at b = 0 below T_c, of the two degenerate minima the positive one, the
    limit b → 0⁺); ``m_metastable``: a local minimum of higher free energy, NaN where there is none; ``chi``,
    ``free_energy_per_spin``: at the stable solution; ``n_solutions``; ``n_minima``.
    """
    beta, j, b = np.broadcast_arrays(*(np.asarray(v, float) for v in (beta, j, b)))
    roots, counts = mean_field_roots(beta, j, b)
    bb, jj, fb = beta[..., None], j[..., None], b[..., None]
    minimum = _local_minima(np.nan_to_num(curvature_factor(roots, bb, jj), nan=-np.inf))
    f = np.where(minimum, bragg_williams_free_energy(np.nan_to_num(roots), bb, jj, fb), np.inf)
    lowest = f.min(axis=-1, keepdims=True)
    degenerate = minimum & (f - lowest <= _DEGENERACY * np.maximum(1.0, np.abs(lowest)))
    best = _MAX_ROOTS - 1 - np.argmax(degenerate[..., ::-1], axis=-1)  # the largest m among the lowest minima
    m = np.take_along_axis(roots, best[..., None], axis=-1)[..., 0]
    metastable = minimum & ~degenerate
    m_meta = np.where(metastable.any(-1), np.nanmax(np.where(metastable, roots, -np.inf), axis=-1), np.nan)
    return {
        "m": m[()],
        "m_metastable": m_meta[()],
        "chi": mean_field_susceptibility(m, beta, j)[()],
        "free_energy_per_spin": lowest[..., 0][()],
        "n_solutions": counts[()],
        "n_minima": minimum.sum(-1)[()],
    }


@dataclass(frozen=True)
class CurieWeissMeanField:
    """Every mean-field solution at one (β, J, b): magnetization, free energy, susceptibility and stability."""

    beta: float
    j: float = 1.0
    b: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "beta", require_positive("beta", self.beta))
        object.__setattr__(self, "j", require_finite("j", self.j))
        object.__setattr__(self, "b", require_finite("b", self.b))

    @cached_property
    def solutions(self) -> np.ndarray:
        """The distinct solutions m, ascending."""
        roots, count = mean_field_roots(self.beta, self.j, self.b)
        return roots[:count]

    @cached_property
    def free_energies(self) -> np.ndarray:
        return bragg_williams_free_energy(self.solutions, self.beta, self.j, self.b)

    @cached_property
    def susceptibilities(self) -> np.ndarray:
        return mean_field_susceptibility(self.solutions, self.beta, self.j)

    @cached_property
    def stability(self) -> list[str]:
        """'stable' (the lowest local minimum; both at b = 0 below T_c), 'metastable' or 'unstable' per solution."""
        minimum = _local_minima(curvature_factor(self.solutions, self.beta, self.j))
        lowest = self.free_energies[minimum].min()
        tie = _DEGENERACY * max(1.0, abs(lowest))
        return [UNSTABLE if not is_min else (STABLE if f - lowest <= tie else METASTABLE)
                for is_min, f in zip(minimum, self.free_energies)]

    @cached_property
    def _grid(self) -> dict:
        return {k: float(v) for k, v in mean_field_grid(self.beta, self.j, self.b).items()}

    @property
    def m(self) -> float:
        """The stable magnetization (the positive one at b = 0 below T_c)."""
        return self._grid["m"]

    @property
    def m_abs(self) -> float:
        return abs(self.m)

    @property
    def chi(self) -> float:
        return self._grid["chi"]

    @property
    def free_energy_per_spin(self) -> float:
        return self._grid["free_energy_per_spin"]

    def table(self) -> list[dict]:
        """One dict per solution: m, free energy per spin, χ and stability."""
        return [{"m": float(m), "free_energy_per_spin": float(f), "chi": float(c), "stability": s}
                for m, f, c, s in zip(self.solutions, self.free_energies, self.susceptibilities, self.stability)]
