"""Two-timescale Langevin of the quartic model: our numba kernel against a NumPy-vectorized twin.

Both implement the same scheme (002 §2; Euler–Maruyama, x with step dt, q with ε·dt in the drift and
√(2ε dt/α) noise, all chains advanced together, every THIN-th state recorded) and start from the same
states. They draw from different generators (ours: per-chain xoshiro256++ with a ziggurat; NumPy: PCG64
with its ziggurat), so their samples are not bit-identical; "the same statistics" is checked instead:
⟨(q - q̄)²⟩ of both within 4 combined standard errors of each other and of the quadrature value, and
both KS distances to the exact marginal within their noise level.

The NumPy twin is the tests' reference step (tests/reference_samplers.py), which the tests check bit for bit
against our step fed the same noise.

Run: PYTHONPATH=benchmarks:tests .venv/bin/python benchmarks/bench_langevin.py
"""

from __future__ import annotations

import os

import numba
import numpy as np
from harness import median_seconds, report
from reference_samplers import numpy_langevin

from statmech_nn.sampling.langevin import quartic_langevin_kernel
from statmech_nn.sampling.quartic_sampler import quartic_reference
from statmech_nn.sampling.quartic_setup import initial_state
from statmech_nn.sampling.summary import KS_NULL_MEAN
from statmech_nn.sampling.diagnostics import diagnose, ks_distance
from statmech_nn.quartic import QuarticModel

MODEL = QuarticModel(lambda_x=0.5, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0)
EPSILON, DT = 0.1, 0.01
TIMING_CHAINS, TIMING_STEPS = 4096, 2000
CHECK_CHAINS, CHECK_STEPS, BURN_IN, THIN = 1024, 60_000, 15_000, 50
TARGET = 3e7


def run_ours(p, x0, q0, states0, n_steps, thin, burn_in=0):
    x, q, states = x0.copy(), q0.copy(), states0.copy()
    status = np.zeros(x.size, np.int64)
    empty = np.empty((0, x.size, 1))
    if burn_in:
        quartic_langevin_kernel(p, DT, EPSILON, False, x, q, states, burn_in, burn_in + 1, empty, empty, status)
    out_q = np.empty((n_steps // thin, x.size, 1))
    out_x = np.empty_like(out_q)
    quartic_langevin_kernel(p, DT, EPSILON, False, x, q, states, n_steps, thin, out_q, out_x, status)
    assert not status.any()
    return out_q[..., 0]


def run_numpy(p, x0, q0, seed, n_steps, thin, burn_in=0):
    x, q, rng = x0.copy(), q0.copy(), np.random.default_rng(seed)
    empty = np.empty((0, x.size))
    if burn_in:
        numpy_langevin(p, DT, EPSILON, x, q, rng, burn_in, burn_in + 1, empty, empty)
    out_q = np.empty((n_steps // thin, x.size))
    out_x = np.empty_like(out_q)
    numpy_langevin(p, DT, EPSILON, x, q, rng, n_steps, thin, out_q, out_x)
    assert np.all(np.isfinite(out_q))
    return out_q


def statistics(q, reference):
    s = (q - MODEL.q_bar) ** 2
    ess = diagnose(s, THIN).ess
    distance, _ = ks_distance(q, reference.cdfs[0])
    return {"q2": float(s.mean()), "q2_sem": float(np.sqrt(s.var() / ess)), "ks": distance,
            "ks_noise": KS_NULL_MEAN / np.sqrt(diagnose(q, THIN).ess)}


def main():
    p = MODEL.packed()
    x0, q0, states0 = initial_state(MODEL, TIMING_CHAINS, seed=1)
    run_ours(p, x0[:2], q0[:2], states0[:2], 10, 5)   # compile outside the timing
    ours = median_seconds(lambda: run_ours(p, x0, q0, states0, TIMING_STEPS, 100), repeat=7)
    reference = median_seconds(lambda: run_numpy(p, x0, q0, 1, TIMING_STEPS, 100), repeat=3)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)   # the per-thread speed-up, for a machine whose cores are busy
    ours_one_thread = median_seconds(lambda: run_ours(p, x0, q0, states0, TIMING_STEPS, 100), repeat=5)
    numba.set_num_threads(threads)

    exact = quartic_reference(MODEL)
    x0, q0, states0 = initial_state(MODEL, CHECK_CHAINS, seed=2)
    a = statistics(run_ours(p, x0, q0, states0, CHECK_STEPS - BURN_IN, THIN, BURN_IN), exact)
    b = statistics(run_numpy(p, x0, q0, 2, CHECK_STEPS - BURN_IN, THIN, BURN_IN), exact)
    q2_exact = float(exact.q2[0])
    combined = np.hypot(a["q2_sem"], b["q2_sem"])
    passed = (abs(a["q2"] - b["q2"]) < 4 * combined and abs(a["q2"] - q2_exact) < 4 * a["q2_sem"]
              and abs(b["q2"] - q2_exact) < 4 * b["q2_sem"] and a["ks"] < 4 * a["ks_noise"]
              and b["ks"] < 4 * b["ks_noise"])
    chain_steps = TIMING_CHAINS * TIMING_STEPS
    report("langevin_quartic", ours_s=ours, reference_s=reference,
           check={"passed": bool(passed), "q2_exact": q2_exact, "ours": a, "numpy": b,
                  "bit_identical": False,
                  "why_not_bit_identical": "different generators (xoshiro256++ vs PCG64); fed the same noise the two "
                                           "steps agree bit for bit (tests/test_sampling_kernels.py)"},
           unit="seconds per run of 4096 chains x 2000 steps",
           ours_chain_steps_per_s=chain_steps / ours, reference_chain_steps_per_s=chain_steps / reference,
           target_chain_steps_per_s=TARGET, meets_target=bool(chain_steps / ours >= TARGET and reference / ours >= 5),
           ours_one_thread_s=ours_one_thread, ratio_one_thread=reference / ours_one_thread,
           threads=threads, load_average=os.getloadavg(),
           scheme={"epsilon": EPSILON, "dt": DT, "integrator": "euler-maruyama", "model": MODEL.to_dict()})


if __name__ == "__main__":
    main()
