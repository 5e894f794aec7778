"""Probes of a frozen network over a data set: the activations that 002's Fig. 1 and 001's four observable classes
are counted from (:func:`statmech_nn.observables.activity.activity_observables` counts them).

Every hidden layer is a ReLU module; its *units* are the outputs of the layer before it (a Linear
layer's outputs, or a conv layer's channel x pixel outputs, flattened). For a frozen network we pass
every input of the data set through and record, per hidden layer (dimension ``layer``, named after the
Linear/conv module that feeds the ReLU: ``fc1``, ``conv2`` …):

=========================  ============================  ====================================================
variable                   dims                          what
=========================  ============================  ====================================================
``preactivation``          (layer, neuron, sample)       x of a seeded random subset of units, before the
                                                         ReLU: samples of p(x|q) (002 Fig. 1)
``activation``             (layer, neuron, sample)       the same units after the ReLU
``neuron_index``           (layer, neuron)               which unit each sampled neuron is (-1: padding)
``active_bits``            (layer, sample, unit_byte)    every unit's activity (output > 0) per input, packed
                                                         8 units to a byte (``numpy.packbits``, big-endian
                                                         bit order); zero bytes pad narrower layers
``layer_mean_activation``  (layer, sample)               per input, the mean ReLU output over the layer's units
``layer_width``            (layer)                       number of units
``weight_value``           (weight_entry)                every weight tensor's entries, flattened, one after
                                                         the other
``weight_size``            (weight_param)                how many entries each weight tensor has
``label``                  (sample)                      the class of each input
=========================  ============================  ====================================================

Layers narrower than ``n_neurons`` are padded (NaN samples, index -1). Raw activations, not counts: the pattern
counts, unit frequencies and weight histograms are the comparison layer's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..errors import DataError, ParameterError
from ..params import require_int
from .architectures import Architecture
from .torch_checkpoint import checkpoint_at, latest_checkpoint, load_model_arrays, replica_model_arrays
from .data import ArrayDataset, load_dataset
from .device import resolve_dtype
from .config import TrainConfig

PROBES_FILE = "probes.nc"
_PROBE_STREAM = 0xF16


def load_trained_model(run_dir: str | Path, step: int | None = None) -> tuple[nn.Module, TrainConfig]:
    """The network of a training run (weights of its newest checkpoint, or of step ``step``) and its configuration."""
    config = TrainConfig.from_run_dir(run_dir)
    data = load_dataset(config.dataset, data_dir=config.data_dir, split_seed=config.split_seed,
                        input_dim=config.input_dim, n_train=1, n_test=1, scaling=config.scaling)
    model = Architecture.parse(config.arch).build(data.input_shape, data.n_classes, seed=config.seed,
                                                  dtype=resolve_dtype(config.dtype))
    directory = Path(run_dir) / "checkpoints"
    checkpoint = latest_checkpoint(directory) if step is None else checkpoint_at(directory, step)
    load_model_arrays(model, replica_model_arrays(checkpoint.model, 0), checkpoint.path)  # replica 0 of replicas
    return model.eval(), config


def _hidden_layers(model: nn.Module) -> list[tuple[str, nn.ReLU]]:
    """(name of the module feeding it, ReLU module) for each ReLU child, in order."""
    layers, feeding = [], None
    for name, module in model.named_children():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            feeding = name
        elif isinstance(module, nn.ReLU):
            layers.append((feeding, module))
    if not layers:
        raise ParameterError("model", type(model).__name__, "a network with at least one ReLU hidden layer")
    return layers


@torch.no_grad()
def probe(source, dataset: ArrayDataset | None = None, *, split: str = "test", n_neurons: int = 16,
          max_samples: int | None = None, seed: int = 0, batch: int = 1024) -> xr.Dataset:
    """The activations of a frozen network (a run directory or an ``nn.Module``) over ``dataset``'s ``split``.

    With a run directory, ``dataset`` defaults to the run's own data set. ``n_neurons`` units per layer
    are sampled (seeded) for the p(x|q) samples; ``max_samples`` keeps the first inputs of the split.
    """
    n_neurons = require_int("n_neurons", n_neurons, 1)
    origin = "model"
    if isinstance(source, (str, Path)):
        model, config = load_trained_model(source)
        origin = str(source)
        if dataset is None:
            dataset = load_dataset(config.dataset, data_dir=config.data_dir, split_seed=config.split_seed,
                                   input_dim=config.input_dim, n_train=config.n_train, n_test=config.n_test,
                                   scaling=config.scaling)
    else:
        model = source.eval()
    if dataset is None:
        raise ParameterError("dataset", None, "an ArrayDataset when probing a model object")
    x, y = dataset.split(split)
    if max_samples is not None:
        x, y = x[:require_int("max_samples", max_samples, 1)], y[:max_samples]
    layers = _hidden_layers(model)
    names = [name for name, _ in layers]
    rng = np.random.default_rng([int(seed), _PROBE_STREAM])
    chosen, pre, post, bits, means, widths = {}, {}, {}, {}, {}, {}
    for outputs in _layer_outputs(model, layers, x, batch):
        for name in names:
            before, after = outputs[name]
            if name not in chosen:
                widths[name] = before.shape[1]
                chosen[name] = np.sort(rng.choice(widths[name], size=min(n_neurons, widths[name]), replace=False))
                pre[name], post[name], bits[name], means[name] = [], [], [], []
            pre[name].append(before[:, chosen[name]])
            post[name].append(after[:, chosen[name]])
            bits[name].append(np.packbits(after > 0, axis=1))
            means[name].append(after.mean(axis=1))
    n = len(x)
    preactivation = np.full((len(names), n_neurons, n), np.nan)
    activation = np.full_like(preactivation, np.nan)
    neuron_index = np.full((len(names), n_neurons), -1, np.int64)
    active_bits = np.zeros((len(names), n, -(-max(widths.values()) // 8)), np.uint8)
    for i, name in enumerate(names):
        k = len(chosen[name])
        preactivation[i, :k] = np.concatenate(pre[name]).T
        activation[i, :k] = np.concatenate(post[name]).T
        neuron_index[i, :k] = chosen[name]
        packed = np.concatenate(bits[name])
        active_bits[i, :, :packed.shape[1]] = packed
    weights = [(name, p.detach().cpu().numpy().ravel()) for name, p in model.named_parameters()
               if name.endswith(".weight")]
    coords = {"layer": names, "neuron": np.arange(n_neurons), "sample": np.arange(n),
              "weight_param": [name for name, _ in weights]}
    data = {
        "preactivation": (("layer", "neuron", "sample"), preactivation,
                          {"units": "1", "long_name": "unit input before the ReLU, x (002 Fig. 1)"}),
        "activation": (("layer", "neuron", "sample"), activation, {"units": "1", "long_name": "ReLU output"}),
        "neuron_index": (("layer", "neuron"), neuron_index, {"long_name": "unit index in its layer (-1: padding)"}),
        "active_bits": (("layer", "sample", "unit_byte"), active_bits,
                        {"long_name": "unit active (output > 0), packed 8 units per byte (numpy.packbits)"}),
        "layer_mean_activation": (("layer", "sample"), np.stack([np.concatenate(means[m]) for m in names]),
                                  {"units": "1", "long_name": "mean ReLU output over the layer, per input"}),
        "layer_width": (("layer",), np.array([widths[m] for m in names]), {"long_name": "units in the layer"}),
        "weight_value": (("weight_entry",), np.concatenate([w for _, w in weights]), {"units": "1"}),
        "weight_size": (("weight_param",), np.array([w.size for _, w in weights]), {"long_name": "entries"}),
        "label": (("sample",), np.asarray(y, np.int64), {"long_name": "class of the input"}),
    }
    attrs = {"source": origin, "dataset": dataset.name, "split": split, "seed": int(seed), "n_samples": n}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _layer_outputs(model: nn.Module, layers: list[tuple[str, nn.ReLU]], x: np.ndarray, batch: int):
    """Per batch of ``batch`` inputs: {layer: (units before the ReLU, after it)} as (batch, units) arrays."""
    first = next(model.parameters())
    captured: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [module.register_forward_hook(lambda m, inp, out, name=name: captured.__setitem__(name, (inp[0], out)))
             for name, module in layers]
    try:
        for start in range(0, len(x), batch):
            try:
                model(torch.as_tensor(x[start:start + batch], dtype=first.dtype, device=first.device))
            except RuntimeError as exc:  # another data set's input width: a shape mismatch in the first layer
                if start:
                    raise
                raise DataError(f"the data set's inputs (shape {tuple(x.shape[1:])}) do not fit the network: "
                                f"{str(exc).splitlines()[0]}") from None
            yield {name: tuple(t.reshape(t.shape[0], -1).cpu().numpy() for t in captured[name]) for name, _ in layers}
    finally:
        for hook in hooks:
            hook.remove()
