"""The registry of claim checks: the only functions a claims file may name (issue 12: nothing else runs).

A check function is registered where it is defined, by the decorator::

    from ..checks import registered_check

    @registered_check
    def eq4_up_to_constant(lambda_x, g, lambda_q, beta, q_values): ...

which records it under its id ``"<module>:<function>"`` (the ``check`` string of a claim, e.g.
``"statmech_nn.quartic.quartic_claims:eq4_up_to_constant"``) and marks it (``registered_check = True``). The
modules that hold checks are imported only on demand, by :func:`statmech_nn.compare.claims.resolve_check`,
from its allow-list; this module imports nothing, so that registering costs nothing at import time.
"""

from __future__ import annotations

from collections.abc import Callable

_REGISTRY: dict[str, Callable] = {}


def check_id(function: Callable) -> str:
    """The id a claims file uses for ``function``: ``"<module>:<function>"``."""
    return f"{function.__module__}:{function.__name__}"


def registered_check(function: Callable) -> Callable:
    """Register ``function`` as a claim check (decorator); returns it unchanged but marked."""
    function.registered_check = True
    _REGISTRY[check_id(function)] = function
    return function


def registered(name: str) -> Callable | None:
    """The check registered under ``name``, or None (its module must have been imported)."""
    function = _REGISTRY.get(name)
    return function if getattr(function, "registered_check", False) is True else None
