"""003's basis circuits (§II.3-II.4, eqs. (10)-(11), (14)-(16), (18)-(19)) of bias-free ReLU networks, NumPy only.

For a fixed input x the gates of a bias-free ReLU network are fixed, and its output is a sum over paths
i = (i_0, …, i_K) from an input unit to the output (003 eq. (10)):

    T(x) = Σ_i x_{i0} Ψ_i,      Ψ_i = Π_k B_k[i_k, i_{k-1}] g_k[i_k]         (eq. (11))

with B_k the k-th linear map and g_k the gates on its output units (ReLU: 1[z > 0]; 1 where no ReLU follows).
A network is unrolled into such **stages**: a fully connected layer is its matrix; a 3x3 convolution is its
sparse Toeplitz matrix, each entry a kernel tap (a path through a convolution picks one tap); a 2x2 max-pool is a
0/1 matrix over its windows, 1 on the selected input only ("max-pool is a gate": the other paths carry 0).

The first-order perturbation Ω¹ of a circuit (eq. (16)) is the circuit with one weight removed (its gates kept),
the second-order Ω² (eq. (19)) with two weights of different layers removed; summed over the circuits through
the edges they are the entries of ∂T/∂w and ∂²T/∂w∂w' (eqs. (15), (18)). A shared conv weight collects the sums
over all its taps. Within one layer ∂²T = 0: T is linear in each layer's weights. The loss factor ℓ' of eq. (16)
is one number per example and is left out: these are perturbations of the output T(x).

Layer specs (what :func:`build_stages` reads; :mod:`statmech_nn.networks.circuit_io` makes them from torch):
``("linear", W)`` with W (out, in); ``("conv", K, padding)`` with K (C_out, C_in, kh, kw), stride 1;
``("relu",)``; ``("maxpool", k)`` (k x k, stride k, floor); ``("flatten",)``. Inputs: (C, H, W) for conv nets.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.stats import skew

from ..errors import DataError, ParameterError
from ..params import require_int, rng_from

MAX_TENSOR = 20_000_000    # entries of an explicit path tensor


@dataclass(frozen=True)
class Stage:
    """One linear map of the unrolled network: entries (rows, cols, values), their parameter, and output gates."""

    shape: tuple[int, int]         # (n_out, n_in)
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray             # B[row, col] (max-pool: 1 on the selected input, 0 on the others)
    params: np.ndarray             # flat index into the layer's weight tensor, -1 for max-pool entries
    layer: int                     # which weight tensor (index into the spec list's weighted layers), -1: none
    gate: np.ndarray               # g on the n_out output units

    def dense(self) -> np.ndarray:
        out = np.zeros(self.shape)
        out[self.rows, self.cols] = self.values
        return out

    def matrix(self) -> sparse.csr_matrix:
        return sparse.csr_matrix((self.values, (self.rows, self.cols)), shape=self.shape)


@dataclass(frozen=True)
class Circuits:
    """A network unrolled at one input: its stages, the input, and the shapes of its weight tensors."""

    x: np.ndarray                  # flattened input
    stages: list[Stage]
    weight_shapes: list[tuple[int, ...]]

    @property
    def output(self) -> np.ndarray:
        """The forward pass through the unrolled stages (equal to the network's output)."""
        a = self.x
        for stage in self.stages:
            a = stage.gate * (stage.matrix() @ a)
        return a

    @property
    def n_paths(self) -> float:
        """How many connected paths (edges with a weight or a pool window) lead from an input to an output
        (float64: exact below 2^53, inf beyond ~1e308)."""
        counts = np.ones(self.stages[-1].shape[0])
        for stage in reversed(self.stages):
            counts = np.bincount(stage.cols, weights=counts[stage.rows], minlength=stage.shape[1])
        return float(counts.sum())


def _conv_entries(kernel: np.ndarray, padding: int, in_shape):
    c_out, c_in, kh, kw = kernel.shape
    channels, height, width = in_shape
    if channels != c_in:
        raise DataError(f"a convolution with {c_in} input channels receives {channels}")
    h_out, w_out = height + 2 * padding - kh + 1, width + 2 * padding - kw + 1
    co, ci, dy, dx, y, x = np.meshgrid(np.arange(c_out), np.arange(c_in), np.arange(kh), np.arange(kw),
                                       np.arange(h_out), np.arange(w_out), indexing="ij")
    iy, ix = y + dy - padding, x + dx - padding
    inside = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
    co, ci, dy, dx, y, x, iy, ix = (v[inside] for v in (co, ci, dy, dx, y, x, iy, ix))
    rows = (co * h_out + y) * w_out + x
    cols = (ci * height + iy) * width + ix
    params = ((co * c_in + ci) * kh + dy) * kw + dx
    return rows, cols, params, (c_out * h_out * w_out, channels * height * width), (c_out, h_out, w_out)


def _pool_entries(a: np.ndarray, k: int, in_shape):
    channels, height, width = in_shape
    h_out, w_out = height // k, width // k
    c, y, x, dy, dx = np.meshgrid(np.arange(channels), np.arange(h_out), np.arange(w_out), np.arange(k),
                                  np.arange(k), indexing="ij")
    cols = ((c * height + y * k + dy) * width + x * k + dx).reshape(-1, k * k)   # window members, row-major
    rows = ((c * h_out + y) * w_out + x)[..., 0, 0].reshape(-1)
    chosen = np.argmax(a[cols], axis=1)                    # the first maximum, as torch's max-pool picks
    values = np.zeros(cols.shape)
    values[np.arange(len(rows)), chosen] = 1.0
    return (np.repeat(rows, k * k), cols.reshape(-1), values.reshape(-1),
            (channels * h_out * w_out, channels * height * width), (channels, h_out, w_out))


def build_stages(specs, x) -> Circuits:
    """Unroll a bias-free ReLU network (layer specs, see the module doc) at input ``x`` into its stages."""
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise DataError("the input holds NaN or infinite values")
    shape, a = x.shape, x.reshape(-1)
    stages: list[Stage] = []
    weight_shapes: list[tuple[int, ...]] = []
    for spec in specs:
        kind = spec[0]
        if kind in ("linear", "conv"):
            w = np.asarray(spec[1], dtype=np.float64)
            if kind == "linear":
                if w.ndim != 2 or w.shape[1] != a.shape[0]:
                    raise DataError(f"a linear layer of shape {w.shape} receives {a.shape[0]} inputs")
                rows, cols = np.divmod(np.arange(w.size), w.shape[1])
                params, size, shape = np.arange(w.size), w.shape, (w.shape[0],)
            else:
                if len(shape) != 3 or w.ndim != 4:
                    raise DataError(f"a convolution needs (C, H, W) inputs and a 4-D kernel, got {shape}, {w.shape}")
                rows, cols, params, size, shape = _conv_entries(w, int(spec[2]), shape)
            values = w.reshape(-1)[params]
            weight_shapes.append(w.shape)
            stage = Stage(size, rows, cols, values, params, len(weight_shapes) - 1, np.ones(size[0]))
        elif kind == "maxpool":
            if len(shape) != 3:
                raise DataError(f"a max-pool needs (C, H, W) activations, got {shape}")
            rows, cols, values, size, shape = _pool_entries(a, int(spec[1]), shape)
            stage = Stage(size, rows, cols, values, np.full(rows.shape, -1), -1, np.ones(size[0]))
        elif kind == "relu":
            if not stages:
                raise DataError("a ReLU before any linear map")
            last = stages[-1]
            stages[-1] = Stage(last.shape, last.rows, last.cols, last.values, last.params, last.layer,
                               last.gate * (a > 0))
            a = np.maximum(a, 0.0)
            continue
        elif kind == "flatten":
            shape = (a.shape[0],)
            continue
        else:
            raise DataError(f"unknown layer kind {kind!r} (linear, conv, relu, maxpool, flatten)")
        stages.append(stage)
        a = stage.matrix() @ a
    if not stages:
        raise DataError("a network needs at least one linear map")
    return Circuits(x.reshape(-1), stages, weight_shapes)


# --- exact path sums (small networks) --------------------------------------------------------------------
def _factors(circuits: Circuits, removed=()) -> list[np.ndarray]:
    """Dense gated factors F_k[i_{k-1}, i_k] = g_k[i_k] B_k[i_k, i_{k-1}]; removed stages keep only g on edges."""
    factors = []
    for k, stage in enumerate(circuits.stages):
        b = np.zeros(stage.shape)
        b[stage.rows, stage.cols] = 1.0 if k in removed else stage.values
        factors.append((stage.gate[:, None] * b).T)
    return factors


def _letters(n: int) -> str:
    if n > 52:
        raise ParameterError("network", f"{n} unit layers", "at most 52 for the explicit path sums")
    return (string.ascii_lowercase + string.ascii_uppercase)[:n]


def path_tensor(circuits: Circuits) -> np.ndarray:
    """Every path's contribution x_{i0} Ψ_i as an array indexed (i_0, …, i_K) (003 eqs. (10)-(11)); small nets."""
    sizes = [circuits.x.shape[0]] + [s.shape[0] for s in circuits.stages]
    if np.prod(sizes, dtype=float) > MAX_TENSOR:
        raise ParameterError("network", "x".join(map(str, sizes)), f"at most {MAX_TENSOR} index tuples; sample paths")
    tensor = circuits.x
    for factor in _factors(circuits):
        tensor = tensor[..., None] * factor.reshape((1,) * (tensor.ndim - 1) + factor.shape)
    return tensor


def _param_stages(circuits: Circuits) -> list[int]:
    return [k for k, s in enumerate(circuits.stages) if s.layer >= 0]


def _path_sum(circuits: Circuits, removed: tuple[int, ...], keep: str) -> np.ndarray:
    """Σ over the paths of the circuits with the weights of ``removed`` stages taken out, kept indices ``keep``."""
    letters = _letters(len(circuits.stages) + 1)
    operands, subscripts = [circuits.x], [letters[0]]
    for k, factor in enumerate(_factors(circuits, removed)):
        operands.append(factor)
        subscripts.append(letters[k] + letters[k + 1])
    return np.einsum(",".join(subscripts) + "->" + keep, *operands, optimize=True)


def circuit_gradient(circuits: Circuits) -> list[np.ndarray]:
    """∂T/∂w for every weight tensor as the sums of first-order perturbations Ω¹ (eqs. (15)-(16)); one output unit."""
    _one_output(circuits)
    letters = _letters(len(circuits.stages) + 1)
    grads = [np.zeros(int(np.prod(shape))) for shape in circuits.weight_shapes]
    for k in _param_stages(circuits):
        stage = circuits.stages[k]
        edge_sums = _path_sum(circuits, (k,), letters[k] + letters[k + 1])      # [i_{k-1}, i_k]
        np.add.at(grads[stage.layer], stage.params, edge_sums[stage.cols, stage.rows])
    return [g.reshape(shape) for g, shape in zip(grads, circuits.weight_shapes)]


def circuit_hessian(circuits: Circuits) -> np.ndarray:
    """∂²T/∂w∂w' over all weights (flattened in layer order) as sums of second-order perturbations Ω²
    (eqs. (18)-(19))."""
    _one_output(circuits)
    letters = _letters(len(circuits.stages) + 1)
    sizes = [int(np.prod(shape)) for shape in circuits.weight_shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    hessian = np.zeros((offsets[-1], offsets[-1]))
    stages = _param_stages(circuits)
    for position, k in enumerate(stages):
        for m in stages[position + 1:]:
            s, t = circuits.stages[k], circuits.stages[m]
            keep = "".join(dict.fromkeys(letters[k] + letters[k + 1] + letters[m] + letters[m + 1]))
            sums = _path_sum(circuits, (k, m), keep)
            if m == k + 1:   # the two edges share the unit i_k
                block = sums[s.cols[:, None], s.rows[:, None], t.rows[None, :]] * (s.rows[:, None] == t.cols[None, :])
            else:
                block = sums[s.cols[:, None], s.rows[:, None], t.cols[None, :], t.rows[None, :]]
            i = offsets[s.layer] + s.params
            j = offsets[t.layer] + t.params
            np.add.at(hessian, (i[:, None], j[None, :]), block)
    return hessian + hessian.T


def _one_output(circuits: Circuits) -> None:
    if circuits.stages[-1].shape[0] != 1:
        raise DataError(f"perturbations are of a scalar output; this network has {circuits.stages[-1].shape[0]}")


# --- sampled circuits (large networks) --------------------------------------------------------------------
@dataclass(frozen=True)
class PathSample:
    """Uniformly sampled connected paths and their circuit values."""

    psi: np.ndarray       # x_{i0} Ψ_i, the path's contribution to T(x)
    omega1: np.ndarray    # with one weight removed (a weighted stage chosen uniformly per path)
    omega2: np.ndarray    # with two weights of different stages removed (a pair chosen uniformly), if ≥ 2 stages
    total_paths: float


def _column_sampler(stage: Stage, weights: np.ndarray):
    """Entries of ``stage`` sorted by input unit, with cumulative path-count weights for inverse-CDF draws."""
    order = np.argsort(stage.cols, kind="stable")
    entry_weights = weights[stage.rows[order]]
    cumulative = np.cumsum(entry_weights)
    starts = np.searchsorted(stage.cols[order], np.arange(stage.shape[1]), side="left")
    ends = np.searchsorted(stage.cols[order], np.arange(stage.shape[1]), side="right")
    before = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
    totals = np.where(ends > starts, cumulative[np.maximum(ends - 1, 0)], 0.0) - before
    return order, cumulative, before, totals


def sample_paths(circuits: Circuits, n: int, seed=None) -> PathSample:
    """``n`` paths drawn uniformly among all connected input-to-output paths (exactly, via path counts)."""
    n = require_int("paths", n, 1)
    rng = rng_from(seed)
    counts = [np.ones(circuits.stages[-1].shape[0])]
    for stage in reversed(circuits.stages):               # paths from each unit to the output, scaled per layer
        c = np.bincount(stage.cols, weights=counts[0][stage.rows], minlength=stage.shape[1])
        counts.insert(0, c / c.max() if c.max() > 0 else c)
    if counts[0].sum() == 0:
        raise DataError("the network has no path from an input to an output")
    start = counts[0] / counts[0].sum()
    node = rng.choice(start.shape[0], size=n, p=start)
    x0 = circuits.x[node]
    values, gates = [], []
    for k, stage in enumerate(circuits.stages):
        order, cumulative, before, totals = _column_sampler(stage, counts[k + 1])
        target = before[node] + rng.random(n) * totals[node]
        entry = order[np.minimum(np.searchsorted(cumulative, target, side="right"), len(order) - 1)]
        node = stage.rows[entry]
        values.append(stage.values[entry])
        gates.append(stage.gate[node])
    values, gates = np.array(values), np.array(gates)       # (stages, n)
    psi = x0 * np.prod(values * gates, axis=0)
    weighted = _param_stages(circuits)
    one = rng.choice(weighted, size=n)
    keep1 = np.where(np.arange(len(values))[:, None] == one[None, :], 1.0, values)
    omega1 = x0 * np.prod(keep1 * gates, axis=0)
    omega2 = np.empty(0)
    if len(weighted) >= 2:
        pairs = np.array([(a, b) for i, a in enumerate(weighted) for b in weighted[i + 1:]])
        chosen = pairs[rng.integers(len(pairs), size=n)]
        rows = np.arange(len(values))[:, None]
        removed = (rows == chosen[:, 0][None, :]) | (rows == chosen[:, 1][None, :])
        omega2 = x0 * np.prod(np.where(removed, 1.0, values) * gates, axis=0)
    return PathSample(psi, omega1, omega2, circuits.n_paths)


# --- circuit symmetry (eq. (14), Fig. 3b) ------------------------------------------------------------------
SYMMETRY_STATISTICS = ("count", "skewness", "ks_mirror", "fraction_positive", "atom_zero")


def symmetry_statistics(values) -> dict[str, float]:
    """How far a sample of circuit values is from a law symmetric about 0 (003 eq. (14): μ(ψ) = μ(-ψ)).

    ``skewness`` and ``ks_mirror`` (the Kolmogorov-Smirnov distance between the nonzero values and their
    negatives: sup_t |F(t) - (1 - F(-t))|) are 0 for a symmetric law; ``fraction_positive`` among the nonzero
    values is 1/2; ``atom_zero`` is the fraction of exact zeros (closed gates, unselected pool inputs, zero
    pixels). NaN where there are too few nonzero values.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    nonzero = values[values != 0]
    out = {"count": float(values.size), "atom_zero": float(np.mean(values == 0)) if values.size else np.nan}
    if nonzero.size < 3:
        return {**out, "skewness": np.nan, "ks_mirror": np.nan, "fraction_positive": np.nan}
    ordered = np.sort(nonzero)
    mirrored = np.sort(-nonzero)
    grid = np.concatenate([ordered, mirrored])
    cdf = np.searchsorted(ordered, grid, side="right") / ordered.size
    cdf_mirror = np.searchsorted(mirrored, grid, side="right") / mirrored.size
    return {**out, "skewness": float(skew(nonzero)), "ks_mirror": float(np.max(np.abs(cdf - cdf_mirror))),
            "fraction_positive": float(np.mean(nonzero > 0))}
