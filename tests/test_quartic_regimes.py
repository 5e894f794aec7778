"""Regime boundaries (002 eqs. (6)-(7)): each satisfies its defining equation to 1e-12."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import lambertw

from statmech_nn.errors import ParameterError
from statmech_nn.quartic import QuarticModel
from statmech_nn.quartic.regimes import gauss_crossover, gauss_excess, lambertw_of_exp, slope_crossover


@settings(max_examples=200, deadline=None)
@given(st.floats(-2, 2), st.floats(0.05, 20), st.floats(0.01, 20), st.floats(0.05, 20))
def test_gauss_crossover_solves_its_defining_equation(lambda_x, g, lambda_q, beta):
    """-log(g u_G + λx) = β λq u_G, with g u_G + λx = g·(u_G + λx/g) taken without cancellation.

    Where βλq|λx|/g > ~700 (λx < 0) the excess is below the smallest normal double: u_G = u_F to
    double precision (checked separately), and the residual cannot be evaluated in linear space.
    Tolerance 1e-11 relative: for λx > 0 and small |u_G| the left side barely depends on u_G, so the residual
    measures u_G's own relative accuracy through the Lambert-W branch, ~2e-12 at worst (λx=2, g=0.05, λq=β=14).
    """
    assume(np.log(beta * lambda_q / g) + beta * lambda_q * lambda_x / g > -700)
    u = gauss_crossover(lambda_x, g, lambda_q, beta)
    argument = g * gauss_excess(lambda_x, g, lambda_q, beta)
    assert -np.log(argument) == pytest.approx(beta * lambda_q * u, rel=1e-11, abs=1e-12)


def test_gauss_crossover_meets_the_frustration_boundary_when_the_excess_underflows():
    assert gauss_crossover(-1.0, 0.0546875, 5.0, 8.0) == pytest.approx(1.0 / 0.0546875, rel=1e-15)


def test_gauss_crossover_is_the_sources_for_lambda_x_zero_and_g_one():
    for bl in (0.01, 0.7, 3.0, 250.0):
        assert gauss_crossover(0.0, 1.0, bl, 1.0) == pytest.approx(lambertw(bl).real / bl, rel=1e-14)
    assert gauss_crossover(-0.05, 2.0, 0.7, 1.8) != pytest.approx(lambertw(0.7 * 1.8).real / (0.7 * 1.8), rel=1e-3)


@settings(max_examples=100, deadline=None)
@given(st.floats(-2, 2), st.floats(0.05, 20), st.floats(0.01, 20), st.floats(0.05, 20), st.floats(0.1, 5))
def test_slope_crossover_equalizes_log_slopes(lambda_x, g, lambda_q, beta, alpha):
    u = slope_crossover(lambda_x, g, lambda_q, beta)
    if g * u + lambda_x <= 0 or u <= 0:
        return
    power = alpha / (2 * beta) * g * u / (g * u + lambda_x)  # -d log (g u + λx)^{-α/2β} / d log u
    gauss = alpha * lambda_q * u / 2                          # -d log exp(-αλq u/2) / d log u
    assert power == pytest.approx(gauss, rel=1e-12)


def test_lambertw_of_exp_beyond_overflow():
    for L in (-50.0, 0.0, 10.0, 699.0, 701.0, 5000.0):
        w = lambertw_of_exp(L)
        assert w + np.log(w) == pytest.approx(L, rel=1e-14, abs=1e-14)


def test_regimes_of_the_frustrated_model():
    model = QuarticModel(-0.01, 1.0, 1.0, 0.5, 1.0, mu=1e-4)
    regimes = model.regimes()
    assert regimes.u_frustration == pytest.approx(0.01)
    assert model.lambda_x + model.g * regimes.u_frustration == pytest.approx(0.0, abs=1e-15)
    assert regimes.powerlaw_exponent == -0.5
    assert regimes.mass_core == 0.0
    total = regimes.mass_frustrated + regimes.mass_powerlaw + regimes.mass_gauss
    assert total == pytest.approx(1.0, abs=1e-12)
    assert regimes.powerlaw_decades == pytest.approx(np.log10(regimes.u_gauss / regimes.u_low))
    core = QuarticModel(0.01, 1.0, 1.0, 0.5, 1.0).regimes()
    assert core.u_frustration is None and core.mass_frustrated == 0.0 and core.mass_core > 0


@pytest.mark.parametrize("name, value", [("g", 0.0), ("alpha", -1.0), ("beta", 0.0), ("mu", -0.1), ("lambda_q", -1.0),
                                         ("lambda_x", float("nan"))])
def test_invalid_parameters_are_named(name, value):
    parameters = dict(lambda_x=0.1, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0) | {name: value}
    with pytest.raises(ParameterError, match=name):
        QuarticModel(**parameters)
