"""Scan specs: what to compute per cell, over which grid (DESIGN: spec files; ``validation/scans/*.toml``).

A scan spec is a TOML file:

- ``[scan]``: ``task`` (a name of :data:`statmech_nn.scan.tasks.TASKS` or ``"package.module:function"``),
  ``chunk`` (cells per task for a batched task; default the task's own), ``name``, ``description``,
  ``boundaries`` (a list of ``{variable, level, label}``: contour lines drawn on the heatmaps where a phase
  boundary is defined), ``figures`` (the variables to draw; default every numeric one);
- ``[grid]``: ``"dotted.key" = "START:STOP:N[log]"`` or a list of values (the same grammar as ``--grid``,
  :class:`statmech_nn.params.GridAxis`);
- every other key or table is the base spec handed to the task; a grid axis sets its dotted key per cell
  (``training.lr`` is ``spec["training"]["lr"]``, ``n`` a top-level key).
- a network scan (``task = "network-soc"``) may have a ``replica`` axis (``replica = [0, 1, 2, 3]``): each cell
  trains that replica of ``training.seed``'s ensemble (or a block of ``training.replicas`` replicas from it) and
  keeps its run in the store; :mod:`.cell_runs` says how, :mod:`.ensemble` reads a point's replicas back as one.

A per-cell task is called as ``function(**spec_with_cell_values)`` and returns ``{name: scalar}`` or
``{name: (dims, small array)}``; a batched task gets the same call with every grid key holding a 1-D array of
the chunk's values, and returns ``{name: array}`` of that length (or ``(dims, array)`` with the cell dimension
first, named ``cell``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from ..io import read_toml
from ..params import GridAxis, require_budget

BYTES_PER_CELL = 8 * 24   # a cell's grid values, bookkeeping and results in the store, float64


@dataclass(frozen=True)
class ScanSpec:
    """A task, its base spec and its grid axes (in order: the Dataset's dimensions)."""

    task: str
    axes: tuple[GridAxis, ...]
    base: dict = field(default_factory=dict)
    chunk: int | None = None
    name: str = "scan"
    description: str = ""
    boundaries: tuple = ()
    figures: tuple | None = None
    path: str = ""

    def __post_init__(self):
        names = [axis.name for axis in self.axes]
        if not names:
            raise ParameterError("grid", "none", "at least one axis (a [grid] table or --grid)")
        if len(set(names)) != len(names):
            raise ParameterError("grid", names, "distinct keys")
        for axis in self.axes:
            _check_key(self.base, axis.name)
        if self.chunk is not None and (isinstance(self.chunk, bool) or not isinstance(self.chunk, int)
                                       or self.chunk < 1):
            raise ParameterError("scan.chunk", self.chunk, "a positive integer")

    @classmethod
    def load(cls, path, grid: list[str] | None = None, overrides: dict | None = None,
             confirmed: bool = False) -> ScanSpec:
        """Read a spec; ``grid`` (``--grid`` strings) replaces or adds axes; ``overrides`` sets dotted keys (one
        that is an axis of the spec's ``[grid]`` is pinned to the value: that axis is dropped). A grid beyond the
        memory budget is refused before its axes are made, unless ``confirmed`` (``--yes-large``)."""
        path = Path(path)
        tables = read_toml(path)
        return cls.from_dict(tables, grid, overrides, str(path), confirmed)

    @classmethod
    def from_dict(cls, tables: dict, grid: list[str] | None = None, overrides: dict | None = None,
                  path: str = "", confirmed: bool = False) -> ScanSpec:
        tables = copy.deepcopy(tables)
        header = tables.pop("scan", None)
        if not isinstance(header, dict) or "task" not in header:
            raise DataError(f"{path or 'scan spec'}: a [scan] table with a 'task' is required")
        unknown = sorted(set(header) - {"task", "chunk", "name", "description", "boundaries", "figures"})
        if unknown:
            raise DataError(f"{path or 'scan spec'}: unknown key(s) {unknown} in [scan]")
        table = tables.pop("grid", {})
        if not isinstance(table, dict):
            raise DataError(f"{path or 'scan spec'}: [grid] must be a table of KEY = 'START:STOP:N' or [values]")
        points = {key: len(value) if isinstance(value, list) else GridAxis.points(f"{key}={value}")
                  for key, value in table.items()}
        points.update({text.partition("=")[0].strip(): GridAxis.points(text) for text in grid or []})
        for key in overrides or {}:
            points.pop(key, None)
        cells = float(np.prod([float(n) for n in points.values()]))
        require_budget(f"the grid {' x '.join(f'{k} ({n})' for k, n in points.items())}", confirmed=confirmed,
                       memory=BYTES_PER_CELL * cells)
        axes = {key: GridAxis.from_values(key, value) if isinstance(value, list) else
                GridAxis.parse(f"{key}={value}", confirmed) for key, value in table.items()}
        command_line = set()
        for text in grid or []:
            axis = GridAxis.parse(text, confirmed)
            axes[axis.name] = axis
            command_line.add(axis.name)
        for key, value in (overrides or {}).items():
            if key in command_line:
                raise ParameterError("set", key, "a key that is not also a --grid axis")
            axes.pop(key, None)   # a value set for an axis of the spec's [grid] pins it: the axis is dropped
            set_key(tables, key, value)
        boundaries = tuple(dict(b) for b in header.get("boundaries", []))
        for boundary in boundaries:
            if "variable" not in boundary or "level" not in boundary:
                raise DataError(f"{path or 'scan spec'}: each boundary needs 'variable' and 'level'")
        figures = header.get("figures")
        return cls(task=str(header["task"]), axes=tuple(axes.values()), base=tables, chunk=header.get("chunk"),
                   name=str(header.get("name", Path(path).stem if path else "scan")),
                   description=str(header.get("description", "")), boundaries=boundaries,
                   figures=None if figures is None else tuple(figures), path=path)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(axis.values.size for axis in self.axes)

    @property
    def cells(self) -> int:
        return int(np.prod(self.shape))

    def cell_spec(self, index: tuple[int, ...]) -> dict:
        """The base spec with the grid values of the cell at ``index`` set at their keys."""
        spec = copy.deepcopy(self.base)
        for axis, i in zip(self.axes, index):
            set_key(spec, axis.name, _native(axis.values[i], _get_key(self.base, axis.name)))
        return spec

    def block_spec(self, indices: np.ndarray) -> dict:
        """The base spec with every grid key holding the 1-D array of its values over the cells ``indices``
        (flat indices into the grid): a batched task's arguments."""
        spec = copy.deepcopy(self.base)
        multi = np.unravel_index(indices, self.shape)
        for axis, i in zip(self.axes, multi):
            set_key(spec, axis.name, axis.values[i])
        return spec

    def to_dict(self) -> dict:
        return {"scan": {"task": self.task, "chunk": self.chunk, "name": self.name, "description": self.description,
                         "boundaries": list(self.boundaries), "figures": self.figures},
                "grid": {axis.name: axis.values.tolist() for axis in self.axes}, **self.base}


def _check_key(spec: dict, key: str) -> None:
    node = spec
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.get(part, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            raise ParameterError("grid", key, f"a key inside tables of the spec ('{part}' is not a table)")


def _get_key(spec: dict, key: str):
    node = spec
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_key(spec: dict, key: str, value) -> None:
    """``spec[a][b] = value`` for the dotted key ``a.b`` (tables created as needed)."""
    parts = key.split(".")
    node = spec
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ParameterError("grid", key, f"a key inside tables of the spec ('{part}' is not a table)")
    node[parts[-1]] = value


def _native(value, base):
    """A grid value as a plain Python value: an int where the base spec holds an int (batch sizes, widths)."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(base, int) and not isinstance(base, bool) and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
