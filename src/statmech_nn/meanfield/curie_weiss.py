"""The Curie–Weiss magnet H = -(J/2N)(Σ_i s_i)² - b Σ_i s_i, s_i = ±1 (001 slide 'Simple (relevant) model').

One model object, three independent estimates of the same thermodynamics:

- :meth:`CurieWeiss.exact`: finite N, exact, by summing over the N+1 magnetization sectors
  (:mod:`statmech_nn.meanfield.cw_exact`);
- :meth:`CurieWeiss.mean_field`: N → ∞, every solution of m = tanh(β(Jm + b)) with its stability
  (:mod:`statmech_nn.meanfield.cw_mean_field`);
- :meth:`CurieWeiss.monte_carlo`: finite N, heat-bath sampling (:mod:`statmech_nn.meanfield.montecarlo`).

The Hamiltonian parameters (J, b) are fixed at construction; the thermodynamic state (β, and N where it
matters) is given per call. The slides' H₁ = -(J/2N) Σ_ij s_i s_j - b Σ s_i, with the sum over all i, j,
is the same function (Σ_ij s_i s_j = (Σ s_i)²); over i ≠ j it differs by the constant J/2.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError
from ..params import require_finite, require_int, require_positive
from .cw_exact import CurieWeissExact
from .cw_mean_field import CurieWeissMeanField
from .montecarlo import MonteCarloEstimate, curie_weiss_monte_carlo

METHODS = ("exact", "mean-field", "mc")


@dataclass(frozen=True)
class CurieWeiss:
    """The Curie–Weiss magnet with coupling J and field b."""

    j: float = 1.0
    b: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "j", require_finite("j", self.j))
        object.__setattr__(self, "b", require_finite("b", self.b))

    @property
    def critical_temperature(self) -> float:
        """T_c = J (001), where the b = 0 paramagnet becomes unstable; 0 for J ≤ 0 (no ordering at T > 0)."""
        return max(self.j, 0.0)

    def exact(self, n: int, beta: float) -> CurieWeissExact:
        """The exact finite-N magnetization distribution and observables."""
        return CurieWeissExact(n, beta, self.j, self.b)

    def mean_field(self, beta: float) -> CurieWeissMeanField:
        """Every mean-field solution, its stability, free energy and susceptibility."""
        return CurieWeissMeanField(beta, self.j, self.b)

    def monte_carlo(self, n: int, beta: float, **options) -> MonteCarloEstimate:
        """Heat-bath Monte Carlo; ``options`` as in :func:`curie_weiss_monte_carlo` (sweeps, burn_in, seed, ...)."""
        beta = require_positive("beta", beta)
        return curie_weiss_monte_carlo(require_int("n", n, minimum=1), beta, self.j, self.b, **options)

    def observables(self, method: str, beta: float, n: int | None = None, **options) -> dict[str, float]:
        """m, <|m|>, χ and the free energy per spin by ``method`` ('exact', 'mean-field' or 'mc').

        Exact: m = <Σs>/N, χ = Nβ(<m²> - <m>²). Mean field: the stable solution (the positive one at b = 0
        below T_c). Monte Carlo: averages over the chains, free energy by thermodynamic integration.
        """
        if method not in METHODS:
            raise ParameterError("method", method, "one of " + ", ".join(METHODS))
        if method == "mean-field":
            result = self.mean_field(beta)
        elif n is None:
            raise ParameterError("n", None, f"an integer >= 1 (method {method!r} is at finite N)")
        elif method == "exact":
            result = self.exact(n, beta)
        else:
            result = self.monte_carlo(n, beta, **options)
        return {"m": result.m, "m_abs": result.m_abs, "chi": result.chi,
                "free_energy_per_spin": result.free_energy_per_spin}
