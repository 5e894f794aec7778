"""xoshiro256** random numbers inside numba kernels, one independent stream per chain.

Each chain carries its own 4-word uint64 state, drawn from a ``numpy.random.Generator``; parallel chains
(``numba.prange``) therefore give the same bits whatever the thread count or schedule. The generator is
Blackman & Vigna's xoshiro256** (public-domain reference algorithm); doubles take the top 53 bits.
"""

from __future__ import annotations

import numba
import numpy as np

_ONE = np.uint64(1)
_DOUBLE_SCALE = 1.0 / 9007199254740992.0  # 2^-53


def seed_states(rng: np.random.Generator, chains: int) -> np.ndarray:
    """(chains, 4) uint64 states drawn from ``rng``; never the all-zero state."""
    states = rng.integers(0, np.iinfo(np.uint64).max, size=(chains, 4), dtype=np.uint64, endpoint=True)
    states[:, 0] |= _ONE
    return states


@numba.njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(cache=True)
def next_uint64(state):
    """Advance ``state`` (a uint64[4] view) and return the next 64-bit output."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return result


@numba.njit(cache=True)
def next_double(state):
    """A uniform double in [0, 1)."""
    return float(next_uint64(state) >> np.uint64(11)) * _DOUBLE_SCALE
