"""Tiny scan tasks for tests/test_scan_engine.py (importable by worker processes through PYTHONPATH)."""

import os
import signal
import time
from pathlib import Path

import numpy as np

from statmech_nn.scan.tasks import task


@task
def square(x, delay=0.0, bad=None, **_spec):
    """y = x², a small curve over k, after ``delay`` seconds; fails for x == bad."""
    time.sleep(delay)
    if bad is not None and x == bad:
        raise ValueError(f"x = {x} is the bad cell")
    return {"y": x * x, "curve": (("k",), x * np.arange(3.0)), "label": "big" if x > 4 else "small"}


@task
def die_once(x, marker_dir, **_spec):
    """The first attempt at x = 1 kills its own worker process (SIGKILL); later attempts succeed."""
    marker = Path(marker_dir) / f"attempt_{x:g}"
    if x == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return {"y": 2 * x}


def unmarked(x, **_spec):
    """Not a scan task: a spec naming it is refused."""
    return {"y": x}


@task
def fail_once(x, marker_dir, **_spec):
    """The first attempt at each x fails (it leaves a marker); later attempts succeed."""
    marker = Path(marker_dir) / f"failed_{x:g}"
    if not marker.exists():
        marker.write_text("1")
        raise RuntimeError(f"first attempt at x = {x}")
    return {"y": 3 * x}
