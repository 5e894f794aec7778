"""The quartic toy model of one non-trainable x and one trainable q (002 §2, eqs. (1)-(7)).

H(x, q) = λx (x-x̄)²/2 + g (q-q̄)² (x-x̄)²/2 + λq (q-q̄)²/2 + μ (x-x̄)⁴/4      (002 eq. (1) + our μ term)

μ ≥ 0 is ours: it keeps p(x|q) normalizable where λx + g (q-q̄)² ≤ 0 (the frustrated regime), where the
source's Gaussian expansion breaks down. Parameters are validated once, at construction, against the one
table of their ranges and defaults (:mod:`.parameters`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from . import regimes as rg
from .conditional import QuarticConditional
from .free_energy import free_energy_derivative_u, free_energy_eq4, free_energy_exact
from .hamiltonian import energy_ufunc
from .marginal import QuarticMarginal
from .parameters import PARAMETERS
from .parameters import packed as packed_parameters



@dataclass(frozen=True)
class QuarticModel:
    """H(x, q) of 002 eq. (1) with inverse temperature β (fast x) and Lagrange multiplier α (slow q)."""

    lambda_x: float
    g: float
    lambda_q: float
    alpha: float
    beta: float
    mu: float = 0.0
    x_bar: float = 0.0
    q_bar: float = 0.0

    def __post_init__(self):
        for parameter in PARAMETERS:
            object.__setattr__(self, parameter.name, parameter.require(getattr(self, parameter.name)))

    def to_dict(self) -> dict:
        return asdict(self)

    # Hamiltonian and free energy ----------------------------------------------------------
    def energy(self, x, q):
        """H(x, q), 002 eq. (1) plus μ(x-x̄)⁴/4 (:func:`.hamiltonian.energy_scalar`, broadcast)."""
        return energy_ufunc(np.asarray(x, float) - self.x_bar, np.asarray(q, float) - self.q_bar, self.lambda_x,
                            self.g, self.lambda_q, self.mu)

    def packed(self) -> np.ndarray:
        """The parameters as one float64 vector in the table's order, the one numba kernels read
        (:func:`.parameters.packed`)."""
        return packed_parameters(self.to_dict())

    def free_energy(self, q, exact: bool = True):
        """F(β, q). ``exact=True``: -(1/β) log ∫ e^{-βH} dx; ``exact=False``: 002 eq. (4).

        Eq. (4) is the μ = 0 result without the constant -(1/2β) log 2π (so exact = eq. (4) - log(2π)/(2β))
        and is NaN where g (q-q̄)² + λx ≤ 0.
        """
        u = (np.asarray(q, float) - self.q_bar) ** 2
        if exact:
            return free_energy_exact(u, self.lambda_x, self.g, self.lambda_q, self.beta, self.mu)
        return free_energy_eq4(u, self.lambda_x, self.g, self.lambda_q, self.beta)

    def free_energy_gradient(self, q):
        """∂F/∂q = 2 (q - q̄) ∂F/∂u = (λq + g <(x-x̄)²>_q) (q - q̄): the mean force on the slow variable."""
        d = np.asarray(q, float) - self.q_bar
        return 2.0 * d * free_energy_derivative_u(d * d, self.lambda_x, self.g, self.lambda_q, self.beta, self.mu)

    # distributions ------------------------------------------------------------------------
    def conditional(self, q) -> QuarticConditional:
        """p(x|q) ∝ exp(-βH(x, q)), exactly normalized (002 eq. (3))."""
        return QuarticConditional(self, q)

    @cached_property
    def _marginal(self) -> QuarticMarginal:
        return QuarticMarginal(self)

    def marginal(self) -> QuarticMarginal:
        """p(q) ∝ exp(-αF(β, q)), normalized (002 eq. (6) with the exact F); raises NotNormalizableError."""
        return self._marginal

    def fluctuation_law_parameters(self) -> dict:
        """The (c, s, σ) of the law p(q - q̄) ∝ (1 + u/c²)^{-s} e^{-u/2σ²} (002 eqs. (6), (21)) that a theory fit
        of samples of p(q) should recover: s = α/2β, σ = (αλq)^{-1/2} (inf when λq = 0) and c = √u_low, exact
        when μ = 0 and λx > 0 (then p(q) ∝ (g u + λx)^{-α/2β} e^{-αλq u/2})."""
        u_low = rg.lower_scale(self.lambda_x, self.g, self.beta, self.mu)
        return {"c": float(np.sqrt(u_low)), "s": self.alpha / (2.0 * self.beta),
                "sigma": float(1.0 / np.sqrt(self.alpha * self.lambda_q)) if self.lambda_q > 0 else float("inf")}

    # regimes ------------------------------------------------------------------------------
    def regimes(self) -> QuarticRegimes:
        """Regime boundaries in u = (q-q̄)², the power-law exponent and the probability mass of each regime."""
        u_low = float(rg.lower_scale(self.lambda_x, self.g, self.beta, self.mu))
        u_gauss = float(rg.gauss_crossover(self.lambda_x, self.g, self.lambda_q, self.beta))
        u_frustration = float(rg.frustration_boundary(self.lambda_x, self.g))
        marginal = self.marginal()
        u_top = max(u_gauss, u_low)
        below = float(marginal.mass_between(0.0, u_low))
        powerlaw = float(marginal.mass_between(u_low, u_top))
        return QuarticRegimes(
            u_frustration=None if np.isnan(u_frustration) else u_frustration,
            u_low=u_low,
            u_quartic=float(rg.quartic_scale(self.g, self.beta, self.mu)),
            u_gauss=u_gauss,
            u_slope=float(rg.slope_crossover(self.lambda_x, self.g, self.lambda_q, self.beta)),
            powerlaw_exponent=float(rg.powerlaw_exponent(self.alpha, self.beta)),
            powerlaw_decades=float(rg.powerlaw_decades(self.lambda_x, self.g, self.lambda_q, self.beta, self.mu)),
            mass_frustrated=below if self.lambda_x < 0 else 0.0,
            mass_core=below if self.lambda_x >= 0 else 0.0,
            mass_powerlaw=powerlaw,
            mass_gauss=float(marginal.mass_between(u_top, np.inf)),
        )


@dataclass(frozen=True)
class QuarticRegimes:
    """Where each regime of p(q) lies (in u = (q-q̄)²) and how much probability it holds.

    Below u_low the dynamics is frustrated (λx < 0) or the density is flat (the core, λx ≥ 0); between
    u_low and u_gauss p(q) ∝ |q-q̄|^{powerlaw_exponent}; above u_gauss it is Gaussian (002 eq. (7)).
    """

    u_frustration: float | None
    u_low: float
    u_quartic: float
    u_gauss: float
    u_slope: float
    powerlaw_exponent: float
    powerlaw_decades: float
    mass_frustrated: float
    mass_core: float
    mass_powerlaw: float
    mass_gauss: float

    def to_dict(self) -> dict:
        return asdict(self)
