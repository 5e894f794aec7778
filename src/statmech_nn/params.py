"""Parameter validation and parsing, done once at construction (DESIGN: model objects), and parameters as plain
JSON values (:func:`jsonable`, for run.json and ``--json`` output)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, ParameterError


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

    @classmethod
    def parse(cls, spec: str) -> "GridAxis":
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
        if logarithmic:
            if start <= 0 or stop <= 0:
                raise ParameterError(f"{name} range", body, "positive at both ends for a log grid")
            return cls(name, np.geomspace(start, stop, int(count)), "log")
        return cls(name, np.linspace(start, stop, int(count)))

    @classmethod
    def from_values(cls, name: str, values) -> "GridAxis":
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
