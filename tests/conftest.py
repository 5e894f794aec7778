"""Fixtures shared by several test modules, and the rule of the two test tiers.

``make test-fast`` runs ``pytest -m "not slow"`` (every module's unit tests, < 2 min on 2 cores); ``make test``
runs everything, the ``slow`` tests included (< 10 min on 2 cores; what CI runs). A test is marked ``slow`` when
it does one of these:

- runs a command in a subprocess (``python -m statmech_nn``, bash, pip; a bare ``python -c`` import probe is
  cheap and stays fast), starts a process pool or a Dask cluster, or kills a process;
- trains a network beyond a few steps, or uses a module fixture that does (a trained or sampled run directory);
- runs ``validate``, an end-to-end command chain, a calibration battery (planted sets held to their design
  rates or nominal sizes) or an install;
- compares with a reference package on its full data sets (``powerlaw`` fits);
- costs more than about 2 CPU-seconds of its own (its call plus the fixtures only it uses), as measured by
  ``pytest -m "not slow" -n 0 --durations=30`` relative to its neighbours.

Every module under ``src/`` keeps at least one fast test of its own functions: a test moves to ``slow`` only
while a cheaper test of the same module stays fast (a cheaper parameter case, a unit test of the same function,
or the module's bad-input tests). Mark the narrowest thing: one parameter case
(``pytest.param(..., marks=pytest.mark.slow)``), one test (``@pytest.mark.slow``), or a whole file
(``pytestmark = pytest.mark.slow``) only where another file keeps that module's fast tests. Nothing slow is
skipped: ``make test`` runs it. Expensive fixtures are module- or session-scoped (``validate_once`` below).
"""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Batch-1 steps and small forward passes: torch's OpenMP threads only add waiting on a shared 2-core machine.

    Modules that train or probe networks use it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def validate_once(tmp_path_factory):
    """``validate_once(name, spec_text)`` -> (exit status, spec path, run directory) of ``statmech-nn validate``
    on that spec, run once per test session (per pytest-xdist worker; ``make test`` sends a file to one worker):
    tests of the main job read the one run instead of each running it."""
    from statmech_nn.cli import main

    runs: dict = {}

    def validate(name: str, text: str):
        if name not in runs:
            root = tmp_path_factory.mktemp(f"validate-{name}")
            spec = root / f"{name}.toml"
            spec.write_text(text)
            out = root / "out"
            runs[name] = (main(["validate", str(spec), "--out", str(out), "--json"]), spec, out)
        status, spec, out = runs[name]
        assert spec.read_text() == text, f"{name}: one spec text per name"
        return runs[name]

    return validate
