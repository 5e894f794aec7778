"""Parameter-space scans on one engine (DESIGN: scans are Datasets): a spec's grid over dotted keys
(:mod:`.scan_spec`), one task per block of cells (:mod:`.tasks`), a resumable Zarr store (:mod:`.scan_store`), a local
pool or a Dask cluster (:mod:`.executors`), driven by :func:`.engine.run_scan`. The tasks of the existing
scans: the quartic model's grids (:mod:`.grid`), the mean-field phase diagrams and temperature curves
(:mod:`.meanfield_tasks`), the two-timescale Langevin bias over (ε, dt) (:mod:`.langevin_bias`) and the network SOC
scan (:mod:`.network_task`), whose ``replica`` axis trains replicas as cells (:mod:`.cell_runs`) read back as one
ensemble (:mod:`.ensemble`). Their figures are in :mod:`statmech_nn.report`."""

from ..lazy import lazy_exports

_EXPORTS = {"ScanOutcome": "engine", "load_scan": "engine", "run_scan": "engine", "ScanSpec": "scan_spec",
            "scan_ensemble": "ensemble"}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
