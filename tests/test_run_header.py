"""The typed run header (io.RunHeader, io.Dynamics): stored as plain JSON attributes, written by every source,
read back by the analysis; old files by the documented fallback; hand-made files give one-line DataErrors
(issue 19 item 4, issue 20 M1)."""

import json

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import statmech_nn
from statmech_nn.compare.analysis import AnalysisOptions
from statmech_nn.errors import DataError, ParameterError
from statmech_nn.io import Dynamics, RunHeader, Trajectory, TrajectoryWriter
from statmech_nn.networks.architectures import Architecture

pytestmark = pytest.mark.usefixtures("one_torch_thread")
QUICK = AnalysisOptions(figures=False, gof_bootstrap=0, peak_bootstrap=0)


def _walk(n=600, k=4, seed=0):
    return np.cumsum(np.random.default_rng(seed).standard_t(3, size=(n, k)), axis=0) * 1e-3 + 1.0


def test_the_header_is_plain_json_attributes_and_round_trips(tmp_path):
    dynamics = Dynamics("sgd", lr=0.01, momentum=0.9, dampening=0.0, nesterov=True, weight_decay=5e-4,
                        decoupled=False, batch_size=32)
    original = Trajectory(q=_walk(), t=np.arange(600), names=list("abcd"), chain=None, source="test",
                          parameters={"width": 7}, seed=3, dynamics=dynamics, metadata={"note": "free-form"})
    original.save(tmp_path / "trajectory.h5")
    with h5py.File(tmp_path / "trajectory.h5") as f:
        attrs = {key: f.attrs[key] for key in ("source", "model", "dynamics", "seed", "version")}
    assert json.loads(attrs["model"]) == {"width": 7} and attrs["seed"] == 3 and attrs["source"] == "test"
    stored = json.loads(attrs["dynamics"])
    assert (stored["kind"], stored["momentum"], stored["nesterov"], stored["eps"]) == ("sgd", 0.9, True, None)
    loaded = Trajectory.load(tmp_path)
    assert loaded.header == original.header and loaded.metadata == {"note": "free-form"}
    assert loaded.step_size == 0.01


def test_dynamics_are_checked_field_by_field():
    for bad, field in (({"kind": "rmsprop"}, "dynamics.kind"), ({"momentum": 1.0}, "dynamics.momentum"),
                       ({"lr": -1}, "dynamics.lr"), ({"betas": [0.9]}, "dynamics.betas"),
                       ({"nesterov": "yes"}, "dynamics.nesterov"), ({"learning_rate": 0.1}, "dynamics.learning_rate")):
        with pytest.raises(ParameterError, match=field.replace(".", r"\.")):
            Dynamics.from_dict(bad)
    with pytest.raises(ValueError, match=r"dynamics\.momentum"):
        statmech_nn.analyze(_walk(), QUICK, dynamics={"kind": "sgd", "momentum": 2.0})


def _hand_made(path, attrs: dict, q=None):
    with h5py.File(path, "w") as f:
        f["q"] = _walk() if q is None else q
        f["t"] = np.arange(600)
        f["names"] = np.array(["a", "b", "c", "d"], dtype=h5py.string_dtype())
        for key, value in attrs.items():
            f.attrs[key] = value
    return path


