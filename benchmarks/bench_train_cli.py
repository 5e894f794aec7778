"""Fast vs torch through the CLI: ``statmech-nn train`` on 002 §5's MLP 784-700-476-10 (mnist5k, batch 1, lr 2e-3,
L2 5e-4, float32, 64 tracked weights), ``--backend fast`` against ``--backend torch --torch-threads 2``; and the
same fast run with ``--replicas 2`` (the replicas on the 2 cores), whose network-steps/s against the single run's
is ``replicas_ratio`` (the whole loop: steps, each replica's evaluation, the checkpoint of both).

Each run is one whole tracked epoch (4000 steps, the epoch's evaluation on the train and test sets, its checkpoint),
as ``statmech-nn train --json`` reports it (``steps_per_s``: the loop, without the process start and the data
loading). The two commands alternate for ``ROUNDS`` rounds (the machine is shared: medians, and the load). The
torch run's trajectory is cut to ``TORCH_STEPS`` steps (its epoch would take minutes at load); the check compares the
first rows of both trajectories (same initialization and sample order; float32 rounding differs, 1e-3 allowed
over 300 steps; bench_fast_sgd.py allows it over 1000).

Run: PYTHONPATH=benchmarks:src PATH=.venv/bin:$PATH python benchmarks/bench_train_cli.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from harness import report

from statmech_nn.io import Trajectory

ROUNDS, TORCH_STEPS, CHECK_STEPS = 3, 300, 300
COMMON = ["statmech-nn", "train", "--arch", "mlp:784-700-476-10", "--dataset", "mnist5k", "--lr", "2e-3",
          "--weight-decay", "5e-4", "--batch-size", "1", "--track", "64", "--dtype", "float32", "--device", "cpu",
          "--seed", "0", "--no-progress", "--json", "--overwrite"]


RUNS = {"fast": ["--backend", "fast", "--epochs", "1", "--torch-threads", "1"],
        "torch": ["--backend", "torch", "--steps", str(TORCH_STEPS), "--torch-threads", "2"],
        "fast_replicas": ["--backend", "fast", "--epochs", "1", "--torch-threads", "1", "--replicas", "2"]}


def train(run: str, out: Path) -> dict:
    result = subprocess.run([*COMMON, *RUNS[run], "--out", str(out)], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def main():
    rates = {run: [] for run in RUNS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(ROUNDS):
            for run in rates:
                rates[run].append(train(run, Path(tmp) / run)["network_steps_per_s"])
        fast_q = Trajectory.load(Path(tmp) / "fast" / "trajectory.h5").q[:CHECK_STEPS + 1]
        torch_q = Trajectory.load(Path(tmp) / "torch" / "trajectory.h5").q[:CHECK_STEPS + 1]
    deviation = float(np.abs(fast_q.astype(float) - torch_q.astype(float)).max())
    median = {key: statistics.median(values) for key, values in rates.items()}
    report("train_cli_fast_vs_torch_mlp_784_700_476_10", ours_s=1 / median["fast"], reference_s=1 / median["torch"],
           check={"passed": deviation <= 1e-3, "max_abs_trajectory_deviation_float32": deviation,
                  "steps": CHECK_STEPS},
           unit="s per step (train loop with the epoch's evaluation and checkpoint)",
           network_steps_per_s=median, all_network_steps_per_s=rates, rounds=ROUNDS, torch_threads=2,
           replicas_ratio=median["fast_replicas"] / median["fast"], replicas_goal_ratio=1.8,
           load_average=os.getloadavg())


if __name__ == "__main__":
    main()
