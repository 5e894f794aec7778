"""Quartic phase scan: our batch evaluator against a plain scipy.integrate.quad loop over the same points.

Prints one JSON line per case (mu = 0 and mu > 0 with the exact F): seconds per point of both, points/s,
their ratio, and the largest deviation of <(q-q̄)²> and of the regime masses between the two.
Targets (issue 2): >= 1e5 points/s for mu = 0 and >= 1e3 points/s for mu > 0 on the 2-core machine.
"""

from __future__ import annotations

import numpy as np
from harness import median_seconds, report
from scipy import integrate

from statmech_nn.quartic.batch import evaluate
from statmech_nn.quartic.free_energy import free_energy_exact
from statmech_nn.quartic.regimes import gauss_crossover, lower_scale

N_OURS = 200_000
N_REFERENCE = 200


def grid(n, mu):
    """A (lambda_x, alpha) grid around the frustrated/core boundary, other parameters fixed."""
    side = int(np.sqrt(n))
    lambda_x, alpha = np.meshgrid(np.linspace(-0.05, 0.05, side) + (0.0 if mu > 0 else 0.06),
                                  np.linspace(0.1, 0.9, side))
    return {"lambda_x": lambda_x.ravel(), "g": 1.0, "lambda_q": 1.0, "alpha": alpha.ravel(), "beta": 1.0, "mu": mu}


def reference_point(lambda_x, g, lambda_q, alpha, beta, mu):
    """<u> and the masses below u_low, in [u_low, u_G) and above, by adaptive quadrature of exp(-αF) on t >= 0."""
    density = lambda t: np.exp(-alpha * free_energy_exact(t * t, lambda_x, g, lambda_q, beta, mu))  # noqa: E731
    t_low = float(np.sqrt(lower_scale(lambda_x, g, beta, mu)))
    t_top = float(np.sqrt(max(gauss_crossover(lambda_x, g, lambda_q, beta), t_low**2)))
    quad = lambda f, a, b: integrate.quad(f, a, b, epsabs=0, epsrel=1e-11, limit=200)[0]  # noqa: E731
    below, powerlaw, gauss = quad(density, 0, t_low), quad(density, t_low, t_top), quad(density, t_top, np.inf)
    total = below + powerlaw + gauss
    u_mean = (quad(lambda t: t * t * density(t), 0, t_top) + quad(lambda t: t * t * density(t), t_top, np.inf)) / total
    return u_mean, below / total, powerlaw / total, gauss / total


def run(mu):
    params = grid(N_OURS, mu)
    n_ours = np.broadcast_arrays(*params.values())[0].size
    ours_s = median_seconds(lambda: evaluate(params), repeat=3) / n_ours
    subset = np.linspace(0, n_ours - 1, N_REFERENCE).astype(int)
    columns = {name: np.broadcast_to(value, (n_ours,)) for name, value in params.items()}
    points = [{name: column[i] for name, column in columns.items()} for i in subset]
    reference = []
    reference_s = median_seconds(lambda: reference.append([reference_point(**p) for p in points]),
                                 repeat=1, warmup=0) / len(points)
    ours = evaluate({name: column[subset] for name, column in columns.items()})
    expected = np.array(reference[-1])
    deviation_u = float(np.max(np.abs(ours["q2_mean"] / expected[:, 0] - 1)))
    masses = np.stack([ours["mass_below"], ours["mass_powerlaw"], ours["mass_gauss"]], 1)
    deviation_mass = float(np.max(np.abs(masses - expected[:, 1:])))
    target = 1e5 if mu == 0 else 1e3
    report(f"quartic_scan_mu_{'zero' if mu == 0 else 'positive'}", ours_s=ours_s, reference_s=reference_s,
           check={"passed": deviation_u < 1e-7 and deviation_mass < 1e-7, "max_rel_dev_q2_mean": deviation_u,
                  "max_abs_dev_masses": deviation_mass, "points_compared": len(points)},
           ours_points_per_s=1 / ours_s, reference_points_per_s=1 / reference_s, target_points_per_s=target,
           meets_target=1 / ours_s >= target, points=n_ours)


if __name__ == "__main__":
    run(0.0)
    run(1e-3)
