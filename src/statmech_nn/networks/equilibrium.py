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

**Trend** (issue 23: the loss band above fired at epoch 36 of 002 §5's network while the test loss was still to
fall by a quarter; ``equilibrium_criterion = "trend"``): an equivalence test on the slope of the per-epoch test
loss T over the last w epochs (:func:`trend_answer`). With b the least-squares slope (per epoch), its standard
error corrected for AR(1) noise (the residuals' lag-1 autocorrelation ρ, bias-corrected and floored at 0:
var b = s²/Sxx · (1+ρ)/(1−ρ)) and the one-sided Student quantile at level α = ``TREND_ALPHA`` = 0.05 with the
effective degrees of freedom w(1−ρ)/(1+ρ) − 2, the half-width h = t·se and the tolerance δ = r T̄ / H, where
T̄ is the window's mean test loss and H = ``TREND_HORIZON`` = 1000 epochs:

    |b| + h ≤ δ      "supported": the loss changes by less than r (relative) over H epochs, both one-sided
                     tests (TOST) at level α — equilibrium;
    |b| − h > δ      "not supported": a trend beyond the tolerance;
    otherwise        "inconclusive" (a short or noisy window: it never passes by default).

The loss's half holds when the test loss's answer is "supported" and the gap G = T − train loss is not growing
beyond the same tolerance (b_G + h_G ≤ δ); the criterion holds when the loss's half and the weights' half (below)
hold. A window shorter than ``MIN_TREND_WINDOW`` = 20 epochs is refused.
Calibration (:mod:`statmech_nn.compare.planted.equilibrium_truths`, verdict ``EQ`` of ``statmech-nn calibrate``):
planted loss series with a known future, judged at each of 50 epochs as the warm-up does (it ends once the
criterion held at L consecutive epochs: "Confirmation" below), 1000 sets per scenario, w = 200, r = 0.1, AR(1) noise
of 1 % (ρ 0.5): a flat loss is called flat in 99.5 % [98.8, 99.8]; a loss that still falls 25 % (τ 1000, or 002
§5's shape with τ 300), 15 % or 10 % over the next 1000 epochs is called flat in 0 %, 0 %, 0.4 % [0.2, 1.0].
Noisier losses (2 %, ρ 0.8) and the demo's window of 100 epochs mostly give "inconclusive" (flat called flat in
0.6 % and 5.4 %): the run then says the warm-up ended by ``max_warmup_epochs``. On 002 §5's network (mnist5k,
the published spec's run) the criterion says "not supported" at every epoch from 200 to 400 (the loss fell from
0.196 at epoch 150 to 0.177 at 422), where the band above fired at epoch 46.

