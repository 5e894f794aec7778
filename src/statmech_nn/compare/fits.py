"""Maximum-likelihood fits of the source's fluctuation law to samples, with uncertainties and alternatives.

002 eq. (6) (and its network form, eq. (21), one eigenvalue at a time) predicts, for a fluctuation Δ
symmetric about 0,

    p(Δ) ∝ (g Δ² + λx)^{-α/2β} exp(-α λq Δ²/2) ∝ (1 + Δ²/c²)^{-s} exp(-Δ²/2σ²),

with c² = λx/g (the core, or peak, scale), s = α/2β (|Δ|^{-2s} = |Δ|^{-α/β} on intermediate scales) and
σ² = 1/(αλq) (the Gaussian width). Only (c, s, σ) are identifiable from samples; g, λx, λq, α, β are not.
The normalization is exact: with v = Δ²/c², ∫ p dΔ = c K(1/2, s, c²/2σ²), K the half-line integral of
:func:`~statmech_nn.observables._numerics.halfline.log_tricomi_integral` (= c Γ(1/2) U(1/2, 3/2-s, c²/2σ²)).

The fit maximizes the likelihood of the samples (not a histogram): for fixed c the model is an
exponential family in (s, τ = 1/2σ²) with statistics (log(1 + Δ²/c²), Δ²), whose log-likelihood is
concave and maximized by bounded Newton steps (τ ≥ 0; τ = 0 is a Student-t); the profile over log c
is scanned on a grid and refined by Brent's method. Uncertainties come from the observed Fisher
information in (log c, s, log σ) (a central-difference Hessian of the analytic gradient); intervals of c
and s are Wald intervals in those coordinates (asymmetric in c), that of σ the profile-likelihood interval
(:func:`_profile_interval`; the Wald interval in log σ covered 0.88 at nominal 0.95 with the cut-off far out:
6 decades of u at n = 3000; the profile interval 0.96, and 0.93–0.98 at 1–6 decades, n = 3e3 and 1e5, on
planted eq. (6) draws). ``status`` (``fit_status`` in a row) is "ok", or says which
scale the samples do not resolve (σ beyond 10 max|Δ|, c at the edge of the scanned range), or that the
information matrix is singular; the intervals are not to be trusted then.

Alternatives, fitted by MLE on the same samples: a Gaussian N(0, σ²) (the theory at s = 0), a Student-t
with location 0 (the theory at τ = 0, i.e. σ → ∞; ν = 2s - 1, scale = c/√ν) and a pure power law for
|Δ| ≥ x_min (CSN, :func:`~statmech_nn.observables.powerlaw.fit_powerlaw`). The first two are nested in
the theory: the likelihood-ratio statistic 2Δℓ is referred to χ²(1) for the Student-t (halved: τ = 0
is a boundary) and χ²(2) for the Gaussian (approximate: c is not identified at s = 0). The power law
is compared on the tail by Vuong's test with the theory conditioned on |Δ| ≥ x_min. AIC = 2k - 2ℓ.

Crossovers, in u = Δ² (the variable of 002 eq. (7) and of :mod:`statmech_nn.quartic.regimes`):
u_low = c² (the peak/core), the log-slope crossover u_S = 2sσ² - c², and the Lambert-W crossover
u_G of 002 eq. (7), which needs g: with the convention g = 1 (so λx = c², βλq = 1/(2sσ²)) it is
:func:`statmech_nn.quartic.regimes.gauss_crossover`. The width of the power-law range is log10(u_G/u_low)
decades (and log10(u_S/u_low)); both are 0 when s ≤ 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import optimize, special, stats

from ..distributions import Distribution
from ..errors import DataError, NotNormalizableError, StatmechError
from ..observables._numerics.halfline import log_tricomi_integral
from ..observables._numerics.newton import maximize_with_bound
from ..observables.powerlaw import fit_powerlaw
from ..observables.tail_models import likelihood_ratio
from ..params import require_finite, require_positive
from ..quartic.regimes import gauss_crossover

PARAMETERS = ("c", "s", "sigma")
PROFILED = ("sigma",)   # parameters whose 95% interval is the profile-likelihood one (Wald undercovers them)
_GRID_POINTS = 15
_HESSIAN_STEP = 1e-4
_PROFILE_REACH = 25.0   # a profile interval end beyond x̂ ± 25 (in log σ) is infinite: σ → ∞ stays plausible
Z95 = stats.norm.ppf(0.975)


def theory_logpdf(delta, c, s, sigma):
    """log p(Δ) of the fitted law, normalized over the real line."""
    delta = np.asarray(delta, float)
    k = c * c / (2.0 * sigma * sigma)
    return (-s * np.log1p((delta / c) ** 2) - delta * delta / (2.0 * sigma * sigma) - np.log(c)
            - log_tricomi_integral(0.5, s, k))


def theory_log_tail(x, c, s, sigma):
    """log P(|Δ| ≥ x) of the fitted law."""
    k = c * c / (2.0 * sigma * sigma)
    return log_tricomi_integral(0.5, s, k, (np.asarray(x, float) / c) ** 2) - log_tricomi_integral(0.5, s, k)


class FluctuationLaw(Distribution):
    """p(Δ) ∝ (1 + Δ²/c²)^{-s} exp(-Δ²/2σ²) on the real line (002 eqs. (6), (21)), with scipy.stats's interface.

    Both tails come from the half-line integral in log space (:func:`theory_log_tail`), so sf and logsf keep
    their relative accuracy far out; quantiles by the base class's bisection on that tail, by symmetry about 0;
    draws by exact rejection sampling (:meth:`_rvs`), not by inversion.
    """

    def __init__(self, c: float, s: float, sigma: float):
        self.c, self.s, self.sigma = require_positive("c", c), require_finite("s", s), require_positive("sigma", sigma)

    def _parameters(self) -> dict:
        return {"c": self.c, "s": self.s, "sigma": self.sigma}

    def _logpdf(self, delta):
        return theory_logpdf(delta, self.c, self.s, self.sigma)

    def _log_lower(self, delta):
        """log P(Δ' ≤ Δ): log(S/2) below 0, log(1 - S/2) above, S = P(|Δ'| ≥ |Δ|)."""
        log_half_tail = np.log(0.5) + theory_log_tail(np.abs(delta), self.c, self.s, self.sigma)
        return np.where(delta < 0, log_half_tail, np.log1p(-np.exp(log_half_tail)))

    def _cdf(self, delta):
        return np.exp(self._log_lower(delta))

    def _logsf(self, delta):
        return self._log_lower(-delta)

    def _isf(self, prob):
        return -self.ppf(prob)

    def _moment(self, order):
        """Odd moments vanish by symmetry; even ones by quadrature of the density."""
        return 0.0 if order % 2 else self._quadrature_moment(order)

    def _proposal(self):
        """(draw(rng, m), log acceptance(Δ), acceptance rate) of the exact rejection sampler (see :meth:`_rvs`)."""
        c, s, sigma = self.c, self.s, self.sigma
        log_norm = np.log(c) + float(log_tricomi_integral(0.5, s, c * c / (2.0 * sigma * sigma)))
        if s < 0:  # (1 + v)^|s| grows: propose N(0, 2σ²) and accept with the bounded ratio
            v_peak = max(4.0 * sigma * sigma * -s / (c * c) - 1.0, 0.0)
            log_bound = -s * np.log1p(v_peak) - v_peak * c * c / (4.0 * sigma * sigma)
            return (lambda rng, m: rng.normal(0.0, np.sqrt(2.0) * sigma, m),
                    lambda x: -s * np.log1p((x / c) ** 2) - x * x / (4.0 * sigma * sigma) - log_bound,
                    float(np.exp(log_norm - log_bound - 0.5 * np.log(4.0 * np.pi * sigma * sigma))))
        gauss_rate = float(np.exp(log_norm - 0.5 * np.log(2.0 * np.pi * sigma * sigma)))
        student_rate = float(np.exp(log_norm - np.log(c) - special.betaln(0.5, s - 0.5))) if s > 0.5 else 0.0
        if student_rate > gauss_rate:
            nu = 2.0 * s - 1.0
            return (lambda rng, m: rng.standard_t(nu, m) * (c / np.sqrt(nu)),
                    lambda x: -x * x / (2.0 * sigma * sigma), student_rate)
        return (lambda rng, m: rng.normal(0.0, sigma, m), lambda x: -s * np.log1p((x / c) ** 2), gauss_rate)

    def _rvs(self, size, rng):
        """Exact draws by rejection, vectorized in batches: from the Student-t with ν = 2s - 1 and scale c/√ν
        (density ∝ (1 + Δ²/c²)^-s) accepted with probability exp(-Δ²/2σ²) (s > 1/2), or from N(0, σ²)
        accepted with (1 + Δ²/c²)^-s (s ≥ 0), whichever accepts more often (the rate is the ratio of the
        normalizations, known exactly); for s < 0 from N(0, 2σ²) with the bounded ratio."""
        total = int(np.prod(size)) if size is not None else 1
        draw, log_accept, rate = self._proposal()
        out = np.empty(total)
        filled = 0
        while filled < total:
            wanted = total - filled
            proposals = draw(rng, int(wanted / rate * 1.05) + 16)
            accepted = proposals[np.log(rng.random(proposals.size)) < log_accept(proposals)][:wanted]
            out[filled:filled + accepted.size] = accepted
            filled += accepted.size
        return out.reshape(size) if size is not None else out[0]


class _Samples:
    """Δ² of the samples and, per core scale c, the statistic Σ log(1 + Δ²/c²) and its derivatives."""

    def __init__(self, delta):
        self.squared = np.asarray(delta, float) ** 2
        self.n = self.squared.size
        self.sum_squared = float(self.squared.sum())

    def log_core(self, c):
        """(Σ log(1 + v), Σ v/(1 + v)) with v = Δ²/c²."""
        v = self.squared / (c * c)
        return float(np.sum(np.log1p(v))), float(np.sum(v / (1.0 + v)))


def _inner_objective(samples: _Samples, c: float):
    """(s, τ) -> (ℓ, ∇ℓ, ∇²ℓ) at fixed c; ℓ = -s T1 - τ T2 - n log c - n log K(1/2, s, c²τ)."""
    t1, _ = samples.log_core(c)
    t2, n, c2 = samples.sum_squared, samples.n, c * c

    def evaluate(theta):
        s, tau = theta
        try:
            log_k, mean, cov = log_tricomi_integral(0.5, s, c2 * tau, moments=True)
        except NotNormalizableError:
            return -np.inf, None, None
        value = -s * t1 - tau * t2 - n * np.log(c) - n * log_k
        gradient = np.array([-t1 + n * mean[0], -t2 + n * c2 * mean[1]])
        hessian = -n * np.array([[cov[0, 0], c2 * cov[0, 1]], [c2 * cov[0, 1], c2 * c2 * cov[1, 1]]])
        return float(value), gradient, hessian
    return evaluate


def _student_objective(samples: _Samples, c: float):
    """(s, 0) -> (ℓ, ∇ℓ, ∇²ℓ) at τ = 0, where K(1/2, s, 0) = B(1/2, s - 1/2): the Student-t in closed form."""
    t1, _ = samples.log_core(c)
    n = samples.n

    def evaluate(theta):
        s = theta[0]
        if s <= 0.5:
            return -np.inf, None, None
        log_k = special.betaln(0.5, s - 0.5)
        value = -s * t1 - n * np.log(c) - n * log_k
        d1 = -t1 + n * (special.digamma(s) - special.digamma(s - 0.5))
        d2 = -n * (special.polygamma(1, s - 0.5) - special.polygamma(1, s))
        return float(value), np.array([d1, 0.0]), np.array([[d2, 0.0], [0.0, -1.0]])
    return evaluate


def _profile(samples: _Samples, log_c: float, start, student: bool):
    """max over (s, τ) at c = e^{log_c} (τ = 0 for the Student-t): (ℓ, (s, τ))."""
    c = float(np.exp(log_c))
    objective = _student_objective(samples, c) if student else _inner_objective(samples, c)
    theta, value = maximize_with_bound(objective, start, "Student-t" if student else "theory", frozen=student)
    return value, theta


def _profile_fit(samples: _Samples, student: bool):
    """Grid scan of the profile log-likelihood over log c, then Brent's method around the best point."""
    positive = np.sqrt(samples.squared[samples.squared > 0])
    lo, hi = np.quantile(positive, [1e-3, 0.9])
    grid = np.linspace(np.log(lo / 3.0), np.log(hi * 3.0), _GRID_POINTS)
    variance = samples.sum_squared / samples.n
    start = np.array([1.0, 0.0]) if student else np.array([0.0, 0.5 / variance])
    values, thetas = [], []
    for log_c in grid:
        if student:  # a Student-t needs s > 1/2
            start = np.array([1.5, 0.0])
        value, start = _profile(samples, log_c, start, student)
        values.append(value)
        thetas.append(start)
    best = int(np.argmax(values))
    at_edge = best in (0, _GRID_POINTS - 1)
    bracket = (grid[max(best - 1, 0)], grid[min(best + 1, _GRID_POINTS - 1)])
    warm = thetas[best]

    def negative(log_c):
        return -_profile(samples, log_c, warm, student)[0]

    result = optimize.minimize_scalar(negative, bounds=bracket, method="bounded", options={"xatol": 1e-7})
    log_c = float(result.x) if -result.fun >= values[best] else float(grid[best])
    value, theta = _profile(samples, log_c, warm, student)
    return log_c, theta, value, at_edge


