"""What every sampler returns (:class:`ChainRun`) and the block loop that drives a numba kernel.

A kernel advances C chains by n steps in place (its state: positions and one RNG row per chain, see
:mod:`statmech_nn.rng`) and records every ``thin``-th step. :func:`run_blocks` calls it first
for the burn-in (nothing recorded), then block by block, so that a progress bar (tqdm, stderr, with a
rate) can move, so that a run streams into its run directory and resumes from a checkpoint
(:mod:`statmech_nn.sampling.chain_store`), and so that the result does not depend on the block size: the same
seed gives the same bits for any blocking and any number of threads.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from ..errors import DataError, DivergenceError, ParameterError
from ..io import SUMMARY_FILE, Dynamics, Trajectory, write_json
from ..runs.directory import RunDirectory
from ..params import require_int

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
    def of(cls, chains, steps, burn_in=None, thin=None) -> RunLength:
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
            raise ParameterError("thin", thin,
                                 f"small enough to keep >= 4 samples of the {steps - burn_in} steps after burn-in")
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
    steps_run: int | None = None

    @property
    def chain_steps_per_s(self) -> float:
        """Chain-steps (burn-in included) per second of sampling wall time, counting the steps of this call
        (a resumed run counts only what it ran)."""
        steps = self.length.steps if self.steps_run is None else self.steps_run
        return self.length.chains * steps / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def metadata(self, extra: dict | None = None) -> dict:
        """The Trajectory attributes of this run: method, run length, settings (but the seed), statistics."""
        settings = {k: v for k, v in self.settings.items() if k != "seed"}  # the seed has its own attribute
        return {"method": self.method, **self.length.to_dict(), **settings, **self.stats,
                "x_rows": "time-major: row r is chain r % chains at sample r // chains", **(extra or {})}

    def dynamics(self) -> Dynamics:
        """The run header's dynamics: the method with its dt, ε and integrator where it has them."""
        return Dynamics(self.method, **{key: self.settings[key] for key in ("dt", "epsilon", "integrator")
                                        if self.settings.get(key) is not None})

    def to_trajectory(self, *, source: str, parameters: dict, names: list[str], seed=None,
                      metadata: dict | None = None) -> Trajectory:
        """The shared Trajectory: columns chain-major (column c·K + k is variable k of chain c).

        ``x`` holds one row per (time, chain), time-major: row r is chain r % C at sample r // C.
        """
        T, C, K = self.q.shape
        return Trajectory(q=self.q.reshape(T, C * K), t=self.t, names=list(names) * C,
                          chain=np.repeat(np.arange(C), K), source=source, parameters=parameters, seed=seed,
                          dynamics=self.dynamics(), x=self.x.reshape(T * C, self.x.shape[2]),
                          metadata=self.metadata(metadata))


Kernel = Callable[[int, int, np.ndarray, np.ndarray, np.ndarray], None]


def block_schedule(length: RunLength) -> list[tuple[int, int, int, int]]:
    """The blocks of a run, (steps, thin, first row, rows): burn-in blocks (nothing recorded), then sampling."""
    rows_per_block = max(1, BLOCK_CHAIN_STEPS // (length.chains * length.thin))
    blocks = []
    burn_left = length.burn_in
    while burn_left > 0:
        n = min(burn_left, rows_per_block * length.thin)
        blocks.append((n, n + 1, 0, 0))
        burn_left -= n
    for first in range(0, length.samples, rows_per_block):
        rows = min(rows_per_block, length.samples - first)
        blocks.append((rows * length.thin, length.thin, first, rows))
    return blocks


@dataclass
class BlockResult:
    """What :func:`run_blocks` returns: the recorded samples, their steps, and the work done in this call."""

    q: np.ndarray
    x: np.ndarray
    t: np.ndarray
    elapsed_s: float
    steps_run: int


def run_blocks(kernel: Kernel, length: RunLength, q_dim: int, x_dim: int, *, desc: str,
               progress: bool | None = None, state: dict | None = None, store=None) -> BlockResult:
    """Drive ``kernel(n_steps, thin, out_q, out_x, status)`` through burn-in and sampling.

    The kernel advances every chain by ``n_steps`` steps and writes the state after each ``thin``-th
    step into rows of ``out_q`` (rows, C, K) and ``out_x`` (rows, C, N) while rows remain; it sets
    ``status[c]`` to the (1-based) step at which chain c stopped being finite, and leaves it 0 otherwise.
    A non-finite chain raises :class:`DivergenceError` (a ConvergenceError; its run records ``diverged``).
    ``progress=None`` shows the bar only on a terminal.

    With a :class:`~statmech_nn.sampling.chain_store.ChainStore`, every block's rows are appended to its
    trajectory and ``state`` (the arrays the kernel advances, by name) is checkpointed after the block;
    a store reopened from a checkpoint restores ``state`` and continues with the next block.
    """
    C = length.chains
    q = np.empty((length.samples, C, q_dim))
    x = np.empty((length.samples, C, x_dim))
    t = length.burn_in + length.thin * np.arange(1, length.samples + 1)
    status = np.zeros(C, np.int64)
    blocks = block_schedule(length)
    first_block, done = 0, 0
    if store is not None and store.checkpoint is not None:
        checkpoint = store.restore(state, q, x)
        first_block, done = checkpoint.blocks_done, checkpoint.steps_done
        if first_block > len(blocks) or done != sum(block[0] for block in blocks[:first_block]):
            raise DataError("the checkpoint does not match this run's length and blocks: resume with the same "
                            "chains, steps, burn-in and thinning")
    bar = tqdm(total=C * length.steps, initial=C * done, desc=desc, unit="chain-step", unit_scale=True,
               file=sys.stderr, disable=(not sys.stderr.isatty()) if progress is None else not progress, leave=False)
    kernel(0, 1, q[:0], x[:0], status)   # compile (or load from numba's cache) outside the timing
    start = time.perf_counter()
    steps_run = 0
    with bar:
        for index in range(first_block, len(blocks)):
            n_steps, thin, first, rows = blocks[index]
            kernel(n_steps, thin, q[first:first + rows], x[first:first + rows], status)
            if status.any():
                bad = int(np.flatnonzero(status)[0])
                raise DivergenceError(
                    f"{desc}: chain {bad} left the finite numbers at step {done + int(status[bad])}: "
                    "the discretized dynamics is unstable here; reduce the step size")
            done += n_steps
            steps_run += n_steps
            if store is not None:
                if rows:
                    store.append(t[first:first + rows], q[first:first + rows], x[first:first + rows])
                store.save_checkpoint(index + 1, done, first + rows, state)
            bar.update(C * n_steps)
    return BlockResult(q, x, t, time.perf_counter() - start, steps_run)


def write_run_directory(out, trajectory: Trajectory, summary: dict, *, command: list[str], parameters: dict,
                        seed) -> RunDirectory:
    """Write ``trajectory.h5``, ``run.json`` (re-runnable: the command and all parameters) and ``summary.json``."""
    directory = RunDirectory(out).create()
    trajectory.save(directory.trajectory)
    directory.write_run_info(command=command, parameters=parameters, seed=seed)
    write_json(directory.path / SUMMARY_FILE, summary)
    return directory
