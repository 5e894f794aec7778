"""The package works installed, away from the source tree: the wheel carries the shipped specs, claims and
models (package data) and the LICENSE; installed into a fresh venv, `statmech-nn` runs from another directory.

The fresh venv gets the dependencies (numpy, torch, ...) by one plain path line to the site-packages that
holds this interpreter's numpy: a plain line, so the ``.pth`` files there (the editable install of the
source tree) are not processed; the test asserts that ``statmech_nn`` is imported from the new venv.
"""

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy
import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ["statmech_nn/data/models/quartic.toml", "statmech_nn/data/models/linearized_small.toml",
           "statmech_nn/data/validation/closed_forms/quartic.toml",
           "statmech_nn/data/validation/experiments/soc_digits.toml"]


def _run(argv, cwd, timeout=300, check=True):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, (argv, result.stdout[-2000:], result.stderr[-2000:])
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder of a fresh venv holding the wheel built from this checkout, a directory outside the tree)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"   # a copy, so that the build leaves nothing (build/, *.egg-info) in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(wheels), str(source)], cwd=root)
    wheel, = wheels.glob("statmech_nn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert set(SHIPPED) <= set(names), sorted(n for n in names if "data/" in n)
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=root)
    site = Path(purelib.stdout.strip())
    (site / "_dependencies.pth").write_text(str(Path(numpy.__file__).resolve().parents[1]) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
         cwd=root)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return env_dir / "bin", elsewhere


@pytest.mark.slow
def test_the_installed_package_runs_from_another_directory(installed):
    bin_dir, elsewhere = installed
    where = _run([str(bin_dir / "python"), "-c", "import statmech_nn; print(statmech_nn.__file__)"], cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent), where.stdout
    cli = str(bin_dir / "statmech-nn")

    claims = json.loads(_run([cli, "check", "--select", "quartic", "--json"], cwd=elsewhere).stdout)
    assert len(claims["claims"]) >= 8 and claims["all_as_expected"]
    assert all(Path(c["file"]).name == c["file"] for c in claims["claims"])

    by_name = _run([cli, "quartic", "boundaries", "--model", "quartic", "--json"], cwd=elsewhere).stdout
    by_path = _run([cli, "quartic", "boundaries", "--model", "models/quartic.toml", "--json"], cwd=elsewhere).stdout
    assert json.loads(by_name) == json.loads(by_path)
    pdf = json.loads(_run([cli, "quartic", "pdf", "--model", "quartic", "--q", "0", "1", "--json"],
                          cwd=elsewhere).stdout)
    assert len(pdf["pdf"]) == 2 and all(p > 0 for p in pdf["pdf"])

    assert "soc_digits" in _run([cli, "validate", "--help"], cwd=elsewhere).stdout
    refused = _run([cli, "validate", "no_such_protocol"], cwd=elsewhere, check=False)
    assert refused.returncode == 2 and "soc_mnist5k" in refused.stderr and "Traceback" not in refused.stderr
    assert not any(elsewhere.iterdir())   # nothing written where it ran
