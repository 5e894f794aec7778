"""Phase scans of the quartic model: the batch evaluator against the precise single-point path, and the Dataset."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.errors import ParameterError
from statmech_nn.io import load_dataset
from statmech_nn.params import GridAxis
from statmech_nn.scan.grid import quartic_scan
from statmech_nn.quartic import QuarticModel
from statmech_nn.quartic.batch import evaluate


@pytest.mark.slow
def test_batch_matches_the_single_point_distribution():
    rng = np.random.default_rng(4)
    n = 60
    lx = rng.uniform(-1, 1, n) * 10 ** rng.uniform(-3, 0, n)
    g, lq = 10 ** rng.uniform(-1, 1, n), 10 ** rng.uniform(-2, 1, n)
    alpha, beta = 10 ** rng.uniform(-1, 0.5, n), 10 ** rng.uniform(-0.5, 0.5, n)
    mu = np.where(rng.random(n) < 0.5, 0.0, 10 ** rng.uniform(-4, 0, n))
    batch = evaluate({"lambda_x": lx, "g": g, "lambda_q": lq, "alpha": alpha, "beta": beta, "mu": mu})
    assert np.array_equal(batch["normalizable"] == 1, ~((mu == 0) & (lx < 0)))
    for i in np.flatnonzero(batch["normalizable"]):
        model = QuarticModel(lx[i], g[i], lq[i], alpha[i], beta[i], mu[i])
        regimes = model.regimes()
        assert batch["q2_mean"][i] == pytest.approx(model.marginal().var(), rel=1e-8)
        assert batch["mass_below"][i] == pytest.approx(regimes.mass_frustrated + regimes.mass_core, abs=1e-8)
        assert batch["mass_powerlaw"][i] == pytest.approx(regimes.mass_powerlaw, abs=1e-8)
        assert batch["mass_gauss"][i] == pytest.approx(regimes.mass_gauss, abs=1e-8)
        assert batch["u_gauss"][i] == regimes.u_gauss and batch["powerlaw_decades"][i] == regimes.powerlaw_decades


def test_non_normalizable_points_are_flagged_not_nan_polluted():
    out = evaluate({"lambda_x": [-0.1, 0.1], "g": 1.0, "lambda_q": 1.0, "alpha": 0.5, "beta": 1.0, "mu": 0.0})
    assert out["normalizable"].tolist() == [0.0, 1.0]
    assert np.isnan(out["q2_mean"][0]) and np.isfinite(out["q2_mean"][1])


def test_scan_dataset_has_named_axes_and_round_trips(tmp_path):
    axes = [GridAxis.parse("lambda_x=-0.1:0.1:5"), GridAxis.parse("alpha=0.1:1:4log")]
    scan = quartic_scan(axes, {"g": 1.0, "lambda_q": 1.0, "beta": 1.0, "mu": 1e-3}, progress=False)
    assert scan["q2_mean"].dims == ("lambda_x", "alpha")
    assert np.allclose(scan.alpha, np.geomspace(0.1, 1, 4))
    point = QuarticModel(scan.lambda_x.values[1], 1.0, 1.0, scan.alpha.values[2], 1.0, 1e-3)
    assert scan["q2_mean"].values[1, 2] == pytest.approx(point.marginal().var(), rel=1e-8)
    from statmech_nn.io import save_dataset
    loaded = load_dataset(save_dataset(scan, tmp_path / "scan.nc"))
    assert loaded.attrs["fixed"] == {"g": 1.0, "lambda_q": 1.0, "beta": 1.0, "mu": 1e-3}
    assert loaded["powerlaw_decades"].attrs["units"] == "decades"


@pytest.mark.parametrize("spec", ["lambda_x", "lambda_x=1:2", "alpha=1:2:x", "alpha=-1:2:3log", "=1:2:3"])
def test_bad_grid_specs(spec):
    with pytest.raises(ParameterError):
        GridAxis.parse(spec)


def test_scan_rejects_invalid_ranges_and_unknown_axes():
    with pytest.raises(ParameterError, match="g"):
        quartic_scan([GridAxis.parse("g=-1:1:3")], {"lambda_x": 1, "lambda_q": 1, "alpha": 1, "beta": 1, "mu": 0},
                     progress=False)
    with pytest.raises(ParameterError, match="grid"):
        quartic_scan([GridAxis.parse("x_bar=0:1:3")], {}, progress=False)
    with pytest.raises(ParameterError, match="beta"):
        quartic_scan([GridAxis.parse("alpha=0.1:1:3")], {"lambda_x": 1, "g": 1, "lambda_q": 1, "mu": 0}, progress=False)


def test_scan_command(tmp_path, capsys):
    out = tmp_path / "scan.nc"
    status = main(["scan", "quartic", "--grid", "lambda_x=-0.05:0.05:7", "--grid", "beta=0.5:2:5",
                   "--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--mu", "1e-3", "--out", str(out), "--json"])
    assert status == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["points"] == 35 and payload["normalizable_fraction"] == 1.0
    assert all(p.endswith(".png") for p in payload["figures"]) and len(payload["figures"]) == 4
    assert load_dataset(out)["u_gauss"].shape == (7, 5)
    assert main(["scan", "quartic", "--grid", "nonsense", "--out", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
