"""Symbolic derivation of the quartic toy model from its Hamiltonian (002 §2, eqs. (1)-(7)), in sympy.

This is the source of the formulas that :mod:`statmech_nn.quartic.free_energy` and
:mod:`statmech_nn.quartic.regimes` evaluate numerically; the tests evaluate both at random points.
Each derivation starts from H (002 eq. (1), plus our μ(x-x̄)⁴/4) and lets sympy do the work:

- ``F_gaussian``: F = -(1/β) log ∫ e^{-βH} dx for μ = 0 (a Gaussian integral), valid for a(u) > 0;
- ``F_eq4`` and ``eq4_dropped_constant``: the source's eq. (4) and what it drops (F_gaussian - F_eq4);
- ``Z_quartic_positive`` / ``Z_quartic_negative``: ∫ exp(-A y² - B y⁴) dy for A > 0 and A < 0 (Bessel forms);
- ``p_q``: the unnormalized marginal exp(-αF) of eq. (6);
- ``powerlaw_exponent``: lim d log p / d log|q-q̄| in the intermediate regime (λq → 0, |q-q̄| → ∞): -α/β;
- ``u_frustration``: the root of a(u) = λx + g u (the frustration boundary of 002 §2);
- ``u_gauss``: the root of -log(g u + λx) = βλq u (the Lambert-W crossover; eq. (7) is its λx = 0, g = 1 case);
- ``u_gauss_source``: ``u_gauss`` at λx = 0, g = 1, which sympy reduces to W(βλq)/(βλq) of eq. (7);
- ``u_slope``: where both factors of eq. (6) have equal logarithmic slope in u.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

x, q, x_bar, q_bar, lambda_x = sp.symbols("x q xbar qbar lambda_x", real=True)
g, lambda_q, alpha, beta, mu = sp.symbols("g lambda_q alpha beta mu", positive=True)
u, t = sp.symbols("u t", positive=True)
A, B, C = sp.symbols("A B C", positive=True)
y = sp.symbols("y", real=True)

HAMILTONIAN = (lambda_x * (x - x_bar) ** 2 / 2 + g * (q - q_bar) ** 2 * (x - x_bar) ** 2 / 2
               + lambda_q * (q - q_bar) ** 2 / 2 + mu * (x - x_bar) ** 4 / 4)


@dataclass(frozen=True)
class Formula:
    name: str
    description: str
    expression: sp.Expr


def _free_energy_gaussian() -> sp.Expr:
    """-(1/β) log ∫ exp(-βH|_{μ=0}) dx, with a = λx + g u > 0 (written as a positive symbol, then substituted)."""
    a = sp.symbols("a", positive=True)
    exponent = -beta * (a * (x - x_bar) ** 2 / 2 + lambda_q * u / 2)
    partition = sp.integrate(sp.exp(exponent), (x, -sp.oo, sp.oo))
    return sp.expand_log(sp.simplify(-sp.log(partition) / beta), force=True).subs(a, lambda_x + g * u)


@lru_cache(maxsize=1)
def derive_quartic() -> tuple[Formula, ...]:
    """Every formula of the quartic model, derived from H (takes a few seconds; cached)."""
    hamiltonian_u = HAMILTONIAN.subs((q - q_bar) ** 2, u)
    f_gaussian = _free_energy_gaussian()
    f_eq4 = sp.log(g * u + lambda_x) / (2 * beta) + lambda_q * u / 2 + sp.log(beta) / (2 * beta)
    dropped = sp.simplify(sp.expand_log(f_gaussian - f_eq4, force=True))
    z_positive = sp.simplify(sp.integrate(sp.exp(-A * y**2 - B * y**4), (y, -sp.oo, sp.oo)).rewrite(sp.besselk))
    z_negative = sp.simplify(sp.integrate(sp.exp(C * y**2 - B * y**4), (y, -sp.oo, sp.oo)))
    p_q = sp.powsimp(sp.exp(-alpha * f_eq4), force=True)
    log_p_t = sp.log(p_q.subs(u, t**2))
    slope = sp.simplify(t * sp.diff(log_p_t, t))
    exponent = sp.limit(slope.subs(lambda_q, 0), t, sp.oo)
    u_frustration = sp.solve(sp.Eq(lambda_x + g * u, 0), u)[0]
    u_gauss = sp.solve(sp.Eq(-sp.log(g * u + lambda_x), beta * lambda_q * u), u)[0]
    u_gauss_source = sp.simplify(u_gauss.subs({lambda_x: 0, g: 1}))
    log_factor_power = -alpha / (2 * beta) * sp.log(g * u + lambda_x)
    log_factor_gauss = -alpha * lambda_q * u / 2
    u_slope = sp.solve(sp.Eq(u * sp.diff(log_factor_power, u), u * sp.diff(log_factor_gauss, u)), u)[0]
    return (
        Formula("H", "Hamiltonian, 002 eq. (1) + mu (x - xbar)^4/4, with u = (q - qbar)^2", hamiltonian_u),
        Formula("F_gaussian", "F = -(1/beta) log int exp(-beta H) dx at mu = 0 (needs lambda_x + g u > 0)", f_gaussian),
        Formula("F_eq4", "the source's F, 002 eq. (4)", f_eq4),
        Formula("eq4_dropped_constant", "F_gaussian - F_eq4: the constant eq. (4) drops", dropped),
        Formula("Z_quartic_positive",
                "int exp(-A y^2 - B y^4) dy for A > 0 (gives F at mu > 0, A = beta a/2, B = beta mu/4)", z_positive),
        Formula("Z_quartic_negative", "int exp(+C y^2 - B y^4) dy for C = -A > 0 (the frustrated regime)", z_negative),
        Formula("p_q", "unnormalized p(q) = exp(-alpha F_eq4), 002 eq. (6)", p_q),
        Formula("powerlaw_exponent",
                "lim d log p / d log|q - qbar| for lambda_q -> 0, |q - qbar| -> oo (002 eq. (7))", exponent),
        Formula("u_frustration", "root of lambda_x + g u = 0: the frustration boundary (002 sec. 2)", u_frustration),
        Formula("u_gauss", "root of -log(g u + lambda_x) = beta lambda_q u: the Gaussian crossover", u_gauss),
        Formula("u_gauss_source",
                "u_gauss at lambda_x = 0, g = 1: the source's W(beta lambda_q)/(beta lambda_q), eq. (7)",
                u_gauss_source),
        Formula("u_slope", "equal log-slopes of both factors of eq. (6): the alternative crossover", u_slope),
    )


def formulas() -> dict[str, sp.Expr]:
    """name -> expression of :func:`derive_quartic`."""
    return {f.name: f.expression for f in derive_quartic()}


def render(latex: bool = False) -> str:
    """All derived formulas as plain text (sympy's str) or LaTeX, one per paragraph."""
    blocks = []
    for formula in derive_quartic():
        body = sp.latex(formula.expression) if latex else sp.sstr(formula.expression)
        blocks.append(f"{formula.name}: {formula.description}\n  {body}")
    return "\n\n".join(blocks)
