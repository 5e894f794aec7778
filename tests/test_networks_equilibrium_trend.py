"""The warm-up's trend criterion (networks/equilibrium.py, "Trend") and its calibration on planted loss series
(compare/planted/equilibrium_truths.py)."""

import json

import numpy as np
import pytest

from statmech_nn.compare.calibration import calibrate
from statmech_nn.compare.planted import scenarios
from statmech_nn.compare.planted.equilibrium_truths import equilibrium_answers
from statmech_nn.errors import ParameterError
from statmech_nn.networks.config import TrainConfig
from statmech_nn.networks.equilibrium import (TrendCriterion, confirm_looks, held_at_last, slope_interval,
                                              trend_answer)


def test_slope_is_least_squares_and_the_bound_widens_with_autocorrelation():
    rng = np.random.default_rng(0)
    y = 0.2 - 3e-4 * np.arange(120) + 0.002 * rng.standard_normal(120)
    slope, half = slope_interval(y)
    assert slope == pytest.approx(np.polyfit(np.arange(120), y, 1)[0], rel=1e-12)
    smooth = np.convolve(rng.standard_normal(140), np.ones(20) / 20, "valid")[:120] * 0.01   # strongly correlated
    white = rng.standard_normal(120) * smooth.std()
    assert slope_interval(smooth)[1] > 2 * slope_interval(white)[1]
    assert slope_interval(np.full(50, 0.3)) == (pytest.approx(0.0, abs=1e-15), pytest.approx(0.0, abs=1e-15))


def test_confirmation_counts_consecutive_looks():
    assert [confirm_looks(w) for w in (1, 20, 100, 200, 204)] == [1, 2, 10, 20, 20]
    assert TrendCriterion(200).confirm == 20
    assert held_at_last([False, True, True], 2) and not held_at_last([True, False, True], 2)
    assert not held_at_last([True], 2) and held_at_last([True], 1) and not held_at_last([], 1)


def test_equivalence_answers_and_refusals():
    flat = np.full(200, 0.2)
    assert trend_answer(flat, 0.1)["answer"] == "supported"
    falling = 0.2 - 1e-4 * np.arange(200)          # 0.05 % of the loss per epoch: 50 % over the horizon
    result = trend_answer(falling, 0.1)
    assert result["answer"] == "not supported" and result["change_bound"] > 0.4
    rng = np.random.default_rng(1)
    noisy = 0.2 + 0.02 * rng.standard_normal(30)   # a short noisy window does not pass by default
    assert trend_answer(noisy, 0.1)["answer"] == "inconclusive"
    criterion = TrendCriterion(window=20, rtol=0.1)
    assert criterion.judge([0.1] * 19, [0.2] * 19) == {"loss_trend": "inconclusive", "loss_change_bound": None,
                                                       "holds": False}
    assert criterion.holds([0.1] * 20, [0.2] * 20)
    overfitting = 0.1 - 2e-4 * np.arange(20)        # flat test loss, train loss falling: the gap grows
    assert not criterion.holds(overfitting, [0.2] * 20)
    with pytest.raises(ParameterError, match="eq_window"):
        TrendCriterion(window=10)
    with pytest.raises(ParameterError, match="eq_window"):
        TrainConfig(equilibrium_criterion="trend", eq_window=5)
    assert TrainConfig(equilibrium_criterion="trend", eq_window=100, eq_rtol=0.1).equilibrium_criterion == "trend"


def test_the_old_band_calls_002_shape_flat_and_the_trend_does_not():
    scenario = scenarios("EQ")["eq-002-shape"]
    sets = [scenario.draw(seed=3, replicate=i, size="reduced") for i in range(20)]
    band = [equilibrium_answers(data, {"band": True})["EQ"] for data in sets]
    trend = [equilibrium_answers(data, dict(scenario.options))["EQ"] for data in sets]
    assert band.count("supported") == 20 and trend.count("supported") == 0


def test_calibration_reduced_size():
    """Fixed seed, 100 sets per scenario at the reduced size (30 looks): wrong answers within 0.05 + 3 binomial
    standard errors (0.115), power on the flat series above 0.8 - 3 se (0.68)."""
    rows = {row.scenario: row for row in calibrate(verdicts=["EQ"], replicates=100, seed=11, size="reduced")}
    assert set(rows) >= {"eq-flat", "eq-falls-25", "eq-falls-10-linear", "eq-002-shape"}
    for row in rows.values():
        assert row.wrong_rate <= 0.115, row.scenario
    assert rows["eq-flat"].power >= 0.68


