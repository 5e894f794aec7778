"""Hessian spectra from matrix-vector products: stochastic Lanczos quadrature (SLQ) and symmetry measures (003 Fig. 8a).

Where things live (a layering decision): this module is pure NumPy/SciPy and reads only a ``matvec``
callable ``v -> H v`` (float64 arrays of length P) or an array of exact eigenvalues, so that any source of
a symmetric operator can be measured by it. The torch side (Hessian-vector products, the exact Hessian by
columns, per-example contributions) is :mod:`statmech_nn.networks.torch_hessian`, a source of data.

Method and defaults (stated, since 003 names none):

- **Lanczos** (:func:`lanczos`): float64, full reorthogonalization (two Gram–Schmidt passes against every
  stored vector), stopped early on an invariant subspace (β_j ≤ 1e-12·max|α|); the m-point Gauss
  quadrature of the tridiagonal T (nodes θ = eig(T), weights = first eigenvector components squared)
  reproduces uᵀHᵖu = Σ w θᵖ exactly for p ≤ 2m − 1 (Golub & Meurant).
- **SLQ** (:func:`slq`): ``probes`` = 10 Rademacher start vectors, ``steps`` = 90 Lanczos steps each
  (hessian-eigenthings' documented settings are 80 × 10 for a density; PyHessian uses 100 × 1). The
  measure is the average of the probes' quadrature measures (:class:`SpectralMeasure`).
- **Density**: Gaussian broadening of every node, σ = (θ_max − θ_min)/m by default (hessian-eigenthings'
  choice; Papyan's 2/(m−1)/√(8 ln κ) on [−1, 1], three times narrower at κ = 3, leaves ripples of ±70 %
  on a uniform spectrum at m = 60 × 20 probes, which the asymmetry measure would read as asymmetry).
- **Traces** tr Hᵖ by Hutchinson from the same probes: zᵀHᵖz = P Σ w θᵖ for a Rademacher z (‖z‖² = P), the
  standard error from the spread over probes; the skewness tr H³/(tr H²)^{3/2} with a delta-method error.
- **Symmetry**: the negative mass of the broadened density (0.5 for a symmetric spectrum; exact zero
  eigenvalues count half), the masses within ±σ and beyond, the distance ∫|ρ(λ) − ρ(−λ)| dλ ∈ [0, 2]
  of the broadened density from its mirror image, and λ_min/λ_max.
- **Accuracy against an exact spectrum**: the Wasserstein-1 distance between the SLQ measure and the
  empirical measure of ``eigvalsh`` (:func:`wasserstein_to_spectrum`).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.special import ndtr
from scipy.stats import wasserstein_distance

from ..errors import DataError
from ..params import require_int, require_positive, rng_from

DEFAULT_STEPS = 90
DEFAULT_PROBES = 10
_BREAKDOWN_RTOL = 1e-12


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], start: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` Lanczos steps from ``start`` with full reorthogonalization: (α of length k, β of length k − 1).

    k ≤ steps (fewer when the Krylov space is invariant). The tridiagonal T has α on its diagonal, β beside it.
    """
    steps = require_int("steps", steps, 1)
    start = np.asarray(start, dtype=np.float64)
    norm = np.linalg.norm(start)
    if start.ndim != 1 or not np.isfinite(norm) or norm == 0:
        raise DataError("the Lanczos start vector must be a finite, non-zero 1-d array")
    basis = np.zeros((min(steps, start.size), start.size))
    alpha, beta = [], []
    basis[0] = start / norm
    for j in range(basis.shape[0]):
        w = np.asarray(matvec(basis[j]), dtype=np.float64)
        alpha.append(float(basis[j] @ w))
        for _ in range(2):  # two passes of classical Gram-Schmidt: orthogonal to rounding
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        if j + 1 == basis.shape[0] or b <= _BREAKDOWN_RTOL * max(1.0, max(abs(a) for a in alpha)):
            break
        beta.append(b)
        basis[j + 1] = w / b
    return np.array(alpha), np.array(beta)