**Trend of the probed weights** (issue 23: "the slope of the loss, and of the probed weights";
:class:`WeightTrendCriterion`, the weights' half of ``"trend"``). The trend criterion probes the weights as the
weight criterion does (up to 32 weights, 32 readings per warm-up epoch) and keeps, per epoch and probed weight, the
mean m of its readings, their variance v and whether every reading moved it toward zero (:func:`epoch_summary`:
3 numbers per weight and epoch in the loop state instead of 32 readings). After each epoch with w such records,
each probed weight is

- *frozen* when it did not move in the window (excluded, as in the weight criterion);
- *decaying* (counted in ``weights_decaying``, not judged) when it kept its sign, every reading moved it toward zero
  and |m| fell every epoch at a constant rate (the residual sd of log|m| about its line at most ``DECAY_CURVATURE``
  = 1 % of the line's change over the window): a weight on inputs that are always zero, Δ = −ηλw, a smooth
  exponential. Its relative rate never falls, so in units of its own fluctuations (which are the decay itself) it
  drifts at the same rate forever: judged, it would forbid equilibrium on any run with weight decay. Its motion is
  known (w₀ e^{−ηλt}) and carries no information on the loss landscape; the count says how many there were. On the
  published run's weights at epochs 3000–3200 (read at the probe positions): 3 of 32 per replica, their log|m|
  straight to 5e-9, against at least 2e-4 for every other weight; a torch float32 SGD step rounds the rate to
  3e-4 of log|m| over a window of 0.8, inside the 1 %. A weight whose rare gradient kicks are smaller than its decay
  between two readings also counts as decaying.
- *judged* otherwise: b, the least-squares slope of m per epoch, with its AR(1)-corrected standard error se and
  degrees of freedom ν as for the loss (the same code), and an ABSOLUTE tolerance scaled by the weight's own
  fluctuations (a weight near 0 has no meaningful relative change): δ = c σ / H, σ² = mean v + mean squared
  residual of m about the line (σ: the sd of the probe readings about the line), c = ``WEIGHT_TREND_SD`` = 5 sd per
  H = 1000 epochs, i.e. 1 sd per 200 epochs — the drift the weight criterion and S accept over a window
  (``DRIFT_LIMIT`` = 1 sd), over the 200 tracked epochs of the published spec. With k judged weights:

      |b| + t(1−α, ν) se ≤ δ      "supported";
      |b| − t(1−α/k, ν) se > δ    "not supported" (Bonferroni over the k weights: a set of stationary weights is
                                  called drifting at a look with probability at most α);
      otherwise                   "inconclusive".

The weights' answer (``weight_trend``) is "supported" when every judged weight is "supported", "not supported" when
any is, otherwise (or with no judged weight) "inconclusive". "Supported" is an intersection-union test (Berger 1982):
the claim "no judged weight drifts beyond δ" needs every per-weight equivalence test to reject its drift, so it has
level α with no multiplicity correction, whatever the number of weights (a quorum rule, "90 % supported", would
let a few drifting weights end the warm-up by design). Its cost is power, which sets c: the resolution of a
200-epoch window on the published run's noise (readings 125 steps apart correlated 0.76, per-epoch means 0.3) is
se·H ≈ 1.1 σ, so the bound |b| + h reaches ≈ 1.8 σ + |b| H; at c = 3 every one of 28 planted stationary weights
passed in 0 of 100 sets, at c = 5 in 99.5 %. The metrics records (per replica) hold ``weight_trend``, the counts
``weights_supported`` / ``weights_not_supported`` / ``weights_inconclusive`` / ``weights_decaying`` (the rest of
the probed weights are frozen), ``weight_change_bound`` (the largest (|b| + h) H / σ of a judged weight: the
largest change over H, in sd, the window allows) and ``weight_equilibrium`` (the weights' half holds); after the
warm-up, where nothing is probed, they are None. The published run's weights at epochs 3000–3200: "not supported"
in both replicas (28 and 26 of 29 judged weights drift beyond 5 sd per 1000 epochs: |b| H / σ from 20 to 270;
``weight_change_bound`` 276 and 194), as the stationarity verdict S said of its tracked window.
Calibration (verdict ``EQW``, the weights' half alone; :mod:`statmech_nn.compare.planted.equilibrium_truths`):
32 probed weights read 32 times per epoch with the published run's noise structure, judged at each of 50 epochs
as the warm-up does (L = 20 consecutive looks), w = 200, 1000 sets per scenario (seed 1): stationary weights (4 of
them frozen) are called "supported" in 94.9 % [93.4, 96.1], with 4 decay-only weights mixed in 96.1 % [94.7, 97.1];
weights that drift linearly, or approach their level (τ 300 epochs), by twice the tolerance over the next 1000
epochs are called "supported" in 0 % [0, 0.4]; one weight of 28 drifting by 1.25 × the tolerance in 0.3 % [0.1,
0.9]; an OU part with the window's correlation time (200 epochs) in 0 % [0, 0.4] ("not supported" in 99.5 %).
Unpowered: stationary
weights with a slower part (τ 5 epochs, per-epoch means correlated 0.8) and the demo's window of 100 epochs give
"inconclusive" in 99.6 % and 99.8 % (a 100-epoch window bounds a weight's slope no better than ≈ 5 sd per 1000
epochs: the demo's warm-up ends by ``max_warmup_epochs``).

**Confirmation and looks.** A warm-up run until equilibrium asks the criterion after every epoch with a full window,
and ends at the first that passes; near the tolerance a false pass grows with the number of looks (the windows of
consecutive looks overlap, so slowly). The trend criterion therefore counts only when it held at each of the last
L = ``CONFIRM_SHARE`` · w = w/10 looks (:func:`confirm_looks`, :func:`held_at_last`; L = 20 for the published
window); a fixed warm-up has ``reached`` when it held at each of its last L epochs. Measured at 500 looks, 200 sets
each (seed 2 and 3): one weight of 28 drifting by 1.25 × the tolerance passes in 3.5 % [1.7, 7.0] with the
confirmation against 14.5 % [10.3, 20.0] without it (by 1.5 ×: 0 % [0, 1.9] against 2.0 %); a loss falling 10 % per
1000 epochs (linear) in 2.0 % [0.8, 5.0] against 7.5 % [4.6, 12.0]. The price is power at 50 looks (stationary
weights 94.9 % instead of 99.5 %, a flat loss 99.5 % instead of 100 %). The calibration holds for
``CALIBRATED_LOOKS`` = 50 looks; ``metrics.json``'s ``equilibrium`` entry records ``looks``, ``confirm_epochs`` and
``calibrated_looks``, and a warm-up that ends at equilibrium after more looks than calibrated says so (a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scipy.stats import t as student

from ..autocorrelation import DRIFT_LIMIT, drift_ratio
from ..errors import ParameterError
from ..params import require_int, require_positive

EQUILIBRIUM_CRITERIA = ("loss", "weights", "both", "trend")
TREND_ALPHA = 0.05
TREND_HORIZON = 1000
MIN_TREND_WINDOW = 20
PROBES_PER_EPOCH = 32
PROBE_WEIGHTS = 32
WEIGHT_QUORUM = 0.9
WEIGHT_TREND_SD = 5.0
DECAY_CURVATURE = 0.01
CONFIRM_SHARE = 0.1
CALIBRATED_LOOKS = 50


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


def _line_fit(y) -> tuple:
    """The least-squares line of ``y`` on 0, 1, … (rows; each column a series): slope per row, its standard error
    corrected for AR(1) residuals, the effective degrees of freedom, and the residual sum of squares (module
    docstring, "Trend")."""
    y = np.asarray(y, float)
    n = y.shape[0]
    t = np.arange(n) - (n - 1) / 2
    sxx = float(t @ t)
    centred = y - y.mean(axis=0)
    slope = t @ centred / sxx
    residual = centred - np.multiply.outer(t, slope)
    ss = np.sum(residual * residual, axis=0)
    lag = np.sum(residual[1:] * residual[:-1], axis=0)
    rho = np.divide(lag, ss, out=np.zeros_like(ss), where=ss > 0)
    rho = np.clip(rho + (2 + 4 * rho) / n, 0.0, 0.95)     # residual lag-1 estimate is biased low by ~(2+4ρ)/n
    inflation = (1 + rho) / (1 - rho)
    df = np.maximum(n / inflation - 2, 2.0)
    se = np.sqrt(ss / (n - 2) / sxx * inflation)
    return slope, se, df, ss


def slope_interval(y, alpha: float = TREND_ALPHA) -> tuple:
    """(b, h): the least-squares slope of ``y`` on 0, 1, … (per row) and the half-width of its one-sided
    1 − α bound, the standard error corrected for AR(1) noise (module docstring, "Trend"); floats for a series,
    arrays (one per column) for a 2-D ``y``."""
    slope, se, df, _ = _line_fit(y)
    half = student.ppf(1 - alpha, df) * se
    return (float(slope), float(half)) if np.ndim(slope) == 0 else (slope, half)


def trend_answer(y, rtol: float, horizon: float = TREND_HORIZON, alpha: float = TREND_ALPHA) -> dict:
    """The equivalence test of the module docstring ("Trend") on the series ``y``: ``answer`` ("supported":
    flat within ``rtol`` over ``horizon`` rows; "not supported"; "inconclusive"), ``slope``, ``half_width``,
    ``delta`` and ``change_bound`` = (|b| + h) H / ȳ, the largest relative change over H rows the data allow."""
    y = np.asarray(y, float)
    slope, half = slope_interval(y, alpha)
    level = abs(float(y.mean()))
    delta = rtol * level / horizon
    answer = ("supported" if abs(slope) + half <= delta else
              "not supported" if abs(slope) - half > delta else "inconclusive")
    bound = (abs(slope) + half) * horizon / level if level > 0 else float("inf")
    return {"answer": answer, "slope": slope, "half_width": half, "delta": delta, "change_bound": bound}


@dataclass(frozen=True)
class TrendCriterion:
    """The trend criterion of the module docstring: window w epochs, relative tolerance r over ``horizon``
    epochs, level ``alpha``."""

    window: int = 100
    rtol: float = 0.1
    horizon: int = TREND_HORIZON
    alpha: float = TREND_ALPHA

    def __post_init__(self):
        object.__setattr__(self, "window", require_int("eq_window", self.window, 1))
        if self.window < MIN_TREND_WINDOW:
            raise ParameterError("eq_window", self.window, f">= {MIN_TREND_WINDOW} epochs for the trend criterion "
                                 "(a slope over fewer epochs cannot be bounded against the noise)")
        object.__setattr__(self, "rtol", require_positive("eq_rtol", self.rtol))

    def judge(self, train_loss, test_loss) -> dict:
        """``loss_trend`` (the test loss's answer), ``loss_change_bound`` and ``holds`` (the loss's answer is
        "supported" and the gap is not growing), after the last of the given per-epoch losses; before w finite
        epochs are recorded: "inconclusive"."""
        train, test = np.asarray(train_loss, float), np.asarray(test_loss, float)
        w = self.window
        if test.size < w or not np.all(np.isfinite(test[-w:])) or not np.all(np.isfinite(train[-w:])):
            return {"loss_trend": "inconclusive", "loss_change_bound": None, "holds": False}
        loss = trend_answer(test[-w:], self.rtol, self.horizon, self.alpha)
        gap_slope, gap_half = slope_interval(test[-w:] - train[-w:], self.alpha)
        holds = loss["answer"] == "supported" and gap_slope + gap_half <= loss["delta"]
        return {"loss_trend": loss["answer"], "loss_change_bound": loss["change_bound"], "holds": bool(holds)}

    def holds(self, train_loss, test_loss) -> bool:
        return self.judge(train_loss, test_loss)["holds"]

    @property
    def confirm(self) -> int:
        """Consecutive looks at which the criterion must hold before it counts: ``CONFIRM_SHARE`` of the window."""
        return confirm_looks(self.window)

    def describe(self) -> str:
        return (f"the test loss's least-squares slope over the last {self.window} epochs (AR(1)-corrected "
                f"standard error) bounded, at level {self.alpha:g} on each side, so that the loss changes by less "
                f"than {self.rtol:g} (relative) over {self.horizon} epochs, and the test-train gap not growing faster")


def confirm_looks(window: int) -> int:
    """L = max(1, round(``CONFIRM_SHARE`` · w)): the trend criterion counts when it held at each of the last L looks
    (module docstring, "Confirmation")."""
    return max(1, round(CONFIRM_SHARE * window))


def held_at_last(holds, looks: int) -> bool:
    """Whether the sequence of per-look answers ``holds`` ends with ``looks`` consecutive True."""
    holds = list(holds)
    return len(holds) >= looks and all(holds[-looks:])


def epoch_summary(readings) -> np.ndarray:
    """One epoch's probe readings (…, P, k) → (…, 3, k): per probed weight the mean, the variance and whether every
    reading moved it toward zero (one sign, |w| falling at every probe: 1.0, else 0.0), the record the weight trend
    (:class:`WeightTrendCriterion`) keeps per epoch."""
    x = np.asarray(readings, float)
    one_sign = np.all(x > 0, axis=-2) | np.all(x < 0, axis=-2)
    toward_zero = one_sign & np.all(np.diff(np.abs(x), axis=-2) < 0, axis=-2)
    return np.stack([x.mean(axis=-2), x.var(axis=-2), toward_zero.astype(float)], axis=-2)


@dataclass(frozen=True)
class WeightTrendCriterion:
    """The weights' half of the trend criterion (module docstring, "Trend"): window w epochs of
    :func:`epoch_summary` records, tolerance ``sd_multiple`` sd of each weight's fluctuations over ``horizon``
    epochs, level ``alpha``."""

    window: int = 100
    sd_multiple: float = WEIGHT_TREND_SD
    horizon: int = TREND_HORIZON
    alpha: float = TREND_ALPHA

    def __post_init__(self):
        object.__setattr__(self, "window", require_int("eq_window", self.window, MIN_TREND_WINDOW))
        object.__setattr__(self, "sd_multiple", require_positive("sd_multiple", self.sd_multiple))

    def judge(self, epochs) -> dict:
        """``weight_trend`` (the aggregate answer), the counts of probed weights ``weights_supported``,
        ``weights_not_supported``, ``weights_inconclusive`` (the judged ones) and ``weights_decaying`` (moving
        toward zero only: not judged), ``weight_change_bound`` (the largest change over the horizon the window
        allows for a judged weight, in sd of its fluctuations) and ``holds``, after the last of the per-epoch records
        ``epochs`` (E, 3, k); before w records: "inconclusive" with no counts."""
        records = np.asarray(epochs, float)
        if records.ndim != 3 or records.shape[0] < self.window:
            return {"weight_trend": "inconclusive", "weights_supported": None, "weights_not_supported": None,
                    "weights_inconclusive": None, "weights_decaying": None, "weight_change_bound": None,
                    "holds": False}
        records = records[-self.window:]
        means, variances, toward_zero = records[:, 0], records[:, 1], records[:, 2] > 0
        moving = (np.ptp(means, axis=0) > 0) | np.any(variances > 0, axis=0)
        decaying = self.decaying(means, toward_zero) & moving
        judged = moving & ~decaying
        count = int(judged.sum())
        counts = {"weights_supported": 0, "weights_not_supported": 0, "weights_inconclusive": 0,
                  "weights_decaying": int(decaying.sum())}
        if count == 0:
            return {"weight_trend": "inconclusive", **counts, "weight_change_bound": None, "holds": False}
        slope, se, df, ss = _line_fit(means[:, judged])
        sd = np.sqrt(variances[:, judged].mean(axis=0) + ss / self.window)
        delta = self.sd_multiple * sd / self.horizon
        upper = np.abs(slope) + student.ppf(1 - self.alpha, df) * se
        lower = np.abs(slope) - student.ppf(1 - self.alpha / count, df) * se
        supported, not_supported = upper <= delta, lower > delta
        counts.update(weights_supported=int(supported.sum()), weights_not_supported=int(not_supported.sum()),
                      weights_inconclusive=int(count - supported.sum() - not_supported.sum()))
        answer = ("not supported" if not_supported.any() else "supported" if supported.all() else "inconclusive")
        bound = np.divide(upper * self.horizon, sd, out=np.full_like(sd, np.inf), where=sd > 0)
        return {"weight_trend": answer, **counts, "weight_change_bound": float(bound.max()),
                "holds": answer == "supported"}

    @staticmethod
    def decaying(means: np.ndarray, toward_zero: np.ndarray) -> np.ndarray:
        """Which columns of the per-epoch ``means`` (w, k) only decay toward zero: one sign, every probe reading
        moved toward zero (``toward_zero``, (w, k)), |mean| falling every epoch at a constant rate (the residual sd
        of log|mean| about its line at most ``DECAY_CURVATURE`` of the line's change over the window)."""
        candidate = ((np.all(means > 0, axis=0) | np.all(means < 0, axis=0)) & np.all(toward_zero, axis=0)
                     & np.all(np.diff(np.abs(means), axis=0) < 0, axis=0))
        if not candidate.any():
            return candidate
        logs = np.log(np.abs(means[:, candidate]))
        slope, _, _, ss = _line_fit(logs)
        candidate[candidate] = np.sqrt(ss / logs.shape[0]) <= DECAY_CURVATURE * np.abs(slope) * (logs.shape[0] - 1)
        return candidate

    def describe(self) -> str:
        return (f"every moving probed weight (weights that only decay toward zero reported, not judged) with the "
                f"least-squares slope of its per-epoch means over the last {self.window} epochs bounded, at level "
                f"{self.alpha:g}, so that it changes by less than {self.sd_multiple:g} sd of its fluctuations over "
                f"{self.horizon} epochs")
