"""Real networks: data sets, the source documents' architectures, training to equilibrium with every-step
weight tracking (002 §5), probes of frozen networks (002 Fig. 1, 001 classes 1-4), a fast batch-1 SGD
engine.

    from statmech_nn.networks import TrainConfig, train, probe
    result = train(TrainConfig(arch="mlp", dataset="digits", backend="fast", warmup_epochs=50, epochs=10,
                               track=200, out="runs/digits"))
    probes = probe(result.out)          # xarray.Dataset, see statmech_nn.networks.probes

The probe's figures and files are a front end's: ``statmech_nn.report.probe_figures.write_probe_outputs``.

Any torch model in the user's own loop: ``with track(model, k=64, seed=0, optimizer=opt) as tracker: ...``
(:mod:`.tracker`); ``epoch_order(seed, epoch, n)`` is the trainer's sample order, to reproduce its runs.

The names below are imported on first use, so that importing the package (the command line does)
does not import torch.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "ArrayDataset": "data", "load_dataset": "data", "Architecture": "architectures", "TrainConfig": "config",
    "TrainResult": "training", "train": "training", "evaluate": "metrics", "probe": "probes",
    "FastMLPEngine": "fast_sgd", "EquilibriumCriterion": "equilibrium",
    "TrackedParameters": "tracking", "track": "tracker", "Tracker": "tracker", "epoch_order": "driver",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
