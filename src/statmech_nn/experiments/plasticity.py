"""003's plasticity-phase protocol end to end: train bias-free ReLU nets, measure their Hessians over training, verdicts.

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
- ``[acceptance]``: the thresholds of the verdicts (:data:`DEFAULT_ACCEPTANCE`).

Stages, into the output directory: ``<network>/`` (a ``statmech-nn train`` run directory, resumed when
rerun), ``<network>/hessian/epoch-<e>.nc`` (every instrument at each snapshot), ``summary.json``
(verdicts on each claim of 003), ``report.html`` and ``figures/`` (:mod:`statmech_nn.report.plasticity`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from ..compare.claims import run_claims
from ..errors import DataError
from ..io import RunDirectory, load_dataset, read_json, read_spec_tables, read_toml, save_dataset, write_json
from ..networks import TrainConfig, train
from ..networks.hessian import operator_from_run
from ..observables.hessian_measure import HessianOptions, measure_hessian
from ..report.plasticity import write_plasticity_report
from ..run_directory import inside, plain_name

KIND = "plasticity"
ROLES = ("main", "control")
MAX_EPOCHS = 100_000   # the last snapshot epoch a spec may ask for (a training loop's explicit cap)
DEFAULT_ACCEPTANCE = {
    "max_asymmetry": 0.2,            # ∫|ρ(λ) − ρ(−λ)| dλ of the broadened density (0 … 2)
    "max_negative_mass_offset": 0.05,  # |negative mass − 0.5|
    "max_abs_skewness": 0.3,         # |tr H³/(tr H²)^{3/2}|
    "min_t_fraction": 0.95,          # 003 Fig. 7b
    "min_sparsity": 0.5,             # at least half the correlations indistinguishable from 0
    "op_ratio_band": [0.03, 0.3],    # η·OP/R "about an order of magnitude below" the risk (003 Fig. 4b)
    "min_op_risk_rank_correlation": 0.5,
    "max_final_risk": 0.01,          # risk → 0
    "min_live_entries": 30,          # fewer entries with a t: the entry claims are inconclusive
}
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
    def load(cls, path) -> "PlasticitySpec":
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
    """The training parameters of ``network`` (a :class:`TrainConfig`'s) into the run directory ``out``."""
    last = max(_epochs(network, spec))
    parameters = {"warmup_epochs": 0, "track": 8, "torch_threads": 1, **network.training, "out": str(out),
                  "epochs": last, "keep_checkpoints": last + 1}
    parameters.setdefault("weight_decay", 0.0)
    return parameters


def _train(network: NetworkSpec, spec: PlasticitySpec, out: Path, data_dir, device, progress: bool):
    parameters = training_parameters(network, spec, out)
    if data_dir is not None:
        parameters["data_dir"] = str(data_dir)
    if device is not None:
        parameters["device"] = device
    config = TrainConfig.from_dict(parameters)
    return config, train(config, resume=RunDirectory(out).run_file.exists(), progress=progress)


def _snapshots(network: NetworkSpec, spec: PlasticitySpec, run_dir: Path, config: TrainConfig, progress: bool) -> list[dict]:
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


def _verdict(status: str, claim: str, numbers: dict, test: str) -> dict:
    return {"claim": claim, "verdict": status, "numbers": numbers, "test": test}


def _finite(values):
    return [v for v in values if v is not None and np.isfinite(v)]


def verdicts(snapshots: list[dict], metrics: dict, acceptance: dict) -> list[dict]:
    """003's claims about one main network, each supported / not supported / inconclusive with its numbers."""
    a = acceptance
    s = [row["summary"] for row in snapshots]
    epochs = [row["epoch"] for row in snapshots]
    out = []

    def pick(key):
        return [x.get(f"exact_{key}", x.get(key)) for x in s]

    asym, negative, skew = pick("asymmetry"), pick("negative_mass"), pick("skewness")
    if len(_finite(asym)) < len(s):
        out.append(_verdict("inconclusive", "symmetric Hessian spectrum throughout training (Fig. 8a)",
                            {"asymmetry": asym}, "no spectrum at some snapshot"))
    else:
        vanishing = [x.get("exact_lambda_min", x["lambda_min"]) == x.get("exact_lambda_max", x["lambda_max"]) == 0
                     for x in s]   # H = 0 (zero risk): symmetric, with no skewness to speak of
        ok = [v or (x <= a["max_asymmetry"] and abs(n - 0.5) <= a["max_negative_mass_offset"]
                    and abs(k) <= a["max_abs_skewness"]) for v, x, n, k in zip(vanishing, asym, negative, skew)]
        out.append(_verdict("supported" if all(ok) else "not supported",
                            "symmetric Hessian spectrum throughout training (Fig. 8a)",
                            {"epochs": epochs, "asymmetry": asym, "negative_mass": negative, "skewness": skew,
                             "zero_hessian_epochs": [e for e, v in zip(epochs, vanishing) if v]},
                            f"every snapshot: ∫|ρ(λ)−ρ(−λ)| ≤ {a['max_asymmetry']}, |negative mass − 0.5| ≤ "
                            f"{a['max_negative_mass_offset']}, |skewness| ≤ {a['max_abs_skewness']} (exact spectrum "
                            "where computed, else SLQ), or H = 0"))
    live = [x["entries"] - x["structural_zero_entries"] if x.get("entries") else 0 for x in s]
    used = [i for i, n in enumerate(live) if n >= a["min_live_entries"]]
    excluded = [epochs[i] for i in range(len(s)) if i not in used]
    why = (f"snapshots with fewer than {a['min_live_entries']} sampled entries with a t are left out (epochs "
           f"{excluded}: near zero risk most per-example contributions vanish, at zero risk H = 0)")
    for key, reading in (("frac_t_below_0_15", "bootstrap t = mean/std of the replicate means"),
                         ("frac_effect_below_0_15", "each entry over the spread of its per-example contributions")):
        claim = f"frac(|t| < 0.15) ≥ {a['min_t_fraction']} and rising (Fig. 7b); reading: {reading}"
        values = [s[i][key] for i in used]
        bands = [s[i].get("frac_t_below_0_15_band") or 0.0 for i in used]
        if len(used) < 2:
            out.append(_verdict("inconclusive", claim, {"live_entries": live}, why + "; fewer than 2 remain"))
            continue
        above = [v >= a["min_t_fraction"] for v in values]
        far_below = [v < a["min_t_fraction"] - 2 * b for v, b in zip(values, bands)]
        rising = values[-1] >= values[0]
        status = ("supported" if all(above) and rising else
                  "not supported" if any(far_below) or not rising else "inconclusive")
        out.append(_verdict(status, claim, {"epochs": [epochs[i] for i in used], "fraction": values, "band": bands,
                                            "live_entries": [live[i] for i in used], "excluded_epochs": excluded},
                            f"all ≥ {a['min_t_fraction']} and last ≥ first; not supported if any is 2 bands below or "
                            f"the fraction falls; {why}"))
    sparsity = [s[i].get("correlation_sparsity") for i in used]
    claim = "correlations among Hessian entries sparse, growing denser over training (Figs. 6b,c, 7c)"
    if len(used) < 2 or len(_finite(sparsity)) < len(used):
        out.append(_verdict("inconclusive", claim, {"sparsity": sparsity}, why + "; fewer than 2 remain"))
    else:
        sparse = all(v >= a["min_sparsity"] for v in sparsity)
        denser = sparsity[-1] < sparsity[0]
        out.append(_verdict("supported" if sparse and denser else "not supported", claim,
                            {"epochs": [epochs[i] for i in used], "sparsity": sparsity,
                             "coupling_alpha": [s[i].get("coupling_alpha") for i in used], "excluded_epochs": excluded},
                            f"sparsity (share of coefficients not distinguishable from 0, Fisher z + BH at q = 0.05) ≥ "
                            f"{a['min_sparsity']} at every snapshot and lower at the last than at the first; {why}"))
    risk = [x["loss"] for x in s]
    eta_op = [x["eta_op"] for x in s]
    ratios = [o / r for o, r in zip(eta_op, risk) if r > 0]
    rho = stats.spearmanr(eta_op, risk).statistic if len(s) >= 3 and np.ptp(risk) > 0 else float("nan")
    low, high = a["op_ratio_band"]
    claim = ("order parameter η·OP = η‖∇R‖² falls with the risk, about an order of magnitude below it "
             "(eq. (15), Fig. 4b)")
    if not ratios or not np.isfinite(rho):
        out.append(_verdict("inconclusive", claim, {"risk": risk, "eta_op": eta_op}, "risk zero or fewer than 3 snapshots"))
    else:
        median = float(np.median(ratios))
        ok = low <= median <= high and rho >= a["min_op_risk_rank_correlation"]
        out.append(_verdict("supported" if ok else "not supported", claim,
                            {"epochs": epochs, "risk": risk, "eta_op": eta_op, "median_ratio": median, "spearman": rho},
                            f"median η·OP/R in [{low}, {high}] and Spearman ρ(η·OP, R) ≥ "
                            f"{a['min_op_risk_rank_correlation']}"))
    losses = metrics["columns"]["train_loss"]
    accuracy = metrics["columns"]["train_accuracy"]
    final, first = losses[-1], losses[0]
    status = ("supported" if final <= a["max_final_risk"] else
              "inconclusive" if final <= 0.1 * first else "not supported")
    out.append(_verdict(status, "the risk goes to zero (Fig. 8b)",
                        {"first_epoch_risk": first, "final_risk": final, "final_train_accuracy": accuracy[-1]},
                        f"final training risk ≤ {a['max_final_risk']}; inconclusive when it fell tenfold but not that far"))
    return out


def control_answers(snapshots: list[dict]) -> dict:
    """The control's spectrum: the Gauss–Newton term of cross-entropy should push its skewness and mass positive."""
    s = [row["summary"] for row in snapshots]
    skew = [x.get("exact_skewness", x.get("skewness")) for x in s]
    negative = [x.get("exact_negative_mass", x.get("negative_mass")) for x in s]
    return {"epochs": [row["epoch"] for row in snapshots], "skewness": skew, "negative_mass": negative,
            "skewed_positive": all(k is not None and k > 0 for k in skew[1:] or skew)}


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
    summary["passed"] = all(o.as_expected for o in outcomes)
    started = time.perf_counter()
    write_plasticity_report(root.path, spec=spec, summary=summary, results=results, outcomes=outcomes)
    timings["report"] = time.perf_counter() - started
    summary["timings_s"] = {**timings, "total": sum(timings.values())}
    write_json(root.path / "summary.json", summary)
    return summary
