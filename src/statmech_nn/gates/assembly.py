"""Moments of assemblies against depth and width (003 eq. (20)) at the edge-of-chaos initialization.

An assembly is a sum of circuits over a symmetry group: Σ_{i∈B_0} x_{i0}Ψ_i = T(x) (k = 0), the sum of first-order
perturbations through one edge = ∂T/∂w (k = 1), of second-order ones through two edges = ∂²T/∂w∂w' (k = 2).
003 eq. (20) bounds, for widths n and depth L, when √n^{1-μ} weights per layer have a broken (asymmetric) law,

    |E Σ δᵏΨ| ≤ O((c²/2)^L + c^L / √n^{Lμ}),        E (Σ δᵏΨ)² ≤ O(c^{2L} + (c²/2)^{2L} + c^{2L} / √n^{2Lμ}).

Reading of c (003 calls c ≈ 1 the edge-of-chaos condition): weights W_l ~ N(0, 2c²/n_in), so c = 1 is He's
initialization, where the second moment of a ReLU net's output neither grows nor decays with depth. With every
weight symmetric the means are exactly 0 (flip the sign of the output layer); "broken" weights are modelled as
⌈√n^{1-μ}⌉ weights per layer drawn from the folded law |N(0, 2c²/n_in)|. The expectation is over an ensemble of
networks at one fixed input x with N(0, 1) entries; the measured entries are T(x), ∂T/∂W_1[0, 0] and
∂²T/∂W_1[0, 0]∂W_L[0, 0] (first and last layers).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError, ParameterError
from ..params import require_int, require_positive, rng_from

ORDERS = (0, 1, 2)


def _networks(rng, depth: int, width: int, networks: int, c: float, broken: int) -> list[np.ndarray]:
    """``networks`` stacked weight lists: depth-1 hidden layers of ``width``, input ``width``, one output."""
    layers = []
    for index in range(depth):
        n_out = 1 if index == depth - 1 else width
        w = rng.normal(0.0, c * np.sqrt(2.0 / width), size=(networks, n_out, width))
        if broken:
            flat = w.reshape(networks, -1)
            chosen = rng.permutation(flat.shape[1])[:broken]   # the same positions in every network
            flat[:, chosen] = np.abs(flat[:, chosen])
        layers.append(w)
    return layers


def assemblies(layers: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """(networks, 3): T(x), ∂T/∂W_1[0,0] and ∂²T/∂W_1[0,0]∂W_L[0,0] of each stacked network (gated products)."""
    networks = layers[0].shape[0]
    a = np.broadcast_to(x, (networks, x.shape[0]))
    gates = []
    for w in layers[:-1]:
        z = np.einsum("mij,mj->mi", w, a)
        gates.append(z > 0)
        a = z * gates[-1]
    output = np.einsum("mij,mj->mi", layers[-1], a)[:, 0]
    back = layers[-1][:, 0, :] * gates[-1]                      # ∂T/∂z_{L-1}
    for w, gate in zip(reversed(layers[1:-1]), reversed(gates[:-1])):
        back = np.einsum("mi,mij->mj", back, w) * gate
    gradient = back[:, 0] * x[0]
    v = np.zeros_like(a)                                         # ∂a_{L-1}/∂z_1[0]: the unit vector carried up
    v[:, 0] = gates[0][:, 0]
    for w, gate in zip(layers[1:-1], gates[1:]):
        v = np.einsum("mij,mj->mi", w, v) * gate
    hessian = x[0] * v[:, 0]
    return np.stack([output, gradient, hessian], axis=1)


def assembly_moments(depths=(2, 3, 4, 5, 6, 8), widths=(16, 64), *, c: float = 1.0, mu: float | None = 0.5,
                     networks: int = 2000, seed=0) -> xr.Dataset:
    """Mean (with its standard error) and second moment of the k = 0, 1, 2 assemblies over random networks."""
    c = require_positive("c", c)
    networks = require_int("networks", networks, 2)
    depths = [require_int("depth", d, 2) for d in depths]
    widths = [require_int("width", n, 1) for n in widths]
    if mu is not None and mu <= 0:
        raise ParameterError("mu", mu, "positive (or None for no broken weights)")
    rng = rng_from(seed)
    shape = (len(ORDERS), len(depths), len(widths))
    mean, sem, second = np.empty(shape), np.empty(shape), np.empty(shape)
    broken_counts = np.zeros(len(widths), dtype=int)
    with np.errstate(over="ignore", invalid="ignore"):   # an overflow is one error below
        for j, width in enumerate(widths):
            broken = 0 if mu is None else int(np.ceil(np.sqrt(width) ** (1.0 - mu)))
            broken_counts[j] = broken
            x = rng.normal(size=width)
            for i, depth in enumerate(depths):
                values = assemblies(_networks(rng, depth, width, networks, c, broken), x)
                mean[:, i, j] = values.mean(axis=0)
                sem[:, i, j] = values.std(axis=0, ddof=1) / np.sqrt(networks)
                second[:, i, j] = (values**2).mean(axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(second))):
        raise DataError(f"the assemblies overflow float64 at c = {c:g} and depth {max(depths)} (they grow like "
                        "c^depth); lower c or the depths")
    coords = {"order": list(ORDERS), "depth": depths, "width": widths}
    dims = ("order", "depth", "width")
    return xr.Dataset(
        {"mean": (dims, mean, {"long_name": "E Σ δᵏΨ over networks"}),
         "sem": (dims, sem, {"long_name": "standard error of the mean"}),
         "second_moment": (dims, second, {"long_name": "E (Σ δᵏΨ)²"}),
         "broken_per_layer": (("width",), broken_counts)},
        coords=coords,
        attrs={"source": "003 eq. (20)", "c": c, "mu": np.nan if mu is None else mu, "networks": networks,
               "weights": "N(0, 2c²/n_in); broken weights |N(0, 2c²/n_in)|"})


def decay_rates(moments: xr.Dataset, significance: float = 3.0) -> list[dict]:
    """Per order and width: fitted per-layer factors of |mean| and of the second moment against depth.

    The mean's factor is fitted (least squares of log|mean| on L) only over depths where |mean| > ``significance``
    standard errors; with fewer than 3 such depths it is ``inconclusive``. The bound's per-layer factor is
    max(c²/2, c/√n^μ) (the dominant term of eq. (20) at large L); the second moment's is c².
    """
    c, mu = moments.attrs["c"], moments.attrs["mu"]
    rows = []
    for order in moments["order"].values:
        for width in moments["width"].values:
            cell = moments.sel(order=order, width=width)
            depths = cell["depth"].values.astype(float)
            mean, sem = np.abs(cell["mean"].values), cell["sem"].values
            significant = mean > significance * sem
            bound = max(c**2 / 2, c / np.sqrt(width) ** mu) if np.isfinite(mu) else c**2 / 2
            second_rate = _per_layer_factor(depths, cell["second_moment"].values)
            row = {"order": int(order), "width": int(width), "bound_mean_factor": float(bound),
                   "second_moment_factor": second_rate, "bound_second_factor": float(c**2),
                   "significant_depths": int(significant.sum())}
            if significant.sum() >= 3:
                factor = _per_layer_factor(depths[significant], mean[significant])
                row.update(mean_factor=factor, verdict="within bound" if factor <= bound else "exceeds bound")
            else:
                row.update(mean_factor=np.nan, verdict="inconclusive")
            rows.append(row)
    return rows


def _per_layer_factor(depths: np.ndarray, values: np.ndarray) -> float:
    """exp(slope) of the least-squares line of log(values) against depth; NaN with fewer than two distinct depths
    or a value that is not positive (no line to fit)."""
    if np.unique(depths).size < 2 or not np.all(values > 0):
        return float("nan")
    return float(np.exp(np.polyfit(depths, np.log(values), 1)[0]))
