"""Names of a package imported on first use (PEP 562), so that importing the package stays light.

``__getattr__, __dir__ = lazy_exports(__name__, {"name": "module", ...})`` in a package's ``__init__`` makes
``package.name`` import ``package.module`` (a module path relative to the package) when it is first asked for:
the command line does not import torch, and a scan worker that runs the quartic kernel imports neither sympy
nor the scan engine's xarray and Zarr.
"""

from __future__ import annotations

import sys
from importlib import import_module


def lazy_exports(package: str, exports: dict[str, str]):
    """A module ``__getattr__`` and ``__dir__`` for ``package`` serving ``exports`` ({name: relative module})."""

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f".{exports[name]}", package), name)

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
