"""Parameter validation and parsing, done once at construction (DESIGN: model objects), and parameters as plain
JSON values (:func:`jsonable`, for run.json and ``--json`` output)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BudgetError, DataError, ParameterError


def require_finite(name: str, value) -> float:
    """Return ``value`` as a float, or raise :class:`ParameterError` if it is not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a finite number") from None
    if not math.isfinite(number):
        raise ParameterError(name, value, "a finite number")
    return number


def require_positive(name: str, value) -> float:
    """A finite number > 0."""
    number = require_finite(name, value)
    if number <= 0:
        raise ParameterError(name, value, "> 0")
    return number


def require_nonnegative(name: str, value) -> float:
    """A finite number >= 0."""
    number = require_finite(name, value)
    if number < 0:
        raise ParameterError(name, value, ">= 0")
    return number


def require_number(name: str, value) -> float:
    """A finite int or float read from a file (TOML, JSON): a bool or a string is not a number."""
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(name, value, "a finite number")
    return require_finite(name, value)


def require_int(name: str, value, minimum: int = 0) -> int:
    """An integer >= ``minimum`` (an integral float such as 3.0 is accepted)."""
    if isinstance(value, bool):
        raise ParameterError(name, value, f"an integer >= {minimum}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, f"an integer >= {minimum}") from None
    if not number.is_integer() or number < minimum:
        raise ParameterError(name, value, f"an integer >= {minimum}")
    return int(number)


def sample_columns(samples, min_rows: int, what: str, nonfinite: type[Exception] = DataError) -> np.ndarray:
    """``samples`` as a finite float array shaped (n >= min_rows, K), a 1-D array being one column.

    A wrong shape is a DataError naming ``what``; NaN or infinite values raise ``nonfinite`` (for a
    sampler's chains that is a ConvergenceError: the chain diverged).
    """
    samples = np.asarray(samples, float)
    if samples.ndim == 1:
        samples = samples[:, None]
    if samples.ndim != 2 or samples.shape[0] < min_rows:
        raise DataError(f"{what} must be shaped (n >= {min_rows}, K), got {samples.shape}")
    if not np.all(np.isfinite(samples)):
        raise nonfinite(f"{what} contain NaN or infinite values")
    return samples


LARGE_FLAG = "--yes-large"
TIME_BUDGET_S = 24 * 3600.0
"""The budget a run may use without :data:`LARGE_FLAG`: half the machine's physical memory (:func:`memory_budget`)
and a day of work at a conservative rate (each command states its rate where it estimates)."""


def memory_budget() -> float:
    """Half of this machine's physical memory, in bytes (``os.sysconf``; 8 GiB where it cannot be read)."""
    try:
        return 0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8.0 * 2**30


def require_budget(what: str, *, memory: float = 0.0, seconds: float = 0.0, confirmed: bool = False) -> None:
    """Refuse, before any allocation, a run whose estimated ``memory`` (bytes) exceeds :func:`memory_budget` or whose
    estimated work (``seconds``) exceeds :data:`TIME_BUDGET_S`, unless the user ``confirmed`` with :data:`LARGE_FLAG`.
    ``what`` names the inputs that set the size, e.g. ``"--chains 1000000 x --steps 20000"``."""
    if confirmed:
        return
    if memory > memory_budget():
        raise BudgetError(f"{what} needs about {memory / 2**30:.3g} GiB of memory, more than the budget of "
                          f"{memory_budget() / 2**30:.3g} GiB (half this machine's RAM); pass {LARGE_FLAG} to run it")
    if seconds > TIME_BUDGET_S:
        raise BudgetError(f"{what} needs about {seconds / 3600:.3g} hours at a conservative rate, more than the "
                          f"budget of {TIME_BUDGET_S / 3600:g} hours; pass {LARGE_FLAG} to run it")


def rng_from(seed_or_rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, a Generator or ``None`` (fresh entropy)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    return np.random.default_rng(seed_or_rng)


@dataclass(frozen=True)
class GridAxis:
    """One axis of a parameter scan: ``NAME=START:STOP:N`` (inclusive, linear), ``NAME=START:STOP:Nlog``
    (geometric) or an explicit list ``NAME=V1,V2,...`` (numbers, or words such as architectures). ``NAME`` may be
    a dotted key of a spec (``training.lr``). ``scale`` is ``log`` for a geometric grid and for an explicit list of
    positive numbers spanning at least a decade (how figures draw the axis)."""

    name: str
    values: np.ndarray
    scale: str = "linear"

    @staticmethod
    def points(spec: str) -> int:
        """The number of points of ``spec`` (its form checked, nothing allocated): for a size budget."""
        count = spec.partition("=")[2].split(":")[-1].removesuffix("log")
        return int(count) if count.isdigit() else 1

    @classmethod
    def parse(cls, spec: str, confirmed: bool = False) -> GridAxis:
        """``spec`` as values; more points than fit the memory budget is refused unless ``confirmed``."""
        name, sep, body = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ParameterError("grid", spec, "of the form NAME=START:STOP:N, NAME=START:STOP:Nlog or NAME=V1,V2,...")
        if ":" not in body:
            return cls.from_values(name, [part.strip() for part in body.split(",")])
        parts = body.split(":")
        if len(parts) != 3:
            raise ParameterError("grid", spec, "of the form NAME=START:STOP:N, NAME=START:STOP:Nlog or NAME=V1,V2,...")
        start = require_finite(f"{name} start", parts[0])
        stop = require_finite(f"{name} stop", parts[1])
        count, logarithmic = parts[2], parts[2].endswith("log")
        count = count[:-3] if logarithmic else count
        if not count.isdigit() or int(count) < 1:
            raise ParameterError(f"{name} count", parts[2], "a positive integer, optionally followed by 'log'")
        require_budget(f"--grid {spec}", memory=8.0 * int(count), confirmed=confirmed)
        if logarithmic:
            if start <= 0 or stop <= 0:
                raise ParameterError(f"{name} range", body, "positive at both ends for a log grid")
            return cls(name, np.geomspace(start, stop, int(count)), "log")
        return cls(name, np.linspace(start, stop, int(count)))

    @classmethod
    def from_values(cls, name: str, values) -> GridAxis:
        """An explicit list of values (strings that read as numbers become numbers); distinct, in the given order."""
        values = list(values)
        if not values or any(isinstance(v, str) and not v.strip() for v in values):
            raise ParameterError(f"{name} values", values, "a non-empty list of values")
        try:
            array = np.array([require_finite(f"{name} value", v) for v in values], float)
        except ParameterError:
            if any(not isinstance(v, str) for v in values):
                raise
            array = np.array([v.strip() for v in values])
        if len(set(array.tolist())) != array.size:
            raise ParameterError(f"{name} values", values, "distinct values")
        numeric = array.dtype.kind == "f"
        wide = numeric and bool(np.all(array > 0)) and array.max() >= 10 * array.min()
        return cls(name, array, "log" if wide else "linear")


def jsonable(value):
    """``value`` as plain JSON values, recursively: numpy scalars and arrays as Python numbers and lists, tuples as
    lists, paths as strings, dictionary keys as strings, and non-finite floats as None (what reads back from a
    strict JSON file, so that two such values compare equal when their files would)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