def _gradient(samples: _Samples, x):
    """∇ℓ in x = (log c, s, log σ) (see the module docstring for the formulas)."""
    log_c, s, log_sigma = x
    c, sigma = np.exp(log_c), np.exp(log_sigma)
    k = c * c / (2.0 * sigma * sigma)
    _, mean, _ = log_tricomi_integral(0.5, s, k, moments=True)
    t1, ratio = samples.log_core(c)
    n = samples.n
    return np.array([2.0 * s * ratio - n + 2.0 * n * k * mean[1],
                     -t1 + n * mean[0],
                     samples.sum_squared / (sigma * sigma) - 2.0 * n * k * mean[1]])


def _loglik(samples: _Samples, x) -> float:
    """ℓ at x = (log c, s, log σ); -inf where the density is not normalizable, or outside the half-line
    integrator's range (k = c²/2σ² > 1e150 puts the mass below v = e^-350; |s| > 1e6, c² = 0 or ∞)."""
    log_c, s, log_sigma = x
    with np.errstate(over="ignore", under="ignore"):
        c, tau = np.exp(log_c), 0.5 * np.exp(-2.0 * log_sigma)
        inside = 0.0 < c * c < np.inf and abs(s) < 1e6 and c * c * tau < 1e150
        if not (inside and np.isfinite(tau * samples.sum_squared)):
            return -np.inf
    try:
        log_k = float(log_tricomi_integral(0.5, s, c * c * tau))
    except NotNormalizableError:
        return -np.inf
    return -s * samples.log_core(c)[0] - tau * samples.sum_squared - samples.n * log_c - samples.n * log_k


