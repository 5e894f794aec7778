"""The main job (`statmech-nn validate`) end to end on a tiny spec, the shipped specs, and bad specs."""

import base64
import json
import re
import shutil
from types import SimpleNamespace

import pytest

from statmech_nn.cli import main
from statmech_nn.compare.acceptance import acceptance
from statmech_nn.experiments import pipeline
from statmech_nn.errors import DataError, ParameterError
from statmech_nn.experiments.plasticity import spec_kind
from statmech_nn.experiments.spec import ExperimentSpec
from statmech_nn.networks import TrainConfig
from statmech_nn.package_data import data_dir

TINY = """
[experiment]
name = "tiny"
description = "a small end-to-end run"

[training]
arch = "mlp:64-24-16-10"
dataset = "digits"
lr = 0.01
weight_decay = 5e-4
warmup_epochs = 3
epochs = 2
track = 6
backend = "fast"
device = "cpu"
torch_threads = 1

[probe]
split = "test"
n_neurons = 4

[samplers]
methods = ["exact", "mh", "langevin"]
chains = 4
epsilon = 0.05
dt = 0.02
[samplers.steps]
exact = 2000
mh = 40000
langevin = 400000
[samplers.model]
lambda_x = 0.5
g = 1.0
lambda_q = 1.0
alpha = 0.5
beta = 1.0

[acceptance]
min_test_accuracy = 0.5
require_equilibrium = false
max_sampler_z = 5.0
"""


@pytest.fixture
def tiny_run(validate_once):
    """(exit status, run directory) of the one validate run of TINY (tests/conftest.py)."""
    status, _, out = validate_once("tiny", TINY)
    return status, out


@pytest.mark.slow
def test_the_main_job_writes_its_report_and_summary(tiny_run):
    status, out = tiny_run
    summary = json.loads((out / "summary.json").read_text())
    assert status == 0 and summary["passed"] is True, [c for c in summary["acceptance"] if not c["passed"]]
    assert all(check["passed"] for check in summary["acceptance"])
    assert {c["criterion"].split(":")[0] for c in summary["acceptance"]} >= {"exact", "mh", "langevin"}
    assert summary["answers"]["weights"] == 6
    assert set(summary["samplers"]) == {"exact", "mh", "langevin"}
    assert summary["claims"]["total"] > 10 and summary["claims"]["as_expected"] == summary["claims"]["total"]
    for name in ("train", "probe", "analyze", "samplers", "claims", "report", "total"):
        assert summary["timings_s"][name] >= 0
    # every stage left its run directory: trajectories, analyses, probe
    for path in ("network/trajectory.h5", "network/analysis/observables.nc", "network/probes/probes.nc",
                 "samplers/mh/trajectory.h5", "samplers/langevin/analysis/fits.json", "run.json"):
        assert (out / path).is_file(), path


@pytest.mark.slow
def test_the_report_embeds_every_figure_with_a_caption(tiny_run):
    _, out = tiny_run
    html = (out / "report.html").read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)">', html)
    assert len(images) >= 9
    for alt, data in images:
        assert alt and base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("Verdict", "002 Fig. 1", "002 Figs. 2–3", "002 Fig. 4", "Samplers against the exact marginal",
                    "Theory checks", "Reproduce"):
        assert heading in html


