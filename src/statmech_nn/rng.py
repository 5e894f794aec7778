"""Per-chain random streams for numba kernels: xoshiro256++ with a ziggurat for normals.

numba's built-in ``np.random`` keeps one state per thread, so a ``prange`` loop would give results
that depend on how chains are scheduled onto threads. Here every chain owns its own generator state
(one row of a ``(chains, 4)`` uint64 array), seeded from ``numpy.random.SeedSequence(seed).spawn``:
chain ``c`` draws the same bits whatever the number of threads or the size of the blocks a run is
cut into.

- uniform bits: xoshiro256++ (Blackman & Vigna 2019), period 2²⁵⁶ - 1;
- uniforms: the top 53 bits, on [0, 1) (:func:`uniform`) or (0, 1) (:func:`uniform_open`);
- standard normals: the 256-layer ziggurat of Marsaglia & Tsang (2000) with Marsaglia's exact
  tail sampler, taking layer, sign and abscissa from one 64-bit draw (bits 0-7, 8 and 11-63).

Every draw names its stream: ``normal(states, c)`` advances row c of ``states`` in place. A kernel may
copy the rows of the chains it advances into a small local array first (no aliasing with its outputs)
and interleave several chains step by step, which lets the CPU overlap their independent dependency
chains (see :mod:`statmech_nn.sampling.langevin`).
"""

from __future__ import annotations

import numba
import numpy as np

STATE_WORDS = 4

_U23, _U45, _U17 = np.uint64(23), np.uint64(45), np.uint64(17)
_U41, _U19, _U64 = np.uint64(41), np.uint64(19), np.uint64(64)
_U11, _U8 = np.uint64(11), np.uint64(8)
_LAYER_MASK, _ONE = np.uint64(255), np.uint64(1)
_TO_UNIT = 2.0**-53

# 256-layer ziggurat for f(x) = exp(-x²/2) (Marsaglia & Tsang 2000): r is the right edge of the
# base layer, v the common area of every layer.
_R = 3.6541528853610088
_V = 0.00492867323399


def _ziggurat_tables():
    x = np.empty(257)
    x[0] = _V / np.exp(-0.5 * _R * _R)
    x[1] = _R
    for i in range(2, 256):
        x[i] = np.sqrt(-2.0 * np.log(_V / x[i - 1] + np.exp(-0.5 * x[i - 1] ** 2)))
    x[256] = 0.0
    return x, np.exp(-0.5 * x * x)


_ZIG_X, _ZIG_F = _ziggurat_tables()


def chain_states(seed, n_chains: int) -> np.ndarray:
    """(n_chains, 4) uint64 xoshiro256++ states, one independent stream per chain.

    ``seed`` is an int or a ``numpy.random.SeedSequence``; chain c is seeded from
    ``SeedSequence(seed).spawn(n_chains)[c]``, so its stream depends on (seed, c) only.
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = root.spawn(int(n_chains))
    states = np.empty((int(n_chains), STATE_WORDS), np.uint64)
    for c, child in enumerate(children):
        states[c] = child.generate_state(STATE_WORDS, np.uint64)
    # the all-zero state is xoshiro's one fixed point (probability 2^-256)
    states[~states.any(axis=1), 0] = 1
    return states


@numba.njit(inline="always")
def _rotl(value, shift):
    return (value << shift) | (value >> (_U64 - shift))


@numba.njit(inline="always")
def next_u64(states, c):
    """One 64-bit xoshiro256++ draw from stream ``c`` (row c of ``states``, updated in place)."""
    s0, s1, s2, s3 = states[c, 0], states[c, 1], states[c, 2], states[c, 3]
    result = _rotl(s0 + s3, _U23) + s0
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U45)
    states[c, 0] = s0
    states[c, 1] = s1
    states[c, 2] = s2
    states[c, 3] = s3
    return result


@numba.njit(inline="always")
def _unit(bits):
    """The top 53 bits as a float in [0, 1) (a signed conversion, which is fast)."""
    return float(np.int64(bits >> _U11)) * _TO_UNIT


@numba.njit(inline="always")
def uniform(states, c):
    """U[0, 1) with 53 random bits from stream ``c``."""
    return _unit(next_u64(states, c))


@numba.njit(inline="always")
def uniform_open(states, c):
    """U(0, 1) from stream ``c``: never 0, so that its logarithm is finite."""
    return _unit(next_u64(states, c)) + 0.5 * _TO_UNIT


@numba.njit
def _normal_slow(states, c, bits, x):
    """The ziggurat's rare branches for the draw ``bits`` (abscissa x): Marsaglia's tail beyond r in layer 0,
    the wedge test otherwise, and fresh draws until one is accepted."""
    while True:
        layer = np.int64(bits & _LAYER_MASK)
        if layer == 0:
            while True:
                a = -np.log(uniform_open(states, c)) / _R
                if -2.0 * np.log(uniform_open(states, c)) > a * a:
                    x = _R + a
                    break
            break
        if _ZIG_F[layer] + uniform(states, c) * (_ZIG_F[layer + 1] - _ZIG_F[layer]) < np.exp(-0.5 * x * x):
            break
        bits = next_u64(states, c)
        x = _unit(bits) * _ZIG_X[np.int64(bits & _LAYER_MASK)]
        if x < _ZIG_X[np.int64(bits & _LAYER_MASK) + 1]:
            break
    return -x if (bits >> _U8) & _ONE else x


@numba.njit(inline="always")
def normal(states, c):
    """N(0, 1) from stream ``c`` by the ziggurat: one 64-bit draw and no branch on the sign in ~99% of calls."""
    bits = next_u64(states, c)
    layer = np.int64(bits & _LAYER_MASK)
    x = _unit(bits) * _ZIG_X[layer]
    if x < _ZIG_X[layer + 1]:
        return (1.0 - 2.0 * float(np.int64((bits >> _U8) & _ONE))) * x
    return _normal_slow(states, c, bits, x)


@numba.njit(cache=True, parallel=True)
def fill_normals(states, out):
    """out[c, :] = standard normals from stream c; advances ``states`` (a test and reference entry point)."""
    for c in numba.prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[c, j] = normal(states, c)


@numba.njit(cache=True, parallel=True)
def fill_uniforms(states, out):
    """out[c, :] = U[0, 1) draws from stream c; advances ``states``."""
    for c in numba.prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[c, j] = uniform(states, c)