def _profile_value(samples: _Samples, start, index: int) -> float:
    """max of ℓ over the two coordinates of x = (log c, s, log σ) other than ``index`` (held at start[index]):
    Newton steps with a central-difference Hessian of the analytic gradient (Levenberg-regularized where it is
    not negative definite), halved until ℓ increases; stops when the Newton decrement is under 1e-6."""
    free = [i for i in range(3) if i != index]
    x, value = np.array(start, float), _loglik(samples, start)
    if not np.isfinite(value):
        return -np.inf
    for _ in range(10):
        gradient = _gradient(samples, x)[free]
        hessian = np.empty((2, 2))
        for column, i in enumerate(free):
            step = np.zeros(3)
            step[i] = _HESSIAN_STEP
            hessian[:, column] = (_gradient(samples, x + step)[free] - _gradient(samples, x - step)[free]) / (
                2 * _HESSIAN_STEP)
        curvature = -0.5 * (hessian + hessian.T)
        smallest = np.linalg.eigvalsh(curvature).min()
        if smallest <= 0.0:
            curvature = curvature + (1e-9 * np.abs(curvature).max() - 1.01 * smallest) * np.eye(2)
        direction = np.linalg.solve(curvature, gradient)
        if float(gradient @ direction) < 1e-6:
            break
        length = 1.0
        while length > 1e-4:
            trial = x.copy()
            trial[free] += length * direction
            trial_value = _loglik(samples, trial)
            if trial_value >= value:
                break
            length /= 2.0
        else:
            break
        x, value = trial, trial_value
    return value


