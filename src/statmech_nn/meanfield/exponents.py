"""Critical exponents of the Curie–Weiss magnet by fits close to T_c, and finite-size scaling of the exact solution.

Mean-field theory (001 slide 'Simple (relevant) model': m ∼ |t|^{1/2}, <s_i s_j> ∼ |t|^{-1}) predicts

    m ∝ (-t)^β, β = 1/2 (b = 0, T < T_c);  χ ∝ t^{-γ}, γ = 1 (b = 0, T > T_c);  m ∝ b^{1/δ}, δ = 3 (T = T_c),

with t = (T - T_c)/T_c. Each exponent is the slope of a least-squares line through log-log data on a
geometric grid; the data come from the mean-field solution or from the exact finite-N sums (where N must
be large enough that |t| N^{1/2} ≫ 1 and b N^{3/4} ≫ 1 across the fitted range).

At T_c the exact solution obeys finite-size scaling in N with the mean-field "ν̄ = 2" (the magnetization
scales as N^{-1/4}): the peak of χ' = Nβ(<m²> - <|m|>²) grows as N^{γ/ν̄} = N^{1/2}, and the Binder
cumulants U_N(T) = 1 - <m⁴>/(3<m²>²) of different N cross at T_c, at the universal value
U* = 1 - Γ(1/4)²/(12 Γ(3/4)²) ≈ 0.2705 (the distribution of m N^{1/4} at T_c is ∝ exp(-x⁴/12)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gamma as gamma_function

from ..errors import ConvergenceError, ParameterError
from ..params import require_int, require_positive
from .cw_exact import exact_observables
from .cw_mean_field import mean_field_grid

BINDER_AT_TC = 1.0 - gamma_function(0.25) ** 2 / (12.0 * gamma_function(0.75) ** 2)


@dataclass(frozen=True)
class ExponentFit:
    """One fitted exponent: the value, its least-squares standard error and the range it was fitted over."""

    name: str
    value: float
    stderr: float
    expected: float
    low: float
    high: float

    @property
    def relative_error(self) -> float:
        return abs(self.value - self.expected) / self.expected

    def to_dict(self) -> dict:
        return {**asdict(self), "relative_error": self.relative_error}


def log_log_slope(x, y) -> tuple[float, float]:
    """Slope of log y against log x by least squares, and its standard error."""
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ConvergenceError("power-law fit: the data hold zeros or non-finite values in the fitted range")
    design = np.vstack([x, np.ones_like(x)]).T
    coef, residual, *_ = np.linalg.lstsq(design, y, rcond=None)
    dof = max(x.size - 2, 1)
    sigma2 = (residual[0] / dof) if residual.size else 0.0
    return float(coef[0]), float(np.sqrt(sigma2 / np.sum((x - x.mean()) ** 2)))


def critical_exponents(observables, j: float = 1.0, reduced=(1e-4, 1e-2), fields=(1e-6, 1e-3),
                       points: int = 25) -> dict[str, ExponentFit]:
    """β, γ, δ from ``observables(beta, b) -> {'m_abs': ..., 'chi': ...}`` (arrays) near T_c = J.

    ``reduced``: the range of |t| for β (below T_c) and γ (above); ``fields``: the range of b for δ at T_c.
    """
    j = require_positive("j", j)
    points = require_int("points", points, minimum=3)
    t = np.geomspace(*reduced, points)
    b = np.geomspace(*fields, points)
    fits = {}
    slope, err = log_log_slope(t, observables(1.0 / (j * (1.0 - t)), 0.0)["m_abs"])
    fits["beta"] = ExponentFit("beta", slope, err, 0.5, *reduced)
    slope, err = log_log_slope(t, observables(1.0 / (j * (1.0 + t)), 0.0)["chi"])
    fits["gamma"] = ExponentFit("gamma", -slope, err, 1.0, *reduced)
    slope, err = log_log_slope(b, observables(np.full(points, 1.0 / j), b)["m_abs"])
    fits["delta"] = ExponentFit("delta", 1.0 / slope, err / slope**2, 3.0, *fields)
    return fits


def mean_field_exponents(j: float = 1.0, reduced=(1e-4, 1e-2), fields=(1e-6, 1e-3), points: int = 25):
    """The exponents of the mean-field solution (stable branch)."""
    def observables(beta, b):
        grid = mean_field_grid(beta, j, b)
        return {"m_abs": np.abs(grid["m"]), "chi": grid["chi"]}
    return critical_exponents(observables, j, reduced, fields, points)


def exact_exponents(n: int, j: float = 1.0, reduced=(5e-3, 5e-2), fields=(3e-4, 3e-3), points: int = 15):
    """The exponents of the exact N-spin solution (<|m|> for β and δ, χ for γ); N ≳ 10⁶ for the default ranges."""
    n = require_int("n", n, minimum=2)
    return critical_exponents(lambda beta, b: exact_observables(n, beta, j, b), j, reduced, fields, points)


def susceptibility_peak(n: int, j: float = 1.0) -> tuple[float, float]:
    """(T_peak, χ'_max): the maximum over T of χ' = Nβ(<m²> - <|m|>²) at b = 0, near T_c(1 - 1.24 N^{-1/2})."""
    n = require_int("n", n, minimum=2)
    j = require_positive("j", j)
    width = 4.0 / np.sqrt(n)
    result = minimize_scalar(lambda T: -exact_observables(n, 1.0 / T, j, 0.0)["chi_abs"],
                             bounds=(j * (1.0 - width), j * (1.0 + 0.25 * width)), method="bounded",
                             options={"xatol": 1e-10 * j})
    return float(result.x), float(-result.fun)


def binder_crossing(n1: int, n2: int, j: float = 1.0) -> float:
    """The temperature where the Binder cumulants of N1 and N2 spins (b = 0) cross, near T_c = J."""
    j = require_positive("j", j)
    def difference(T):
        return exact_observables(n1, 1.0 / T, j, 0.0)["binder"] - exact_observables(n2, 1.0 / T, j, 0.0)["binder"]
    low, high = j * (1.0 - 2.0 / np.sqrt(min(n1, n2))), j * (1.0 + 2.0 / np.sqrt(min(n1, n2)))
    if difference(low) * difference(high) > 0:
        raise ParameterError("sizes", (n1, n2), "two different sizes whose Binder cumulants cross near T_c")
    return float(brentq(difference, low, high, xtol=1e-14 * j))


def finite_size_scaling(sizes, j: float = 1.0) -> xr.Dataset:
    """χ'_max(N), T_peak(N), the Binder crossings of consecutive sizes and the fitted exponent of χ'_max ∝ N^{γ/ν̄}."""
    sizes = np.array(sorted({require_int("n", n, minimum=2) for n in sizes}))
    if sizes.size < 2:
        raise ParameterError("sizes", sizes.tolist(), "at least two different sizes")
    peaks = np.array([susceptibility_peak(n, j) for n in sizes])
    crossings = np.array([binder_crossing(a, b, j) for a, b in zip(sizes[:-1], sizes[1:])])
    at_crossing = np.array([exact_observables(b, 1.0 / T, j, 0.0)["binder"] for b, T in zip(sizes[1:], crossings)])
    slope, err = log_log_slope(sizes, peaks[:, 1])
    return xr.Dataset(
        {
            "t_peak": ("n", peaks[:, 0], {"long_name": "temperature of the maximum of chi'", "units": "J"}),
            "chi_peak": ("n", peaks[:, 1], {"long_name": "max_T N beta (<m^2> - <|m|>^2)", "units": "1/J"}),
            "binder_crossing": ("pair", crossings, {"long_name": "T where U_N1 = U_N2", "units": "J"}),
            "binder_at_crossing": ("pair", at_crossing, {"long_name": "Binder cumulant at the crossing"}),
        },
        coords={"n": sizes, "pair": np.arange(crossings.size), "n1": ("pair", sizes[:-1]), "n2": ("pair", sizes[1:])},
        attrs={"chi_peak_exponent": slope, "chi_peak_exponent_stderr": err, "expected_chi_peak_exponent": 0.5,
               "binder_universal": BINDER_AT_TC, "critical_temperature": j,
               "source": "001 slide 'Simple (relevant) model'"},
    )
