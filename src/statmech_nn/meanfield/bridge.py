"""From a trained layer to the spin model of 001 (slides 'Statistical model of a neural network', 'Magic').

Convention (ours, stated once; every function below follows it):

- A layer with weight w (n_out × n_in) and bias c (n_out) has binary units x ∈ {0,1}^{n_in} (inputs) and
  y ∈ {0,1}^{n_out} (outputs) with the Boltzmann-machine energy

      E(x, y) = -yᵀ w x - cᵀ y,

  so that at β = 1 each output unit given the inputs is the layer's own logistic unit,
  P(y_i = 1 | x) = σ((w x + c)_i). "β relative to β = 1" therefore compares the layer's temperature scale
  with the one it computes at. (The slides write H = -(1/2N) Σ w_ij a_i b_j - h Σ b_i: their w is our 2N w
  and their scalar h our c.)
- With spins σ = 2x - 1, τ = 2y - 1 (the slides' "recast in a form based on a ∈ {±1}") and s = (σ, τ),
  N = n_in + n_out,

      E = -(1/2N) sᵀ W s - hᵀ s + const,   W = (N/4) [[0, wᵀ], [w, 0]],   h = (wᵀ1/4, w1/4 + c/2),

  a bipartite coupling matrix (the slides: "the connections here are still of the bipartite graph") and
  a field that the {0,1} → ±1 shift creates even without a bias.
- The slides' bias-extended matrix acts on (1, V_1, ..., V_N): an always-on unit 0 whose coupling to unit a is
  N h_a in row and column 0 (:meth:`LayerSpinModel.extended_matrix`), so that
  -(1/2N) (1, s)ᵀ W_ext (1, s) = -(1/2N) sᵀ W s - hᵀ s. The slides print 2Nh in column 0 only (the same
  quadratic form) and -2Nh in the last row, a typo (claim ``slides-bias-row-matrix``).
- Unit 0 is clamped to +1, as the slides' vector (1, V) says; it is not summed over as a free spin. Summed
  over ±1 it would give exactly twice the same Z (the global flip), but mean field on a single spin with
  O(1) couplings to every unit predicts a spurious ordering of that one spin at λ_max(W_ext)/N.

The critical temperature is that of the layer's couplings, T_c = λ_max(W)/N = σ_max(w)/4 (σ_max: largest
singular value): the paramagnet of the zero-field model becomes unstable there, along the leading mode
v = (right, left singular vectors)/√2. The fields h (strong for weights of one sign: the {0,1} → ±1 shift
gives h ≈ (column and row sums)/4) round the transition into a crossover, located by the peak of the
susceptibility along v, χ_v(T), on the mean-field curves (:func:`statmech_nn.scan.meanfield_tasks.layer_curves`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import ParameterError
from .hs import GeneralCouplings


def _as_array(value, name: str) -> np.ndarray:
    """A numpy array from a numpy array, a list or a torch tensor (duck-typed: no torch import here)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ParameterError(name, f"array of dtype {array.dtype}", "real numbers")
    array = array.astype(float)
    if not np.isfinite(array).all():
        raise ParameterError(name, "an array with NaN or infinite entries", "finite")
    return array


def layer_parameters(layer_or_weight, bias=None) -> tuple[np.ndarray, np.ndarray]:
    """(w, c) from a weight matrix (n_out × n_in) and an optional bias, or from a layer with ``.weight`` and
    ``.bias`` (torch.nn.Linear)."""
    if hasattr(layer_or_weight, "weight"):
        if bias is not None:
            raise ParameterError("bias", "given twice", "given either by the layer or as an argument")
        bias = getattr(layer_or_weight, "bias", None)
        layer_or_weight = layer_or_weight.weight
    w = _as_array(layer_or_weight, "weight")
    if w.ndim != 2 or min(w.shape) < 1:
        raise ParameterError("weight", f"array of shape {w.shape}", "a matrix of shape (n_out, n_in)")
    c = np.zeros(w.shape[0]) if bias is None else _as_array(bias, "bias")
    if c.shape != (w.shape[0],):
        raise ParameterError("bias", f"array of shape {c.shape}", f"a vector of length n_out = {w.shape[0]}")
    return w, c


