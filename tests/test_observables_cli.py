"""``statmech-nn fit-powerlaw`` and ``statmech-nn analyze``: one code path for a sampler's and a network's run."""

import contextlib
import io
import json

import numpy as np
import pytest

from statmech_nn.cli import main
from statmech_nn.compare.overlay import join, predicted_densities
from statmech_nn.io import Trajectory, load_dataset
from statmech_nn.observables.powerlaw import fit_powerlaw, sample_powerlaw
from statmech_nn.quartic import QuarticModel

# increments with c = 0.1, s = 1, σ = 1 (see tests/test_fits.py)
TOY = dict(lambda_x=0.01, g=1.0, lambda_q=0.5, alpha=2.0, beta=1.0)
ROWS, COLUMNS = 6000, 3


@pytest.fixture(scope="module")
def innovations():
    return QuarticModel(**TOY).marginal().rvs((ROWS, COLUMNS), random_state=0)


def _ar1(noise, phi):
    q = np.zeros_like(noise)
    for t in range(1, noise.shape[0]):  # one step per row of a short test series
        q[t] = phi * q[t - 1] + noise[t]
    return q


@pytest.fixture(scope="module")
def sampler_run(tmp_path_factory, innovations):
    """As a sampler writes it: independent chains as columns of one trajectory, a Langevin-like AR(1)."""
    run = tmp_path_factory.mktemp("sampler")
    Trajectory(q=_ar1(innovations, 0.995), t=np.arange(ROWS), names=[f"q[{i}]" for i in range(COLUMNS)],
               chain=np.arange(COLUMNS), source="sampler:ar1", parameters=TOY, seed=0).save(
        run / "trajectory.h5")
    return run


@pytest.fixture(scope="module")
def network_run(tmp_path_factory, innovations):
    """As a trainer writes it: named weights in float32, recorded every 10 steps, with neuron outputs x."""
    run = tmp_path_factory.mktemp("network")
    rng = np.random.default_rng(1)
    weights = (0.05 + 1e-3 * np.cumsum(innovations, axis=0)).astype(np.float32)
    outputs = np.c_[rng.normal(0, 1, 3000), np.where(rng.random(3000) < 0.5, -2.0, 2.0) + rng.normal(0, 0.5, 3000)]
    Trajectory(q=weights, t=np.arange(ROWS) * 10, names=["0.weight[3,4]", "0.weight[0,7]", "2.bias[1]"], chain=None,
               source="network:mlp", x=outputs).save(run / "trajectory.h5")
    return run


def _run(capsys, argv):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_fit_powerlaw_prints_exactly_the_documented_keys(tmp_path, capsys):
    data = np.abs(np.random.default_rng(2).standard_t(1.5, 3000))
    (tmp_path / "values.txt").write_text("\n".join(map(repr, data.tolist())))
    np.save(tmp_path / "values.npy", data)
    expected = fit_powerlaw(data).to_dict()
    for name in ("values.txt", "values.npy"):
        status, out, _ = _run(capsys, ["fit-powerlaw", str(tmp_path / name), "--json"])
        payload = json.loads(out)
        assert status == 0 and set(payload) == {"alpha", "xmin", "sigma", "D", "ntail", "n"}
        assert payload == pytest.approx(expected, rel=1e-12)


def test_fit_powerlaw_options(tmp_path, capsys):
    counts = sample_powerlaw(2.2, 3.0, 4000, discrete=True, seed=3)
    (tmp_path / "counts.txt").write_text(" ".join(str(int(v)) for v in counts))
    status, out, _ = _run(capsys, ["fit-powerlaw", str(tmp_path / "counts.txt"), "--discrete", "--xmin", "3", "--json",
                                   "--gof", "20", "--compare"])
    payload = json.loads(out)
    assert status == 0 and payload["xmin"] == 3 and abs(payload["alpha"] - 2.2) < 5 * payload["sigma"]
    assert 0 <= payload["gof_p"] <= 1 and set(payload["compare"]) == {"lognormal", "exponential", "truncated_power_law"}
    status, out, _ = _run(capsys, ["fit-powerlaw", str(tmp_path / "counts.txt")])
    assert status == 0 and out.startswith("alpha = ")


@pytest.mark.parametrize("content, message", [(None, "no such file"), ("1 2 x", "does not hold numbers"),
                                              ("1 -2 3", ">= 0"), ("1.5 2 3", "integer")])
