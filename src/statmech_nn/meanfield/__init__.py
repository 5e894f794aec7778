"""Mean-field networks of 001: the Curie–Weiss magnet and spin models with general couplings.

- :class:`CurieWeiss`: exact finite-N sums, mean field (every solution, stability);
- :class:`GeneralCouplings`: H = -(1/2N) sᵀWs - hᵀs for any real W, Hubbard–Stratonovich saddle points,
  susceptibility, one-loop term, T_c = λ_max(W_sym)/N, exact enumeration (N ≤ 20);
- :class:`LayerSpinModel`: a trained layer (weight, bias; numpy or torch) as that spin model;
- exponents and finite-size scaling (:mod:`.exponents`), claim checks (:mod:`.meanfield_claims`).

Models only: their heat-bath Monte Carlo is :mod:`statmech_nn.sampling.spins`, their scans
:mod:`statmech_nn.scan.meanfield_tasks`, their figures :mod:`statmech_nn.report.meanfield_figures`.
"""

from .bridge import LayerSpinModel
from .curie_weiss import CurieWeiss
from .cw_exact import CurieWeissExact, exact_observables
from .cw_mean_field import CurieWeissMeanField, mean_field_grid, mean_field_roots
from .exponents import exact_exponents, finite_size_scaling, mean_field_exponents
from .hs import GeneralCouplings, SaddlePoints
from .saddle import SolverOptions

__all__ = [
    "CurieWeiss", "CurieWeissExact", "CurieWeissMeanField", "GeneralCouplings", "LayerSpinModel",
    "SaddlePoints", "SolverOptions", "exact_exponents", "exact_observables", "finite_size_scaling",
    "mean_field_exponents", "mean_field_grid", "mean_field_roots",
]
