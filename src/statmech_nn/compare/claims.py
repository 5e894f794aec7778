"""Claims from the source documents, each with its check and tolerance (DESIGN: spec files).

A claim file ``validation/closed_forms/*.toml`` (package data, :mod:`statmech_nn.package_data`) holds
``[[claims]]`` tables:

    [[claims]]
    id = "quartic-eq4-constant"          # unique over all files
    source = "002"                       # which source document states it
    equation = "eq. (4)"                 # where
    statement = "F(β,q) ≈ (1/2β) log(g u + λx) + λq u/2 + (1/2β) log β"
    check = "statmech_nn.quartic.quartic_claims:eq4_up_to_constant"  # a registered check (below)
    tolerance = 1e-12                    # the largest deviation at which the claim holds
    assumption = "up to the additive constant -(1/2β) log 2π"   # optional: holds only under this
    expected = "holds"                   # optional, default "holds"; "fails" for a claim we refute
    [claims.params]                      # keyword arguments of the check function
    beta = 2.0

``check`` names a function registered as a check (:mod:`statmech_nn.checks`, the decorator
``@registered_check``) in one of the package's claims modules, :data:`CHECK_MODULES`; anything else
(``os:system``, a module outside the package, an unregistered function of the package) is refused before any
claim runs, and no module outside :data:`CHECK_MODULES` is imported; the params must fit its signature.
The check function takes the params as keyword arguments and returns the measured deviation (a float ≥ 0),
or a (deviation, detail) pair. The claim then *holds* (or *holds under assumption*
when an assumption is stated) if deviation ≤ tolerance, and *fails* otherwise.

A file holds nothing but ``[[claims]]`` tables (a misspelled ``[[claim]]`` is refused, not skipped), and a
directory without a single claim is an error: an empty check never reports success.

:func:`run_claims` runs the claims on a process pool (``workers``) and can keep each measured deviation in a
cache (``cache=True``): one JSON file per claim under :func:`cache_dir`, keyed by the package version, the
package's code and specs (:func:`package_digest`), the check and its params; a changed tolerance re-classifies a
cached deviation without running the check again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import math
import multiprocessing
import os
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .. import __version__
from ..checks import registered
from ..errors import DataError
from ..package_data import data_dir

# The modules that hold registered checks: the only ones a claims file can cause to be imported.
CHECK_MODULES = ("statmech_nn.quartic.quartic_claims", "statmech_nn.meanfield.meanfield_claims",
                 "statmech_nn.gates.gate_claims", "statmech_nn.networks.hessian_claims",
                 "statmech_nn.scan.network_task")
HOLDS, HOLDS_UNDER, FAILS = "holds", "holds under assumption", "fails"
_REQUIRED = ("id", "source", "equation", "statement", "check", "tolerance")
CACHE_ENV = "STATMECH_NN_CACHE"
# Checks that run a scan (minutes, on a pool of their own): started first, so the short ones fill the gaps.
_LONG_CHECK_MODULES = ("statmech_nn.scan.network_task",)


@dataclass(frozen=True)
class SourceClaim:
    """One ``[[claims]]`` table of a claims file: a statement of a source document with its check."""

    id: str
    source: str
    equation: str
    statement: str
    check: str
    tolerance: float
    assumption: str | None = None
    expected: str = HOLDS
    params: dict = field(default_factory=dict)
    file: str = ""


@dataclass(frozen=True)
class ClaimOutcome:
    claim: SourceClaim
    status: str
    deviation: float
    detail: str = ""
    seconds: float = 0.0
    cached: bool = False

    @property
    def as_expected(self) -> bool:
        """A claim expected to hold passes as 'holds' or 'holds under assumption'; one expected to fail must fail."""
        return (self.status == FAILS) == (self.claim.expected == FAILS)

    def to_dict(self) -> dict:
        claim = asdict(self.claim)
        return {**claim, "status": self.status, "deviation": self.deviation, "detail": self.detail,
                "as_expected": self.as_expected, "seconds": self.seconds, "cached": self.cached}


def default_claims_dir() -> Path:
    """The claims shipped with the package (``statmech_nn/data/validation/closed_forms``)."""
    return data_dir("claims")


def load_claims(directory: str | Path | None = None) -> list[SourceClaim]:
    """Every claim of every ``*.toml`` in ``directory``, in file and then declaration order."""
    directory = Path(directory) if directory is not None else default_claims_dir()
    if not directory.is_dir():
        raise DataError(f"no claims directory at {directory}")
    claims, seen = [], set()
    for path in sorted(directory.glob("*.toml")):
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
        unknown = sorted(set(document) - {"claims"})
        if unknown:
            raise DataError(f"{path}: unknown key(s) {', '.join(unknown)}; a claims file holds [[claims]] tables only")
        tables = document.get("claims", [])
        if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
            raise DataError(f"{path}: 'claims' must be an array of tables ([[claims]])")
        for table in tables:
            claims.append(_claim(path, table, seen))
            seen.add(table["id"])
    if not claims:
        raise DataError(f"no claims in {directory}: a claims directory holds *.toml files of [[claims]] tables")
    return claims


def _claim(path: Path, table: dict, seen: set) -> SourceClaim:
    """One ``[[claims]]`` table as a SourceClaim; a DataError naming the file and the claim if it is malformed."""
    name = table.get("id", "?")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise DataError(f"{path}: claim {name!r} lacks {', '.join(missing)}")
    unknown = sorted(set(table) - ({f.name for f in fields(SourceClaim)} - {"file"}))
    if unknown:
        raise DataError(f"{path}: claim {name!r} has unknown key(s) {', '.join(unknown)}")
    if (not isinstance(name, str) or not isinstance(table["check"], str)
            or not isinstance(table.get("params", {}), dict)):
        raise DataError(f"{path}: claim {name!r}: id and check must be strings and params a table")
    tolerance = table["tolerance"]
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < math.inf:
        raise DataError(f"{path}: claim {name!r} has tolerance={tolerance!r}, not a finite number >= 0")
    if name in seen:
        raise DataError(f"{path}: claim id {name!r} is used twice")
    if table.get("expected", HOLDS) not in (HOLDS, FAILS):
        raise DataError(f"{path}: claim {name!r} has expected={table['expected']!r}, not 'holds' or 'fails'")
    return SourceClaim(**table, file=path.name)


def resolve_check(claim: SourceClaim):
    """The registered check function ``claim.check`` names; a DataError naming the claim and the check otherwise.

    Only a module of :data:`CHECK_MODULES` is imported, and only a function registered there is returned.
    """
    module_name, _, function_name = str(claim.check).partition(":")
    function = None
    if module_name in CHECK_MODULES and function_name:
        importlib.import_module(module_name)
        function = registered(f"{module_name}:{function_name}")
    if function is None:
        raise DataError(f"claim {claim.id!r} ({claim.file}): check {claim.check!r} is not a registered check; "
                        f"checks are functions marked @registered_check in {', '.join(CHECK_MODULES)}")
    try:
        inspect.signature(function).bind(**claim.params)
    except TypeError as exc:
        raise DataError(f"claim {claim.id!r} ({claim.file}): params do not fit {claim.check}: {exc}") from None
    return function


def _classify(claim: SourceClaim, deviation: float, detail: str, seconds: float = 0.0,
              cached: bool = False) -> ClaimOutcome:
    """The outcome of a claim whose check measured ``deviation`` (NaN fails)."""
    if math.isnan(deviation) or deviation > claim.tolerance:
        status = FAILS
    else:
        status = HOLDS_UNDER if claim.assumption else HOLDS
    return ClaimOutcome(claim, status, deviation, detail, seconds, cached)


def _one_thread_per_worker() -> None:
    """A pool worker's initializer: one BLAS/OpenMP thread per process (the pool already fills the cores; torch's
    and BLAS's own threads on top of it multiply a check's time many fold)."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