@pytest.mark.slow
def test_run_json_reruns_and_a_rerun_resumes_the_finished_training(tiny_run, tmp_path, capsys, monkeypatch):
    """The rerun continues a copy of the run (the shared run stays as the other tests read it); the source's
    claims, which do not depend on the run, are not checked a second time."""
    _, out = tiny_run
    command = json.loads((out / "run.json").read_text())["command"]
    assert command[:2] == ["statmech-nn", "validate"] and str(out) in command
    first = json.loads((out / "summary.json").read_text())["training"]
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    monkeypatch.setattr(pipeline, "run_claims", lambda *args, **kwargs: [])
    assert main(["validate", command[2], "--out", str(copy), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["training"]
    assert again["steps"] == first["steps"] and again["final_test_loss"] == first["final_test_loss"]


@pytest.mark.slow
def test_a_failed_acceptance_criterion_exits_1_and_names_it(tiny_run, tmp_path, capsys, monkeypatch):
    """The machinery's checks are not the physics: an unmet criterion (here an accuracy no run reaches) exits 1.

    The saved summary of the tiny run is judged again under the strict spec (the pipeline's acceptance rule on
    the run's numbers), and the command line reports that judgement, without running the stages again."""
    _, out = tiny_run
    saved = json.loads((out / "summary.json").read_text())
    training = SimpleNamespace(**saved["training"])
    samplers = [SimpleNamespace(method=method, z_score=result["z_score"])
                for method, result in saved["samplers"].items()]
    assert saved["claims"]["as_expected"] == saved["claims"]["total"]
    claims = [SimpleNamespace(claim=SimpleNamespace(id=claim), as_expected=True)
              for claim in saved["claims"]["verdicts"]]
    original = tmp_path / "tiny.toml"
    original.write_text(TINY)
    assert acceptance(ExperimentSpec.load(original).acceptance, training, samplers, claims) == saved["acceptance"]
    spec = tmp_path / "strict.toml"
    spec.write_text(TINY.replace("min_test_accuracy = 0.5", "min_test_accuracy = 1.01"))
    checks = acceptance(ExperimentSpec.load(spec).acceptance, training, samplers, claims)
    rejudged = {**saved, "acceptance": checks, "passed": all(check["passed"] for check in checks)}
    monkeypatch.setattr(pipeline, "run_validation", lambda *args, **kwargs: rejudged)
    assert main(["validate", str(spec), "--out", str(tmp_path / "strict"), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    failed = [check["criterion"] for check in summary["acceptance"] if not check["passed"]]
    assert summary["passed"] is False and failed == ["test accuracy >= 1.01"]


def test_shipped_specs_load_and_configure_training():
    paths = sorted(data_dir("experiment").glob("*.toml"))
    paths = [p for p in paths if spec_kind(p) is None]   # 003's plasticity specs: tests/test_plasticity.py
    assert {p.stem for p in paths} >= {"soc_digits", "soc_mnist5k", "soc_mnist", "criticality_cifar10"}
    for path in paths:
        spec = ExperimentSpec.load(path)
        TrainConfig.from_dict({**spec.training, "out": "unused"})


@pytest.mark.parametrize("text, error, fragment", [
    ("[nonsense]\n", DataError, "unknown table"),
    ("[samplers]\nmethods = ['gibbs']\n", ParameterError, "samplers.methods"),
    ("[samplers.model]\nlambda_y = 1\n", ParameterError, "samplers.model"),
    ("[probe]\nsplit = 'validation'\n", ParameterError, "probe.split"),
    ("[acceptance]\nmin_accuracy = 1\n", DataError, "min_accuracy"),
])
def test_bad_specs_name_what_is_wrong(tmp_path, text, error, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(error, match=fragment):
        ExperimentSpec.load(path)


def test_bad_spec_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[training]\narch = 'transformer'\n")
    assert main(["validate", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "arch" in err
    assert main(["validate", str(tmp_path / "missing.toml")]) == 2


@pytest.mark.slow
def test_the_report_opens_with_the_verdicts_and_holds_no_python_reprs(tiny_run):
    _, out = tiny_run
    summary = json.loads((out / "summary.json").read_text())
    assert [v["id"] for v in summary["verdicts"]] == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "S", "D"]
    assert {v["verdict"] for v in summary["verdicts"]} <= {"supported", "not supported", "inconclusive"}
    assert sum(summary["answers"]["status_counts"].values()) == summary["answers"]["weights"] == 6
    html = (out / "report.html").read_text()
    assert re.search(r"<h2>(.*?)</h2>", html).group(1).startswith("Verdicts on the sources")
    text = re.sub(r'src="data:image/png;base64,[^"]+"', "", html)
    for fragment in ("{&#x27;", "[&#x27;", "{'", "['", "np.float"):
        assert fragment not in text, fragment
    for caption in ("001 class 1", "001 class 4", "w(t) over the tracked window"):
        assert caption in html
