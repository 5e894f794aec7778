"""Replicas as chains: the stationarity of tracked weights judged across R networks trained at once (issue 23,
item 3).

A run with R replicas writes a trajectory whose R·K columns carry ``chain`` = replica index and the same tracked
names in every replica. How its initial weights were drawn is read from the trajectory's metadata (or its run
header's model parameters) by :func:`replica_init`: ``replica_init = "shared"`` (the same initial weights, different
sample orders: a weight has the same meaning in every replica) or ``"independent"`` (the default, and what any other
value reads as: no claim that a name means the same weight in two replicas); ``replicas`` = R is checked against the
chains found.

:func:`replica_stationarity_rows` gives one row per column, as
:func:`statmech_nn.observables.stationarity.stationarity_rows` does, computed **per replica** (each replica's 4K
p-values one Holm family, so that a replica's row says what that network alone says), with its ``chain`` and
``replica_init``. With shared initial weights every weight present in all replicas also gets the **cross-replica
split R̂** (:func:`cross_replica_rows`): the rank-normalized split R̂ of Vehtari et al. (2021) over the R replicas'
series of that weight, each split in halves (2R chains of L = n/2 rows; :func:`statmech_nn.autocorrelation.split_rhat`).
R̂² − (L−1)/L is the variance of the 2R chain means over the within-chain variance, ≈ (τ/L) F(2R−1, ν) when every
replica samples the same stationary law (τ: the mean of the replicas' τ̂ of that weight, ν = R n/(2τ̂) the dof of
that pooled τ̂; the single-series R̂ check of :mod:`statmech_nn.observables.stationarity` with segments replaced by
replicas): ``cross_rhat_p`` is that F's p. It rejects replicas that sit at different levels (each stationary, but not
in one common law: shared initial weights should have led to the same equilibrium) and drifts that the halves show.
Vehtari's fixed R̂ < 1.01 needs hundreds of effective draws per chain; it is reported (``cross_rhat_vehtari``), not
used. With independent initial weights there is no cross-replica test: a name does not mean the same weight.

The ensemble verdict S (:func:`ensemble_verdict`; the rule, with the replica counts, in :data:`ENSEMBLE_RULE`):
``not supported`` when the **pooled family** — every judged column's four p-values in every replica, plus the
cross-replica R̂ p-values under shared initial weights — has a Holm-adjusted p below α (family-wise error ≤ α over
the whole ensemble); ``supported`` when the pooled family rejects nothing and every replica's own S is ``supported``
(each column of each replica resolved: a window ≥ 50 τ and a bounded drift); otherwise ``inconclusive``. Its numbers
say how many replicas support each answer on their own (each replica's S at α over its own family, what a single run
of that network would answer).

Measured on planted replicas (:mod:`statmech_nn.compare.planted.chains_truths`, ``statmech-nn calibrate --verdict S
--size full``, 20 sets each of n = 1e5 steps × 4 replicas × 8 OU weights): stationary replicas with shared initial
weights at 100 τ "supported" in 19 of 20 ("not supported" in 1: one weight of one replica with a drift z of 4.4; 1 of 20
also with 2 replicas, 1 of 40 at the reduced size: within the ≤ 5 % design, above the nominal α = 1 %); at 25 τ
inconclusive in 20 of 20; "not supported" in 20 of 20 with a drift of 2 sd in one replica or in all, and with the
replicas' levels 1 sd apart (shared initial weights); the same levels with independent initial weights "supported"
in 19 of 20. The cross-replica R̂ p below 0.05 in 3.5–6 % of 200 stationary weights at R = 2, 4, 8 and n/τ = 25–100.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import f as fisher

from ..autocorrelation import RHAT_THRESHOLD, split_rhat
from ..errors import DataError
from .stationarity import (UNJUDGED, DEFAULT_ALPHA, EVIDENCE, PRECISION, QUESTION, decide, stationarity_rows,
                           stationarity_verdict)

INITS = ("independent", "shared")
INIT_KEY = "replica_init"      # metadata key: how the replicas' initial weights were drawn (one of INITS)
REPLICAS_KEY = "replicas"      # metadata key: R
ENSEMBLE_RULE = ("ensemble rule: not supported when the pooled family (every replica's per-weight p-values{cross}) "
                 "has a Holm-adjusted p < alpha; supported when it has none and every replica alone is supported; "
                 "otherwise inconclusive")
_CROSS = ("cross_rhat", "cross_rhat_p", "cross_tau", "cross_dof", "cross_rhat_vehtari")


def replica_init(metadata: dict | None, parameters: dict | None = None) -> str:
    """How the replicas' initial weights were drawn: ``metadata["replica_init"]`` (else the run header's model
    parameters'), "shared" or "independent"; anything else (absent, misspelt, not a string) reads as "independent",
    which claims nothing across replicas."""
    for source in (metadata or {}, parameters or {}):
        value = source.get(INIT_KEY)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if isinstance(value, str) and value.strip().lower() in INITS:
            return value.strip().lower()
    return "independent"


def replica_columns(names, chain) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(replica ids, the names present in every replica in the first replica's order, index (R, K') of each such
    name's column in each replica). A name twice in one replica is a DataError (its replica cannot be matched)."""
    names = [str(name) for name in names]
    chain = np.asarray(chain, np.int64)
    replicas = np.unique(chain)
    where = []
    for r in replicas:
        members = np.flatnonzero(chain == r)
        lookup = {names[j]: int(j) for j in members}
        if len(lookup) != members.size:
            raise DataError(f"replica {r} tracks a name twice: its columns cannot be matched across replicas")
        where.append(lookup)
    common = [name for name in where[0] if all(name in lookup for lookup in where[1:])]
    return replicas, common, np.array([[lookup[name] for name in common] for lookup in where], np.int64)


