"""A fast batch-1 SGD engine for ReLU MLPs with cross-entropy and L2 (002 §5's protocol), in numba.

Torch's eager SGD with weight decay λ and learning rate η does, for every parameter, every step,

    W ← W − η (∂L/∂W + λ W) = (1 − ηλ) W − η ∂L/∂W.

With batch size 1 the gradient of a weight matrix is an outer product δ aᵀ whose rows vanish for
every input unit a_j = 0 (zero pixels, inactive ReLU units) and whose columns vanish for every output
unit with δ_i = 0 (inactive ReLU units). The engine exploits that:

- **lazy weight decay**: each weight matrix is stored as W = s V with one scale s per matrix. The decay
  is s ← (1 − ηλ) s, and the gradient step is V ← V − (η / s_new) δ aᵀ, which is exact in exact
  arithmetic and touches only the rows with a_j ≠ 0. When s falls below ``renorm_below`` we fold it
  back (V ← s V, s ← 1), which costs one pass over the matrix every ~ln(1/renorm_below)/(ηλ) steps.
- **sparse rows**: matrices are stored input-major, V[j, :] = the weights leaving input unit j, so the
  forward pass adds only the rows of non-zero inputs, and the update touches only those rows.
- **fused backward and update**: for a hidden layer, one pass over row j computes the back-propagated
  δ_j = s_old Σ_i V[j, i] δ_i with the old weights and writes the updated row.
- biases (small, dense) follow torch's update exactly: b ← b − η (δ + λ b).

The engine reproduces torch's eager ``SGD(lr, weight_decay)`` trajectory from the same initialization
and sample order, up to float rounding (summation order and the factorization W = s V differ): over 10⁴
steps in float64 the two agree to 1e-11; in float32 the engine stays as close to the exact (float64)
trajectory as torch's own float32 run does (tests/test_networks_fast_sgd.py states the tolerances).
Same inputs → same bits, however the steps are split into calls.

Speed: the engine is bound by memory traffic (benchmarks/bench_step_roofline.py). Per step it reads the weight
rows of the active inputs twice (forward, then the fused back-propagated dot product and update) and writes them
once. On 002's 784-700-476-10 net with mnist5k (on average 152 non-zero pixels, 506 and 341 active hidden units)
that is 3 × 1.40 MB = 4.2 MB per step in float32. The weights (3.4 MB) do not fit a core's 2 MB L2 but sit in the
32 MB L3; the rows one step touches (1.4 MB) are re-read from L2 in its second pass. At the bandwidths measured for
these very row patterns (60-80 GB/s read, 65-90 GB/s read+write, about numpy's 75-90 GB/s copy bandwidth at L2/L3
sizes, against 6-11 GB/s from memory) the limit is 16,000-19,000 steps/s; the engine ran 17,650 steps/s on a quiet
machine (load 0.8) and 16,950 on a core at load 6 against a limit of 18,080 there: gap 1.07 (1.18 at numpy's L3
copy bandwidth). At load 10 it fell to 4,500, where the co-runners evict its rows from the caches. The
back-propagation through W2 needs the forward pass of the same step to finish first, and the next step's forward
needs this step's update, so the passes cannot be merged; a two-thread split of each pass (numba prange, four
parallel regions per step) lost an order of magnitude on a busy 2-core machine, so the kernel is single-threaded
and speed per machine comes from replicas on the cores (:mod:`.replicas`).

The driver's per-epoch work beside an epoch of mnist5k steps (0.243 CPU s): the evaluation on the train and test
sets cost 0.150 CPU s through the dense torch forward pass (the run 1.68× slower than its steps, checkpoint
included); :meth:`FastMLPEngine.evaluate` computes the first layer sparsely (only the non-zero inputs' rows) and the
others as torch products on W = s V in 0.072 CPU s, so the run is 1.35× slower than its steps
(bench_step_roofline.py, load 6).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from numba import njit
from torch import nn

from ..errors import ParameterError
from .tracking import TrackedParameters

DEFAULT_RENORM_BELOW = 2.0**-16


@njit(cache=True, fastmath=True, nogil=True)
def _accumulate_rows(out, weights, units, values, start, stop):
    """out += Σ_k values[k] · weights[units[k]] over k in [start, stop), four rows per pass over ``out``."""
    n_out = out.shape[0]
    k = start
    while k + 4 <= stop:
        a0, a1, a2, a3 = values[k], values[k + 1], values[k + 2], values[k + 3]
        r0, r1, r2, r3 = weights[units[k]], weights[units[k + 1]], weights[units[k + 2]], weights[units[k + 3]]
        for i in range(n_out):
            out[i] += a0 * r0[i] + a1 * r1[i] + a2 * r2[i] + a3 * r3[i]
        k += 4
    while k < stop:
        a0 = values[k]
        r0 = weights[units[k]]
        for i in range(n_out):
            out[i] += a0 * r0[i]
        k += 1


@njit(cache=True, fastmath=True, nogil=True)
def _forward(V, v_off, b, b_off, widths, scale, x_indptr, x_indices, x_data, n, h, active, n_active, values):
    """Forward pass of sample n: h holds post-ReLU activations (logits for the last layer)."""
    n_layers = widths.shape[0] - 1
    for layer in range(n_layers):
        n_in, n_out = widths[layer], widths[layer + 1]
        weights = V[v_off[layer]:v_off[layer + 1]].reshape((n_in, n_out))
        out = h[b_off[layer]:b_off[layer + 1]]
        out[:] = 0.0
        if layer == 0:
            _accumulate_rows(out, weights, x_indices, x_data, x_indptr[n], x_indptr[n + 1])
        else:
            previous = h[b_off[layer - 1]:b_off[layer]]
            units = active[b_off[layer - 1]:b_off[layer]]
            count = n_active[layer - 1]
            for k in range(count):
                values[k] = previous[units[k]]
            _accumulate_rows(out, weights, units, values, 0, count)
        values[0] = scale[layer]
        s = values[0]
        bias = b[b_off[layer]:b_off[layer + 1]]
        for i in range(n_out):
            out[i] = s * out[i] + bias[i]
        if layer < n_layers - 1:
            units = active[b_off[layer]:b_off[layer + 1]]
            count = 0
            for i in range(n_out):
                if out[i] > 0.0:
                    units[count] = i
                    count += 1
                else:
                    out[i] = 0.0
            n_active[layer] = count


@njit(cache=True, fastmath=True, nogil=True)
def _output_delta(logits, label, delta_out):
    """Softmax cross-entropy: δ = ∂(−log softmax(z)_y)/∂z = softmax(z) − onehot(y)."""
    top = logits.max()
    total = 0.0
    for i in range(logits.shape[0]):
        total += np.exp(logits[i] - top)
    for i in range(logits.shape[0]):
        delta_out[i] = np.exp(logits[i] - top) / total
    delta_out[label] -= 1.0


@njit(cache=True, fastmath=True, nogil=True)
def _backward_update(V, v_off, b, b_off, widths, scale, lr, weight_decay, renorm_below, x_indptr, x_indices,
                     x_data, n, h, active, n_active, delta, coefficient):
    """Back-propagate δ and apply the SGD step with lazy decay, layer by layer from the top."""
    n_layers = widths.shape[0] - 1
    decay = 1.0 - lr * weight_decay
    for layer in range(n_layers - 1, -1, -1):
        n_in, n_out = widths[layer], widths[layer + 1]
        weights = V[v_off[layer]:v_off[layer + 1]].reshape((n_in, n_out))
        d = delta[b_off[layer]:b_off[layer + 1]]
        s_old = scale[layer]
        s_new = s_old * decay
        coefficient[0] = lr / s_new
        step = coefficient[0]
        if layer > 0:
            previous = h[b_off[layer - 1]:b_off[layer]]
            units = active[b_off[layer - 1]:b_off[layer]]
            d_previous = delta[b_off[layer - 1]:b_off[layer]]
            d_previous[:] = 0.0
            count = n_active[layer - 1]
            k = 0
            while k + 2 <= count:  # two rows per pass over d
                j0, j1 = units[k], units[k + 1]
                c0, c1 = step * previous[j0], step * previous[j1]
                r0, r1 = weights[j0], weights[j1]
                acc0 = step - step
                acc1 = step - step
                for i in range(n_out):
                    di = d[i]
                    acc0 += r0[i] * di
                    acc1 += r1[i] * di
                    r0[i] -= c0 * di
                    r1[i] -= c1 * di
                d_previous[j0] = s_old * acc0
                d_previous[j1] = s_old * acc1
                k += 2
            if k < count:
                j0 = units[k]
                c0 = step * previous[j0]
                r0 = weights[j0]
                acc0 = step - step
                for i in range(n_out):
                    acc0 += r0[i] * d[i]
                    r0[i] -= c0 * d[i]
                d_previous[j0] = s_old * acc0
        else:
            start, stop = x_indptr[n], x_indptr[n + 1]
            p = start
            while p + 4 <= stop:  # four rows per pass over d
                c0, c1, c2, c3 = (step * x_data[p], step * x_data[p + 1], step * x_data[p + 2],
                                  step * x_data[p + 3])
                r0, r1 = weights[x_indices[p]], weights[x_indices[p + 1]]
                r2, r3 = weights[x_indices[p + 2]], weights[x_indices[p + 3]]
                for i in range(n_out):
                    di = d[i]
                    r0[i] -= c0 * di
                    r1[i] -= c1 * di
                    r2[i] -= c2 * di
                    r3[i] -= c3 * di
                p += 4
            while p < stop:
                c0 = step * x_data[p]
                r0 = weights[x_indices[p]]
                for i in range(n_out):
                    r0[i] -= c0 * d[i]
                p += 1
        bias = b[b_off[layer]:b_off[layer + 1]]
        for i in range(n_out):
            bias[i] -= lr * (d[i] + weight_decay * bias[i])
        scale[layer] = s_new
        if s_new < renorm_below:
            flat = V[v_off[layer]:v_off[layer + 1]]
            for i in range(flat.shape[0]):
                flat[i] *= s_new
            scale[layer] = 1.0


@njit(cache=True, fastmath=True, nogil=True)
def _first_layer(weights, scale, bias, x_indptr, x_indices, x_data, start, out, relu):
    """out[row] = (ReLU of) s · Σ_j x[start + row, j] V[j] + b over the non-zero inputs j, for every row of out."""
    for row in range(out.shape[0]):
        o = out[row]
        o[:] = 0.0
        n = start + row
        _accumulate_rows(o, weights, x_indices, x_data, x_indptr[n], x_indptr[n + 1])
        for i in range(o.shape[0]):
            value = scale * o[i] + bias[i]
            o[i] = value if value > 0.0 or not relu else 0.0


@njit(cache=True, fastmath=True, nogil=True)
def sgd_steps(V, v_off, b, b_off, widths, scale, lr, weight_decay, renorm_below, x_indptr, x_indices, x_data,
              labels, samples, track_flat, track_layer, track_is_bias, rows, h, active, n_active, delta,
              coefficient, values):
    """Run one batch-1 SGD step per entry of ``samples``; write tracked values to ``rows`` if it has rows."""
    n_layers = widths.shape[0] - 1
    track = rows.shape[0] > 0
    for step in range(samples.shape[0]):
        n = samples[step]
        _forward(V, v_off, b, b_off, widths, scale, x_indptr, x_indices, x_data, n, h, active, n_active, values)
        top = b_off[n_layers - 1]
        _output_delta(h[top:b_off[n_layers]], labels[n], delta[top:b_off[n_layers]])
        _backward_update(V, v_off, b, b_off, widths, scale, lr, weight_decay, renorm_below, x_indptr, x_indices,
                         x_data, n, h, active, n_active, delta, coefficient)
        if track:
            for k in range(track_flat.shape[0]):
                if track_is_bias[k]:
                    rows[step, k] = b[track_flat[k]]
                else:
                    rows[step, k] = scale[track_layer[k]] * V[track_flat[k]]


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of a plain ReLU MLP (Flatten? Linear (ReLU Linear)*), or a ParameterError."""
    modules = [m for m in model.children() if not isinstance(m, nn.Flatten)]
    kinds = [nn.Linear if i % 2 == 0 else nn.ReLU for i in range(len(modules))]
    if not modules or len(modules) % 2 == 0 or any(not isinstance(m, k) for m, k in zip(modules, kinds)):
        raise ParameterError("backend", "fast", "used with a plain ReLU MLP (mlp or ff architectures)")
    layers = modules[::2]
    if any(layer.bias is None for layer in layers):
        raise ParameterError("backend", "fast", "used with Linear layers that have biases")
    return layers


