"""When a training run counts as equilibrated (002 §5: "train … to reach equilibrium … keep track of the
loss function on the test dataset and ensure that no overfitting takes place").

Criterion, evaluated after each epoch e on the recorded per-epoch losses, with window w and relative
tolerance r: let T̄₁ and T̄₀ be the means of the test loss over the last w epochs and over the w epochs
before those, and Ḡ₁, Ḡ₀ the same means of the generalization gap G = test loss − train loss. The run
is in equilibrium at epoch e when e ≥ 2w epochs have been recorded and

    |T̄₁ − T̄₀| ≤ r T̄₀        (the test loss is flat)
    Ḡ₁ − Ḡ₀ ≤ r T̄₀          (the gap is not growing: no overfitting).

Defaults w = 5, r = 0.02. The source runs O(3000) epochs; on such runs a larger window is the better
choice (it is a parameter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import require_int, require_positive


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
