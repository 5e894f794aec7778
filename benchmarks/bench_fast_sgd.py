"""Batch-1 SGD + L2 on 002 §5's MLP 784-700-476-10 with MNIST-like sparse inputs: torch eager vs the
fast engine, in one process, same initialization, same sample order.

Torch is timed both with its default intra-op threads and with one thread (batch-1 steps gain nothing
from threads and on a busy machine lose a lot); the reference is the faster of the two, so the ratio
is against torch at its best. Timings are medians over interleaved rounds (the machine is shared and
noisy). The correctness check runs both engines from the same initialization over the same samples
with tracking and compares the trajectories (float32).

The projection: 002 §5 runs O(3000) epochs to equilibrium and 200 tracked epochs of MNIST's 60000
samples at batch size 1: (3000 + 200) x 60000 ≈ 1.9·10⁸ steps.

Run: PYTHONPATH=benchmarks .venv/bin/python benchmarks/bench_fast_sgd.py
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import torch
from harness import report

from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.fast_sgd import FastMLPEngine
from statmech_nn.networks.losses import Objective
from statmech_nn.networks.steppers import TorchStepper
from statmech_nn.networks.tracking import TrackedParameters

LR, WD = 2e-3, 5e-4
PROTOCOL_STEPS = (3000 + 200) * 60000
ROUNDS, TORCH_STEPS, FAST_STEPS, CHECK_STEPS = 5, 200, 5000, 1000
TORCH_DEFAULT_THREADS_STEPS = 100  # torch's default threads can be very slow on a busy machine


def build(data, tracked=None, k=100):
    model = Architecture.parse("mlp").build(data.input_shape, 10, seed=0)
    tracked = tracked or TrackedParameters.choose(model, k, seed=0)
    return model, tracked


def torch_stepper(data, model, tracked):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WD)
    return TorchStepper(model, optimizer, Objective("cross_entropy"), data.x_train, data.y_train, batch_size=1,
                        tracked=tracked)


def gpu_steps_per_s(data, tracked, order) -> float | str:
    """Steps/s of the GPU fast path (CUDA graphs of 64 steps), or why it was not measured."""
    if not torch.cuda.is_available():
        return "not measured (no GPU lent)"
    model, _ = build(data, tracked)
    model = model.cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WD)
    stepper = TorchStepper(model, optimizer, Objective("cross_entropy"), data.x_train, data.y_train, batch_size=1,
                           tracked=tracked, graph_steps=64)
    stepper.run(order[:640], track=True)
    torch.cuda.synchronize()
    n = 64 * 300
    start = time.perf_counter()
    stepper.run(order[:n], track=True)
    torch.cuda.synchronize()
    return n / (time.perf_counter() - start)


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main():
    data = load_dataset("synthetic", input_dim=784, n_train=10000, n_test=10)
    order = np.random.default_rng(0).permutation(np.tile(np.arange(10000), 10))
    default_threads = torch.get_num_threads()

    # correctness: same init, same samples, tracked trajectories (float32)
    model_a, tracked = build(data)
    model_b, _ = build(data, tracked)
    fast_check = FastMLPEngine(model_a, data.x_train, data.y_train, lr=LR, weight_decay=WD, tracked=tracked)
    rows_fast = fast_check.run(order[:CHECK_STEPS], track=True)
    torch.set_num_threads(1)
    rows_torch = torch_stepper(data, model_b, tracked).run(order[:CHECK_STEPS], track=True)
    max_dev = float(np.abs(rows_fast - rows_torch).max())

    # timing: interleaved rounds over fresh stretches of the same order
    model_f, _ = build(data, tracked)
    model_t, _ = build(data, tracked)
    fast = FastMLPEngine(model_f, data.x_train, data.y_train, lr=LR, weight_decay=WD, tracked=tracked)
    reference = torch_stepper(data, model_t, tracked)
    fast.run(order[:10], track=False)
    reference.run(order[:10], track=False)
    per_step = {"fast": [], "fast_tracking": [], "torch_1_thread": [], "torch_default_threads": []}
    position = 10
    for _ in range(ROUNDS):
        torch.set_num_threads(1)
        per_step["torch_1_thread"].append(timed(reference.run, order[position:position + TORCH_STEPS], False)
                                          / TORCH_STEPS)
        torch.set_num_threads(default_threads)
        per_step["torch_default_threads"].append(
            timed(reference.run, order[position:position + TORCH_DEFAULT_THREADS_STEPS], False)
            / TORCH_DEFAULT_THREADS_STEPS)
        per_step["fast"].append(timed(fast.run, order[position:position + FAST_STEPS], False) / FAST_STEPS)
        per_step["fast_tracking"].append(timed(fast.run, order[position:position + FAST_STEPS], True) / FAST_STEPS)
        position += FAST_STEPS
    median = {key: statistics.median(values) for key, values in per_step.items()}
    torch_best = min(median["torch_1_thread"], median["torch_default_threads"])
    density = float((data.x_train != 0).mean())
    report("fast_sgd_batch1_mlp_784_700_476_10", ours_s=median["fast"], reference_s=torch_best,
           check={"passed": max_dev <= 1e-3, "max_abs_trajectory_deviation_float32": max_dev,
                  "steps": CHECK_STEPS, "tracked": tracked.k},
           unit="s per step", input_density=density,
           steps_per_s={key: 1.0 / value for key, value in median.items()},
           ratio_vs_torch_default_threads=median["torch_default_threads"] / median["fast"],
           torch_default_threads=default_threads,
           projected_protocol_hours={"steps": PROTOCOL_STEPS, "fast": PROTOCOL_STEPS * median["fast"] / 3600,
                                     "torch": PROTOCOL_STEPS * torch_best / 3600},
           active_units_last_step=fast._n_active[:-1].tolist(), gpu_steps_per_s=gpu_steps_per_s(data, tracked, order),
           load_average=os.getloadavg())


if __name__ == "__main__":
    main()
