"""Checks of 003's exact Hessian statements on a trained bias-free ReLU network (validation/closed_forms/hessian.toml).

A bias-free ReLU network is, almost everywhere, a multilinear function of its layers' weight tensors (each
layer enters every path once, and the activation pattern is locally constant). With the hinge loss,
ℓ'' = 0 almost everywhere, so H = (1/n) Σ_i ℓ'(m_i) y_i ∇²f(x_i): a same-layer block is ∂²f/∂W_l² = 0,
hence tr H = 0; and an example with margin m_i ≥ 1 contributes nothing, hence H = 0 once every margin is
≥ 1 (zero risk). A traceless symmetric H is positive semi-definite only if it is zero, which settles what
003's "frustration phase: H is likely positive semi-definite" (supp. C C) can mean for this setting.

The network: ``bfmlp:64-12-8-1`` (P = 872) trained by full-batch gradient descent in float64 on the first
``n_train`` examples of scikit-learn's digits, even against odd (``digits-binary``), through the training driver
(preset ``hessian-claims`` of :data:`.config.PRESETS`).
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..checks import registered_check
from .config import PRESETS, TrainConfig
from .data import load_dataset
from .torch_hessian import HessianOperator, exact_spectrum
from .probes import load_trained_model
from .training import train

_PRESET = PRESETS["hessian-claims"]


@lru_cache(maxsize=4)
def trained_bias_free(n_train: int = _PRESET["n_train"], steps: int = _PRESET["epochs"], lr: float = _PRESET["lr"],
                      seed: int = 0):
    """(model, x, y) after ``steps`` full-batch gradient steps on the hinge loss (float64), trained by the driver
    (preset ``hessian-claims``) in a temporary run directory."""
    with tempfile.TemporaryDirectory(prefix="statmech-nn-hessian-claims-") as work:
        config = TrainConfig.preset("hessian-claims", n_train=n_train, batch_size=n_train, epochs=steps, lr=lr,
                                    seed=seed, out=str(Path(work) / "run"))
        train(config, progress=False)
        model, _ = load_trained_model(config.out)
    data = load_dataset(config.dataset, n_train=n_train, n_test=1)
    return model, data.x_train, data.y_train


def _hessian(model, x, y) -> tuple[HessianOperator, np.ndarray]:
    operator = HessianOperator(model, "hinge", x, y)
    return operator, operator.exact()


@registered_check
def same_layer_blocks(n_train: int = _PRESET["n_train"], steps: int = _PRESET["epochs"]):
    """max over layers of max|H_ll| relative to max|H|: 0 up to rounding."""
    operator, hessian = _hessian(*trained_bias_free(n_train, steps))
    scale = np.abs(hessian).max()
    blocks = {name: float(np.abs(hessian[s, s]).max()) for name, s in operator.layer_slices().items()}
    return max(blocks.values()) / scale, (f"P = {operator.dim}, max|H| = {scale:.3g}, max|H_ll| per layer: "
                                         + ", ".join(f"{name} {value:.3g}" for name, value in blocks.items()))


@registered_check
def traceless(n_train: int = _PRESET["n_train"], steps: int = _PRESET["epochs"]):
    """|tr H| / ‖H‖_F."""
    operator, hessian = _hessian(*trained_bias_free(n_train, steps))
    norm = np.linalg.norm(hessian)
    return (abs(np.trace(hessian)) / norm,
            f"tr H = {np.trace(hessian):.3g}, ‖H‖_F = {norm:.3g}, loss {operator.loss():.3g}")


def beyond_margin(n_train: int = _PRESET["n_train"], steps: int = _PRESET["epochs"]):
    """(model, x, y, detail): the trained net with its output layer scaled so that every correctly classified
    example has margin ≥ 2 (clear of the kink at 1, where rounding would decide), and those examples only.

    f is linear in the output weights, so scaling them by 2/min margin does it; the examples the trained
    net misclassifies are left out of the data (the detail says how many remain).
    """
    model, x, y = trained_bias_free(n_train, steps)
    with torch.no_grad():
        margins = ((2.0 * torch.as_tensor(y, dtype=torch.float64) - 1.0)
                   * model(torch.as_tensor(x, dtype=torch.float64)).reshape(-1)).numpy()
    correct = margins > 0
    scaled = HessianOperator(model, "hinge", x[correct], y[correct]).model
    with torch.no_grad():
        list(scaled.parameters())[-1].mul_(2.0 / margins[correct].min())
    return scaled, x[correct], y[correct], f"{int(correct.sum())} of {len(y)} examples classified right"


@registered_check
def zero_beyond_margin(n_train: int = _PRESET["n_train"], steps: int = _PRESET["epochs"]):
    """max|H| once every margin is ≥ 2 (:func:`beyond_margin`): 0 exactly."""
    model, x, y, detail = beyond_margin(n_train, steps)
    operator, hessian = _hessian(model, x, y)
    return float(np.abs(hessian).max()), (f"{detail}, scaled to margins >= 2: loss {operator.loss():.3g}, "
                                          f"max|H| {np.abs(hessian).max():.3g}")


@registered_check
def positive_semidefinite(n_train: int = _PRESET["n_train"], steps: int = _PRESET["epochs"]):
    """−λ_min/λ_max of the trained net's Hessian: 0 if H ⪰ 0; a traceless H ≠ 0 always has λ_min < 0."""
    operator, hessian = _hessian(*trained_bias_free(n_train, steps))
    eigenvalues, _ = exact_spectrum(hessian)
    ratio = max(0.0, -eigenvalues[0]) / eigenvalues[-1]
    return ratio, (f"risk {operator.loss():.3g} > 0, λ_min = {eigenvalues[0]:.3g}, λ_max = {eigenvalues[-1]:.3g}, "
                   f"{(eigenvalues < -1e-12).mean():.0%} of eigenvalues negative; tr H = 0 exactly, so H ⪰ 0 "
                   "only where H = 0")