def test_fit_powerlaw_bad_input_is_one_line_and_status_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    if content is not None:
        path.write_text(content)
    argv = ["fit-powerlaw", str(path)] + (["--discrete"] if message == "integer" else [])
    status, out, err = _run(capsys, argv)
    assert status == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.fixture(scope="module")
def analyzed(sampler_run, network_run, tmp_path_factory):
    """Both runs through ``statmech-nn analyze --json`` (figures drawn for the network run only, to save time)."""
    results = {}
    for label, run, extra in (("sampler", sampler_run, ["--no-figures"]), ("network", network_run, [])):
        out = tmp_path_factory.mktemp(f"analysis-{label}")
        buffer = io.StringIO()  # a module-scoped fixture cannot use capsys
        with contextlib.redirect_stdout(buffer):
            status = main(["analyze", str(run), "--out", str(out), "--json", *extra])
        results[label] = (status, json.loads(buffer.getvalue()), out)
    return results


@pytest.mark.slow
def test_analyze_serves_a_sampler_and_a_network_with_one_code_path(analyzed):
    datasets = {}
    for label, (status, _summary, out) in analyzed.items():
        assert status == 0
        datasets[label] = load_dataset(out / "observables.nc")
        fits = json.loads((out / "fits.json").read_text())
        assert [row["name"] for row in fits["columns"]] == list(datasets[label]["name"].values)
    out = analyzed["network"][2]
    for figure in ("fig1_outputs", "fig2_fluctuations", "fig3_powerlaw", "fig3_gaussian", "fig4_spectrum"):
        assert (out / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sampler, network = datasets["sampler"], datasets["network"]
    # same variables with the same dimensions: the network adds only its neuron-output observables
    shared = {name: sampler[name].dims for name in sampler.data_vars}
    assert all(network[name].dims == dims for name, dims in shared.items())
    assert set(network.data_vars) - set(sampler.data_vars) <= {"delta_bic", "ashman_d", "modes", "bimodal",
                                                               "output_means", "output_sds", "output_weights"}
    assert list(network["name"].values) == ["0.weight[3,4]", "0.weight[0,7]", "2.bias[1]"]
    assert network.attrs["steps_per_row"] == 10 and network["frequency"].attrs["units"] == "1/step"
    # the fitted exponent 2s of the toy increments (2s = 2) in both, whatever the scale of q
    for ds in datasets.values():
        assert np.all(np.abs(ds["fit_exponent"].values - 2.0) < 5 * ds["fit_exponent_err"].values)
    summaries = {label: result[1] for label, result in analyzed.items()}
    assert summaries["network"]["outputs_bimodal"] == 1 and summaries["network"]["outputs_tested"] == 2
    # every sampler column is fitted; the AR(1) pull (-0.005 q per step) makes its increments not exactly eq. (6),
    # so the binned chi2 may reject one (status misfit, compare.columns) rather than resolve it
    counts = summaries["sampler"]["headline"]["status_counts"]
    assert summaries["sampler"]["n_columns"] == COLUMNS and counts["resolved"] + counts["misfit"] == COLUMNS


@pytest.mark.slow
def test_predictions_are_joins_on_the_measured_bins(analyzed):
    """Predicted bin averages share the measured coordinates; the theory's agree with the data (|pull| < 5)."""
    ds = load_dataset(analyzed["sampler"][2] / "observables.nc")
    fitted = [v for v in ds.data_vars if v.startswith("fit_")]
    table = ds[fitted].rename({v: v[4:] for v in fitted})
    predicted = predicted_densities(ds, table)
    np.testing.assert_allclose(predicted["density_abs"].values, ds["predicted_density_abs"].values, equal_nan=True)
    joined = join(ds, predicted)
    assert list(joined["model"].values) == ["data", "theory", "gaussian", "student_t", "power_law"]
    data, theory = joined["density_abs"].sel(model="data"), joined["density_abs"].sel(model="theory")
    enough = ds["count_abs"] >= 50
    pulls = ((data - theory) / ds["density_abs_err"]).where(enough)
    assert float(np.nanmax(np.abs(pulls))) < 5


def test_analyze_bad_input_is_one_line_and_status_2(tmp_path, sampler_run, capsys):
    status, _, err = _run(capsys, ["analyze", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert status == 2 and "trajectory.h5" in err and err.count("\n") == 1
    status, _, err = _run(capsys, ["analyze", str(sampler_run), "--out", str(tmp_path / "o"), "--high-band", "0.1"])
    assert status == 2 and "LO:HI" in err
