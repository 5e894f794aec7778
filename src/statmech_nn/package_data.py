"""The spec files shipped inside the package (DESIGN: ``data/``), found by name or path from any directory.

``statmech_nn/data/`` holds ``models/*.toml``, ``validation/closed_forms/*.toml`` (the claims of
``statmech-nn check``), ``validation/experiments/*.toml`` (the protocols of ``statmech-nn validate``) and
``validation/scans/*.toml`` and ``calibration/verdicts.json`` (the shipped calibration table, the output of
``statmech-nn calibrate --json``: :func:`calibration_table`); it is package data, so a wheel carries it (read
with :mod:`importlib.resources`).

:func:`find_spec` turns what a user types into a file: a file on disk first (relative to the working
directory), else the same relative path inside the package data (``models/quartic.toml``,
``validation/experiments/soc_mnist.toml``), else a name of its kind (``quartic``, ``soc_mnist``,
``soc_mnist.toml``).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from .errors import DataError

# kind -> its folder inside the package data
KINDS = {"model": "models", "experiment": "validation/experiments", "claims": "validation/closed_forms",
         "scan": "validation/scans"}
CALIBRATION_TABLE = "calibration/verdicts.json"


def data_root() -> Path:
    """``statmech_nn/data`` of the installed package (a folder on disk)."""
    root = resources.files("statmech_nn") / "data"
    if not isinstance(root, Path):
        raise DataError(f"statmech_nn's package data is not a folder on disk ({root}); install the package unzipped")
    return root


def data_dir(kind: str) -> Path:
    """The folder of the package data that holds the spec files of ``kind`` (one of :data:`KINDS`)."""
    return data_root() / KINDS[kind]


def spec_names(kind: str) -> list[str]:
    """The names (file stems) of the shipped spec files of ``kind``."""
    folder = data_dir(kind)
    return sorted(path.stem for path in folder.glob("*.toml")) if folder.is_dir() else []


def find_spec(name: str | os.PathLike, kind: str) -> Path:
    """The spec file ``name`` means: a file on disk, else the package data's file at that relative path, else
    the shipped spec of ``kind`` of that name (``.toml`` optional); a DataError listing the shipped names otherwise."""
    typed = Path(name)
    if typed.is_file():
        return typed
    if typed.parts and not typed.is_absolute() and ".." not in typed.parts:
        relative = typed if typed.suffix == ".toml" else typed.with_name(typed.name + ".toml")
        shipped = (data_dir(kind) if len(typed.parts) == 1 else data_root()) / relative
        if shipped.is_file():
            return shipped
    raise DataError(f"no {kind} spec {str(name)!r}: not a file, nor a shipped {kind} spec "
                    f"(names: {', '.join(spec_names(kind)) or 'none'})")


def calibration_table() -> dict | None:
    """The shipped calibration table (``statmech-nn calibrate --json`` output: ``rows`` per verdict and
    scenario, with ``replicates``, ``seed``, ``size``), or None when the package ships none."""
    path = data_root() / CALIBRATION_TABLE
    if not path.is_file():
        return None
    try:
        table = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not a calibration table ({exc})") from None
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        raise DataError(f"{path}: a calibration table is a JSON object with a list of rows")
    return table
