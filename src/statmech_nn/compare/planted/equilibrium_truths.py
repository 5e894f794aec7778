"""Planted truths for the warm-up's trend criterion (:class:`statmech_nn.networks.equilibrium.TrendCriterion` and
:class:`~statmech_nn.networks.equilibrium.WeightTrendCriterion`, issue 23): verdict ``EQ`` ("the test loss is at
equilibrium": the loss's half) and verdict ``EQW`` ("the probed weights are at equilibrium": the weights' half). The
criterion holds when both halves hold, so its false "supported" rate is at most the smaller of the two halves', and
its power at least the sum of their powers minus one.

**EQ.** A planted set is a stretch of per-epoch train and test losses judged as a warm-up judges it: the criterion is
asked after each of the last ``looks`` epochs (the first with a full window of ``window`` epochs), and the
answer is "supported" once it has held at L consecutive looks (``confirm_looks``: L = w/10; the warm-up ends
there), else the test loss's answer
at the last look ("not supported" or "inconclusive"). Losses: a test loss T(t) = T∞ + E exp(−(t − t₁)/τ), t₁ the
last look, scaled so that T(t₁) = ``LEVEL`` and the loss still falls by ``fall`` (relative) over the
``TREND_HORIZON`` epochs after t₁ (``fall`` = 0: flat), plus stationary AR(1) noise of relative standard
deviation ``noise`` and lag-1 correlation ``rho``; the train loss is 0.6 T(t) with its own AR(1) noise (a gap
that shrinks with the loss). The truth: "not supported" when ``fall`` > 0 (the loss still falls that much after
every look), "supported" when flat.

Sizes: the window of ``soc_mnist5k_published`` (200 epochs, eq_rtol 0.1) and, as an unpowered check, the demo's
(``soc_mnist5k``: 100 epochs); 50 looks at full size, 30 reduced. The noise of 1 % with ρ = 0.5 is what the test
loss of 002 §5's network shows at epochs 46–91 of the published run (relative residual sd 0.75 % about a 21-epoch
running mean, lag-1 correlation 0.47). The 002 §5 shape: a loss that falls 25 % over the next 1000 epochs with
τ = 300, which the 2 % band over 5 epochs calls flat.

**EQW.** A planted set is the probe readings of ``weights`` = 32 probed weights, ``probes`` = 32 per epoch (the
published spec's: mnist5k's 4000 steps per epoch, a reading every 125 steps), over ``window + looks − 1`` epochs,
float32 as the engine's weights, judged as a warm-up judges them (:func:`weight_equilibrium_answers`: the
per-epoch records of :func:`~statmech_nn.networks.equilibrium.epoch_summary`, the weight trend asked after every
epoch with a full window, "supported" once it has held at L = w/10 consecutive looks, else its answer at the last
look). A moving
weight is a level (N(0, 0.05)) plus a scale (1e-5 · lognormal: the published run's weights fluctuate by 1e-7 to
1e-4) times noise + drift. The noise, measured on the published run's weights at epochs 3000–3200 (its tracked
window read at the probe positions, medians over its 58 moving probed weights): a fast AR(1) part of sd 1 with
lag-1 correlation ``PROBE_RHO`` = 0.8 between readings plus a slower AR(1) part of sd ``SLOW_SD`` = 0.7 and
correlation time ``SLOW_TAU`` = 1 epoch. Planted (400 weights) against measured: lag-1 correlation of the readings
about their epoch's mean 0.75 against 0.76, residual sd of the per-epoch means about their line 0.81 of the
within-epoch sd against 0.81, lag-1 correlation of those residuals 0.34 against 0.28 (0.14 about a parabola). The
drift moves a weight by ``drift`` × the tolerance (``WEIGHT_TREND_SD`` sd of the noise) over the ``TREND_HORIZON``
epochs after the last look: linearly, or as an exponential approach with time constant ``drift_tau`` (still moving
that much after every look). Frozen weights are constants; decay-only weights are w₀ exp(−ηλt) with the published
spec's ηλ × 4000 steps = 4e-3 per epoch (the weights on always-zero inputs). The truths: "supported" for
stationary noise (with frozen and decay-only weights mixed in: they are excluded or counted, not judged); "not
supported" for any drift beyond the tolerance (all weights, or one of 28 at 1.25 ×), and for an OU part whose
correlation time is the window (200 epochs): such a weight is stationary in the long run, but its window cannot
show it, and a warm-up judged on it must not end. Full size: the published window (200 epochs), 50 looks; the
demo's window (100) as an unpowered check; 30 looks reduced.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ...networks.equilibrium import (PROBE_WEIGHTS, PROBES_PER_EPOCH, TREND_HORIZON, WEIGHT_TREND_SD,
                                     EquilibriumCriterion, TrendCriterion, WeightTrendCriterion, confirm_looks,
                                     epoch_summary, held_at_last)
from ..calibration import register_analysis
from . import Scenario, register

LEVEL = 0.2
TRAIN_SHARE = 0.6
RTOL = 0.1          # soc_mnist5k_published's eq_rtol


def _ar1(rng: np.random.Generator, n: int, sd: float, rho: float, columns: int | None = None) -> np.ndarray:
    """A stationary AR(1) series of n values (or ``columns`` independent ones, (n, columns)) with standard deviation
    ``sd`` and lag-1 correlation ``rho``."""
    width = 1 if columns is None else columns
    shocks = rng.standard_normal((n, width)) * sd * np.sqrt(1 - rho * rho)
    start = rng.standard_normal(width) * sd
    shocks[0] = 0.0
    series = lfilter([1.0], [1.0, -rho], shocks, axis=0, zi=start[None, :])[0]
    return series[:, 0] if columns is None else series


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
    judged, holds = None, []
    for k in looks:
        judged = criterion.judge(train[:k], test[:k])
        holds.append(judged["holds"])
        if held_at_last(holds, criterion.confirm):
            return {"EQ": "supported"}
    answer = judged["loss_trend"]
    return {"EQ": "inconclusive" if answer == "supported" else answer}


register_analysis("equilibrium", equilibrium_answers)

_SIZES = {"published": ({"window": 200, "looks": 50}, {"window": 200, "looks": 30}),
          "demo": ({"window": 100, "looks": 50}, {"window": 100, "looks": 30})}

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


# --- the weights' half (verdict EQW) ---------------------------------------------------------------------------

PROBE_RHO = 0.8             # lag-1 correlation of the fast part between probe readings
SLOW_SD, SLOW_TAU = 0.7, 1.0    # the slower part: sd (relative to the fast part's) and correlation time in epochs
DECAY_PER_EPOCH = 4e-3      # ηλ × steps per epoch of soc_mnist5k_published: 2e-3 × 5e-4 × 4000


def planted_weights(rng: np.random.Generator, window: int, looks: int, probes: int = PROBES_PER_EPOCH,
                    weights: int = PROBE_WEIGHTS, frozen: int = 0, decaying: int = 0, drifting: int | None = None,
                    drift: float = 0.0, drift_tau: float | None = None, slow_sd: float = SLOW_SD,
                    slow_tau: float = SLOW_TAU) -> dict:
    """Probe readings (epochs, probes, weights) of ``window + looks − 1`` epochs, float32 (module docstring)."""
    epochs = window + looks - 1
    n, moving = epochs * probes, weights - frozen - decaying
    noise = (_ar1(rng, n, 1.0, PROBE_RHO, moving)
             + _ar1(rng, n, slow_sd, float(np.exp(-1.0 / (slow_tau * probes))), moving))
    t = (np.arange(n) + 1.0) / probes - epochs          # epochs, 0 at the last look
    change = drift * WEIGHT_TREND_SD * np.sqrt(1.0 + slow_sd ** 2)     # over the horizon after the last look
    path = (change / TREND_HORIZON * t if drift_tau is None else
            change * np.exp(-t / drift_tau) / -np.expm1(-TREND_HORIZON / drift_tau))
    drifting = moving if drifting is None else drifting
    noise[:, :drifting] += np.sign(rng.standard_normal(drifting)) * path[:, None]
    scale = 1e-5 * np.exp(rng.standard_normal(moving))          # the published run's sd: 1e-7 to 1e-4
    level = rng.normal(0.0, 0.05, moving)
    start = rng.uniform(0.005, 0.05, decaying) * np.sign(rng.standard_normal(decaying))
    readings = np.concatenate([level + scale * noise, np.repeat(rng.normal(0.0, 0.05, (1, frozen)), n, axis=0),
                               start * np.exp(-DECAY_PER_EPOCH * (t[:, None] + epochs))], axis=1)
    return {"window": window, "probes": readings.astype(np.float32).reshape(epochs, probes, weights)}


def weight_equilibrium_answers(data: dict, options: dict) -> dict:
    """``EQW`` as a warm-up answers it: the weight trend (:class:`WeightTrendCriterion`) on the per-epoch records
    of the probe readings, asked after each epoch with a full window; "supported" once it has held at
    :func:`~statmech_nn.networks.equilibrium.confirm_looks` consecutive looks,
    else its answer at the last look."""
    window = int(data["window"])
    records = epoch_summary(data["probes"])
    criterion = WeightTrendCriterion(window, **options)
    judged, holds = None, []
    for k in range(window, records.shape[0] + 1):
        judged = criterion.judge(records[:k])
        holds.append(judged["holds"])
        if held_at_last(holds, confirm_looks(window)):
            return {"EQW": "supported"}
    return {"EQW": judged["weight_trend"]}


register_analysis("weight-equilibrium", weight_equilibrium_answers)

# name, description, size, planted_weights arguments, truth, powered
_WEIGHT_CASES = (
    ("eqw-stationary", "28 stationary weights (probe AR(1) ρ 0.8 + a part of sd 0.7 with τ 1 epoch) and 4 frozen",
     "published", {"frozen": 4}, "supported", True),
    ("eqw-stationary-decay", "24 stationary weights, 4 that only decay (Δ = −ηλw) and 4 frozen", "published",
     {"frozen": 4, "decaying": 4}, "supported", True),
    ("eqw-stationary-slow", "28 stationary weights with a slower part (sd 1, τ 5 epochs: per-epoch means lag-1 "
     "0.8) and 4 frozen", "published", {"frozen": 4, "slow_sd": 1.0, "slow_tau": 5.0}, "supported", False),
    ("eqw-stationary-demo", "28 stationary weights and 4 frozen, the demo's window 100", "demo", {"frozen": 4},
     "supported", False),
    ("eqw-linear-drift", "28 weights drifting linearly, 2 x the tolerance over the horizon, and 4 frozen",
     "published", {"frozen": 4, "drift": 2.0}, "not supported", False),
    ("eqw-exp-approach", "28 weights approaching their level (τ 300 epochs), still moving 2 x the tolerance over "
     "the next 1000 epochs, and 4 frozen", "published", {"frozen": 4, "drift": 2.0, "drift_tau": 300.0},
     "not supported", False),
    ("eqw-one-drifts", "one of 28 weights drifting linearly, 1.25 x the tolerance over the horizon, the rest "
     "stationary, 4 frozen", "published", {"frozen": 4, "drift": 1.25, "drifting": 1}, "not supported", False),
    ("eqw-slow-ou", "28 weights with an OU part of sd 1 and τ 200 epochs (the window), and 4 frozen", "published",
     {"frozen": 4, "slow_sd": 1.0, "slow_tau": 200.0}, "not supported", False),
)

for _name, _description, _size, _arguments, _truth, _powered in _WEIGHT_CASES:
    _full, _reduced = _SIZES[_size]
    register(Scenario(
        name=_name, description=_description, truth={"EQW": _truth},
        generate=lambda rng, _a=_arguments, **size: planted_weights(rng, **_a, **size),
        sizes={"full": _full, "reduced": _reduced}, powered=("EQW",) if _powered else (),
        analysis="weight-equilibrium"))
