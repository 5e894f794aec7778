"""Model spec files ``models/linearized_*.toml`` for the linearized network (002 §4).

    [model]
    name = "linearized-small"
    neurons = 4                 # N
    alpha = 1.0                 # Lagrange multiplier of the free-energy constraint (002 eq. (17))
    beta = 2.0                  # inverse temperature of the neurons (002 eq. (13))

    [base]                      # ŵ₀: an explicit matrix ...
    matrix = [[0.0, 0.3], [0.5, 0.0]]
    # ... or a seeded random one: entries N(0, scale²/N)
    # seed = 7
    # scale = 0.8

    [trainable]
    entries = [[1, 0], [0, 1]]  # (row, column) of ŵ whose value is the trainable q_k
    # q_bar = [0.5, 0.3]        # default: the base entries at those positions

    [activation]
    slopes = 0.9                # F̂: one number or N numbers

    [potentials]
    v_x = 0.05                  # V̂_x: one number or N numbers, > 0
    v_q = 0.5                   # V̂_q: one number or K numbers, > 0

Any error names the key, e.g. ``base.scale``.
"""

from __future__ import annotations

import tomllib

import numpy as np

from ..errors import DataError, ParameterError
from ..package_data import find_spec
from ..params import require_int, require_positive
from .model import LinearizedModel


def _table(spec: dict, key: str) -> dict:
    value = spec.get(key)
    if not isinstance(value, dict):
        raise DataError(f"model spec: missing table [{key}]")
    return value


def _require(table: dict, section: str, key: str):
    if key not in table:
        raise DataError(f"model spec: missing key {section}.{key}")
    return table[key]


def base_matrix(base: dict, neurons: int) -> np.ndarray:
    """ŵ₀ from the [base] table: ``matrix``, or ``seed`` and ``scale`` (entries N(0, scale²/N))."""
    if "matrix" in base:
        matrix = np.asarray(base["matrix"], float)
        if matrix.shape != (neurons, neurons):
            raise ParameterError("base.matrix", f"shape {matrix.shape}", f"{neurons} x {neurons} (model.neurons)")
        return matrix
    seed = require_int("base.seed", _require(base, "base", "seed"), 0)
    scale = require_positive("base.scale", _require(base, "base", "scale"))
    return scale / np.sqrt(neurons) * np.random.default_rng(seed).standard_normal((neurons, neurons))


def model_from_spec(spec: dict, name: str = "linearized") -> LinearizedModel:
    """A :class:`LinearizedModel` from a parsed spec (see the module docstring)."""
    model = _table(spec, "model")
    neurons = require_int("model.neurons", _require(model, "model", "neurons"), 1)
    trainable = _table(spec, "trainable")
    entries = _require(trainable, "trainable", "entries")
    potentials = _table(spec, "potentials")
    return LinearizedModel(
        base=base_matrix(_table(spec, "base"), neurons),
        trainable=np.asarray(entries) if isinstance(entries, list) and entries else np.zeros((0, 2), np.int64),
        slopes=_require(_table(spec, "activation"), "activation", "slopes"),
        v_x=_require(potentials, "potentials", "v_x"), v_q=_require(potentials, "potentials", "v_q"),
        alpha=_require(model, "model", "alpha"), beta=_require(model, "model", "beta"),
        q_bar=trainable.get("q_bar"), name=str(model.get("name", name)))


def load_model(path) -> LinearizedModel:
    """Read a ``models/linearized_*.toml`` spec: a file, or a shipped one by name (``linearized_small``)."""
    path = find_spec(path, "model")
    try:
        spec = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path} is not valid TOML: {exc}") from None
    return model_from_spec(spec, name=path.stem)
