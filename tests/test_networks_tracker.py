"""The public tracker (statmech_nn.track): the same trajectory as ``train --backend torch``, every way of
choosing weights, blocks, files and errors."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import statmech_nn
from statmech_nn.errors import DataError, ParameterError
from statmech_nn.io import Trajectory
from statmech_nn.networks import Architecture, TrackedParameters, TrainConfig, epoch_order, load_dataset, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARCH, LR, WD, SEED, K = "mlp:64-100-50-10", 2e-3, 5e-4, 3, 64


def small_mlp(seed=0, dtype=torch.float64):
    return Architecture.parse("mlp:6-5-4-3").build((6,), 3, seed=seed, dtype=dtype)


def sgd_steps(model, optimizer, x, y, order, tracker=None):
    """A user's own batch-1 loop; calls tracker.record() after each step when given one."""
    for i in order:
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        optimizer.step()
        if tracker is not None:
            tracker.record()


def test_tracked_trajectory_equals_the_torch_backends_bit_for_bit(tmp_path):
    steps = 400
    config = TrainConfig(arch=ARCH, dataset="digits", backend="torch", device="cpu", dtype="float64", lr=LR,
                         weight_decay=WD, steps=steps, track=K, seed=SEED, out=str(tmp_path / "run"))
    train(config, progress=False)
    reference = Trajectory.load(tmp_path / "run")

    data = load_dataset("digits")
    model = Architecture.parse(ARCH).build(data.input_shape, data.n_classes, seed=SEED, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=WD)
    x = torch.as_tensor(data.x_train, dtype=torch.float64)
    y = torch.as_tensor(data.y_train)
    order = epoch_order(SEED, 0, len(x))[:steps]
    with statmech_nn.track(model, k=K, seed=SEED, optimizer=optimizer, block=64) as tracker:
        sgd_steps(model, optimizer, x, y, order)
    ours = tracker.trajectory

    assert ours.names == reference.names
    assert np.array_equal(ours.t, reference.t) and ours.t[-1] == steps
    assert ours.q.dtype == reference.q.dtype == np.float64
    assert np.array_equal(ours.q, reference.q)           # 0 ulp
    assert ours.source == "networks.track" and ours.seed == SEED and ours.step_size == LR
    for dynamics in (ours.dynamics, reference.dynamics):   # the run header's dynamics, from param_groups / the config
        assert (dynamics.kind, dynamics.lr, dynamics.weight_decay, dynamics.momentum) == ("sgd", LR, WD, 0.0)


def test_record_calls_hook_and_file_give_the_same_rows_across_block_boundaries(tmp_path):
    x = torch.randn(40, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.arange(40) % 3
    trajectories = []
    for mode in ("record", "hook", "file"):
        model = small_mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-3)
        out = tmp_path / "t.h5" if mode == "file" else None
        hooked = optimizer if mode != "record" else None
        with statmech_nn.track(model, k=7, seed=2, optimizer=hooked, out=out, block=4, every=3,
                               start_step=100) as tracker:
            sgd_steps(model, optimizer, x, y, range(40), tracker if mode == "record" else None)
            assert tracker.steps == 40
        trajectories.append(tracker.trajectory)
        flat = dict(model.named_parameters())
        last = np.array([flat[name].detach().reshape(-1)[i].item() for name, i in
                         zip(tracker.tracked.param_names, tracker.tracked.flat_index)])
        if mode == "file":
            assert (tmp_path / "t.h5").is_file() and Trajectory.load(tmp_path / "t.h5").q.shape == (14, 7)
    for trajectory in trajectories:
        assert np.array_equal(trajectory.t, 100 + 3 * np.arange(14))
        assert np.array_equal(trajectory.q, trajectories[0].q)
        assert trajectory.parameters["every"] == 3 and trajectory.parameters["selection"] == "count"
    # step 39 is the last multiple of 3: the state after 39 steps is the last row, not the final state
    assert not np.array_equal(trajectories[0].q[-1], last)


def test_count_selection_is_the_trainers():
    model = small_mlp()
    tracker = statmech_nn.track(model, k=9, seed=5)
    trainers = TrackedParameters.choose(model, 9, 5)
    assert tracker.names == trainers.names and np.array_equal(tracker.tracked.flat_index, trainers.flat_index)
    assert tracker.trajectory.q.shape == (1, 9)          # the starting state
    with_biases = statmech_nn.track(model, k=40, seed=5, include_biases=True)
    assert any(".bias[" in name for name in with_biases.names)


