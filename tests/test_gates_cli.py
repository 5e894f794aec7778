"""`statmech-nn gates | circuits | assembly | capacity`: JSON payloads and one-line exit-2 errors."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.gates.gate_claims import random_mlp
from statmech_nn.gates.stochastic import exact

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def network(tmp_path):
    layers = random_mlp([4, 5, 4, 1], 0)
    np.savez(tmp_path / "w.npz", **{f"W{i}": w for i, w in enumerate(layers, start=1)})
    x = np.random.default_rng(1).normal(size=4)
    np.save(tmp_path / "x.npy", x)
    return tmp_path, layers, x


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_gates_methods(network, capsys):
    path, layers, x = network
    common = ["gates", "--weights", str(path / "w.npz"), "--input", str(path / "x.npy"), "--temperature", "0.5",
              "--json"]
    exact_payload = run_json(capsys, [*common, "--method", "exact"])
    assert exact_payload["patterns"] == 2**5 and exact_payload["sem"] is None and exact_payload["method"] == "exact"
    assert exact_payload["mean"][0] == pytest.approx(exact(layers, x, 0.5).mean[0], rel=1e-14)
    mc = run_json(capsys, [*common, "--method", "mc", "--samples", "20000", "--seed", "3"])
    assert abs(mc["mean"][0] - exact_payload["mean"][0]) < 4.5 * mc["sem"][0] and mc["patterns"] is None
    mean_field = run_json(capsys, [*common, "--method", "mean-field"])
    assert mean_field["temperature"] == 0.5 and len(mean_field["mean"]) == 1


@pytest.mark.parametrize("change, message", [
    ({"--temperature": "-1"}, "temperature"),
    ({"--weights": "missing.npz"}, "no such file"),
    ({"--weights": "bad.npz"}, "W1, W2"),
    ({"--input": "w.npz"}, "NPY"),
    ({"--input": "long.npy"}, "length 4"),
    ({"--method": "bogus"}, "invalid choice"),
    ({"--method": "mc", "--samples": "1"}, "samples"),
])
def test_gates_bad_input_exits_2(network, capsys, change, message):
    path, _, _ = network
    np.savez(path / "bad.npz", A=np.ones(2))
    np.save(path / "long.npy", np.ones(7))
    options = {"--weights": "w.npz", "--input": "x.npy", "--temperature": "1", "--method": "exact", **change}
    argv = ["gates", "--json"]
    for key, value in options.items():
        argv += [key, value if key in ("--temperature", "--method", "--samples") else str(path / value)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_circuits_on_a_trained_bias_free_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--arch", "vgg:depth=4,width=2", "--dataset", "digits-binary", "--n-train", "64",
                 "--epochs", "1", "--torch-threads", "1", "--out", str(run), "--json"]) == 0
    capsys.readouterr()
    payload = run_json(capsys, ["circuits", str(run), "--paths", "3000", "--inputs", "3", "--out",
                                str(tmp_path / "circ"), "--json"])
    assert payload["snapshots"][0] == "init" and len(payload["snapshots"]) >= 2
    assert set(payload["statistics"]["init"]) == {"psi", "omega1", "omega2"}
    assert all((tmp_path / "circ" / f).exists() for f in ("circuits.nc", "figures/circuit_symmetry.png"))
    biased = tmp_path / "biased"
    assert main(["train", "--arch", "mlp:64-4-2", "--dataset", "digits-binary", "--n-train", "32", "--epochs", "1",
                 "--torch-threads", "1", "--out", str(biased), "--json"]) == 0
    capsys.readouterr()
    assert main(["circuits", str(biased), "--out", str(tmp_path / "c2"), "--json"]) == 2
    assert "bias" in capsys.readouterr().err


@pytest.mark.slow
def test_assembly_and_capacity_commands(tmp_path, capsys):
    payload = run_json(capsys, ["assembly", "--depths", "2,3,4", "--widths", "8", "--networks", "200", "--out",
                                str(tmp_path / "asm"), "--json"])
    assert len(payload["rates"]) == 3 and (tmp_path / "asm" / "assembly.nc").exists()
    payload = run_json(capsys, ["capacity", "--widths", "1,16", "--n-train", "32", "--label-noise", "0",
                                "--temperatures", "0", "--depths", "1", "--steps", "150", "--lr", "0.01",
                                "--out", str(tmp_path / "cap.nc"), "--json"])
    assert payload["cells"] == 2 and (tmp_path / "cap.png").exists()
    assert main(["capacity", "--widths", "a,b", "--out", str(tmp_path / "x.nc")]) == 2
    assert main(["assembly", "--depths", "1", "--out", str(tmp_path / "y")]) == 2
