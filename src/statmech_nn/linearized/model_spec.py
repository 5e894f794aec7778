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

Any error names the key, e.g. ``base.scale``; an unknown table or key is refused (as in a quartic spec), and so is a
boolean where a number belongs (TOML ``true`` is not 1). A model whose N x N matrices exceed the memory budget
(:func:`statmech_nn.params.require_budget`: four of them, 32 N² bytes) is refused unless ``confirmed``.
"""

from __future__ import annotations


import numpy as np

from ..errors import DataError, ParameterError
from ..io import read_toml
from ..package_data import find_spec
from ..params import require_budget, require_int, require_number, require_positive
from .local_equilibrium import LinearizedModel

KEYS = {"model": ("name", "neurons", "alpha", "beta"), "base": ("matrix", "seed", "scale"),
        "trainable": ("entries", "q_bar"), "activation": ("slopes",), "potentials": ("v_x", "v_q")}
MATRICES_PER_MODEL = 4  # ŵ₀, the precision matrix, its Cholesky factor and a work matrix: N x N float64 each


def _check_keys(spec: dict) -> None:
    """Every table and key of ``spec`` is one of :data:`KEYS`, and numbers are numbers (not booleans)."""
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise DataError(f"model spec: unknown table(s) {', '.join(unknown)} (allowed: {', '.join(KEYS)})")
    for section, table in spec.items():
        if not isinstance(table, dict):
            raise DataError(f"model spec: [{section}] must be a table, got {type(table).__name__}")
        unknown = sorted(set(table) - set(KEYS[section]))
        if unknown:
            raise DataError(f"model spec: unknown key(s) {', '.join(f'{section}.{k}' for k in unknown)} "
                            f"(allowed: {', '.join(KEYS[section])})")
        for key, value in table.items():
            if key != "name" and any(isinstance(v, bool) for v in np.ravel(np.asarray(value, object))):
                raise ParameterError(f"{section}.{key}", value, "numbers (a boolean is not a number)")


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


def model_from_spec(spec: dict, name: str = "linearized", confirmed: bool = False) -> LinearizedModel:
    """A :class:`LinearizedModel` from a parsed spec (see the module docstring); ``confirmed``: the user passed
    :data:`~statmech_nn.params.LARGE_FLAG` for a model beyond the memory budget."""
    _check_keys(spec)
    model = _table(spec, "model")
    neurons = require_int("model.neurons", _require(model, "model", "neurons"), 1)
    require_budget(f"model.neurons = {neurons}", memory=MATRICES_PER_MODEL * 8.0 * neurons**2, confirmed=confirmed)
    for key in ("alpha", "beta"):
        require_number(f"model.{key}", _require(model, "model", key))
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


def load_model(path, confirmed: bool = False) -> LinearizedModel:
    """Read a ``models/linearized_*.toml`` spec: a file, or a shipped one by name (``linearized_small``)
    (``confirmed``: see :func:`model_from_spec`)."""
    path = find_spec(path, "model")
    return model_from_spec(read_toml(path), name=path.stem, confirmed=confirmed)
