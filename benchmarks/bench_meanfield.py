"""Mean-field benchmarks: two JSON lines (ours beside a plain SciPy reference, with the ratio and a check).

1. ``cw-exact-1e6``: the exact Curie–Weiss observables at N = 10⁶ (m, <|m|>, χ, f) by our sector sums against
   the same sums written plainly with scipy.stats.binom.logpmf and scipy.special.logsumexp.
2. ``hs-saddle-1e4``: every saddle point of a dense N = 10⁴ coupling matrix W = 1 + (G + Gᵀ)/2 (G standard
   normal), h = 0.02, T = 0.7 (three solutions: stable, metastable, unstable), from the same starts:
   ours (batched damped iteration + lockstep Newton–GMRES, one matrix-matrix product per step for all
   starts, steering products in single precision, residuals in double) against scipy.optimize.newton_krylov
   (double precision) run from each start. The check: both find the same distinct
   solutions; and heat-bath Monte Carlo at the same N agrees with the stable one.

Run: PYTHONPATH=benchmarks .venv/bin/python benchmarks/bench_meanfield.py   (timings are medians; the machine is
shared, so compare the ratio, not the absolute seconds).
"""

from __future__ import annotations

import time

import numpy as np
from harness import median_seconds, report
from scipy.optimize import newton_krylov
from scipy.special import logsumexp
from scipy.stats import binom

from statmech_nn.meanfield import GeneralCouplings
from statmech_nn.meanfield.cw_exact import exact_observables
from statmech_nn.meanfield.saddle import distinct_columns
from statmech_nn.sampling.spins import couplings_monte_carlo


def plain_curie_weiss(n, beta, j, b):
    k = np.arange(n + 1)
    m = 1.0 - 2.0 * k / n
    log_w = binom.logpmf(k, n, 0.5) + n * np.log(2.0) + beta * n * (0.5 * j * m * m + b * m)
    log_z = logsumexp(log_w)
    p = np.exp(log_w - log_z)
    mean = p @ m
    return {"m": mean, "m_abs": p @ np.abs(m), "chi": n * beta * (p @ (m - mean) ** 2),
            "free_energy_per_spin": -log_z / (beta * n)}


def bench_exact_curie_weiss():
    n, beta, j, b = 10**6, 1.25, 1.0, 0.01
    ours = median_seconds(lambda: exact_observables(n, beta, j, b), repeat=7)
    reference = median_seconds(lambda: plain_curie_weiss(n, beta, j, b), repeat=7)
    a, r = exact_observables(n, beta, j, b), plain_curie_weiss(n, beta, j, b)
    deviation = max(abs(a[key] - r[key]) / abs(r[key]) for key in r)
    report("cw-exact-1e6", ours_s=ours, reference_s=reference, unit="s per (beta, b) point", n=n,
           check={"passed": bool(deviation < 1e-10), "max_rel_dev": float(deviation)})


def bench_hs_saddle():
    n, temperature, field = 10_000, 0.7, 0.02
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n, n))
    W += W.T
    W *= 0.5
    W += 1.0
    model = GeneralCouplings(W, field)
    del W
    beta = 1.0 / temperature
    starts = model.default_starts(random_starts=4, seed=0)
    timings = []

    def ours():
        start = time.perf_counter()
        result = model.solve(beta, starts)
        timings.append(time.perf_counter() - start)
        return result

    V, _ = ours()
    ours_s = median_seconds(ours, repeat=2, warmup=0)

    def residual(v):
        return v - np.tanh(beta * (model.weights @ v / n + field))

    def reference():
        found = []
        for column in starts.T:
            try:
                found.append(newton_krylov(residual, column, f_tol=1e-10))
            except Exception:  # noqa: BLE001 - a start that scipy cannot solve is just not counted
                continue
        return np.column_stack(found)

    start = time.perf_counter()
    reference_V = reference()
    reference_s = time.perf_counter() - start
    reference_V = reference_V[:, distinct_columns(reference_V, 1e-6)]
    same = V.shape[1] == reference_V.shape[1] and all(
        np.abs(reference_V - V[:, [c]]).max(axis=0).min() < 1e-6 for c in range(V.shape[1]))

    start = time.perf_counter()
    points = model.saddle_points(beta, random_starts=4, seed=0)
    stability = points.stability
    classify_s = time.perf_counter() - start
    mc = couplings_monte_carlo(model, beta, sweeps=200, burn_in=40, chains=2, initial="up", free_energy=False, seed=1)
    mc_ok = abs(mc.m - points.m) <= 4 * mc.m_err + 3e-3
    report("hs-saddle-1e4", ours_s=ours_s, reference_s=reference_s, unit="s per solve (7 starts, all solutions)",
           n=n, starts=int(starts.shape[1]), solutions=int(V.shape[1]), reference_solutions=int(reference_V.shape[1]),
           stability=stability, solve_and_classify_s=classify_s,
           check={"passed": bool(same and mc_ok), "same_solutions": bool(same), "saddle_m": points.m,
                  "mc_m": mc.m, "mc_m_err": mc.m_err, "mc_agrees": bool(mc_ok)})


if __name__ == "__main__":
    bench_exact_curie_weiss()
    bench_hs_saddle()
