"""Exact finite-N Curie–Weiss magnet by summing over magnetization sectors (001 slide 'Simple (relevant) model').

H = -(J/2N) M² - b M with M = Σ s_i = N - 2k (k down spins), so

    Z = Σ_{k=0}^{N} C(N, k) exp(β [J M²/(2N) + b M])        (001: Z = Σ_s e^{-βH(s)}, 2^N states in N+1 sectors)

is a sum of N+1 terms, done in log space (log-binomials by gammaln, logsumexp), vectorized over any batch of
(β, b) points in chunks. N = 10⁶ takes a fraction of a second. Moments are computed centred (two passes),
so χ = Nβ(<m²> - <m>²) carries no cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import gammaln, logsumexp

from ..errors import ParameterError
from ..distributions import DiscreteDistribution
from ..params import require_finite, require_int, require_positive

# Largest (points × sectors) block held in memory at once by the vectorized sums.
_CHUNK_ELEMENTS = 4_000_000
# Largest N: a few arrays of N+1 doubles (800 MB at this limit).
MAX_SPINS = 100_000_000


def log_multiplicity(n: int) -> np.ndarray:
    """log C(N, k) for k = 0..N: the number of states with magnetization M = N - 2k."""
    k = np.arange(n + 1, dtype=float)
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def sector_magnetizations(n: int) -> np.ndarray:
    """m = M/N = 1 - 2k/N for k = 0..N (descending from +1 to -1)."""
    return 1.0 - 2.0 * np.arange(n + 1, dtype=float) / n


def _sector_log_weights(n, log_mult, m, beta, j, b):
    """log of C(N,k) e^{-βH}: shape (points, N+1); -βH = βN (J m²/2 + b m)."""
    return log_mult[None, :] + (beta * n)[:, None] * (0.5 * j[:, None] * m[None, :] ** 2 + b[:, None] * m[None, :])


def exact_observables(n: int, beta, j=1.0, b=0.0) -> dict[str, np.ndarray]:
    """Every thermodynamic observable of the N-spin Curie–Weiss magnet, broadcast over (β, J, b).

    Returns arrays of the broadcast shape: ``log_partition`` (ln Z), ``free_energy_per_spin``
    (-ln Z/(βN)), ``m`` (<M>/N), ``m_abs`` (<|M|>/N), ``m2``, ``m4``, ``chi`` (Nβ(<m²> - <m>²) = dm/db),
    ``chi_abs`` (Nβ(<m²> - <|m|>²), the susceptibility of one ordered state below T_c), ``energy_per_spin``
    (<H>/N), ``specific_heat`` (Nβ² var(H/N)) and ``binder`` (1 - <m⁴>/(3<m²>²)).
    """
    n = require_int("n", n, minimum=1)
    if n > MAX_SPINS:
        raise ParameterError("n", n, f"<= {MAX_SPINS} (the sums hold N+1 sectors in memory)")
    beta, j, b = np.broadcast_arrays(*(np.asarray(v, float) for v in (beta, j, b)))
    shape = beta.shape
    beta, j, b = (v.ravel() for v in (beta, j, b))
    log_mult, m = log_multiplicity(n), sector_magnetizations(n)
    keys = ("log_partition", "free_energy_per_spin", "m", "m_abs", "m2", "m4", "chi", "chi_abs",
            "energy_per_spin", "specific_heat", "binder")
    out = {key: np.empty(beta.size) for key in keys}
    step = max(1, _CHUNK_ELEMENTS // (n + 1))
    for start in range(0, beta.size, step):
        part = slice(start, start + step)
        p = _sector_log_weights(n, log_mult, m, beta[part], j[part], b[part])
        peak = p.max(axis=1)
        np.exp(p - peak[:, None], out=p)  # log-sum-exp by hand, keeping the exponentials as the weights
        norm = p.sum(axis=1)
        p /= norm[:, None]
        log_z = peak + np.log(norm)
        mean = p @ m
        centred = m[None, :] - mean[:, None]
        var = np.einsum("ij,ij->i", p, centred**2)
        m2 = p @ (m * m)
        mean_abs = p @ np.abs(m)
        mean_energy = -0.5 * j[part] * m2 - b[part] * mean
        energy_dev = -0.5 * j[part][:, None] * (m[None, :] ** 2 - m2[:, None]) - b[part][:, None] * centred
        var_energy = np.einsum("ij,ij->i", p, energy_dev**2)
        out["log_partition"][part] = log_z
        out["free_energy_per_spin"][part] = -log_z / (beta[part] * n)
        out["m"][part] = mean
        out["m_abs"][part] = mean_abs
        out["m2"][part] = m2
        out["m4"][part] = p @ m**4
        out["chi"][part] = n * beta[part] * var
        out["chi_abs"][part] = n * beta[part] * np.maximum(m2 - mean_abs**2, 0.0)
        out["energy_per_spin"][part] = mean_energy
        out["specific_heat"][part] = n * beta[part] ** 2 * var_energy
        out["binder"][part] = 1.0 - out["m4"][part] / (3.0 * m2**2)
    return {key: value.reshape(shape)[()] for key, value in out.items()}


@dataclass(frozen=True)
class CurieWeissExact(DiscreteDistribution):
    """The exact distribution of the magnetization per spin m = M/N at finite N, like a frozen scipy.stats law.

    The support is m ∈ {-1, -1 + 2/N, ..., 1} (``values()``); every method of scipy.stats's discrete laws comes
    from :class:`~statmech_nn.distributions.DiscreteDistribution`. ``observables`` holds every thermodynamic
    observable of :func:`exact_observables`; the main ones are properties.
    """

    n: int
    beta: float
    j: float = 1.0
    b: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "n", require_int("n", self.n, minimum=1))
        if self.n > MAX_SPINS:
            raise ParameterError("n", self.n, f"<= {MAX_SPINS} (the sums hold N+1 sectors in memory)")
        object.__setattr__(self, "beta", require_positive("beta", self.beta))
        object.__setattr__(self, "j", require_finite("j", self.j))
        object.__setattr__(self, "b", require_finite("b", self.b))

    @cached_property
    def observables(self) -> dict[str, float]:
        return {key: float(value) for key, value in exact_observables(self.n, self.beta, self.j, self.b).items()}

    @property
    def m(self) -> float:
        """<M>/N."""
        return self.observables["m"]

    @property
    def m_abs(self) -> float:
        """<|M|>/N: the order parameter at b = 0, where <M> = 0 by symmetry."""
        return self.observables["m_abs"]

    @property
    def chi(self) -> float:
        """Nβ(<m²> - <m>²) = ∂<m>/∂b."""
        return self.observables["chi"]

    @property
    def free_energy_per_spin(self) -> float:
        """-ln Z/(βN) (001: F[b] = -kT ln Z[b], per spin)."""
        return self.observables["free_energy_per_spin"]

    @property
    def binder(self) -> float:
        """1 - <m⁴>/(3<m²>²): 2/3 deep in the ordered phase, 0 in the paramagnet as N → ∞."""
        return self.observables["binder"]

    # the distribution of m -------------------------------------------------------------------
    def _parameters(self) -> dict:
        return {"n": self.n, "beta": self.beta, "j": self.j, "b": self.b}

    @cached_property
    def _magnetizations(self) -> np.ndarray:
        return sector_magnetizations(self.n)[::-1].copy()

    def values(self) -> np.ndarray:
        """The N+1 values of m, ascending."""
        return self._magnetizations

    @cached_property
    def _log_pmf_table(self) -> np.ndarray:
        log_w = _sector_log_weights(self.n, log_multiplicity(self.n)[::-1], self.values(), np.array([self.beta]),
                                    np.array([self.j]), np.array([self.b]))[0]
        return log_w - logsumexp(log_w)

    def _log_probabilities(self) -> np.ndarray:
        return self._log_pmf_table

    def mean(self) -> float:
        return self.m

    def var(self) -> float:
        return self.chi / (self.n * self.beta)
