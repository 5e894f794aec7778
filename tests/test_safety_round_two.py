"""Issue 20 (nothing lost, round two): one regression test per defect, in-process through ``main(argv)`` where
possible; a subprocess only where a kill or a real exit is the point.

H1 a refused --resume keeps the outcome; H2 --overwrite replaces only after validation; H3 spec paths stay inside
--out; H4 scan specs and --set get the model's checks; H5 no import of an unregistered task module; H6 circuits and
hessian refuse incomplete runs; H7 capacity never replaces a figure; M2 budgets; M3 one line; M6 non-finite results
and API input; M7 one lock per store; M8 a full disk during scan; Low: workers die with their driver, --steps clamp.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import statmech_nn
from statmech_nn.cli import main
from statmech_nn.errors import DataError
from statmech_nn.runs.claim import claim, replaced_path
from statmech_nn.runs.directory import inside

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NUMBA_NUM_THREADS": "1"}
SAMPLE = ["sample", "quartic", "--lambda-x", "0.1", "--g", "1", "--lambda-q", "1", "--alpha", "2.5", "--beta", "1",
          "--method", "mh", "--chains", "2", "--steps", "400", "--seed", "1", "--json"]
BF_TRAIN = ["train", "--dataset", "digits-binary", "--arch", "bfmlp:64-6-6-1", "--steps", "30", "--track", "4",
            "--no-progress", "--seed", "1", "--torch-threads", "1", "--n-train", "200", "--n-test", "50", "--json"]
QUARTIC_SPEC = ('[scan]\ntask = "quartic"\n[grid]\n"model.g" = "0.5:2:3"\n'
                "[model]\nlambda_x = 0.1\nlambda_q = 1.0\nalpha = 2.5\nbeta = 1.0\n")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def refused(capsys, *argv) -> str:
    """Run ``argv``; assert exit 2 with one error line; return that line."""
    status, _, err = run(capsys, *argv)
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("statmech-nn: error: ") and "Traceback" not in err, err
    return err


def contents(directory) -> dict:
    """Every file under ``directory`` but lock files, with its bytes."""
    root = Path(directory)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def set_outcome(directory, outcome: str) -> None:
    path = Path(directory) / "run.json"
    info = json.loads(path.read_text())
    path.write_text(json.dumps({**info, "outcome": outcome}))


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """A completed sampler run."""
    out = tmp_path_factory.mktemp("sampled") / "r"
    assert main([*SAMPLE, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def bias_free(tmp_path_factory):
    """A completed bias-free training run (for circuits and hessian)."""
    out = tmp_path_factory.mktemp("bias_free") / "bf"
    assert main([*BF_TRAIN, "--out", str(out)]) == 0
    return out


# H1 -------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_refused_resume_leaves_a_completed_run_completed(sampled, tmp_path, capsys):
    before = contents(sampled)
    refused(capsys, *SAMPLE, "--out", sampled, "--resume")
    assert contents(sampled) == before
    assert json.loads((sampled / "run.json").read_text())["outcome"] == "completed"


def test_claim_restores_run_json_when_the_block_refuses_without_writing(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text('{"outcome": "completed"}')
    with pytest.raises(DataError), claim(tmp_path / "run", resume=True):
        raise DataError("refused")
    assert (tmp_path / "run" / "run.json").read_text() == '{"outcome": "completed"}'


# H2 -------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "nonsense", "--steps", "100"],
    [*SAMPLE[:-1], "--steps", "0"],
    ["analyze", "missing-run"],
    ["sample", "quartic", "--lambda-x", "0.1", "--g", "-1", "--lambda-q", "1", "--alpha", "1", "--beta", "1"],
], ids=["train", "sample", "analyze", "sample-model"])
def test_overwrite_refused_leaves_the_run_exactly_as_it_was(argv, sampled, tmp_path, capsys):
    before = contents(sampled)
    refused(capsys, *argv, "--out", sampled, "--overwrite")
    assert contents(sampled) == before
    assert not replaced_path(sampled).exists()


def test_overwrite_killed_before_it_wrote_puts_the_old_run_back(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("{}")
    aside = replaced_path(out)            # what a writer killed between moving aside and writing leaves
    aside.mkdir()
    os.rename(out / "run.json", aside / "run.json")
    with claim(out, resume=True):
        pass
    assert (out / "run.json").read_text() != "" and not aside.exists()


@pytest.mark.slow
def test_overwrite_replaces_once_the_command_writes(sampled, tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, *SAMPLE, "--out", out)[0] == 0
    assert run(capsys, *SAMPLE[:-3], "--seed", "2", "--json", "--out", out, "--overwrite")[0] == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 2 and not replaced_path(out).exists()


def test_a_refused_command_leaves_no_directory_behind(tmp_path, capsys):
    refused(capsys, "train", "--dataset", "nonsense", "--out", tmp_path / "a" / "b" / "c")
    assert not (tmp_path / "a").exists()


# H3 -------------------------------------------------------------------------------------------------------------
def test_paths_from_specs_stay_inside_out(tmp_path):
    (tmp_path / "out").mkdir()
    os.symlink("/", tmp_path / "out" / "link")
    for relative in ("../x", "/etc", "a/../../x", "link/etc"):
        with pytest.raises(DataError, match="leads outside"):
            inside(tmp_path / "out", relative, "name")
    assert inside(tmp_path / "out", "net", "name") == tmp_path / "out" / "net"


# H4 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("edit, extra", [
    (("lambda_x = 0.1", "lambda_x = nan"), []),
    (("beta = 1.0", "beta = -1.0"), []),
    (('"model.g" = "0.5:2:3"\n[model]\n', '"model.lambda_q" = "0:1:3"\n[model]\ng = -1.0\n'), []),
    (None, ["--set", "model.beta=nan"]),
    (None, ["--set", "model.beta=-1"]),
    (None, ["--grid", "model.bogus=1:2:3"]),
    (None, ["--set", "model.bogus=1"]),
], ids=["nan", "negative-beta", "negative-g-fixed", "set-nan", "set-negative", "bogus-axis", "bogus-key"])
def test_scan_specs_and_set_go_through_the_model_checks(edit, extra, tmp_path, capsys):
    text = QUARTIC_SPEC if edit is None else QUARTIC_SPEC.replace(*edit)
    (tmp_path / "s.toml").write_text(text)
    refused(capsys, "scan", tmp_path / "s.toml", *extra, "--out", tmp_path / "s.zarr", "--no-figures",
            "--workers", "1")
    assert sorted(os.listdir(tmp_path)) == ["s.toml"]


def test_a_valid_quartic_spec_computes_every_cell(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(QUARTIC_SPEC)
    status, out, err = run(capsys, "scan", tmp_path / "s.toml", "--out", tmp_path / "s.nc", "--no-figures",
                           "--workers", "1", "--json")
    assert status == 0, err
    assert json.loads(out)["done"] == 3


# H5 -------------------------------------------------------------------------------------------------------------
def test_a_spec_task_module_is_not_imported_before_it_is_known(tmp_path, capsys, monkeypatch):
    marker = tmp_path / "ran"
    (tmp_path / "evilmod_issue20.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef f(): pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for task in ("evilmod_issue20:f", "this:s"):
        (tmp_path / "s.toml").write_text(QUARTIC_SPEC.replace('"quartic"', f'"{task}"'))
        assert "scan.task" in refused(capsys, "scan", tmp_path / "s.toml", "--out", tmp_path / "o", "--no-figures")
    assert not marker.exists()
    assert "evilmod_issue20" not in sys.modules and "this" not in sys.modules


# H6 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["circuits", "--paths", "200"], ["hessian", "--probes", "2", "--steps", "5"]],
                         ids=["circuits", "hessian"])
def test_circuits_and_hessian_refuse_an_incomplete_run_unless_allowed(command, bias_free, tmp_path, capsys):
    set_outcome(bias_free, "running")
    try:
        assert "did not complete" in refused(capsys, command[0], bias_free, *command[1:], "--out", tmp_path / "a")
        assert not (tmp_path / "a").exists()
        status, out, err = run(capsys, command[0], bias_free, *command[1:], "--out", tmp_path / "b",
                               "--allow-incomplete", "--json")
        assert status == 0, err
        assert json.loads(out)["source_run_incomplete"] is True
    finally:
        set_outcome(bias_free, "completed")


# H7 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("figure", [None, "fig.png"])
def test_capacity_never_replaces_an_existing_figure(figure, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = Path(figure or "o.png")
    path.write_bytes(b"old figure")
    extra = ["--figure", figure] if figure else []
    refused(capsys, "capacity", "--widths", "2", "--n-train", "8", "--steps", "2", "--out", "o.nc", *extra)
    assert path.read_bytes() == b"old figure" and not Path("o.nc").exists()
    assert sorted(os.listdir(".")) == [str(path)]


# M2 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["train", "--dataset", "digits", "--arch", "mlp:64-1000000000-10", "--steps", "5"],
    ["scan", "quartic", "--grid", "g=0.5:2:100000", "--grid", "alpha=1:2:100000", "--lambda-x", "0.1",
     "--lambda-q", "1", "--beta", "1"],
    pytest.param(["hs", "scan", "--weights", "{weights}", "--h", "0:1:100000000", "--t", "0.1:1:3"],
                 marks=pytest.mark.slow),        # tens of seconds before the budget refuses (the grid is built)
    ["sample", "quartic-bias", "--lambda-x", "0.1", "--g", "1", "--lambda-q", "1", "--alpha", "1", "--beta", "1",
     "--grid", "epsilon=0.1:1:1000000000", "--grid", "dt=0.01:0.1:1000000000"],
], ids=["arch", "scan-grid", "hs-scan", "quartic-bias"])
def test_budgets_refuse_sizes_from_flags(argv, tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.eye(3))
    argv = [str(tmp_path / "w.npy") if a == "{weights}" else a for a in argv]
    assert "budget" in refused(capsys, *argv, "--out", tmp_path / "o")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flags", [["--probes", "1000000000"], ["--entries", "1000000000000"]])
def test_hessian_budget(flags, bias_free, tmp_path, capsys):
    assert "budget" in refused(capsys, "hessian", bias_free, *flags, "--out", tmp_path / "h")


def test_circuits_budget(bias_free, tmp_path, capsys):
    assert "budget" in refused(capsys, "circuits", bias_free, "--paths", str(10**12), "--out", tmp_path / "c")


def test_hessian_reports_the_lanczos_steps_it_takes(bias_free, tmp_path, capsys):
    status, out, err = run(capsys, "hessian", bias_free, "--steps", "1000000000", "--probes", "1", "--out",
                           tmp_path / "h", "--json")
    assert status == 0, err
    payload = json.loads(out)
    assert payload["lanczos_steps"] <= payload["P"]


def test_python_api_budget_for_a_huge_array():
    with pytest.raises(ValueError, match="budget"):
        statmech_nn.analyze(np.broadcast_to(np.arange(10.0), (10**9, 10)))


# M3 and M6 ------------------------------------------------------------------------------------------------------
def test_gates_refuse_what_is_not_a_finite_real_law(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.ones(2))
    np.save(tmp_path / "w.npy", np.ones((2, 2)))
    np.savez(tmp_path / "big.npz", W1=np.full((2, 2), 1e308), W2=np.ones((1, 2)))
    np.savez(tmp_path / "over.npz", W1=np.full((2, 2), 1e100), W2=np.full((1, 2), 1e100))
    for weights, message in (("w.npy", "NPZ"), ("big.npz", "rescale"), ("over.npz", "not finite")):
        assert message in refused(capsys, "gates", "--weights", tmp_path / weights, "--input", tmp_path / "x.npy",
                                  "--temperature", "0.5")


def test_assembly_overflow_is_one_line(tmp_path, capsys):
    assert "overflow" in refused(capsys, "assembly", "--c", "1e308", "--depths", "2", "--widths", "4",
                                 "--networks", "2", "--out", tmp_path / "a")


def test_hs_query_of_huge_weights_is_one_line(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.full((5, 5), 1e308))
    refused(capsys, "hs", "--weights", tmp_path / "w.npy", "--beta", "1", "query")


@pytest.mark.parametrize("make, problem", [
    (lambda q: q * np.nan, "NaN"), (lambda q: q * np.inf, "NaN or infinite"), (lambda q: q + 1j, "complex"),
    (lambda q: np.ones_like(q), "constant"), (lambda q: q * 1e305, "rescale"), (lambda q: q.astype(str), "numbers"),
], ids=["nan", "inf", "complex", "constant", "huge", "strings"])
def test_the_python_api_refuses_input_it_cannot_analyze(make, problem):
    q = np.random.default_rng(0).normal(size=(200, 3))
    with pytest.raises(ValueError, match=problem):
        statmech_nn.analyze(make(q))


def test_track_refuses_an_output_that_is_not_a_run_and_nan_weights(tmp_path):
    import torch

    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    model = torch.nn.Linear(3, 2)
    for out in (tmp_path / "file", tmp_path / "other"):
        with pytest.raises(DataError):
            statmech_nn.track(model, k=3, out=out)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="NaN"):
        with statmech_nn.track(model, k=6, out=tmp_path / "run", optimizer=optimizer, block=2):
            for step in range(4):
                optimizer.zero_grad()
                model(torch.ones(3)).sum().backward()
                optimizer.step()
                if step == 2:
                    with torch.no_grad():
                        model.weight.fill_(float("nan"))
                        model.bias.fill_(float("nan"))


# M7 -------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("held, asked", [("s.zarr", "s.nc"), ("s.nc", "s.zarr")])
def test_one_store_one_lock_whatever_its_spelling(held, asked, tmp_path, capsys):
    from statmech_nn.cli.scan_commands import store_path

    (tmp_path / "s.toml").write_text(QUARTIC_SPEC)
    with claim(store_path(tmp_path / held), reuse=True):
        code = ("import sys; from statmech_nn.cli import main; "
                f"sys.exit(main(['scan', {str(tmp_path / 's.toml')!r}, '--out', {str(tmp_path / asked)!r}, "
                "'--no-figures', '--workers', '1']))")
        other = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, timeout=120)
    assert other.returncode == 2 and "is being written by" in other.stderr, other.stderr


# M8 -------------------------------------------------------------------------------------------------------------
def test_a_full_disk_during_scan_is_one_line_no_partial_file_and_resumable(tmp_path, capsys, monkeypatch):
    import xarray as xr

    from statmech_nn.scan import scan_store as store_module

    (tmp_path / "s.toml").write_text(QUARTIC_SPEC)
    argv = ["scan", tmp_path / "s.toml", "--out", tmp_path / "s.nc", "--no-figures", "--workers", "1", "--json"]

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    with monkeypatch.context() as patch:       # the store's writes
        patch.setattr(store_module.ScanStore, "write_result", no_space)
        assert "No space left on device" in refused(capsys, *argv)
    assert not (tmp_path / "s.nc").exists()

    def hdf_error(self, path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise RuntimeError("NetCDF: HDF error")
    with monkeypatch.context() as patch:       # the final NetCDF write
        patch.setattr(xr.Dataset, "to_netcdf", hdf_error)
        assert "disk full" in refused(capsys, *argv)
    assert not (tmp_path / "s.nc").exists() and not list(tmp_path.glob(".s.nc*"))
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    assert (tmp_path / "s.nc").is_file()


# Low ------------------------------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and pgrep")
def test_pool_workers_die_with_a_killed_driver(tmp_path):
    driver = subprocess.Popen([sys.executable, "-m", "statmech_nn", "scan", "quartic", "--grid", "g=0.5:2:300000",
                               "--grid", "alpha=1:3:4", "--lambda-x", "0.1", "--lambda-q", "1", "--beta", "1",
                               "--out", str(tmp_path / "s.zarr"), "--workers", "2", "--no-figures", "--json"],
                              env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(workers) < 3 and driver.poll() is None:
        time.sleep(0.5)
        workers = _children(driver.pid)      # two workers and the resource tracker
    if driver.poll() is not None:
        pytest.skip("the scan ended before its pool started (a very fast machine)")
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert workers and not left
