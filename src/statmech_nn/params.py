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
    """One axis of a parameter scan: ``NAME=START:STOP:N`` (inclusive, linear) or ``NAME=START:STOP:Nlog``."""

    name: str
    values: np.ndarray

    @classmethod
    def parse(cls, spec: str) -> "GridAxis":
        name, sep, body = spec.partition("=")
        name = name.strip().replace("-", "_")
        parts = body.split(":")
        if not sep or not name or len(parts) != 3:
            raise ParameterError("grid", spec, "of the form NAME=START:STOP:N or NAME=START:STOP:Nlog")
        start = require_finite(f"{name} start", parts[0])
        stop = require_finite(f"{name} stop", parts[1])
        count, logarithmic = parts[2], parts[2].endswith("log")
        count = count[:-3] if logarithmic else count
        if not count.isdigit() or int(count) < 1:
            raise ParameterError(f"{name} count", parts[2], "a positive integer, optionally followed by 'log'")
        if logarithmic:
            if start <= 0 or stop <= 0:
                raise ParameterError(f"{name} range", body, "positive at both ends for a log grid")
            values = np.geomspace(start, stop, int(count))
        else:
            values = np.linspace(start, stop, int(count))
        return cls(name, values)


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
