"""Replicas as scan cells (issue 23, item 2): a ``replica`` axis of a network scan, whose cells keep their runs.

When the replicas of one network outgrow one machine they become cells of a scan. A network scan spec
(``task = "network-soc"``) gets a grid axis ``replica``::

    [grid]
    "training.lr" = [3e-3, 1e-2]
    replica = [0, 1, 2, 3]        # or "0:3:4"; each cell trains replica r of the seed's ensemble

    [training]
    seed = 0
    replica_init = "shared"       # or "independent" (default)
    replicas = 1                  # the block size: a cell trains replicas r, r + 1, ..., r + replicas - 1

A cell at replica value ``r`` trains replicas ``r .. r + B - 1`` (B = ``training.replicas``, default 1) of the
ensemble of ``training.seed``, through the one training driver with ``replica_offset = r``: replica ``r`` has
the initial weights of seed ``s + r`` (``independent``) or ``s`` (``shared``) and the sample order of seed
``s + r`` (:func:`statmech_nn.networks.replicas.replica_seeds`), and the tracked weights are drawn from seed
``s`` as in a run of ``train --replicas R``. So a replica's trajectory does not depend on how the replicas are
scheduled (one run, blocks, or single cells on a Dask cluster), as long as the warm-up has a fixed length: with
``until_equilibrium`` a run of R replicas ends its warm-up when every replica is at equilibrium, a cell when its
own block is.

Where the cells write: the run directory of cell ``i`` (its flat index in the grid, C order over the store's
dimensions) is ``STORE/cells/i`` inside the scan's store (:func:`cell_directory`), kept after the cell ends, so
that :mod:`.ensemble` can read the replicas of a grid point back as one trajectory. A re-run of the scan skips
the cells whose status is done (the store's commit record); a pending cell whose run directory exists resumes
it (:func:`train_cell`: from its newest checkpoint, or with no training at all when the run completed before
the driver could record the cell). On a Dask cluster of several machines STORE must be on a file system every
worker sees.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..io import RUN_FILE

CELLS = "cells"             # the store's folder of kept cell runs
REPLICA = "replica"         # the grid key of the replica axis (a top-level key of the spec)


def cell_directory(store, index: int) -> Path:
    """The run directory of the cell with flat index ``index`` of the scan in ``store`` (absolute, for workers)."""
    return Path(store).resolve() / CELLS / str(int(index))


def _block_size(training: dict) -> int:
    value = training.get("replicas", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError("training.replicas", value, "a positive integer (the replicas each cell trains)")
    return value


def check_replica_axis(spec, confirmed: bool = False) -> None:
    """A network scan spec's replica axis before any cell runs: integer values >= 0 whose blocks of
    ``training.replicas`` replicas do not overlap, and no axis (or base key) that would set the replicas or the
    offset per cell another way."""
    names = [axis.name for axis in spec.axes]
    for key in ("training.replicas", "training.replica_offset"):
        if key in names:
            raise ParameterError("grid", key, f"not an axis (a '{REPLICA}' axis says which replicas a cell trains)")
    training = spec.base.get("training", {})
    if not isinstance(training, dict):
        raise ParameterError("training", training, "a table of training parameters")
    if REPLICA not in names:
        return
    if "replica_offset" in training:
        raise ParameterError("training.replica_offset", training["replica_offset"],
                             f"not set with a '{REPLICA}' axis (each cell's offset is its replica value)")
    block = _block_size(training)
    values = spec.axes[names.index(REPLICA)].values
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.round(values)):
        raise ParameterError(f"grid.{REPLICA}", values.tolist(), "integers >= 0 (replica indices)")
    ordered = np.sort(values)
    if np.any(np.diff(ordered) < block):
        raise ParameterError(f"grid.{REPLICA}", values.tolist(), f"distinct replica indices at least "
                             f"training.replicas = {block} apart (each cell trains a block of {block})")


def replica_training(training: dict, replica, cell_dir) -> dict:
    """The training table of the cell that trains the block starting at replica ``replica`` into ``cell_dir``."""
    value = float(replica)
    if not value.is_integer() or value < 0:
        raise ParameterError(REPLICA, replica, "an integer >= 0 (a replica index)")
    if cell_dir is None:
        raise ParameterError("cell_dir", None, "the cell's run directory (a replica cell runs on the scan engine)")
    return {**training, "replica_offset": int(value), "out": str(cell_dir)}


def train_cell(config):
    """Train ``config`` into its run directory, resuming what a previous attempt left there: a run directory with
    a ``run.json`` is resumed (from its newest checkpoint; a completed run trains no further step), anything else
    is replaced. Returns the :class:`~statmech_nn.networks.training.TrainResult`."""
    from ..networks import train

    started = (Path(config.out) / RUN_FILE).is_file()
    return train(config, resume=started, overwrite=not started, progress=False)


@contextmanager
def trained_cell(training: dict, replica=None, cell_dir=None):
    """Train one cell of a network scan; yields ``(TrainResult, run directory)``. Without a replica axis the run
    lives in a temporary directory, deleted when the block ends; a replica cell's run is kept in ``cell_dir``."""
    from ..networks import TrainConfig, train

    if replica is not None:
        config = TrainConfig.from_dict(replica_training(training, replica, cell_dir))
        yield train_cell(config), Path(config.out)
        return
    with tempfile.TemporaryDirectory(prefix="statmech-nn-scan-") as work:
        run = Path(work) / "run"
        yield train(TrainConfig.from_dict({**training, "out": str(run)}), progress=False), run