def test_old_files_are_read_by_the_fallback(tmp_path):
    """A file of statmech-nn train before the header: plain SGD of its parameters; one of track: the optimizer's
    class and lr from the metadata, momentum unknown."""
    train = _hand_made(tmp_path / "train.h5", {"source": "networks.train", "step_size": 0.002, "parameters":
                       'json:{"optimizer": "sgd", "lr": 0.002, "weight_decay": 0.0005, "batch_size": 1}'})
    dynamics = Trajectory.load(train).dynamics
    assert (dynamics.kind, dynamics.lr, dynamics.weight_decay, dynamics.momentum) == ("sgd", 0.002, 0.0005, 0.0)
    track = _hand_made(tmp_path / "track.h5", {"source": "networks.track", "parameters": 'json:{"k": 4}',
                                               "optimizer": "SGD", "lr": 0.05, "weight_decay": "json:null"})
    dynamics = Trajectory.load(track).dynamics
    assert (dynamics.kind, dynamics.lr, dynamics.momentum, dynamics.weight_decay) == ("sgd", 0.05, None, None)
    sampler = _hand_made(tmp_path / "sampler.h5", {"source": "sampler:quartic:langevin", "step_size": 0.01,
                                                   "parameters": 'json:{"g": 1.0}', "method": "langevin"})
    dynamics = Trajectory.load(sampler).dynamics
    assert (dynamics.kind, dynamics.dt, dynamics.lr) == ("langevin", 0.01, None)


@pytest.mark.slow
def test_foreign_files_without_a_header_are_analysed(tmp_path):
    """Issue 20 M1: no parameters attribute, or a plain JSON object: analysed (dynamics unknown), no traceback."""
    for name, attrs in (("none.h5", {}), ("plain.h5", {"parameters": "{}"}), ("bytes.h5", {"parameters": b"{}"})):
        analysis = statmech_nn.analyze(_hand_made(tmp_path / name, attrs), QUICK)
        assert analysis.trajectory.dynamics == Dynamics() and analysis.trajectory.parameters == {}
        assert {v.id for v in analysis.verdicts()} >= {"Q1", "D"}


@pytest.mark.parametrize("attrs, q, message", [
    ({"parameters": "json:{not json"}, None, "attribute 'parameters' is not valid JSON"),
    ({"parameters": "[1, 2]"}, None, "attribute 'parameters' is not a JSON object"),
    ({"note": "json:[1,"}, None, "attribute 'note' is not valid JSON"),
    ({"dynamics": '{"kind": "sgd", "momentum": 7}'}, None, "attribute 'dynamics' is not valid"),
    ({"seed": "json:1.5"}, None, "attribute 'seed' is not an integer"),
    ({}, np.array([["x"] * 4] * 600, dtype=h5py.string_dtype()), "q must hold real numbers"),
])
def test_malformed_foreign_files_are_one_line_data_errors(tmp_path, attrs, q, message):
    path = _hand_made(tmp_path / "trajectory.h5", attrs, q)
    with pytest.raises(DataError, match=message) as caught:
        statmech_nn.analyze(path, QUICK)
    assert "\n" not in str(caught.value)


