"""Shipped specs (models, claims, protocols) are package data, found by name or by path from any directory."""

import json

import pytest

from statmech_nn.cli import main
from statmech_nn.errors import DataError
from statmech_nn.package_data import KINDS, data_dir, data_root, find_spec, spec_names


def test_every_kind_of_spec_is_shipped_inside_the_package():
    import statmech_nn

    assert data_root().parent.resolve() == __import__("pathlib").Path(statmech_nn.__file__).parent.resolve()
    assert {"quartic", "curie_weiss", "linearized_small"} <= set(spec_names("model"))
    assert ({"soc_digits", "soc_mnist5k", "soc_mnist", "criticality_cifar10", "plasticity_digits"}
            <= set(spec_names("experiment")))
    assert {"quartic", "meanfield", "gates", "hessian"} <= set(spec_names("claims"))
    assert set(KINDS) >= {"model", "experiment", "claims", "scan"}


@pytest.mark.parametrize("typed, kind, expected", [
    ("soc_mnist", "experiment", "validation/experiments/soc_mnist.toml"),
    ("soc_mnist.toml", "experiment", "validation/experiments/soc_mnist.toml"),
    ("validation/experiments/soc_mnist.toml", "experiment", "validation/experiments/soc_mnist.toml"),
    ("quartic", "model", "models/quartic.toml"),
    ("models/quartic.toml", "model", "models/quartic.toml"),
    ("linearized_small", "model", "models/linearized_small.toml"),
])
def test_names_and_repository_paths_resolve_from_any_directory(tmp_path, monkeypatch, typed, kind, expected):
    monkeypatch.chdir(tmp_path)
    assert find_spec(typed, kind) == data_root() / expected


def test_a_file_on_disk_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "quartic.toml").write_text("[parameters]\n")
    expected = tmp_path.joinpath("models", "quartic.toml").relative_to(tmp_path)
    assert find_spec("models/quartic.toml", "model") == expected


@pytest.mark.parametrize("typed", ["no_such_spec", "/nonexistent/quartic.toml", "../models/quartic.toml", "",
                                   "validation/experiments/quartic.toml"])
def test_unknown_specs_are_refused_naming_the_shipped_ones(tmp_path, monkeypatch, typed):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="names: curie_weiss, linearized_small, quartic"):
        find_spec(typed, "model")


def test_the_cli_finds_models_and_claims_from_another_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    outputs = []
    for model in ("quartic", "quartic.toml", "models/quartic.toml", str(data_dir("model") / "quartic.toml")):
        assert main(["quartic", "boundaries", "--model", model, "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert all(o == outputs[0] for o in outputs)
    assert main(["check", "--select", "quartic-eq4-free", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["all_as_expected"]


def test_validate_names_a_spec(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "no_such_protocol"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "soc_digits" in err and "soc_mnist5k" in err
    # a shipped spec by name is found: what fails next is its data (MNIST files), not the spec
    assert main(["validate", "soc_mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing data file" in err and "train-images-idx3-ubyte" in err
