"""``statmech-nn train`` and ``statmech-nn probe``: real networks (002 §5, 001, 003)."""

from __future__ import annotations

import sys
from dataclasses import fields

from ..networks.config import BACKENDS, DTYPES, OPTIMIZERS, REPLICA_INITS, REPLICA_STEPPINGS, TrainConfig
from ..networks.data import SCALINGS
from ..networks.equilibrium import EQUILIBRIUM_CRITERIA
from ..params import require_budget, require_int
from ._common import add_allow_incomplete, add_command, add_json_flag, add_large_flag, emit, out_path, seed

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def register(subparsers) -> None:
    parser = add_command(subparsers, "train")
    parser.add_argument("--arch", default=_DEFAULTS["arch"],
                        help="mlp[:784-700-476-10] | ff | cnn[:C1-C2-C3/F1-F2] | autoencoder[:H] | "
                             "vgg[:depth=D,width=W] (default: mlp = input-700-476-classes)")
    parser.add_argument("--dataset", default=_DEFAULTS["dataset"],
                        help="digits | mnist5k | mnist | fashion-mnist | cifar10 | mnist1d | synthetic, "
                             "optionally -binary")
    parser.add_argument("--data-dir", help="directory with the IDX files (mnist, fashion-mnist) or CIFAR-10 batches")
    parser.add_argument("--input-dim", type=int, default=_DEFAULTS["input_dim"], help="synthetic: input width")
    parser.add_argument("--n-train", type=int, help="keep the first N training samples")
    parser.add_argument("--n-test", type=int, help="keep the first N test samples")
    parser.add_argument("--scaling", choices=SCALINGS, default=_DEFAULTS["scaling"])
    parser.add_argument("--split-seed", type=seed, default=_DEFAULTS["split_seed"],
                        help="digits, mnist5k train/test split")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=_DEFAULTS["optimizer"])
    parser.add_argument("--lr", type=float, default=_DEFAULTS["lr"])
    parser.add_argument("--weight-decay", type=float, default=_DEFAULTS["weight_decay"], help="L2 rate")
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS["batch_size"])
    parser.add_argument("--epochs", type=int, default=_DEFAULTS["epochs"], help="tracked epochs after warm-up")
    parser.add_argument("--steps", type=int, help="tracked optimizer steps after warm-up (instead of --epochs)")
    parser.add_argument("--warmup-epochs", type=int, default=_DEFAULTS["warmup_epochs"],
                        help="untracked epochs first (with --until-equilibrium: the minimum)")
    parser.add_argument("--until-equilibrium", action="store_true",
                        help="warm up until the equilibrium criterion holds (at most --max-warmup-epochs)")
    parser.add_argument("--max-warmup-epochs", type=int, default=_DEFAULTS["max_warmup_epochs"])
    parser.add_argument("--eq-window", type=int, default=_DEFAULTS["eq_window"], help="criterion window (epochs)")
    parser.add_argument("--eq-rtol", type=float, default=_DEFAULTS["eq_rtol"], help="criterion relative tolerance")
    parser.add_argument("--equilibrium-criterion", choices=EQUILIBRIUM_CRITERIA,
                        default=_DEFAULTS["equilibrium_criterion"],
                        help="what ends the warm-up: the test loss (flat, no overfitting), the weights (no drift of "
                             "probed weights over the window), both, or trend (the test loss's slope over the window "
                             "bounds its change over 1000 epochs below --eq-rtol; window >= 20; calibrated)")
    parser.add_argument("--track", type=int, default=_DEFAULTS["track"], help="number of tracked parameters K")
    parser.add_argument("--track-biases", action="store_true", help="draw tracked parameters from biases too")
    parser.add_argument("--track-layers", help="comma-separated layer names or patterns, e.g. fc1,fc2")
    parser.add_argument("--backend", choices=BACKENDS, default=_DEFAULTS["backend"],
                        help="torch (eager), fast (numba engine on the CPU, CUDA graphs on a GPU) or auto "
                             "(fast where it applies: a GPU, or a plain MLP with batch-1 SGD on the CPU; torch "
                             "otherwise)")
    parser.add_argument("--device", default=_DEFAULTS["device"], help="auto | cpu | cuda[:N]")
    parser.add_argument("--dtype", choices=DTYPES, default=_DEFAULTS["dtype"])
    parser.add_argument("--seed", type=seed, default=_DEFAULTS["seed"])
    parser.add_argument("--replicas", type=int, default=_DEFAULTS["replicas"],
                        help="train R networks at once, one chain each (trajectory columns R x K, chain = replica); "
                             "replica r is the single-network run with seed SEED + r")
    parser.add_argument("--replica-init", choices=REPLICA_INITS, default=_DEFAULTS["replica_init"],
                        help="independent: replica r initialized from SEED + r; shared: every replica from SEED "
                             "(the same initial weights), sample orders from SEED + r either way")
    parser.add_argument("--replica-stepping", choices=REPLICA_STEPPINGS, default=_DEFAULTS["replica_stepping"],
                        help="torch replicas: batched (one vmapped step of all, float rounding) or separate (one "
                             "stepper each, bit for bit the single runs); auto: batched on a GPU, separate on the CPU")
    parser.add_argument("--replica-offset", type=int, default=_DEFAULTS["replica_offset"],
                        help="train replicas OFFSET, OFFSET + 1, ... of the ensemble (a scan cell of a replica axis)")
    parser.add_argument("--checkpoint-every", type=int, help="also checkpoint every N steps (default: each epoch)")
    parser.add_argument("--checkpoint-epochs", type=int, default=_DEFAULTS["checkpoint_epochs"],
                        help="checkpoint after every N-th epoch (default: each)")
    parser.add_argument("--keep-checkpoints", type=int, default=_DEFAULTS["keep_checkpoints"])
    parser.add_argument("--graph-steps", type=int, default=_DEFAULTS["graph_steps"],
                        help="steps per CUDA graph replay (GPU fast path)")
    parser.add_argument("--torch-threads", type=int,
                        help="torch intra-op threads (default: torch's; 1 is best for batch-1 runs on a busy machine)")
    parser.add_argument("--record-gradient", action="store_true",
                        help="record ||grad R||^2 of the train loss with each epoch's metrics (003 eq. (15))")
    parser.add_argument("--out", type=out_path, required=True, help="run directory")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its newest checkpoint (parameters from its run.json)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_large_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=_train, claims_out=True)   # train claims --out

    probe_parser = add_command(subparsers, "probe")
    probe_parser.add_argument("run_dir", help="a run directory written by statmech-nn train")
    probe_parser.add_argument("--dataset", help="data set to probe with (default: the run's own)")
    probe_parser.add_argument("--data-dir")
    probe_parser.add_argument("--split", choices=("train", "test", "all"), default="test")
    probe_parser.add_argument("--neurons", type=int, default=16, help="sampled units per layer for p(x|q)")
    probe_parser.add_argument("--max-samples", type=int, help="probe only the first N inputs")
    probe_parser.add_argument("--seed", type=seed, default=0)
    probe_parser.add_argument("--out", type=out_path, required=True, help="directory for probes.nc and figures/")
    add_allow_incomplete(probe_parser)
    add_large_flag(probe_parser)
    add_json_flag(probe_parser)
    probe_parser.set_defaults(handler=_probe)


