"""Planted truths for S over replicas as chains (issue 23, item 3; :mod:`statmech_nn.observables.replica_stationarity`).

R = ``REPLICAS`` = 4 replicas of ``WEIGHTS`` = 8 Ornstein–Uhlenbeck weights each (the generator of
:mod:`statmech_nn.compare.planted.stationarity_truths`), columns R × 8 with ``chain`` = replica and the same names in
every replica, the metadata ``replica_init`` ("shared" or "independent") and ``replicas`` = R, as a replica run
writes them. Truths, with the window 100 τ unless stated:

- stationary replicas with shared initial weights: S "supported" (powered); the same at 25 τ (inconclusive
  allowed: the cross-replica R̂ must not raise false alarms at short windows); and R = 2 (the smallest ensemble);
- a drift of ``DRIFT`` = 2 sd over the window in every weight of one replica, or of every replica: "not supported"
  (powered);
- replicas at different levels: replica r's weights offset by ``LEVELS`` = 1 sd × (r/(R−1) − ½) (each replica
  stationary, the replicas 1 sd apart end to end): with shared initial weights the replicas should sample one law,
  "not supported" (powered; only the cross-replica R̂ sees it); with independent initial weights a name means a
  different weight in each replica, each replica is stationary: "supported" (powered).

The population verdicts over replicas: the walks of :mod:`statmech_nn.compare.planted.fluctuations_truths` as 2 replicas
of 6 weights (``replicas-eq6-3dec``: Q2, Q3 "supported", powered, Q6 "not supported"; ``replicas-gaussian``: Q2
"not supported", powered), at that family's sizes.

Sizes: ``full`` n = 1e5 steps per replica (the README's networks' length), ``reduced`` n = 1e4 (the test suite); the
rates depend on n/τ, not on n. 8 weights per replica (32 columns in all, twice the 16 of the single-run S scenarios)
keep a full-size set at about 10 s on the shared 2-core machine (the rank normalization of R̂ dominates); the
README's replica runs track 64 weights per replica, a Holm family 8× larger (its false alarms stay ≤ α; its power
at these effect sizes is 100 % here).
"""

from __future__ import annotations

import numpy as np

from ...io import Trajectory
from . import Scenario, register
from .fluctuations_truths import SIZES as WALK_SIZES
from .fluctuations_truths import eq6_walks, gaussian_walks
from .stationarity_truths import DRIFT, ornstein_uhlenbeck

REPLICAS = 4
LEVELS = 1.0           # the planted spread of the replicas' levels (first to last), in sd of the fluctuation
WEIGHTS = 8
SIZES = {"full": {"n": 100_000, "k": WEIGHTS}, "reduced": {"n": 10_000, "k": WEIGHTS}}


def replica_trajectory(rng: np.random.Generator, n: int, k: int, tau: float, replicas: int = REPLICAS,
                       init: str = "shared", drift_in: int = 0, levels: float = 0.0) -> Trajectory:
    """``replicas`` × k independent OU weights of integrated time τ (unit variance), as one replica run's
    trajectory: the first ``drift_in`` replicas with a linear drift of ``DRIFT`` sd over the window, replica r's
    weights offset by ``levels`` × (r/(R−1) − ½) sd."""
    q = ornstein_uhlenbeck(rng, n, replicas * k, tau).q
    chain = np.repeat(np.arange(replicas), k)
    q += DRIFT * np.linspace(-0.5, 0.5, n)[:, None] * (chain < drift_in)
    q += levels * (chain / max(replicas - 1, 1) - 0.5)
    names = [f"w{j}" for j in range(k)] * replicas
    return Trajectory(q=q, t=np.arange(n), names=names, chain=chain, source="planted:ou-replicas",
                      metadata={"replica_init": init, "replicas": replicas, "tau": tau, "drift_in": drift_in,
                                "levels": levels})


