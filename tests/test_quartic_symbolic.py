"""The sympy derivation (quartic.symbolic) and the numeric code agree at random points."""

import numpy as np
import pytest
import sympy as sp

from statmech_nn.quartic import symbolic as sym
from statmech_nn.quartic.free_energy import free_energy_eq4, free_energy_exact, log_quartic_integral
from statmech_nn.quartic.regimes import frustration_boundary, gauss_crossover, powerlaw_exponent, slope_crossover


@pytest.fixture(scope="module")
def formulas():
    return sym.formulas()


RNG = np.random.default_rng(11)
POINTS = [dict(lambda_x=float(RNG.uniform(0.01, 1)), g=float(RNG.uniform(0.2, 3)), lambda_q=float(RNG.uniform(0.1, 3)),
               alpha=float(RNG.uniform(0.1, 2)), beta=float(RNG.uniform(0.3, 3)), u=float(RNG.uniform(0, 4)))
          for _ in range(5)]


def _subs(expression, point):
    return float(expression.subs({getattr(sym, k): v for k, v in point.items()}).evalf(30))


@pytest.mark.parametrize("point", POINTS)
def test_free_energies(formulas, point):
    args = (point["u"], point["lambda_x"], point["g"], point["lambda_q"], point["beta"])
    assert _subs(formulas["F_gaussian"], point) == pytest.approx(free_energy_exact(*args, 0.0), rel=1e-13)
    assert _subs(formulas["F_eq4"], point) == pytest.approx(free_energy_eq4(*args), rel=1e-13)
    constant = float(formulas["eq4_dropped_constant"].subs(sym.beta, point["beta"]))
    assert constant == pytest.approx(-np.log(2 * np.pi) / (2 * point["beta"]), rel=1e-14)


@pytest.mark.parametrize("A, B", [(0.7, 0.2), (3.0, 0.05), (0.01, 2.0)])
def test_quartic_integrals(formulas, A, B):
    positive = formulas["Z_quartic_positive"].subs({sym.A: A, sym.B: B})
    negative = formulas["Z_quartic_negative"].subs({sym.C: A, sym.B: B})
    assert float(sp.log(positive).evalf(30)) == pytest.approx(log_quartic_integral(A, B), rel=1e-13)
    assert float(sp.log(negative).evalf(30)) == pytest.approx(log_quartic_integral(-A, B), rel=1e-13)


@pytest.mark.parametrize("point", POINTS)
def test_boundaries_and_exponent(formulas, point):
    lx, g, lq, beta, alpha = (point[k] for k in ("lambda_x", "g", "lambda_q", "beta", "alpha"))
    assert _subs(formulas["u_gauss"], point) == pytest.approx(gauss_crossover(lx, g, lq, beta), rel=1e-12, abs=1e-14)
    assert _subs(formulas["u_slope"], point) == pytest.approx(slope_crossover(lx, g, lq, beta), rel=1e-12, abs=1e-14)
    assert _subs(formulas["u_frustration"], point | {"lambda_x": -lx}) == pytest.approx(frustration_boundary(-lx, g))
    assert _subs(formulas["powerlaw_exponent"], point) == pytest.approx(powerlaw_exponent(alpha, beta), rel=1e-14)


def test_source_crossover_and_rendering(formulas):
    assert formulas["u_gauss_source"] == sp.LambertW(sym.beta * sym.lambda_q) / (sym.beta * sym.lambda_q)
    text, latex = sym.render(), sym.render(latex=True)
    assert "LambertW" in text and "W" in latex and "u_gauss" in text