def _config(args) -> TrainConfig:
    """The run's configuration; with --resume the one stored in --out's run.json, with the options given on the
    command line (those that differ from their defaults) checked by :meth:`TrainConfig.resumed_with`."""
    values = {name: getattr(args, name) for name in _DEFAULTS if hasattr(args, name)}
    values["track_layers"] = None if args.track_layers is None else tuple(args.track_layers.split(","))
    if not args.resume:
        return TrainConfig(**values)
    stored = TrainConfig.from_run_dir(args.out)
    given = {name: value for name, value in values.items() if value != _DEFAULTS[name]}
    return stored.resumed_with(TrainConfig(**{**stored.to_dict(), **given, "out": args.out}))


TRAIN_SIZES = {"digits": 1797, "mnist5k": 5000, "mnist": 60000, "fashion-mnist": 60000, "cifar10": 50000,
               "mnist1d": 4000, "synthetic": 6000}  # at most this many training samples (the whole set)
STEPS_PER_S = 1e5  # optimizer steps per second: faster than any backend reaches, so only clear cases are refused


def require_train_budget(args, confirmed: bool) -> None:
    """Refuse, before any data is loaded, a training (``args``: parsed flags or a TrainConfig) whose optimizer steps
    (tracked and warm-up, over every replica) would take more than the time budget at :data:`STEPS_PER_S`, or whose
    replicas' parameters, gradients and optimizer state would not fit the memory budget
    (:func:`statmech_nn.params.require_budget`)."""
    from ..networks.architectures import Architecture

    replicas = require_int("replicas", getattr(args, "replicas", 1), 1)
    require_budget(f"--arch {args.arch}" + (f" x --replicas {replicas}" if replicas > 1 else ""), confirmed=confirmed,
                   memory=BYTES_PER_PARAMETER * _parameters(Architecture.parse(args.arch)) * replicas)
    batch = require_int("batch-size", args.batch_size, 1)
    n_train = args.n_train or TRAIN_SIZES.get(args.dataset.removesuffix("-binary"), 60000)
    per_epoch = -(-require_int("n-train", n_train, 1) // batch)
    warmup = args.max_warmup_epochs if args.until_equilibrium else args.warmup_epochs
    epochs = require_int("warmup-epochs", warmup, 0)
    steps = require_int("steps", args.steps, 1) if args.steps is not None else (
        require_int("epochs", args.epochs, 1) * per_epoch)
    total = (steps + epochs * per_epoch) * replicas
    require_budget(f"--steps/--epochs ({total:.3g} optimizer steps)", seconds=total / STEPS_PER_S,
                   confirmed=confirmed)


BYTES_PER_PROBE = 8 * 4       # a sampled unit's activation, gate and p(x|q) statistics per input, float64
BYTES_PER_PARAMETER = 8 * 8   # weight, gradient, optimizer state and kept checkpoints, float64 at most
INPUT_WIDTH = 3 * 32 * 32     # the widest input of a shipped data set (CIFAR-10), for the default input widths


def _parameters(arch) -> float:
    """An upper estimate of an architecture's parameter count from the sizes its spec names (before any data set
    fixes its input width): the products of consecutive widths (x 9 for 3x3 convolutions)."""
    def dense(widths):
        return float(sum(a * b for a, b in zip(widths, widths[1:])))
    if arch.widths is not None:
        return dense(arch.widths)
    if arch.family in ("cnn", "bfcnn"):
        return 9 * dense((3, *arch.conv_channels)) + dense((INPUT_WIDTH * arch.conv_channels[-1], *arch.fc_hidden))
    if arch.family == "autoencoder":
        return 2.0 * INPUT_WIDTH * arch.hidden
    if arch.family == "vgg":
        return 9.0 * arch.depth * arch.width**2 + INPUT_WIDTH * arch.width
    return dense((INPUT_WIDTH, 1000, 1000))


def _train(args) -> int:
    from ..networks.training import train

    if not args.resume:
        require_train_budget(args, args.yes_large)
    config = _config(args)
    result = train(config, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress)
    summary = result.summary()
    keys = ("steps", "seconds", "steps_per_s", "final_train_loss", "final_test_loss", "final_test_accuracy", "out")
    payload = {key: summary[key] for key in keys} | summary
    if args.resume and not summary["steps_per_s"] > 0:   # nothing left to run: say so, not "0.0 steps/s"
        payload["steps_per_s"] = payload["network_steps_per_s"] = None
        print(f"statmech-nn: {args.out} is already complete ({summary['steps']} steps): nothing to resume; to extend "
              "it, add --resume with more tracked --epochs (or --steps) than it has", file=sys.stderr)
    emit(payload, args.json)
    return 0


def _probe(args) -> int:
    from ..networks.data import load_dataset
    from ..report.probe_figures import write_probe_outputs
    from ..networks.probes import probe
    from ..observables.activity import activity_observables
    from ..runs.outcome import flag_incomplete, require_complete

    neurons = require_int("neurons", args.neurons, 1)
    samples = require_int("max-samples", args.max_samples, 1) if args.max_samples is not None else max(
        TRAIN_SIZES.values())
    require_budget(f"--neurons {neurons} x {samples} inputs", memory=BYTES_PER_PROBE * neurons * samples,
                   confirmed=args.yes_large)
    outcome = require_complete(args.run_dir, args.allow_incomplete)
    dataset = None
    if args.dataset is not None:
        stored = TrainConfig.from_run_dir(args.run_dir)
        dataset = load_dataset(args.dataset, data_dir=args.data_dir, split_seed=stored.split_seed,
                               input_dim=stored.input_dim, scaling=stored.scaling)
    result = activity_observables(probe(args.run_dir, dataset, split=args.split, n_neurons=args.neurons,
                                        max_samples=args.max_samples, seed=args.seed))
    paths = write_probe_outputs(result, args.out)
    payload = {"out": args.out, "probes": str(paths["probes"]), "figures": [str(p) for k, p in paths.items()
                                                                          if k != "probes"],
               "layers": [str(v) for v in result.layer.values], "n_samples": int(result.sizes["sample"]),
               "n_patterns": {str(k): int(v) for k, v in zip(result.layer.values, result.n_patterns.values)},
               **flag_incomplete(args.out, outcome)}
    emit(payload, args.json)
    return 0
