"""The eigenvalue expansion of 002 eqs. (20)-(21), and where it fails against the exact eq. (19).

Each eigenvalue λⁱ(q) of M(q) = Ĝ(q) + V̂_x is expanded to second order about q̄ by perturbation theory.
M is exactly quadratic in δ = q - q̄: M = M₀ + Σ_k δ_k D_k + Σ_kl δ_k δ_l B_kᵀB_l with
B_k = ∂(I - F̂ŵ)/∂q_k = -f_{i_k} e_{i_k} e_{j_k}ᵀ and D_k = B_kᵀA₀ + A₀ᵀB_k. For eigenpairs (λ₀ⁱ, vᵢ) of M₀,

    ∂λⁱ/∂δ_k      = gⁱ_k = vᵢᵀ D_k vᵢ,
    ∂²λⁱ/∂δ_k∂δ_l = Hⁱ_kl = vᵢᵀ(B_kᵀB_l + B_lᵀB_k)vᵢ + 2 Σ_{m≠i} (vᵢᵀD_k v_m)(v_mᵀD_l vᵢ)/(λ₀ⁱ - λ₀ᵐ),

so λⁱ(q) ≈ λ₀ⁱ + gⁱ·δ + δᵀλ̂ⁱδ with λ̂ⁱ = Hⁱ/2. The source's eq. (20) has no linear term: it assumes q̄
extremizes every eigenvalue, which a generic network does not do. Two approximations of log p(q) are
therefore compared with eq. (19):

- ``eq21``: 002 eq. (21) as printed, Π_i (λ₀ⁱ + δᵀλ̂ⁱδ)^{-α/2β} exp(-α δᵀV̂_qδ/2);
- ``taylor2``: the same with the linear term gⁱ·δ kept (the full second-order expansion).

Each factor is a power law |δ|^{-α/β} once δᵀλ̂ⁱδ ≫ λ₀ⁱ (per-mode exponent -α/β in |q - q̄|), beginning at
the mode's crossover radius √(λ₀ⁱ/λ̂ⁱ_max). An approximation *fails* along a ray where its log p (relative
to q̄) is off the exact one by more than ``tolerance`` nats, or where a factor's argument is ≤ 0
(a negative-curvature eigenvalue crossing zero: log p undefined).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import StatmechError
from ..params import rng_from
from .local_equilibrium import LinearizedModel

DEFAULT_TOLERANCE = 0.1       # nats
_DEGENERACY = 1e-9            # relative gap below which eigenvalues count as degenerate


@dataclass(frozen=True)
class EigenExpansion:
    """λ₀ⁱ (N), gⁱ (N, K) and λ̂ⁱ = Hⁱ/2 (N, K, K) at q̄, with the model they expand."""

    model: LinearizedModel
    lambda0: np.ndarray
    gradient: np.ndarray
    curvature: np.ndarray

    @property
    def exponent(self) -> float:
        """The per-mode power-law exponent in |q - q̄| (each factor of eq. (21) on intermediate scales): -α/β."""
        return -self.model.alpha / self.model.beta

    def eigenvalues(self, q, linear: bool) -> np.ndarray:
        """λⁱ(q) ≈ λ₀ⁱ (+ gⁱ·δ) + δᵀλ̂ⁱδ, shape (..., N)."""
        d = np.asarray(q, float) - self.model.q_bar
        value = self.lambda0 + np.einsum("...k,ikl,...l->...i", d, self.curvature, d)
        if linear:
            value = value + np.einsum("...k,ik->...i", d, self.gradient)
        return value

    def log_density(self, q, linear: bool = False) -> np.ndarray:
        """log p(q) of eq. (21) (``linear=True``: with the linear term), up to the constant; NaN where undefined."""
        d = np.asarray(q, float) - self.model.q_bar
        lam = self.eigenvalues(q, linear)
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.where(lam > 0, np.log(np.where(lam > 0, lam, 1.0)), np.nan)
        gaussian = np.einsum("...k,k,...k->...", d, self.model.v_q, d)
        m = self.model
        return -(m.alpha / (2.0 * m.beta)) * logs.sum(-1) - 0.5 * m.alpha * gaussian

    def crossover_radius(self) -> np.ndarray:
        """√(λ₀ⁱ / largest eigenvalue of λ̂ⁱ) per mode: where its factor turns from flat to power law (inf if none)."""
        top = np.linalg.eigvalsh(self.curvature)[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(top > 0, np.sqrt(self.lambda0 / np.where(top > 0, top, 1.0)), np.inf)


def eigen_expansion(model: LinearizedModel) -> EigenExpansion:
    """Second-order perturbation theory of the eigenvalues of Ĝ(q) + V̂_x about q̄ (see the module docstring)."""
    n = model.n_neurons
    a0 = np.eye(n) - model.slopes[:, None] * model.weights(model.q_bar)
    lambda0, vectors = np.linalg.eigh(a0.T @ a0 + np.diag(model.v_x))
    gaps = lambda0[:, None] - lambda0[None, :]
    off = ~np.eye(n, dtype=bool)
    if np.any(np.abs(gaps[off]) <= _DEGENERACY * np.abs(lambda0).max()):
        raise StatmechError("eigenvalues of G + V_x at q_bar are degenerate: the expansion of 002 eq. (20) "
                            "needs distinct eigenvalues (perturb the base matrix or V_x)")
    k = model.n_trainable
    B = np.zeros((k, n, n))
    B[np.arange(k), model.trainable[:, 0], model.trainable[:, 1]] = -model.slopes[model.trainable[:, 0]]
    D = np.swapaxes(B, -1, -2) @ a0 + a0.T @ B                          # (K, N, N)
    D_modes = np.einsum("ai,kab,bj->kij", vectors, D, vectors)           # vᵢᵀ D_k vⱼ
    second = np.einsum("ai,kca,lcb,bi->ikl", vectors, B, B, vectors)     # vᵢᵀ B_kᵀ B_l vᵢ
    gradient = np.einsum("kii->ik", D_modes)
    with np.errstate(divide="ignore"):
        inverse_gaps = np.where(off, 1.0 / np.where(off, gaps, 1.0), 0.0)
    hessian = second + np.swapaxes(second, 1, 2) + 2.0 * np.einsum("kim,lmi,im->ikl", D_modes, D_modes, inverse_gaps)
    return EigenExpansion(model, lambda0, gradient, 0.5 * hessian)


def ray_directions(model: LinearizedModel, n_random: int, seed) -> np.ndarray:
    """Unit directions in q-space: the K coordinate axes, then ``n_random`` random ones."""
    rng = rng_from(seed)
    random = rng.standard_normal((n_random, model.n_trainable))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    return np.concatenate([np.eye(model.n_trainable), random])


def compare_expansion(model: LinearizedModel, *, n_random_rays: int = 8, n_radii: int = 64,
                      tolerance: float = DEFAULT_TOLERANCE, seed=0) -> xr.Dataset:
    """log p relative to q̄ along rays, exact (eq. 19) against eq. (21) and the full second-order expansion.

    Radii run log-spaced from 10⁻³ of the smallest crossover radius to 4 Gaussian widths 1/√(α v_q).
    Returns a Dataset with dims (ray, radius) for the curves and the local log-slope of the exact
    density, (mode,) for the per-mode table, and (ray,) for the failure radii (inf: never fails on the grid).
    """
    expansion = eigen_expansion(model)
    directions = ray_directions(model, n_random_rays, seed)
    crossover = expansion.crossover_radius()
    smallest = np.min(crossover[np.isfinite(crossover)], initial=1.0)
    largest = 4.0 / np.sqrt(model.alpha * model.v_q.min())
    radii = np.geomspace(1e-3 * min(smallest, largest), largest, n_radii)
    q = model.q_bar + radii[None, :, None] * directions[:, None, :]
    exact = model.log_density(q) - model.log_density(model.q_bar)
    curves = {"logp_eq19": exact}
    failure = {}
    for name, linear in (("eq21", False), ("taylor2", True)):
        approx = expansion.log_density(q, linear) - expansion.log_density(model.q_bar, linear)
        error = np.abs(approx - exact)
        curves[f"logp_{name}"] = approx
        curves[f"error_{name}"] = error
        bad = ~(error <= tolerance)
        failure[f"failure_radius_{name}"] = np.where(bad.any(axis=1), radii[np.argmax(bad, axis=1)], np.inf)
    slope = np.gradient(exact, np.log(radii), axis=1)
    dataset = xr.Dataset(
        {**{name: (("ray", "radius"), value) for name, value in curves.items()},
         "slope_eq19": (("ray", "radius"), slope),
         "direction": (("ray", "component"), directions),
         **{name: (("ray",), value) for name, value in failure.items()},
         "lambda0": (("mode",), expansion.lambda0),
         "gradient_norm": (("mode",), np.linalg.norm(expansion.gradient, axis=1)),
         "curvature_min": (("mode",), np.linalg.eigvalsh(expansion.curvature)[:, 0]),
         "curvature_max": (("mode",), np.linalg.eigvalsh(expansion.curvature)[:, -1]),
         "crossover_radius": (("mode",), crossover)},
        coords={"radius": radii, "ray": np.arange(directions.shape[0]), "mode": np.arange(model.n_neurons),
                "component": model.names},
        attrs={"source": "002 eqs. (19)-(21)", "tolerance_nats": tolerance, "exponent_per_mode": expansion.exponent,
               "alpha": model.alpha, "beta": model.beta,
               "note": "eq21 drops the linear term of the eigenvalue expansion (002 eq. (20)); taylor2 keeps it"})
    dataset["radius"].attrs["units"] = "|q - q_bar|"
    dataset["slope_eq19"].attrs["long_name"] = "d log p / d log |q - q_bar| of the exact eq. (19)"
    return dataset
