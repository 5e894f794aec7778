"""``statmech-nn hessian RUN_DIR``: 003's Hessian instruments on a trained network (spectra, entries, order
parameter)."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..params import require_budget, require_int
from ._common import add_allow_incomplete, add_command, add_json_flag, add_large_flag, emit, out_path, seed

FLOPS_PER_S = 1e9   # a conservative rate of the Hessian-vector products (float64, one core)

_KEYS = ("P", "n_examples", "loss", "order_parameter", "lanczos_steps", "probes", "negative_mass", "asymmetry",
         "skewness", "skewness_error", "lambda_min", "lambda_max", "trace", "trace_error", "wasserstein_to_exact",
         "frac_t_below_0_15", "frac_t_below_0_15_band", "frac_t_null", "frac_effect_below_0_15",
         "frac_effect_below_0_15_band", "frac_effect_null", "correlation_sparsity", "coupling_alpha")


def register(subparsers) -> None:
    parser = add_command(subparsers, "hessian")
    parser.add_argument("run_dir", help="a run directory written by statmech-nn train")
    parser.add_argument("--checkpoint", type=int,
                        help="optimizer step of the checkpoint (default: the newest; 0: init)")
    parser.add_argument("--density", action="store_true", help="spectral density by stochastic Lanczos quadrature "
                                                               "(the default when nothing else is asked for)")
    parser.add_argument("--exact", action="store_true",
                        help="exact Hessian by columns and eigvalsh (P up to a few thousand)")
    parser.add_argument("--entries", type=int, default=0, help="bootstrap statistics of N sampled Hessian entries")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates (default 200)")
    parser.add_argument("--resample-size", type=int, help="examples per replicate (default: all)")
    parser.add_argument("--skip-same-layer", action="store_true", help="sample entries outside same-layer blocks")
    parser.add_argument("--steps", type=int, default=90, help="Lanczos steps per probe (default 90)")
    parser.add_argument("--probes", type=int, default=10, help="Rademacher probes (default 10)")
    parser.add_argument("--examples", type=int, help="use the first N training examples (default: all)")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--device", default="cpu", help="cpu | cuda[:N] | auto (model and data; float64 throughout)")
    parser.add_argument("--chunk", type=int, default=4096, help="examples per pass (the gradient's graph is kept "
                                                                "between products when the data fit in one)")
    parser.add_argument("--out", type=out_path, required=True,
                        help="output directory (hessian.nc, hessian.json, figures/)")
    add_allow_incomplete(parser)
    add_large_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=_hessian)


def _require_hessian_budget(args, dim: int, n_examples: int, steps: int) -> None:
    """Refuse, before any product, a measurement beyond the budget (:func:`statmech_nn.params.require_budget`):
    SLQ keeps ``steps`` Lanczos vectors of P floats and does probes x steps Hessian-vector products (~6 P x examples
    flops each); the exact spectrum P² floats and P products; the entries examples x N and bootstrap x N floats."""
    probes, entries = require_int("probes", args.probes, 1), require_int("entries", args.entries, 0)
    bootstrap = require_int("bootstrap", args.bootstrap, 4)
    product = 6.0 * dim * n_examples / FLOPS_PER_S
    memory = 8.0 * max(steps * dim, dim**2 if args.exact else 0, (n_examples + bootstrap) * entries)
    seconds = product * (probes * steps + (dim if args.exact else 0)) + entries * n_examples * 1e-8
    require_budget(f"--probes {probes} x --steps {steps} x --entries {entries} on P = {dim}, {n_examples} examples",
                   memory=memory, seconds=seconds, confirmed=args.yes_large)


def _hessian(args) -> int:
    from ..io import save_dataset, write_json
    from ..networks.torch_hessian import operator_from_run
    from ..observables.hessian_measure import HessianOptions, measure_hessian
    from ..report.plasticity_figures import hessian_figures
    from ..runs.outcome import require_complete

    out = Path(args.out)      # claimed by the command line: never overwritten without --overwrite
    if not (Path(args.run_dir) / "run.json").is_file():
        raise DataError(f"{args.run_dir} is not a run directory (no run.json)")
    outcome = require_complete(args.run_dir, args.allow_incomplete)
    require_int("steps", args.steps, 1)
    HessianOptions(steps=args.steps, probes=args.probes, entries=args.entries, bootstrap=args.bootstrap,
                   resample_size=args.resample_size)    # its checks, before the run is read
    operator = operator_from_run(args.run_dir, args.checkpoint, n_examples=args.examples, chunk=args.chunk,
                                 device=args.device)
    steps = min(args.steps, operator.dim)   # a Krylov space of P dimensions has at most P steps
    _require_hessian_budget(args, operator.dim, operator.n_examples, steps)
    options = HessianOptions(density=args.density or not (args.exact or args.entries), exact=args.exact,
                             steps=steps, probes=args.probes, entries=args.entries, bootstrap=args.bootstrap,
                             resample_size=args.resample_size, seed=args.seed, skip_same_layer=args.skip_same_layer)
    summary, dataset = measure_hessian(operator, options)
    summary["checkpoint"] = args.checkpoint
    if outcome not in (None, "completed"):
        summary.update(source_run_incomplete=True, source_run_outcome=outcome)
    save_dataset(dataset, out / "hessian.nc")
    figures = hessian_figures(dataset, out / "figures")
    payload = {**{key: summary.get(key) for key in _KEYS}, **summary, "out": str(out),
               "figures": [str(p) for p in figures]}
    write_json(out / "hessian.json", payload)
    emit(payload, args.json, "\n".join(f"{key} = {summary.get(key)}" for key in _KEYS) + f"\nout = {out}")
    return 0