def _profile_interval(samples: _Samples, x_hat, covariance, loglik: float, index: int, level: float = 0.95):
    """Profile-likelihood interval of coordinate ``index`` of x = (log c, s, log σ): where the signed root
    r(v) = √(2(ℓ̂ - max over the others of ℓ)) reaches z (χ²₁(level)/2 drop). r is nearly linear in v, so each end
    is found by secant steps in r from the Wald end (at most 10), to |r - z| < 0.01 (a level within ±0.1 % of
    nominal); an end not reached within ±_PROFILE_REACH is ±∞ (e.g. σ → ∞ when the law without cut-off stays
    plausible). The other coordinates start at their conditional mean given this one (the covariance's
    regression)."""
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    se = float(np.sqrt(covariance[index, index]))
    slope = covariance[:, index] / covariance[index, index]
    centre = float(x_hat[index])

    def root(value):
        start = x_hat + slope * (value - centre)
        start[index] = value
        return float(np.sqrt(2.0 * max(loglik - _profile_value(samples, start, index), 0.0)))

    ends = []
    for sign in (-1.0, 1.0):
        previous, previous_root = 0.0, 0.0          # distances from the centre, and r there
        distance = z * se
        for _ in range(10):
            r = root(centre + sign * distance)
            if abs(r - z) < 0.01:
                break
            if r > previous_root:
                step = (z - r) * (distance - previous) / (r - previous_root)
                following = min(max(distance + step, 0.5 * distance), 4.0 * distance)
            else:                                   # r does not grow here: step outward
                following = 2.0 * distance
            if following > _PROFILE_REACH:
                if root(centre + sign * _PROFILE_REACH) < z:
                    distance = np.inf
                    break
                following = _PROFILE_REACH
            previous, previous_root, distance = distance, r, following
        ends.append(centre + sign * distance)
    return tuple(ends)