def test_the_cli_answers_a_malformed_file_with_one_line(tmp_path, capsys):
    from statmech_nn.cli import main

    (tmp_path / "run").mkdir()
    _hand_made(tmp_path / "run" / "trajectory.h5", {"parameters": "json:{oops"})
    assert main(["analyze", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not valid JSON" in err


def test_writers_need_a_header(tmp_path):
    with pytest.raises(DataError, match="RunHeader"):
        TrajectoryWriter.create(tmp_path / "t.h5", ["a"], header={"source": "x"})
    with TrajectoryWriter.create(tmp_path / "t.h5", ["a"], header=RunHeader("x")) as writer:
        with pytest.raises(DataError, match="reserved"):
            writer.set_metadata(dynamics="{}")


def _train(optimizer_class, steps=300, **settings):
    model = Architecture.parse("mlp:6-8-3").build((6,), 3, seed=0, dtype=torch.float64)
    optimizer = optimizer_class(model.parameters(), **settings)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(steps, 6, dtype=torch.float64, generator=generator)
    y = torch.randint(0, 3, (steps,), generator=generator)
    with statmech_nn.track(model, k=12, seed=0, optimizer=optimizer) as tracker:
        for i in range(steps):
            optimizer.zero_grad()
            F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
            optimizer.step()
    return tracker.trajectory


@pytest.mark.slow
def test_track_records_momentum_and_the_analysis_uses_its_innovations():
    trajectory = _train(torch.optim.SGD, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)
    dynamics = trajectory.dynamics
    assert (dynamics.kind, dynamics.lr, dynamics.momentum, dynamics.dampening, dynamics.nesterov,
            dynamics.weight_decay, dynamics.decoupled) == ("sgd", 0.05, 0.9, 0.1, False, 1e-3, False)
    analysis = statmech_nn.analyze(trajectory, QUICK)
    assert "heavy-ball" in analysis.steps.description and analysis.steps.kappa == pytest.approx(0.05 * 1e-3 * 0.9)
    assert analysis.decay.source == "recorded dynamics"
    # the innovations Δ_t - 0.9 Δ_(t-1) undo the filter: the raw increments are strongly correlated, they are not
    raw = statmech_nn.analyze(trajectory.q, QUICK).verdicts()
    assert next(v for v in raw if v.id == "D").numbers["median_lag1"] > 0.5
    assert abs(next(v for v in analysis.verdicts() if v.id == "D").numbers["median_lag1"]) < 0.3


@pytest.mark.slow
def test_track_records_adam_and_the_uncovered_verdicts_say_so():
    for optimizer, kind in ((torch.optim.Adam, "adam"), (torch.optim.AdamW, "adamw")):
        trajectory = _train(optimizer, lr=1e-3, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-2)
        dynamics = trajectory.dynamics
        assert (dynamics.kind, dynamics.betas, dynamics.eps, dynamics.decoupled) == (kind, (0.8, 0.99), 1e-7,
                                                                                   kind == "adamw")
        verdicts = {v.id: v for v in statmech_nn.analyze(trajectory, QUICK).verdicts()}
        for verdict in ("Q1", "Q2", "Q3", "Q4", "Q6"):
            assert verdicts[verdict].verdict == "inconclusive" and "Adam" in verdicts[verdict].numbers["uncovered"]


@pytest.mark.parametrize("nesterov, dampening", [(False, 0.0), (False, 0.3), (True, 0.0), (True, 0.3)])
def test_the_innovations_recover_the_steps_of_torch_sgd(nesterov, dampening):
    """torch's SGD update (buf = μ buf + (1-d) d_p, d_p = g + λw; step d_p + μ buf with Nesterov, else buf; the first
    buf is d_p) simulated in float64: the treatment's steps are -lr·(1-d)·d_p (heavy ball) or -lr·d_p (Nesterov)
    to 1e-9 relative, and its κ is the decay rate of those steps."""
    from statmech_nn.compare.dynamics import treatment

    lr, mu, wd, n = 0.01, 0.9, 1e-3, 400
    rng = np.random.default_rng(0)
    gradient = rng.standard_t(3, size=(n, 3))
    w, buf, d_ps = np.zeros((n + 1, 3)), None, []
    w[0] = rng.uniform(0.5, 1.5, 3)
    for t in range(n):
        d_p = gradient[t] + wd * w[t]
        buf = d_p.copy() if buf is None else mu * buf + (1.0 - dampening) * d_p
        w[t + 1] = w[t] - lr * (d_p + mu * buf if nesterov else buf)
        d_ps.append(d_p)
    step = treatment(Dynamics("sgd", lr=lr, momentum=mu, dampening=dampening, nesterov=nesterov, weight_decay=wd))
    before, steps = step.steps(w)
    expected = -lr * (1.0 if nesterov else 1.0 - dampening) * np.array(d_ps)[step.drop:]
    np.testing.assert_allclose(steps, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(before, w[step.drop:-1])
    assert step.kappa == pytest.approx(lr * wd * (1.0 if nesterov else 1.0 - dampening))


def test_an_old_track_file_without_an_optimizer_has_unknown_dynamics(tmp_path):
    path = _hand_made(tmp_path / "t.h5", {"source": "networks.track", "optimizer": "json:null", "lr": "json:null"})
    assert Trajectory.load(path).dynamics == Dynamics()
