"""003's stochastic neuronal gates (§II.2, eqs. (5)-(8)): a bias-free ReLU MLP read as a multilayer graphical model.

Every hidden unit j of layer l carries a gate h ∈ {0, 1}. Given the layer below, the gates are independent with
P(h = 1) = sigmoid(z/T), z the unit's pre-activation, and the unit passes x = h·z upwards (003 eqs. (6)-(8): the
logit x_{l-1}ᵀ W_l of the gate law, the temperature T the noise of the inference). T → 0 gives h = 1[z > 0],
the ReLU network (eq. (7)). The output is linear in the gates of the last hidden layer given everything below,
so its conditional mean and variance there are closed forms; the layers below are enumerated.

Three ways to the output's law for one input x:

- :func:`exact`: every gate pattern of the hidden layers below the last is enumerated (vectorized over
  patterns: each enumerated layer multiplies the rows by 2^n), the last hidden layer is averaged in closed
  form. Mean, variance and every gate's marginal P(h = 1), exact to rounding;
- :func:`monte_carlo`: seeded samples of all gates, layer by layer; mean with its standard error;
- :func:`mean_field`: each layer replaced by its mean given the mean below, x = z·sigmoid(z/T) (Swish with
  β = 1/T). For one hidden layer this *is* the exact mean (the output is linear in independent gates); for
  two or more it is not (E[z σ(z/T)] ≠ E[z] σ(E[z]/T) when z is random).

Weights come in torch's Linear layout: ``layers[l]`` is (n_out × n_in); the last matrix is the output layer
(no gate). NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

from ..errors import DataError, ParameterError
from ..inputs import real_array
from ..params import require_int, require_nonnegative, rng_from

MAX_PATTERNS = 1 << 22      # rows held at once by the exact enumeration
MAX_LAYER_WIDTH = 20        # widest enumerated layer (2^20 patterns)


def check_layers(layers, x=None) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Float64 copies of the layer matrices (chained shapes checked) and of the input vector."""
    mats = [real_array(w, f"layer W{index}") for index, w in enumerate(layers, start=1)]
    if not mats:
        raise DataError("a network needs at least one layer matrix")
    for index, w in enumerate(mats, start=1):
        if w.ndim != 2 or 0 in w.shape:
            raise DataError(f"layer W{index} must be a non-empty (n_out, n_in) matrix, got shape {w.shape}")
        if not np.all(np.isfinite(w)):
            raise DataError(f"layer W{index} holds NaN or infinite values")
        if index > 1 and w.shape[1] != mats[index - 2].shape[0]:
            raise DataError(f"layer W{index} takes {w.shape[1]} inputs "
                            f"but W{index - 1} gives {mats[index - 2].shape[0]}")
    if x is None:
        return mats, None
    x = real_array(x, "the input")
    if x.ndim != 1 or x.shape[0] != mats[0].shape[1] or not np.all(np.isfinite(x)):
        raise DataError(f"the input must be a finite vector of length {mats[0].shape[1]}, got shape {x.shape}")
    return mats, x


def gate_probability(z, temperature: float) -> np.ndarray:
    """P(h = 1 | z) = sigmoid(z/T) (003 eq. (6) for one unit); T = 0: 1[z > 0] (eq. (7))."""
    z = np.asarray(z, dtype=np.float64)
    if temperature == 0:
        return (z > 0).astype(np.float64)
    return expit(z / temperature)


def relu_forward(layers, x) -> np.ndarray:
    """The deterministic ReLU network's output (the T → 0 limit)."""
    mats, a = check_layers(layers, x)
    for w in mats[:-1]:
        a = np.maximum(w @ a, 0.0)
    return mats[-1] @ a


def mean_field(layers, x, temperature: float) -> np.ndarray:
    """Per-layer mean field: x_l = z_l·sigmoid(z_l/T), z_l = W_l x_{l-1} (Swish, β = 1/T); ReLU at T = 0."""
    temperature = require_nonnegative("temperature", temperature)
    mats, a = check_layers(layers, x)
    for w in mats[:-1]:
        z = w @ a
        a = z * gate_probability(z, temperature)
    return mats[-1] @ a


@dataclass(frozen=True)
class GateLaw:
    """The output law of a stochastic-gate network at one input (exact enumeration)."""

    mean: np.ndarray              # E[T(x)], one entry per output unit
    variance: np.ndarray          # Var[T(x)]
    marginals: list[np.ndarray]   # per hidden layer, P(h_j = 1)
    patterns: int                 # gate patterns enumerated (rows of the last expansion)
    temperature: float


def _patterns(width: int) -> np.ndarray:
    """All 2^width gate patterns as a (2^width, width) 0/1 array."""
    return ((np.arange(1 << width)[:, None] >> np.arange(width)) & 1).astype(np.float64)


