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

The generator state travels through a kernel as a tuple of four uint64 (``st = load(states, c)``,
``z, st = normal(st)``, ``store(states, c, st)``), so numba keeps it in registers.
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


@numba.njit
def _rotl(value, shift):
    return (value << shift) | (value >> (_U64 - shift))


@numba.njit
def load(states, c):
    """Chain ``c``'s state as a tuple of 4 uint64 (kept in registers by the kernels)."""
    return (states[c, 0], states[c, 1], states[c, 2], states[c, 3])


@numba.njit
def store(states, c, st):
    """Write the state tuple ``st`` back as chain ``c``'s row."""
    states[c, 0] = st[0]
    states[c, 1] = st[1]
    states[c, 2] = st[2]
    states[c, 3] = st[3]


@numba.njit
def next_u64(st):
    """One 64-bit draw of xoshiro256++: returns (bits, new state)."""
    s0, s1, s2, s3 = st
    result = _rotl(s0 + s3, _U23) + s0
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U45)
    return result, (s0, s1, s2, s3)


@numba.njit
def uniform(st):
    """U[0, 1) with 53 random bits: returns (u, new state)."""
    bits, st = next_u64(st)
    return float(bits >> _U11) * _TO_UNIT, st


@numba.njit
def uniform_open(st):
    """U(0, 1), never 0, so that its logarithm is finite: returns (u, new state)."""
    bits, st = next_u64(st)
    return (float(bits >> _U11) + 0.5) * _TO_UNIT, st


@numba.njit
def _normal_slow(st, layer, x):
    """The ziggurat's rare branches: the tail beyond r (layer 0) or the wedge of ``layer``; x < 0 means rejected."""
    if layer == 0:
        while True:
            u1, st = uniform_open(st)
            u2, st = uniform_open(st)
            a = -np.log(u1) / _R
            if -2.0 * np.log(u2) > a * a:
                return _R + a, st
    u, st = uniform(st)
    y = _ZIG_F[layer] + u * (_ZIG_F[layer + 1] - _ZIG_F[layer])
    if y < np.exp(-0.5 * x * x):
        return x, st
    return -1.0, st


@numba.njit
def normal(st):
    """N(0, 1) by the ziggurat (one 64-bit draw in ~99% of calls): returns (z, new state)."""
    while True:
        bits, st = next_u64(st)
        layer = np.int64(bits & _LAYER_MASK)
        x = float(bits >> _U11) * _TO_UNIT * _ZIG_X[layer]
        if x >= _ZIG_X[layer + 1]:
            x, st = _normal_slow(st, layer, x)
            if x < 0.0:
                continue
        if (bits >> _U8) & _ONE:
            x = -x
        return x, st


@numba.njit(cache=True, parallel=True)
def fill_normals(states, out):
    """out[c, :] = standard normals from chain c's stream; advances ``states`` (a test and reference entry point)."""
    for c in numba.prange(out.shape[0]):
        st = load(states, c)
        for j in range(out.shape[1]):
            z, st = normal(st)
            out[c, j] = z
        store(states, c, st)


@numba.njit(cache=True, parallel=True)
def fill_uniforms(states, out):
    """out[c, :] = U[0, 1) draws from chain c's stream; advances ``states``."""
    for c in numba.prange(out.shape[0]):
        st = load(states, c)
        for j in range(out.shape[1]):
            u, st = uniform(st)
            out[c, j] = u
        store(states, c, st)
