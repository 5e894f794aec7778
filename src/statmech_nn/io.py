"""The shared file contracts (DESIGN: contracts): Trajectory and its run header (HDF5), labelled results (NetCDF),
run directories.

Every source of data (a sampler, a trained network, the public tracker) writes a :class:`Trajectory`; every
observable reads one. The file ``trajectory.h5`` holds

- ``q``: (time, K) float, the trainable variables;
- ``t``: (time,) int64, the step index of each row;
- ``names``: (K,) strings, which variable each column is;
- ``chain``: (K,) int64, which independent chain each column belongs to (0 when one);
- ``x`` (optional): (samples, N) float, samples of the non-trainable variables;
- the **run header** (:class:`RunHeader`) as attributes: ``source`` (a string), ``model`` (a plain JSON object:
  the model's or configuration's parameters), ``dynamics`` (a plain JSON object: the fields of
  :class:`Dynamics`, null where not known), ``seed`` (an integer; absent when none) and ``version`` (the writer's
  package version);
- any further attributes: free-form metadata (numbers, strings, or JSON prefixed ``json:``). The analysis reads
  the header and nothing else.

Files written before the header existed (attributes ``parameters`` and ``step_size`` instead of ``model`` and
``dynamics``) are read by a documented fallback, :meth:`Dynamics.from_legacy`: ``parameters`` (a ``json:`` or a
plain JSON object) is the model; the dynamics are taken from the keys ``optimizer``/``method``, ``lr``,
``momentum``, ``weight_decay``, ``batch_size``, ``dt``, ``epsilon``, ``integrator`` of ``parameters``, then of the
metadata, with ``step_size`` as the learning rate (networks) or dt (samplers); what none of them records stays
unknown (None). A header that is present but malformed is a :class:`~statmech_nn.errors.DataError` naming the
attribute, as is a non-numeric ``q`` or ``t``.

It is appended in chunks and flushed after each one, so a killed run loses at most its last chunk;
:meth:`TrajectoryWriter.open_existing` truncates back to a checkpoint so a resumed run continues
exactly.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

from . import __version__
from .errors import DataError, ParameterError
from .params import jsonable, require_int, require_nonnegative, require_positive

TRAJECTORY_FILE = "trajectory.h5"
RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
OBSERVABLES_FILE = "observables.nc"
REPORT_FILE = "report.html"
FIGURES_DIR = "figures"

_HEADER_ATTRS = ("source", "model", "dynamics", "seed", "version")
_LEGACY_ATTRS = ("parameters", "step_size")   # the header of files written before RunHeader
_RESERVED_ATTRS = _HEADER_ATTRS + _LEGACY_ATTRS

OPTIMIZER_KINDS = ("sgd", "adam", "adamw", "other")          # networks (the torch optimizer's class)
SAMPLER_KINDS = ("langevin", "mala", "mh", "exact", "heat-bath")   # samplers (the method)
DYNAMICS_KINDS = OPTIMIZER_KINDS + SAMPLER_KINDS + ("unknown",)


@dataclass(frozen=True)
class Dynamics:
    """How a source moved its variables from one row to the next (DESIGN: the run header's ``dynamics``).

    Networks: ``kind`` is the optimizer (sgd, adam, adamw, other), with its ``lr``, ``momentum``, ``dampening``,
    ``nesterov``, Adam's ``betas`` and ``eps``, ``weight_decay`` and whether it is ``decoupled`` from the gradient
    (AdamW) or an L2 term added to it (SGD, Adam), and ``batch_size``. Samplers: ``kind`` is the method (langevin,
    mala, mh, exact, heat-bath) with ``dt``, ``epsilon`` and ``integrator``. ``unknown``/None: not recorded. Checked at
    construction: a bad field is a :class:`~statmech_nn.errors.ParameterError` (a ValueError) naming it.
    """

    kind: str = "unknown"
    lr: float | None = None
    momentum: float | None = None
    dampening: float | None = None
    nesterov: bool | None = None
    betas: tuple | None = None
    eps: float | None = None
    weight_decay: float | None = None
    decoupled: bool | None = None
    batch_size: int | None = None
    dt: float | None = None
    epsilon: float | None = None
    integrator: str | None = None

    def __post_init__(self):
        if self.kind not in DYNAMICS_KINDS:
            raise ParameterError("dynamics.kind", self.kind, "one of " + ", ".join(DYNAMICS_KINDS))
        checks = {"lr": require_positive, "eps": require_nonnegative, "weight_decay": require_nonnegative,
                  "dt": require_positive, "epsilon": require_positive}
        for name, check in checks.items():
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _field_number(name, getattr(self, name), check))
        for name, closed in (("momentum", False), ("dampening", True)):
            value = getattr(self, name)
            if value is not None:
                value = _field_number(name, value, require_nonnegative)
                if value > 1 or (value == 1 and not closed):
                    raise ParameterError(f"dynamics.{name}", value, "in [0, 1]" if closed else "in [0, 1)")
                object.__setattr__(self, name, value)
        for name in ("nesterov", "decoupled"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ParameterError(f"dynamics.{name}", getattr(self, name), "true, false or null")
        if self.betas is not None:
            betas = self.betas
            if not (isinstance(betas, (list, tuple)) and len(betas) == 2):
                raise ParameterError("dynamics.betas", betas, "a pair [beta1, beta2] in [0, 1)")
            betas = tuple(_field_number("betas", b, require_nonnegative) for b in betas)
            if not all(b < 1 for b in betas):
                raise ParameterError("dynamics.betas", self.betas, "a pair [beta1, beta2] in [0, 1)")
            object.__setattr__(self, "betas", betas)
        if self.batch_size is not None:
            if isinstance(self.batch_size, str):
                raise ParameterError("dynamics.batch_size", self.batch_size, "an integer >= 1")
            object.__setattr__(self, "batch_size", require_int("dynamics.batch_size", self.batch_size, 1))
        if self.integrator is not None and not isinstance(self.integrator, str):
            raise ParameterError("dynamics.integrator", self.integrator, "a string")

    @property
    def recorded(self) -> bool:
        return self.kind != "unknown"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["betas"] = None if self.betas is None else list(self.betas)
        return out

    @classmethod
    def from_dict(cls, payload) -> Dynamics:
        """From a JSON object (the ``dynamics`` attribute, or ``analyze(..., dynamics={...})``)."""
        if isinstance(payload, Dynamics):
            return payload
        if not isinstance(payload, dict):
            raise ParameterError("dynamics", payload, "a Dynamics or a dict of its fields")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise ParameterError(f"dynamics.{unknown[0]}", payload[unknown[0]], "a field of Dynamics: " +
                                 ", ".join(sorted(known)))
        return cls(**payload)

    @classmethod
    def from_optimizer(cls, optimizer, batch_size: int | None = None) -> Dynamics:
        """What a torch optimizer's ``param_groups`` say (their shared values; None where groups differ).
        SGD: lr, momentum, dampening, nesterov, weight_decay (an L2 term); Adam: lr, betas, eps, weight_decay
        (L2); AdamW: the same with decoupled decay; any other class: ``other`` with its lr and weight decay."""
        name = type(optimizer).__name__.lower()
        kind = name if name in OPTIMIZER_KINDS else "other"
        groups = list(getattr(optimizer, "param_groups", []))

        def shared(key):
            values = {repr(group.get(key)) for group in groups}
            value = groups[0].get(key) if groups and len(values) == 1 else None
            if isinstance(value, (list, tuple)):
                return tuple(float(v) for v in value)
            if hasattr(value, "item"):    # a tensor lr
                value = value.item()
            return value

        payload = {"lr": shared("lr"), "weight_decay": shared("weight_decay"), "batch_size": batch_size}
        if kind == "sgd":
            payload.update(momentum=shared("momentum"), dampening=shared("dampening"), nesterov=shared("nesterov"),
                           decoupled=False)
        elif kind in ("adam", "adamw"):
            payload.update(betas=shared("betas"), eps=shared("eps"), decoupled=kind == "adamw")
        return cls(kind, **{k: v for k, v in payload.items() if v is not None})

    @classmethod
    def from_legacy(cls, source: str, parameters: dict, metadata: dict, step_size) -> Dynamics:
        """The documented fallback for files without a ``dynamics`` attribute (see the module docstring): each
        field from ``parameters``, then ``metadata``; a value that is not valid for its field is left unknown."""
        lookup = {**metadata, **parameters}
        sampler = str(source).startswith("sampler")
        named = lookup.get("method" if sampler else "optimizer")
        kind = "unknown" if named is None else str(named).lower()
        kind = kind if kind in DYNAMICS_KINDS else "unknown" if sampler else "other"
        payload = {name: lookup.get(name) for name in ("lr", "momentum", "dampening", "weight_decay", "batch_size",
                                                       "dt", "epsilon", "integrator")}
        step_key = "dt" if sampler else "lr"
        if payload[step_key] is None:
            payload[step_key] = step_size
        if kind == "sgd" and str(source) == "networks.train":   # statmech-nn train ran plain SGD (no momentum)
            payload.update(momentum=0.0, dampening=0.0, nesterov=False, decoupled=False)
        if kind == "adam" and str(source) == "networks.train":  # torch's Adam defaults, L2 weight decay
            payload.update(betas=(0.9, 0.999), eps=1e-8, decoupled=False)
        valid = {}
        for name, value in payload.items():
            try:
                if value is not None:
                    cls(**{name: value})
                    valid[name] = value
            except (ParameterError, TypeError):
                continue
        return cls(kind, **valid)


def _field_number(name: str, value, check) -> float:
    if isinstance(value, (bool, str, np.bool_)):
        raise ParameterError(f"dynamics.{name}", value, "a finite number")
    return check(f"dynamics.{name}", value)


@dataclass(frozen=True)
class RunHeader:
    """The typed run header of a trajectory (DESIGN: Trajectory + run header): what produced it (``source``), the
    model's or configuration's parameters (``model``), how it moved (``dynamics``), its ``seed`` and the
    package ``version`` that wrote it."""

    source: str
    model: dict = field(default_factory=dict)
    dynamics: Dynamics = field(default_factory=Dynamics)
    seed: int | None = None
    version: str = __version__

    def __post_init__(self):
        if not isinstance(self.model, dict):
            raise ParameterError("header.model", self.model, "a dict (a JSON object)")
        object.__setattr__(self, "dynamics", Dynamics.from_dict(self.dynamics))

    def attributes(self) -> dict:
        """The HDF5 attributes holding this header (plain JSON objects, see the module docstring)."""
        attrs = {"source": str(self.source), "model": json.dumps(jsonable(self.model), default=_json_default),
                 "dynamics": json.dumps(self.dynamics.to_dict()), "version": str(self.version)}
        if self.seed is not None:
            attrs["seed"] = int(self.seed)
        return attrs

    @classmethod
    def from_attributes(cls, attrs: dict, where: str = "trajectory") -> tuple[RunHeader, dict]:
        """(header, free-form metadata) from a file's attributes, by the fallback for files without a header."""
        metadata = {}
        for key, value in attrs.items():
            if key not in _RESERVED_ATTRS:
                metadata[key] = _decode_checked(value, f"{where}: attribute {key!r}")
        source = str(_decode_checked(attrs.get("source", "unknown"), f"{where}: attribute 'source'"))
        if "model" in attrs:
            model = _json_object(attrs["model"], f"{where}: attribute 'model'")
        else:
            model = _json_object(attrs.get("parameters", "{}"), f"{where}: attribute 'parameters'")
        seed = _decode_checked(attrs.get("seed"), f"{where}: attribute 'seed'")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, float)) or seed != int(seed)):
            raise DataError(f"{where}: attribute 'seed' is not an integer: {seed!r}")
        version = str(_decode_checked(attrs.get("version", "unknown"), f"{where}: attribute 'version'"))
        if "dynamics" in attrs:
            try:
                dynamics = Dynamics.from_dict(_json_object(attrs["dynamics"], f"{where}: attribute 'dynamics'"))
            except ParameterError as exc:
                raise DataError(f"{where}: attribute 'dynamics' is not valid: {exc}") from None
        else:
            step = _decode_checked(attrs.get("step_size"), f"{where}: attribute 'step_size'")
            dynamics = Dynamics.from_legacy(source, model, metadata, step)
        return cls(source, model, dynamics, None if seed is None else int(seed), version), metadata


