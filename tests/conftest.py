"""Fixtures shared by several test modules."""

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