class FastMLPEngine:
    """Batch-1 SGD with L2 on a ReLU MLP with cross-entropy, exploiting sparsity and lazy decay.

    Built from a torch model (its initialization is copied); :meth:`write_to` puts the current weights
    back. The same ``run`` interface as :class:`.steppers.TorchStepper`.
    """

    batch_size = 1

    def __init__(self, model: nn.Module, x_train: np.ndarray, y_train: np.ndarray, *, lr: float,
                 weight_decay: float, tracked: TrackedParameters, renorm_below: float = DEFAULT_RENORM_BELOW):
        layers = linear_layers(model)
        self.model = model
        self.layer_names = [name for name, m in model.named_children() if isinstance(m, nn.Linear)]
        first = layers[0].weight
        self.dtype = np.float32 if first.dtype == torch.float32 else np.float64
        self.widths = np.array([layers[0].in_features] + [layer.out_features for layer in layers], dtype=np.int64)
        sizes = self.widths[:-1] * self.widths[1:]
        self.v_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.b_off = np.concatenate([[0], np.cumsum(self.widths[1:])]).astype(np.int64)
        self.V = np.empty(self.v_off[-1], dtype=self.dtype)
        self.b = np.empty(self.b_off[-1], dtype=self.dtype)
        self.scale = np.ones(len(layers), dtype=np.float64)
        self.load_from(model)
        self.lr, self.weight_decay, self.renorm_below = float(lr), float(weight_decay), float(renorm_below)
        self.x_indptr, self.x_indices, self.x_data = self._sparse_rows(x_train)
        self.labels = np.asarray(y_train, dtype=np.int64)
        # sparse forms of evaluated data sets by id(array), each with its array (which keeps the id valid)
        self._evaluation_sets = {id(x_train): (x_train, (self.x_indptr, self.x_indices, self.x_data))}
        self._set_tracking(tracked)
        self._allocate_buffers()

    def _allocate_buffers(self) -> None:
        """The per-step scratch arrays (activations, δ, active units)."""
        total = int(self.b_off[-1])
        self._h = np.zeros(total, dtype=self.dtype)
        self._delta = np.zeros(total, dtype=self.dtype)
        self._active = np.zeros(total, dtype=np.int64)
        self._n_active = np.zeros(len(self.scale), dtype=np.int64)
        self._coefficient = np.zeros(1, dtype=self.dtype)
        self._values = np.zeros(int(self.widths.max()), dtype=self.dtype)

    def sibling(self, model: nn.Module) -> FastMLPEngine:
        """An engine for another model of the same architecture and dtype, with the same learning rate, L2 rate,
        tracked parameters and training data (the sparse inputs are shared, not copied)."""
        layers = linear_layers(model)
        widths = [layers[0].in_features] + [layer.out_features for layer in layers]
        dtype = np.float32 if layers[0].weight.dtype == torch.float32 else np.float64
        if widths != self.widths.tolist() or dtype != self.dtype:
            raise ParameterError("replica model", f"{widths} {np.dtype(dtype)}",
                                 f"the architecture {self.widths.tolist()} in {np.dtype(self.dtype)}")
        other = copy.copy(self)
        other.model = model
        other.V, other.b, other.scale = np.empty_like(self.V), np.empty_like(self.b), np.ones_like(self.scale)
        other.load_from(model)
        other._allocate_buffers()
        return other

    def _sparse_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The samples as compressed sparse rows (indptr, indices, values) in the engine's dtype."""
        x = np.ascontiguousarray(np.asarray(x).reshape(len(x), -1), dtype=self.dtype)
        if x.shape[1] != self.widths[0]:
            raise ParameterError("input width", x.shape[1], f"{self.widths[0]} (the network's input width)")
        rows, cols = np.nonzero(x)
        return np.searchsorted(rows, np.arange(x.shape[0] + 1)).astype(np.int64), cols.astype(np.int64), x[rows, cols]

    def _set_tracking(self, tracked: TrackedParameters) -> None:
        flat, layer, is_bias = [], [], []
        for name, index in zip(tracked.param_names, tracked.flat_index):
            module, _, kind = name.rpartition(".")
            if module not in self.layer_names:
                raise ParameterError("track", name, "a parameter of the MLP's Linear layers")
            position = self.layer_names.index(module)
            if kind == "bias":
                flat.append(self.b_off[position] + index)
            else:
                out_unit, in_unit = divmod(int(index), int(self.widths[position]))
                flat.append(self.v_off[position] + in_unit * self.widths[position + 1] + out_unit)
            layer.append(position)
            is_bias.append(kind == "bias")
        self.track_flat = np.array(flat, dtype=np.int64)
        self.track_layer = np.array(layer, dtype=np.int64)
        self.track_is_bias = np.array(is_bias, dtype=np.bool_)

    def _matrix(self, layer: int) -> np.ndarray:
        """V of one layer as (in, out)."""
        return self.V[self.v_off[layer]:self.v_off[layer + 1]].reshape(self.widths[layer], self.widths[layer + 1])

    def load_from(self, model: nn.Module) -> None:
        """Copy a torch model's weights in (scales reset to 1)."""
        for position, layer in enumerate(linear_layers(model)):
            self._matrix(position)[...] = layer.weight.detach().cpu().numpy().T
            self.b[self.b_off[position]:self.b_off[position + 1]] = layer.bias.detach().cpu().numpy()
        self.scale[:] = 1.0

    def write_to(self, model: nn.Module) -> None:
        """Put the current weights W = s V (rounded to the engine's dtype) into a torch model."""
        with torch.no_grad():
            for position, layer in enumerate(linear_layers(model)):
                weights = (self.scale[position] * self._matrix(position)).T.astype(self.dtype)
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights)))
                layer.bias.copy_(torch.from_numpy(self.b[self.b_off[position]:self.b_off[position + 1]].copy()))

    def sync_model(self) -> None:
        """Write the current weights into the torch model this engine was built from."""
        self.write_to(self.model)

    def run(self, samples: np.ndarray, track: bool) -> np.ndarray | None:
        """One SGD step per sample index, in order; the tracked values after each step if ``track``."""
        samples = np.ascontiguousarray(samples, dtype=np.int64)
        rows = np.empty((len(samples) if track else 0, len(self.track_flat)), dtype=self.dtype)
        sgd_steps(
            self.V, self.v_off, self.b, self.b_off, self.widths, self.scale, self.lr, self.weight_decay,
            self.renorm_below, self.x_indptr, self.x_indices, self.x_data, self.labels, samples, self.track_flat,
            self.track_layer, self.track_is_bias, rows, self._h, self._active, self._n_active, self._delta,
            self._coefficient, self._values)
        return rows if track else None

    @torch.no_grad()
    def evaluate(self, x: np.ndarray, y: np.ndarray, chunk: int = 1024) -> tuple[float, float]:
        """Mean cross-entropy and accuracy of the current weights on (x, y), as ``training.evaluate`` computes them
        on the torch model, to float rounding (summation order).

        The first layer is a sparse product in numba (only the rows of non-zero inputs: ~150 of 784 on MNIST), the
        others are dense torch products on W = s V without forming it; the sparse form of ``x`` is kept for the
        next call with the same array (the training set's is the engine's own)."""
        key = id(x)
        if key not in self._evaluation_sets:
            self._evaluation_sets[key] = (x, self._sparse_rows(x))
        indptr, indices, values = self._evaluation_sets[key][1]
        n = len(indptr) - 1
        labels = torch.as_tensor(np.asarray(y, dtype=np.int64))
        n_layers = len(self.scale)
        first = np.empty((min(chunk, n), self.widths[1]), dtype=self.dtype)
        total, correct = 0.0, 0
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            _first_layer(self._matrix(0), self.scale[0], self.b[:self.b_off[1]], indptr, indices, values, start,
                         first[:stop - start], n_layers > 1)
            h = torch.from_numpy(first[:stop - start])
            for layer in range(1, n_layers):
                bias = torch.from_numpy(self.b[self.b_off[layer]:self.b_off[layer + 1]])
                h = torch.addmm(bias, h, torch.from_numpy(self._matrix(layer)), alpha=float(self.scale[layer]))
                if layer < n_layers - 1:
                    h = torch.relu_(h)
            total += float(torch.nn.functional.cross_entropy(h, labels[start:stop], reduction="sum"))
            correct += int((h.argmax(dim=1) == labels[start:stop]).sum())
        return total / n, correct / n

    def measure(self, data) -> dict:
        """:meth:`evaluate` on the train and test sets of ``data`` (an ``ArrayDataset``), as the driver's metrics
        record them."""
        train_loss, train_accuracy = self.evaluate(data.x_train, data.y_train)
        test_loss, test_accuracy = self.evaluate(data.x_test, data.y_test)
        return {"train_loss": train_loss, "train_accuracy": train_accuracy, "test_loss": test_loss,
                "test_accuracy": test_accuracy}

    def state(self) -> dict[str, np.ndarray]:
        """Everything a bitwise resume needs: V, s and b (not W = s V, which is rounded)."""
        return {"V": self.V.copy(), "scale": self.scale.copy(), "b": self.b.copy()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for key in ("V", "scale", "b"):
            target = getattr(self, key)
            if state[key].shape != target.shape:
                raise ParameterError(f"checkpoint {key}", state[key].shape, f"shape {target.shape}")
            target[...] = state[key]
