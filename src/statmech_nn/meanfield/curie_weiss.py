"""The Curie–Weiss magnet H = -(J/2N)(Σ_i s_i)² - b Σ_i s_i, s_i = ±1 (001 slide 'Simple (relevant) model').

One model object, three independent estimates of the same thermodynamics (two of them here):

- :meth:`CurieWeiss.exact`: finite N, exact, by summing over the N+1 magnetization sectors
  (:mod:`statmech_nn.meanfield.cw_exact`);
- :meth:`CurieWeiss.mean_field`: N → ∞, every solution of m = tanh(β(Jm + b)) with its stability
  (:mod:`statmech_nn.meanfield.cw_mean_field`);
- finite N, heat-bath sampling: :func:`statmech_nn.sampling.spins.curie_weiss_monte_carlo`, which takes the
  local field (:meth:`CurieWeiss.local_field`) and the energy (:meth:`CurieWeiss.energy_per_spin`) from here.

The Hamiltonian parameters (J, b) are fixed at construction; the thermodynamic state (β, and N where it
matters) is given per call. The slides' H₁ = -(J/2N) Σ_ij s_i s_j - b Σ s_i, with the sum over all i, j,
is the same function (Σ_ij s_i s_j = (Σ s_i)²); over i ≠ j it differs by the constant J/2.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError
from ..params import require_finite
from .cw_exact import CurieWeissExact
from .cw_mean_field import CurieWeissMeanField

METHODS = ("exact", "mean-field")


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

    def local_field(self, m_other):
        """φ = J M_{≠i}/N + b at ``m_other`` = M_{≠i}/N: the field on one spin from all the others (the heat bath's)."""
        return self.j * m_other + self.b

    def energy_per_spin(self, m):
        """H/N = -J m²/2 - b m at the magnetization per spin m = M/N."""
        return -0.5 * self.j * m * m - self.b * m

    def observables(self, method: str, beta: float, n: int | None = None) -> dict[str, float]:
        """m, <|m|>, χ and the free energy per spin by ``method`` ('exact' or 'mean-field').

        Exact: m = <Σs>/N, χ = Nβ(<m²> - <m>²). Mean field: the stable solution (the positive one at b = 0
        below T_c). (Monte Carlo: :meth:`statmech_nn.sampling.spins.MonteCarloEstimate.observables`.)
        """
        if method not in METHODS:
            raise ParameterError("method", method, "one of " + ", ".join(METHODS))
        if method == "mean-field":
            result = self.mean_field(beta)
        elif n is None:
            raise ParameterError("n", None, f"an integer >= 1 (method {method!r} is at finite N)")
        else:
            result = self.exact(n, beta)
        return {"m": result.m, "m_abs": result.m_abs, "chi": result.chi,
                "free_energy_per_spin": result.free_energy_per_spin}
