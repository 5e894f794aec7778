"""Track the weights of your own torch model in your own training loop, then ask 002's questions of them.

A small ReLU network (64-48-32-10, defined here) learns scikit-learn's 8x8 digits by batch-1 SGD with L2
(002 §5's protocol in miniature): a few warm-up epochs untracked, then tracked epochs in which
``statmech_nn.track`` records 32 randomly chosen weights after every optimizer step. The trajectory goes
to ``OUT/trajectory.h5`` and the analysis to ``OUT/analysis``.

    python examples/track_your_own_model.py [OUT]      # OUT defaults to $STATMECH_EXAMPLE_OUT or a temp dir

About 15 s on 2 CPU cores.
"""

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

import statmech_nn

WARMUP_EPOCHS, TRACKED_EPOCHS, LR, WEIGHT_DECAY, SEED = 4, 8, 0.01, 5e-4, 0


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(64, 48)
        self.hidden2 = nn.Linear(48, 32)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        return self.out(torch.relu(self.hidden2(torch.relu(self.hidden1(x)))))


def epoch(model, optimizer, x, y, rng):
    """One pass over the data in a random order, one sample per step."""
    for i in rng.permutation(len(x)):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        optimizer.step()


def main(out: Path) -> None:
    torch.set_num_threads(1)            # batch-1 steps of a small net gain nothing from threads
    torch.manual_seed(SEED)
    digits = load_digits()
    x = torch.as_tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.as_tensor(digits.target)
    model = SmallNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    rng = np.random.default_rng(SEED)

    for _ in range(WARMUP_EPOCHS):
        epoch(model, optimizer, x, y, rng)
    with statmech_nn.track(model, k=32, seed=SEED, optimizer=optimizer, out=out,
                           start_step=WARMUP_EPOCHS * len(x)) as tracker:
        for _ in range(TRACKED_EPOCHS):
            epoch(model, optimizer, x, y, rng)
    trajectory = tracker.trajectory
    print(f"tracked {trajectory.n_columns} weights over {trajectory.n_times - 1} steps -> {out / 'trajectory.h5'}")

    result = statmech_nn.analyze(trajectory)
    print(result.table().head())
    print(result.verdicts())
    result.save(out / "analysis")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("STATMECH_EXAMPLE_OUT")
    main(Path(target) if target else Path(tempfile.mkdtemp(prefix="track-example-")))
