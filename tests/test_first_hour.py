"""The first hour of a new user (issue 22): `check` talks as it goes, runs in parallel and caches; an empty check is
an error (issue 20 M4); interruption says what was done and how to resume; one warning line per analysis and a
short table; negative numbers in any notation; the quartic boundaries at mu = 0 in the frustrated case."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from scan_helpers import scan_status

from statmech_nn.cli import main
from statmech_nn.compare import claims as claims_module
from statmech_nn.quartic import regimes

REPOSITORY = Path(__file__).resolve().parents[1]
PYTHONPATH = os.pathsep.join([str(REPOSITORY / "src"), str(REPOSITORY / "tests")])
QUICK = "quartic-eq4"   # a claim that takes milliseconds


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv(claims_module.CACHE_ENV, str(directory))
    return directory


# ---------------------------------------------------------------- item 1: check talks, runs in parallel, caches
def test_check_prints_a_line_per_claim_then_reuses_the_cache(cache, capsys):
    assert main(["check", "--select", "quartic-eq", "--workers", "1"]) == 0
    first = capsys.readouterr()
    lines = first.err.strip().splitlines()
    measured = len(claims_module.run_claims(select="quartic-eq"))
    assert len(lines) == measured and all("/" in line and "quartic-eq" in line for line in lines)
    assert not any("cached" in line for line in lines)
    assert len(list((cache / "claims").glob("*.json"))) == measured
    entry = json.loads(next((cache / "claims").glob("*.json")).read_text())   # JSON, not pickle
    assert {"version", "check", "params", "deviation", "detail"} <= set(entry)
    assert main(["check", "--select", "quartic-eq", "--workers", "1"]) == 0
    again = capsys.readouterr()
    assert all(line.endswith("(cached)") for line in again.err.strip().splitlines())
    assert again.out == first.out   # the same table from the cache
    assert main(["check", "--select", "quartic-eq", "--no-cache", "--workers", "1"]) == 0
    assert "cached" not in capsys.readouterr().err


def test_a_cached_deviation_is_classified_by_the_current_tolerance(cache, tmp_path, monkeypatch):
    """The cache keeps the measured deviation, not the verdict: a changed tolerance re-classifies it."""
    claim = next(c for c in claims_module.load_claims() if c.id.startswith(QUICK))
    text = (f'[[claims]]\nid = "t"\nsource = "x"\nequation = "y"\nstatement = "z"\ncheck = "{claim.check}"\n'
            f'tolerance = {{}}\n[claims.params]\n' + "".join(f"{k} = {v!r}\n" for k, v in claim.params.items()))
    directory = tmp_path / "claims"
    directory.mkdir()
    (directory / "t.toml").write_text(text.format(1.0))
    first, = claims_module.run_claims(directory, cache=True)
    (directory / "t.toml").write_text(text.format(0.0))
    second, = claims_module.run_claims(directory, cache=True)
    assert second.cached and second.deviation == first.deviation
    assert first.status == "holds" and (second.status == "fails") == (first.deviation > 0)


@pytest.mark.slow
def test_claims_run_on_a_process_pool_with_the_same_outcomes(cache):
    serial = claims_module.run_claims(select="quartic-eq")
    seen = []
    pooled = claims_module.run_claims(select="quartic-eq", workers=2, on_outcome=lambda o, done, total: seen.append(
        (o.claim.id, done, total)))
    assert [(o.claim.id, o.status, o.deviation) for o in pooled] == [(o.claim.id, o.status, o.deviation)
                                                                       for o in serial]
    assert sorted(done for _, done, _ in seen) == list(range(1, len(serial) + 1))
    assert not (cache / "claims").exists()   # the Python API keeps nothing unless asked


# ---------------------------------------------------------------- issue 20 M4: an empty check is not a success
_VALID = ('[[claims]]\nid = "a"\nsource = "x"\nequation = "y"\nstatement = "z"\n'
          'check = "statmech_nn.quartic.quartic_claims:eq4_up_to_constant"\n')


@pytest.mark.parametrize("files, message", [
    ({}, "no claims in"),                                                  # an empty directory
    ({"c.toml": _VALID.replace("[[claims]]", "[[claim]]") + "tolerance = 1\n"}, "unknown key(s) claim"),
    ({"c.toml": "# nothing\n"}, "no claims in"),
    ({"c.toml": _VALID + "tolerance = inf\n"}, "finite number"),
    ({"c.toml": _VALID + "tolerance = nan\n"}, "finite number"),
])
def test_a_check_of_nothing_is_an_error(tmp_path, capsys, files, message):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    assert main(["check", "--claims-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_check_of_a_directory_of_other_files_is_an_error(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert main(["check", "--claims-dir", str(tmp_path)]) == 2
    assert "unknown key(s) project" in capsys.readouterr().err


# ---------------------------------------------------------------- item 4: interruption
@pytest.mark.slow
def test_an_interrupted_scan_says_how_many_cells_are_done_and_how_to_resume(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('x = 0.0\ndelay = 1.5\n[scan]\ntask = "scan_tasks:square"\n[grid]\nx = "0:5:6"\n')
    store = tmp_path / "s.zarr"
    command = [sys.executable, "-m", "statmech_nn", "scan", str(spec), "--out", str(store), "--workers", "1",
               "--no-figures", "--import", "scan_tasks"]
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    # SIGINT back to its default in the child: an xdist worker ignores it, and an ignored signal is inherited
    # (Python then installs no KeyboardInterrupt handler), while a user's shell leaves it at the default
    driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while np.sum(scan_status(store) == 1) < 1:   # the first cell written
            assert driver.poll() is None and time.monotonic() < deadline, driver.stderr.read()[-2000:]
            time.sleep(0.05)
        driver.send_signal(signal.SIGINT)
        _, stderr = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 130
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert last.startswith("statmech-nn: interrupted: ") and "of 6 cells done; run the same command to resume" in last
    done = int(last.split("interrupted: ")[1].split(" of ")[0])
    assert 1 <= done < 6


def test_interrupt_line_names_the_resume_flag(monkeypatch, capsys, tmp_path):
    from statmech_nn.networks import training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", interrupted)
    status = main(["train", "--dataset", "digits", "--arch", "mlp:64-8-10", "--epochs", "1", "--out",
                   str(tmp_path / "d"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 130 and err == ["statmech-nn: interrupted: add --resume to the same command to continue"]


@pytest.mark.usefixtures("one_torch_thread")
def test_resume_of_a_complete_run_says_so(tmp_path, capsys):
    argv = ["train", "--dataset", "digits", "--arch", "mlp:64-8-10", "--epochs", "1", "--warmup-epochs", "0",
            "--track", "2", "--n-train", "200", "--out", str(tmp_path / "d"), "--no-progress"]
    assert main(argv + ["--json"]) == 0
    capsys.readouterr()
    assert main(argv + ["--resume", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["steps_per_s"] is None and json.loads(captured.out)["network_steps_per_s"] is None
    assert "already complete" in captured.err and "--epochs" in captured.err


# ---------------------------------------------------------------- item 5: one warning line, a short table
def test_an_analysis_gathers_its_warnings_into_one(monkeypatch):
    import statmech_nn
    from statmech_nn.compare import analysis

    original = analysis.trajectory_stationarity_columns

    def noisy(*args, **kwargs):
        for n in range(5):
            warnings.warn(f"noise {n}", UserWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(analysis, "trajectory_stationarity_columns", noisy)
    q = np.cumsum(np.random.default_rng(0).standard_t(3, size=(4000, 3)) * 1e-3, axis=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = statmech_nn.analyze(q, statmech_nn.AnalysisOptions(gof_bootstrap=0, figures=False))
    assert len(caught) == 1 and caught[0].category is analysis.AnalysisWarning
    assert "5 x UserWarning (the first: noise 0)" in str(caught[0].message)
    short, full = result.table(), result.table(full=True)
    assert 8 <= short.shape[1] <= 14 < full.shape[1]
    assert {"status", "exponent", "exponent_lo", "exponent_hi", "c", "sigma", "peak_mass"} <= set(short.columns)
    resolved = short[short["status"] == "resolved"]
    assert (resolved["exponent_lo"] <= resolved["exponent"]).all()
    assert (resolved["exponent"] <= resolved["exponent_hi"]).all()


def test_the_python_api_draws_no_progress_bar(capfd):
    import statmech_nn

    q = np.cumsum(np.random.default_rng(1).standard_t(3, size=(3000, 2)) * 1e-3, axis=0)
    statmech_nn.analyze(q, statmech_nn.AnalysisOptions(gof_bootstrap=5, figures=False))
    assert "it/s" not in capfd.readouterr().err and "%|" not in capfd.readouterr().err


# ---------------------------------------------------------------- item 8: negative numbers, frustrated boundaries
MODEL = ["--g", "1", "--lambda-q", "1", "--alpha", "0.5", "--beta", "1", "--mu", "0.1"]


@pytest.mark.parametrize("text, value", [("-2e-02", -0.02), ("-.5", -0.5), ("-1E3", -1000.0), ("-0.1", -0.1),
                                         ("-2", -2.0), ("-1.5e+1", -15.0)])
def test_negative_numbers_in_any_notation(capsys, text, value):
    assert main(["quartic", "pdf", "--lambda-x", text, *MODEL, "--q", text, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["q"] == [value]


def test_an_unknown_option_is_still_an_option(capsys):
    assert main(["quartic", "pdf", "--lambda-x", "0.1", *MODEL, "--q", "1", "-x"]) == 2
    assert "unrecognized arguments: -x" in capsys.readouterr().err


def test_frustrated_boundaries_at_mu_zero_are_the_closed_forms(capsys):
    lambda_x, g, lambda_q, alpha, beta = -0.1, 1.0, 1.0, 0.5, 1.0
    assert main(["quartic", "boundaries", "--lambda-x=-0.1", "--g", "1", "--lambda-q", "1", "--alpha", "0.5",
                 "--beta", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["u_frustration"] == pytest.approx(-lambda_x / g, rel=1e-15)
    u_gauss = payload["u_gauss"]   # -log(g u + λx) = β λq u (the source's crossover, generalized)
    assert -np.log(g * u_gauss + lambda_x) == pytest.approx(beta * lambda_q * u_gauss, rel=1e-12)
    assert payload["u_slope"] == pytest.approx(1 / (beta * lambda_q) - lambda_x / g, rel=1e-15)
    assert payload["powerlaw_exponent"] == -alpha / beta
    assert payload["mass_powerlaw"] is None and "mu > 0" in payload["density"]
    closed = regimes.closed_form_boundaries(lambda_x, g, lambda_q, alpha, beta, 0.1)
    assert main(["quartic", "boundaries", "--lambda-x=-0.1", *MODEL, "--json"]) == 0
    normalizable = json.loads(capsys.readouterr().out)
    assert normalizable["density"] == "normalizable" and normalizable["mass_powerlaw"] > 0
    assert all(normalizable[key] == pytest.approx(value) for key, value in closed.items() if value is not None)


# ---------------------------------------------------------------- item 3: scan figures
def test_cells_have_edges_at_the_grid_midpoints():
    from statmech_nn.report.scan_figures import cell_edges

    lr = np.array([3e-3, 9.5e-3, 3e-2])
    edges = cell_edges(lr, log=True)
    assert np.allclose(edges[1:-1], np.sqrt(lr[1:] * lr[:-1]))   # geometric midpoints on a log axis
    assert np.allclose(np.log(edges[1:] / edges[:-1]), np.log(lr[1] / lr[0]), rtol=0.1)   # every cell full size
    assert np.allclose(cell_edges([0.0, 1.0, 2.0], log=False), [-0.5, 0.5, 1.5, 2.5])


def test_verdict_maps_are_categorical_and_figures_belong_to_the_store(tmp_path):
    import matplotlib
    import xarray as xr

    from statmech_nn.cli.scan_commands import figures_directory
    from statmech_nn.report import scan_figures

    dims = ("lr", "weight_decay")
    scan = xr.Dataset({"status": (dims, [[1, 1], [1, 2], [1, 0]]),
                       "law_holds": (dims, [[1.0, 0.0], [np.nan, np.nan], [0.0, np.nan]]),
                       "median_exponent_2s": (dims, [[1.16, 1.2], [1.25, np.nan], [1.35, np.nan]])},
                      coords={"lr": ("lr", [3e-3, 9.5e-3, 3e-2], {"scale": "log"}), "weight_decay": [1e-4, 1e-3]})
    scan["exponent_2s_lo"], scan["exponent_2s_hi"] = scan["median_exponent_2s"] - 0.1, scan["median_exponent_2s"] + 0.1
    codes, labels = scan_figures._categories(scan, scan["law_holds"], (scan["status"] == 1).values)
    assert labels == ["supported", "not supported", "inconclusive"]
    assert codes.tolist()[0] == [0, 1] and codes[1, 0] == 2 and np.isnan(codes[1, 1]) and np.isnan(codes[2, 1])
    assert scan_figures._categories(scan, scan["median_exponent_2s"], None) is None
    meshes = []
    original = scan_figures.save_figure

    def keep(fig, path, **kwargs):
        meshes.extend(c for ax in fig.axes for c in ax.collections if isinstance(c, matplotlib.collections.QuadMesh))
        return original(fig, path, **kwargs)

    scan_figures.save_figure = keep
    try:
        written = scan_figures.draw_scan(scan, tmp_path / "f", ["law_holds"])
    finally:
        scan_figures.save_figure = original
    assert {p.name for p in written} == {"scan_law_holds.png", "scan_status.png", "exponent_vs_lr.png"}
    assert all(mesh.norm.__class__.__name__ == "BoundaryNorm" for mesh in meshes)   # no continuous colour bar
    assert figures_directory(Path("runs/a.zarr")) != figures_directory(Path("runs/b.zarr"))
    assert figures_directory(Path("runs/a.zarr")) == Path("runs/a_figures")


def test_an_interrupted_check_says_how_many_claims_are_done(monkeypatch, capsys, cache):
    from statmech_nn.compare import claims as module

    measure = module._measure
    calls = []

    def interrupt_on_the_third(claim, check=None):
        calls.append(claim.id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return measure(claim, check)

    monkeypatch.setattr(module, "_measure", interrupt_on_the_third)
    assert main(["check", "--select", "quartic-eq", "--workers", "1"]) == 130
    last = capsys.readouterr().err.strip().splitlines()[-1]
    total = sum("quartic-eq" in c.id for c in module.load_claims())
    assert last == (f"statmech-nn: interrupted: 2 of {total} claims done; run the same command to resume "
                    "(finished claims are kept in the cache)")


def test_a_warning_from_a_command_is_one_line(monkeypatch, capsys):
    """validate's "equilibrium not reached ... tracking starts anyway" came out as Python's two-line warning with
    a file path and a source line; every command's warnings are one line."""
    import statmech_nn.cli as cli

    monkeypatch.setattr(cli, "_run", lambda args: warnings.warn("equilibrium not reached", UserWarning, stacklevel=1))
    assert cli.main(["calibrate", "--list"]) == 0
    err = capsys.readouterr().err
    assert err == "statmech-nn: warning: equilibrium not reached\n"
