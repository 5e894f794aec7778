"""Errors shared by every part of statmech-nn.

Every error a user can cause derives from :class:`StatmechError`; the CLI turns
it into one line on stderr and exit status 2.
"""


class StatmechError(ValueError):
    """Base class of every error caused by the user's input or model choice."""


class ParameterError(StatmechError):
    """A parameter is outside its allowed range; the message names it."""

    def __init__(self, name: str, value, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"{name}={value!r} is not allowed: {name} must be {allowed}")


class NotNormalizableError(StatmechError):
    """A density has no finite normalization; the message says why."""


class DataError(StatmechError):
    """A data or result file is missing, unreadable or malformed; the message names it."""


class ConvergenceError(StatmechError):
    """A solver or sampler did not reach what it was asked for; the message says what failed."""


class DivergenceError(ConvergenceError):
    """A run left the finite numbers (a loss or weight became NaN or infinite); the message names the likely cause.
    Its run directory records the outcome ``diverged``."""


class BudgetError(StatmechError):
    """A run would need more memory or time than the stated budget (:func:`statmech_nn.params.require_budget`)."""
