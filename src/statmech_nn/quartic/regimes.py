"""Regime boundaries of the quartic toy model in u = (q - q̄)², vectorized (002 eqs. (6)-(7)).

- frustration boundary u_F = -λx/g, where a(u) = λx + g u changes sign (002 §2); none when λx ≥ 0;
- lower scale of the power law u_low = max(|λx|, √(2μ/β))/g: below it the dynamics is frustrated
  (λx < 0) or the density is flat (λx > 0, "core"); above it g u dominates λx in eq. (6). The
  √(2μ/β) term is ours: where the quartic term μ dominates the x-integral (A/√(2B) < 1 in
  :mod:`statmech_nn.quartic.free_energy`) F is flat in u, which ends the power law from below even at λx = 0;
- Gaussian crossover by the source's own definition, the two terms of F equal in magnitude,
  -log(g u + λx) = β λq u, solved by u_G = W((βλq/g) e^{βλqλx/g})/(βλq) - λx/g, which is 002 eq. (7)'s
  W(βλq)/(βλq) only for λx = 0, g = 1 (derivation: :mod:`statmech_nn.quartic.symbolic`);
- the log-slope crossover u_S = 1/(βλq) - λx/g, where the two factors of eq. (6) have equal
  logarithmic slopes in u (dimensionally consistent, unlike u_G);
- the intermediate power law p(q) ∝ |q - q̄|^{-α/β}.

Infinite crossovers mean "never" (λq = 0: no Gaussian regime). Every boundary is a closed form of the
parameters and exists whether or not p(q) is normalizable: at μ = 0 and λx < 0 (002's frustrated case)
u_F, u_G and u_S are finite, while the density, and so each regime's mass, needs μ > 0
(:func:`closed_form_boundaries`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import lambertw

# Above this log-argument, W(e^L) is found by Newton's method on w + log w = L (e^L would overflow).
_MAX_EXP_ARGUMENT = 700.0


def lambertw_of_exp(log_argument):
    """W(e^L) on the principal branch, for any real L, without forming e^L."""
    L = np.asarray(log_argument, float)
    out = np.empty_like(L)
    small = L <= _MAX_EXP_ARGUMENT
    out[small] = lambertw(np.exp(L[small])).real
    if (~small).any():
        w = L[~small] - np.log(L[~small])
        for _ in range(50):
            step = (w + np.log(w) - L[~small]) / (1.0 + 1.0 / w)
            w = w - step
            if np.all(np.abs(step) <= 1e-15 * np.abs(w)):
                break
        out[~small] = w
    return out[()] if out.ndim == 0 else out


def frustration_boundary(lambda_x, g):
    """u_F = -λx/g where λx < 0, NaN (no frustrated regime) otherwise."""
    lambda_x, g = np.broadcast_arrays(np.asarray(lambda_x, float), np.asarray(g, float))
    return np.where(lambda_x < 0, -lambda_x / g, np.nan)[()]


def quartic_scale(g, beta, mu):
    """u_μ = √(2μ/β)/g, where g u equals the curvature scale √(2μ/β) of the quartic term."""
    return (np.sqrt(2.0 * np.asarray(mu, float) / np.asarray(beta, float)) / np.asarray(g, float))[()]


def lower_scale(lambda_x, g, beta, mu):
    """u_low = max(|λx|/g, u_μ): the lower end of the power-law range (frustration boundary or core)."""
    return np.maximum(np.abs(np.asarray(lambda_x, float)) / np.asarray(g, float), quartic_scale(g, beta, mu))[()]


def gauss_excess(lambda_x, g, lambda_q, beta):
    """u_G + λx/g = W((βλq/g) e^{βλqλx/g})/(βλq), computed without cancellation (inf when λq = 0)."""
    lambda_x, g, lambda_q, beta = np.broadcast_arrays(*(np.asarray(v, float) for v in (lambda_x, g, lambda_q, beta)))
    out = np.full(lambda_x.shape, np.inf)
    finite = lambda_q > 0
    bl = beta[finite] * lambda_q[finite]
    log_argument = np.log(bl / g[finite]) + bl * lambda_x[finite] / g[finite]
    out[finite] = lambertw_of_exp(log_argument) / bl
    return out[()] if out.ndim == 0 else out


def gauss_crossover(lambda_x, g, lambda_q, beta):
    """u_G solving -log(g u + λx) = β λq u (the source's crossover, generalized; inf when λq = 0)."""
    return (gauss_excess(lambda_x, g, lambda_q, beta) - np.asarray(lambda_x, float) / np.asarray(g, float))[()]


def slope_crossover(lambda_x, g, lambda_q, beta):
    """u_S = 1/(βλq) - λx/g, where d log/d log u of both factors of 002 eq. (6) agree (inf when λq = 0)."""
    lambda_q = np.asarray(lambda_q, float)
    with np.errstate(divide="ignore"):
        inverse = np.where(lambda_q > 0, 1.0 / (np.asarray(beta, float) * np.where(lambda_q > 0, lambda_q, 1.0)),
                           np.inf)
    return (inverse - np.asarray(lambda_x, float) / np.asarray(g, float))[()]


def powerlaw_exponent(alpha, beta):
    """The intermediate-scale exponent: p(q) ∝ |q - q̄|^{-α/β} (002 eq. (7), first line, for g u ≫ |λx|)."""
    return (-np.asarray(alpha, float) / np.asarray(beta, float))[()]


def powerlaw_decades(lambda_x, g, lambda_q, beta, mu):
    """log10(u_G/u_low), the width of the power-law range in u; 0 when the range is empty."""
    u_low = lower_scale(lambda_x, g, beta, mu)
    u_gauss = gauss_crossover(lambda_x, g, lambda_q, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(u_gauss > u_low, u_gauss / np.where(u_low > 0, u_low, 1.0), 1.0)
        decades = np.where(u_low > 0, np.log10(ratio), np.where(u_gauss > 0, np.inf, 0.0))
    return decades[()]


def closed_form_boundaries(lambda_x, g, lambda_q, alpha, beta, mu) -> dict:
    """Every boundary above and the power-law exponent as floats (u_F None when λx ≥ 0): the closed forms alone,
    valid at any parameters, including μ = 0 with λx < 0 where the density itself does not exist."""
    u_frustration = float(frustration_boundary(lambda_x, g))
    return {"u_frustration": None if np.isnan(u_frustration) else u_frustration,
            "u_gauss": float(gauss_crossover(lambda_x, g, lambda_q, beta)),
            "u_slope": float(slope_crossover(lambda_x, g, lambda_q, beta)),
            "powerlaw_exponent": float(powerlaw_exponent(alpha, beta)),
            "u_low": float(lower_scale(lambda_x, g, beta, mu)),
            "u_quartic": float(quartic_scale(g, beta, mu)),
            "powerlaw_decades": float(powerlaw_decades(lambda_x, g, lambda_q, beta, mu))}
