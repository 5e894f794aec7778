"""R replicas of 002 §5's MLP 784-700-476-10 (or ``--arch``; batch 1, lr 2e-3, L2 5e-4, mnist5k, float32) on the
torch backend: network-steps/s of the batched replicas (:class:`BatchedTorchReplicas`, one vmapped step of all R)
against the separate ones (:class:`TorchReplicas`, one eager :class:`TorchStepper` per replica, stepped in turn).

Both run with tracking on (64 weights, as in the tracked phase; the tracked rows are copied to the host after each
call, which also waits for the device). Timings: interleaved rounds of ``--steps`` steps per replica, the median
round per (stepper, R). The check: over the first 200 steps the batched replicas' tracked weights agree with the
separate ones' within 1e-5 (float32; the two sum the products in different orders), for every R.

CPU (this machine, 2 shared cores, ~60 s):
    PYTHONPATH=benchmarks:src .venv/bin/python benchmarks/bench_batched_replicas.py --device cpu
GPU (one H100, under ~3 minutes; a CUDA build of torch and the package's dependencies on the device machine):
    PYTHONPATH=benchmarks:src python benchmarks/bench_batched_replicas.py --device cuda --steps 1000 \\
        --replicas 1,2,4,8,32 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from harness import report

from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.networks.driver import epoch_order
from statmech_nn.networks.losses import Objective
from statmech_nn.networks.replicas import BatchedTorchReplicas, TorchReplicas, replica_seeds
from statmech_nn.networks.steppers import TorchStepper
from statmech_nn.networks.tracking import TrackedParameters

LR, WD, SEED, K, CHECK_STEPS, TOLERANCE = 2e-3, 5e-4, 0, 64, 200, 1e-5


def build(kind: str, arch: Architecture, data, replicas: int, tracked, device: torch.device):
    """The batched or separate stepper of ``replicas`` fresh replicas (replica r initialized from seed r)."""
    models = [arch.build(data.input_shape, 10, seed=replica_seeds(SEED, r)[0]).to(device) for r in range(replicas)]
    objective = Objective(arch.loss)
    if kind == "batched":
        return BatchedTorchReplicas(models, objective, data.x_train, data.y_train, lr=LR, weight_decay=WD,
                                    batch_size=1, tracked=tracked)
    return TorchReplicas([TorchStepper(model, torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WD), objective,
                                       data.x_train, data.y_train, batch_size=1, tracked=tracked) for model in models])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--replicas", default="1,2,4,8", help="comma-separated replica counts R")
    parser.add_argument("--steps", type=int, default=120, help="steps per replica per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--arch", default="mlp:784-700-476-10", help="e.g. mlp:784-32-16-10: a launch-bound step")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    counts = [int(r) for r in args.replicas.split(",")]
    data, arch = load_dataset("mnist5k"), Architecture.parse(args.arch)
    tracked = TrackedParameters.choose(arch.build(data.input_shape, 10, seed=SEED), K, seed=SEED)
    n_train, largest = len(data.y_train), max(counts)
    epochs = -(-(CHECK_STEPS + args.rounds * args.steps) // n_train)
    orders = np.stack([np.concatenate([epoch_order(replica_seeds(SEED, r)[1], e, n_train) for e in range(epochs)])
                       for r in range(largest)])

    steppers, deviation, moved = {}, {}, {}
    for r in counts:   # the check's 200 steps also warm both steppers up
        steppers[r] = {kind: build(kind, arch, data, r, tracked, device) for kind in ("batched", "separate")}
        rows = {kind: stepper.run(orders[:r, :CHECK_STEPS], True) for kind, stepper in steppers[r].items()}
        deviation[r] = float(np.abs(rows["batched"] - rows["separate"]).max())
        moved[r] = float(np.abs(rows["batched"][-1] - rows["batched"][0]).max())
    seconds = {kind: {r: [] for r in counts} for kind in ("batched", "separate")}
    for round_ in range(args.rounds):
        stretch = orders[:, CHECK_STEPS + round_ * args.steps:CHECK_STEPS + (round_ + 1) * args.steps]
        for r in counts:
            for kind, stepper in steppers[r].items():
                start = time.perf_counter()
                stepper.run(stretch[:r], True)
                seconds[kind][r].append(time.perf_counter() - start)
    rate = {kind: {r: r * args.steps / statistics.median(times[r]) for r in counts} for kind, times in seconds.items()}
    report("batched_torch_replicas", ours_s=1 / rate["batched"][largest], reference_s=1 / rate["separate"][largest],
           check={"passed": max(deviation.values()) <= TOLERANCE < min(moved.values()), "max_abs_deviation": deviation,
                  "max_abs_change_over_the_check": moved, "tolerance": TOLERANCE, "steps": CHECK_STEPS, "tracked": K,
                  "dtype": "float32"}, arch=arch.spec(),
           unit="s per network-step at the largest R", network_steps_per_s=rate,
           speedup_batched_over_separate={r: rate["batched"][r] / rate["separate"][r] for r in counts},
           device=str(device), device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
           torch=torch.__version__, torch_threads=torch.get_num_threads(), steps_per_round=args.steps,
           rounds=args.rounds, load_average=os.getloadavg())


if __name__ == "__main__":
    main()
