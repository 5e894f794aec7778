"""003's capacity phase scan: network size × data complexity × gate temperature → plasticity or frustration.

003 §III / supp. C C: a network whose capacity exceeds the complexity of its data reaches zero (hinge) risk, the
"plasticity" phase, with the order parameter OP = ‖∇R‖² nonzero while examples still err; a smaller one stays at
nonzero risk, "frustration". Each cell trains a bias-free MLP with stochastic gates (architecture ``gated``,
:mod:`statmech_nn.networks.gated`) full batch on a binary digits task through the training driver
(:func:`statmech_nn.networks.training.train`, preset ``capacity`` of :data:`statmech_nn.networks.config.PRESETS`,
into a temporary run directory) and reports named order parameters (:func:`capacity_cell`). The grid axes:

- ``depth`` (hidden layers) and ``width`` (units per hidden layer): capacity;
- ``n_train`` (examples) and ``label_noise`` (fraction of examples whose label is replaced by a fair coin): data
  complexity;
- ``temperature``: the gate temperature T of 003 eq. (6) (T = 0: ReLU).

A cell is *plastic* when its final risk is ≤ ``risk_tol``. It is *frustrated* when its risk stays above
``risk_tol`` and either the order parameter has died out (OP plateau ≤ ``op_tol``: 003's own criterion, zero order
parameter at nonzero risk) or the risk has stalled (its median over the last 10 % of the steps is above
(1 − ``stall_tol``) times its median over steps 40-50 %: with the non-smooth hinge loss and a fixed step, OP
need not vanish at a stuck point). Otherwise it is *inconclusive*: still descending when the step budget ran out.

With ``hessian`` (the default) each cell also measures 003's Hessian instruments on its trained network
(:func:`hessian_order_parameters`): the spectral asymmetry ∫|ρ(λ) − ρ(−λ)|dλ and the negative mass by SLQ, and
frac(|t| < 0.15) of bootstrapped cross-layer Hessian entries (003 Figs. 7-8), and the scale max|λ| (0 where
every margin is ≥ 1 or every gate is closed: H = 0, the entries have no t and frac is NaN), with the gates at
T = 0 (the ReLU network of the trained weights: at T > 0 each forward pass draws new gates, so the loss is not
one function).

Decisions: digits even/odd (``digits-binary``), inputs standardized (a bias-free network cannot centre them),
examples a seeded subset of the training split, the same initialization seed in every cell. The scan runs on the
scan engine (:func:`statmech_nn.scan.engine.run_scan`, task ``capacity``): a local process pool or a Dask cluster,
resumable in a Zarr store.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import ConvergenceError, ParameterError
from ..io import read_json
from ..networks.config import PRESETS, TrainConfig
from ..params import GridAxis, require_int, require_nonnegative, require_positive
from .engine import load_scan, run_scan
from .scan_spec import ScanSpec
from .scan_store import BOOKKEEPING
from .tasks import task

HESSIAN_OPTIONS = {"steps": 40, "probes": 4, "entries": 60, "bootstrap": 100, "skip_same_layer": True}
AXES = ("depth", "width", "n_train", "label_noise", "temperature")
_PRESET = PRESETS["capacity"]    # steps (one per epoch: full batch), lr, data set, scaling: the one table of defaults


@dataclass(frozen=True)
class CapacityGrid:
    """The scanned values of each axis and the training settings shared by every cell."""

    depth: tuple[int, ...] = (2,)
    width: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    n_train: tuple[int, ...] = (64, 256, 1024)
    label_noise: tuple[float, ...] = (0.0, 0.5)
    temperature: tuple[float, ...] = (0.0, 0.1)
    steps: int = _PRESET["epochs"]
    lr: float = _PRESET["lr"]
    risk_tol: float = 1e-3
    op_tol: float = 1e-6
    stall_tol: float = 0.05
    dataset: str = _PRESET["dataset"]
    seed: int = 0

    def __post_init__(self):
        for name in AXES:
            values = tuple(getattr(self, name))
            if not values:
                raise ParameterError(name, values, "at least one value")
            object.__setattr__(self, name, values)
        for d in self.depth:
            require_int("depth", d, 1)
        for w in self.width:
            require_int("width", w, 1)
        for n in self.n_train:
            require_int("n_train", n, 2)
        for f in self.label_noise:
            if not 0 <= require_nonnegative("label_noise", f) <= 1:
                raise ParameterError("label_noise", f, "a fraction in [0, 1]")
        for t in self.temperature:
            require_nonnegative("temperature", t)
        require_int("steps", self.steps, 1)
        require_positive("lr", self.lr)
        require_positive("risk_tol", self.risk_tol)
        require_positive("op_tol", self.op_tol)
        require_positive("stall_tol", self.stall_tol)

    def cells(self) -> list[dict]:
        return [dict(zip(AXES, values)) for values in itertools.product(*(getattr(self, a) for a in AXES))]


def cell_dataset(dataset: str, n_train: int, label_noise: float, seed: int) -> str:
    """The name of a cell's training set (:func:`statmech_nn.networks.data.dataset_options`): a seeded subset of
    ``n_train`` examples of ``dataset``'s training split with a fraction ``label_noise`` of coin-flipped labels."""
    return f"{dataset}:subset={n_train},label_noise={label_noise!r},seed={seed}"


