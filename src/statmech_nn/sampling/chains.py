"""What every sampler returns (:class:`ChainRun`) and the block loop that drives a numba kernel.

A kernel advances C chains by n steps in place (its state: positions and one RNG row per chain, see
:mod:`statmech_nn.sampling.rng`) and records every ``thin``-th step. :func:`run_blocks` calls it first
for the burn-in (nothing recorded), then block by block, so that a progress bar (tqdm, stderr, with a
rate) can move and so that the result does not depend on the block size: the same seed gives the same
bits for any blocking and any number of threads.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tqdm import tqdm

from ..errors import ConvergenceError, ParameterError
from ..io import RunDirectory, Trajectory, write_json
from ..params import require_int

SUMMARY_FILE = "summary.json"
# Each block of a run holds about this many chain-steps (a fraction of a second of work).
BLOCK_CHAIN_STEPS = 1 << 23
# Without an explicit thinning a run keeps at most this many samples per chain.
DEFAULT_SAMPLES_PER_CHAIN = 2000


@dataclass(frozen=True)
class RunLength:
    """Steps per chain: ``burn_in`` unrecorded steps, then ``samples`` records, one every ``thin`` steps."""

    chains: int
    steps: int
    burn_in: int
    thin: int

    @classmethod
    def of(cls, chains, steps, burn_in=None, thin=None) -> "RunLength":
        """Validate; burn-in defaults to a quarter of the steps, thinning to ≤ 2000 samples per chain.

        The steps left after the burn-in that do not fill a whole thinning interval are added to the
        burn-in, so that ``burn_in + samples · thin == steps`` exactly.
        """
        chains = require_int("chains", chains, 1)
        steps = require_int("steps", steps, 4)
        if burn_in is None:
            burn_in = steps // 4
            if steps - burn_in < 4:
                raise ParameterError("steps", steps, ">= 6 (4 recorded steps after the default burn-in)")
        burn_in = require_int("burn_in", burn_in, 0)
        if steps - burn_in < 4:
            raise ParameterError("burn_in", burn_in, f"<= steps - 4 = {steps - 4}")
        if thin is None:
            thin = max(1, -(-(steps - burn_in) // DEFAULT_SAMPLES_PER_CHAIN))
        thin = require_int("thin", thin, 1)
        samples = (steps - burn_in) // thin
        if samples < 4:
            raise ParameterError("thin", thin, f"small enough to keep >= 4 samples of the {steps - burn_in} steps after burn-in")
        return cls(chains, steps, steps - samples * thin, thin)

    @property
    def samples(self) -> int:
        return (self.steps - self.burn_in) // self.thin

    def to_dict(self) -> dict:
        return {"chains": self.chains, "steps": self.steps, "burn_in": self.burn_in, "thin": self.thin,
                "samples": self.samples}


@dataclass
class ChainRun:
    """Thinned samples of C chains: q (T, C, K) and x (T, C, N) taken at steps t (T,), and how they were made."""

    q: np.ndarray
    x: np.ndarray
    t: np.ndarray
    method: str
    length: RunLength
    settings: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def chain_steps_per_s(self) -> float:
        """Chain-steps (burn-in included) per second of sampling wall time."""
        return self.length.chains * self.length.steps / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def to_trajectory(self, *, source: str, parameters: dict, names: list[str], seed=None,
                      step_size=None, metadata: dict | None = None) -> Trajectory:
        """The shared Trajectory: columns chain-major (column c·K + k is variable k of chain c).

        ``x`` holds one row per (time, chain), time-major: row r is chain r % C at sample r // C.
        """
        T, C, K = self.q.shape
        settings = {k: v for k, v in self.settings.items() if k != "seed"}  # the seed has its own attribute
        meta = {"method": self.method, **self.length.to_dict(), **settings, **self.stats,
                "x_rows": "time-major: row r is chain r % chains at sample r // chains", **(metadata or {})}
        return Trajectory(q=self.q.reshape(T, C * K), t=self.t, names=list(names) * C,
                          chain=np.repeat(np.arange(C), K), source=source, parameters=parameters, seed=seed,
                          step_size=step_size, x=self.x.reshape(T * C, self.x.shape[2]), metadata=meta)


Kernel = Callable[[int, int, np.ndarray, np.ndarray, np.ndarray], None]


def run_blocks(kernel: Kernel, length: RunLength, q_dim: int, x_dim: int, *, desc: str,
               progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Drive ``kernel(n_steps, thin, out_q, out_x, status)`` through burn-in and sampling.

    The kernel advances every chain by ``n_steps`` steps and writes the state after each ``thin``-th
    step into rows of ``out_q`` (rows, C, K) and ``out_x`` (rows, C, N) while rows remain; it sets
    ``status[c]`` to the (1-based) step at which chain c stopped being finite, and leaves it 0 otherwise.
    Returns (q, x, t, elapsed seconds). A non-finite chain raises :class:`ConvergenceError`.
    ``progress=None`` shows the bar only on a terminal.
    """
    C = length.chains
    q = np.empty((length.samples, C, q_dim))
    x = np.empty((length.samples, C, x_dim))
    status = np.zeros(C, np.int64)
    rows_per_block = max(1, BLOCK_CHAIN_STEPS // (C * length.thin))
    bar = tqdm(total=C * length.steps, desc=desc, unit="chain-step", unit_scale=True, file=sys.stderr,
               disable=(not sys.stderr.isatty()) if progress is None else not progress, leave=False)
    kernel(0, 1, q[:0], x[:0], status)   # compile (or load from numba's cache) outside the timing
    start = time.perf_counter()
    done = 0

    def advance(n_steps, thin, out_q, out_x):
        nonlocal done
        kernel(n_steps, thin, out_q, out_x, status)
        if status.any():
            bad = int(np.flatnonzero(status)[0])
            raise ConvergenceError(
                f"{desc}: chain {bad} left the finite numbers at step {done + int(status[bad])}: "
                "the discretized dynamics is unstable here; reduce the step size")
        done += n_steps
        bar.update(C * n_steps)

    with bar:
        empty_q, empty_x = q[:0], x[:0]
        burn_left = length.burn_in
        while burn_left > 0:
            n = min(burn_left, rows_per_block * length.thin)
            advance(n, n + 1, empty_q, empty_x)
            burn_left -= n
        for first in range(0, length.samples, rows_per_block):
            rows = min(rows_per_block, length.samples - first)
            advance(rows * length.thin, length.thin, q[first:first + rows], x[first:first + rows])
    elapsed = time.perf_counter() - start
    t = length.burn_in + length.thin * np.arange(1, length.samples + 1)
    return q, x, t, elapsed


def write_run_directory(out, trajectory: Trajectory, summary: dict, *, command: list[str], parameters: dict,
                        seed) -> RunDirectory:
    """Write ``trajectory.h5``, ``run.json`` (re-runnable: the command and all parameters) and ``summary.json``."""
    directory = RunDirectory(out).create()
    trajectory.save(directory.trajectory)
    directory.write_run_info(command=command, parameters=parameters, seed=seed)
    write_json(directory.path / SUMMARY_FILE, summary)
    return directory
