"""Peak memory and time of ``analyze`` on a trajectory file: the streaming path (the file read in blocks,
:mod:`statmech_nn.compare.streaming`) against the in-memory path (the file read whole into a Trajectory), at a size
both can run; then the streaming path alone at 002 §5's length on full MNIST (issue 23: 200 epochs = 1.2·10⁷ steps
× 64 weights).

Each analysis runs in a child process (``AnalysisOptions(figures=False)``, every other option at its default); its
peak memory is the child's ``ru_maxrss`` (the interpreter and imports included), its time the wall time of the
analysis call. The trajectories are written block by block in float32 (the trainer's default dtype), with
plain-SGD dynamics recorded (lr 2e-3, L2 5e-4: κ recorded): K random walks of Student-t (ν = 3) steps. The check: the
two paths give the same verdicts at the shared size, and the streaming path's peak at the large size is under the
target (2 GB). The machine is shared (2 cores): the line quotes the load average before and after.

Measured 2026-12-07 (2 shared cores, load average 7-12 throughout, nice 10): at 2·10⁵ × 64 the in-memory path peaked
at 2020 MB in 345 s, the streaming path at 1253 MB in 141 s, the same verdicts; at 1.2·10⁷ × 64 (a 3.0 GB float32
file, written in 163 s) the streaming path peaked at 1582 MB in 485 s. The growth from 1253 to 1582 MB is the Welch
segment (2^14 -> 2^20 rows: its float32 buffer and the (K, 2^19 + 1) periodogram, about 270 MB each).

Run: PYTHONPATH=benchmarks:src nice -n 10 .venv/bin/python benchmarks/bench_streaming.py
     [--both-rows 200000] [--stream-rows 12000000] [--columns 64] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_MB = 2048.0
BLOCK = 1 << 16


def write_trajectory(path: Path, rows: int, columns: int, seed: int = 0) -> float:
    """K random walks of t(3) steps × 1e-3, float32, written in blocks; returns the seconds it took."""
    from statmech_nn.io import Dynamics, RunHeader, TrajectoryWriter

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    header = RunHeader(source="bench:streaming", model={}, dynamics=Dynamics("sgd", lr=2e-3, weight_decay=5e-4,
                                                                             momentum=0.0), seed=seed)
    level = rng.normal(0.0, 0.05, columns)
    with TrajectoryWriter.create(path, [f"w{j}" for j in range(columns)], header=header, dtype=np.float32,
                                 chunk_rows=4096) as writer:
        for first in range(0, rows, BLOCK):
            n = min(BLOCK, rows - first)
            walk = level + np.cumsum(rng.standard_t(3.0, (n, columns)) * 1e-3, axis=0)
            level = walk[-1]
            writer.append(np.arange(first, first + n), walk.astype(np.float32))
    return time.perf_counter() - start


def child(mode: str, path: str) -> None:
    """Analyse ``path`` in this process and print {seconds, peak_mb, verdicts} as one JSON line."""
    import warnings

    from statmech_nn.compare.analysis import AnalysisOptions, analyze_trajectory
    from statmech_nn.io import Trajectory

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    source = Trajectory.load(path) if mode == "memory" else path
    analysis = analyze_trajectory(source, AnalysisOptions(figures=False))
    seconds = time.perf_counter() - start
    verdicts = {v.id: v.verdict for v in analysis.verdicts()}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "verdicts": verdicts}))


def measure(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--both-rows", type=int, default=200_000)
    parser.add_argument("--stream-rows", type=int, default=12_000_000)
    parser.add_argument("--columns", type=int, default=64)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from harness import report

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        small, large = Path(directory) / "small.h5", Path(directory) / "large.h5"
        write_trajectory(small, args.both_rows, args.columns)
        memory, stream = measure("memory", small), measure("stream", small)
        small.unlink()
        written = write_trajectory(large, args.stream_rows, args.columns, seed=1) if args.stream_rows else None
        file_mb = large.stat().st_size / 2**20 if args.stream_rows else None
        big = measure("stream", large) if args.stream_rows else None
    same = memory["verdicts"] == stream["verdicts"]
    report("streaming_analysis", ours_s=stream["seconds"], reference_s=memory["seconds"],
           check={"passed": bool(same and (big is None or big["peak_mb"] < TARGET_MB)), "verdicts_equal": same,
                  "large_under_target": None if big is None else big["peak_mb"] < TARGET_MB},
           unit="seconds per analysis (wall); peak_mb = ru_maxrss of the child process",
           both={"rows": args.both_rows, "columns": args.columns, "memory_peak_mb": memory["peak_mb"],
                 "stream_peak_mb": stream["peak_mb"], "memory_s": memory["seconds"], "stream_s": stream["seconds"],
                 "verdicts": stream["verdicts"]},
           stream_only=None if big is None else {"rows": args.stream_rows, "columns": args.columns,
                                                 "file_mb": file_mb, "write_s": written, "peak_mb": big["peak_mb"],
                                                 "seconds": big["seconds"], "verdicts": big["verdicts"],
                                                 "target_mb": TARGET_MB},
           load_before=load_before, load_after=os.getloadavg())


if __name__ == "__main__":
    main()
