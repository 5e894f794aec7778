"""Training to equilibrium with every-step weight tracking (002 §5's protocol), resumable bit for bit.

:func:`train` claims the run directory and runs the driver (:mod:`.driver`: the loop) on the run's parts
(:mod:`.parts`: data, network, stepper), through its phases (:mod:`.phases`), recording metrics (:mod:`.metrics`),
tracked rows (:mod:`.row_buffer`) and checkpoints (:mod:`.torch_checkpoint`, the protocol of
:mod:`statmech_nn.runs.checkpoints`).

A run has two phases. The **warm-up** phase trains without tracking, for ``warmup_epochs`` epochs, or,
with ``until_equilibrium``, until the equilibrium criterion (:mod:`.equilibrium`;
``equilibrium_criterion`` = loss (a band), trend (the calibrated slope test), weights or both) holds (at least
``warmup_epochs``, at most ``max_warmup_epochs``). With ``replicas`` = R the run trains R networks at once
(:mod:`.replicas`; one trajectory, ``chain`` = replica) and the warm-up ends when every replica's criterion holds.
The **tracking** phase then trains ``epochs`` more epochs (or ``steps``
optimizer steps) and writes the K tracked parameters after every step to
``trajectory.h5``. 002 §5: ~3000 epochs to equilibrium, then 200 tracked epochs.

Conventions (decisions where the source is silent):

- sample order: epoch e visits the training set in the order ``default_rng([seed, e]).permutation(n)``,
  in batches of consecutive entries (the last batch of an epoch may be shorter); stateless, so a
  resumed run continues the same order (:func:`.driver.epoch_order`);
- initialization: torch's defaults under ``torch.manual_seed(seed)``;
- SGD is plain SGD (no momentum) with ``weight_decay`` = L2 rate λ (the update adds λw to the gradient:
  the L2 term λ|w|²/2 in the loss); Adam uses torch's ``Adam(weight_decay=λ)`` (L2, not AdamW);
  decay applies to every parameter, biases included, as torch does;
- trajectory rows: ``t`` = the number of optimizer steps applied when the row was taken. The first row
  is the state at the start of the tracking phase (t = number of warm-up steps), then one row per step;
- metrics: after every epoch (and at the last step), data loss and accuracy on the whole train and test
  sets, in ``metrics.json``; the L2 term is not included in the losses; per epoch also whether the loss
  criterion held and (weight criterion) the fraction of probed weights without drift; ``equilibrium``
  records which criterion ended the warm-up (``warmup_ended_by``) and at which epoch;
- weight probes (weight criterion): the warm-up's stepper calls end at the probe positions of
  :class:`.equilibrium.WeightCriterion`, where the probed weights are read; the last window of probes is
  part of the loop's state (checkpointed), so a resumed run decides as the uninterrupted one;
- checkpoints after every epoch, every ``checkpoint_every`` steps if set, and at the end; each records the
  SHA-256 of the trajectory rows written since the previous one (``trajectory_digests``), and a resume verifies
  the rows it keeps against them, falling back to an older checkpoint when the newest is damaged or its rows
  changed; a run killed before its first checkpoint resumes from step 0;
- divergence: a non-finite loss, tracked weight or checkpointed weight (or the fast engine's division by a
  vanished scale) stops the run with a :class:`~statmech_nn.errors.DivergenceError` naming the learning rate;
  its run.json records ``diverged`` (:func:`statmech_nn.runs.claim.claim`);
- ``torch_threads`` sets torch's intra-op thread count for the process (default: torch's own). Batch-1
  steps on small networks gain nothing from threads, and on a busy machine torch's OpenMP threads can
  slow each step down by an order of magnitude: ``torch_threads=1`` is the safe choice there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..runs.claim import claim
from .config import TrainConfig
from .driver import Driver


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`; :meth:`summary` is what ``statmech-nn train --json`` prints.

    ``steps`` and ``steps_per_s`` count one network's steps (every replica takes them); ``network_steps_per_s`` =
    ``replicas`` x ``steps_per_s`` is the run's throughput (what ``benchmarks/bench_replicas.py`` compares). With
    several replicas the final losses and accuracy are the means over the replicas (``metrics.json`` has each)."""

    out: Path
    steps: int
    seconds: float
    steps_per_s: float
    replicas: int
    network_steps_per_s: float
    final_train_loss: float
    final_test_loss: float
    final_test_accuracy: float
    equilibrium_reached: bool
    equilibrium_epoch: int | None
    equilibrium_criterion: str
    warmup_ended_by: str | None
    tracking_start_step: int
    trajectory_rows: int

    def summary(self) -> dict:
        payload = asdict(self)
        payload["out"] = str(self.out)
        return payload

    @classmethod
    def of(cls, driver: Driver, seconds: float, steps_per_s: float) -> TrainResult:
        """The result of the run ``driver`` ran in ``seconds`` at ``steps_per_s``."""
        loop, last = driver.loop, driver.loop.metrics[-1]
        replicas = driver.config.replicas
        return cls(out=driver.store.run_dir.path, steps=loop.step, seconds=seconds, steps_per_s=steps_per_s,
                   replicas=replicas, network_steps_per_s=replicas * steps_per_s,
                   final_train_loss=last["train_loss"], final_test_loss=last["test_loss"],
                   final_test_accuracy=last["test_accuracy"], equilibrium_reached=driver.watch.reached(loop),
                   equilibrium_epoch=loop.equilibrium_epoch, equilibrium_criterion=driver.config.equilibrium_criterion,
                   warmup_ended_by=loop.warmup_ended_by, tracking_start_step=loop.tracking_start_step,
                   trajectory_rows=loop.trajectory_rows)


def train(config: TrainConfig, *, resume: bool = False, overwrite: bool = False, progress: bool = True,
          command: list[str] | None = None) -> TrainResult:
    """Train per ``config`` into the run directory ``config.out`` (see the module docstring).

    ``resume=True`` continues the run in ``config.out`` from its newest intact checkpoint; the stored
    parameters must equal ``config`` but where :meth:`TrainConfig.resumed_with` allows a change.
    ``overwrite=True`` replaces a run already in ``config.out`` (else a DataError). The directory is claimed
    (:func:`statmech_nn.runs.claim.claim`: one writer, the outcome in run.json). ``command`` is recorded in
    ``run.json`` (the CLI passes its argv).
    """
    with claim(config.out, resume=resume, overwrite=overwrite):
        driver = Driver.resume(config) if resume else Driver.start(config, command)
        return TrainResult.of(driver, *driver.execute(progress))
