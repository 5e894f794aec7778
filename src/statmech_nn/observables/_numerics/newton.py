"""A damped Newton maximizer for two-parameter log-likelihoods with one parameter bounded below by 0.

The exponential families of :mod:`statmech_nn.observables.tail_models` and the increment theory of
:mod:`statmech_nn.compare.fits` have concave log-likelihoods in their natural parameters θ = (θ0, θ1),
with θ1 ≥ 0 (a cut-off rate: λ, b or 1/2σ²) and a simpler model at θ1 = 0.
"""

from __future__ import annotations

import numpy as np

from ...errors import ConvergenceError

_NEWTON_ITERATIONS = 200


def _line_search(evaluate, theta, value, gradient, direction):
    """Armijo backtracking along ``direction``; a step may at most divide θ1 by 10. (trial, results) or None."""
    step = 1.0 if direction[1] >= 0 else min(1.0, 0.9 * theta[1] / -direction[1])
    slope = float(gradient @ direction)
    while step > 1e-14:
        trial = theta + step * direction
        results = evaluate(trial)
        if results[0] >= value + 1e-4 * step * slope:
            return trial, results
        step *= 0.5
    return None


def maximize_with_bound(evaluate, theta, name: str, frozen: bool = False):
    """Damped Newton ascent keeping θ1 > 0, for a concave log-likelihood with the power law at θ1 = 0.

    A step may at most divide θ1 by 10, so a boundary optimum is approached geometrically; when that
    limit blocks the Newton step, the step in θ0 alone (θ1 fixed) is tried as well and the better one
    taken. The Hessian is Levenberg-regularized where it is not negative definite. Stops when the
    Newton decrement or the gain of a step is below 1e-10 (relative to the log-likelihood).

    ``evaluate(θ)`` returns (value, gradient (2,), Hessian (2, 2)), or (-inf, None, None) where the
    density is not normalizable. ``frozen``: keep θ1 at its starting value, maximize over θ0 only.
    """
    theta = np.array(theta, float)
    value, gradient, hessian = evaluate(theta)
    if not np.isfinite(value):
        raise ConvergenceError(f"the {name} fit started where the density is not normalizable")
    for _ in range(_NEWTON_ITERATIONS):
        tolerance = 1e-10 * max(1.0, abs(value))
        curvature = -hessian
        smallest = np.linalg.eigvalsh(curvature).min()
        if smallest <= 0.0:
            curvature = curvature + (1e-9 * np.abs(curvature).max() - 1.01 * smallest) * np.eye(2)
        alone = np.array([gradient[0] / curvature[0, 0], 0.0])
        newton = alone if frozen else np.linalg.solve(curvature, gradient)
        directions = [newton]
        if newton[1] < 0 and 0.9 * theta[1] < -newton[1]:  # blocked by the bound: also try θ0 alone
            directions.append(alone)
        best = None
        for direction in directions:
            if float(gradient @ direction) < tolerance:
                continue
            found = _line_search(evaluate, theta, value, gradient, direction)
            if found is not None and (best is None or found[1][0] > best[1][0]):
                best = found
        if best is None:
            return theta, value
        gain = best[1][0] - value
        theta, (value, gradient, hessian) = best
        if gain < tolerance:
            return theta, value
    raise ConvergenceError(f"the {name} fit did not converge in {_NEWTON_ITERATIONS} Newton steps")
