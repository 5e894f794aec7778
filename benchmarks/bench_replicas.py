"""R = 2 replicas of 002 §5's MLP 784-700-476-10 (batch 1, lr 2e-3, L2 5e-4, mnist5k, float32) on the fast engine:
network-steps/s of the replicas on the cores vs one network, in one process.

Three ways are timed, in interleaved rounds (the machine is shared: medians):

- ``one``: one network, :class:`FastMLPEngine` (what a single-network run does);
- ``threads``: :class:`FastReplicas`, each replica's nogil kernel on its own thread (what ``--replicas`` uses);
- ``prange``: one numba kernel with a ``prange`` over replicas, each calling the same single-network kernel
  on its slice of stacked weights (the alternative; kept here to show why it is not used).

The ratio is (network-steps/s of the threaded replicas) / (steps/s of one network); the goal is >= 1.8 on 2
cores. On a loaded machine the second core is not free and the wall-time ratio says little; the CPU seconds per
network-step (all threads) tell whether the replicas cost more per step than one network (cache sharing, thread
overhead): ``cpu_efficiency_threads`` = one network's CPU time per step / a replica's, ~1 when they scale.

The check: each replica's tracked trajectory equals, bit for bit, a single engine run from that replica's
initialization and sample order (:func:`replica_seeds`), and the prange variant's equals it too.

Run: PYTHONPATH=benchmarks:src .venv/bin/python benchmarks/bench_replicas.py
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
from harness import report
from numba import njit, prange

from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.fast_sgd import FastMLPEngine, sgd_steps
from statmech_nn.networks.replicas import FastReplicas, replica_seeds
from statmech_nn.networks.tracking import TrackedParameters
from statmech_nn.networks.driver import epoch_order

LR, WD, SEED, R, K = 2e-3, 5e-4, 0, 2, 64
ROUNDS, STEPS, CHECK_STEPS = 15, 4000, 2000


@njit(parallel=True, nogil=True)
def _prange_steps(V, v_off, b, b_off, widths, scale, lr, wd, renorm, x_indptr, x_indices, x_data, labels, orders,
                  track_flat, track_layer, track_is_bias, rows, h, active, n_active, delta, coefficient, values):
    for r in prange(V.shape[0]):
        sgd_steps(V[r], v_off, b[r], b_off, widths, scale[r], lr, wd, renorm, x_indptr, x_indices, x_data, labels,
                  orders[r], track_flat, track_layer, track_is_bias, rows[r], h[r], active[r], n_active[r], delta[r],
                  coefficient[r], values[r])


class PrangeReplicas:
    """The replicas' engine arrays stacked (R, ...) and stepped by :func:`_prange_steps`."""

    def __init__(self, engines):
        self.e = engines[0]
        stack = {name: np.stack([getattr(e, name) for e in engines]) for name in
                 ("V", "b", "scale", "_h", "_active", "_n_active", "_delta", "_coefficient", "_values")}
        self.arrays = stack

    def run(self, orders, track):
        e, a = self.e, self.arrays
        rows = np.empty((len(orders), orders.shape[1] if track else 0, len(e.track_flat)), e.dtype)
        _prange_steps(a["V"], e.v_off, a["b"], e.b_off, e.widths, a["scale"], e.lr, e.weight_decay, e.renorm_below,
                      e.x_indptr, e.x_indices, e.x_data, e.labels, orders, e.track_flat, e.track_layer,
                      e.track_is_bias, rows, a["_h"], a["_active"], a["_n_active"], a["_delta"], a["_coefficient"],
                      a["_values"])
        return np.swapaxes(rows, 0, 1) if track else None


def build(data, arch, tracked, replicas):
    models = [arch.build(data.input_shape, 10, seed=replica_seeds(SEED, r)[0]) for r in range(replicas)]
    return FastReplicas(models, data.x_train, data.y_train, lr=LR, weight_decay=WD, tracked=tracked)


def orders_for(n_train, epochs, replicas):
    return np.stack([np.concatenate([epoch_order(replica_seeds(SEED, r)[1], e, n_train) for e in range(epochs)])
                     for r in range(replicas)])


def timed(function, *args) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all the process's threads) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - start, time.process_time() - cpu


def main():
    data = load_dataset("mnist5k")
    arch = Architecture.parse("mlp:784-700-476-10")
    tracked = TrackedParameters.choose(arch.build(data.input_shape, 10, seed=SEED), K, seed=SEED)
    n_train = len(data.y_train)
    orders = orders_for(n_train, -(-(CHECK_STEPS + 10 + ROUNDS * STEPS) // n_train), R)

    # correctness: every replica against a single engine from its own seeds, bit for bit (threads and prange)
    replicas = build(data, arch, tracked, R)
    prange_replicas = PrangeReplicas(build(data, arch, tracked, R).engines)
    rows = replicas.run(orders[:, :CHECK_STEPS], track=True)
    rows_prange = prange_replicas.run(orders[:, :CHECK_STEPS], track=True)
    single = []
    for r in range(R):
        model = arch.build(data.input_shape, 10, seed=replica_seeds(SEED, r)[0])
        engine = FastMLPEngine(model, data.x_train, data.y_train, lr=LR, weight_decay=WD, tracked=tracked)
        single.append(engine.run(orders[r, :CHECK_STEPS], track=True))
    single = np.stack(single, axis=1)
    identical = bool(np.array_equal(rows, single))
    identical_prange = bool(np.array_equal(rows_prange, single))
    replicas_differ = bool(not np.array_equal(rows[:, 0], rows[:, 1]))

    # timing: interleaved rounds over fresh stretches of the orders (tracking on, as in the tracked phase)
    one = replicas.engines[0]
    seconds = {"one": [], "threads": [], "prange": []}
    cpu_seconds = {"one": [], "threads": [], "prange": []}
    position = CHECK_STEPS
    for _ in range(ROUNDS):
        stretch = orders[:, position:position + STEPS]
        for key, function, argument in (("one", one.run, stretch[0]), ("threads", replicas.run, stretch),
                                        ("prange", prange_replicas.run, stretch)):
            wall, cpu = timed(function, argument, True)
            seconds[key].append(wall)
            cpu_seconds[key].append(cpu)
        position += STEPS
    median = {key: statistics.median(values) for key, values in seconds.items()}
    cpu_per_network_step = {key: statistics.median(values) / (STEPS if key == "one" else R * STEPS)
                            for key, values in cpu_seconds.items()}
    network_steps_per_s = {"one": STEPS / median["one"], "threads": R * STEPS / median["threads"],
                           "prange": R * STEPS / median["prange"]}
    replicas.close()
    report("replicas_fast_engine_mlp_784_700_476_10", ours_s=median["threads"] / (R * STEPS),
           reference_s=median["one"] / STEPS,
           check={"passed": identical and identical_prange and replicas_differ,
                  "replicas_equal_single_runs_bitwise": identical, "prange_equal_single_runs_bitwise": identical_prange,
                  "replicas_differ": replicas_differ, "steps": CHECK_STEPS, "tracked": K},
           unit="s per network-step", replicas=R, threads=replicas.threads, steps_per_round=STEPS, rounds=ROUNDS,
           network_steps_per_s=network_steps_per_s,
           ratio_prange=network_steps_per_s["prange"] / network_steps_per_s["one"], goal_ratio=1.8,
           cpu_s_per_network_step=cpu_per_network_step,
           cpu_efficiency_threads=cpu_per_network_step["one"] / cpu_per_network_step["threads"],
           load_average=os.getloadavg())


if __name__ == "__main__":
    main()
