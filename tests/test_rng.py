"""Per-chain xoshiro256++ streams and the ziggurat normal (statmech_nn.rng)."""

import numba
import numpy as np
import pytest
from scipy import stats

from statmech_nn.rng import chain_states, fill_normals, fill_uniforms

ZIGGURAT_R = 3.6541528853610088


def test_xoshiro256plusplus_matches_the_reference_recurrence():
    # the published algorithm, step by step in Python integers (Blackman & Vigna 2019)
    mask = (1 << 64) - 1
    rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & mask  # noqa: E731
    state = [1, 2, 3, 4]
    expected = []
    for _ in range(5):
        s0, s1, s2, s3 = state
        expected.append((rotl((s0 + s3) & mask, 23) + s0) & mask)
        t = (s1 << 17) & mask
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        state = [s0, s1, s2, s3]
    states = np.array([[1, 2, 3, 4]], np.uint64)
    uniforms = np.empty((1, 5))
    fill_uniforms(states, uniforms)
    np.testing.assert_array_equal(uniforms[0], [(v >> 11) * 2.0**-53 for v in expected])
    assert states[0].tolist() == state


def test_normals_are_standard_normal_including_the_tail():
    out = np.empty((200, 5000))
    fill_normals(chain_states(11, 200), out)
    assert stats.kstest(out.ravel(), "norm").pvalue > 1e-3
    assert abs(out.mean()) < 5 / np.sqrt(out.size)
    assert abs(out.var() - 1) < 5 * np.sqrt(2 / out.size)
    # the tail beyond the base layer's edge r is sampled separately: its mass must be right
    tail = np.mean(np.abs(out) > ZIGGURAT_R)
    expected = 2 * stats.norm.sf(ZIGGURAT_R)
    assert abs(tail - expected) < 5 * np.sqrt(expected / out.size)
    assert stats.kstest(np.abs(out[np.abs(out) > ZIGGURAT_R]), stats.truncnorm(ZIGGURAT_R, np.inf).cdf).pvalue > 1e-3


def test_same_seed_same_bits_for_any_thread_count_and_chains_are_independent():
    draws = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        out = np.empty((16, 1000))
        fill_normals(chain_states(5, 16), out)
        draws.append(out)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(draws[0], draws[1])
    # chain c's stream depends on (seed, c) only, not on how many chains run beside it
    few = np.empty((4, 1000))
    fill_normals(chain_states(5, 4), few)
    np.testing.assert_array_equal(few, draws[0][:4])
    assert np.abs(np.corrcoef(draws[0])[np.triu_indices(16, 1)]).max() < 0.15
    other = np.empty((16, 1000))
    fill_normals(chain_states(6, 16), other)
    assert not np.array_equal(other, draws[0])


@pytest.mark.parametrize("seed", [0, 2**63, np.random.SeedSequence(3)])
def test_chain_states_accept_ints_and_seed_sequences(seed):
    states = chain_states(seed, 3)
    assert states.shape == (3, 4) and states.dtype == np.uint64 and states.any(axis=1).all()
