"""What a run's recorded dynamics (the run header's :class:`~statmech_nn.io.Dynamics`) change in the analysis of its
weights: which series the step analysis works on, which verdicts the theory covers, and the check ``D`` of the
increments' lag-1 autocorrelation (issue 19 item 4; notes/calibration.md, "Mixtures and peaks").

002 §5 treats an increment Δ_t = w_{t+1} - w_t as one draw of the step law (eq. (6)/(21)), independent of the
previous one (eq. (23)). That holds for plain SGD; for other update rules:

- **heavy-ball SGD momentum** μ with dampening d (torch: b_t = μ b_{t-1} + (1-d) g_t, Δ_t = -η b_t, where g
  includes the L2 term λw): Δ is the step filtered by 1/(1-μB) (B: the lag operator), so consecutive increments
  are correlated (lag-1 ρ ≈ μ) and a decay-only step becomes -ηλw/(1-μ) in steady state. The **innovation**
  e_t = Δ_t - μΔ_{t-1} = -η(1-d) g_t recovers the step exactly. The analysis then runs on the innovation walk
  w̃_t = w_t - μ w_{t-1} (whose increments are e_t; its spectrum is |1 - μe^{-if}|² times that of w, the filter
  undone), and a decay-only innovation is -κw with κ = η(1-d)λ;
- **Nesterov** (Δ_t = -η(g_t + μ b_t)): Δ = -η g (1 + μ(1-d) - μB)/(1 - μB), inverted by the recursion
  (1 + μ(1-d)) y_t - μ y_{t-1} = Δ_t - μΔ_{t-1}, which gives y = -η g (κ = ηλ); its start-up transient
  ((μ/(1+μ(1-d)))^t) is dropped;
- **Adam, AdamW and other optimizers**: the step is -η m̂/(√v̂ + ε), a per-coordinate adaptive rescaling of a
  β1-filtered gradient. 002's law is for gradient steps, and neither the scaling by √v̂ (a running estimate
  that changes the law's scales over time) nor the filter can be undone from one weight's trajectory: the
  verdicts about the step law and the spectrum (Q1-Q4, Q6) are not covered and answer "inconclusive" with that
  reason; Q5 (neuron outputs) and S (stationarity of the weights) do not depend on the update rule;
- **samplers** (Langevin, MALA, MH, exact, heat-bath): each row is a state of the chain; nothing changes, and ``D``
  does not apply (independent exact draws have increments with lag-1 ρ = -1/2 by construction).

Without recorded dynamics (or with them), ``D`` reports the median over weights of the lag-1 autocorrelation of
the analysed steps: plain SGD gives ≈ 0, momentum 0.9 ≈ 0.88. ``D`` is "supported" (steps uncorrelated, as 002
assumes) when |ρ| is below :data:`UNCORRELATED`, "not supported" when |ρ| is at or above :data:`CORRELATED` (a
wrongly recorded momentum leaves innovations anti-correlated), "inconclusive" between; when
it is "not supported" the step-law verdicts Q1-Q4 and Q6 answer "inconclusive" (the increments are not the steps
of eq. (6): pass the dynamics, e.g. ``analyze(..., dynamics={"kind": "sgd", "momentum": 0.9, ...})``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import lfilter

from ..io import SAMPLER_KINDS, Dynamics, Trajectory
from .verdicts import Verdict

STEP_VERDICTS = ("Q1", "Q2", "Q3", "Q4", "Q6")   # the verdicts about the step law and the spectrum of the steps
UNCORRELATED = 0.2   # |median lag-1 ρ| below this: the steps are uncorrelated as plain SGD's
CORRELATED = 0.5     # |median lag-1 ρ| at or above this: the increments are filtered (e.g. by momentum)
_TRANSIENT = 1e-12   # a Nesterov inversion drops rows until its start-up transient is below this


@dataclass(frozen=True)
class StepTreatment:
    """How the analysis turns a trajectory into steps (see the module docstring)."""

    dynamics: Dynamics
    numerator: tuple = (1.0,)       # the filter y = (numerator(B) / denominator(B)) w that recovers the steps
    denominator: tuple = (1.0,)
    drop: int = 0                   # leading rows of the filtered series that carry the filter's start-up
    kappa: float | None = None      # the recorded decay rate of a decay-only step: y = -kappa w
    description: str = "increments Δ_t = w_{t+1} - w_t"
    uncovered: dict = field(default_factory=dict)   # verdict id -> why the theory does not cover it

    @property
    def filtered(self) -> bool:
        return self.numerator != (1.0,) or self.denominator != (1.0,)

    @property
    def rounding_gain(self) -> float:
        """Bound on how much the filter amplifies the rounding of the stored weights."""
        return float(np.sum(np.abs(self.numerator)) / (abs(self.denominator[0]) - np.sum(np.abs(self.denominator[1:]))))

    def series(self, trajectory: Trajectory) -> Trajectory:
        """The series whose lag-1 increments are the analysed steps (the trajectory itself without a filter)."""
        if not self.filtered:
            return trajectory
        q = lfilter(self.numerator, self.denominator, np.asarray(trajectory.q, float), axis=0)[self.drop:]
        return replace(trajectory, q=q, t=trajectory.t[self.drop:])

    def steps(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(w, y): the weight before each analysed step and the step itself, both (T - 1 - drop, K); the steps
        come from filtering the increments (not differences of the filtered series), to keep their rounding."""
        q = np.asarray(q)
        delta = np.diff(q.astype(float), axis=0)
        if not self.filtered:
            return q[:-1].astype(float), delta
        y = lfilter(self.numerator, self.denominator, delta, axis=0)
        return q[:-1].astype(float)[self.drop:], y[self.drop:]


