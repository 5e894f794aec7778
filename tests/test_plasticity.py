"""003's plasticity protocol (statmech-nn validate on a kind = "plasticity" spec): specs, verdicts, a tiny run."""

import json

import pytest

from statmech_nn.cli import main
from statmech_nn.errors import DataError
from statmech_nn.experiments.plasticity import KIND, PlasticitySpec, spec_kind, verdicts
from statmech_nn.networks import TrainConfig
from statmech_nn.package_data import data_dir

pytestmark = pytest.mark.usefixtures("one_torch_thread")

VERDICTS = {"supported", "not supported", "inconclusive"}
TINY = """
[experiment]
kind = "plasticity"
name = "tiny"
[[networks]]
name = "mlp"
role = "main"
[networks.training]
arch = "bfmlp:64-5-4-1"
dataset = "digits-binary"
n_train = 120
lr = 0.1
batch_size = 20
[[networks]]
name = "ce"
role = "control"
epochs = [0, 3]
[networks.training]
arch = "bfmlp:64-5-4-2"
dataset = "digits-binary"
n_train = 120
lr = 0.1
batch_size = 20
[snapshots]
epochs = [0, 1, 3]
[hessian]
steps = 20
probes = 2
entries = 60
bootstrap = 20
correlation_subset = 10
[acceptance]
min_live_entries = 5
"""


def test_shipped_plasticity_specs_load_and_configure_training():
    paths = [p for p in sorted(data_dir("experiment").glob("*.toml"))
             if spec_kind(p) == KIND]
    assert {p.stem for p in paths} == {"plasticity_digits", "plasticity_cifar10"}
    for path in paths:
        spec = PlasticitySpec.load(path)
        for network in spec.networks:
            TrainConfig.from_dict({**network.training, "out": "unused"})


@pytest.mark.parametrize("text, fragment", [
    ("[experiment]\nkind = 'plasticity'\n[snapshots]\nepochs = [0]\n", "role = 'main'"),
    (TINY.replace("role = \"control\"", "role = \"spectator\""), "spectator"),
    (TINY.replace("steps = 20", "stepz = 20"), "stepz"),
    (TINY.replace("epochs = [0, 1, 3]", "epochs = []"), "epochs"),
    (TINY + "[extra]\n", "unknown table"),
])
def test_bad_plasticity_specs_name_what_is_wrong(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(DataError, match=fragment):
        PlasticitySpec.load(path)


@pytest.mark.slow
def test_tiny_protocol_end_to_end(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out = tmp_path / "out"
    status = main(["validate", str(spec), "--out", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["passed"]
    assert all(c["status"] != "fails" or c["as_expected"] for c in summary["claims"].values())
    main_net = summary["networks"]["mlp"]
    assert [s["epoch"] for s in main_net["snapshots"]] == [0, 1, 3]
    assert {v["verdict"] for v in main_net["verdicts"]} <= VERDICTS and len(main_net["verdicts"]) == 6
    assert [v["id"] for v in main_net["verdicts"]] == [f"P{k}" for k in range(1, 7)]
    p2 = main_net["verdicts"][1]   # bootstrap t at m = n: the null value 0.119 is below 0.95, and it says so
    assert p2["verdict"] == "inconclusive" and p2["numbers"]["reachable"] is False
    assert p2["numbers"]["null_fraction"][0] == pytest.approx(0.1192, abs=1e-4)
    for snapshot in main_net["snapshots"]:
        assert snapshot["exact_trace"] == pytest.approx(0.0, abs=1e-12)
    assert [s["epoch"] for s in summary["networks"]["ce"]["snapshots"]] == [0, 3]
    assert "skewed_positive" in summary["networks"]["ce"]["control"]
    assert (out / "report.html").stat().st_size > 10_000 and (out / "summary.json").is_file()
    assert (out / "mlp" / "hessian" / "epoch-00003.nc").is_file()
    # a rerun reuses the trained runs and the measured snapshots
    assert main(["validate", str(spec), "--out", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["networks"]["mlp"]["snapshots"][-1]["loss"] == main_net["snapshots"][-1]["loss"]


def _snapshot(epoch, **values):
    base = {"asymmetry": 0.01, "negative_mass": 0.5, "skewness": 0.0, "lambda_min": -1.0, "lambda_max": 1.0,
            "entries": 300, "structural_zero_entries": 0, "n_examples": 1437,
            "frac_t_below_0_15": 0.99, "frac_t_below_0_15_band": 0.01, "frac_t_null": 0.999,
            "frac_effect_below_0_15": 0.99, "frac_effect_below_0_15_band": 0.006, "frac_effect_null": 1.0,
            "correlation_sparsity": 0.9, "correlation_subset": 100, "correlation_degree_mean": 0.01 + epoch / 200,
            "correlation_degree_std": 0.02, "coupling_alpha": 1.0, "loss": 1.0 / (1 + epoch),
            "eta_op": 0.1 / (1 + epoch)}
    return {"epoch": epoch, "summary": {**base, **values}}


def test_verdicts_follow_their_thresholds():
    from statmech_nn.experiments.plasticity import DEFAULT_ACCEPTANCE

    metrics = {"columns": {"train_loss": [0.9, 0.001], "train_accuracy": [0.5, 1.0]}}
    good = [_snapshot(e) for e in range(12)]
    result = {v["id"]: v["verdict"] for v in verdicts(good, metrics, DEFAULT_ACCEPTANCE)}
    assert result == {f"P{k}": "supported" for k in range(1, 7)}
    # the t reading at m = n: even perfect data cannot reach 0.95, and the verdict says so
    at_n = [_snapshot(e, frac_t_null=0.1192, frac_t_below_0_15=0.12) for e in range(12)]
    p2 = next(v for v in verdicts(at_n, metrics, DEFAULT_ACCEPTANCE) if v["id"] == "P2")
    assert p2["verdict"] == "inconclusive" and not p2["numbers"]["reachable"] and "unreachable" in p2["test"]
    bad = [_snapshot(0), _snapshot(5, asymmetry=0.5), _snapshot(9, frac_effect_below_0_15=0.5, eta_op=1e-6)]
    metrics = {"columns": {"train_loss": [0.9, 0.5], "train_accuracy": [0.5, 0.7]}}
    result = {v["id"]: v["verdict"] for v in verdicts(bad, metrics, DEFAULT_ACCEPTANCE)}
    assert result["P1"] == result["P3"] == result["P6"] == "not supported"
    assert result["P5"] == "inconclusive"   # 3 snapshots: fewer than 10
