"""003's plasticity-phase protocol end to end: train bias-free ReLU nets, measure their Hessians over training,
verdicts.

A spec (``validation/experiments/plasticity_*.toml``, ``[experiment] kind = "plasticity"``) has

- ``[experiment]``: ``kind``, ``name``, ``description``, ``source``, ``budget_minutes``;
- ``[[networks]]``: ``name``, optional ``epochs`` and ``[networks.hessian]`` (this network's snapshot
  epochs and [hessian] overrides), ``role`` (``"main"``: a network whose Hessian 003 makes claims about, a
  bias-free ReLU net with the hinge loss; ``"control"``: e.g. the same net with cross-entropy, whose
  Gauss–Newton term ℓ''∇f∇fᵀ ⪰ 0 should skew the spectrum positive), and ``[networks.training]``:
  :class:`~statmech_nn.networks.TrainConfig` fields (``epochs``, ``lr`` …; checkpoints are kept at every
  epoch);
- ``[snapshots]``: ``epochs``, the epochs at which the Hessian is measured (0 = the initialization);
- ``[hessian]``: :class:`~statmech_nn.observables.hessian_measure.HessianOptions` fields,
  ``exact_max_parameters`` (the exact spectrum is computed beside SLQ where P is at most this) and
  ``chunk`` (examples per pass; the Hessian is measured on the training run's device) and ``examples``
  (the Hessian of the loss on the first N training examples; default all);
- ``[acceptance]``: the thresholds of the verdicts (:data:`statmech_nn.compare.plasticity_verdicts.DEFAULT_ACCEPTANCE`;
  the verdicts P1 … P6 and their tests are in :mod:`statmech_nn.compare.plasticity_verdicts`).

Stages, into the output directory: ``<network>/`` (a ``statmech-nn train`` run directory, resumed when
rerun), ``<network>/hessian/epoch-<e>.nc`` (every instrument at each snapshot), ``summary.json``
(verdicts on each claim of 003), ``report.html`` and ``figures/`` (:mod:`statmech_nn.report.plasticity_figures`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..compare.acceptance import claims_as_expected
from ..compare.claims import run_claims
from ..compare.plasticity_verdicts import DEFAULT_ACCEPTANCE, control_answers, verdicts
from ..errors import DataError
from ..io import load_dataset, read_json, read_spec_tables, read_toml, save_dataset, write_json
from ..networks import TrainConfig, train
from ..networks.config import PRESETS
from ..networks.torch_hessian import operator_from_run
from ..observables.hessian_measure import HessianOptions, measure_hessian
from ..report.plasticity_figures import write_plasticity_report
from ..runs.directory import RunDirectory, inside, plain_name

KIND = "plasticity"
ROLES = ("main", "control")
MAX_EPOCHS = 100_000   # the last snapshot epoch a spec may ask for (a training loop's explicit cap)
_OPERATOR_KEYS = ("exact_max_parameters", "chunk", "examples")   # [hessian] keys that are not HessianOptions
_TABLES = ("experiment", "networks", "snapshots", "hessian", "acceptance")


def spec_kind(path) -> str | None:
    """``[experiment] kind`` of a spec file (None for the 002 protocol's specs, which have none)."""
    experiment = read_toml(path).get("experiment", {})
    if not isinstance(experiment, dict):
        raise DataError(f"{path}: [experiment] must be a table, got {type(experiment).__name__}")
    return experiment.get("kind")


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    role: str
    training: dict
    hessian: dict = field(default_factory=dict)      # overrides of [hessian] for this network
    epochs: tuple[int, ...] | None = None            # overrides of [snapshots] epochs


@dataclass(frozen=True)
class PlasticitySpec:
    name: str
    description: str
    source: str
    budget_minutes: float | None
    networks: tuple[NetworkSpec, ...]
    snapshot_epochs: tuple[int, ...]
    hessian: dict
    exact_max_parameters: int
    chunk: int = 4096
    examples: int | None = None
    acceptance: dict = field(default_factory=lambda: dict(DEFAULT_ACCEPTANCE))
    path: str = ""

    @classmethod
    def load(cls, path) -> PlasticitySpec:
        path = Path(path)
        tables = read_spec_tables(path, _TABLES, "a plasticity spec", arrays=("networks",))
        experiment = tables.get("experiment", {})
        if experiment.get("kind") != KIND:
            raise DataError(f"{path}: [experiment] kind must be {KIND!r}")
        networks = []
        for table in tables.get("networks", []):
            if set(table) - {"name", "role", "training", "hessian", "epochs"} or "name" not in table:
                raise DataError(f"{path}: a [[networks]] table has name, role, optional epochs, [networks.training] "
                                "and optional [networks.hessian]")
            if table.get("role", "main") not in ROLES:
                raise DataError(f"{path}: network {table['name']!r} has role {table['role']!r}, not one of {ROLES}")
            own_epochs = table.get("epochs")
            if own_epochs is not None:
                own_epochs = _epoch_list(own_epochs, f"{path}: epochs of {table['name']!r}")
            networks.append(NetworkSpec(plain_name(table["name"], f"{path}: [[networks]] name"),
                                        table.get("role", "main"), dict(table.get("training", {})),
                                        dict(table.get("hessian", {})), own_epochs))
        if not any(n.role == "main" for n in networks):
            raise DataError(f"{path}: at least one [[networks]] table with role = 'main'")
        epochs = _epoch_list(tables.get("snapshots", {}).get("epochs", []), f"{path}: [snapshots] epochs")
        hessian = dict(tables.get("hessian", {}))
        exact_max = int(hessian.pop("exact_max_parameters", 4000))
        chunk = int(hessian.pop("chunk", 4096))
        examples = hessian.pop("examples", None)
        for network in networks:
            try:
                HessianOptions(**{**hessian, **{k: v for k, v in network.hessian.items()
                                                if k not in _OPERATOR_KEYS}})
            except TypeError as exc:
                raise DataError(f"{path}: [hessian] of {network.name}: {exc}") from None
        acceptance = {**DEFAULT_ACCEPTANCE, **tables.get("acceptance", {})}
        if set(acceptance) - set(DEFAULT_ACCEPTANCE):
            raise DataError(f"{path}: unknown [acceptance] keys {sorted(set(acceptance) - set(DEFAULT_ACCEPTANCE))}")
        return cls(plain_name(experiment.get("name", path.stem), f"{path}: [experiment] name"),
                   str(experiment.get("description", "")),
                   str(experiment.get("source", "")), experiment.get("budget_minutes"), tuple(networks), epochs,
                   hessian, exact_max, chunk, examples, acceptance, str(path))

    def to_dict(self) -> dict:
        return asdict(self)


def _epoch_list(values, what: str) -> tuple[int, ...]:
    """A spec's snapshot epochs: a non-empty list of integers in [0, :data:`MAX_EPOCHS`], sorted, distinct."""
    if not isinstance(values, list) or not values:
        raise DataError(f"{what} must be a non-empty list of epochs >= 0")
    wrong = [e for e in values if isinstance(e, (bool, str)) or not isinstance(e, (int, float)) or not (
        e >= 0 and float(e).is_integer())]
    if wrong:
        raise DataError(f"{what} holds {wrong[0]!r}, not an integer >= 0")
    epochs = [int(e) for e in values]
    if max(epochs) > MAX_EPOCHS:
        raise DataError(f"{what} goes to epoch {max(epochs)}, beyond the cap of {MAX_EPOCHS} epochs")
    return tuple(sorted(set(epochs)))


def _epochs(network: NetworkSpec, spec: PlasticitySpec) -> tuple[int, ...]:
    return network.epochs or spec.snapshot_epochs


def training_parameters(network: NetworkSpec, spec: PlasticitySpec, out="") -> dict:
    """The training parameters of ``network`` (a :class:`TrainConfig`'s) into the run directory ``out``: the
    ``plasticity`` preset (:data:`statmech_nn.networks.config.PRESETS`) under the spec's [networks.training], a
    checkpoint kept at every epoch up to the last snapshot."""
    last = max(_epochs(network, spec))
    return {**PRESETS[KIND], **network.training, "out": str(out), "epochs": last, "keep_checkpoints": last + 1}


def _train(network: NetworkSpec, spec: PlasticitySpec, out: Path, data_dir, device, progress: bool):
    parameters = training_parameters(network, spec, out)
    if data_dir is not None:
        parameters["data_dir"] = str(data_dir)
    if device is not None:
        parameters["device"] = device
    config = TrainConfig.from_dict(parameters)
    return config, train(config, resume=RunDirectory(out).run_file.exists(), progress=progress)


def _snapshots(network: NetworkSpec, spec: PlasticitySpec, run_dir: Path, config: TrainConfig,
               progress: bool) -> list[dict]:
    metrics = read_json(run_dir / "metrics.json")
    per_epoch = int(metrics["steps_per_epoch"])
    rows = []
    own = {k: v for k, v in network.hessian.items() if k not in _OPERATOR_KEYS}
    chunk = int(network.hessian.get("chunk", spec.chunk))
    examples = network.hessian.get("examples", spec.examples)
    exact_max = network.hessian.get("exact_max_parameters", spec.exact_max_parameters)
    for epoch in _epochs(network, spec):
        path = run_dir / "hessian" / f"epoch-{epoch:05d}.nc"
        if path.exists():   # a rerun reuses what is measured
            dataset = load_dataset(path)
            rows.append({"epoch": epoch, "summary": dataset.attrs["summary"], "dataset": dataset})
            continue
        started = time.perf_counter()
        operator = operator_from_run(run_dir, epoch * per_epoch, device=config.device, chunk=chunk, n_examples=examples)
        options = HessianOptions(**{"skip_same_layer": operator.objective.kind == "hinge", **spec.hessian, **own,
                                    "exact": operator.dim <= exact_max})
        summary, dataset = measure_hessian(operator, options)
        summary.update({"epoch": epoch, "step": epoch * per_epoch, "learning_rate": config.lr,
                        "eta_op": config.lr * summary["order_parameter"], "seconds": time.perf_counter() - started})
        dataset.attrs["summary"] = summary
        save_dataset(dataset, path)
        if progress:
            print(f"[plasticity] {network.name} epoch {epoch}: P = {summary['P']}, loss {summary['loss']:.4g}, "
                  f"asymmetry {summary['asymmetry']:.3g}, {summary['seconds']:.1f} s", flush=True)
        rows.append({"epoch": epoch, "summary": summary, "dataset": dataset})
    return rows


def run_plasticity(spec: PlasticitySpec, out, *, data_dir=None, device=None, progress: bool = True,
                   command: list[str] | None = None) -> dict:
    """Every stage of the protocol into ``out``; returns (and writes) ``summary.json``."""
    root = RunDirectory(out).create()
    root.write_run_info(command=command or ["statmech-nn", "validate", spec.path, "--out", str(out)],
                        parameters=spec.to_dict(), seed=None, device=device or "auto", data_dir=data_dir)
    timings, results = {}, {}
    for network in spec.networks:
        started = time.perf_counter()
        run_dir = inside(root.path, network.name, "[[networks]] name")
        config, trained = _train(network, spec, run_dir, data_dir, device, progress)
        timings[f"{network.name}:train"] = time.perf_counter() - started
        started = time.perf_counter()
        snapshots = _snapshots(network, spec, run_dir, config, progress)
        timings[f"{network.name}:hessian"] = time.perf_counter() - started
        metrics = read_json(run_dir / "metrics.json")
        results[network.name] = {"network": network, "config": config, "snapshots": snapshots, "metrics": metrics,
                                 "training": trained.summary()}
    started = time.perf_counter()
    outcomes = run_claims(select="hessian-")
    timings["claims"] = time.perf_counter() - started
    summary = {"spec": spec.name, "kind": KIND, "out": str(root.path), "networks": {}, "claims": {
        o.claim.id: {"status": o.status, "deviation": o.deviation, "as_expected": o.as_expected} for o in outcomes}}
    for name, result in results.items():
        entry = {"role": result["network"].role, "arch": result["config"].arch, "training": result["training"],
                 "snapshots": [row["summary"] for row in result["snapshots"]]}
        if result["network"].role == "main":
            entry["verdicts"] = verdicts(result["snapshots"], result["metrics"], spec.acceptance)
        else:
            entry["control"] = control_answers(result["snapshots"])
        summary["networks"][name] = entry
    summary["passed"] = claims_as_expected(outcomes)
    started = time.perf_counter()
    write_plasticity_report(root.path, spec=spec, summary=summary, results=results, outcomes=outcomes)
    timings["report"] = time.perf_counter() - started
    summary["timings_s"] = {**timings, "total": sum(timings.values())}
    write_json(root.path / "summary.json", summary)
    return summary
