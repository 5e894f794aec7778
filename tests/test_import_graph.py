"""DESIGN's import direction, enforced: a module imports only from its own layer, from layers to its left and
from the shared core; nothing analytic (nor the comparison layer) imports torch.

The rule is data: :data:`LAYERS` maps each top-level module or package of ``statmech_nn`` to its layer
(a new package is one line there). Imports are read with ``ast`` from every module's source, including
imports inside functions, so that a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import statmech_nn

PACKAGE = Path(statmech_nn.__file__).parent

CORE, ANALYTIC, SOURCES, COMPARISON, FRONT = range(5)
LAYER_NAMES = {CORE: "shared core", ANALYTIC: "analytic models", SOURCES: "sources of data",
               COMPARISON: "comparison", FRONT: "front ends"}
LAYERS = {
    "__init__": CORE, "errors": CORE, "params": CORE, "io": CORE, "rng": CORE, "autocorrelation": CORE,
    "runs": CORE, "distributions": CORE, "patterns": CORE, "checks": CORE, "package_data": CORE,
    "lazy": CORE, "inputs": CORE,
    "quartic": ANALYTIC, "linearized": ANALYTIC, "meanfield": ANALYTIC, "gates": ANALYTIC,
    "sampling": SOURCES, "networks": SOURCES,
    "observables": COMPARISON, "compare": COMPARISON,
    "report": FRONT, "scan": FRONT, "experiments": FRONT, "cli": FRONT, "__main__": FRONT,
}
NO_TORCH = {ANALYTIC, COMPARISON, CORE}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: Path) -> list[str]:
    """statmech_nn/sampling/chains.py -> ['statmech_nn', 'sampling', 'chains']; a package's __init__ is the package."""
    parts = ["statmech_nn", *path.relative_to(PACKAGE).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" and len(parts) > 2 else parts


def _owner(parts: list[str]) -> str:
    """The entry of LAYERS a module of statmech_nn belongs to."""
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in the module at ``path`` (relative imports resolved)."""
    here = _dotted(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            # `from . import figures` names a module: resolve it, so that its owner is known
            found += [(node.lineno, f"{module}.{alias.name}" if not node.module else module) for alias in node.names]
    return found


def test_every_module_has_a_layer():
    owners = {_owner(_dotted(path)) for path in _modules()}
    assert owners <= set(LAYERS), f"add to LAYERS: {sorted(owners - set(LAYERS))}"


def test_the_reader_resolves_relative_imports():
    """The parser itself, on a module whose imports are known (a test that can fail if the resolution breaks)."""
    names = {name for _, name in imports_of(PACKAGE / "sampling" / "chains.py")}
    assert {"statmech_nn.errors", "statmech_nn.io", "statmech_nn.params", "numpy"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_left(path):
    owner = _owner(_dotted(path))
    layer = LAYERS[owner]
    wrong = []
    for line, name in imports_of(path):
        parts = name.split(".")
        if parts[0] == "torch" and layer in NO_TORCH:
            wrong.append(f"line {line}: imports torch in the {LAYER_NAMES[layer]} layer")
        if parts[0] != "statmech_nn" or len(parts) < 2:
            continue
        target = _owner(parts)
        if target not in LAYERS:
            target = "__init__"        # `from statmech_nn import __version__`
        if LAYERS[target] > layer:
            wrong.append(f"line {line}: {owner} ({LAYER_NAMES[layer]}) imports {name} "
                         f"({LAYER_NAMES[LAYERS[target]]}), a layer to its right")
    assert not wrong, f"{path.relative_to(PACKAGE)}: " + "; ".join(wrong)