def as_replicas(trajectory: Trajectory, replicas: int, init: str = "independent") -> Trajectory:
    """The k columns of ``trajectory`` as ``replicas`` replicas of k/R weights each (``chain`` = replica, the same
    names in every replica, the replica metadata), as a replica run writes them."""
    k = trajectory.q.shape[1] // replicas
    chain = np.repeat(np.arange(replicas), k)
    return Trajectory(q=trajectory.q[:, :replicas * k], t=trajectory.t, names=[f"w{j}" for j in range(k)] * replicas,
                      chain=chain, source=trajectory.source,
                      metadata={**trajectory.metadata, "replica_init": init, "replicas": replicas})


def _replicas(ratio: float, **planted):
    return lambda rng, n, k: replica_trajectory(rng, n, k, n / ratio, **planted)


def _register(name: str, truth: str, description: str, ratio: float = 100, powered: bool = True, **planted) -> None:
    register(Scenario(name=name, truth={"S": truth}, description=description, generate=_replicas(ratio, **planted),
                      sizes=SIZES, powered=("S",) if powered else (), analysis="stationarity"))


_register("replicas-shared-stationary-n100tau", "supported",
          f"{REPLICAS} replicas x {WEIGHTS} stationary OU weights, shared initial weights, window 100 tau")
_register("replicas-shared-stationary-n25tau", "supported",
          f"{REPLICAS} replicas x {WEIGHTS} stationary OU weights, shared initial weights, window 25 tau",
          ratio=25, powered=False)
_register("replicas2-shared-stationary-n100tau", "supported",
          f"2 replicas x {WEIGHTS} stationary OU weights, shared initial weights, window 100 tau", replicas=2)
_register("replicas-shared-drift-one", "not supported",
          f"{REPLICAS} replicas x {WEIGHTS} OU weights, shared initial weights, window 100 tau, a drift of "
          f"{DRIFT:g} sd in every weight of one replica", drift_in=1)
_register("replicas-shared-drift-all", "not supported",
          f"{REPLICAS} replicas x {WEIGHTS} OU weights, shared initial weights, window 100 tau, a drift of "
          f"{DRIFT:g} sd in every weight of every replica", drift_in=REPLICAS)
_register("replicas-shared-levels", "not supported",
          f"{REPLICAS} replicas x {WEIGHTS} stationary OU weights, shared initial weights, window 100 tau, the "
          f"replicas' levels {LEVELS:g} sd apart end to end", levels=LEVELS)
_register("replicas-independent-levels", "supported",
          f"{REPLICAS} replicas x {WEIGHTS} stationary OU weights, independent initial weights, window 100 tau, "
          f"levels {LEVELS:g} sd apart end to end", init="independent", levels=LEVELS)
_register("replicas-independent-drift-one", "not supported",
          f"{REPLICAS} replicas x {WEIGHTS} OU weights, independent initial weights, window 100 tau, a drift of "
          f"{DRIFT:g} sd in every weight of one replica", init="independent", drift_in=1)

# the population verdicts over replicas (Q2, Q3, Q6 with their replica counts and REPLICA_RULE of
# statmech_nn.compare.verdicts): the fluctuation family's walks, 12 columns as 2 replicas x 6 weights
register(Scenario(
    name="replicas-eq6-3dec", sizes=WALK_SIZES, generate=lambda rng, n, k: as_replicas(eq6_walks(rng, n, k, 3), 2),
    description="2 replicas x 6 weights, increments from 002 eq. (6), c = 1e-3, s = 1, 3 decades of u between core "
                "and cut-off",
    truth={"Q2": "supported", "Q3": "supported", "Q6": "not supported"}, powered=("Q2", "Q3")))
register(Scenario(
    name="replicas-gaussian", sizes=WALK_SIZES, generate=lambda rng, n, k: as_replicas(gaussian_walks(rng, n, k), 2),
    description="2 replicas x 6 weights, Gaussian increments: eq. (6) at s = 0, no power law",
    truth={"Q2": "not supported"}, powered=("Q2",)))
