"""The capacity scan: a tiny grid runs, its Dataset has every axis, instruments plug in, the boundary is read off."""

import numpy as np
import pytest

from statmech_nn.errors import ParameterError
from statmech_nn.scan.capacity import AXES, CapacityGrid, capacity_cell, capacity_scan, phase_boundary
from statmech_nn.scan.executors import LocalPool

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.slow
def test_tiny_scan_finds_plasticity_and_frustration():
    grid = CapacityGrid(depth=(1,), width=(1, 32), n_train=(48,), label_noise=(0.0,), temperature=(0.0, 0.2),
                        steps=300, lr=1e-2)
    scan = capacity_scan(grid, executor=LocalPool(1), progress=False)
    assert tuple(scan["final_risk"].dims) == AXES and scan.attrs["cells"] == 4
    # 003's Hessian instruments in every cell: a traceless hinge Hessian has a symmetric spectrum (negative mass
    # 1/2 up to SLQ's error), and frac(|t| < 0.15) is a fraction
    assert np.all(np.abs(scan["negative_mass"].values - 0.5) < 0.1)
    assert np.all(np.isfinite(scan["spectral_asymmetry"].values))
    # frac(|t| < 0.15) is a fraction, undefined (NaN) exactly where H = 0 (all margins >= 1, or dead gates)
    frac, scale = scan["frac_t_below_0_15"].values, scan["hessian_scale"].values
    assert np.all(np.where(scale > 0, (frac >= 0) & (frac <= 1), np.isnan(frac)))
    plastic = scan["plastic"].sel(depth=1, n_train=48, label_noise=0.0)
    assert np.all(plastic.sel(width=32).values == 1)          # 2100 weights memorize 48 examples
    assert np.all(plastic.sel(width=1).values == 0)           # one hidden unit does not
    assert np.all(scan["final_risk"].sel(width=1).values > 0.05)
    boundary = phase_boundary(scan)
    assert [row["smallest_plastic_width"] for row in boundary] == [32, 32]
    assert all(row["phases"][1] == "plastic" and row["phases"][0] != "plastic" for row in boundary)


def test_cell_is_reproducible_and_noisy_labels_are_harder():
    clean = capacity_cell(1, 4, 200, 0.0, 0.0, steps=200, lr=1e-2, hessian=False)
    assert capacity_cell(1, 4, 200, 0.0, 0.0, steps=200, lr=1e-2, hessian=False)["final_risk"] == clean["final_risk"]
    noisy = capacity_cell(1, 4, 200, 1.0, 0.0, steps=200, lr=1e-2, hessian=False)
    assert noisy["final_risk"] > clean["final_risk"]
    assert set(clean) >= {"final_risk", "risk_plateau", "op_plateau", "final_op", "train_error", "plastic"}


@pytest.mark.parametrize("kwargs", [{"width": ()}, {"label_noise": (1.5,)}, {"temperature": (-1.0,)},
                                    {"steps": 0}, {"n_train": (1,)}])
def test_bad_grids(kwargs):
    with pytest.raises(ParameterError):
        CapacityGrid(**kwargs)


def test_too_many_examples_fail_before_any_cell_runs():
    with pytest.raises(ParameterError, match="n_train"):
        capacity_scan(CapacityGrid(n_train=(64, 100000)), progress=False)
