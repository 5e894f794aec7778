"""A peak at very small fluctuations inside the gradient steps: a calibrated test for an extra narrow component
(002 §5, Fig. 2's peak, and its frustrated-regime origin, 002 §2 and §4).

H0: the non-zero |Δ| of a weight's gradient steps follow 002 eq. (6), p ∝ (1 + Δ²/c²)^-s exp(-Δ²/2σ²);
H1: the mixture (1 - π) eq. (6) + π N(0, τ²) with τ ≤ c/3, a component narrower than the law's flat core (a
peak the core cannot hold; fitted alone, eq. (6) swallows it by shrinking c and then misfits everywhere else).
Both are fitted by maximum likelihood to the counts of |Δ| in :data:`BINS` equal-count bins (bin probabilities of
eq. (6) by the trapezoid rule in log|Δ| on a fixed grid from min|Δ|/1000 to 10 max|Δ|, where the model is
truncated; of the Gaussian in closed form; both with their analytic Jacobian), so that one evaluation of the
likelihood and its gradient costs a fraction of a millisecond whatever the number of steps (fits run with one BLAS
thread: these tiny problems only lose time to a thread pool).

The likelihood ratio LR = 2(ℓ1 - ℓ0) has no χ² limit (at π = 0, τ is not identified), so its null distribution
is a parametric bootstrap (McLachlan 1987): multinomial counts drawn from the fitted H0, refitted under both
hypotheses. The bootstrap is pooled over the tested weights (replicate b is drawn from weight b mod K's fitted
H0), which assumes that the null distribution of LR on equal-count bins depends little on (c, s, σ); the
calibration scenarios (:mod:`statmech_nn.compare.planted.decay_truths`) measure the resulting error rates (on eq. (6)
steps alone, 1 of 150 weights at n = 1e4 had p ≤ 0.025, Wilson interval [0.001, 0.037]: the pooled test is, if
anything, conservative; a 20 % component at τ = c/30 is found in every weight at n = 1e4 and 1e5). A weight's p
is (1 + #{LR*_b ≥ LR}) / (B + 1); it has a peak in its gradient steps when p ≤ :data:`ALPHA`, the fitted
mixture weight π̂ ≥ :data:`MIN_MASS`, and the fitted mixture itself describes the binned steps (G-test p ≥
:data:`GOF_ALPHA`): where even the mixture is rejected (a real network's steps at 1e5 samples, whose eq. (6) fit
is a misfit), a large LR measures the law's misfit, not a narrow component, and the weight's peak is untestable.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from ..params import rng_from

BINS = 40             # equal-count bins of |Δ|
GRID = 1000           # trapezoid nodes in log|Δ| for eq. (6)'s bin probabilities
ALPHA = 0.025         # a weight's peak test rejects at this level (with B = 39: LR above every bootstrap LR)
MIN_MASS = 0.01       # and the narrow component holds at least 1% of the gradient steps
BOOTSTRAP = 39        # default bootstrap replicates (pooled over the tested weights)
MIN_SAMPLES = 400     # non-zero gradient steps a weight needs to be tested (10 per bin)
GOF_ALPHA = 0.01      # a fitted mixture whose G-test p is below this does not describe the steps: no verdict on a peak
_MAX_WIDTH = 1.0 / 3.0
_MIN_WIDTH = 1e-4


class BinnedSteps:
    """The counts of one weight's non-zero |Δ| in equal-count bins, and the bin probabilities of H0 and H1."""

    def __init__(self, magnitude: np.ndarray, bins: int = BINS):
        magnitude = np.sort(np.abs(np.asarray(magnitude, float)))
        magnitude = magnitude[magnitude > 0]
        inner = np.unique(np.quantile(magnitude, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
        self.low, self.high = magnitude[0] / 1e3, magnitude[-1] * 10.0
        self.edges = np.concatenate([[0.0], inner, [self.high]])
        self.counts = np.diff(np.searchsorted(magnitude, self.edges, side="left")).astype(float)
        self.counts[-1] += magnitude.size - self.counts.sum()
        self.n = magnitude.size
        self.median = float(np.median(magnitude))
        self.small = float(np.quantile(magnitude, 0.05))
        self._u = np.linspace(np.log(self.low), np.log(self.high), GRID)
        self._x = np.exp(self._u)
        self._inner_u = np.log(inner)

    def _at_edges(self, cumulative: np.ndarray) -> np.ndarray:
        """Cumulative masses (grid, ...) at the bin edges (0 at the first, the total at the last)."""
        inner = np.stack([np.interp(self._inner_u, self._u, column) for column in cumulative.T], axis=1)
        return np.concatenate([np.zeros((1, cumulative.shape[1])), inner, cumulative[-1:]])

    def law(self, c: float, s: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """Bin probabilities of eq. (6) truncated at ``high`` and their Jacobian in (log c, s, log σ)."""
        v = (self._x / c) ** 2
        w = self._x ** 2 / (sigma * sigma)
        log_f = -s * np.log1p(v) - 0.5 * w
        f = np.exp(log_f - log_f.max()) * self._x                      # density in u = log|Δ|
        scores = np.stack([2.0 * s * v / (1.0 + v), -np.log1p(v), w], axis=1)
        integrand = np.concatenate([f[:, None], f[:, None] * scores], axis=1)
        steps = 0.5 * (integrand[1:] + integrand[:-1]) * np.diff(self._u)[:, None]
        cumulative = integrand[:1] + np.concatenate([np.zeros((1, 4)), np.cumsum(steps, axis=0)])
        edges = self._at_edges(cumulative)
        masses, total = np.diff(edges, axis=0), edges[-1]
        p = masses[:, 0] / total[0]
        jacobian = masses[:, 1:] / total[0] - p[:, None] * total[1:] / total[0]
        return p, jacobian

    def gaussian(self, tau: float) -> tuple[np.ndarray, np.ndarray]:
        """Bin probabilities of |N(0, τ²)| truncated at ``high`` and their derivative in log τ."""
        z = self.edges / (np.sqrt(2.0) * tau)
        mass = special.erf(z)
        dmass = -2.0 / np.sqrt(np.pi) * np.exp(-z * z) * z       # d erf(z) / d log τ
        p = np.diff(mass) / mass[-1]
        return p, np.diff(dmass) / mass[-1] - p * dmass[-1] / mass[-1]

    def probabilities(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bin probabilities and their Jacobian: H0 (θ = log c, s, log σ) or H1 (θ also logit π, log(τ/c))."""
        c, s, sigma = np.exp(theta[0]), theta[1], np.exp(theta[2])
        p, jacobian = self.law(c, s, sigma)
        if theta.size == 3:
            return p, jacobian
        weight = special.expit(theta[3])
        g, dg = self.gaussian(c * np.exp(theta[4]))
        mixed = np.empty((p.size, 5))
        mixed[:, :3] = (1.0 - weight) * jacobian
        mixed[:, 0] += weight * dg
        mixed[:, 3] = weight * (1.0 - weight) * (g - p)
        mixed[:, 4] = weight * dg
        return (1.0 - weight) * p + weight * g, mixed

    def loglik(self, theta: np.ndarray, counts: np.ndarray) -> tuple[float, np.ndarray]:
        """The binned log-likelihood and its gradient."""
        p, jacobian = self.probabilities(theta)
        p = np.maximum(p, 1e-300)
        return float(np.sum(counts * np.log(p))), (counts / p) @ jacobian

    def bounds(self, mixture: bool) -> list:
        scale = [(np.log(self.low * 10.0), np.log(self.high)), (-5.0, 60.0),
                 (np.log(self.low * 10.0), np.log(self.high * 1e3))]
        return scale + ([(-12.0, 4.0), (np.log(_MIN_WIDTH), np.log(_MAX_WIDTH))] if mixture else [])

    def fit(self, starts, counts: np.ndarray) -> tuple[np.ndarray, float]:
        """The best of L-BFGS-B runs from ``starts`` (all of H0's or all of H1's dimension): (θ̂, ℓ̂)."""
        best, best_value = None, -np.inf
        for start in starts:
            start = np.asarray(start, float)
            bounds = self.bounds(start.size == 5)
            start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
            scale = 1.0 / counts.sum()   # a per-step objective: L-BFGS-B's stopping rule is relative
            result = optimize.minimize(lambda theta: tuple(-scale * v for v in self.loglik(theta, counts)), start,
                                       jac=True, method="L-BFGS-B", bounds=bounds)
            if -result.fun / scale > best_value:
                best, best_value = result.x, -result.fun / scale
        return best, best_value

    def test(self, h0_start, counts: np.ndarray | None = None) -> dict:
        """Fit H0 and H1 to ``counts`` (default: the data's); {lr, theta0, theta1}."""
        counts = self.counts if counts is None else counts
        theta0, l0 = self.fit([h0_start], counts)
        c0 = np.exp(theta0[0])
        c_wide = max(c0, 3.0 * self.median)
        tau = min(self.small, c_wide * _MAX_WIDTH)
        starts = [np.r_[theta0, -9.0, np.log(0.1)],
                  np.r_[np.log(c_wide), theta0[1], theta0[2], special.logit(0.2), np.log(tau / c_wide)]]
        theta1, l1 = self.fit(starts, counts)
        return {"lr": max(0.0, 2.0 * (l1 - l0)), "theta0": theta0, "theta1": theta1}

    def goodness_of_fit(self, theta: np.ndarray) -> float:
        """The p-value of the likelihood-ratio (G) statistic of the data's counts against the fitted mixture's bin
        probabilities, χ² with bins − 1 − 5 degrees of freedom: small when even eq. (6) plus a narrow component
        does not describe the steps (then a large LR says that the law is wrong, not that a peak is there)."""
        expected = np.maximum(self.probabilities(theta)[0], 1e-300) * self.counts.sum()
        observed = self.counts
        g = 2.0 * np.sum(np.where(observed > 0, observed * np.log(np.where(observed > 0, observed, 1.0) / expected),
                                  0.0))
        dof = max(self.counts.size - 1 - 5, 1)
        return float(special.chdtrc(dof, g))


_H0_KEYS = ("gradient_peak_h0_log_c", "gradient_peak_h0_s", "gradient_peak_h0_log_sigma")


def _start(row: dict, binned: BinnedSteps) -> np.ndarray:
    """H0's start: the unbinned MLE of the row when finite, else scales from the data."""
    c, s, sigma = (row.get(key, np.nan) for key in ("c", "s", "sigma"))
    if np.all(np.isfinite([c, s, sigma])) and c > 0 and sigma > 0:
        return np.array([np.log(c), s, np.log(sigma)])
    return np.array([np.log(binned.median), 1.0, np.log(binned.high / 10.0)])


def _magnitudes(gradient) -> np.ndarray:
    magnitude = np.abs(np.asarray(gradient, float))
    return magnitude[np.isfinite(magnitude) & (magnitude > 0)]


def peak_statistics(gradient: np.ndarray, row: dict) -> dict:
    """The per-weight part of the test (row fields): LR, the fitted narrow component (mass, width) and core, and
    the binned H0 fit that the bootstrap draws from; ``gradient_peak_tested`` False below MIN_SAMPLES steps."""
    magnitude = _magnitudes(gradient)
    if magnitude.size < MIN_SAMPLES:
        return {"gradient_peak_tested": False}
    binned = BinnedSteps(magnitude)
    with threadpool_limits(limits=1):   # tiny problems: BLAS threads only cost time
        result = binned.test(_start(row, binned))
    theta0, theta1 = result["theta0"], result["theta1"]
    return {"gradient_peak_tested": True, "gradient_peak_lr": result["lr"],
            "gradient_peak_mass": float(special.expit(theta1[3])),
            "gradient_peak_width": float(np.exp(theta1[0] + theta1[4])),
            "gradient_peak_core": float(np.exp(theta1[0])),
            "gradient_peak_mixture_gof_p": binned.goodness_of_fit(theta1),
            **dict(zip(_H0_KEYS, map(float, theta0)))}


def pooled_pvalues(gradients: dict, rows: dict, replicates: int = BOOTSTRAP, seed=0) -> dict:
    """{column: p} of the LR of every tested weight against the pooled parametric bootstrap (module docstring).
    ``gradients``: {column: gradient steps}; ``rows``: {column: row with the fields of :func:`peak_statistics`}."""
    columns = sorted(j for j in gradients if rows[j].get("gradient_peak_tested"))
    if not columns or replicates < 1:
        return {}
    rng = rng_from(seed)
    binned = {j: BinnedSteps(_magnitudes(gradients[j])) for j in columns}
    null = np.empty(replicates)
    with threadpool_limits(limits=1):
        for b in range(replicates):
            j = columns[b % len(columns)]
            theta0 = np.array([rows[j][key] for key in _H0_KEYS])
            counts = rng.multinomial(binned[j].n, binned[j].probabilities(theta0)[0]).astype(float)
            null[b] = binned[j].test(theta0, counts)["lr"]
    return {j: float((1 + np.sum(null >= rows[j]["gradient_peak_lr"])) / (replicates + 1)) for j in columns}


def gradient_peak_columns(samples: np.ndarray, decay, rows: list[dict], replicates: int = BOOTSTRAP,
                          seed=0) -> list[dict]:
    """Per tested weight: the bootstrap p of its LR, whether its gradient steps hold a peak (p ≤ ALPHA and mass ≥
    MIN_MASS) and the peak's origin, as columns for :func:`statmech_nn.compare.verdicts.merge_columns`."""
    by_column = {int(row["column"]): row for row in rows}
    gradients = {j: samples[:, j] if decay is None else samples[~decay[:, j], j] for j in by_column
                 if by_column[j].get("gradient_peak_tested")}
    pvalues = pooled_pvalues(gradients, by_column, replicates, seed)
    out = []
    for j, p in pvalues.items():
        row = by_column[j]
        described = bool(row["gradient_peak_mixture_gof_p"] >= GOF_ALPHA)
        in_gradient = bool(described and p <= ALPHA and row["gradient_peak_mass"] >= MIN_MASS)
        decay_peak = bool(row.get("peak_mass_lo", 0.0) > MIN_MASS)
        origin = ("frustrated regime: a peak remains in the gradient steps" if in_gradient else
                  "weight decay on zero inputs (the decay steps)" if decay_peak else
                  "no peak" if described else "untestable: even the mixture does not describe the gradient steps")
        out.append({"column": j, "gradient_peak_p": p, "peak_in_gradient_steps": in_gradient,
                    "gradient_peak_described": described, "peak_origin": origin})
    return out
