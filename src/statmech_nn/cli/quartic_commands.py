"""``statmech-nn quartic pdf|boundaries|curves`` and ``statmech-nn derive quartic``: the toy model of 002 §2."""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import DataError, NotNormalizableError
from ..io import read_toml
from ..package_data import find_spec
from ..params import require_number
from ..quartic import QuarticModel
from ..quartic.parameters import NAMES, PARAMETERS, REQUIRED
from ..quartic.regimes import closed_form_boundaries
from ._common import UsageError, add_command, add_json_flag, emit, finite, out_path


def add_model_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--lambda-x ... --q-bar, and --model SPEC (a models/*.toml file or shipped name; flags override it)."""
    group = parser.add_argument_group("quartic model (002 eq. (1))")
    group.add_argument("--model",
                       help="model spec with a [parameters] table: a TOML file or a shipped name (e.g. quartic)")
    for parameter in PARAMETERS:
        needed = "; required unless given by --model" if required and parameter.required else ""
        group.add_argument(parameter.flag, dest=parameter.name, type=finite, default=None,
                           help=f"{parameter.symbol}, {parameter.allowed} ({parameter.source}){needed}")


def model_parameters(args: argparse.Namespace, required: bool = True) -> dict:
    """The model's parameters from --model and the flags; a missing required one is a usage error."""
    values = _spec_parameters(args.model) if args.model else {}
    values.update({name: getattr(args, name) for name in NAMES if getattr(args, name) is not None})
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise UsageError(f"unknown model parameter(s) in {args.model}: {', '.join(unknown)}")
    missing = [name for name in REQUIRED if name not in values] if required else []
    if missing:
        raise UsageError("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    return values


SPEC_KEYS = ("model", "source", "parameters")


def _spec_parameters(path: str) -> dict:
    """The [parameters] table of a model spec; any other table, a non-table or a non-number is refused."""
    spec = read_toml(find_spec(path, "model"))
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise DataError(f"{path}: unknown key(s) {', '.join(unknown)} "
                        f"(a quartic model spec has {', '.join(SPEC_KEYS)})")
    table = spec.get("parameters", {})
    if not isinstance(table, dict):
        raise DataError(f"{path}: [parameters] must be a table, got {type(table).__name__}")
    return {name: require_number(f"parameters.{name}", value) for name, value in table.items()}


def model_from_args(args: argparse.Namespace) -> QuarticModel:
    return QuarticModel(**model_parameters(args))


def register(subparsers) -> None:
    quartic = add_command(subparsers, "quartic")
    commands = quartic.add_subparsers(dest="quartic_command", metavar="ACTION", required=True)

    pdf = commands.add_parser("pdf", help="normalized p(q) at given q")
    add_model_arguments(pdf)
    pdf.add_argument("--q", type=finite, nargs="+", required=True, help="points at which to evaluate p(q)")
    add_json_flag(pdf)
    pdf.set_defaults(handler=_pdf)

    boundaries = commands.add_parser("boundaries", help="regime boundaries in u = (q - q_bar)^2, exponent, masses")
    add_model_arguments(boundaries)
    add_json_flag(boundaries)
    boundaries.set_defaults(handler=_boundaries)

    curves = commands.add_parser("curves", help="p(q) with regimes, p(x|q), exact F vs eq. (4): PNG + NetCDF")
    add_model_arguments(curves)
    curves.add_argument("--out", type=out_path, required=True, help="output directory")
    add_json_flag(curves)
    curves.set_defaults(handler=_curves)

    derive = add_command(subparsers, "derive")
    derive.add_argument("model_name", choices=["quartic"], help="which model")
    derive.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")
    derive.set_defaults(handler=_derive)


def _pdf(args) -> None:
    q = np.asarray(args.q, float)
    pdf = model_from_args(args).marginal().pdf(q)
    emit({"q": q, "pdf": pdf}, args.json, "\n".join(f"{qi:.10g}\t{pi:.10g}" for qi, pi in zip(q, pdf)))


def _boundaries(args) -> None:
    """The regime boundaries (closed forms, any parameters) and, where p(q) is normalizable, each regime's mass;
    where it is not (μ = 0 with λx < 0, 002's frustrated case), the masses are null and ``density`` says why."""
    model = model_from_args(args)
    boundaries = closed_form_boundaries(model.lambda_x, model.g, model.lambda_q, model.alpha, model.beta, model.mu)
    try:
        payload = {**boundaries, **model.regimes().to_dict(), "density": "normalizable"}
    except NotNormalizableError as exc:
        masses = ("mass_frustrated", "mass_core", "mass_powerlaw", "mass_gauss")
        payload = {**boundaries, **dict.fromkeys(masses),
                   "density": f"not normalizable, so no regime masses (the boundaries above are closed forms): {exc}"}
    emit(payload, args.json)


def _curves(args) -> None:
    from ..report.model_figures import quartic_curves

    written = quartic_curves(model_from_args(args), args.out)
    emit({"out": str(args.out), "files": [str(p) for p in written]}, args.json,
         "\n".join(str(p) for p in written))


def _derive(args) -> None:
    from ..quartic.symbolic import render

    print(render(latex=args.latex))
