"""The package's names (issue 21 item 1): no two modules under src/ share a name, and no class is named like a
module it has nothing to do with, so that a name (``chains``, ``claims``, ``hessian``) says where to look."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import statmech_nn

PACKAGE = Path(statmech_nn.__file__).parent

# classes whose snake_case name is another module's name on purpose: that module is about this class
RELATED = {
    "Dynamics": "compare/dynamics.py",                 # io.Dynamics (the run header's record) and what it changes
    "Analysis": "compare/analysis.py",                 # report's Analysis subclasses compare.analysis.Analysis
    "Reference": "linearized/reference.py",            # sampling.summary.Reference, which that quadrature fills
}


def _module_names() -> dict[str, list[str]]:
    """Each module's or package's name -> where it is (relative to the package; __init__ and __main__ aside)."""
    names = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name == "__init__.py":
            if path.parent != PACKAGE:
                names[path.parent.name].append(relative)
        elif path.name != "__main__.py":
            names[path.stem].append(relative)
    return names


def test_no_two_modules_share_a_name():
    names = _module_names()
    assert "chains" in names and "sampling/chains.py" in names["chains"]  # the walk sees the tree
    twins = {name: places for name, places in names.items() if len(places) > 1}
    assert not twins, f"modules (or packages) of the same name: {twins}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_no_class_named_like_another_module():
    names = _module_names()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if not isinstance(node, ast.ClassDef):
                continue
            places = [p for p in names.get(_snake(node.name).lstrip("_"), []) if p != relative]
            if places and RELATED.get(node.name) not in places:
                found.append(f"class {node.name} in {relative}, module {places}")
    assert not found, found