@dataclass(frozen=True)
class TheoryFit:
    """The fitted (c, s, σ) of 002 eq. (6)/(21) with the covariance of (log c, s, log σ)."""

    n: int
    c: float
    s: float
    sigma: float
    loglik: float
    covariance: np.ndarray = field(repr=False)
    status: str = "ok"
    profile: dict = field(default_factory=dict, repr=False)   # {name: (lo, hi)} profile-likelihood 95% intervals

    @property
    def exponent(self) -> float:
        """2s: p(Δ) ∝ |Δ|^{-2s} on intermediate scales (= α/β of 002 eq. (7))."""
        return 2.0 * self.s

    def standard_errors(self) -> dict:
        """Standard errors of (log c, s, log σ)."""
        return dict(zip(("log_c", "s", "log_sigma"), np.sqrt(np.diag(self.covariance))))

    def confidence_interval(self, name: str, level: float = 0.95) -> tuple:
        """Confidence interval of the parameter c, s or sigma: the profile-likelihood one at level 0.95 where it
        was computed (:data:`PROFILED`), else Wald's (in log c, s, log σ, mapped back)."""
        if level == 0.95 and name in self.profile:
            return self.profile[name]
        z = stats.norm.ppf(0.5 + level / 2.0)
        index = PARAMETERS.index(name)
        se = float(np.sqrt(self.covariance[index, index]))
        if name == "s":
            return (self.s - z * se, self.s + z * se)
        value = getattr(self, name)
        with np.errstate(over="ignore"):  # an unresolved scale (huge se) has an interval reaching 0 and inf
            return (value * np.exp(-z * se), value * np.exp(z * se))

    @property
    def law(self) -> FluctuationLaw:
        """The fitted law of Δ as a distribution (pdf, cdf, sf, ppf, rvs, ...)."""
        return FluctuationLaw(self.c, self.s, self.sigma)

    def crossovers(self) -> dict:
        """u_low, u_S, u_G (in u = Δ²) and the decades of power law, with delta-method errors where finite."""
        values = _crossovers(np.array([np.log(self.c), self.s, np.log(self.sigma)]))
        errors = {}
        x0 = np.array([np.log(self.c), self.s, np.log(self.sigma)])
        for key in values:
            gradient = np.empty(3)
            for i in range(3):
                step = np.zeros(3)
                step[i] = _HESSIAN_STEP
                gradient[i] = (_crossovers(x0 + step)[key] - _crossovers(x0 - step)[key]) / (2 * _HESSIAN_STEP)
            finite = np.all(np.isfinite(gradient))
            errors[f"{key}_err"] = float(np.sqrt(gradient @ self.covariance @ gradient)) if finite else np.nan
        return {**values, **errors}

    def to_dict(self) -> dict:
        se = self.standard_errors()
        out = {"n": self.n, "c": self.c, "s": self.s, "sigma": self.sigma, "exponent": self.exponent,
               "exponent_err": 2.0 * float(se["s"]), "loglik": self.loglik, "fit_status": self.status,
               "log_c_err": float(se["log_c"]), "s_err": float(se["s"]), "log_sigma_err": float(se["log_sigma"])}
        for name in PARAMETERS:
            out[f"{name}_lo"], out[f"{name}_hi"] = self.confidence_interval(name)
        return out


