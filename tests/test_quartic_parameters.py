"""The one table of the quartic parameters (quartic/parameters.py) and what is derived from it."""

import dataclasses
import inspect

import numpy as np
import pytest
from hypothesis import given, strategies as st

from statmech_nn.cli import main
from statmech_nn.errors import ParameterError
from statmech_nn.scan.grid import QUARTIC_SCAN_PARAMETERS, quartic_scan
from statmech_nn.params import GridAxis
from statmech_nn.quartic import QuarticModel
from statmech_nn.quartic import free_energy, hamiltonian, quadrature
from statmech_nn.quartic.batch import evaluate
from statmech_nn.quartic.parameters import BY_NAME, INDEX, NAMES, PARAMETERS, REQUIRED, SHAPE_PARAMETERS
from statmech_nn.quartic.quadrature import Params

VALID = dict(lambda_x=0.5, g=1.0, lambda_q=1.0, alpha=0.5, beta=1.0)


def test_the_model_constructor_is_the_table():
    fields = dataclasses.fields(QuarticModel)
    assert tuple(f.name for f in fields) == NAMES
    for field, parameter in zip(fields, PARAMETERS):
        default = None if field.default is dataclasses.MISSING else field.default
        assert default == parameter.default, parameter.name
    assert REQUIRED == ("lambda_x", "g", "lambda_q", "alpha", "beta")


def test_the_batch_arrays_and_the_scan_axes_are_the_shape_parameters():
    assert tuple(f.name for f in dataclasses.fields(Params)) == SHAPE_PARAMETERS == QUARTIC_SCAN_PARAMETERS
    assert set(NAMES) - set(SHAPE_PARAMETERS) == {"x_bar", "q_bar"}


def test_one_order_the_tables_for_every_positional_list():
    """The packed vector of the numba kernels, the positions they read, and the argument lists of the kernels that
    take the batch arrays positionally all follow the table (a kernel's signature is read from its Python source)."""
    model = QuarticModel(lambda_x=-0.3, g=1.1, lambda_q=1.2, alpha=1.3, beta=1.4, mu=1.5, x_bar=1.6, q_bar=1.7)
    np.testing.assert_array_equal(model.packed(), [getattr(model, name) for name in NAMES])
    assert {name: int(getattr(hamiltonian, name.upper())) for name in NAMES} == INDEX
    assert all(model.packed()[INDEX[name]] == getattr(model, name) for name in NAMES)
    for kernel, skip in ((quadrature._log_integrals_kernel, 5), (free_energy.log_unnormalized_marginal_scalar, 1)):
        names = tuple(inspect.signature(kernel.py_func).parameters)[skip:skip + len(SHAPE_PARAMETERS)]
        assert names == SHAPE_PARAMETERS, kernel
    p = Params.of(model.to_dict())
    assert p.positional() == tuple(getattr(p, name) for name in SHAPE_PARAMETERS)
    assert [float(a[0]) for a in p.positional()] == [getattr(model, name) for name in SHAPE_PARAMETERS]


def test_the_batch_takes_its_parameters_by_name():
    by_name = evaluate({"beta": 1.0, "alpha": [0.5, 0.7], "lambda_q": 1.0, "g": 1.0, "lambda_x": 0.1})
    with_mu = evaluate({**VALID, "alpha": [0.5, 0.7], "lambda_x": 0.1, "mu": 0.0, "q_bar": 3.0})
    assert all(np.array_equal(by_name[key], with_mu[key], equal_nan=True) for key in by_name)
    with pytest.raises(ParameterError, match="beta"):
        evaluate({"lambda_x": 0.1, "g": 1.0, "lambda_q": 1.0, "alpha": 0.5})
    with pytest.raises(ParameterError, match="gamma"):
        evaluate({**VALID, "gamma": 1.0})


@pytest.mark.parametrize("name, bad", [("g", 0.0), ("g", np.inf), ("lambda_q", -0.1), ("alpha", -1.0),
                                       ("beta", 0.0), ("mu", -1e-9), ("lambda_x", np.nan), ("q_bar", np.inf)])
def test_out_of_range_values_name_the_parameter_everywhere(name, bad):
    """The model, the scan's grid check and the vectorized test all reject the same values."""
    with pytest.raises(ParameterError, match=name):
        QuarticModel(**{**VALID, name: bad})
    assert not BY_NAME[name].holds([bad])[0]
    if name in SHAPE_PARAMETERS:
        fixed = {k: v for k, v in {**VALID, "mu": 0.0}.items() if k != name}
        with pytest.raises(ParameterError, match=name):
            quartic_scan([GridAxis(name, np.array([bad, 1.0]))], fixed, progress=False)


@given(st.sampled_from(PARAMETERS), st.floats(allow_nan=True, allow_infinity=True))
def test_scalar_and_vectorized_checks_agree(parameter, value):
    try:
        parameter.require(value)
        accepted = True
    except ParameterError:
        accepted = False
    assert accepted == bool(parameter.holds([value])[0])


@pytest.mark.parametrize("command", [["quartic", "pdf", "--q", "0"],
                                     ["sample", "quartic", "--method", "exact", "--chains", "2", "--steps", "8"]])
def test_every_parameter_is_a_command_line_option(command, capsys):
    """Both commands that build a model take every parameter under the table's flag, and a missing required
    one is a one-line usage error that names it."""
    flags = [arg for p in PARAMETERS for arg in (p.flag, "0.25")]
    assert main([*command, *flags, "--json"]) == 0
    capsys.readouterr()
    assert main([*command, *flags[2:]]) == 2
    assert "--lambda-x" in capsys.readouterr().err
