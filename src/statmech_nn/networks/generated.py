"""Procedurally generated data sets: MNIST-1D and a sparse teacher–student task. Both are fully
determined by their seed (same seed → same bits) and vectorized over samples.

- :func:`make_mnist1d` follows the generation recipe of Greydanus (2020), "Scaling down deep learning"
  (MNIST-1D): a 12-point template per class is padded, dilated, scaled, translated, given correlated
  background noise, i.i.d. noise and a shear, then resampled to 40 points. The ten templates are our
  own shapes (not the published ones), so the data are MNIST-1D-like, not the published arrays.
- :func:`make_teacher_student` draws MNIST-like sparse, non-negative inputs (each feature active with
  its own rate, mean rate ``density`` ≈ 0.19 as in MNIST; some features almost never active, like
  MNIST's border pixels) and labels them with a random ReLU teacher network (argmax of its centred
  outputs, so the classes are roughly balanced).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..params import rng_from

_TEMPLATE_POINTS = 12
_CANVAS = 72            # template length + largest padding (12 + 60), the dilated length
_FINAL_POINTS = 40


def _templates() -> np.ndarray:
    """Ten distinct 12-point shapes, one per class (ours; see the module docstring)."""
    s = np.linspace(0.0, 1.0, _TEMPLATE_POINTS)
    shapes = [
        np.sin(np.pi * s),
        2 * s - 1,
        1 - 2 * s,
        np.sin(2 * np.pi * s),
        -np.sin(np.pi * s),
        np.where(s > 0.5, 1.0, -1.0),
        2 * np.abs(2 * s - 1) - 1,
        np.sin(3 * np.pi * s),
        np.cos(2 * np.pi * s),
        2 * np.exp(-(((s - 0.75) / 0.12) ** 2)) - 0.5,
    ]
    return np.stack(shapes)


def _interpolate_rows(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of each row of ``values`` (n, m) at fractional ``positions`` (n, k) in [0, m-1]."""
    m = values.shape[1]
    positions = np.clip(positions, 0.0, m - 1.0)
    left = np.minimum(np.floor(positions).astype(np.int64), m - 2)
    frac = positions - left
    lo = np.take_along_axis(values, left, axis=1)
    hi = np.take_along_axis(values, left + 1, axis=1)
    return lo + frac * (hi - lo)


def make_mnist1d(n_samples: int = 5000, seed=0, *, padding=(36, 60), scale_coeff: float = 0.4,
                 max_translation: int = 48, corr_noise_scale: float = 0.25, iid_noise_scale: float = 2e-2,
                 shear_scale: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-1D-like sequences: (x float32 (n, 40), y int64 (n,)), classes balanced."""
    rng = rng_from(seed)
    templates = _templates()
    y = rng.permutation(np.arange(n_samples) % 10)
    pad_total = rng.integers(padding[0], padding[1] + 1, size=n_samples)
    pad_left = rng.integers(0, pad_total + 1)
    # dilate: the padded canvas (12 + pad_total points) is stretched onto _CANVAS points
    grid = np.linspace(0.0, 1.0, _CANVAS)[None, :]
    canvas_position = grid * (_TEMPLATE_POINTS + pad_total[:, None] - 1) - pad_left[:, None]
    inside = (canvas_position >= 0) & (canvas_position <= _TEMPLATE_POINTS - 1)
    signal = np.where(inside, _interpolate_rows(templates[y], canvas_position), 0.0)
    signal *= 1.0 + scale_coeff * (rng.random(n_samples)[:, None] - 0.5)
    shift = rng.integers(-max_translation, max_translation + 1, size=n_samples)
    rolled = (np.arange(_CANVAS)[None, :] - shift[:, None]) % _CANVAS
    signal = np.take_along_axis(signal, rolled, axis=1)
    inside = np.take_along_axis(inside, rolled, axis=1)
    background = gaussian_filter1d(rng.normal(size=(n_samples, _CANVAS)), sigma=2.0, axis=1, mode="wrap")
    signal = np.where(inside, signal, corr_noise_scale * background / background.std())
    signal += iid_noise_scale * rng.normal(size=signal.shape)
    slope = shear_scale * (rng.random(n_samples)[:, None] - 0.5)
    signal += slope * (grid - 0.5)
    final = np.linspace(0.0, _CANVAS - 1.0, _FINAL_POINTS)[None, :].repeat(n_samples, axis=0)
    return _interpolate_rows(signal, final).astype(np.float32), y.astype(np.int64)


def make_teacher_student(n_samples: int, input_dim: int, seed=0, *, density: float = 0.19,
                         n_classes: int = 10, teacher_hidden: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Sparse non-negative inputs labelled by a random ReLU teacher: (x float32 (n, D), y int64 (n,))."""
    rng = rng_from(seed)
    concentration = 0.4
    rates = rng.beta(concentration, concentration * (1.0 - density) / density, size=input_dim)
    active = rng.random((n_samples, input_dim)) < rates
    x = np.where(active, rng.uniform(0.05, 1.0, size=(n_samples, input_dim)), 0.0)
    w_hidden = rng.normal(size=(input_dim, teacher_hidden)) / np.sqrt(max(input_dim * density, 1.0))
    w_out = rng.normal(size=(teacher_hidden, n_classes)) / np.sqrt(teacher_hidden)
    centred = x - rates * 0.525  # E[value] = 0.525 for U(0.05, 1)
    logits = np.maximum(centred @ w_hidden, 0.0) @ w_out
    y = np.argmax(logits - logits.mean(axis=0), axis=1)
    return x.astype(np.float32), y.astype(np.int64)
