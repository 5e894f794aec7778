"""Assemblies of eq. (20): the batched gated products equal the circuit perturbations; moments and decay fits."""

import numpy as np
import pytest

from statmech_nn.errors import ParameterError
from statmech_nn.gates.assembly import _networks, assemblies, assembly_moments, decay_rates
from statmech_nn.gates.circuits import build_stages, circuit_gradient, circuit_hessian


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_assemblies_equal_circuit_perturbations(depth):
    rng = np.random.default_rng(depth)
    stacked = _networks(rng, depth, 6, 4, 1.0, 2)
    x = rng.normal(size=6)
    values = assemblies(stacked, x)
    for m in range(4):
        layers = [w[m] for w in stacked]
        specs = [s for w in layers for s in (("linear", w), ("relu",))][:-1]
        circuits = build_stages(specs, x)
        hessian = circuit_hessian(circuits)
        last = sum(w.size for w in layers[:-1])          # first entry of the output layer
        assert values[m, 0] == pytest.approx(circuits.output[0], rel=1e-12, abs=1e-14)
        assert values[m, 1] == pytest.approx(circuit_gradient(circuits)[0][0, 0], rel=1e-12, abs=1e-14)
        assert values[m, 2] == pytest.approx(hessian[0, last], rel=1e-12, abs=1e-14)


def test_moments_and_rates():
    moments = assembly_moments((2, 3, 4), (8,), mu=None, networks=400, seed=1)
    assert moments["mean"].dims == ("order", "depth", "width")
    z = np.abs(moments["mean"] / moments["sem"]).sel(order=[0, 1])
    assert float(z.max()) < 4.5                      # symmetric weights: zero means
    second = moments["second_moment"].sel(order=0).values[:, 0]
    assert np.all(second > 0.2) and np.all(second < 20)   # c = 1 keeps the output's scale across depth
    rows = decay_rates(moments)
    assert {r["verdict"] for r in rows if r["order"] in (0, 1)} == {"inconclusive"}
    broken = assembly_moments((2, 3, 4), (8,), mu=0.5, networks=400, seed=1)
    assert int(broken["broken_per_layer"].values[0]) == 2
    with pytest.raises(ParameterError):
        assembly_moments((1,), (8,))
    with pytest.raises(ParameterError):
        assembly_moments((2,), (8,), mu=-1)
