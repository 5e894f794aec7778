"""The network half of the main job: train to equilibrium while tracking weights, then probe the frozen network.

002 §5: train until the test loss is flat, keep training while recording w_i(t) every step, then freeze
the network and look at p(x|q) of second-hidden-layer neurons (Fig. 1). 001's activation observables
(pattern rank-frequency, unit activation by rank, mean layer activation, weight histograms) come from
the same probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError, ParameterError, StatmechError
from ..runs.directory import RunDirectory
from ..networks import TrainConfig, probe, train
from ..report.probe_figures import write_probe_outputs
from ..observables.activity import Bimodality, ZipfFit, bimodality, fit_zipf
from ..report import figures
from .spec import ExperimentSpec


def train_network(spec: ExperimentSpec, out: Path, *, data_dir=None, device=None, progress=True):
    """Train per ``spec.training`` into ``out`` (resumed from its checkpoints if ``out`` already holds the run)."""
    parameters = {**spec.training, "out": str(out)}
    if data_dir is not None:
        parameters["data_dir"] = str(data_dir)
    if device is not None:
        parameters["device"] = device
    config = TrainConfig.from_dict(parameters)
    resume = RunDirectory(out).run_file.exists()
    return train(config, resume=resume, progress=progress)


@dataclass(frozen=True)
class ProbeResult:
    """The frozen network's probe: the dataset, 002 Fig. 1's bimodality tests and 001's Zipf fits."""

    dataset: xr.Dataset
    layer: str
    neurons: list[str]
    outputs: np.ndarray            # (samples, neurons): pre-activations of the tested layer
    bimodality: list[Bimodality]
    zipf: dict                     # layer -> ZipfFit, or the reason none could be fitted
    figures: dict                  # name -> path

    def summary(self) -> dict:
        return {"layer": self.layer, "neurons_tested": len(self.bimodality),
                "neurons_bimodal": int(sum(b.bimodal for b in self.bimodality)),
                "zipf": {k: v.to_dict() if isinstance(v, ZipfFit) else v for k, v in self.zipf.items()},
                "n_patterns": {str(k): int(v)
                               for k, v in zip(self.dataset.layer.values, self.dataset.n_patterns.values)},
                "n_samples": int(self.dataset.sizes["sample"])}


def probe_network(spec: ExperimentSpec, run_dir: Path, out: Path) -> ProbeResult:
    """Probe the trained network in ``run_dir``; test the units of hidden layer ``spec.probe.layer`` for two modes."""
    p = spec.probe
    ds = probe(run_dir, split=p.split, n_neurons=p.n_neurons, max_samples=p.max_samples, seed=p.seed)
    paths = write_probe_outputs(ds, out)
    layers = list(ds.layer.values)
    if p.layer > len(layers):
        raise ParameterError("probe.layer", p.layer, f"at most {len(layers)}, the network's number of probed layers")
    layer = layers[p.layer - 1]
    index = ds.neuron_index.sel(layer=layer).values
    valid = index >= 0
    outputs = ds.preactivation.sel(layer=layer).values[valid].T
    names = [f"{layer}[{i}]" for i in index[valid]]
    tests = [bimodality(outputs[:, j], seed=[p.seed, j]) for j in range(outputs.shape[1])]
    paths["fig1_outputs"] = figures.outputs_figure(
        outputs, tests, Path(out) / "figures" / "fig1_outputs.png", names=names,
        title=f"Pre-activations of frozen {layer} units over {'all' if p.split == 'all' else 'the ' + p.split} inputs "
              "(002 Fig. 1)")
    zipf = {}
    for name in layers:
        counts = ds.pattern_count.sel(layer=name).values
        try:
            zipf[str(name)] = fit_zipf(counts[counts > 0])
        except (DataError, StatmechError) as exc:
            zipf[str(name)] = f"no fit: {exc}"
    return ProbeResult(ds, str(layer), names, outputs, tests, zipf, {k: Path(v) for k, v in paths.items()})
