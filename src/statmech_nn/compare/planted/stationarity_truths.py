"""Planted truths for S (weights stationary in the tracked window; :mod:`statmech_nn.observables.stationarity`).

Stationary: Ornstein–Uhlenbeck weights (sampled: AR(1)) of a given integrated autocorrelation time τ, the window
n = 10, 25, 50, 100 τ (S is "supported"; at 100 τ the verdict must say so in ≥ 80 % of sets, shorter windows
may be "inconclusive"). Not stationary, each at a stated effect size with the window 100 τ (S is "not
supported" in ≥ 80 % of sets): a linear drift that moves every weight by ``DRIFT`` = 2 sd of its fluctuations
over the window (the bound "supported" needs); innovations whose sd grows by ``VARIANCE_STEP`` = 1.25 halfway;
a random walk added to each weight whose rms excursion over the window is ``WALK`` = 2 sd; and pure random walks
(no restoring force: τ̂ ≈ n/3, a window significantly shorter than the 10 τ that S's null requires).

Sizes: ``full`` is what the README's networks give (n = 1e5 steps × 16 weights; 12–64 there), ``reduced``
what the test suite runs (n = 2e4 × 16): the rates depend on n/τ, not on n.

Thinned (``thin3-*``, ``thin9-*``): the same truths on windows longer than the ``stationarity_rows`` (1e5) that a
file's streaming analysis tests, answered by the analysis ``"stationarity-thinned"``: S on every m-th row,
m = ⌈T / 1e5⌉ (:func:`statmech_nn.compare.streaming.stationarity_stride`), as ``statmech-nn analyze`` reads the
demo (T = 200,001 rows, m = 3) and the published run (T = 800,001, m = 9). ``thin3-*``: T = 3e5 (m = 3) with
τ = T/100 (100 τ; 1000 thinned rows per τ), T/1000 (1000 τ) or T/10 (10 τ: "inconclusive" allowed);
``thin9-*``: T = 800,001 (m = 9) with τ = T/100, and τ = 3 < m (the thinned rows look independent: the window
counts T/m "autocorrelation times", fewer than its T/τ). ``reduced``: the same T (and m) × 4 weights. Measured
at the full size (20 sets each, seed 0): every powered scenario right in 18–20 of 20, no wrong answer.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ...io import Trajectory
from ..calibration import ANALYSES, register_analysis
from ..streaming import stationarity_stride
from . import Scenario, register

DRIFT = 2.0            # the planted drift over the window, in sd of the stationary fluctuation
VARIANCE_STEP = 1.25   # the planted ratio of the innovations' sd (second half / first half)
WALK = 2.0             # the planted random walk's rms excursion over the window, in sd of the fluctuation
SIZES = {"full": {"n": 100_000, "k": 16}, "reduced": {"n": 20_000, "k": 16}}
THIN3_SIZES = {"full": {"n": 300_000, "k": 16}, "reduced": {"n": 300_000, "k": 4}}
THIN9_SIZES = {"full": {"n": 800_001, "k": 16}, "reduced": {"n": 800_001, "k": 4}}


def ornstein_uhlenbeck(rng: np.random.Generator, n: int, k: int, tau: float, drift: float = 0.0,
                       variance_step: float = 1.0, walk: float = 0.0) -> Trajectory:
    """k independent AR(1) columns w(t+1) = φ w(t) + √(1−φ²) ξ(t) with integrated autocorrelation time
    τ = (1+φ)/(1−φ) (unit variance, started in equilibrium), plus ``drift`` sd of linear trend over the window;
    the innovations of the second half scaled by ``variance_step``; plus a Gaussian random walk whose rms
    excursion over the window (its value at the end) is ``walk`` sd."""
    phi = (tau - 1.0) / (tau + 1.0)
    noise = rng.standard_normal((n, k)) * np.sqrt(1.0 - phi * phi)
    noise[0] = rng.standard_normal(k)
    noise[n // 2:] *= variance_step
    q = lfilter([1.0], [1.0, -phi], noise, axis=0)
    q += drift * np.linspace(-0.5, 0.5, n)[:, None]
    if walk:
        q += np.cumsum(rng.standard_normal((n, k)), axis=0) * (walk / np.sqrt(n))
    return Trajectory(q=q, t=np.arange(n), names=[f"w{j}" for j in range(k)], chain=None, source="planted:ou",
                      metadata={"tau": tau, "drift": drift, "variance_step": variance_step, "walk": walk})


def random_walk(rng: np.random.Generator, n: int, k: int) -> Trajectory:
    """k independent Gaussian random walks of n steps (unit step sd)."""
    q = np.cumsum(rng.standard_normal((n, k)), axis=0)
    return Trajectory(q=q, t=np.arange(n), names=[f"w{j}" for j in range(k)], chain=None,
                      source="planted:random-walk", metadata={})


def _ou(ratio: float | None = None, tau: float | None = None, **change):
    """The generator of OU columns with τ = n / ratio, or a fixed τ."""
    return lambda rng, n, k: ornstein_uhlenbeck(rng, n, k, n / ratio if tau is None else tau, **change)


for _ratio in (10, 25, 50, 100):
    register(Scenario(
        name=f"ou-stationary-n{_ratio}tau", truth={"S": "supported"},
        description=f"16 stationary OU weights, window n = {_ratio} τ_int",
        generate=_ou(_ratio), sizes=SIZES, powered=("S",) if _ratio >= 100 else (), analysis="stationarity"))

register(Scenario(
    name="ou-drift-n100tau", truth={"S": "not supported"}, powered=("S",), analysis="stationarity",
    description=f"16 OU weights, window 100 τ, each with a linear drift of {DRIFT:g} sd over the window",
    generate=_ou(100, drift=DRIFT), sizes=SIZES))
register(Scenario(
    name="ou-variance-step-n100tau", truth={"S": "not supported"}, powered=("S",), analysis="stationarity",
    description=f"16 OU weights, window 100 τ, innovations' sd × {VARIANCE_STEP:g} in the second half",
    generate=_ou(100, variance_step=VARIANCE_STEP), sizes=SIZES))
register(Scenario(
    name="ou-random-walk-n100tau", truth={"S": "not supported"}, powered=("S",), analysis="stationarity",
    description=f"16 OU weights, window 100 τ, plus a random walk of rms excursion {WALK:g} sd over the window",
    generate=_ou(100, walk=WALK), sizes=SIZES))
register(Scenario(
    name="random-walk", truth={"S": "not supported"}, powered=("S",), analysis="stationarity",
    description="16 pure Gaussian random walks (τ fills the window)",
    generate=random_walk, sizes=SIZES))


def thinned_stationarity_answers(data: Trajectory, options: dict) -> dict:
    """S as ``statmech-nn analyze`` answers it on a file of T rows: the stationarity analysis on every m-th row,
    m = ⌈T / stationarity_rows⌉ (:func:`~statmech_nn.compare.streaming.stationarity_stride`; all rows when
    T ≤ 1e5)."""
    stride = stationarity_stride(data.q.shape[0])
    return ANALYSES["stationarity"](data, {**options, "q": data.q[::stride]})


register_analysis("stationarity-thinned", thinned_stationarity_answers)

# name, description, truth, generator, sizes; every one powered but the 10 τ window (as ou-stationary-n10tau)
_THINNED = (
    ("thin3-ou-stationary-n100tau", "16 stationary OU weights, T = 3e5 = 100 τ, S on every 3rd row", "supported",
     _ou(100), THIN3_SIZES),
    ("thin3-ou-stationary-n1000tau", "16 stationary OU weights, T = 3e5 = 1000 τ, S on every 3rd row", "supported",
     _ou(1000), THIN3_SIZES),
    ("thin3-ou-stationary-n10tau", "16 stationary OU weights, T = 3e5 = 10 τ, S on every 3rd row", "supported",
     _ou(10), THIN3_SIZES),
    ("thin3-ou-drift-n100tau", f"16 OU weights, T = 3e5 = 100 τ, drift {DRIFT:g} sd, S on every 3rd row",
     "not supported", _ou(100, drift=DRIFT), THIN3_SIZES),
    ("thin3-ou-variance-step-n100tau", f"16 OU weights, T = 3e5 = 100 τ, innovations' sd × {VARIANCE_STEP:g} in "
     "the second half, S on every 3rd row", "not supported", _ou(100, variance_step=VARIANCE_STEP),
     THIN3_SIZES),
    ("thin3-ou-random-walk-n100tau", f"16 OU weights, T = 3e5 = 100 τ, plus a random walk of rms {WALK:g} sd, S on "
     "every 3rd row", "not supported", _ou(100, walk=WALK), THIN3_SIZES),
    ("thin3-random-walk", "16 pure Gaussian random walks, T = 3e5, S on every 3rd row", "not supported",
     random_walk, THIN3_SIZES),
    ("thin9-ou-stationary-n100tau", "16 stationary OU weights, T = 800,001 = 100 τ, S on every 9th row",
     "supported", _ou(100), THIN9_SIZES),
    ("thin9-ou-stationary-tau3", "16 stationary OU weights, τ = 3 < m = 9, T = 800,001, S on every 9th row",
     "supported", _ou(tau=3.0), THIN9_SIZES),
    ("thin9-ou-drift-n100tau", f"16 OU weights, T = 800,001 = 100 τ, drift {DRIFT:g} sd, S on every 9th row",
     "not supported", _ou(100, drift=DRIFT), THIN9_SIZES),
)
for _name, _description, _truth, _generate, _sizes in _THINNED:
    register(Scenario(name=_name, description=_description, truth={"S": _truth}, generate=_generate, sizes=_sizes,
                      powered=() if _name.endswith("n10tau") else ("S",), analysis="stationarity-thinned"))