def test_shipped_specs_use_the_trend_criterion():
    from importlib.resources import files

    import tomllib

    directory = files("statmech_nn") / "data" / "validation" / "experiments"
    for name, window in (("soc_mnist5k", 100), ("soc_mnist5k_published", 200), ("soc_mnist", 200)):
        config = TrainConfig(**tomllib.loads((directory / f"{name}.toml").read_text())["training"])
        assert (config.equilibrium_criterion, config.eq_window, config.eq_rtol) == ("trend", window, 0.1), name


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_trend_ends_the_warmup_per_replica_and_resumes_bitwise(tmp_path, monkeypatch):
    from functools import partial

    from statmech_nn.io import Trajectory
    from statmech_nn.networks import phases
    from statmech_nn.networks.equilibrium import WeightTrendCriterion
    from statmech_nn.networks.torch_checkpoint import list_checkpoints
    from statmech_nn.networks.training import train

    # tolerances of 1000 (relative, over 1000 epochs) for the loss and 1e9 sd for the weights hold once the window
    # of 20 epochs is full (a window of 20 epochs bounds no weight's slope within 5 sd over 1000 epochs)
    monkeypatch.setattr(phases, "WeightTrendCriterion", partial(WeightTrendCriterion, sd_multiple=1e9))
    monkeypatch.setattr(phases, "CALIBRATED_LOOKS", 1)     # so that the run says its looks exceed the calibration
    base = dict(arch="mlp:64-8-10", dataset="digits", lr=0.01, track=6, until_equilibrium=True,
                equilibrium_criterion="trend", eq_window=20, eq_rtol=1000.0, max_warmup_epochs=30, steps=50,
                backend="fast", device="cpu", seed=3, torch_threads=1, replicas=2, keep_checkpoints=100)
    with pytest.warns(UserWarning, match="held after 2 looks; its error rates are calibrated for 1"):
        whole = train(TrainConfig(**base, out=str(tmp_path / "whole")), progress=False)
    # it holds from epoch 20 (the first full window) and counts at the second consecutive look (L = 20 / 10)
    assert whole.equilibrium_epoch == 21 and whole.warmup_ended_by == "trend"
    metrics = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    columns, summary = metrics["columns"], metrics["equilibrium"]
    assert summary["horizon_epochs"] == 1000 and summary["alpha"] == 0.05 and "slope" in summary["criterion"]
    assert summary["weight_sd_multiple"] == 1e9 and summary["first_weight_epoch"] == 20
    assert (summary["confirm_epochs"], summary["looks"], summary["calibrated_looks"]) == (2, 2, 1)
    assert "each of the last 2 epochs" in summary["criterion"]
    assert [r[0]["loss_trend"] for r in columns["replicas"][:19]] == ["inconclusive"] * 19
    assert [r[1]["weight_trend"] for r in columns["replicas"][:19]] == ["inconclusive"] * 19
    assert all(r["loss_trend"] == r["weight_trend"] == "supported" for r in columns["replicas"][19])
    assert set(columns["weights_without_drift"]) == {None}     # the drift-ratio fraction is the weights criterion's
    for record, equilibrium in zip(columns["replicas"], columns["equilibrium"]):
        assert equilibrium == all(replica["equilibrium"] for replica in record)
    # resume from the checkpoint of epoch 10 (the criterion's state: the loop's metrics records)
    cut = tmp_path / "cut"
    cut_config = TrainConfig(**base, out=str(cut))
    with pytest.warns(UserWarning, match="held after 2 looks"):
        train(cut_config, progress=False)
    checkpoints = list_checkpoints(cut / "checkpoints")
    assert len(checkpoints) >= 21
    for late in checkpoints[10:]:
        late.unlink()
    with pytest.warns(UserWarning, match="held after 2 looks"):
        resumed = train(cut_config, resume=True, progress=False)
    assert resumed.equilibrium_epoch == 21
    resumed_columns = json.loads((cut / "metrics.json").read_text())["columns"]
    assert resumed_columns["replicas"] == columns["replicas"]     # the weight probes' records resumed with the loop
    np.testing.assert_array_equal(Trajectory.load(cut / "trajectory.h5").q, Trajectory.load(tmp_path / "whole" /
                                                                                            "trajectory.h5").q)
    # a tolerance no run meets: the warm-up ends by its length and the run says so
    with pytest.warns(UserWarning, match="equilibrium not reached"):
        strict = train(TrainConfig(**{**base, "eq_rtol": 1e-9, "max_warmup_epochs": 21, "keep_checkpoints": 2},
                                   out=str(tmp_path / "strict")), progress=False)
    assert strict.warmup_ended_by == "max_warmup_epochs" and not strict.equilibrium_reached
    summary = json.loads((tmp_path / "strict" / "metrics.json").read_text())["equilibrium"]
    assert summary["reached"] is False and summary["warmup_ended_by"] == "max_warmup_epochs"