def _measure(claim: SourceClaim, check=None) -> tuple[float, str, float]:
    """Run one claim's check: (deviation, detail, seconds). Top level, so that a pool worker can run it."""
    started = time.perf_counter()
    result = (check or resolve_check(claim))(**claim.params)
    deviation, detail = (result if isinstance(result, tuple) else (result, ""))
    return float(deviation), str(detail), time.perf_counter() - started


def evaluate(claim: SourceClaim, check=None) -> ClaimOutcome:
    """Run one claim's check (``check``, or the one :func:`resolve_check` finds) and classify it."""
    return _classify(claim, *_measure(claim, check))


def cache_dir() -> Path:
    """Where measured claims are kept: ``$STATMECH_NN_CACHE``, else ``$XDG_CACHE_HOME/statmech-nn``, else
    ``~/.cache/statmech-nn`` (each claim in ``claims/<key>.json``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "statmech-nn"


@functools.lru_cache(maxsize=1)
def package_digest() -> str:
    """A SHA-256 of the package's code and shipped specs (every ``*.py`` and ``*.toml`` under it, with their paths):
    any change to what a check runs or reads gives new cache keys, in a release and in a working copy alike."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(p for pattern in ("*.py", "*.toml") for p in root.rglob(pattern)):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(claim: SourceClaim) -> str:
    """The claim's inputs: the package version and :func:`package_digest`, the check and its params (a SHA-256)."""
    inputs = {"version": __version__, "package": package_digest(), "check": claim.check, "params": claim.params}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _cache_path(claim: SourceClaim) -> Path:
    return cache_dir() / "claims" / f"{cache_key(claim)}.json"