def cross_replica_rows(q, names, chain, tau=None) -> list[dict]:
    """Per weight present in every replica (R ≥ 2): the cross-replica split R̂ and its p (module docstring).
    ``tau``: each column's τ̂ (e.g. the rows' ``tau_w``), else estimated here. Rows have ``name``, ``columns``
    (its column in each replica) and ``cross_rhat, cross_rhat_p, cross_tau, cross_dof`` (NaN where a replica's
    series is constant or not finite) and ``cross_rhat_vehtari`` (R̂ < 1.01)."""
    q = np.asarray(q, float)
    replicas, common, index = replica_columns(names, chain)
    if replicas.size < 2:
        return []
    if tau is None:
        tau = np.array([row["tau_w"] for row in stationarity_rows(q)], float)
    n, count = q.shape[0], replicas.size
    length = n // 2
    rows = []
    for k, name in enumerate(common):
        series = q[:, index[:, k]]
        tau_mean = float(np.mean(np.asarray(tau)[index[:, k]]))
        row = {"name": name, "columns": [int(j) for j in index[:, k]], **dict.fromkeys(_CROSS, np.nan)}
        if np.all(np.isfinite(series)) and np.all(np.ptp(series, axis=0) > 0) and np.isfinite(tau_mean):
            rhat = split_rhat(series)
            dof = count * n / (2.0 * tau_mean)
            between = max(rhat ** 2 - (length - 1) / length, 0.0) * length / tau_mean
            row.update(cross_rhat=rhat, cross_rhat_p=float(fisher.sf(between, 2 * count - 1, dof)),
                       cross_tau=tau_mean, cross_dof=dof, cross_rhat_vehtari=float(rhat < RHAT_THRESHOLD))
        rows.append(row)
    return rows


