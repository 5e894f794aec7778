"""Data safety of run directories (issue 12): the directory named by --out, one writer, no silent overwrite,
outcomes in run.json, verified resumes, divergence, a full disk, strict JSON, kills at random moments."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.io import Trajectory, read_json, write_json
from statmech_nn.networks.torch_checkpoint import TrainingStore, list_checkpoints
from statmech_nn.sampling import chains as chains_module
from statmech_nn.sampling.chain_store import CHECKPOINT_FILE, ChainStore

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NUMBA_NUM_THREADS": "1"}
TRAIN = ["train", "--arch", "mlp:64-16-10", "--dataset", "digits", "--lr", "0.01", "--track", "6", "--no-progress",
         "--torch-threads", "1", "--n-train", "200", "--n-test", "50", "--device", "cpu"]
SAMPLE = ["sample", "quartic", "--lambda-x", "-0.3", "--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--beta", "1",
          "--mu", "0.5", "--chains", "4", "--steps", "3000", "--thin", "5", "--seed", "2", "--json", "--method", "mh"]
LINEARIZED = ["sample", "linearized", "--model", "linearized_small", "--chains", "4",
              "--steps", "600", "--seed", "1", "--json"]

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(chains_module, "BLOCK_CHAIN_STEPS", 4 * 5 * 40)   # 40 rows (200 steps) per block


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def outcome(directory) -> str:
    return read_json(Path(directory) / "run.json")["outcome"]


def arrays(directory):
    with h5py.File(Path(directory) / "trajectory.h5") as f:
        return {name: f[name][...] for name in ("t", "q", "x") if name in f}


def assert_same_bits(a, b):
    left, right = arrays(a), arrays(b)
    assert left.keys() == right.keys()
    for name in left:
        np.testing.assert_array_equal(left[name], right[name])


def stop_train_at_checkpoint(monkeypatch, n: int, before: bool = False):
    """Ctrl-C at the n-th training checkpoint (before or after it is written)."""
    original, calls = TrainingStore.save_checkpoint, []

    def save(self, *args, **kwargs):
        calls.append(1)
        if before and len(calls) == n:
            raise KeyboardInterrupt
        path = original(self, *args, **kwargs)
        if len(calls) == n:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(TrainingStore, "save_checkpoint", save)


def stop_sampler_at_checkpoint(monkeypatch, n: int, before: bool = False):
    """Ctrl-C at the n-th sampler checkpoint (before or after it is written)."""
    original, calls = ChainStore.save_checkpoint, []

    def save(self, *args, **kwargs):
        calls.append(1)
        if before and len(calls) == n:
            raise KeyboardInterrupt
        original(self, *args, **kwargs)
        if len(calls) == n:
            raise KeyboardInterrupt

    monkeypatch.setattr(ChainStore, "save_checkpoint", save)


# 1. the run directory is the one named by --out --------------------------------------------------------------
def test_resume_continues_the_directory_named_by_out_from_any_working_directory(tmp_path, capsys, monkeypatch):
    argv = [*TRAIN, "--epochs", "3", "--checkpoint-every", "100"]
    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as patch:
        stop_train_at_checkpoint(patch, 2)
        assert run(capsys, *argv, "--out", "kA")[0] == 130
    assert outcome("kA") == "interrupted"
    shutil.copytree("kA", "kB")
    original = (tmp_path / "kA" / "trajectory.h5").read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    status, out, err = run(capsys, "train", "--out", "../kB", "--resume", "--json", "--no-progress")
    assert status == 0, err
    assert json.loads(out)["out"] == "../kB"
    assert (tmp_path / "kA" / "trajectory.h5").read_bytes() == original and outcome(tmp_path / "kA") == "interrupted"
    assert outcome(tmp_path / "kB") == "completed"
    assert run(capsys, *argv, "--out", tmp_path / "reference")[0] == 0
    assert_same_bits(tmp_path / "kB", tmp_path / "reference")
    # a damaged copy is not "resumed" by continuing the original: its own damage is found
    shutil.copytree(tmp_path / "kA", tmp_path / "kC")
    for checkpoint in list_checkpoints(tmp_path / "kC" / "checkpoints"):
        checkpoint.write_bytes(b"damaged")
    status, _, err = run(capsys, "train", "--out", tmp_path / "kC", "--resume")
    assert status == 2 and "no intact checkpoint" in err and err.count("\n") == 1


# 2. one writer at a time -------------------------------------------------------------------------------------
def test_a_second_writer_is_refused_and_the_first_run_is_untouched(tmp_path, capsys):
    out = tmp_path / "D"
    long = [a if a != "3000" else "40000000" for a in SAMPLE] + ["--out", str(out)]
    first = subprocess.Popen([sys.executable, "-m", "statmech_nn", *long], env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (out / CHECKPOINT_FILE).exists() and time.monotonic() < deadline:
            assert first.poll() is None, first.stderr.read().decode()
            time.sleep(0.05)
        with h5py.File(out / "trajectory.h5", "r", locking=False) as f:
            rows_before = f["q"].shape[0]
        for extra in ([], ["--overwrite"]):
            second = subprocess.run([sys.executable, "-m", "statmech_nn", *long, *extra], env=ENV,
                                    capture_output=True, text=True, timeout=120)
            assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
            assert f"pid {first.pid}" in second.stderr and "being written" in second.stderr
        assert first.poll() is None                                       # the first run goes on
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    trajectory = Trajectory.load(out)                                     # readable, nothing truncated
    assert trajectory.q.shape[0] >= rows_before
    assert outcome(out) == "running"                                      # killed: no outcome recorded
    # the kernel dropped the killed process's lock: the next writer takes it (and is refused for its arguments)
    status, _, err = run(capsys, *long[:-2], "--out", out, "--resume", "--seed", "9")
    assert status == 2 and "different run" in err and "being written" not in err


# 3. never overwritten without --overwrite; restart and resume after early kills ---------------------------------
def test_an_existing_run_is_never_overwritten_without_overwrite(tmp_path, capsys, small_blocks):
    out = tmp_path / "run"
    assert run(capsys, *SAMPLE, "--out", out)[0] == 0
    rows = Trajectory.load(out).q.shape[0]
    status, _, err = run(capsys, *SAMPLE, "--seed", "3", "--out", out)
    assert status == 2 and "already holds a run" in err and "--overwrite" in err and err.count("\n") == 1
    assert Trajectory.load(out).q.shape[0] == rows and read_json(out / "run.json")["parameters"]["seed"] == 2
    assert run(capsys, *SAMPLE, "--seed", "3", "--out", out, "--overwrite")[0] == 0
    assert read_json(out / "run.json")["parameters"]["seed"] == 3 and outcome(out) == "completed"
    diagram = ["cw", "phase-diagram", "--n", "0", "--t", "0.5:1.5:3", "--b=-0.1:0.1:3", "--out", tmp_path / "cw"]
    assert run(capsys, *diagram)[0] == 0
    status, _, err = run(capsys, *diagram)
    assert status == 2 and "already holds a run" in err
    assert run(capsys, *diagram, "--overwrite")[0] == 0
    scan = ["scan", "quartic", "--grid", "alpha=0.5:1:2", "--lambda-x", "-0.3", "--g", "1", "--lambda-q", "1",
            "--beta", "1", "--mu", "0", "--no-figures", "--out", tmp_path / "scan.nc"]
    assert run(capsys, *scan)[0] == 0
    # a scan's store is its run: the same command again resumes it (nothing recomputed, issue 13), another grid into
    # the same store is refused, --overwrite starts afresh
    status, payload, _ = run(capsys, *scan, "--json")
    assert status == 0 and json.loads(payload)["computed"] == 0
    other = [*scan[:3], "alpha=0.5:1:3", *scan[4:]]
    status, _, err = run(capsys, *other)
    assert status == 2 and "another scan" in err
    status, payload, _ = run(capsys, *scan, "--overwrite", "--json")
    assert status == 0 and json.loads(payload)["computed"] == 2


def test_a_train_stopped_before_its_first_checkpoint_resumes_from_step_zero_or_restarts(tmp_path, capsys,
                                                                                         monkeypatch):
    argv = [*TRAIN, "--epochs", "1", "--checkpoint-every", "50"]
    for name in ("resumed", "restarted"):
        with monkeypatch.context() as patch:
            stop_train_at_checkpoint(patch, 1, before=True)
            assert run(capsys, *argv, "--out", tmp_path / name)[0] == 130
        assert not list_checkpoints(tmp_path / name / "checkpoints") and outcome(tmp_path / name) == "interrupted"
    assert run(capsys, "train", "--out", tmp_path / "resumed", "--resume", "--no-progress")[0] == 0
    status, _, err = run(capsys, *argv, "--out", tmp_path / "restarted")
    assert status == 2 and "already holds a run" in err
    assert run(capsys, *argv, "--out", tmp_path / "restarted", "--overwrite")[0] == 0
    assert run(capsys, *argv, "--out", tmp_path / "reference")[0] == 0
    assert_same_bits(tmp_path / "resumed", tmp_path / "reference")
    assert_same_bits(tmp_path / "restarted", tmp_path / "reference")


@pytest.mark.parametrize("argv, burn_in", [(SAMPLE, 2000), (LINEARIZED, 400)])
def test_a_sampler_stopped_during_burn_in_resumes_to_the_same_bits(argv, burn_in, tmp_path, capsys, monkeypatch,
                                                                   small_blocks):
    argv = [*argv, "--burn-in", str(burn_in)]
    for name, stop, before in (("burn", 2, False), ("first", 1, True)):
        with monkeypatch.context() as patch:
            stop_sampler_at_checkpoint(patch, stop, before)
            assert run(capsys, *argv, "--out", tmp_path / name)[0] == 130
        assert Trajectory.load(tmp_path / name).q.shape[0] == 0 and outcome(tmp_path / name) == "interrupted"
        status, _, err = run(capsys, *argv, "--out", tmp_path / name, "--resume")
        assert status == 0, err
    assert run(capsys, *argv, "--out", tmp_path / "whole")[0] == 0
    assert_same_bits(tmp_path / "burn", tmp_path / "whole")
    assert_same_bits(tmp_path / "first", tmp_path / "whole")


# 4. resume verifies what it keeps; changed arguments -----------------------------------------------------------
def test_train_resume_falls_back_to_the_previous_intact_checkpoint_and_verifies_its_rows(tmp_path, capsys,
                                                                                         monkeypatch):
    argv = [*TRAIN, "--epochs", "2", "--checkpoint-every", "60", "--keep-checkpoints", "2"]
    for name in ("fallback", "changed"):
        with monkeypatch.context() as patch:
            stop_train_at_checkpoint(patch, 3)
            assert run(capsys, *argv, "--out", tmp_path / name)[0] == 130
    newest = list_checkpoints(tmp_path / "fallback" / "checkpoints")[-1]
    newest.write_bytes(newest.read_bytes()[:-200])                        # a truncated newest checkpoint
    status, _, err = run(capsys, "train", "--out", tmp_path / "fallback", "--resume", "--no-progress")
    assert status == 0 and "older checkpoint" in err
    assert run(capsys, *argv, "--out", tmp_path / "reference")[0] == 0
    assert_same_bits(tmp_path / "fallback", tmp_path / "reference")
    with h5py.File(tmp_path / "changed" / "trajectory.h5", "r+") as f:   # a kept row overwritten with NaN
        f["q"][3] = np.nan
    status, _, err = run(capsys, "train", "--out", tmp_path / "changed", "--resume", "--no-progress")
    assert status == 2 and "digest mismatch" in err and "--overwrite" in err and err.count("\n") == 1


def test_sampler_resume_refuses_kept_rows_that_changed(tmp_path, capsys, monkeypatch, small_blocks):
    with monkeypatch.context() as patch:
        stop_sampler_at_checkpoint(patch, 8)
        assert run(capsys, *SAMPLE, "--out", tmp_path)[0] == 130
    with h5py.File(tmp_path / "trajectory.h5", "r+") as f:
        f["x"][5] = np.nan
    status, _, err = run(capsys, *SAMPLE, "--out", tmp_path, "--resume")
    assert status == 2 and "digest mismatch" in err and err.count("\n") == 1


def test_resume_with_changed_arguments_extends_the_run_or_names_what_it_refuses(tmp_path, capsys, monkeypatch):
    argv = [*TRAIN, "--checkpoint-every", "80"]
    with monkeypatch.context() as patch:
        stop_train_at_checkpoint(patch, 2)
        assert run(capsys, *argv, "--epochs", "1", "--out", tmp_path / "run")[0] == 130
    status, _, err = run(capsys, "train", "--out", tmp_path / "run", "--resume", "--lr", "0.5", "--steps", "9999")
    assert status == 2 and "--lr 0.5" in err and "--steps 9999" in err and err.count("\n") == 1
    status, _, err = run(capsys, "train", "--out", tmp_path / "run", "--resume", "--epochs", "3", "--no-progress")
    assert status == 0, err
    assert read_json(tmp_path / "run" / "run.json")["parameters"]["epochs"] == 3
    assert run(capsys, *argv, "--epochs", "3", "--out", tmp_path / "reference")[0] == 0
    assert_same_bits(tmp_path / "run", tmp_path / "reference")


# 5. outcomes: divergence, incomplete runs refused by their readers --------------------------------------------
@pytest.mark.parametrize("backend, arch", [("torch", "mlp:64-16-10"), ("fast", "mlp:64-16-10")])
def test_a_diverging_training_stops_with_one_line_and_records_diverged(backend, arch, tmp_path, capsys):
    argv = [*TRAIN, "--arch", arch, "--backend", backend, "--epochs", "2", "--out", tmp_path]
    status, _, err = run(capsys, *[a if a != "0.01" else "1e8" for a in argv])
    assert status == 2 and err.count("\n") == 1 and "diverged" in err and "learning rate 1e+08" in err, err
    assert outcome(tmp_path) == "diverged"
    status, _, err = run(capsys, "analyze", tmp_path, "--out", tmp_path / "analysis")
    assert status == 2 and "did not complete (diverged)" in err and "--allow-incomplete" in err
    assert run(capsys, *argv, "--overwrite")[0] == 0 and outcome(tmp_path) == "completed"


def test_analyze_and_probe_refuse_an_interrupted_run_unless_allowed(tmp_path, capsys, monkeypatch):
    with monkeypatch.context() as patch:
        stop_train_at_checkpoint(patch, 2)
        assert run(capsys, *TRAIN, "--epochs", "2", "--checkpoint-every", "150", "--out", tmp_path / "run")[0] == 130
    for command in (["analyze", tmp_path / "run", "--no-figures", "--gof-bootstrap", "0"], ["probe", tmp_path / "run"]):
        status, _, err = run(capsys, *command, "--out", tmp_path / command[0])
        assert status == 2 and "did not complete (interrupted)" in err and err.count("\n") == 1
        status, out, err = run(capsys, *command, "--out", tmp_path / f"{command[0]}-anyway", "--allow-incomplete",
                               "--json")
        assert status == 0, err
        assert json.loads(out)["source_run_outcome"] == "interrupted"
    assert read_json(tmp_path / "analyze-anyway" / "summary.json")["source_run_incomplete"] is True


# 6. a full disk ------------------------------------------------------------------------------------------------
def _small_filesystem(path: Path, size: str) -> bool:
    """Mount a tmpfs of ``size`` at ``path``; False when this machine does not allow it (not root, no mount)."""
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def full_disk(tmp_path):
    """A real 1 MiB file system (tmpfs), and whether the machine allowed mounting it."""
    disk = tmp_path / "disk"
    mounted = _small_filesystem(disk, "1m")
    yield disk, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(disk)], check=True)


@pytest.mark.parametrize("command", ["sample", "train"])
def test_a_full_disk_fails_with_one_line_and_the_run_resumes_when_there_is_room(command, full_disk, tmp_path, capsys):
    disk, mounted = full_disk
    if not mounted:
        pytest.skip("capability check: this machine cannot mount a small tmpfs (needs root and mount)")
    if command == "sample":
        argv = [a if a != "3000" else "200000" for a in SAMPLE] + ["--thin", "1", "--burn-in", "10"]
    else:
        argv = [*TRAIN, "--track", "200", "--epochs", "20", "--checkpoint-every", "100"]
    out = disk / "run"
    ballast = disk / "ballast"
    ballast.write_bytes(b"\0" * 300_000)
    full = subprocess.run([sys.executable, "-m", "statmech_nn", *argv, "--out", str(out)], env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert full.returncode == 2, full.stderr[-3000:]
    assert full.stderr.count("\n") == 1 and "No space left on device" in full.stderr, full.stderr
    assert outcome(out) == "failed: no space left on device"
    ballast.unlink()
    shutil.copytree(out, tmp_path / "copy")                                # resumed with room to spare
    again = subprocess.run([sys.executable, "-m", "statmech_nn", *argv, "--out", str(tmp_path / "copy"), "--resume"],
                           env=ENV, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert outcome(tmp_path / "copy") == "completed"
    assert main([*argv, "--out", str(tmp_path / "reference")]) == 0
    assert_same_bits(tmp_path / "copy", tmp_path / "reference")


# 7. strict JSON on disk ----------------------------------------------------------------------------------------
def _strict(path):
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}")
    return json.loads(Path(path).read_text(), parse_constant=refuse)


def test_json_files_on_disk_are_strict(tmp_path, capsys):
    write_json(tmp_path / "x.json", {"a": float("nan"), "b": [np.float32("inf"), 1.5], "c": np.array([np.nan, 2.0])})
    assert _strict(tmp_path / "x.json") == {"a": None, "b": [None, 1.5], "c": [None, 2.0]}
    # an autoencoder has no accuracy (NaN in memory): metrics.json and the printed summary stay strict JSON
    assert run(capsys, *TRAIN, "--arch", "autoencoder:8", "--steps", "30", "--out", tmp_path / "run")[0] == 0
    for name in ("run.json", "metrics.json"):
        _strict(tmp_path / "run" / name)
    assert _strict(tmp_path / "run" / "metrics.json")["columns"]["test_accuracy"][-1] is None


# 8. killed at a random moment (seeded), resumed bit for bit -------------------------------------------------------
QUARTIC = [a for a in SAMPLE if a not in ("--json",)][:-2]             # without --method mh
KILLS = {
    "train-fast": ([*TRAIN, "--arch", "mlp:64-128-10", "--backend", "fast", "--epochs", "200",
                    "--checkpoint-every", "300"], "checkpoints", signal.SIGKILL),
    "train-torch": ([*TRAIN, "--epochs", "30", "--checkpoint-every", "70"], "checkpoints", signal.SIGKILL),
    "mh": ([*[a if a not in ("4", "3000") else {"4": "8", "3000": "1500000"}[a] for a in QUARTIC], "--method", "mh"],
           CHECKPOINT_FILE, signal.SIGKILL),
    "langevin": ([*[a if a not in ("4", "3000") else {"4": "16", "3000": "1500000"}[a] for a in QUARTIC],
                  "--method", "langevin", "--epsilon", "0.2"], CHECKPOINT_FILE, signal.SIGKILL),
    "train-torch-sigterm": ([*TRAIN, "--epochs", "30", "--checkpoint-every", "70"], "checkpoints", signal.SIGTERM),
}


@pytest.mark.parametrize("scenario", sorted(KILLS))
def test_killed_at_a_random_moment_then_resumed_gives_the_uninterrupted_bits(scenario, tmp_path, capsys):
    argv, marker, how = KILLS[scenario]
    moment = np.random.default_rng(sorted(KILLS).index(scenario)).uniform(0.0, 0.5)
    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "statmech_nn", *argv, "--out", str(killed)], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (killed / marker).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(moment)                                      # a random moment after the first checkpoint
    assert process.poll() is None, "the run ended before the kill: make it longer"
    process.send_signal(how)
    process.wait()
    stderr = process.stderr.read().decode()
    if how == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL, stderr[-2000:]
        assert outcome(killed) == "running"
    elif process.returncode != 0:   # SIGTERM ends a run as Ctrl-C does: "interrupted", exit 130, resumable
        assert process.returncode == 130 and "interrupted" in stderr, stderr[-2000:]
        assert outcome(killed) == "interrupted"
    else:   # Python drops a KeyboardInterrupt raised inside a finalizer (as for Ctrl-C): then the run completed
        assert outcome(killed) == "completed"
    resumed = subprocess.run([sys.executable, "-m", "statmech_nn", *argv, "--out", str(killed), "--resume"],
                             env=ENV, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert main([*argv, "--out", str(tmp_path / "reference")]) == 0
    assert_same_bits(killed, tmp_path / "reference")
    assert outcome(killed) == "completed"
    if marker == "checkpoints":     # a training run: its metrics are the uninterrupted run's too
        m_killed = read_json(killed / "metrics.json")["columns"]
        m_reference = read_json(tmp_path / "reference" / "metrics.json")["columns"]
        for key in ("step", "train_loss", "test_loss", "test_accuracy", "equilibrium"):
            assert m_killed[key] == m_reference[key], key


def test_linearized_stopped_at_a_random_block_resumes_to_the_same_bits(tmp_path, capsys, monkeypatch,
                                                                       small_blocks):
    block = int(np.random.default_rng(5).integers(1, 4))        # of the run's 4 checkpoints
    with monkeypatch.context() as patch:
        stop_sampler_at_checkpoint(patch, block)
        assert run(capsys, *LINEARIZED, "--out", tmp_path / "cut")[0] == 130
    assert run(capsys, *LINEARIZED, "--out", tmp_path / "cut", "--resume")[0] == 0
    assert run(capsys, *LINEARIZED, "--out", tmp_path / "whole")[0] == 0
    assert_same_bits(tmp_path / "cut", tmp_path / "whole")
