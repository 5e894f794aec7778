"""``statmech-nn cw`` and ``statmech-nn hs``: JSON contracts, run directories, one-line errors with status 2."""

import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.io import load_dataset, read_json
from statmech_nn.meanfield import CurieWeiss, GeneralCouplings, LayerSpinModel
from statmech_nn.scan.meanfield_tasks import cw_phase_diagram, hs_scan, layer_curves

CW_KEYS = {"m", "m_abs", "chi", "free_energy_per_spin"}


def run_json(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


def run_error(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err


def test_cw_exact_query_as_written_in_the_issue(capsys):
    payload = run_json(capsys, ["cw", "--n", "1000", "--beta", "1.25", "--j", "1", "--b", "0.01", "--method", "exact",
                                "--json"])
    assert set(payload) == CW_KEYS
    exact = CurieWeiss(1.0, 0.01).exact(1000, 1.25)
    assert payload["m"] == pytest.approx(exact.m, rel=1e-12) and payload["chi"] == pytest.approx(exact.chi, rel=1e-12)


def test_cw_query_subcommand_mean_field_and_details(capsys):
    payload = run_json(capsys, ["cw", "query", "--beta", "1.25", "--b", "0.02", "--method", "mean-field", "--json",
                                "--details"])
    assert set(payload) == CW_KEYS | {"details"}
    assert [s["stability"] for s in payload["details"]["solutions"]] == ["metastable", "unstable", "stable"]
    assert payload["m"] == pytest.approx(CurieWeiss(1.0, 0.02).mean_field(1.25).m, rel=1e-14)


def test_cw_monte_carlo_query(capsys):
    payload = run_json(capsys, ["cw", "--n", "60", "--beta", "0.6", "--b", "0.2", "--method", "mc", "--sweeps", "400",
                                "--seed", "3", "--json"])
    assert set(payload) == CW_KEYS
    exact = CurieWeiss(1.0, 0.2).exact(60, 0.6)
    assert payload["m"] == pytest.approx(exact.m, abs=0.03)
    assert payload["free_energy_per_spin"] == pytest.approx(exact.free_energy_per_spin, abs=0.01)


@pytest.mark.slow
def test_cw_phase_diagram_writes_a_run_directory(tmp_path, capsys):
    out = tmp_path / "pd"
    payload = run_json(capsys, ["cw", "phase-diagram", "--out", str(out), "--n", "200", "--t", "0.5:1.5:6",
                                "--b=-0.2:0.2:5", "--json"])
    dataset = load_dataset(payload["netcdf"])
    assert dict(dataset.sizes) == {"T": 6, "b": 5}
    assert {"mf_m", "mf_m_metastable", "exact_m_abs", "spinodal_b"} <= set(dataset.data_vars)
    assert dataset["T"].attrs["units"] == "J/k_B"
    library = cw_phase_diagram(np.linspace(0.5, 1.5, 6), np.linspace(-0.2, 0.2, 5), 1.0, 200)
    for name in ("mf_m", "mf_chi", "exact_m_abs", "exact_chi", "spinodal_b"):
        np.testing.assert_allclose(dataset[name], library[name], rtol=1e-12, err_msg=name)
    assert (out / "figures" / "phase_diagram.png").stat().st_size > 1000
    run = read_json(out / "run.json")
    assert run["command"][:3] == ["statmech-nn", "cw", "phase-diagram"]
    # run.json alone re-runs the command (replacing the run only when asked)
    capsys.readouterr()
    assert main(run["command"][1:]) == 2 and "already holds a run" in capsys.readouterr().err
    assert main(run["command"][1:] + ["--overwrite"]) == 0


@pytest.fixture
def weights_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "W.npy"
    np.save(path, 1.0 + rng.normal(size=(12, 12)))
    return path


def test_hs_query_as_written_in_the_issue(capsys, weights_file):
    payload = run_json(capsys, ["hs", "--weights", str(weights_file), "--beta", "1.5", "--h", "0.05", "--json"])
    assert set(payload) == {"m", "V", "chi", "Tc", "free_energy", "solutions"}
    model = GeneralCouplings(np.load(weights_file), 0.05)
    points = model.saddle_points(1.5)
    np.testing.assert_allclose(payload["V"], points.V, atol=1e-12)
    assert payload["m"] == pytest.approx(np.mean(payload["V"]))
    assert payload["Tc"] == pytest.approx(model.critical_temperature) and payload["solutions"] == points.count
    detailed = run_json(capsys, ["hs", "query", "--weights", str(weights_file), "--beta", "1.5", "--h", "0.05",
                                 "--details", "--json"])
    assert len(detailed["details"]["solutions"]) == payload["solutions"]
    assert detailed["details"]["one_loop"] < 0


@pytest.mark.slow
def test_hs_scan_and_layer_write_netcdf_and_figures(tmp_path, capsys, weights_file):
    scan = run_json(capsys, ["hs", "scan", "--weights", str(weights_file), "--out", str(tmp_path / "scan"),
                             "--t", "0.3:2:5", "--h=-0.1:0.1:3", "--json"])
    scanned = load_dataset(scan["netcdf"])
    assert dict(scanned.sizes) == {"T": 5, "h": 3}
    library = hs_scan(GeneralCouplings(np.load(weights_file)), np.linspace(0.3, 2, 5), np.linspace(-0.1, 0.1, 3))
    for name in ("m", "chi", "free_energy", "solutions"):
        np.testing.assert_allclose(scanned[name], library[name].transpose(*scanned[name].dims), rtol=1e-9,
                                   err_msg=name)
    rng = np.random.default_rng(1)
    np.save(tmp_path / "w.npy", rng.normal(0, 0.5, (5, 8)))
    np.save(tmp_path / "c.npy", rng.normal(0, 0.5, 5))
    layer = run_json(capsys, ["hs", "layer", "--weights", str(tmp_path / "w.npy"), "--bias", str(tmp_path / "c.npy"),
                              "--t", "0.2:3:8", "--out", str(tmp_path / "layer"), "--json"])
    assert layer["n_in"] == 8 and layer["n_out"] == 5 and layer["beta_c"] == pytest.approx(1 / layer["Tc"])
    assert (tmp_path / "layer" / "figures" / "layer_curves.png").exists()
    curves = load_dataset(layer["netcdf"])
    assert dict(curves.sizes) == {"T": 8}
    model = LayerSpinModel.from_layer(np.load(tmp_path / "w.npy"), np.load(tmp_path / "c.npy"))
    assert layer["Tc"] == pytest.approx(model.critical_temperature, rel=1e-12)
    assert layer["m"] == pytest.approx(model.report()["m"], rel=1e-9)
    library = layer_curves(model, np.linspace(0.2, 3, 8))
    for name in ("m", "m_in", "m_out", "chi_mode"):
        np.testing.assert_allclose(curves[name], library[name], rtol=1e-9, err_msg=name)
    assert layer["t_chi_peak"] == library.attrs["t_chi_peak"]


@pytest.mark.parametrize("argv,needle", [
    (["cw", "--n", "10", "--json"], "beta"),
    (["cw", "--n", "0", "--beta", "1"], "n=0"),
    (["cw", "--beta", "1", "--method", "exact"], "n=None"),
    (["cw", "--n", "10", "--beta", "1", "--method", "magic"], "invalid choice"),
    (["cw", "phase-diagram", "--out", "x", "--t", "1:2"], "grid"),
    (["cw", "--n", "10", "--beta", "1", "--method", "mc", "--sweeps", "3"], "sweeps"),
    (["hs", "--beta", "1"], "weights"),
    (["hs", "--weights", "/nonexistent/W.npy", "--beta", "1"], "no such file"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    assert needle in run_error(capsys, argv)


def test_bad_matrices_exit_2(tmp_path, capsys):
    np.save(tmp_path / "rect.npy", np.ones((3, 4)))
    assert "square" in run_error(capsys, ["hs", "--weights", str(tmp_path / "rect.npy"), "--beta", "1"])
    (tmp_path / "junk.npy").write_text("not an array")
    assert "junk.npy" in run_error(capsys, ["hs", "--weights", str(tmp_path / "junk.npy"), "--beta", "1"])
    np.save(tmp_path / "w.npy", np.ones((3, 4)))
    np.save(tmp_path / "c.npy", np.ones(2))
    assert "bias" in run_error(capsys, ["hs", "layer", "--weights", str(tmp_path / "w.npy"), "--bias",
                                        str(tmp_path / "c.npy")])


def test_hs_query_with_the_slides_bias_unit(tmp_path, capsys):
    rng = np.random.default_rng(2)
    n, h = 8, 0.2
    extended = np.zeros((n + 1, n + 1))
    extended[1:, 1:] = 1.0 + rng.normal(size=(n, n))
    extended[1:, 0] = 2 * n * h
    np.save(tmp_path / "Wext.npy", extended)
    payload = run_json(capsys, ["hs", "--weights", str(tmp_path / "Wext.npy"), "--bias-unit", "--beta", "0.8",
                                "--json"])
    reference = GeneralCouplings(extended[1:, 1:], h).saddle_points(0.8)
    assert len(payload["V"]) == n
    np.testing.assert_allclose(payload["V"], reference.V, atol=1e-12)