@dataclass
class Trajectory:
    """What every source of data emits: q(t) for K tracked variables, optionally samples of x, and its run header
    (``source``, ``parameters`` = the header's model, ``dynamics``, ``seed``, ``version``; :attr:`header`)."""

    q: np.ndarray
    t: np.ndarray
    names: list[str]
    chain: np.ndarray
    source: str
    parameters: dict = field(default_factory=dict)    # the header's ``model``
    seed: int | None = None
    dynamics: Dynamics = field(default_factory=Dynamics)
    x: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)
    version: str = __version__

    def __post_init__(self):
        self.q = np.asarray(self.q)
        if not (np.issubdtype(self.q.dtype, np.number) and not np.issubdtype(self.q.dtype, np.complexfloating)):
            raise DataError(f"trajectory q must hold real numbers, got dtype {self.q.dtype}")
        if self.q.ndim != 2:
            raise DataError(f"trajectory q must be 2-D (time, K), got shape {self.q.shape}")
        if not np.issubdtype(np.asarray(self.t).dtype, np.number):
            raise DataError(f"trajectory t must hold step numbers, got dtype {np.asarray(self.t).dtype}")
        self.t = np.asarray(self.t, dtype=np.int64)
        if self.t.shape != (self.q.shape[0],):
            raise DataError(f"trajectory t has shape {self.t.shape}, expected ({self.q.shape[0]},)")
        self.names = [str(n) for n in self.names]
        if len(self.names) != self.q.shape[1]:
            raise DataError(f"trajectory has {self.q.shape[1]} columns but {len(self.names)} names")
        self.chain = np.zeros(self.q.shape[1], np.int64) if self.chain is None else np.asarray(self.chain, np.int64)
        if self.chain.shape != (self.q.shape[1],):
            raise DataError(f"trajectory chain has shape {self.chain.shape}, expected ({self.q.shape[1]},)")
        if not isinstance(self.parameters, dict):
            raise DataError(f"trajectory parameters must be a dict, got {type(self.parameters).__name__}")
        self.dynamics = Dynamics.from_dict(self.dynamics)

    @property
    def header(self) -> RunHeader:
        """The typed run header (what the analysis reads)."""
        return RunHeader(self.source, self.parameters, self.dynamics, self.seed, self.version)

    @property
    def step_size(self) -> float | None:
        """The step of the dynamics: the learning rate (networks) or dt (samplers); None when not recorded."""
        return self.dynamics.lr if self.dynamics.lr is not None else self.dynamics.dt

    @property
    def n_times(self) -> int:
        return self.q.shape[0]

    @property
    def n_columns(self) -> int:
        return self.q.shape[1]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the whole trajectory at once (a sampler that holds it in memory)."""
        with TrajectoryWriter.create(
            path, self.names, header=self.header, chain=self.chain, x_dim=None if self.x is None else self.x.shape[1],
            dtype=self.q.dtype, metadata=self.metadata,
        ) as writer:
            writer.append(self.t, self.q)
            if self.x is not None:
                writer.append_x(self.x)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trajectory:
        """Read a ``trajectory.h5`` (or a run directory containing one) whole."""
        with TrajectoryReader(path) as reader:
            t, q = reader.read(0, reader.n_rows)
            return reader.trajectory(q, t, reader.x())


class TrajectoryReader:
    """Reads a ``trajectory.h5`` (or a run directory's) in blocks of rows, for an analysis whose memory must not
    grow with the window: the header, names and chain at open; q and t by row range (:meth:`read`,
    :meth:`blocks`) or at chosen rows (:meth:`take`). A context manager; a file that is not a valid trajectory
    is a DataError at open."""

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        if path.is_dir():
            path = path / TRAJECTORY_FILE
        if not path.is_file():
            raise DataError(f"no trajectory file at {path}")
        self.path = path
        try:
            self._file = h5py.File(path, "r")
            f = self._file
            self._q, self._t = f["q"], f["t"]
            self.names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["names"][...]]
            self.chain = f["chain"][...] if "chain" in f else None
            attrs = dict(f.attrs)
        except (OSError, KeyError, ValueError, TypeError) as exc:
            self.close()
            raise DataError(f"{path} is not a valid trajectory file: {exc}") from None
        self.header, self.metadata = RunHeader.from_attributes(attrs, str(path))
        problem = (f"trajectory q must hold real numbers, got dtype {self._q.dtype}"
                   if not np.issubdtype(self._q.dtype, np.number) or np.issubdtype(self._q.dtype, np.complexfloating)
                   else f"trajectory t must hold step numbers, got dtype {self._t.dtype}"
                   if not np.issubdtype(self._t.dtype, np.number)
                   else f"trajectory q{self._q.shape} and t{self._t.shape} are not (time, K) and (time,)"
                   if self._q.ndim != 2 or self._t.shape != self._q.shape[:1]
                   else f"trajectory has {self._q.shape[1]} columns but {len(self.names)} names"
                   if len(self.names) != self._q.shape[1] else None)
        if problem:
            self.close()
            raise DataError(f"{path}: {problem}")

    @property
    def n_rows(self) -> int:
        return int(self._q.shape[0])

    @property
    def n_columns(self) -> int:
        return int(self._q.shape[1])

    @property
    def dtype(self) -> np.dtype:
        """The stored dtype of q (its rounding decides which steps are decay to rounding)."""
        return self._q.dtype

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """(t, q) of rows [start, stop), q in its stored dtype."""
        try:
            return self._t[start:stop], self._q[start:stop]
        except (OSError, ValueError, TypeError) as exc:
            raise DataError(f"{self.path}: cannot read rows {start}-{stop}: {exc}") from None

    def blocks(self, rows: int):
        """Yield (start, t, q) for consecutive blocks of at most ``rows`` rows."""
        rows = require_int("block_rows", rows, 1)
        for start in range(0, self.n_rows, rows):
            yield (start, *self.read(start, min(start + rows, self.n_rows)))

    def x(self) -> np.ndarray | None:
        """The samples x (read whole), or None."""
        if "x" not in self._file:
            return None
        x = self._file["x"][...]
        if not np.issubdtype(x.dtype, np.number):
            raise DataError(f"{self.path}: x must hold numbers, got dtype {x.dtype}")
        return x

    def trajectory(self, q, t, x=None) -> Trajectory:
        """A Trajectory with this file's header, names and chain around rows (t, q) read from it."""
        header = self.header
        return Trajectory(q=q, t=t, names=self.names, chain=self.chain, source=header.source,
                          parameters=header.model, seed=header.seed, dynamics=header.dynamics, x=x,
                          metadata=self.metadata, version=header.version)

    def close(self) -> None:
        if getattr(self, "_file", None) is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _encode_attr(value):
    """HDF5/NetCDF attributes hold numbers and strings; everything else is stored as JSON."""
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (dict, list, tuple)):
        return "json:" + json.dumps(value, default=_json_default)
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    return "json:" + json.dumps(value, default=_json_default)


