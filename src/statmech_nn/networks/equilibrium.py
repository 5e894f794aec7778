"""When a training run counts as equilibrated (002 §5: "train … to reach equilibrium … keep track of the
loss function on the test dataset and ensure that no overfitting takes place").

Two criteria, each evaluated after every warm-up epoch e with the window w = ``eq_window`` epochs; the
run's ``equilibrium_criterion`` says which ends the warm-up: ``loss``, ``weights`` or ``both`` (both at
the same epoch).

**Loss** (relative tolerance r): let T̄₁ and T̄₀ be the means of the test loss over the last w epochs and
over the w epochs before those, and Ḡ₁, Ḡ₀ the same means of the generalization gap G = test loss −
train loss. It holds at epoch e when e ≥ 2w epochs have been recorded and

    |T̄₁ − T̄₀| ≤ r T̄₀        (the test loss is flat)
    Ḡ₁ − Ḡ₀ ≤ r T̄₀          (the gap is not growing: no overfitting).

**Weights** (issue 10 item 3: the loss can be flat while the weights, the object of study, still drift):
up to ``PROBE_WEIGHTS`` = 32 of the tracked weights (evenly spread over the tracked columns, so over the
layers) are read ``PROBES_PER_EPOCH`` = 32 times per warm-up epoch (at evenly spaced steps, the last at
the epoch's end; every step when an epoch is shorter). It holds at epoch e when the last w epochs of
probes are recorded and at least ``WEIGHT_QUORUM`` = 90 % of the probed weights that move have no drift:
the change of their least-squares line over the window is at most ``DRIFT_LIMIT`` = 1 standard
deviation of their fluctuations about it (:func:`statmech_nn.autocorrelation.drift_ratio`, the drift of
:mod:`statmech_nn.observables.stationarity`). The quorum leaves room for weights that only decay
(Δ = −ηλw on inputs that are always zero: a smooth exponential, a drift by this definition) and for
chance: for a stationary weight with τ probes the ratio is ≈ |N(0,1)| √(12τ/n), so the window must be
long compared with the weights' correlation time (raise ``eq_window`` on long runs).

Defaults w = 5, r = 0.02. The source runs O(3000) epochs; on such runs a larger window is the better
choice (it is a parameter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autocorrelation import DRIFT_LIMIT, drift_ratio
from ..params import require_int, require_positive

EQUILIBRIUM_CRITERIA = ("loss", "weights", "both")
PROBES_PER_EPOCH = 32
PROBE_WEIGHTS = 32
WEIGHT_QUORUM = 0.9


@dataclass(frozen=True)
class EquilibriumCriterion:
    window: int = 5
    rtol: float = 0.02

    def __post_init__(self):
        object.__setattr__(self, "window", require_int("eq_window", self.window, 1))
        object.__setattr__(self, "rtol", require_positive("eq_rtol", self.rtol))

    def holds(self, train_loss, test_loss) -> bool:
        """Whether the criterion holds after the last of the given per-epoch losses."""
        train, test = np.asarray(train_loss, float), np.asarray(test_loss, float)
        w = self.window
        if test.size < 2 * w or not np.all(np.isfinite(test[-2 * w:])):
            return False
        gap = test - train
        test_now, test_before = test[-w:].mean(), test[-2 * w:-w].mean()
        gap_now, gap_before = gap[-w:].mean(), gap[-2 * w:-w].mean()
        flat = abs(test_now - test_before) <= self.rtol * test_before
        not_overfitting = gap_now - gap_before <= self.rtol * test_before
        return bool(flat and not_overfitting)

    def describe(self) -> str:
        w, r = self.window, self.rtol
        return (f"mean test loss over the last {w} epochs within {r:g} (relative) of the mean over the {w} "
                f"epochs before, and the mean test-train gap not grown by more than {r:g} x that mean")


@dataclass(frozen=True)
class WeightCriterion:
    """The weight criterion of the module docstring for a run with ``steps_per_epoch`` steps per epoch."""

    window: int
    steps_per_epoch: int
    align: int = 1      # probe positions on multiples of this (a CUDA graph's steps: whole replays between probes)

    def __post_init__(self):
        for name, minimum in (("window", 1), ("steps_per_epoch", 1), ("align", 1)):
            object.__setattr__(self, name, require_int("eq_window" if name == "window" else name,
                                                       getattr(self, name), minimum))

    @property
    def probe_steps(self) -> np.ndarray:
        """Positions in an epoch (batches done, 1 … steps_per_epoch) after which the weights are probed:
        evenly spaced on multiples of ``align``, the last at the epoch's end."""
        steps, align = self.steps_per_epoch, self.align
        count = max(1, min(PROBES_PER_EPOCH, steps // align))
        positions = np.round(np.arange(1, count + 1) * steps / (count * align)).astype(int) * align
        return np.unique(np.append(positions[(positions > 0) & (positions < steps)], steps))

    @property
    def rows(self) -> int:
        """Probe rows in the window."""
        return self.window * self.probe_steps.size

    @staticmethod
    def probe_columns(k: int) -> np.ndarray:
        """Which of the k tracked columns are probed: up to PROBE_WEIGHTS, evenly spread."""
        return np.unique(np.round(np.linspace(0, k - 1, min(k, PROBE_WEIGHTS))).astype(int))

    def next_probe(self, batch: int) -> int:
        """The first probe position after ``batch`` batches of the epoch."""
        steps = self.probe_steps
        return int(steps[np.searchsorted(steps, batch, side="right")])

    def stationary_fraction(self, probes) -> float | None:
        """Fraction of the moving probed weights without drift over the last window (None: window not full)."""
        probes = np.asarray(probes, float)
        if probes.ndim != 2 or probes.shape[0] < self.rows:
            return None
        window = probes[-self.rows:]
        moving = np.ptp(window, axis=0) > 0
        if not moving.any():
            return 0.0
        return float(np.mean(drift_ratio(window[:, moving]) <= DRIFT_LIMIT))

    def holds(self, probes) -> bool:
        fraction = self.stationary_fraction(probes)
        return fraction is not None and fraction >= WEIGHT_QUORUM

    def describe(self) -> str:
        return (f"at least {WEIGHT_QUORUM:.0%} of up to {PROBE_WEIGHTS} probed weights (read {self.probe_steps.size} "
                f"times per epoch) drift by at most {DRIFT_LIMIT:g} sd of their fluctuations over the last "
                f"{self.window} epochs")
