"""Runs stream into trajectory.h5 block by block and resume bit-identically from checkpoint.npz."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.io import Trajectory
from statmech_nn.sampling import chains as chains_module
from statmech_nn.sampling.chain_store import CHECKPOINT_FILE, ChainStore

ARGS = ["sample", "quartic", "--lambda-x", "-0.3", "--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--beta", "1",
        "--mu", "0.5", "--chains", "4", "--steps", "3000", "--thin", "5", "--seed", "2", "--json"]


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(chains_module, "BLOCK_CHAIN_STEPS", 4 * 5 * 40)   # 40 rows (200 steps) per block


def interrupt_after(monkeypatch, checkpoints):
    """Make the run stop (as by Ctrl-C) right after its ``checkpoints``-th checkpoint."""
    original = ChainStore.save_checkpoint
    calls = []

    def save_then_stop(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == checkpoints:
            raise KeyboardInterrupt

    monkeypatch.setattr(ChainStore, "save_checkpoint", save_then_stop)


@pytest.mark.parametrize("method", ["mh", "langevin"])
def test_interrupted_run_resumes_to_the_same_bits(method, tmp_path, capsys, monkeypatch, small_blocks):
    argv = ARGS + ["--method", method, "--epsilon", "0.2"]
    assert main(argv + ["--out", str(tmp_path / "whole")]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert not (tmp_path / "whole" / CHECKPOINT_FILE).exists()

    with monkeypatch.context() as patch:
        interrupt_after(patch, 7)                                   # burn-in (4 blocks) and 3 sampling blocks
        assert main(argv + ["--out", str(tmp_path / "cut")]) == 130
    capsys.readouterr()
    partial = Trajectory.load(tmp_path / "cut")
    assert partial.q.shape == (120, 4) and partial.x.shape == (480, 1)
    # rows written after the last checkpoint (a kill between the two writes) are dropped on resume
    assert main(argv + ["--out", str(tmp_path / "cut"), "--resume"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    a, b = Trajectory.load(tmp_path / "whole"), Trajectory.load(tmp_path / "cut")
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.t, b.t)
    assert a.metadata == b.metadata and b.metadata["method"] == method
    assert resumed["q2_mean"] == whole["q2_mean"] and resumed.get("acceptance_q") == whole.get("acceptance_q")
    assert not (tmp_path / "cut" / CHECKPOINT_FILE).exists()


def test_resume_refuses_what_it_cannot_continue(tmp_path, capsys, small_blocks):
    argv = ARGS + ["--method", "mh", "--out", str(tmp_path)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv + ["--resume"]) == 2                            # the run completed
    assert "nothing to resume" in capsys.readouterr().err
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"")                     # pretend an interrupted run
    changed = [a if a != "3000" else "4000" for a in argv]
    assert main(changed + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "different run" in err and "steps" in err and err.count("\n") == 1
    assert main(ARGS + ["--method", "exact", "--out", str(tmp_path), "--resume"]) == 2
    assert "resume" in capsys.readouterr().err
