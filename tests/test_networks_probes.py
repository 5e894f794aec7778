"""Probes of a frozen network (002 Fig. 1, 001 classes 1-4) checked against an independent forward pass."""

import json

import numpy as np
import pytest
import torch

from statmech_nn.cli import main
from statmech_nn.errors import DataError, ParameterError
from statmech_nn.io import load_dataset as load_netcdf
from statmech_nn.networks.architectures import Architecture
from statmech_nn.networks.data import load_dataset
from statmech_nn.report.probe_figures import FIGURES, write_probe_outputs
from statmech_nn.networks.probes import probe
from statmech_nn.observables.activity import activity_observables


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def network():
    return Architecture.parse("mlp:64-20-12-10").build((1, 8, 8), 10, seed=2)


@pytest.fixture(scope="module")
def probed(network, digits):
    return activity_observables(probe(network, digits, n_neurons=16, seed=1, batch=100))


def _manual_hidden(network, x):
    """Hidden pre-activations layer by layer, by explicit matrix products (no hooks)."""
    a = torch.as_tensor(x).reshape(len(x), -1).double()
    out = []
    for layer in (network.fc1, network.fc2):
        h = a @ layer.weight.double().T + layer.bias.double()
        out.append(h.detach().numpy())
        a = torch.relu(h)
    return out


def test_neuron_samples_and_layer_statistics_match_a_manual_forward_pass(network, digits, probed):
    pre = _manual_hidden(network, digits.x_test)
    assert list(probed.layer.values) == ["fc1", "fc2"] and probed.sizes["sample"] == 360
    for i, h in enumerate(pre):
        width = h.shape[1]
        assert probed.layer_width.values[i] == width
        chosen = probed.neuron_index.values[i]
        kept = chosen >= 0
        assert kept.sum() == min(16, width) and np.all(chosen[~kept] == -1)
        np.testing.assert_allclose(probed.preactivation.values[i][kept], h[:, chosen[kept]].T, atol=1e-5)
        np.testing.assert_allclose(probed.activation.values[i][kept], np.maximum(h[:, chosen[kept]].T, 0), atol=1e-5)
        assert np.all(np.isnan(probed.preactivation.values[i][~kept]))
        active = h > 0
        frequency = np.sort(active.mean(axis=0))[::-1]
        np.testing.assert_allclose(probed.unit_activation_frequency.values[i][:width], frequency)
        np.testing.assert_allclose(probed.layer_active_fraction.values[i], active.mean(axis=1))
        np.testing.assert_allclose(probed.layer_mean_activation.values[i], np.maximum(h, 0).mean(axis=1), atol=1e-6)
        patterns = {}
        for row in active:
            patterns[row.tobytes()] = patterns.get(row.tobytes(), 0) + 1
        expected_counts = sorted(patterns.values(), reverse=True)
        assert probed.n_patterns.values[i] == len(patterns)
        np.testing.assert_array_equal(probed.pattern_count.values[i][:len(patterns)], expected_counts)
        assert probed.pattern_count.values[i].sum() == 360


def test_weight_histograms_count_every_weight(network, probed):
    assert list(probed.weight_param.values) == ["fc1.weight", "fc2.weight", "fc3.weight"]
    for param, expected in zip(probed.weight_param.values, (20 * 64, 12 * 20, 10 * 12)):
        assert probed.weight_histogram.sel(weight_param=param).sum() == expected
    weights = network.fc2.weight.detach().numpy().ravel()
    assert probed.weight_mean.sel(weight_param="fc2.weight") == pytest.approx(weights.mean(), rel=1e-5)
    edges = probed.weight_bin_edges.sel(weight_param="fc2.weight").values
    assert edges[0] == pytest.approx(weights.min()) and edges[-1] == pytest.approx(weights.max())


def test_probes_are_seeded(network, digits, probed):
    again = probe(network, digits, n_neurons=16, seed=1)
    np.testing.assert_array_equal(again.neuron_index.values, probed.neuron_index.values)
    other = probe(network, digits, n_neurons=16, seed=2, max_samples=50)
    assert not np.array_equal(other.neuron_index.values, probed.neuron_index.values)
    assert other.sizes["sample"] == 50


def test_outputs_round_trip_through_netcdf_with_figures(probed, tmp_path):
    paths = write_probe_outputs(probed, tmp_path)
    loaded = load_netcdf(paths["probes"])
    np.testing.assert_array_equal(loaded.pattern_count.values, probed.pattern_count.values)
    assert loaded.preactivation.dims == ("layer", "neuron", "sample")
    for name in FIGURES:
        assert (tmp_path / "figures" / name).stat().st_size > 1000


@pytest.mark.slow
def test_probe_command_on_a_trained_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--arch", "mlp:64-24-16-10", "--dataset", "digits", "--lr", "0.02", "--epochs", "1",
                 "--track", "4", "--backend", "fast", "--no-progress", "--torch-threads", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["probe", str(run), "--out", str(tmp_path / "probes"), "--neurons", "6", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["layers"] == ["fc1", "fc2"] and summary["n_samples"] == 360
    assert (tmp_path / "probes" / "probes.nc").is_file()
    assert main(["probe", str(run), "--dataset", "digits", "--split", "train", "--out", str(tmp_path / "p2"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_samples"] == 1437
    assert main(["probe", str(tmp_path / "nothing"), "--out", str(tmp_path / "p3")]) == 2
    assert "run.json" in capsys.readouterr().err


def test_the_probe_emits_activations_and_the_counts_are_the_observables(network, digits, probed):
    """The probe records activations only (the packed activity of every unit, the weights); counting them is
    activity_observables', which refuses a Dataset that is not a probe's."""
    emitted = probe(network, digits, n_neurons=16, seed=1, batch=100)
    assert "pattern_count" not in emitted and "weight_histogram" not in emitted
    active = np.unpackbits(emitted.active_bits.sel(layer="fc2").values, axis=1, count=12).astype(bool)
    np.testing.assert_array_equal(active, _manual_hidden(network, digits.x_test)[1] > 0)
    assert emitted.weight_value.size == emitted.weight_size.sum() == 20 * 64 + 12 * 20 + 10 * 12
    assert "active_bits" not in probed and probed.attrs["source"] == "model"
    with pytest.raises(DataError, match="active_bits"):
        activity_observables(probed)


def test_probe_needs_relu_layers_and_a_dataset(network, digits):
    with pytest.raises(ParameterError, match="dataset"):
        probe(network)
    with pytest.raises(ParameterError, match="ReLU"):
        probe(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), digits)


def test_cnn_units_are_channels_times_pixels(digits):
    cnn = Architecture.parse("cnn:2-3-4/6-5").build((1, 8, 8), 10, seed=0)
    result = probe(cnn, digits, max_samples=40, n_neurons=4)
    assert list(result.layer.values) == ["conv1", "conv2", "conv3", "fc1", "fc2"]
    assert list(result.layer_width.values) == [2 * 8 * 8, 3 * 4 * 4, 4 * 2 * 2, 6, 5]
    counted = activity_observables(result)
    assert counted.unit_activation_frequency.sel(layer="fc2").values[5:].size == 2 * 8 * 8 - 5
    assert np.all(np.isnan(counted.unit_activation_frequency.sel(layer="fc2").values[5:]))
    assert np.all(counted.pattern_count.sum(dim="pattern_rank").values == 40)
