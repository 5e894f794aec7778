"""p(q) ∝ exp(-αF(β, q)) (002 eq. (6), exact F) against independent mpmath quadrature, and its scipy-like API."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import mp_reference as ref
from statmech_nn.errors import NotNormalizableError, ParameterError
from statmech_nn.quartic import QuarticModel

CASES = {
    "lambda_x>0, mu=0": (QuarticModel(0.2, 1.0, 1.0, 0.6, 1.0), [0.2, 1.0]),
    "lambda_x>0, mu>0": (QuarticModel(0.05, 2.0, 0.5, 1.2, 0.8, mu=0.01, q_bar=0.3), [0.05, 0.5, 2.0]),
    "lambda_x<0, mu>0 (frustrated)": (QuarticModel(-0.1, 1.0, 1.0, 0.5, 1.0, mu=0.01), [0.1, 0.3, 1.0]),
    "lambda_x<0, deep wells": (QuarticModel(-1.0, 2.0, 0.5, 2.0, 1.5, mu=0.3), [0.5, 0.7, 2.0]),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    model, scales = CASES[request.param]
    return model, ref.Marginal(model, scales)


def test_pdf_matches_high_precision_quadrature_to_1e8(case):
    model, reference = case
    q = model.q_bar + np.array([-2.2, -0.7, 0.0, 0.05, 0.31, 1.3, 3.0])
    expected = np.array([float(reference.pdf(v)) for v in q])
    assert np.max(np.abs(model.marginal().pdf(q) / expected - 1.0)) < 1e-8


def test_variance_and_cdf_match_quadrature(case):
    model, reference = case
    marginal = model.marginal()
    assert marginal.var() == pytest.approx(float(reference.second_moment), rel=1e-8)
    for t in (0.07, 0.6, 1.9):
        tail = float(reference.tail(t))
        assert marginal.cdf(model.q_bar - t) == pytest.approx(tail / 2, rel=1e-8)
        assert marginal.sf(model.q_bar + t) == pytest.approx(tail / 2, rel=1e-8)


def test_source_lambert_case_with_integrable_singularity():
    """λx = 0, μ = 0: p(q) ∝ |q|^{-α/β} e^{-αλq q²/2}, normalized by Γ functions in closed form."""
    alpha, beta, lambda_q = 0.6, 1.0, 2.0
    model = QuarticModel(0.0, 1.0, lambda_q, alpha, beta)
    s, c = alpha / beta, alpha * lambda_q / 2
    from scipy.special import gamma
    norm = gamma((1 - s) / 2) * c ** (-(1 - s) / 2)  # ∫ |q|^{-s} e^{-c q²} dq over the line
    q = np.array([0.01, 0.5, 2.0])
    # p(q) = (g q²)^{-α/2β} e^{-αλq q²/2} / norm, with the constant factors of F cancelling
    assert np.allclose(model.marginal().pdf(q), q ** (-s) * np.exp(-c * q * q) / norm, rtol=1e-10)
    assert model.marginal().var() == pytest.approx(gamma((3 - s) / 2) / gamma((1 - s) / 2) / c, rel=1e-10)


@pytest.mark.parametrize("parameters, cause", [
    (dict(lambda_x=-0.1, g=1, lambda_q=1, alpha=0.5, beta=1), "set mu > 0"),
    (dict(lambda_x=0.0, g=1, lambda_q=1, alpha=1.5, beta=1), "needs alpha < beta"),
    (dict(lambda_x=0.1, g=1, lambda_q=0, alpha=0.5, beta=1), "needs alpha > beta"),
])
def test_non_normalizable_marginals_say_why(parameters, cause):
    with pytest.raises(NotNormalizableError, match=cause):
        QuarticModel(**parameters).marginal()


def test_heavy_power_law_tail_has_infinite_variance():
    assert np.isinf(QuarticModel(0.5, 1.0, 0.0, 3.0, 1.0).marginal().var())
    finite = QuarticModel(0.5, 1.0, 0.0, 5.0, 1.0).marginal()  # tail |q|^-5: finite second moment
    assert finite.var() == pytest.approx(integrate.quad(lambda q: q * q * finite.pdf(q), -np.inf, np.inf)[0], rel=1e-7)


# Scales many decades apart (|λx| or μ near the float minimum): the quadrature's panels must still resolve
# p(q). Each model is compared with an mpmath reference of a model it equals to double precision
# (the difference is O(|λx|/√μ) or O(μ) relative).
FAR_APART_SCALES = {
    "lambda_x subnormal, mu>0": (QuarticModel(2.225073858507e-311, 1.0, 1.0, 1.0, 1.0, mu=0.25),
                                 QuarticModel(0.0, 1.0, 1.0, 1.0, 1.0, mu=0.25), [0.5, 1.0]),
    "lambda_x=1e-300, mu>0": (QuarticModel(1e-300, 1.0, 1.0, 1.0, 1.0, mu=0.25),
                              QuarticModel(0.0, 1.0, 1.0, 1.0, 1.0, mu=0.25), [0.5, 1.0]),
    "lambda_x=-1e-250, mu>0": (QuarticModel(-1e-250, 2.0, 0.5, 0.7, 1.3, mu=0.1),
                               QuarticModel(0.0, 2.0, 0.5, 0.7, 1.3, mu=0.1), [0.3, 1.0]),
    "mu=1e-280, lambda_x>0": (QuarticModel(0.2, 1.0, 1.0, 0.6, 1.0, mu=1e-280),
                              QuarticModel(0.2, 1.0, 1.0, 0.6, 1.0), [0.2, 1.0]),
}


@pytest.mark.parametrize("name", list(FAR_APART_SCALES))
def test_scales_hundreds_of_decades_apart(name):
    model, equivalent, scales = FAR_APART_SCALES[name]
    reference = ref.Marginal(equivalent, scales)
    marginal = model.marginal()
    q = np.array([1e-120, 1e-5, 0.05, 0.31, 1.3, 3.0])
    expected = np.array([float(reference.pdf(v)) for v in q])
    assert np.max(np.abs(marginal.pdf(q) / expected - 1.0)) < 1e-10
    assert marginal.var() == pytest.approx(float(reference.second_moment), rel=1e-10)
    for t in (1e-60, 0.07, 1.9):
        assert marginal.sf(t) == pytest.approx(float(reference.tail(t)) / 2, rel=1e-10)


@pytest.mark.parametrize("lambda_x, lambda_q, alpha", [(1e-200, 0.5, 2.5), (1e-200, 1.0, 0.9), (1e-120, 2.0, 1.7),
                                                     (1e-300, 1.0, 2.5)])
def test_near_singular_power_law_head_against_gamma_functions(lambda_x, lambda_q, alpha):
    """μ = 0, g = β = 1, tiny λx: p ∝ (λx + t²)^{-k} e^{-c t²}, k = α/2, c = αλq/2. To O(λx^{min(1, 3/2 - k)})
    ⟨t²⟩ = [Γ(3/2 - k)/(2 c^{3/2-k})] / M0 with M0 = √π Γ(k - 1/2)/(2Γ(k)) λx^{1/2-k} for k > 1/2, and
    M0 = Γ(1/2 - k)/(2 c^{1/2-k}) for k < 1/2."""
    from scipy.special import gamma
    k, c = alpha / 2, alpha * lambda_q / 2
    second = gamma(1.5 - k) / (2 * c ** (1.5 - k))
    mass = (np.sqrt(np.pi) * gamma(k - 0.5) / (2 * gamma(k)) * lambda_x ** (0.5 - k) if k > 0.5
            else gamma(0.5 - k) / (2 * c ** (0.5 - k)))
    assert QuarticModel(lambda_x, 1.0, lambda_q, alpha, 1.0).marginal().var() == pytest.approx(second / mass, rel=1e-8)


def test_frustrated_peak_beyond_float_resolution_is_refused():
    with pytest.raises(ParameterError, match="mu"):
        QuarticModel(-0.3, 1.0, 1.0, 1.0, 1.0, mu=1e-20).marginal()


model_parameters = st.fixed_dictionaries({
    "lambda_x": st.floats(-0.5, 0.5), "g": st.floats(0.2, 5.0), "lambda_q": st.floats(0.05, 5.0),
    "alpha": st.floats(0.1, 3.0), "beta": st.floats(0.3, 3.0), "mu": st.floats(1e-3, 1.0),
})


@settings(max_examples=25, deadline=None)
@given(model_parameters)
def test_normalized_symmetric_and_monotone(parameters):
    marginal = QuarticModel(**parameters).marginal()
    mass = integrate.quad(marginal.pdf, 0, np.inf, limit=200, epsabs=0, epsrel=1e-10)[0]
    assert 2 * mass == pytest.approx(1.0, abs=1e-7)
    q = np.linspace(-5, 5, 41)
    cdf = marginal.cdf(q)
    assert np.all(np.diff(cdf) >= 0) and np.allclose(cdf + marginal.cdf(-q), 1.0, atol=1e-12)
    assert np.all(np.diff(marginal.pdf(q[20:])) <= 0)  # ∂F/∂u > 0: p(q) falls away from q̄


@settings(max_examples=25, deadline=None)
@given(model_parameters, st.lists(st.floats(1e-9, 1 - 1e-9), min_size=1, max_size=8))
def test_ppf_inverts_cdf(parameters, probabilities):
    marginal = QuarticModel(**parameters).marginal()
    p = np.array(probabilities)
    assert np.allclose(marginal.cdf(marginal.ppf(p)), p, rtol=1e-10, atol=1e-14)


def test_rvs_is_seeded_and_distributed_as_the_cdf():
    marginal = CASES["lambda_x<0, mu>0 (frustrated)"][0].marginal()
    a, b = marginal.rvs(20000, random_state=5), marginal.rvs(20000, random_state=5)
    assert np.array_equal(a, b)
    assert stats.kstest(a, marginal.cdf).pvalue > 1e-3
    assert not np.array_equal(a, marginal.rvs(20000, random_state=6))


def test_the_fluctuation_law_parameters_give_the_marginal_when_mu_is_zero():
    """μ = 0, λx > 0: p(q) is 002 eq. (6)'s law with c² = λx/g, s = α/2β, σ² = 1/(αλq), both normalized, so the
    two densities agree (1e-8 relative, the marginal's quadrature); without λq there is no Gaussian cutoff."""
    from statmech_nn.compare.fits import FluctuationLaw

    model = QuarticModel(lambda_x=0.3, g=1.5, lambda_q=0.4, alpha=3.0, beta=1.0, q_bar=0.4)
    parameters = model.fluctuation_law_parameters()
    assert parameters["c"] == pytest.approx(np.sqrt(0.3 / 1.5), rel=1e-15) and parameters["s"] == 1.5
    assert parameters["sigma"] == pytest.approx(1 / np.sqrt(3.0 * 0.4), rel=1e-15)
    q = 0.4 + np.array([0.0, 0.05, 0.3, 1.0, 2.5])
    law = FluctuationLaw(parameters["c"], parameters["s"], parameters["sigma"])
    np.testing.assert_allclose(model.marginal().pdf(q), law.pdf(q - 0.4), rtol=1e-8)
    assert QuarticModel(0.3, 1.5, 0.0, 3.0, 1.0).fluctuation_law_parameters()["sigma"] == np.inf
