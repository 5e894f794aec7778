"""``statmech-nn validate [SPEC]``: the main job (default: validation/experiments/soc_digits.toml)."""

from __future__ import annotations

from ..run_directory import command_line
from ._common import add_command, add_json_flag, emit


def register(subparsers) -> None:
    parser = add_command(subparsers, "validate")
    parser.add_argument("spec", nargs="?", help="experiment spec TOML (default: validation/experiments/soc_digits.toml)")
    parser.add_argument("--out", help="output directory (default: runs/<spec name>); rerun to resume training")
    parser.add_argument("--data-dir", help="directory with the data files the spec's data set needs (MNIST IDX, CIFAR-10)")
    parser.add_argument("--device", help="override the spec's training device (auto, cpu, cuda)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json_flag(parser)
    parser.set_defaults(handler=_validate)


def _validate(args) -> int:
    from ..compare.verdicts import verdict_lines
    from ..experiments.pipeline import run_validation
    from ..experiments.spec import ExperimentSpec, default_spec_path

    spec = ExperimentSpec.load(args.spec or default_spec_path())
    out = args.out or f"runs/{spec.name}"
    command = command_line(["validate", spec.path], {"out": out, "data_dir": args.data_dir, "device": args.device})
    summary = run_validation(spec, out, data_dir=args.data_dir, device=args.device,
                             progress=not (args.no_progress or args.json), command=command)
    verdicts = verdict_lines(summary["verdicts"])
    checks = "\n".join(f"  [{'ok' if c['passed'] else 'FAIL'}] {c['criterion']}" for c in summary["acceptance"])
    passed = sum(c["passed"] for c in summary["acceptance"])
    emit(summary, args.json, f"report: {out}/report.html\nverdicts (the sources' questions):\n{verdicts}\n"
                             f"pipeline checks (machinery, not physics): {passed} of {len(summary['acceptance'])} hold\n"
                             f"{checks}")
    return 0 if summary["passed"] else 1
