"""Claims from the source documents, each with its check and tolerance (DESIGN: spec files).

A claim file ``validation/closed_forms/*.toml`` (package data, :mod:`statmech_nn.package_data`) holds
``[[claims]]`` tables:

    [[claims]]
    id = "quartic-eq4-constant"          # unique over all files
    source = "002"                       # which source document states it
    equation = "eq. (4)"                 # where
    statement = "F(β,q) ≈ (1/2β) log(g u + λx) + λq u/2 + (1/2β) log β"
    check = "statmech_nn.quartic.claims:eq4_up_to_constant"  # a registered check (below)
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
"""

from __future__ import annotations

import importlib
import inspect
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..checks import registered
from ..errors import DataError
from ..package_data import data_dir

# The modules that hold registered checks: the only ones a claims file can cause to be imported.
CHECK_MODULES = ("statmech_nn.quartic.claims", "statmech_nn.meanfield.claims", "statmech_nn.gates.claims",
                 "statmech_nn.networks.hessian_claims", "statmech_nn.scan.network")
HOLDS, HOLDS_UNDER, FAILS = "holds", "holds under assumption", "fails"
_REQUIRED = ("id", "source", "equation", "statement", "check", "tolerance")


@dataclass(frozen=True)
class Claim:
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
    claim: Claim
    status: str
    deviation: float
    detail: str = ""

    @property
    def as_expected(self) -> bool:
        """A claim expected to hold passes as 'holds' or 'holds under assumption'; one expected to fail must fail."""
        return (self.status == FAILS) == (self.claim.expected == FAILS)

    def to_dict(self) -> dict:
        claim = asdict(self.claim)
        return {**claim, "status": self.status, "deviation": self.deviation, "detail": self.detail,
                "as_expected": self.as_expected}


def default_claims_dir() -> Path:
    """The claims shipped with the package (``statmech_nn/data/validation/closed_forms``)."""
    return data_dir("claims")


def load_claims(directory: str | Path | None = None) -> list[Claim]:
    """Every claim of every ``*.toml`` in ``directory``, in file and then declaration order."""
    directory = Path(directory) if directory is not None else default_claims_dir()
    if not directory.is_dir():
        raise DataError(f"no claims directory at {directory}")
    claims, seen = [], set()
    for path in sorted(directory.glob("*.toml")):
        try:
            tables = tomllib.loads(path.read_text(encoding="utf-8")).get("claims", [])
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path} is not valid TOML: {exc}") from None
        if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
            raise DataError(f"{path}: 'claims' must be an array of tables ([[claims]])")
        for table in tables:
            claims.append(_claim(path, table, seen))
            seen.add(table["id"])
    return claims


def _claim(path: Path, table: dict, seen: set) -> Claim:
    """One ``[[claims]]`` table as a Claim; a DataError naming the file and the claim if it is malformed."""
    name = table.get("id", "?")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise DataError(f"{path}: claim {name!r} lacks {', '.join(missing)}")
    unknown = sorted(set(table) - ({f.name for f in fields(Claim)} - {"file"}))
    if unknown:
        raise DataError(f"{path}: claim {name!r} has unknown key(s) {', '.join(unknown)}")
    if not isinstance(name, str) or not isinstance(table["check"], str) or not isinstance(table.get("params", {}), dict):
        raise DataError(f"{path}: claim {name!r}: id and check must be strings and params a table")
    tolerance = table["tolerance"]
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
        raise DataError(f"{path}: claim {name!r} has tolerance={tolerance!r}, not a number >= 0")
    if name in seen:
        raise DataError(f"{path}: claim id {name!r} is used twice")
    if table.get("expected", HOLDS) not in (HOLDS, FAILS):
        raise DataError(f"{path}: claim {name!r} has expected={table['expected']!r}, not 'holds' or 'fails'")
    return Claim(**table, file=path.name)


def resolve_check(claim: Claim):
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


def evaluate(claim: Claim, check=None) -> ClaimOutcome:
    """Run one claim's check (``check``, or the one :func:`resolve_check` finds) and classify it."""
    result = (check or resolve_check(claim))(**claim.params)
    deviation, detail = (result if isinstance(result, tuple) else (result, ""))
    deviation = float(deviation)
    if math.isnan(deviation) or deviation > claim.tolerance:
        status = FAILS
    else:
        status = HOLDS_UNDER if claim.assumption else HOLDS
    return ClaimOutcome(claim, status, deviation, detail)


def run_claims(directory: str | Path | None = None, select: str | None = None) -> list[ClaimOutcome]:
    """Evaluate every claim (or those whose id contains ``select``)."""
    claims = [c for c in load_claims(directory) if select is None or select in c.id]
    if select is not None and not claims:
        raise DataError(f"no claim id contains {select!r}")
    checks = [resolve_check(claim) for claim in claims]   # every check refused or found before any runs
    return [evaluate(claim, check) for claim, check in zip(claims, checks)]
