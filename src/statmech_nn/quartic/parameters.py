"""The quartic model's parameters, once: name, symbol, allowed range, default, source equation (002 §2).

Every other list of them is derived from :data:`PARAMETERS`: the model's validation
(:class:`~statmech_nn.quartic.model.QuarticModel`), the command-line options (``statmech-nn quartic``, ``statmech-nn
sample quartic``), the scan's grid axes and their range checks (:mod:`statmech_nn.scan.grid`), the batch
evaluator's arrays (:class:`statmech_nn.quartic.quadrature.Params`) and the packed vector the numba kernels read
(:func:`packed`, positions :data:`INDEX`). There is one order, the table's: the model's fields, the kernels'
vector and every positional kernel argument list follow it; everything else passes the parameters by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..params import require_finite, require_nonnegative, require_positive

# allowed range: (scalar validator that names the parameter, vectorized test)
_RANGES = {
    "finite": (require_finite, lambda v: np.isfinite(v)),
    "> 0": (require_positive, lambda v: np.isfinite(v) & (v > 0)),
    ">= 0": (require_nonnegative, lambda v: np.isfinite(v) & (v >= 0)),
}


@dataclass(frozen=True)
class Parameter:
    """One parameter of H(x, q) or of the two temperatures; ``default`` None means required."""

    name: str
    symbol: str
    allowed: str
    default: float | None
    source: str
    meaning: str

    @property
    def flag(self) -> str:
        """The command-line option, e.g. ``--lambda-x``."""
        return "--" + self.name.replace("_", "-")

    @property
    def required(self) -> bool:
        return self.default is None

    def require(self, value) -> float:
        """``value`` as a float in the allowed range, or a ParameterError naming the parameter and the range."""
        return _RANGES[self.allowed][0](self.name, value)

    def holds(self, values) -> np.ndarray:
        """Elementwise: is each of ``values`` in the allowed range?"""
        return _RANGES[self.allowed][1](np.asarray(values, float))


PARAMETERS = (
    Parameter("lambda_x", "λx", "finite", None, "002 eq. (1)", "curvature of H in x at q = q̄ (negative: frustrated)"),
    Parameter("g", "g", "> 0", None, "002 eq. (1)", "coupling of (q - q̄)² to (x - x̄)²"),
    Parameter("lambda_q", "λq", ">= 0", None, "002 eq. (1)", "curvature of H in q"),
    Parameter("alpha", "α", "> 0", None, "002 eq. (6)", "inverse temperature (Lagrange multiplier) of the slow q"),
    Parameter("beta", "β", "> 0", None, "002 eq. (3)", "inverse temperature of the fast x"),
    Parameter("mu", "μ", ">= 0", 0.0, "ours: + μ (x - x̄)⁴/4 in H",
              "quartic term that keeps p(x|q) normalizable where λx + g (q - q̄)² ≤ 0"),
    Parameter("x_bar", "x̄", "finite", 0.0, "002 eq. (1)", "centre of x"),
    Parameter("q_bar", "q̄", "finite", 0.0, "002 eq. (1)", "centre of q"),
)
BY_NAME = {p.name: p for p in PARAMETERS}
NAMES = tuple(p.name for p in PARAMETERS)
REQUIRED = tuple(p.name for p in PARAMETERS if p.required)
# the centres only shift p(q): the shape of the marginal (regimes, scans) depends on the other six
SHAPE_PARAMETERS = tuple(name for name in NAMES if name not in ("x_bar", "q_bar"))
# the position of each parameter in the packed vector of :func:`packed` (the table's order)
INDEX = {name: position for position, name in enumerate(NAMES)}


def packed(values: Mapping[str, float]) -> np.ndarray:
    """The parameters in ``values`` (by name) as one float64 vector in the table's order: what numba kernels read,
    at the positions :data:`INDEX`."""
    return np.array([values[name] for name in NAMES], float)

# Where p(q) and the scan's quantities are computed to 1e-8 (checked against 40-digit quadrature,
# tests/test_hostile_inputs.py): beyond these bounds the panel quadrature loses its scales (20-46 % off at β = 1e308,
# g = 1e308, α = 1e-306), so the marginal and the scan refuse instead of answering.
COMPUTABLE = {"beta": (0.0, 1e300), "g": (0.0, 1e50), "alpha": (1e-50, np.inf)}


def require_computable(name: str, values) -> None:
    """Refuse ``values`` of parameter ``name`` outside :data:`COMPUTABLE` (a ParameterError naming it)."""
    if name not in COMPUTABLE:
        return
    low, high = COMPUTABLE[name]
    values = np.asarray(values, float)
    if values.size and (values.min() < low or values.max() > high):
        bad = values.min() if values.min() < low else values.max()
        raise ParameterError(name, float(bad), f"within [{low:g}, {high:g}], where p(q) is computed to 1e-8")