def gauss_quadrature(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (eigenvalues of T, ascending) and weights (first eigenvector components squared; they sum to 1)."""
    if alpha.size == 1:
        return alpha.copy(), np.ones(1)
    nodes, vectors = eigh_tridiagonal(alpha, beta)
    return nodes, vectors[0] ** 2


@dataclass(frozen=True)
class SpectralMeasure:
    """A spectral measure as nodes and weights per probe (rows; padded with weight 0), of a P × P operator.

    From SLQ each row is one probe's Gauss quadrature; from an exact spectrum there is one row of P nodes of
    weight 1/P each (:meth:`from_eigenvalues`).
    """

    nodes: np.ndarray    # (probes, m)
    weights: np.ndarray  # (probes, m), each row sums to 1
    dim: int
    exact: bool = False

    @classmethod
    def from_eigenvalues(cls, eigenvalues) -> SpectralMeasure:
        values = np.sort(np.asarray(eigenvalues, dtype=np.float64).ravel())
        return cls(values[None, :], np.full((1, values.size), 1.0 / values.size), values.size, exact=True)

    @property
    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """All nodes and their weights as one probability measure (probes averaged)."""
        return self.nodes.ravel(), self.weights.ravel() / self.nodes.shape[0]

    def probe_moments(self, power: int) -> np.ndarray:
        """Per probe, Σ w θ^p = uᵀHᵖu for the normalized probe u."""
        return (self.weights * self.nodes**power).sum(axis=1)

    @property
    def lambda_min(self) -> float:
        return float(self.nodes[self.weights > 0].min())

    @property
    def lambda_max(self) -> float:
        return float(self.nodes[self.weights > 0].max())

    def default_sigma(self) -> float:
        """(θ_max − θ_min)/m, m the nodes per probe (:data:`DEFAULT_STEPS` for an exact spectrum, so that
        exact and SLQ densities are broadened alike); a floor of 1e-12·max|θ| for a point mass, 1 for H = 0."""
        m = DEFAULT_STEPS if self.exact else self.nodes.shape[1]
        scale = max(abs(self.lambda_max), abs(self.lambda_min))
        if scale == 0:
            return 1.0   # H = 0 (e.g. every hinge margin ≥ 1): a point mass at 0, in any units
        return max((self.lambda_max - self.lambda_min) / m, 1e-12 * scale)


def slq(matvec: Callable[[np.ndarray], np.ndarray], dim: int, *, steps: int = DEFAULT_STEPS,
        probes: int = DEFAULT_PROBES, seed=0) -> SpectralMeasure:
    """Stochastic Lanczos quadrature: ``probes`` Rademacher starts, ``steps`` steps each (module docstring)."""
    dim = require_int("dim", dim, 1)
    probes = require_int("probes", probes, 1)
    rng = rng_from(seed)
    rows = []
    for _ in range(probes):
        start = rng.choice(np.array([-1.0, 1.0]), size=dim)
        rows.append(gauss_quadrature(*lanczos(matvec, start, steps)))
    width = max(nodes.size for nodes, _ in rows)
    nodes = np.zeros((probes, width))
    weights = np.zeros((probes, width))
    for i, (n, w) in enumerate(rows):
        nodes[i, : n.size], weights[i, : w.size] = n, w
        nodes[i, n.size:] = n[-1]
    return SpectralMeasure(nodes, weights, dim)


def density(measure: SpectralMeasure, grid: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """ρ(λ) on ``grid``: every node broadened by a Gaussian of width σ
    (default :meth:`SpectralMeasure.default_sigma`)."""
    sigma = require_positive("sigma", measure.default_sigma() if sigma is None else sigma)
    nodes, weights = measure.flat
    grid = np.asarray(grid, dtype=np.float64)
    z = (grid[:, None] - nodes[None, :]) / sigma
    return (weights[None, :] * np.exp(-0.5 * z * z)).sum(axis=1) / (sigma * np.sqrt(2 * np.pi))


def symmetric_grid(measure: SpectralMeasure, sigma: float, points: int = 2001) -> np.ndarray:
    """A grid on [−L, L], L = max|θ| + 6σ, symmetric about 0 (``points`` odd so that 0 is a node)."""
    half = max(abs(measure.lambda_min), abs(measure.lambda_max)) + 6.0 * sigma
    return np.linspace(-half, half, points | 1)


def asymmetry(measure: SpectralMeasure, sigma: float | None = None) -> float:
    """∫|ρ(λ) − ρ(−λ)| dλ of the broadened density: 0 for a spectrum symmetric about 0, at most 2."""
    sigma = measure.default_sigma() if sigma is None else sigma
    grid = symmetric_grid(measure, sigma)
    rho = density(measure, grid, sigma)
    return float(np.trapezoid(np.abs(rho - rho[::-1]), grid))


def signed_masses(measure: SpectralMeasure, sigma: float | None = None) -> dict:
    """Mass of the broadened density below 0 (Σ w Φ(−θ/σ): a node at 0 counts half, so a symmetric
    spectrum has 0.5), and the masses of the nodes within ±σ ("near zero") and beyond."""
    sigma = require_positive("sigma", measure.default_sigma() if sigma is None else sigma)
    nodes, weights = measure.flat
    return {"negative_mass": float((weights * ndtr(-nodes / sigma)).sum()),
            "near_zero_mass": float(weights[np.abs(nodes) <= sigma].sum()),
            "below_minus_sigma_mass": float(weights[nodes < -sigma].sum()),
            "above_sigma_mass": float(weights[nodes > sigma].sum())}


def trace_estimate(measure: SpectralMeasure, power: int) -> tuple[float, float]:
    """tr Hᵖ and its standard error: exact from an exact spectrum, Hutchinson (P × probe mean) from SLQ."""
    values = measure.dim * measure.probe_moments(power)
    if measure.exact or values.size < 2:
        return float(values.mean()), 0.0 if measure.exact else float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def skewness(measure: SpectralMeasure) -> tuple[float, float]:
    """tr H³/(tr H²)^{3/2} and its delta-method standard error over the probes (0 for an exact spectrum)."""
    m2 = measure.dim * measure.probe_moments(2)
    m3 = measure.dim * measure.probe_moments(3)
    t2, t3 = m2.mean(), m3.mean()
    if t2 <= 0:
        return float("nan"), float("nan")
    value = t3 / t2**1.5
    if measure.exact or m2.size < 2:
        return float(value), 0.0 if measure.exact else float("nan")
    gradient = np.array([-1.5 * t3 / t2**2.5, 1.0 / t2**1.5])
    covariance = np.cov(np.vstack([m2, m3])) / m2.size
    return float(value), float(np.sqrt(max(gradient @ covariance @ gradient, 0.0)))


def wasserstein_to_spectrum(measure: SpectralMeasure, eigenvalues) -> float:
    """Wasserstein-1 distance between the measure and the empirical measure of ``eigenvalues``."""
    nodes, weights = measure.flat
    keep = weights > 0
    return float(wasserstein_distance(nodes[keep], np.asarray(eigenvalues, dtype=np.float64).ravel(), weights[keep]))


def spectrum_summary(measure: SpectralMeasure, sigma: float | None = None) -> dict:
    """Every symmetry measure of the module docstring, as one flat dict (JSON-ready)."""
    sigma = measure.default_sigma() if sigma is None else sigma
    trace, trace_error = trace_estimate(measure, 1)
    trace2, trace2_error = trace_estimate(measure, 2)
    skew, skew_error = skewness(measure)
    lo, hi = measure.lambda_min, measure.lambda_max
    return {"P": measure.dim, "exact": measure.exact, "probes": int(measure.nodes.shape[0]),
            "lanczos_steps": int(measure.nodes.shape[1]), "sigma": sigma, **signed_masses(measure, sigma),
            "asymmetry": asymmetry(measure, sigma), "skewness": skew, "skewness_error": skew_error,
            "trace": trace, "trace_error": trace_error, "trace_h2": trace2, "trace_h2_error": trace2_error,
            "lambda_min": lo, "lambda_max": hi, "lambda_ratio": lo / hi if hi != 0 else float("nan")}
