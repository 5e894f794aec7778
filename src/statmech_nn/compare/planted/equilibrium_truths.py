"""Planted truths for the warm-up's trend criterion (verdict ``EQ``: "the run is at equilibrium";
:class:`statmech_nn.networks.equilibrium.TrendCriterion`, issue 23).

A planted set is a stretch of per-epoch train and test losses judged as a warm-up judges it: the criterion is
asked after each of the last ``looks`` epochs (the first with a full window of ``window`` epochs), and the
answer is "supported" when it holds at any of them (the warm-up ends at the first), else the test loss's answer
at the last look ("not supported" or "inconclusive"). Losses: a test loss T(t) = T∞ + E exp(−(t − t₁)/τ), t₁ the
last look, scaled so that T(t₁) = ``LEVEL`` and the loss still falls by ``fall`` (relative) over the
``TREND_HORIZON`` epochs after t₁ (``fall`` = 0: flat), plus stationary AR(1) noise of relative standard
deviation ``noise`` and lag-1 correlation ``rho``; the train loss is 0.6 T(t) with its own AR(1) noise (a gap
that shrinks with the loss). The truth: "not supported" when ``fall`` > 0 (the loss still falls that much after
every look), "supported" when flat.

Sizes: the window of ``soc_mnist5k_published`` (200 epochs, eq_rtol 0.1) and, as an unpowered check, the demo's
(``soc_mnist5k``: 100 epochs); 50 looks at full size, 10 reduced. The noise of 1 % with ρ = 0.5 is what the test
loss of 002 §5's network shows at epochs 46–91 of the published run (relative residual sd 0.75 % about a 21-epoch
running mean, lag-1 correlation 0.47). The 002 §5 shape: a loss that falls 25 % over the next 1000 epochs with
τ = 300, which the 2 % band over 5 epochs calls flat.
"""

from __future__ import annotations

import numpy as np

from ...networks.equilibrium import TREND_HORIZON, EquilibriumCriterion, TrendCriterion
from ..calibration import register_analysis
from . import Scenario, register

LEVEL = 0.2
TRAIN_SHARE = 0.6
RTOL = 0.1          # soc_mnist5k_published's eq_rtol


def _ar1(rng: np.random.Generator, n: int, sd: float, rho: float) -> np.ndarray:
    """A stationary AR(1) series of n values with standard deviation ``sd`` and lag-1 correlation ``rho``."""
    shocks = rng.standard_normal(n) * sd * np.sqrt(1 - rho * rho)
    series = np.empty(n)
    series[0] = rng.standard_normal() * sd
    for i in range(1, n):           # a recursion over ≤ 250 epochs (no vectorized AR filter in NumPy)
        series[i] = rho * series[i - 1] + shocks[i]
    return series


def planted_losses(rng: np.random.Generator, window: int, looks: int, fall: float = 0.0, tau: float = 1000.0,
                   noise: float = 0.01, rho: float = 0.5) -> dict:
    """Train and test losses over ``window + looks − 1`` epochs (module docstring)."""
    n = window + looks - 1
    t = np.arange(n) - (n - 1.0)
    excess = fall * LEVEL / -np.expm1(-TREND_HORIZON / tau)
    test = LEVEL - excess + excess * np.exp(-t / tau)
    train = TRAIN_SHARE * test
    return {"window": window, "test": test + _ar1(rng, n, noise * LEVEL, rho),
            "train": train + _ar1(rng, n, noise * TRAIN_SHARE * LEVEL, rho)}


def equilibrium_answers(data: dict, options: dict) -> dict:
    """``EQ`` as a warm-up answers it (module docstring); with ``band``, the loss band's (the old criterion:
    ``eq_window`` 5, ``eq_rtol`` 0.02) answer at the same looks: "supported" when it holds at any."""
    window, test, train = int(data["window"]), np.asarray(data["test"]), np.asarray(data["train"])
    looks = range(window, test.size + 1)
    if options.get("band"):
        band = EquilibriumCriterion(5, 0.02)
        return {"EQ": "supported" if any(band.holds(train[:k], test[:k]) for k in looks) else "not supported"}
    criterion = TrendCriterion(window, options.get("rtol", RTOL))
    judged = None
    for k in looks:
        judged = criterion.judge(train[:k], test[:k])
        if judged["holds"]:
            return {"EQ": "supported"}
    answer = judged["loss_trend"]
    return {"EQ": "inconclusive" if answer == "supported" else answer}


register_analysis("equilibrium", equilibrium_answers)

_SIZES = {"published": ({"window": 200, "looks": 50}, {"window": 200, "looks": 10}),
          "demo": ({"window": 100, "looks": 50}, {"window": 100, "looks": 10})}

# name, description, size, fall, tau, noise, rho, powered
_CASES = (
    ("eq-flat", "flat test loss, AR(1) noise 1 % (ρ 0.5), window 200", "published", 0.0, 1e3, 0.01, 0.5, True),
    ("eq-flat-strong-noise", "flat test loss, AR(1) noise 2 % (ρ 0.8), window 200", "published", 0.0, 1e3, 0.02,
     0.8, False),
    ("eq-flat-demo", "flat test loss, AR(1) noise 1 % (ρ 0.5), the demo's window 100", "demo", 0.0, 1e3, 0.01, 0.5,
     False),
    ("eq-falls-25", "loss still falls 25 % over the next 1000 epochs (τ 1000), noise 1 %", "published", 0.25, 1e3,
     0.01, 0.5, False),
    ("eq-falls-15-linear", "loss still falls 15 % over the next 1000 epochs (τ 3000: nearly linear), noise 1 %",
     "published", 0.15, 3e3, 0.01, 0.5, False),
    ("eq-falls-10-linear", "loss still falls 10 % over the next 1000 epochs (τ 3000): slope 1.18 x the tolerance",
     "published", 0.10, 3e3, 0.01, 0.5, False),
    ("eq-002-shape", "002 §5's shape: falls 25 % over the next 1000 epochs (τ 300), flat in a 2 % band over 5 "
     "epochs", "published", 0.25, 300.0, 0.01, 0.5, False),
    ("eq-falls-25-demo", "loss still falls 25 % over the next 1000 epochs (τ 1000), the demo's window 100", "demo",
     0.25, 1e3, 0.01, 0.5, False),
)

for _name, _description, _size, _fall, _tau, _noise, _rho, _powered in _CASES:
    _full, _reduced = _SIZES[_size]
    register(Scenario(
        name=_name, description=_description,
        truth={"EQ": "not supported" if _fall > 0 else "supported"},
        generate=lambda rng, _f=_fall, _t=_tau, _n=_noise, _r=_rho, **size: planted_losses(rng, fall=_f, tau=_t,
                                                                                           noise=_n, rho=_r, **size),
        sizes={"full": _full, "reduced": _reduced}, powered=("EQ",) if _powered else (),
        analysis="equilibrium", options={"rtol": RTOL}))