def theory_crossovers(c: float, s: float, sigma: float) -> dict:
    """u_low, u_S, u_G and the decades of power law of eq. (6) with (c, s, σ) (see the module docstring)."""
    return _crossovers(np.array([np.log(c), s, np.log(sigma)]))


def _crossovers(x) -> dict:
    c, s, sigma = np.exp(x[0]), x[1], np.exp(x[2])
    u_low = c * c
    if s <= 0:
        return {"u_low": u_low, "u_slope": np.nan, "u_gauss": np.nan, "decades": 0.0, "decades_slope": 0.0}
    u_slope = 2.0 * s * sigma * sigma - u_low
    u_gauss = float(gauss_crossover(u_low, 1.0, 1.0 / (2.0 * s * sigma * sigma), 1.0))
    return {"u_low": u_low, "u_slope": u_slope, "u_gauss": u_gauss,
            "decades": float(np.log10(u_gauss / u_low)) if u_gauss > u_low else 0.0,
            "decades_slope": float(np.log10(u_slope / u_low)) if u_slope > u_low else 0.0}


def _clean(delta) -> np.ndarray:
    delta = np.asarray(delta, float).ravel()
    if not np.all(np.isfinite(delta)):
        raise DataError("fluctuation samples contain NaN or inf")
    if np.count_nonzero(delta) < 20:
        raise DataError("the theory fit needs at least 20 non-zero samples")
    return delta


