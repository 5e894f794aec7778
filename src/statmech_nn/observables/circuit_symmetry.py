"""Circuit symmetry of a network over training (003 eq. (14), Fig. 3b): sampled basis circuits and their perturbations.

For each snapshot (layer specs, e.g. from :func:`statmech_nn.networks.circuit_io.run_snapshots`) and each of a few
inputs, paths are drawn uniformly among all connected paths (:func:`statmech_nn.gates.circuits.sample_paths`); the
values x·Ψ, Ω¹ and Ω² are pooled over the inputs and summarized by
:func:`statmech_nn.gates.circuits.symmetry_statistics`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..gates.circuits import SYMMETRY_STATISTICS, build_stages, sample_paths, symmetry_statistics
from ..params import require_int, rng_from

KINDS = ("psi", "omega1", "omega2")


def circuit_symmetry(snapshots, inputs: np.ndarray, paths: int = 20000, seed=0) -> xr.Dataset:
    """Sampled circuit values (``value``: snapshot × kind × sample) and their symmetry statistics."""
    paths = require_int("paths", paths, len(inputs))
    rng = rng_from(seed)
    per_input = np.full(len(inputs), paths // len(inputs))
    per_input[: paths % len(inputs)] += 1
    labels, values, totals = [], [], []
    for label, specs in snapshots:
        pooled = {kind: [] for kind in KINDS}
        total = 0
        for x, n in zip(inputs, per_input):
            sample = sample_paths(build_stages(specs, x), int(n), rng)
            total += sample.total_paths
            pooled["psi"].append(sample.psi)
            pooled["omega1"].append(sample.omega1)
            pooled["omega2"].append(sample.omega2 if sample.omega2.size else np.full(int(n), np.nan))
        labels.append(label)
        totals.append(total / len(inputs))
        values.append(np.stack([np.concatenate(pooled[kind]) for kind in KINDS]))
    values = np.array(values)
    stats = np.array([[[symmetry_statistics(v[np.isfinite(v)])[s] for s in SYMMETRY_STATISTICS] for v in snapshot]
                      for snapshot in values])
    return xr.Dataset(
        {"value": (("snapshot", "kind", "sample"), values, {"long_name": "sampled circuit value"}),
         "statistic_value": (("snapshot", "kind", "statistic"), stats),
         "paths_per_input": (("snapshot",), np.array(totals, dtype=float),
                             {"long_name": "connected input-to-output paths, mean over the inputs"})},
        coords={"snapshot": labels, "kind": list(KINDS), "statistic": list(SYMMETRY_STATISTICS)},
        attrs={"source": "003 eq. (14), Fig. 3b", "inputs": len(inputs), "paths": paths})
