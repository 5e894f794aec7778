"""The weights' half of the warm-up's trend criterion (networks/equilibrium.py, "Trend": WeightTrendCriterion,
epoch_summary), its place in EquilibriumWatch, and its calibration on planted weight series
(compare/planted/equilibrium_truths.py, verdict EQW)."""

import json

import numpy as np
import pytest
from scipy.stats import t as student

from statmech_nn.compare.calibration import calibrate
from statmech_nn.errors import ParameterError
from statmech_nn.networks.config import TrainConfig
from statmech_nn.networks.equilibrium import (TREND_HORIZON, WEIGHT_TREND_SD, WeightTrendCriterion,
                                              epoch_summary, slope_interval)
from statmech_nn.networks.phases import EquilibriumWatch, LoopState

PROBES = 32


def _white(rng, epochs, k, level=0.1, sd=1e-4):
    """Probe readings (epochs, PROBES, k): white noise about ``level``."""
    return level + sd * rng.standard_normal((epochs, PROBES, k))


def _decay(epochs, start=0.03, rate=4e-3):
    """One weight that only decays, w0 exp(−rate t), t in epochs, read PROBES times per epoch."""
    t = (np.arange(epochs * PROBES) + 1.0) / PROBES
    return (start * np.exp(-rate * t)).reshape(epochs, PROBES, 1)


def test_epoch_summary_holds_means_variances_and_the_decay_flag():
    readings = np.array([[0.3, -0.2, 1.0], [0.2, -0.1, 1.0], [0.1, -0.05, 1.0]])     # 3 probes of 3 weights
    summary = epoch_summary(readings)
    np.testing.assert_allclose(summary[0], readings.mean(axis=0))
    np.testing.assert_allclose(summary[1], readings.var(axis=0))
    assert list(summary[2]) == [1.0, 1.0, 0.0]          # a constant does not move toward zero
    assert list(epoch_summary(np.array([[0.1], [-0.05]]))[2]) == [0.0]     # a change of sign is no decay
    assert epoch_summary(np.zeros((5, 4, PROBES, 2))).shape == (5, 4, 3, 2)


def test_drift_is_not_supported_a_constant_is_excluded_and_white_noise_is_supported():
    rng = np.random.default_rng(0)
    criterion = WeightTrendCriterion(window=200)
    noise = _white(rng, 200, 4)
    t = np.arange(200 * PROBES).reshape(200, PROBES, 1) / PROBES
    drifting = noise[..., :1] + 1e-5 * t                # 0.1 sd of the readings per epoch: 100 sd per 1000
    constant = np.full((200, PROBES, 1), 0.25)
    judged = criterion.judge(epoch_summary(np.concatenate([noise, drifting, constant], axis=2)))
    assert judged["weight_trend"] == "not supported" and judged["weights_not_supported"] == 1
    assert judged["weights_supported"] + judged["weights_inconclusive"] == 4 and judged["weights_decaying"] == 0
    flat = criterion.judge(epoch_summary(np.concatenate([noise, constant], axis=2)))
    assert flat["weight_trend"] == "supported" and flat["holds"] and flat["weights_supported"] == 4
    assert flat["weight_change_bound"] < WEIGHT_TREND_SD
    nothing = criterion.judge(epoch_summary(constant))
    assert nothing["weight_trend"] == "inconclusive" and not nothing["holds"]
    assert nothing["weights_supported"] == nothing["weights_not_supported"] == 0
    short = criterion.judge(epoch_summary(noise[:199]))
    assert short["weight_trend"] == "inconclusive" and short["weights_supported"] is None
    with pytest.raises(ParameterError, match="eq_window"):
        WeightTrendCriterion(window=10)


def test_decay_only_weights_are_counted_not_judged():
    rng = np.random.default_rng(1)
    criterion = WeightTrendCriterion(window=200)
    readings = np.concatenate([_white(rng, 200, 3), _decay(200), -_decay(200, start=0.001)], axis=2)
    judged = criterion.judge(epoch_summary(readings))
    assert judged["weights_decaying"] == 2 and judged["weight_trend"] == "supported"
    # a smooth approach to zero at a changing rate is drift, not decay
    t = (np.arange(200 * PROBES) + 1.0) / PROBES
    curved = (0.03 / (1 + t / 50)).reshape(200, PROBES, 1)
    judged = criterion.judge(epoch_summary(np.concatenate([_white(rng, 200, 3), curved], axis=2)))
    assert judged["weights_decaying"] == 0 and judged["weight_trend"] == "not supported"


