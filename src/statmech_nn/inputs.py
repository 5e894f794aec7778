"""The checks of numeric input handed to the Python API or read from a user's file, in one place (issue 20).

:func:`real_array` is what every entry point that takes an array runs first (``statmech_nn.analyze(array)``, the
gates' weights and inputs, ``track``'s weights): a real, finite float64 array of the expected rank, not beyond a
magnitude whose squares (variances, second moments) still fit a float64, and, where a fit needs spread, not
constant. Each refusal is a DataError (a ValueError) that names the input and the problem.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .params import require_budget

MAX_MAGNITUDE = 1e150   # |x| beyond this: x² (a variance, a second moment) overflows float64
COPIES = 8              # float64 copies of an input an analysis may hold at once (a memory budget)


def real_array(values, what: str, *, ndim: int | None = None, varying: bool = False,
               max_magnitude: float = MAX_MAGNITUDE, copies: int = COPIES) -> np.ndarray:
    """``values`` as a real, finite float64 array; a DataError naming ``what`` when it is not numeric, complex,
    of another rank than ``ndim``, holds NaN or infinity or a magnitude above ``max_magnitude``, is constant in
    every column while ``varying`` is asked for, or would need more than the memory budget for ``copies``
    float64 copies of it."""
    array = np.asarray(values)
    if array.dtype.kind == "c":
        raise DataError(f"{what} is complex; pass real numbers (the imaginary part would be lost)")
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what} must be numbers, got an array of {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise DataError(f"{what} must have {ndim} dimension(s), got shape {array.shape}")
    require_budget(f"{what} of shape {array.shape}", memory=8.0 * copies * array.size)
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{what} holds NaN or infinite values")
    if array.size and np.abs(array).max() > max_magnitude:
        raise DataError(f"{what} holds values as large as {np.abs(array).max():.3g}, beyond {max_magnitude:g} "
                        "(their squares overflow); rescale it")
    if varying and array.size:
        if np.all(np.ptp(array.reshape(array.shape[0], -1), axis=0) == 0):   # one constant column is a status
            raise DataError(f"{what} is constant in every column: there are no fluctuations to analyze")
    return array
