"""Checks of the quartic model's claims in 002 §2 (run by ``statmech-nn check`` from validation/closed_forms).

Each function returns (deviation, detail); the claim file states the tolerance. Every check compares
our implementation with an independent computation: adaptive quadrature (scipy), a closed form in
confluent hypergeometric functions, or the claim's own defining equation.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, optimize, special

from ..checks import registered_check
from .model import QuarticModel
from .regimes import gauss_crossover


@registered_check
def conditional_is_gaussian(lambda_x, g, beta, q_values):
    """002 eq. (3) at μ = 0: p(x|q) is normalized with variance 1/(β(λx + g u)) (checked by quadrature)."""
    model = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=1.0, alpha=1.0, beta=beta)
    deviation = 0.0
    for q in q_values:
        conditional = model.conditional(q)
        mass = integrate.quad(conditional.pdf, -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
        second = integrate.quad(lambda x, c=conditional: x * x * c.pdf(x), -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
        expected = 1.0 / (beta * (lambda_x + g * q * q))
        deviation = max(deviation, abs(mass - 1.0), abs(second / expected - 1.0))
    return deviation, "max |mass - 1| and relative variance error against 1/(beta (lambda_x + g u)), by quadrature"


@registered_check
def eq4_up_to_constant(lambda_x, g, lambda_q, beta, q_values):
    """002 eq. (4) against F = -(1/β) log ∫ e^{-βH} dx by quadrature: equal after adding -(1/2β) log 2π."""
    model = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=lambda_q, alpha=1.0, beta=beta)
    deviation = 0.0
    for q in q_values:
        integrand = lambda x, q=q: np.exp(-beta * model.energy(x, q))  # noqa: E731
        exact = -np.log(integrate.quad(integrand, -np.inf, np.inf, epsabs=0, epsrel=1e-13)[0]) / beta
        shifted = float(model.free_energy(q, exact=False)) - np.log(2 * np.pi) / (2 * beta)
        deviation = max(deviation, abs(shifted - exact) / max(1.0, abs(exact)))
    return deviation, "eq. (4) drops -(1/2 beta) log(2 pi), the normalization of the Gaussian integral"


@registered_check
def eq6_normalized_marginal(lambda_x, g, lambda_q, alpha, beta, q_values):
    """002 eq. (6): p(q) ∝ (g u + λx)^{-α/2β} e^{-αλq u/2}; our normalized p(q) against the closed form.

    ∫ (g t² + λx)^{-s} e^{-c t²} dt = λx^{-s} √(πλx/g) U(½, 3/2 - s, cλx/g), s = α/2β, c = αλq/2 (Tricomi U).
    """
    s, c = alpha / (2 * beta), alpha * lambda_q / 2
    norm = lambda_x ** (-s) * np.sqrt(np.pi * lambda_x / g) * special.hyperu(0.5, 1.5 - s, c * lambda_x / g)
    q = np.asarray(q_values, float)
    expected = (g * q * q + lambda_x) ** (-s) * np.exp(-c * q * q) / norm
    ours = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=lambda_q, alpha=alpha, beta=beta).marginal().pdf(q)
    return float(np.max(np.abs(ours / expected - 1.0))), "relative deviation from the hypergeometric closed form"


@registered_check
def eq7_powerlaw_slope(lambda_x, g, lambda_q, alpha, beta, mu=0.0):
    """002 eq. (7): d log p / d log|q - q̄| = -α/β in the middle (geometric mean) of [u_low, u_G]."""
    model = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=lambda_q, alpha=alpha, beta=beta, mu=mu)
    regimes = model.regimes()
    t_mid = (regimes.u_low * regimes.u_gauss) ** 0.25
    h = 1e-4
    slope = (model.marginal().logpdf(t_mid * np.exp(h)) - model.marginal().logpdf(t_mid * np.exp(-h))) / (2 * h)
    exponent = -alpha / beta
    return float(abs(slope / exponent - 1.0)), (f"slope {slope:.4f} vs -alpha/beta = {exponent:.4f} "
                                                f"at |q - qbar| = {t_mid:.3g}, "
                                                f"{regimes.powerlaw_decades:.2f} decades of u")


@registered_check
def eq7_lambert_crossover(lambda_x, g, lambda_q, beta):
    """002 eq. (7): u = W(βλq)/(βλq) solves -log(g u + λx) = βλq u (relative residual of that equation)."""
    u = special.lambertw(beta * lambda_q).real / (beta * lambda_q)
    lhs, rhs = -np.log(g * u + lambda_x), beta * lambda_q * u
    general = float(gauss_crossover(lambda_x, g, lambda_q, beta))
    return float(abs(lhs - rhs) / abs(rhs)), (f"printed crossover {u:.6g}; the root of the defining equation is "
                                              "W((beta lambda_q/g) e^(beta lambda_q lambda_x/g))/(beta lambda_q) "
                                              f"- lambda_x/g = {general:.6g}")


@registered_check
def frustrated_conditional_is_bimodal(lambda_x, g, beta, mu, n_points=401):
    """002 §2: for λx < 0, p(x|q) has a local minimum at x̄ (so two maxima) exactly where (q - q̄)² < -λx/g.

    Counts grid points of q where the numerical shape of p(x|q) at x̄ (a dip, seen on a fine x grid)
    disagrees with (q - q̄)² < -λx/g; needs μ > 0 (ours) for p(x|q) to exist there.
    """
    model = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=1.0, alpha=1.0, beta=beta, mu=mu)
    u_f = -lambda_x / g
    q = np.linspace(-2 * np.sqrt(u_f), 2 * np.sqrt(u_f), n_points)
    q = q[np.abs(q * q - u_f) > 1e-3 * u_f]  # the boundary itself is degenerate (flat top)
    mismatches = 0
    for qi in q:
        conditional = model.conditional(qi)
        spread = np.sqrt(float(conditional.var()))
        x = np.linspace(-1e-3 * spread, 1e-3 * spread, 3)
        dip = conditional.pdf(x[1]) < conditional.pdf(x[0])
        mismatches += int(dip != (qi * qi < u_f))
    return mismatches / q.size, (f"fraction of {q.size} q values where bimodality disagrees with "
                                 "(q - qbar)^2 < -lambda_x/g")


@registered_check
def entropy_maximum_at_frustration_boundary(lambda_x, g, beta, mu):
    """002 §2: the entropy of p(x|q) is largest at (q - q̄)² = -λx/g (relative distance of the numerical maximum)."""
    model = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=1.0, alpha=1.0, beta=beta, mu=mu)
    u_f = -lambda_x / g

    def negative_entropy(u):
        conditional = model.conditional(np.sqrt(u))
        spread = 10.0 * np.sqrt(float(conditional.var()))
        integrand = lambda x: conditional.pdf(x) * conditional.logpdf(x)  # noqa: E731
        return 2.0 * integrate.quad(integrand, 0.0, spread, limit=200, epsabs=0, epsrel=1e-10)[0]

    best = optimize.minimize_scalar(negative_entropy, bounds=(0.0, 3.0 * u_f), method="bounded",
                                    options={"xatol": 1e-6 * u_f}).x
    return abs(best - u_f) / u_f, (f"entropy of p(x|q) is largest at u = {best:.6g}; "
                                   f"-lambda_x/g = {u_f:.6g} (mu = {mu:g})")


@registered_check
def eq4_undefined_in_frustrated_regime(lambda_x, g, lambda_q, beta, mu):
    """002 §2: below u_F the argument of the log in eq. (4) is negative; the exact F (μ > 0) stays finite there.

    Returns the fraction of q in (0, √u_F) where eq. (4) is defined or the exact F is not finite (0 if it holds).
    """
    model = QuarticModel(lambda_x=lambda_x, g=g, lambda_q=lambda_q, alpha=1.0, beta=beta, mu=mu)
    q = np.linspace(0.0, np.sqrt(-lambda_x / g), 101)[:-1]
    wrong = np.isfinite(model.free_energy(q, exact=False)) | ~np.isfinite(model.free_energy(q))
    return float(np.mean(wrong)), "eq. (4) is NaN and the exact F finite at every q with (q - qbar)^2 < -lambda_x/g"