def test_the_aggregate_rule_against_an_independent_computation():
    """Per weight: the tolerance 5 sd of the readings about the line (from the readings themselves), "supported" by
    the one-sided bound at level alpha, "not supported" at alpha / k (Bonferroni over the k judged weights); the
    aggregate is "not supported" with one such weight, "supported" when all are."""
    rng = np.random.default_rng(2)
    epochs, k = 60, 12
    readings = _white(rng, epochs, k) + np.linspace(0, 3e-4, k) * np.arange(epochs)[:, None, None] / epochs
    judged = WeightTrendCriterion(window=epochs).judge(epoch_summary(readings))
    means = readings.mean(axis=1)
    time = np.repeat(np.arange(epochs), PROBES)
    answers = []
    for i in range(k):
        slope, intercept = np.polyfit(np.arange(epochs), means[:, i], 1)
        sd = np.sqrt(np.mean((readings[:, :, i].ravel() - intercept - slope * time) ** 2))
        delta = WEIGHT_TREND_SD * sd / TREND_HORIZON
        b, h = slope_interval(means[:, i])
        h_k = slope_interval(means[:, i], 0.05 / k)[1]
        assert b == pytest.approx(slope, rel=1e-9)
        answers.append("supported" if abs(b) + h <= delta else "not supported" if abs(b) - h_k > delta else
                       "inconclusive")
    assert [judged[f"weights_{a.replace(' ', '_')}"] for a in ("supported", "not supported", "inconclusive")] == [
        answers.count(a) for a in ("supported", "not supported", "inconclusive")]
    expected = "not supported" if "not supported" in answers else "supported" if set(answers) == {"supported"} \
        else "inconclusive"
    assert judged["weight_trend"] == expected
    assert 0 < answers.count("supported") < k          # the case mixes answers (else it tests less)
    assert student.ppf(1 - 0.05 / k, 50) > student.ppf(0.95, 50)


def test_the_watch_keeps_one_record_per_epoch_and_judges_each_replica():
    config = TrainConfig(equilibrium_criterion="trend", eq_window=200, eq_rtol=0.1)
    watch = EquilibriumWatch(config, steps_per_epoch=64, k=6, replicas=2)
    loop = LoopState()
    rng = np.random.default_rng(3)
    positions = sorted(watch._positions)
    assert len(positions) == PROBES and positions[-1] == 64
    for epoch in range(205):
        for batch in positions:
            loop.batch = batch
            assert watch.probing(loop) and watch.probe_due(loop)
            tracked = 0.1 + 1e-4 * rng.standard_normal(12)
            tracked[6:] += 1e-5 * epoch             # replica 1 drifts by 0.1 sd per epoch
            watch.keep_probe(loop, tracked)
        assert loop.weight_probes == [] and len(loop.weight_epochs) == min(epoch + 1, 200)
        loop.epoch += 1
    json.dumps(loop.weight_epochs)                      # part of the checkpointed loop state
    flat, drifting = (watch.judge(loop, 0.1, 0.2, replica=r) for r in (0, 1))
    assert flat["weight_trend"] == "supported" and flat["weight_equilibrium"]
    assert drifting["weight_trend"] == "not supported" and not drifting["weight_equilibrium"]
    assert "sd of its fluctuations" in watch.describe()
    loop.phase = "tracking"
    assert watch.judge(loop, 0.1, 0.2, replica=0)["weight_trend"] is None and not watch.probing(loop)


@pytest.mark.slow
def test_calibration_reduced_size():
    """Fixed seed, 40 sets per scenario at the reduced size (30 looks): wrong answers within 0.05 + 3 binomial
    standard errors (0.153), power on the stationary weights with decay-only ones mixed in above 0.8 - 3 se
    (0.61)."""
    names = ["eqw-stationary-decay", "eqw-one-drifts", "eqw-slow-ou"]
    rows = {row.scenario: row for row in calibrate(verdicts=["EQW"], names=names, replicates=40, seed=11,
                                                     size="reduced")}
    assert set(rows) == set(names)
    for row in rows.values():
        assert row.wrong_rate <= 0.153, row.scenario
    assert rows["eqw-stationary-decay"].power >= 0.61


def test_train_records_the_weights_answer_per_replica(tmp_path):
    """One step per epoch (a full batch), 21 warm-up epochs: the window of 20 epoch records is full at epoch 20."""
    from statmech_nn.networks.training import train

    config = TrainConfig(arch="mlp:64-8-10", dataset="digits", lr=0.01, batch_size=1437, track=6, warmup_epochs=21,
                         equilibrium_criterion="trend", eq_window=20, eq_rtol=0.1, steps=1, backend="torch",
                         device="cpu", seed=3, torch_threads=1, replicas=2, keep_checkpoints=1, out=str(tmp_path))
    train(config, progress=False)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    records, summary = metrics["columns"]["replicas"], metrics["equilibrium"]
    assert summary["weight_sd_multiple"] == WEIGHT_TREND_SD and "sd of its fluctuations" in summary["criterion"]
    assert [r[0]["weight_trend"] for r in records[:19]] == ["inconclusive"] * 19
    for replica in records[19]:
        counts = [replica[key] for key in ("weights_supported", "weights_not_supported", "weights_inconclusive",
                                           "weights_decaying")]
        assert replica["weight_trend"] in ("supported", "not supported", "inconclusive") and sum(counts) <= 6
        assert replica["weight_equilibrium"] == (replica["weight_trend"] == "supported")
    assert records[-1][0]["weight_trend"] is None       # tracking: no probes
    assert metrics["columns"]["weights_without_drift"] == [None] * len(records)
