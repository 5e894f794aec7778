"""``statmech-nn validate [SPEC]``: the main job (default: the shipped spec soc_mnist5k); a spec with
``[experiment] kind = "plasticity"`` runs 003's protocol (:mod:`statmech_nn.experiments.plasticity`) instead."""

from __future__ import annotations

from ..runs.claim import claim
from ..runs.directory import command_line, plain_name
from ._common import add_command, add_json_flag, add_large_flag, emit, out_path


def register(subparsers) -> None:
    parser = add_command(subparsers, "validate")
    parser.add_argument("spec", nargs="?", help="experiment spec: a TOML file, or the name of a shipped one "
                        "(soc_mnist5k (default), soc_mnist5k_published, soc_digits, smoke_digits, soc_mnist, "
                        "criticality_cifar10, plasticity_digits, ...)")
    parser.add_argument("--out", type=out_path,
                        help="output directory (default: runs/<spec name>); rerun to resume training")
    parser.add_argument("--data-dir",
                        help="directory with the data files the spec's data set needs (MNIST IDX, CIFAR-10)")
    parser.add_argument("--device", help="override the spec's training device (auto, cpu, cuda)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_large_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=_validate, claims_out=True)   # claimed below, the default --out too


def _output(args, spec) -> str:
    """``--out``, or ``runs/<spec name>`` (the name must be one plain path component)."""
    return args.out or f"runs/{plain_name(spec.name, '[experiment] name')}"


def _require_budget(args, trainings: list[dict], samplers=None) -> None:
    """Refuse, before anything is written, a spec whose trainings or samplers exceed the budget (the checks of
    ``train`` and ``sample``)."""
    from ..networks import TrainConfig
    from .networks_commands import require_train_budget
    from .sampling_commands import CHAIN_STEPS_PER_S, BYTES_PER_CHAIN
    from ..params import require_budget

    for training in trainings:
        require_train_budget(TrainConfig.from_dict(training), args.yes_large)
    if samplers is not None:
        work = samplers.chains * sum(samplers.steps.values())
        require_budget(f"samplers.chains {samplers.chains} x samplers.steps", memory=BYTES_PER_CHAIN * samplers.chains,
                       seconds=work / CHAIN_STEPS_PER_S, confirmed=args.yes_large)


def _validate(args) -> int:
    from ..compare.verdicts import verdict_lines
    from ..experiments.pipeline import run_validation
    from ..experiments.plasticity import KIND, spec_kind
    from ..experiments.spec import ExperimentSpec, default_spec_path
    from ..package_data import find_spec

    args.typed_spec = args.spec   # the reproduce line names the spec as the user typed it
    args.spec = find_spec(args.spec, "experiment") if args.spec else default_spec_path()
    if spec_kind(args.spec) == KIND:
        return _validate_plasticity(args)
    spec = ExperimentSpec.load(args.spec)
    out = _output(args, spec)
    _require_budget(args, [spec.training], spec.samplers)
    command = command_line(["validate", args.typed_spec or spec.name],
                           {"out": out, "data_dir": args.data_dir, "device": args.device})
    with claim(out, reuse=True, overwrite=getattr(args, "overwrite", False)):   # the default --out too
        summary = run_validation(spec, out, data_dir=args.data_dir, device=args.device,
                                 progress=not (args.no_progress or args.json), command=command)
    verdicts = verdict_lines(summary["verdicts"])
    checks = "\n".join(f"  [{'ok' if c['passed'] else 'FAIL'}] {c['criterion']}" for c in summary["acceptance"])
    passed = sum(c["passed"] for c in summary["acceptance"])
    emit(summary, args.json, f"report: {out}/report.html\nverdicts (the sources' questions):\n{verdicts}\n"
                             f"pipeline checks (machinery, not physics): {passed} of "
                             f"{len(summary['acceptance'])} hold\n"
                             f"{checks}")
    return 0 if summary["passed"] else 1


def _validate_plasticity(args) -> int:
    """003's protocol (``[experiment] kind = "plasticity"``): verdicts per claim; exit 1 if an identity fails."""
    from ..experiments.plasticity import PlasticitySpec, run_plasticity, training_parameters

    spec = PlasticitySpec.load(args.spec)
    out = _output(args, spec)
    _require_budget(args, [training_parameters(network, spec) for network in spec.networks])
    command = ["statmech-nn", "validate", args.typed_spec or spec.name, "--out", str(out)]
    for flag, value in (("--data-dir", args.data_dir), ("--device", args.device)):
        if value is not None:
            command += [flag, str(value)]
    with claim(out, reuse=True, overwrite=getattr(args, "overwrite", False)):   # the default --out too
        summary = run_plasticity(spec, out, data_dir=args.data_dir, device=args.device,
                                 progress=not (args.no_progress or args.json), command=command)
    lines = [f"  [{v['verdict']}] {name}: {v['claim']}" for name, entry in summary["networks"].items()
             for v in entry.get("verdicts", [])]
    emit(summary, args.json,
         f"report: {out}/report.html\n" + "\n".join(lines) + f"\nidentities as expected: {summary['passed']}")
    return 0 if summary["passed"] else 1
