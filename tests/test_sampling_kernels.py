"""The samplers' pure step kernels: bit-for-bit against an independent NumPy step fed the same noise, and the
run kernels against their own step replayed from the same per-chain streams."""

import numpy as np
import pytest
from reference_samplers import LangevinBuffers, numpy_langevin_step

from statmech_nn.rng import chain_states, fill_normals
from statmech_nn.sampling.langevin import langevin_step, quartic_langevin_kernel
from statmech_nn.sampling.metropolis import mh_step
from statmech_nn.sampling.quartic_setup import initial_state
from statmech_nn.quartic import QuarticModel

MODELS = {
    "gaussian": QuarticModel(lambda_x=0.5, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0),
    "frustrated": QuarticModel(lambda_x=-0.3, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0, mu=0.5),
    "shifted": QuarticModel(lambda_x=0.02, g=2.0, lambda_q=0.2, alpha=1.0, beta=2.0, mu=0.05, x_bar=-0.2, q_bar=0.3),
}
DT, EPSILON = 0.01, 0.1


@pytest.mark.parametrize("name", MODELS)
def test_langevin_step_is_the_numpy_step_bit_for_bit(name):
    model = MODELS[name]
    p = model.packed()
    x, q, _ = initial_state(model, 64, seed=3)
    ours_x, ours_q = x.copy(), q.copy()
    rng = np.random.default_rng(4)
    work = LangevinBuffers(x.size)
    for _ in range(50):
        noise = rng.standard_normal((x.size, 2))
        ours_x, ours_q = langevin_step(p, DT, EPSILON, False, ours_x, ours_q, noise)
        numpy_langevin_step(p, DT, EPSILON, x, q, noise[:, 0].copy(), noise[:, 1].copy(), work)
    np.testing.assert_array_equal(ours_x, x)
    np.testing.assert_array_equal(ours_q, q)
    assert not np.array_equal(q, initial_state(model, 64, seed=3)[1])


@pytest.mark.parametrize("exponential", [False, True], ids=["euler", "exponential"])
def test_the_run_kernel_is_its_step_fed_each_chains_stream(exponential):
    """The run kernel draws (z_x, z_q) per step from each chain's stream; replaying the streams into the
    pure step gives the same bits (for any number of chains per thread group)."""
    model = MODELS["frustrated"]
    p = model.packed()
    chains, steps = 13, 40
    x0, q0, _ = initial_state(model, chains, seed=5)
    states = chain_states(9, chains)
    x, q = x0.copy(), q0.copy()
    out_q, out_x = np.empty((steps, chains, 1)), np.empty((steps, chains, 1))
    status = np.zeros(chains, np.int64)
    quartic_langevin_kernel(p, DT, EPSILON, exponential, x, q, states.copy(), steps, 1, out_q, out_x, status)
    noise = np.empty((chains, 2 * steps))
    fill_normals(states.copy(), noise)
    rx, rq = x0.copy(), q0.copy()
    for n in range(steps):
        rx, rq = langevin_step(p, DT, EPSILON, exponential, rx, rq, noise[:, 2 * n:2 * n + 2].copy())
        np.testing.assert_array_equal(out_q[n, :, 0], rq)
        np.testing.assert_array_equal(out_x[n, :, 0], rx)
    np.testing.assert_array_equal(x, rx)
    assert not status.any()


def test_mh_step_keeps_a_point_mass_where_every_move_is_rejected_and_moves_where_accepted():
    """u → 1 rejects every proposal whose density ratio is below 1; u → 0 accepts every one."""
    model = MODELS["shifted"]
    p = model.packed()
    x, q, _ = initial_state(model, 32, seed=6)
    z = np.random.default_rng(7).standard_normal((32, 2))
    reject = np.column_stack([z[:, 0], np.full(32, 1.0 - 1e-16), z[:, 1], np.full(32, 1.0 - 1e-16)])
    accept = np.column_stack([z[:, 0], np.full(32, 1e-300), z[:, 1], np.full(32, 1e-300)])
    rx, rq = mh_step(p, 2.4, 0.0, x, q, reject)
    ax, aq = mh_step(p, 2.4, 0.0, x, q, accept)
    downhill = model.energy(rx, q) < model.energy(x, q)    # downhill in H at fixed q: accepted even at u → 1
    assert np.all((rx == x) | downhill)
    assert np.all(ax != x) and np.all(aq != q)