@dataclass(frozen=True)
class LayerSpinModel:
    """The spin model of one layer: inputs first (units 0..n_in-1), then outputs; the bias is a field (clamped unit)."""

    weight: np.ndarray
    bias: np.ndarray

    @classmethod
    def from_layer(cls, layer_or_weight, bias=None) -> LayerSpinModel:
        return cls(*layer_parameters(layer_or_weight, bias))

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    @property
    def n(self) -> int:
        return self.n_in + self.n_out

    @cached_property
    def coupling_matrix(self) -> np.ndarray:
        """W = (N/4) [[0, wᵀ], [w, 0]] (N × N)."""
        W = np.zeros((self.n, self.n))
        W[: self.n_in, self.n_in:] = 0.25 * self.n * self.weight.T
        W[self.n_in:, : self.n_in] = 0.25 * self.n * self.weight
        return W

    @cached_property
    def field(self) -> np.ndarray:
        """h = (wᵀ1/4, w1/4 + c/2): the fields the {0,1} → ±1 recast and the bias put on each unit."""
        return np.concatenate([0.25 * self.weight.sum(axis=0), 0.25 * self.weight.sum(axis=1) + 0.5 * self.bias])

    @cached_property
    def energy_offset(self) -> float:
        """E(x, y) - H(s) = -1ᵀw1/4 - 1ᵀc/2, the same for every state."""
        return float(-0.25 * self.weight.sum() - 0.5 * self.bias.sum())

    def extended_matrix(self) -> np.ndarray:
        """The slides' bias-extended (N+1) × (N+1) matrix: unit 0 always on, W_ext[0, a] = W_ext[a, 0] = N h_a."""
        W_ext = np.zeros((self.n + 1, self.n + 1))
        W_ext[1:, 1:] = self.coupling_matrix
        W_ext[0, 1:] = W_ext[1:, 0] = self.n * self.field
        return W_ext

    def layer_energy(self, x, y) -> np.ndarray:
        """E(x, y) = -yᵀ w x - cᵀ y for binary x (..., n_in), y (..., n_out)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        return -np.einsum("...i,ij,...j->...", y, self.weight, x) - y @ self.bias

    @cached_property
    def spin_model(self) -> GeneralCouplings:
        """H(s) = -(1/2N) sᵀ W s - hᵀ s with s = (2x - 1, 2y - 1)."""
        return GeneralCouplings(self.coupling_matrix, self.field)

    @cached_property
    def critical_temperature(self) -> float:
        """T_c = λ_max(W)/N = σ_max(w)/4."""
        return self.spin_model.critical_temperature

    def report(self, random_starts: int = 2, seed=0) -> dict:
        """Where the layer's critical point is, and how far β = 1 is from it.

        Keys: n_in, n_out, Tc, beta_c (= 1/T_c, in units of the layer's β = 1), reduced_temperature
        (t = (1 - T_c)/T_c at T = 1), phase_at_beta_1 ('ordered' if T_c > 1), field_rms, and at β = 1 the
        mean-field m, m_in, m_out, χ and the number of saddle points. The curves over T are a scan:
        :func:`statmech_nn.scan.meanfield_tasks.layer_curves`.
        """
        tc = self.critical_temperature
        at_one = self.spin_model.saddle_points(1.0, random_starts=random_starts, seed=seed)
        V = at_one.V
        return {
            "n_in": self.n_in, "n_out": self.n_out, "Tc": tc,
            "beta_c": 1.0 / tc if tc > 0 else float("inf"),
            "reduced_temperature": (1.0 - tc) / tc if tc > 0 else float("inf"),
            "phase_at_beta_1": "ordered" if tc > 1.0 else "paramagnetic",
            "field_rms": float(np.sqrt(np.mean(self.field**2))),
            "m": at_one.m, "m_in": float(V[: self.n_in].mean()), "m_out": float(V[self.n_in:].mean()),
            "chi": float(at_one.chi.mean()), "solutions": at_one.count,
        }
