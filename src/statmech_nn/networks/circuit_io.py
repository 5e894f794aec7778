"""Read bias-free ReLU networks (torch) as the layer specs of :mod:`statmech_nn.gates.circuits` (NumPy arrays).

:func:`layer_specs` turns an ``nn.Sequential`` of Linear / Conv2d (stride 1) / ReLU / MaxPool2d (k x k, stride k) /
Flatten into specs; any nonzero bias is an error (the path expansion of 003 eq. (10) holds for bias-free nets).
:func:`run_snapshots` reads a run directory of ``statmech-nn train``: the network at initialization (rebuilt from
``run.json``'s architecture and seed) and at each stored checkpoint, with the run's data set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import DataError
from .architectures import Architecture
from .torch_checkpoint import list_checkpoints, load_checkpoint, load_model_arrays, CHECKPOINT_DIR
from .config import TrainConfig
from .data import ArrayDataset, load_dataset
from .gated import StochasticGate


def _pair(value) -> int:
    first, second = (value, value) if isinstance(value, int) else tuple(value)
    if first != second:
        raise DataError(f"unequal sizes {value} are not supported by the circuit expansion")
    return int(first)


def layer_specs(model: nn.Module) -> list[tuple]:
    """The specs of a bias-free ReLU ``nn.Sequential`` (float64 arrays); other layers or biases are DataErrors."""
    specs: list[tuple] = []
    for name, layer in model.named_children():
        bias = getattr(layer, "bias", None)
        if bias is not None and bool(torch.any(bias != 0)):
            raise DataError(f"layer {name} has a bias: basis circuits need a bias-free network (e.g. arch vgg)")
        if isinstance(layer, nn.Linear):
            specs.append(("linear", layer.weight.detach().cpu().double().numpy()))
        elif isinstance(layer, nn.Conv2d):
            if _pair(layer.stride) != 1 or _pair(layer.dilation) != 1 or layer.groups != 1:
                raise DataError(f"layer {name}: only stride-1, undilated, ungrouped convolutions are expanded")
            specs.append(("conv", layer.weight.detach().cpu().double().numpy(), _pair(layer.padding)))
        elif isinstance(layer, nn.ReLU) or (isinstance(layer, StochasticGate) and layer.temperature == 0):
            specs.append(("relu",))
        elif isinstance(layer, nn.MaxPool2d):
            k = _pair(layer.kernel_size)
            if _pair(layer.stride) != k or _pair(layer.padding) != 0 or _pair(layer.dilation) != 1:
                raise DataError(f"layer {name}: only k x k max-pools with stride k are expanded")
            specs.append(("maxpool", k))
        elif isinstance(layer, nn.Flatten):
            specs.append(("flatten",))
        else:
            raise DataError(f"layer {name} ({type(layer).__name__}) has no circuit expansion")
    return specs


def run_snapshots(run_dir: str | Path) -> tuple[ArrayDataset, list[tuple[str, list[tuple]]]]:
    """The run's data set and [(label, specs)] for the initialization ("init") and each checkpoint ("step-N")."""
    config = TrainConfig.from_run_dir(run_dir)
    data = load_dataset(config.dataset, data_dir=config.data_dir, split_seed=config.split_seed,
                        input_dim=config.input_dim, n_train=config.n_train, n_test=config.n_test,
                        scaling=config.scaling)
    model = Architecture.parse(config.arch).build(data.input_shape, data.n_classes, seed=config.seed,
                                                  dtype=torch.float64)
    snapshots = [("init", layer_specs(model))]
    for path in list_checkpoints(Path(run_dir) / CHECKPOINT_DIR):
        checkpoint = load_checkpoint(path)
        load_model_arrays(model, {k: np.asarray(v, np.float64) for k, v in checkpoint.model.items()}, path)
        snapshots.append((f"step-{int(checkpoint.loop['step'])}", layer_specs(model)))
    return data, snapshots
