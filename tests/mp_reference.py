"""Independent high-precision references (mpmath quadrature at 30 digits) for the quartic model's tests."""

import mpmath as mp
import numpy as np

mp.mp.dps = 30


def _points(A, B):
    """Breakpoints for ∫ exp(-A y² - B y⁴) dy: 0, the double-well peaks and a few widths beyond."""
    peak = float(np.sqrt(max(-A, 0.0) / (2 * B))) if B > 0 else 0.0
    width = 3.0 / float(np.sqrt(abs(A) + np.sqrt(B) + 1e-300))
    inner = sorted({p for p in (peak, peak + width, max(peak - width, 0.0), peak + 10 * width) if p > 0})
    return [-mp.inf] + [-p for p in reversed(inner)] + [0] + inner + [mp.inf]


def log_quartic_integral(A, B):
    """By quadrature (the check of the closed form itself)."""
    A, B = mp.mpf(A), mp.mpf(B)
    return mp.log(mp.quad(lambda y: mp.exp(-A * y**2 - B * y**4), _points(float(A), float(B))))


def log_quartic_integral_bessel(A, B):
    """By mpmath's own Bessel functions at 30 digits (the closed form, evaluated independently of scipy)."""
    A, B = mp.mpf(A), mp.mpf(B)
    if B == 0:
        return mp.log(mp.sqrt(mp.pi / A))
    z = A * A / (8 * B)
    if A > 0:
        return mp.log(mp.sqrt(A / B) / 2 * mp.exp(z) * mp.besselk(mp.mpf(1) / 4, z))
    bessels = mp.besseli(-mp.mpf(1) / 4, z) + mp.besseli(mp.mpf(1) / 4, z)
    return mp.log(mp.pi / 2 * mp.sqrt(-A / (2 * B)) * mp.exp(z) * bessels)


def quartic_second_moment(A, B):
    points = _points(A, B)
    A, B = mp.mpf(A), mp.mpf(B)
    weight = lambda y: mp.exp(-A * y**2 - B * y**4)  # noqa: E731
    return mp.quad(lambda y: y * y * weight(y), points) / mp.quad(weight, points)


class Marginal:
    """p(q) ∝ exp(-αF(β, q)) with F from mpmath's Bessel functions; normalization by mpmath quadrature over q."""

    def __init__(self, model, scales):
        self.model = model
        f = self.unnormalized
        knots = [mp.mpf(0)] + sorted(mp.mpf(s) for s in scales if s > 0) + [mp.inf]
        self.norm = 2 * mp.quad(f, knots)
        self.second_moment = 2 * mp.quad(lambda t: t * t * f(t), knots) / self.norm
        self.knots = knots

    def free_energy(self, t):
        m = self.model
        u = mp.mpf(t) ** 2
        A, B = m.beta * (m.lambda_x + m.g * u) / 2, m.beta * m.mu / 4
        log_z = log_quartic_integral_bessel(A, B)
        return m.lambda_q * u / 2 - log_z / m.beta

    def unnormalized(self, t):
        return mp.exp(-self.model.alpha * self.free_energy(t))

    def pdf(self, q):
        return self.unnormalized(abs(mp.mpf(q) - self.model.q_bar)) / self.norm

    def tail(self, t):
        """P(|q - q̄| > t)."""
        knots = [mp.mpf(t)] + [k for k in self.knots if k > t]
        return 2 * mp.quad(self.unnormalized, knots) / self.norm
