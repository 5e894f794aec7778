"""p(x|q) ∝ exp(-βH) (002 eq. (3) with our quartic term): normalization, moments, bimodality, exact sampling."""

import numpy as np
import pytest
from scipy import integrate, stats

from statmech_nn.errors import NotNormalizableError
from statmech_nn.quartic import QuarticModel

MODEL = QuarticModel(-0.5, 1.0, 1.0, 0.5, 1.0, mu=0.05, x_bar=0.4)


@pytest.mark.parametrize("q", [0.0, 0.5, 0.8, 2.0])
def test_normalized_with_the_quadrature_variance(q):
    conditional = MODEL.conditional(q)
    assert integrate.quad(conditional.pdf, -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0] == pytest.approx(1.0, abs=1e-10)
    second = integrate.quad(lambda x: (x - 0.4) ** 2 * conditional.pdf(x), -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
    assert conditional.var() == pytest.approx(second, rel=1e-9)
    assert conditional.cdf(0.4 + 1.3) == pytest.approx(integrate.quad(conditional.pdf, -np.inf, 1.7)[0], rel=1e-9)


def test_bimodal_exactly_when_the_curvature_is_negative():
    q = np.linspace(-1.5, 1.5, 61)
    conditional = MODEL.conditional(q)
    assert np.array_equal(conditional.is_bimodal, -0.5 + q * q < 0)
    modes = MODEL.conditional(0.3).modes()
    assert np.allclose(modes, 0.4 + np.array([-1, 1]) * np.sqrt((0.5 - 0.09) / 0.05))
    assert MODEL.conditional(1.0).modes().tolist() == [0.4]


def test_exact_sampler_matches_the_distribution_for_each_q():
    q = np.array([0.0, 0.6, 1.5])
    samples = MODEL.conditional(q).rvs(size=(40000, 3), random_state=2)
    for column, qi in enumerate(q):
        assert stats.kstest(samples[:, column], MODEL.conditional(qi).cdf).pvalue > 1e-3
    assert np.array_equal(samples, MODEL.conditional(q).rvs(size=(40000, 3), random_state=2))


def test_gaussian_case_and_the_error_where_it_does_not_exist():
    gaussian = QuarticModel(0.3, 1.0, 1.0, 1.0, 2.0).conditional(0.5)
    assert gaussian.var() == pytest.approx(1 / (2.0 * (0.3 + 0.25)))
    with pytest.raises(NotNormalizableError, match="not normalizable"):
        QuarticModel(-0.3, 1.0, 1.0, 1.0, 2.0).conditional(0.1)
