"""CSN power-law fit with x_min scanned, n = 10^5 continuous values: ours vs ``powerlaw.Fit`` in one process.

The data are |T| for a Student-t with 1.5 degrees of freedom (a power-law tail with α = 2.5 above a
non-power-law body), seeded. Correctness check: the same x_min, α to 1e-10 and D to 1e-9 (relative).
The reference takes minutes (it refits every one of the ~10^5 candidates in Python), so it runs once.
Run: PYTHONPATH=benchmarks .venv/bin/python benchmarks/bench_powerlaw.py
"""

import warnings

import numpy as np
import powerlaw
from harness import median_seconds, report

from statmech_nn.observables.powerlaw import fit_powerlaw

N = 100_000


def main():
    data = np.abs(np.random.default_rng(0).standard_t(1.5, N))
    ours = fit_powerlaw(data)
    ours_s = median_seconds(lambda: fit_powerlaw(data), repeat=7, warmup=1)
    holder = {}

    def reference():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = powerlaw.Fit(data, verbose=0)
            holder["fit"] = (fit.xmin, fit.power_law.alpha, fit.power_law.D)

    reference_s = median_seconds(reference, repeat=1, warmup=0)
    xmin, alpha, distance = holder["fit"]
    same = xmin == ours.xmin and abs(alpha / ours.alpha - 1) < 1e-10 and abs(distance / ours.D - 1) < 1e-9
    check = {"passed": bool(same),
             "xmin": [ours.xmin, xmin], "alpha": [ours.alpha, alpha], "D": [ours.D, distance]}
    report("powerlaw_fit_continuous_1e5", ours_s=ours_s, reference_s=reference_s, check=check, unit="s per fit",
           n=N, ntail=ours.ntail)


if __name__ == "__main__":
    main()