def _cached(claim: SourceClaim) -> ClaimOutcome | None:
    """The cached outcome of ``claim``, or None (no entry, or one unreadable or for other inputs). Only a
    registered check's outcome is ever stored, so a hit needs no import of the check's module."""
    if claim.check.partition(":")[0] not in CHECK_MODULES:
        return None
    try:
        entry = json.loads(_cache_path(claim).read_text(encoding="utf-8"))
        if entry["check"] != claim.check or entry["params"] != json.loads(json.dumps(claim.params, default=str)):
            return None
        return _classify(claim, float(entry["deviation"]), str(entry["detail"]), float(entry["seconds"]), True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(outcome: ClaimOutcome) -> None:
    """Keep a measured outcome (atomically: write a temporary file, then rename); a cache that cannot be
    written is skipped, never an error."""
    path = _cache_path(outcome.claim)
    deviation = outcome.deviation if math.isfinite(outcome.deviation) else repr(outcome.deviation)
    entry = {"version": __version__, "check": outcome.claim.check, "params": outcome.claim.params,
             "deviation": deviation, "detail": outcome.detail, "seconds": outcome.seconds}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entry, default=str), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass


def run_claims(directory: str | Path | None = None, select: str | None = None, *, workers: int = 1,
               cache: bool = False, on_outcome=None) -> list[ClaimOutcome]:
    """Evaluate every claim (or those whose id contains ``select``), in file order.

    ``workers`` > 1 runs the checks on a process pool of that many processes (one long scan check first, the
    short ones beside it, so that lines come at once);
    ``cache`` reuses and keeps measured deviations (:func:`cache_dir`); ``on_outcome(outcome, done, total)``
    is called as each claim finishes (from the cache first).
    """
    claims = [c for c in load_claims(directory) if select is None or select in c.id]
    if select is not None and not claims:
        raise DataError(f"no claim id contains {select!r}")
    hits = {index: hit for index, hit in enumerate(map(_cached, claims) if cache else ()) if hit is not None}
    pending = [index for index in range(len(claims)) if index not in hits]
    checks = {index: resolve_check(claims[index]) for index in pending}   # every check refused or found first
    outcomes: dict[int, ClaimOutcome] = {}

    def finished(index: int, outcome: ClaimOutcome) -> None:
        outcomes[index] = outcome
        if cache and not outcome.cached:
            _store(outcome)
        if on_outcome is not None:
            on_outcome(outcome, len(outcomes), len(claims))

    for index, hit in hits.items():
        finished(index, hit)
    long = [i for i in pending if claims[i].check.partition(":")[0] in _LONG_CHECK_MODULES]
    pending = long[:1] + [i for i in pending if i not in long] + long[1:]   # one long check beside the short ones
    if workers <= 1 or len(pending) <= 1:
        for index in pending:
            finished(index, _classify(claims[index], *_measure(claims[index], checks[index])))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(pending)), mp_context=context,
                                 initializer=_one_thread_per_worker) as pool:
            futures = {pool.submit(_measure, claims[index]): index for index in pending}
            try:
                for future in as_completed(futures):
                    finished(futures[future], _classify(claims[futures[future]], *future.result()))
            except BaseException:   # Ctrl-C, SIGTERM or a failing check: the checks still running are stopped
                running = list((getattr(pool, "_processes", None) or {}).values())   # shutdown forgets them
                for process in running:
                    process.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return [outcomes[index] for index in range(len(claims))]