def replica_stationarity_rows(q, names, chain=None, init: str = "independent",
                              alpha: float = DEFAULT_ALPHA) -> list[dict]:
    """One row per column of ``q`` (time, R·K), in column order: the stationarity row of its replica's own family
    (:func:`~statmech_nn.observables.stationarity.stationarity_rows` on that replica's columns) with ``chain`` and
    ``replica_init`` added, and under ``init == "shared"`` the cross-replica numbers of its weight
    (:func:`cross_replica_rows`; NaN where the weight is not in every replica). One chain: the rows of
    ``stationarity_rows(q, names)`` with ``chain`` = 0."""
    q = np.asarray(q, float)
    if q.ndim != 2:
        raise DataError(f"a trajectory q must be shaped (time, K), got {q.shape}")
    chain = np.zeros(q.shape[1], np.int64) if chain is None else np.asarray(chain, np.int64)
    names = [str(name) for name in names]
    if chain.shape != (q.shape[1],) or len(names) != q.shape[1]:
        raise DataError(f"{len(names)} names and {chain.size} chains for {q.shape[1]} columns")
    if init not in INITS:
        raise DataError(f"replica_init must be one of {INITS}, got {init!r}")
    rows: list[dict] = [{} for _ in names]
    for r in np.unique(chain):
        members = np.flatnonzero(chain == r)
        for j, row in zip(members, stationarity_rows(q[:, members], [names[j] for j in members], alpha)):
            rows[j] = {**row, "chain": int(r), "replica_init": init}
    if init == "shared":
        tau = np.array([row["tau_w"] for row in rows], float)
        for cross in cross_replica_rows(q, names, chain, tau):
            for j in cross["columns"]:
                rows[j].update({key: cross[key] for key in _CROSS})
    return rows


def _answer_counts(answers: list[str]) -> dict:
    return {answer: answers.count(answer) for answer in ("supported", "not supported", "inconclusive")}


def ensemble_verdict(rows_by_replica: dict, cross_p=(), init: str = "independent",
                     alpha: float = DEFAULT_ALPHA) -> dict:
    """S over an ensemble of replicas (module docstring, :data:`ENSEMBLE_RULE`). ``rows_by_replica``: replica id →
    its judged-or-not stationarity rows (as :func:`stationarity_rows` gives, ``failed`` a list); ``cross_p``: the
    cross-replica R̂ p-values of the weights tested across replicas (shared initial weights). Returns the pooled
    numbers of :func:`stationarity_verdict`'s result, the per-replica answers and their counts, and the cross-replica
    counts."""
    answers = {int(r): stationarity_verdict(rows, alpha)["verdict"] for r, rows in rows_by_replica.items()}
    pooled_rows = [row for rows in rows_by_replica.values() for row in rows]
    result = stationarity_verdict(pooled_rows, alpha)      # the pooled numbers (its verdict is replaced below)
    judged = [row for row in pooled_rows if not set(row["failed"]) & set(UNJUDGED)]
    cross_p = np.asarray([p for p in cross_p if np.isfinite(p)], float)
    numbers = {key: np.array([row[key] for row in judged], float)
               for key in ("drift_p", "slow_p", "rhat_p", "halves_ks_p", "window_over_tau", "drift_upper")}
    failed, cross_q = decide(numbers, alpha, cross_p) if judged or cross_p.size else ([], cross_p)
    evidence = sum(bool(set(f) & set(EVIDENCE)) for f in failed) + int(np.sum(cross_q < alpha))
    resolved = bool(judged) and not any(set(f) & set(PRECISION) for f in failed)
    if evidence:
        verdict = "not supported"
    elif resolved and all(answer == "supported" for answer in answers.values()):
        verdict = "supported"
    else:
        verdict = "inconclusive"
    counts = _answer_counts(list(answers.values()))
    cross_text = " and the cross-replica R-hat p-values of every weight" if init == "shared" else ""
    result.update(verdict=verdict, replicas=len(answers), replica_init=init, replica_answers=answers,
                  replica_counts=counts, evidence=evidence, cross_tested=int(cross_p.size),
                  cross_disagree=int(np.sum(cross_q < alpha)), rule=ENSEMBLE_RULE.format(cross=cross_text),
                  question=QUESTION)
    return result