def _expand(a, logw, w, temperature, budget):
    """Enumerate one layer's gates: every row (activation, log weight) becomes 2^n rows; returns marginals too."""
    z = a @ w.T                                           # (P, n)
    n = z.shape[1]
    if n > MAX_LAYER_WIDTH or a.shape[0] << n > budget:
        raise ParameterError("network", f"{a.shape[0]} rows x 2^{n} patterns",
                             f"at most {budget} enumerated gate patterns (layers up to ~14 units); "
                             "use the Monte Carlo method for larger networks")
    if temperature == 0:                                  # one pattern per row: the ReLU gates
        h = (z > 0).astype(np.float64)
        return z * h, logw, h.T @ np.exp(logw)
    patterns = _patterns(n)                               # (2^n, n)
    logp, logq = log_expit(z / temperature), log_expit(-z / temperature)
    log_pattern = logp @ patterns.T + logq @ (1.0 - patterns).T        # (P, 2^n), finite for T > 0
    new_logw = (logw[:, None] + log_pattern).reshape(-1)
    new_a = (z[:, None, :] * patterns[None, :, :]).reshape(-1, n)
    weights = np.exp(new_logw)
    keep = weights > 0                                    # rows whose probability underflowed carry nothing
    marginal = weights.reshape(-1, 1 << n).sum(axis=0) @ patterns
    return new_a[keep], new_logw[keep], marginal


def exact(layers, x, temperature: float, max_patterns: int = MAX_PATTERNS) -> GateLaw:
    """Mean, variance and gate marginals of the output by enumerating every gate pattern (see the module doc)."""
    temperature = require_nonnegative("temperature", temperature)
    max_patterns = require_int("max_patterns", max_patterns, 1)
    mats, x = check_layers(layers, x)
    a, logw = x[None, :], np.zeros(1)
    marginals = []
    for w in mats[:-2]:
        a, logw, marginal = _expand(a, logw, w, temperature, max_patterns)
        marginals.append(marginal)
    weights = np.exp(logw)
    if len(mats) == 1:
        mean = mats[0] @ x
        return GateLaw(mean, np.zeros_like(mean), [], 1, temperature)
    z = a @ mats[-2].T                                    # last hidden layer: closed form given the rows
    p = gate_probability(z, temperature)
    marginals.append(weights @ p)
    out = mats[-1]
    row_mean = (p * z) @ out.T                            # E[T | rows]
    row_var = (p * (1.0 - p) * z**2) @ (out**2).T         # Var[T | rows]: independent gates
    mean = weights @ row_mean
    second = weights @ (row_var + row_mean**2)
    variance = np.maximum(second - mean**2, 0.0)
    return GateLaw(mean, variance, marginals, int(a.shape[0]), temperature)


def output_atoms(layers, x, temperature: float, max_patterns: int = MAX_PATTERNS) -> tuple[np.ndarray, np.ndarray]:
    """The full output law as atoms: (values (P, n_out), probabilities (P,)), every hidden layer enumerated."""
    temperature = require_nonnegative("temperature", temperature)
    mats, x = check_layers(layers, x)
    a, logw = x[None, :], np.zeros(1)
    for w in mats[:-1]:
        a, logw, _ = _expand(a, logw, w, temperature, max_patterns)
    return a @ mats[-1].T, np.exp(logw)


@dataclass(frozen=True)
class GateSample:
    """Monte Carlo estimate of the output law at one input."""

    mean: np.ndarray
    sem: np.ndarray               # standard error of the mean
    std: np.ndarray               # standard deviation of T(x) over gate draws
    marginals: list[np.ndarray]   # per hidden layer, the fraction of draws with h_j = 1
    samples: int
    temperature: float


def sample_outputs(layers, x, temperature: float, samples: int, seed=None) -> tuple[np.ndarray, list[np.ndarray]]:
    """``samples`` draws of T(x) (samples, n_out) and the per-layer gate counts, all gates drawn layer by layer."""
    temperature = require_nonnegative("temperature", temperature)
    samples = require_int("samples", samples, 1)
    mats, x = check_layers(layers, x)
    rng = rng_from(seed)
    a = np.broadcast_to(x, (samples, x.shape[0]))
    counts = []
    for w in mats[:-1]:
        z = a @ w.T
        h = rng.random(z.shape) < gate_probability(z, temperature)
        counts.append(h.sum(axis=0))
        a = z * h
    return a @ mats[-1].T, counts


def monte_carlo(layers, x, temperature: float, samples: int = 10000, seed=None, chunk: int = 65536) -> GateSample:
    """Mean of T(x) over ``samples`` seeded gate draws, with its standard error (draws in chunks of ``chunk``)."""
    samples = require_int("samples", samples, 2)
    rng = rng_from(seed)
    total = total_sq = None
    counts = None
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        out, layer_counts = sample_outputs(layers, x, temperature, size, rng)
        shift = out.sum(axis=0), (out**2).sum(axis=0)
        total = shift[0] if total is None else total + shift[0]
        total_sq = shift[1] if total_sq is None else total_sq + shift[1]
        counts = layer_counts if counts is None else [c + d for c, d in zip(counts, layer_counts)]
        done += size
    mean = total / samples
    var = np.maximum(total_sq / samples - mean**2, 0.0) * samples / (samples - 1)
    std = np.sqrt(var)
    return GateSample(mean, std / np.sqrt(samples), std, [c / samples for c in counts], samples, temperature)
