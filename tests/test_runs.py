"""The runs/ room: one checkpoint-store protocol that the chain store and the torch checkpoints both implement
(save state with the rows written and their digests; reopen at the newest intact checkpoint, falling back to an
older one when the newest is damaged; verify the kept rows), and one claim per ``--out``."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.errors import DataError
from statmech_nn.io import Dynamics, RunHeader
from statmech_nn.networks.torch_checkpoint import TrainingStore, list_checkpoints
from statmech_nn.runs import claim as claim_module
from statmech_nn.runs.checkpoints import CheckpointStore
from statmech_nn.runs.claim import claim
from statmech_nn.runs.directory import RunDirectory
from statmech_nn.sampling.chain_store import CHECKPOINT_FILE, ChainStore

HEADER = RunHeader("test", {}, Dynamics("mh"), 0)
ROWS = 5                         # rows written between two checkpoints


class Chains:
    """The chain store, driven as a sampler drives it (2 chains, 1 column each, 1 x sample per chain and row)."""

    def create(self, out):
        return ChainStore.create(out, names=["q"], chains=2, x_dim=1, header=HEADER)

    def write(self, store, start):
        t = np.arange(start, start + ROWS)
        store.append(t, np.stack([t, -t], axis=1)[:, :, None].astype(float), np.ones((ROWS, 2, 1)))

    def save(self, store, step):
        store.save_checkpoint(step, step, store.writer.n_rows, {"position": np.full(2, float(step))})

    def reopen(self, out):
        return ChainStore.reopen(out, chains=2)

    def rows(self, store):
        return store.checkpoint.rows_done

    def newest(self, out):
        return Path(out) / CHECKPOINT_FILE


class Torch:
    """The torch checkpoints of a training run (its loop record holds the rows and their digests)."""

    def create(self, out):
        return TrainingStore.create(RunDirectory(out).create(), ["w0", "w1"], header=HEADER, dtype=np.float64,
                                    metadata={}, keep=2)

    def write(self, store, start):
        t = np.arange(start, start + ROWS)
        store.rows.add(t, np.stack([t, -t], axis=1).astype(float))

    def save(self, store, step):
        rows, digests = store.settle_rows()
        store.save_checkpoint({"w": np.full(2, float(step))}, {}, {"step": step, "trajectory_rows": rows,
                                                                    "trajectory_digests": digests})

    def reopen(self, out):
        return TrainingStore.reopen(RunDirectory(out), keep=2)

    def rows(self, store):
        return store.checkpoint.loop["trajectory_rows"]

    def newest(self, out):
        return list_checkpoints(Path(out) / "checkpoints")[-1]


@pytest.fixture(params=[Chains(), Torch()], ids=["chain-store", "torch-checkpoints"])
def kind(request):
    return request.param


def two_checkpoints(kind, out):
    """A run killed after its second checkpoint, with rows written after it (dropped by a resume)."""
    store = kind.create(out)
    for step in (1, 2):
        kind.write(store, (step - 1) * ROWS)
        kind.save(store, step)
    kind.write(store, 2 * ROWS)
    if hasattr(store, "rows"):
        store.rows.flush()
    store.close()


def test_a_store_reopens_at_its_newest_checkpoint_and_drops_the_rows_after_it(kind, tmp_path):
    two_checkpoints(kind, tmp_path)
    store = kind.reopen(tmp_path)
    try:
        assert isinstance(store, CheckpointStore)
        assert kind.rows(store) == 2 * ROWS and store.writer.n_rows == 2 * ROWS
    finally:
        store.close()


def test_a_damaged_newest_checkpoint_falls_back_to_the_older_one(kind, tmp_path):
    two_checkpoints(kind, tmp_path)
    newest = kind.newest(tmp_path)
    newest.write_bytes(newest.read_bytes()[:-40])
    with pytest.warns(UserWarning, match="older checkpoint"):
        store = kind.reopen(tmp_path)
    try:
        assert kind.rows(store) == ROWS and store.writer.n_rows == ROWS
        np.testing.assert_array_equal(store.writer._file["t"][:], np.arange(ROWS))
    finally:
        store.close()


def test_kept_rows_that_changed_are_refused(kind, tmp_path):
    two_checkpoints(kind, tmp_path)
    with h5py.File(tmp_path / "trajectory.h5", "r+") as f:   # a row both checkpoints keep
        f["q"][1] = np.nan
    with pytest.raises(DataError, match="no intact checkpoint.*digest mismatch"):
        kind.reopen(tmp_path)


# one claim per --out --------------------------------------------------------------------------------------------
@pytest.fixture
def claims(monkeypatch):
    """The outputs claimed while the test runs (every claim takes its lock file first)."""
    seen, original = [], claim_module.lock_file

    def counted(out):
        seen.append(Path(out).resolve())
        return original(out)

    monkeypatch.setattr(claim_module, "lock_file", counted)
    return seen


SAMPLE = ["sample", "quartic", "--lambda-x", "-0.3", "--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--beta", "1",
          "--mu", "0.5", "--chains", "2", "--steps", "400", "--seed", "2", "--json"]


@pytest.mark.parametrize("argv", [
    [*SAMPLE, "--method", "mh"],                                         # the library claims
    [*SAMPLE, "--method", "exact"],
    ["cw", "phase-diagram", "--n", "50", "--t", "0.5:1.5:3", "--json"],  # the command line claims
], ids=["sample-mh", "sample-exact", "cw-phase-diagram"])
def test_the_command_line_claims_out_once(argv, claims, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    assert claims == [out.resolve()]


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_train_claims_out_once_from_the_command_line_and_from_python(claims, tmp_path, capsys):
    from statmech_nn.networks.config import TrainConfig
    from statmech_nn.networks.training import train

    argv = ["train", "--arch", "mlp:64-8-10", "--dataset", "digits", "--n-train", "40", "--n-test", "20", "--track",
            "4", "--warmup-epochs", "0", "--steps", "10", "--no-progress", "--device", "cpu", "--json"]
    assert main([*argv, "--out", str(tmp_path / "cli")]) == 0, capsys.readouterr().err
    assert claims == [(tmp_path / "cli").resolve()]
    config = TrainConfig(arch="mlp:64-8-10", dataset="digits", n_train=40, n_test=20, track=4, warmup_epochs=0,
                         steps=10, device="cpu", out=str(tmp_path / "api"))
    train(config, progress=False)
    assert claims[1:] == [(tmp_path / "api").resolve()]


def test_a_second_claim_of_a_held_output_is_a_bug(tmp_path):
    with claim(tmp_path / "run"):
        with pytest.raises(RuntimeError, match="claimed twice"):
            with claim(tmp_path / "run"):
                pass