def _check_size(dataset: str, n_train: int) -> None:
    from ..networks.data import load_dataset

    available = load_dataset(dataset, scaling=_PRESET["scaling"], n_test=1).x_train.shape[0]
    if n_train > available:
        raise ParameterError("n_train", n_train, f"at most {available} (the {dataset} training split)")


@task
def capacity_cell(depth: int, width: int, n_train: int, label_noise: float, temperature: float, *,
                  steps: int = _PRESET["epochs"], lr: float = _PRESET["lr"], risk_tol: float = 1e-3,
                  op_tol: float = 1e-6, stall_tol: float = 0.05, dataset: str = _PRESET["dataset"],
                  seed: int = 0, hessian: bool = True, torch_threads: int | None = 1) -> dict[str, float]:
    """Train one cell through the training driver (preset ``capacity``, in a temporary run directory) and return
    its order parameters by name (see the module doc).

    The driver records, after every (full-batch) step, the risk R and OP = ‖∇R‖² of the train loss;
    ``risk_plateau`` and ``op_plateau`` are their medians over the last 10 % of the steps; ``final_risk`` /
    ``final_op`` / ``train_error`` are measured after training (averaged over 16 gate draws at T > 0).
    """
    from ..networks.data import load_dataset
    from ..networks.losses import Objective, loss_and_gradient
    from ..networks.probes import load_trained_model
    from ..networks.metrics import METRICS_FILE
    from ..networks.training import train

    started = time.perf_counter()
    depth, width, n_train = (require_int("depth", depth, 1), require_int("width", width, 1),
                             require_int("n_train", n_train, 2))
    name = cell_dataset(dataset, n_train, label_noise, seed)
    data = load_dataset(name, scaling=_PRESET["scaling"], n_test=1)
    widths = "-".join(map(str, (data.input_dim, *([width] * depth), 1)))
    with tempfile.TemporaryDirectory(prefix="statmech-nn-capacity-cell-") as work:
        config = TrainConfig.preset("capacity", arch=f"gated:{widths},T={float(temperature)!r}", dataset=name,
                                    n_test=1, batch_size=n_train, epochs=steps, lr=lr, seed=seed,
                                    torch_threads=torch_threads, out=str(Path(work) / "cell"))
        train(config, progress=False)
        columns = read_json(Path(config.out) / METRICS_FILE)["columns"]
        model, _ = load_trained_model(config.out)
    risk, op = np.asarray(columns["train_loss"]), np.asarray(columns["train_grad_norm_sq"])
    x, y = data.x_train.astype(np.float64), data.y_train
    final_risk, accuracy, final_op = loss_and_gradient(model, Objective("hinge"), x, y,
                                                       draws=16 if temperature > 0 else 1)
    tail = slice(int(0.9 * steps), None)
    op_plateau, risk_plateau = float(np.median(op[tail])), float(np.median(risk[tail]))
    risk_mid = float(np.median(risk[int(0.4 * steps):max(int(0.5 * steps), int(0.4 * steps) + 1)]))
    stalled = risk_plateau >= (1.0 - stall_tol) * risk_mid
    result = {"final_risk": final_risk, "risk_plateau": risk_plateau, "risk_mid": risk_mid,
              "op_plateau": op_plateau, "final_op": final_op, "train_error": 1.0 - accuracy,
              "op_dead": float(op_plateau <= op_tol), "stalled": float(stalled),
              "plastic": float(final_risk <= risk_tol),
              "frustrated": float(final_risk > risk_tol and (op_plateau <= op_tol or stalled)),
              "parameters": float(sum(p.numel() for p in model.parameters()))}
    if hessian:
        result.update(hessian_order_parameters(model, x, y, seed))
    result["seconds"] = time.perf_counter() - started
    return result


