"""Every name a package serves on first use (``statmech_nn.lazy.lazy_exports``) resolves to an object of that
name, and ``from <package> import *`` works: a moved module must not leave a public name behind that raises."""

from __future__ import annotations

import inspect
from importlib import import_module
from pathlib import Path

import pytest

import statmech_nn

PACKAGE = Path(statmech_nn.__file__).parent


def _lazy_packages() -> list[str]:
    """The dotted names of the packages whose ``__init__`` serves lazy exports (found by reading the sources)."""
    found = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if "lazy_exports(" in init.read_text():
            parts = init.parent.relative_to(PACKAGE.parent).parts
            found.append(".".join(parts))
    return found


PACKAGES = _lazy_packages()


def exports_of(package: str) -> dict[str, str]:
    """{name: relative module} served by ``package``'s lazy ``__getattr__`` (read from its closure)."""
    module = import_module(package)
    return inspect.getclosurevars(module.__getattr__).nonlocals["exports"]


def test_the_packages_with_lazy_exports_are_found():
    assert {"statmech_nn", "statmech_nn.networks", "statmech_nn.quartic", "statmech_nn.scan"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_lazy_export_resolves(package):
    module = import_module(package)
    exports = exports_of(package)
    assert exports, package
    for name, target in exports.items():
        value = getattr(module, name)                    # imports the target module on first use
        assert value is getattr(import_module(f".{target}", package), name), f"{package}.{name}"
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute"):
        module.__getattr__("no_such_name")


@pytest.mark.parametrize("package", PACKAGES)
def test_star_import_works(package):
    namespace: dict = {}
    exec(f"from {package} import *", namespace)         # the statement under test
    names = getattr(import_module(package), "__all__", None)
    if names is not None:
        assert set(names) <= set(namespace), package
        assert set(names) <= set(exports_of(package)) | set(vars(import_module(package))), package
