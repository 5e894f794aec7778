"""Probes of a frozen network over a data set: 002's Fig. 1 and 001's four observable classes.

Every hidden layer is a ReLU module; its *units* are the outputs of the layer before it (a Linear
layer's outputs, or a conv layer's channel x pixel outputs, flattened). For a frozen network we pass
every input of the data set through and record, per hidden layer (dimension ``layer``, named after the
Linear/conv module that feeds the ReLU: ``fc1``, ``conv2`` …):

=============================  ===============================  ===============================================
variable                       dims                             what
=============================  ===============================  ===============================================
``preactivation``              (layer, neuron, sample)          x of a seeded random subset of units, before the
                                                                ReLU: samples of p(x|q) (002 Fig. 1)
``activation``                 (layer, neuron, sample)          the same units after the ReLU
``neuron_index``               (layer, neuron)                  which unit each sampled neuron is (-1: padding)
``pattern_count``              (layer, pattern_rank)            how many inputs produce each distinct binary
                                                                activation pattern (unit active = output > 0),
                                                                sorted descending (001 class 2); 0 = padding
``n_patterns``                 (layer)                          number of distinct patterns
``unit_activation_frequency``  (layer, unit_rank)               fraction of inputs for which a unit is active,
                                                                sorted descending (001 class 3); NaN = padding
``unit_by_rank``               (layer, unit_rank)               which unit has that rank (-1: padding)
``layer_mean_activation``      (layer, sample)                  per input, the mean ReLU output over the layer's
                                                                units (001 class 4: its distribution)
``layer_active_fraction``      (layer, sample)                  per input, the fraction of active units
``layer_width``                (layer)                          number of units
``weight_histogram``           (weight_param, weight_bin)       counts of each weight tensor's entries (001
                                                                class 1), 200 equal bins over its range
``weight_bin_edges``           (weight_param, weight_edge)      the bin edges
``weight_mean``, ``weight_std``  (weight_param)                 moments of each weight tensor
``label``                      (sample)                         the class of each input
=============================  ===============================  ===============================================

Layers narrower than ``n_neurons`` are padded (NaN samples, index -1). Raw arrays, not fits: power-law
(Zipf) exponents and bimodality are fitted by the comparison layer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import xarray as xr
from torch import nn

from ..errors import DataError, ParameterError
from ..params import require_int
from ..patterns import packed_pattern_counts
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


def _pad(rows: list[np.ndarray], fill) -> np.ndarray:
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), fill, dtype=np.result_type(rows[0].dtype, np.asarray(fill).dtype))
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


@torch.no_grad()
def probe(source, dataset: ArrayDataset | None = None, *, split: str = "test", n_neurons: int = 16,
          max_samples: int | None = None, seed: int = 0, weight_bins: int = 200, batch: int = 1024) -> xr.Dataset:
    """Probe a frozen network (a run directory or an ``nn.Module``) over ``dataset``'s ``split``.

    With a run directory, ``dataset`` defaults to the run's own data set. ``n_neurons`` units per layer
    are sampled (seeded) for the p(x|q) samples; ``max_samples`` keeps the first inputs of the split.
    """
    n_neurons = require_int("n_neurons", n_neurons, 1)
    weight_bins = require_int("weight_bins", weight_bins, 1)
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
    first = next(model.parameters())
    captured: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = [module.register_forward_hook(lambda m, inp, out, name=name: captured.__setitem__(name, (inp[0], out)))
             for name, module in layers]
    rng = np.random.default_rng([int(seed), _PROBE_STREAM])
    chosen, pre, post, packed, counts, means, fractions, widths = {}, {}, {}, {}, {}, {}, {}, {}
    try:
        for start in range(0, len(x), batch):
            try:
                model(torch.as_tensor(x[start:start + batch], dtype=first.dtype, device=first.device))
            except RuntimeError as exc:  # another data set's input width: a shape mismatch in the first layer
                if start:
                    raise
                raise DataError(f"the data set's inputs (shape {tuple(x.shape[1:])}) do not fit the network: "
                                f"{str(exc).splitlines()[0]}") from None
            for name, _ in layers:
                before, after = (t.reshape(t.shape[0], -1).cpu().numpy() for t in captured[name])
                if name not in chosen:
                    widths[name] = before.shape[1]
                    chosen[name] = np.sort(rng.choice(widths[name], size=min(n_neurons, widths[name]), replace=False))
                    pre[name], post[name], packed[name], means[name], fractions[name] = [], [], [], [], []
                    counts[name] = np.zeros(widths[name], np.int64)
                active = after > 0
                pre[name].append(before[:, chosen[name]])
                post[name].append(after[:, chosen[name]])
                packed[name].append(np.packbits(active, axis=1))
                counts[name] += active.sum(axis=0)
                means[name].append(after.mean(axis=1))
                fractions[name].append(active.mean(axis=1))
    finally:
        for hook in hooks:
            hook.remove()
    names = [name for name, _ in layers]
    n = len(x)
    preactivation = np.full((len(names), n_neurons, n), np.nan)
    activation = np.full_like(preactivation, np.nan)
    neuron_index = np.full((len(names), n_neurons), -1, np.int64)
    pattern_rows, frequency_rows, unit_rows = [], [], []
    for i, name in enumerate(names):
        k = len(chosen[name])
        preactivation[i, :k] = np.concatenate(pre[name]).T
        activation[i, :k] = np.concatenate(post[name]).T
        neuron_index[i, :k] = chosen[name]
        pattern_rows.append(packed_pattern_counts(np.concatenate(packed[name])))
        by_rank = np.argsort(-counts[name], kind="stable")
        unit_rows.append(by_rank)
        frequency_rows.append(counts[name][by_rank] / n)
    weights = [(name, p.detach().cpu().numpy().ravel()) for name, p in model.named_parameters()
               if name.endswith(".weight")]
    histograms, edges = zip(*(np.histogram(w, bins=weight_bins) for _, w in weights))
    coords = {"layer": names, "neuron": np.arange(n_neurons), "sample": np.arange(n),
              "weight_param": [name for name, _ in weights]}
    data = {
        "preactivation": (("layer", "neuron", "sample"), preactivation,
                          {"units": "1", "long_name": "unit input before the ReLU, x (002 Fig. 1)"}),
        "activation": (("layer", "neuron", "sample"), activation, {"units": "1", "long_name": "ReLU output"}),
        "neuron_index": (("layer", "neuron"), neuron_index, {"long_name": "unit index in its layer (-1: padding)"}),
        "pattern_count": (("layer", "pattern_rank"), _pad(pattern_rows, 0),
                          {"units": "inputs", "long_name": "inputs per distinct binary activation pattern, by rank"}),
        "n_patterns": (("layer",), np.array([len(r) for r in pattern_rows]), {"long_name": "distinct patterns"}),
        "unit_activation_frequency": (("layer", "unit_rank"), _pad(frequency_rows, np.nan),
                                      {"units": "1", "long_name": "fraction of inputs activating the unit, by rank"}),
        "unit_by_rank": (("layer", "unit_rank"), _pad(unit_rows, -1), {"long_name": "unit index at each rank"}),
        "layer_mean_activation": (("layer", "sample"), np.stack([np.concatenate(means[m]) for m in names]),
                                  {"units": "1", "long_name": "mean ReLU output over the layer, per input"}),
        "layer_active_fraction": (("layer", "sample"), np.stack([np.concatenate(fractions[m]) for m in names]),
                                  {"units": "1", "long_name": "fraction of active units, per input"}),
        "layer_width": (("layer",), np.array([widths[m] for m in names]), {"long_name": "units in the layer"}),
        "weight_histogram": (("weight_param", "weight_bin"), np.stack(histograms),
                             {"units": "weights", "long_name": "counts of weight values per bin"}),
        "weight_bin_edges": (("weight_param", "weight_edge"), np.stack(edges), {"units": "1"}),
        "weight_mean": (("weight_param",), np.array([w.mean() for _, w in weights]), {"units": "1"}),
        "weight_std": (("weight_param",), np.array([w.std() for _, w in weights]), {"units": "1"}),
        "label": (("sample",), np.asarray(y, np.int64), {"long_name": "class of the input"}),
    }
    attrs = {"source": origin, "dataset": dataset.name, "split": split, "seed": int(seed), "n_samples": n,
             "description": "probes of a frozen network: 002 Fig. 1 and 001 observable classes 1-4"}
    return xr.Dataset(data, coords=coords, attrs=attrs)