def fit_theory(delta, profiled: tuple = PROFILED) -> TheoryFit:
    """MLE of (c, s, σ) of p(Δ) ∝ (1 + Δ²/c²)^{-s} e^{-Δ²/2σ²} on samples Δ (see the module docstring), with
    profile-likelihood intervals of the parameters in ``profiled`` (() when only the estimates are needed)."""
    samples = _Samples(_clean(delta))
    log_c, (s, tau), value, at_edge = _profile_fit(samples, student=False)
    status = "ok"
    largest = float(np.sqrt(samples.squared.max()))
    if not tau > 1.0 / (2.0 * (10.0 * largest) ** 2):  # σ > 10 max|Δ|: the fit approaches the Student-t
        status = "boundary: no Gaussian cut-off within the data (sigma > 10 max|delta|)"
        tau = max(tau, 1e-300)
    elif at_edge:
        status = "boundary: core scale c at the edge of the scanned range"
    x = np.array([log_c, s, -0.5 * np.log(2.0 * tau)])
    hessian = np.empty((3, 3))
    for i in range(3):
        step = np.zeros(3)
        step[i] = _HESSIAN_STEP
        hessian[:, i] = (_gradient(samples, x + step) - _gradient(samples, x - step)) / (2 * _HESSIAN_STEP)
    hessian = 0.5 * (hessian + hessian.T)
    try:
        covariance = np.linalg.inv(-hessian)
        if np.any(np.linalg.eigvalsh(-hessian) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        covariance = np.full((3, 3), np.nan)
        status = "ill-conditioned: the observed information is singular" if status == "ok" else status
    profile = {}
    if status == "ok":
        for name in profiled:
            index = PARAMETERS.index(name)
            lo, hi = _profile_interval(samples, x, covariance, float(value), index)
            profile[name] = (float(np.exp(lo)), float(np.exp(hi))) if name != "s" else (float(lo), float(hi))
    return TheoryFit(samples.n, float(np.exp(log_c)), float(s), float(np.exp(x[2])), float(value), covariance, status,
                     profile)


@dataclass(frozen=True)
class Alternative:
    """An alternative model fitted to the same samples, compared with the theory."""

    name: str
    parameters: dict
    loglik: float
    n_parameters: int
    aic: float
    delta_aic: float            # AIC(alternative) - AIC(theory): > 0 favours the theory
    statistic: float            # 2(ℓ_theory - ℓ_alt) (nested), or Vuong's normalized R (power law)
    p_value: float

    def to_dict(self) -> dict:
        return asdict(self)


def fit_student_t(delta) -> dict:
    """MLE of a Student-t with location 0 (the theory at σ → ∞): {nu, scale, loglik, c, s}."""
    samples = _Samples(_clean(delta))
    log_c, (s, _), value, _ = _profile_fit(samples, student=True)
    nu = 2.0 * s - 1.0
    return {"nu": float(nu), "scale": float(np.exp(log_c) / np.sqrt(nu)), "loglik": float(value),
            "c": float(np.exp(log_c)), "s": float(s)}


def compare_alternatives(delta, theory: TheoryFit) -> dict:
    """``{name: Alternative}`` for the Gaussian, the Student-t and the pure power law of |Δ| above x_min."""
    delta = _clean(delta)
    n = delta.size
    aic_theory = 6.0 - 2.0 * theory.loglik
    out = {}
    variance = float(np.mean(delta * delta))
    gauss_loglik = -0.5 * n * (np.log(2.0 * np.pi * variance) + 1.0)
    statistic = max(0.0, 2.0 * (theory.loglik - gauss_loglik))
    out["gaussian"] = Alternative("gaussian", {"sigma": float(np.sqrt(variance))}, float(gauss_loglik), 1,
                                  2.0 - 2.0 * gauss_loglik, 2.0 - 2.0 * gauss_loglik - aic_theory, statistic,
                                  float(stats.chi2.sf(statistic, 2)))
    student = fit_student_t(delta)
    statistic = max(0.0, 2.0 * (theory.loglik - student["loglik"]))
    out["student_t"] = Alternative("student_t", {"nu": student["nu"], "scale": student["scale"]}, student["loglik"], 2,
                                   4.0 - 2.0 * student["loglik"], 4.0 - 2.0 * student["loglik"] - aic_theory, statistic,
                                   float(0.5 * stats.chi2.sf(statistic, 1)))
    try:
        law = fit_powerlaw(np.abs(delta[delta != 0]))
    except StatmechError:  # too few distinct values for a tail: no power-law alternative
        return out
    tail = law.tail
    theory_tail = np.log(2.0) + theory.law.logpdf(tail) - theory_log_tail(law.xmin, theory.c, theory.s, theory.sigma)
    law_tail = np.log((law.alpha - 1.0) / law.xmin) - law.alpha * np.log(tail / law.xmin)
    vuong = likelihood_ratio(theory_tail, law_tail)
    law_loglik = float(law_tail.sum())
    aic_law, aic_theory_tail = 4.0 - 2.0 * law_loglik, 6.0 - 2.0 * float(theory_tail.sum())
    out["power_law"] = Alternative("power_law", {"alpha": law.alpha, "xmin": law.xmin, "sigma": law.sigma,
                                                 "D": law.D, "ntail": law.ntail}, law_loglik, 2,
                                   aic_law, aic_law - aic_theory_tail, vuong.R, vuong.p)
    return out


def fit_row(delta) -> dict:
    """The fit of one weight: theory parameters and intervals, crossovers, goodness of fit, alternatives."""
    delta = np.asarray(delta, float)
    row = {"n_nonzero": int(np.count_nonzero(delta))}
    theory = fit_theory(delta)
    row.update(theory.to_dict())
    row.update(theory.crossovers())
    row.update(binned_gof(delta, theory))
    for name, alternative in compare_alternatives(delta, theory).items():
        row.update({f"{name}_{key}": value for key, value in alternative.parameters.items()})
        row.update({f"{name}_loglik": alternative.loglik, f"{name}_delta_aic": alternative.delta_aic,
                    f"{name}_statistic": alternative.statistic, f"{name}_p": alternative.p_value})
    return row


def binned_gof(delta, fit: TheoryFit, max_bins: int = 40) -> dict:
    """Pearson's binned χ² goodness of fit of the fitted law to the samples it was fitted to.

    Bins of |Δ| hold equal numbers of samples (edges at the sample quantiles, ties kept in one bin; at
    most n/20 bins, so that each expects ~20); expected counts are n [P(|Δ| ≥ lo) - P(|Δ| ≥ hi)] of the
    fitted law; dof = bins - 1 - 3 (three fitted parameters). Successive increments of a time series
    are correlated, which makes the test anti-conservative (a correct law is rejected more often than
    the nominal level): a large p is meaningful, a small p is evidence against the law.
    Returns {gof_chi2, gof_dof, gof_p} (NaN when fewer than 5 bins are possible).
    """
    magnitude = np.sort(np.abs(np.asarray(delta, float)))
    n = magnitude.size
    bins = int(min(max_bins, n // 20))
    edges = np.unique(np.quantile(magnitude, np.linspace(0.0, 1.0, bins + 1)[1:-1])) if bins >= 2 else np.array([])
    edges = np.concatenate([[0.0], edges[edges > 0], [np.inf]])
    dof = edges.size - 2 - 3
    if dof < 1:
        return {"gof_chi2": np.nan, "gof_dof": np.nan, "gof_p": np.nan}
    observed = np.diff(np.searchsorted(magnitude, edges, side="left")).astype(float)
    tail = np.exp(theory_log_tail(edges[1:-1], fit.c, fit.s, fit.sigma))
    expected = n * -np.diff(np.concatenate([[1.0], tail, [0.0]]))
    expected = np.maximum(expected, 1e-300)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    return {"gof_chi2": chi2, "gof_dof": float(dof), "gof_p": float(stats.chi2.sf(chi2, dof))}
