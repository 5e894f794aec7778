"""A training command killed by SIGKILL once its first checkpoint is on disk (the kill/resume tests share it)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from statmech_nn.networks.torch_checkpoint import list_checkpoints

SOURCE = str(Path(__file__).resolve().parents[1] / "src")


def sigkill_after_first_checkpoint(argv: list[str], out: Path, wait_s: float = 120) -> list[Path]:
    """Run ``statmech-nn ARGV --out OUT`` in a child process, SIGKILL it as soon as a checkpoint exists (or after
    ``wait_s``), assert it died of the kill, and return the checkpoints it left."""
    env = {**os.environ, "PYTHONPATH": SOURCE}
    process = subprocess.Popen([sys.executable, "-m", "statmech_nn", *argv, "--out", str(out)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + wait_s
    while not list_checkpoints(out / "checkpoints") and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    return list_checkpoints(out / "checkpoints")