def hessian_order_parameters(model, x, y, seed: int = 0) -> dict[str, float]:
    """003 Figs. 7-8 on a trained cell, gates at T = 0: the SLQ spectral asymmetry and negative mass, and
    frac(|t| < 0.15) of bootstrapped cross-layer Hessian entries (:func:`statmech_nn.observables.hessian_measure.
    measure_hessian` with :data:`HESSIAN_OPTIONS`)."""
    import copy

    from ..networks.gated import StochasticGate
    from ..networks.torch_hessian import HessianOperator
    from ..observables.hessian_measure import HessianOptions, measure_hessian

    relu = copy.deepcopy(model)
    for module in relu.modules():
        if isinstance(module, StochasticGate):
            module.temperature = 0.0
    summary, _ = measure_hessian(HessianOperator(relu, "hinge", x, y), HessianOptions(**HESSIAN_OPTIONS, seed=seed))
    return {"spectral_asymmetry": _number(summary["asymmetry"]), "negative_mass": _number(summary["negative_mass"]),
            "hessian_scale": max(abs(_number(summary["lambda_min"])), abs(_number(summary["lambda_max"]))),
            "frac_t_below_0_15": _number(summary["frac_t_below_0_15"])}


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def capacity_scan(grid: CapacityGrid = CapacityGrid(), *, executor=None, store=None, hessian: bool = True,
                  progress: bool = True) -> xr.Dataset:
    """Every cell of ``grid`` on the scan engine (``executor``: a local pool by default; ``store``: a Zarr store
    that a re-run resumes, by default a temporary one) as one Dataset over :data:`AXES`."""
    _check_size(grid.dataset, max(grid.n_train))     # an impossible number of examples fails at once
    settings = {k: getattr(grid, k) for k in ("steps", "lr", "risk_tol", "op_tol", "stall_tol", "dataset", "seed")}
    spec = ScanSpec(task="capacity", name="capacity", base={**settings, "hessian": hessian},
                    axes=tuple(GridAxis.from_values(axis, getattr(grid, axis)) for axis in AXES))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="statmech-nn-capacity-") as work:
        path = Path(store) if store is not None else Path(work) / "capacity.zarr"
        outcome = run_scan(spec, path, executor, progress=progress)
        scan = load_scan(path)
    if outcome.failed:
        raise ConvergenceError(f"{outcome.failed} of {outcome.cells} capacity cells failed: "
                               f"{next(e for e in scan['error'].values.ravel() if e)}")
    dataset = scan.drop_vars([name for name in BOOKKEEPING if name in scan])
    dataset.attrs = {}
    dataset["plastic"].attrs["meaning"] = f"1 when the final hinge risk is <= {grid.risk_tol} (plasticity), else 0"
    dataset["frustrated"].attrs["meaning"] = (f"1 when the final risk is > {grid.risk_tol} and the OP plateau is "
                                              f"<= {grid.op_tol} or the risk stalled (frustration); cells neither "
                                              "plastic nor frustrated are inconclusive")
    dataset["stalled"].attrs["meaning"] = (f"1 when the risk over the last 10% of steps is >= (1 - {grid.stall_tol}) "
                                           "times its median over steps 40-50%")
    dataset["op_plateau"].attrs["meaning"] = "median of ||grad R||^2 over the last 10% of steps (003 eq. (15))"
    dataset.attrs.update({"source": "003 §II.6, supp. C C (plasticity / frustration)", "cells": outcome.cells,
                          "seconds": time.perf_counter() - started, "hessian": int(hessian),
                          **{k: v for k, v in asdict(grid).items() if k not in AXES}})
    return dataset


def phase_boundary(scan: xr.Dataset) -> list[dict]:
    """For each (depth, n_train, label_noise, temperature): the phase of each width, the smallest plastic width
    and the largest frustrated one (None where there is none), and whether plasticity is monotone in width."""
    rows = []
    for values in itertools.product(*(scan[a].values for a in AXES if a != "width")):
        selection = dict(zip([a for a in AXES if a != "width"], values))
        plastic = scan["plastic"].sel(selection).values
        frustrated = scan["frustrated"].sel(selection).values
        widths = scan["width"].values
        rows.append({**{k: (v.item() if hasattr(v, "item") else v) for k, v in selection.items()},
                     "phases": [phase_name(p, f) for p, f in zip(plastic, frustrated)],
                     "smallest_plastic_width": int(widths[plastic > 0].min()) if np.any(plastic > 0) else None,
                     "largest_frustrated_width": int(widths[frustrated > 0].max()) if np.any(frustrated > 0) else None,
                     "monotone": bool(np.all(np.diff(plastic) >= 0))})
    return rows


def phase_name(plastic: float, frustrated: float) -> str:
    """'plastic', 'frustrated' or 'inconclusive' from a cell's two indicators."""
    return "plastic" if plastic > 0 else "frustrated" if frustrated > 0 else "inconclusive"