def treatment(dynamics: Dynamics) -> StepTreatment:
    """The step treatment of ``dynamics`` (see the module docstring)."""
    kind = dynamics.kind
    if kind in ("adam", "adamw", "other"):
        what = {"adam": "Adam", "adamw": "AdamW", "other": "an optimizer other than SGD and Adam"}[kind]
        reason = (f"{what}: per-coordinate adaptive steps -lr·m̂/(√v̂+ε) of a β1-filtered gradient are not "
                  "gradient steps of 002 eq. (6) and cannot be undone from the trajectory; the theory does not cover "
                  "them" if kind != "other" else f"{what}: an update rule the step analysis does not model")
        return StepTreatment(dynamics, uncovered={v: reason for v in STEP_VERDICTS},
                             description=f"increments of {what} (not covered)")
    if kind != "sgd":
        return StepTreatment(dynamics)
    mu, damp = dynamics.momentum, dynamics.dampening or 0.0
    decay = _decay_rate(dynamics)
    if mu is None or mu == 0.0:
        return StepTreatment(dynamics, kappa=decay)
    if dynamics.nesterov:
        lead = 1.0 + mu * (1.0 - damp)
        drop = 1 + int(np.ceil(np.log(_TRANSIENT) / np.log(mu / lead)))
        return StepTreatment(dynamics, (1.0, -mu), (lead, -mu), drop, decay,
                             f"Nesterov innovations: (1+μ(1-d)) y_t - μ y_(t-1) = Δ_t - μΔ_(t-1), μ = {mu:g}")
    return StepTreatment(dynamics, (1.0, -mu), (1.0,), 1, None if decay is None else decay * (1.0 - damp),
                         f"heavy-ball innovations Δ_t - μΔ_(t-1), μ = {mu:g}")


def _decay_rate(dynamics: Dynamics) -> float | None:
    """η·λ of an L2 weight decay added to the gradient (torch SGD), when the header records both (else None)."""
    if dynamics.decoupled or dynamics.lr is None or dynamics.weight_decay is None:
        return None
    return dynamics.lr * dynamics.weight_decay


def lag1_autocorrelation(steps: np.ndarray) -> np.ndarray:
    """Per column, the lag-1 autocorrelation of the steps (NaN for a column that does not move)."""
    x = np.asarray(steps, float)
    x = x - x.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(x[1:] * x[:-1], axis=0) / np.sum(x * x, axis=0)


def correlation_verdict(rho: np.ndarray, step: StepTreatment) -> Verdict:
    """``D``: the analysed steps are uncorrelated, as 002 eq. (23) assumes of plain SGD (see the module docstring)."""
    question = "steps uncorrelated, as plain SGD's (002 eq. (23); the premise of the step analysis)"
    test = (f"median over moved weights of the lag-1 autocorrelation of the analysed steps ({step.description}): "
            f"supported for |ρ| < {UNCORRELATED}, not supported for |ρ| ≥ {CORRELATED} (momentum 0.9 gives ≈ 0.88); "
            "when not supported, Q1-Q4 and Q6 are inconclusive")
    finite = rho[np.isfinite(rho)]
    numbers = {"weights": int(finite.size), "median_lag1": float(np.median(finite)) if finite.size else None,
               "dynamics": step.dynamics.kind, "steps": step.description}
    if step.dynamics.kind in SAMPLER_KINDS:
        return Verdict("D", question, "inconclusive", test, numbers,
                       f"not applicable: the rows are states of a sampler's chain ({step.dynamics.kind}), "
                       "not optimizer steps")
    if finite.size < 3:
        return Verdict("D", question, "inconclusive", test, numbers, f"only {finite.size} weights moved")
    median = float(np.median(finite))
    detail = f"median lag-1 ρ = {median:.2f} over {finite.size} weights ({step.description})"
    if abs(median) < UNCORRELATED:
        return Verdict("D", question, "supported", test, numbers, detail)
    if abs(median) >= CORRELATED:
        hint = ("" if step.dynamics.recorded else "; dynamics not recorded: pass them to analyze "
                "(e.g. dynamics={'kind': 'sgd', 'momentum': 0.9, ...})")
        return Verdict("D", question, "not supported", test, numbers, detail + hint)
    return Verdict("D", question, "inconclusive", test, numbers, detail)


def qualify(verdicts: list[Verdict], step: StepTreatment, correlation: Verdict | None) -> list[Verdict]:
    """The verdicts with those the theory does not cover (Adam) or that rest on correlated increments (``D`` not
    supported) turned "inconclusive" with the reason, then ``D``."""
    reasons = dict(step.uncovered)
    if correlation is not None and correlation.verdict == "not supported":
        for verdict in STEP_VERDICTS:
            reasons.setdefault(verdict, f"the increments are correlated ({correlation.detail}): they are not the "
                                        "independent steps of 002 eq. (6)")
    out = []
    for verdict in verdicts:
        reason = reasons.get(verdict.id)
        if reason is not None:
            verdict = replace(verdict, verdict="inconclusive", detail=f"not covered: {reason} (the data alone said "
                              f"'{verdict.verdict}': {verdict.detail})",
                              numbers={**verdict.numbers, "uncovered": reason, "uncovered_answer": verdict.verdict})
        out.append(verdict)
    return out + ([] if correlation is None else [correlation])