def _decode_attr(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value.startswith("json:"):
        return json.loads(value[5:])
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_checked(value, what: str):
    """:func:`_decode_attr`, a malformed ``json:`` value being a DataError naming ``what``."""
    try:
        return _decode_attr(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{what} is not valid JSON: {exc}") from None


def _json_object(value, what: str) -> dict:
    """A JSON object stored as an attribute: plain (``'{"a": 1}'``) or prefixed ``json:``; else a DataError."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str) and not value.startswith("json:"):
        value = "json:" + value
    decoded = _decode_checked(value, what)
    if not isinstance(decoded, dict):
        raise DataError(f"{what} is not a JSON object: {str(decoded)[:80]!r}")
    return decoded


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


class TrajectoryWriter:
    """Chunked, flushed appends to ``trajectory.h5`` (DESIGN: Trajectory contract)."""

    def __init__(self, handle: h5py.File):
        self._file = handle

    @classmethod
    def create(cls, path, names, *, header: RunHeader, chain=None, x_dim: int | None = None, dtype=np.float64,
               metadata: dict | None = None, chunk_rows: int = 1024) -> TrajectoryWriter:
        """Start a new trajectory file with K = len(names) columns and its run header (overwrites an existing
        one)."""
        if not isinstance(header, RunHeader):
            raise DataError(f"a trajectory needs a RunHeader, got {type(header).__name__}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        k = len(names)
        f = h5py.File(path, "w")
        f.create_dataset("q", shape=(0, k), maxshape=(None, k), dtype=dtype, chunks=(chunk_rows, max(k, 1)))
        f.create_dataset("t", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(chunk_rows,))
        f.create_dataset("names", data=np.array([str(n) for n in names], dtype=h5py.string_dtype()))
        f.create_dataset("chain", data=np.zeros(k, np.int64) if chain is None else np.asarray(chain, np.int64))
        if x_dim is not None:
            f.create_dataset("x", shape=(0, x_dim), maxshape=(None, x_dim), dtype=dtype,
                             chunks=(chunk_rows, max(x_dim, 1)))
        for key, value in header.attributes().items():
            f.attrs[key] = value
        for key, value in (metadata or {}).items():
            if key in _RESERVED_ATTRS:
                raise DataError(f"metadata key {key!r} is reserved by the trajectory format")
            f.attrs[key] = _encode_attr(value)
        f.flush()
        return cls(f)

    @classmethod
    def open_existing(cls, path, keep_rows: int, keep_x_rows: int | None = None) -> TrajectoryWriter:
        """Reopen for a resumed run: keep the first ``keep_rows`` rows of q and t (the checkpoint) and, when
        given, the first ``keep_x_rows`` samples of x; drop the rest."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"cannot resume: no trajectory file at {path}")
        try:
            f = h5py.File(path, "r+")
        except OSError as exc:
            raise DataError(f"cannot resume from {path}: {exc}") from None
        keep = {"q": keep_rows, "t": keep_rows}
        if keep_x_rows is not None:
            if "x" not in f:
                f.close()
                raise DataError(f"cannot resume: {path} has no x samples to keep")
            keep["x"] = keep_x_rows
        for name, rows in keep.items():
            if f[name].shape[0] < rows:
                have = f[name].shape[0]
                f.close()
                raise DataError(f"cannot resume: {path} has {have} rows of {name}, the checkpoint needs {rows}")
        for name, rows in keep.items():
            f[name].resize(rows, axis=0)
        f.flush()
        return cls(f)

    @property
    def n_rows(self) -> int:
        return self._file["q"].shape[0]

    @property
    def n_columns(self) -> int:
        return self._file["q"].shape[1]

    def rows(self, start: int, stop: int, x_per_row: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows [start, stop) of q and the x samples of those rows (``x_per_row`` samples each)."""
        return self._file["q"][start:stop], self._file["x"][start * x_per_row:stop * x_per_row]

    def append(self, t, q) -> None:
        """Append rows ``q`` (rows, K) taken at steps ``t`` (rows,), then flush."""
        q = np.atleast_2d(np.asarray(q))
        t = np.atleast_1d(np.asarray(t, np.int64))
        if q.shape[0] != t.shape[0] or q.shape[1] != self._file["q"].shape[1]:
            raise DataError(f"append got q{q.shape} and t{t.shape} for a trajectory of "
                            f"{self._file['q'].shape[1]} columns")
        self._ensure_space("q", q.shape[0], q.nbytes + t.nbytes)
        n = self.n_rows
        self._file["q"].resize(n + q.shape[0], axis=0)
        self._file["q"][n:] = q
        self._file["t"].resize(n + t.shape[0], axis=0)
        self._file["t"][n:] = t
        self._file.flush()

    def append_x(self, x) -> None:
        """Append samples of the non-trainable variables, then flush."""
        if "x" not in self._file:
            raise DataError("this trajectory was created without x (pass x_dim to create)")
        x = np.atleast_2d(np.asarray(x))
        self._ensure_space("x", x.shape[0], x.nbytes)
        n = self._file["x"].shape[0]
        self._file["x"].resize(n + x.shape[0], axis=0)
        self._file["x"][n:] = x
        self._file.flush()

    def _ensure_space(self, name: str, rows: int, nbytes: int) -> None:
        """Room for ``nbytes`` appended to dataset ``name`` plus the chunks they may start (:func:`ensure_space`)."""
        dataset = self._file[name]
        chunk_bytes = int(np.prod(dataset.chunks)) * dataset.dtype.itemsize
        ensure_space(self._file.filename, nbytes + chunk_bytes * (1 + rows // dataset.chunks[0]))

    def digest(self, start: int, stop: int, x_per_row: int | None = None) -> str:
        """SHA-256 of rows [start, stop) as stored: t, q and, with ``x_per_row``, the x samples of those rows
        (what a checkpoint records of the rows it keeps, and a resumed run verifies)."""
        arrays = [self._file["t"][start:stop], self._file["q"][start:stop]]
        if x_per_row is not None:
            arrays.append(self._file["x"][start * x_per_row:stop * x_per_row])
        return array_digest(*arrays)

    def verify(self, digests, x_per_row: int | None = None) -> None:
        """Check the kept rows against ``digests`` ([end row, SHA-256] of consecutive segments from row 0, as
        recorded by the checkpoints); a DataError naming the first segment that changed."""
        start = 0
        for end, expected in digests:
            end = int(end)
            if end > self.n_rows or self.digest(start, end, x_per_row) != str(expected):
                raise DataError(f"rows {start}-{end} of {self._file.filename} are not what the checkpoint recorded "
                                "(digest mismatch)")
            start = end

    def set_metadata(self, **metadata) -> None:
        for key, value in metadata.items():
            if key in _RESERVED_ATTRS:
                raise DataError(f"metadata key {key!r} is reserved by the trajectory format")
            self._file.attrs[key] = _encode_attr(value)
        self._file.flush()

    def close(self) -> None:
        """Close the file; an error while flushing (a full disk) still closes it, then is raised."""
        if self._file.id.valid:
            try:
                self._file.flush()
            finally:
                self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Room kept free beyond what a write needs: HDF5's metadata, and the chunk a write may start.
_SPACE_MARGIN = 1 << 16


def ensure_space(path, nbytes: int) -> None:
    """Raise OSError(ENOSPC) naming ``path`` unless its file system has room for ``nbytes`` more bytes (and a
    margin). HDF5 cannot recover from a write that fills the disk (its file is left broken, and closing it may
    crash the process), so every append checks first and a full disk is an ordinary error."""
    stats = os.statvfs(Path(path).parent)
    if stats.f_bavail * stats.f_frsize < nbytes + _SPACE_MARGIN:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def array_digest(*arrays) -> str:
    """SHA-256 of arrays' dtypes, shapes and bytes, in order."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_dataset(dataset: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a labelled result as NetCDF; non-scalar or boolean attributes are JSON-encoded. The file is written
    under a temporary name and renamed, so that a failed write (a full disk) leaves no partial file at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = dataset.copy()
    clean.attrs = {k: _encode_attr(v) for k, v in dataset.attrs.items()}
    for name in list(clean.variables):
        clean[name].attrs = {k: _encode_attr(v) for k, v in dataset[name].attrs.items()}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        clean.to_netcdf(temporary, engine="netcdf4")
        os.replace(temporary, path)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, RuntimeError):   # netCDF4's "NetCDF: HDF error" of a write that failed (a full disk)
            raise DataError(f"cannot write {path}: {exc} (is the disk full?)") from None
        raise
    return path


def load_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Read a NetCDF result written by :func:`save_dataset`, decoding its attributes."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no NetCDF file at {path}")
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            dataset = opened.load()
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable NetCDF file: {exc}") from None
    dataset.attrs = {k: _decode_attr(v) for k, v in dataset.attrs.items()}
    for name in dataset.variables:
        dataset[name].attrs = {k: _decode_attr(v) for k, v in dataset[name].attrs.items()}
    return dataset


def write_json(path: str | os.PathLike, payload: dict) -> Path:
    """Write a strict JSON file: numpy scalars and arrays are converted, and a non-finite number is written as
    null (never a bare NaN or Infinity, which are not JSON). The file is replaced atomically (a temporary file
    renamed into place), so a write that fails (a full disk, a kill) leaves the previous file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(payload), indent=2, allow_nan=False, default=_json_default) + "\n"
    temporary = path.with_name(path.name + ".partial")
    try:
        temporary.write_text(text)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    return path


def _read_document(path: str | os.PathLike, kind: str, what: str, loads, decode_error) -> dict:
    """Parse a text file with ``loads``; a missing or malformed file is a DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no {what} at {path}")
    try:
        document = loads(path.read_text(encoding="utf-8"))
    except (decode_error, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid {kind}: {exc}") from None
    if not isinstance(document, dict):
        raise DataError(f"{path} is not a {kind} object (a table of keys), it holds a {type(document).__name__}")
    return document


def read_json(path: str | os.PathLike) -> dict:
    return _read_document(path, "JSON", "JSON file", json.loads, json.JSONDecodeError)


def read_toml(path: str | os.PathLike) -> dict:
    """Read a spec file (``models/*.toml``, ``validation/**/*.toml``)."""
    return _read_document(path, "TOML", "spec file", tomllib.loads, tomllib.TOMLDecodeError)


def read_spec_tables(path, allowed, what: str, arrays=()) -> dict:
    """The tables of a TOML spec file whose top level may hold only ``allowed`` (``what`` names the kind of spec in
    the error): each a table, or, for the names in ``arrays``, an array of tables."""
    tables = read_toml(path)
    unknown = sorted(set(tables) - set(allowed))
    if unknown:
        raise DataError(f"{path}: unknown table(s) {unknown}; {what} has {', '.join(allowed)}")
    for name, table in tables.items():
        entries = table if name in arrays and isinstance(table, list) else [table]
        if not all(isinstance(entry, dict) for entry in entries):
            raise DataError(f"{path}: [{name}] must be a table, got {type(table).__name__}")
    return tables
