"""The examples run as a user runs them (a subprocess), each writing into a temporary directory."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from statmech_nn.io import Trajectory

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_track_your_own_model(tmp_path):
    env = {**os.environ, "STATMECH_EXAMPLE_OUT": str(tmp_path)}
    done = subprocess.run([sys.executable, str(EXAMPLES / "track_your_own_model.py")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    trajectory = Trajectory.load(tmp_path)
    assert trajectory.n_columns == 32 and trajectory.n_times == 8 * 1797 + 1
    assert trajectory.source == "networks.track" and trajectory.t[0] == 4 * 1797
    assert "tracked 32 weights over 14376 steps" in done.stdout
    assert (tmp_path / "analysis").is_dir() and any((tmp_path / "analysis").iterdir())