def test_glob_and_regex_patterns():
    model = small_mlp()
    row = statmech_nn.track(model, k=None, names="fc1.weight[3,*]")
    assert row.names == tuple(f"fc1.weight[3,{j}]" for j in range(6))
    values = row.trajectory.q[0]
    assert np.array_equal(values, model.fc1.weight[3].detach().numpy())
    biases = statmech_nn.track(model, k=None, names="fc?.bias[*]")
    assert biases.k == 5 + 4 + 3 and all(".bias[" in n for n in biases.names)
    drawn = statmech_nn.track(model, k=5, seed=1, names="*.weight[*]")
    again = statmech_nn.track(model, k=5, seed=1, names="*.weight[*]")
    assert drawn.k == 5 and drawn.names == again.names
    assert statmech_nn.track(model, k=100, names="fc3.bias[*]").k == 3       # fewer match than k: all of them
    regex = statmech_nn.track(model, k=None, names=re.compile(r"fc2\.weight\[\d,0\]"))
    assert regex.names == tuple(f"fc2.weight[{i},0]" for i in range(4))
    with pytest.raises(ParameterError, match="names"):
        statmech_nn.track(model, names="conv1.weight[*]")


def test_explicit_entries_flat_or_per_axis_in_canonical_order():
    model = small_mlp()
    tracker = statmech_nn.track(model, names=[("fc2.weight", (1, 2)), ("fc1.bias", 4), ("fc1.weight", 7)])
    assert tracker.names == ("fc1.weight[1,1]", "fc1.bias[4]", "fc2.weight[1,2]")
    expected = [model.fc1.weight[1, 1].item(), model.fc1.bias[4].item(), model.fc2.weight[1, 2].item()]
    assert np.array_equal(tracker.trajectory.q[0], expected)
    for bad in ([("fc9.weight", 0)], [("fc1.weight", 36)], [("fc1.weight", (0, 6))], [("fc1.weight", True)],
                [("fc1.weight", 1), ("fc1.weight", (0, 1))], [], ["fc1.weight[0,0]"]):
        with pytest.raises(ParameterError, match="names"):
            statmech_nn.track(model, names=bad)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), min_size=1, max_size=10, unique=True))
def test_explicit_columns_hold_the_named_entries(pairs):
    model = small_mlp()
    tracker = statmech_nn.track(model, names=[("fc1.weight", pair) for pair in pairs])
    by_name = dict(zip(tracker.names, tracker.trajectory.q[0]))
    assert len(by_name) == len(pairs)
    for i, j in pairs:
        assert by_name[f"fc1.weight[{i},{j}]"] == model.fc1.weight[i, j].item()


def test_files_are_not_overwritten_unasked_and_closed_trackers_refuse_steps(tmp_path):
    model = small_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with statmech_nn.track(model, k=3, out=tmp_path, optimizer=optimizer) as tracker:
        pass
    assert (tmp_path / "trajectory.h5").is_file()
    with pytest.raises(DataError, match="overwrite"):
        statmech_nn.track(model, k=3, out=tmp_path)
    statmech_nn.track(model, k=3, out=tmp_path, overwrite=True).close()
    with pytest.raises(DataError, match="closed"):
        tracker.record()
    model(torch.ones(1, 6, dtype=torch.float64)).sum().backward()
    optimizer.step()                                       # the hook is gone: no error, no row
    assert tracker.trajectory.n_times == 1


def test_bad_arguments_are_parameter_errors():
    model = small_mlp()
    for kwargs in ({"k": 0}, {"k": None}, {"every": 0}, {"seed": -1}, {"k": 10 ** 6},
                   {"optimizer": "sgd"}, {"names": 3}):
        with pytest.raises(ParameterError):
            statmech_nn.track(model, **kwargs)
    with pytest.raises(ParameterError, match="model"):
        statmech_nn.track(nn.Linear(2, 2).weight)


def test_float32_and_mixed_precision_buffers():
    model = small_mlp(dtype=torch.float32)
    model.fc3.to(torch.bfloat16)
    tracker = statmech_nn.track(model, k=None, names=re.compile(r"fc[13]\.weight\[0,\d+\]"))
    q = tracker.trajectory.q
    assert q.dtype == np.float32 and q.shape == (1, 6 + 4)
    assert np.array_equal(q[0, 6:], model.fc3.weight[0].float().detach().numpy())


def test_importing_the_package_does_not_import_torch():
    code = "import sys, statmech_nn; assert callable(statmech_nn.__getattr__); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert statmech_nn.track.__module__ == "statmech_nn.networks.tracker"
