"""Greedy fallbacks, for instances too large for the exact solver and for a HiGHS run that
stops without a plan: lazy greedy (CELF) maximal covering with a data-dependent bound, and a
greedy p-median with one pass of vertex substitution."""

from __future__ import annotations

import heapq
import time

import numpy as np

from ._solution import Solution, _as_csr, _row


def greedy_mclp(a, w, k: int, covered=None, *, eligible=None) -> Solution:
    """Lazy greedy (CELF) maximal covering: ``1 - 1/e`` of optimal at worst.

    ``bound`` is the data-dependent upper bound of Leskovec et al. (2007): the greedy value plus
    the ``k`` largest marginal gains left at the end. ``gap`` = (bound - value) / bound.
    """
    t0 = time.perf_counter()
    a = _as_csr(a)
    w = np.asarray(w, float)
    cov = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool).copy()
    base = float(w[cov].sum())
    ok = np.ones(a.shape[0], bool) if eligible is None else np.asarray(eligible, bool)
    heap = [
        (-float(w[_row(a, j)].sum() - w[_row(a, j)][cov[_row(a, j)]].sum()), j, 0)
        for j in np.flatnonzero(ok)
    ]
    heapq.heapify(heap)
    chosen, gains = [], []
    while heap and len(chosen) < k:
        neg, j, stamp = heapq.heappop(heap)
        if stamp == len(chosen):
            chosen.append(j)
            gains.append(-neg)
            cov[_row(a, j)] = True
            continue
        idx = _row(a, j)
        heapq.heappush(heap, (-float(w[idx][~cov[idx]].sum()), j, len(chosen)))
    value = base + float(np.sum(gains))
    rest = sorted((float(w[_row(a, j)][~cov[_row(a, j)]].sum()) for _, j, _ in heap), reverse=True)[
        :k
    ]
    bound = value + float(np.sum(rest))
    gap = (bound - value) / bound if bound > 0 else 0.0
    return Solution(
        np.array(chosen, np.int64),
        np.array(gains),
        value,
        "heuristic",
        gap,
        bound,
        "greedy",
        time.perf_counter() - t0,
    )


def weighted_cost(cost, w, e, ok, chosen) -> float:
    """Total weighted walk (weight x metres) when ``chosen`` candidates join the existing
    sites (``e``: each demand's walk to its nearest existing site)."""
    best = e.copy()
    if len(chosen):
        best = np.minimum(best, cost[np.asarray(chosen)].min(axis=0))
    return float((w * best)[ok].sum())


def _rank_pmedian(cost, w, e, ok, chosen):
    cur = e.copy()
    left = list(chosen)
    order, gains = [], []
    while left:
        vals = [
            float((w * np.minimum(cur, cost[j]))[ok & np.isfinite(np.minimum(cur, cost[j]))].sum())
            for j in left
        ]
        unreached = [int((~np.isfinite(np.minimum(cur, cost[j])) & ok).sum()) for j in left]
        b = int(np.lexsort((vals, unreached))[0])
        j = left.pop(b)
        before = float((w * cur)[ok & np.isfinite(cur)].sum())
        cur = np.minimum(cur, cost[j])
        after = float((w * cur)[ok & np.isfinite(cur)].sum())
        order.append(j)
        gains.append(before - after)
    return np.array(order, np.int64), np.array(gains)


def greedy_pmedian(cost, w, k, e, ok, t0, note) -> Solution:
    """Greedy adds, then one pass of vertex substitution (Teitz-Bart)."""
    chosen: list[int] = []
    for _ in range(k):
        vals = [
            weighted_cost(cost, w, e, ok, [*chosen, j]) if j not in chosen else np.inf
            for j in range(cost.shape[0])
        ]
        chosen.append(int(np.argmin(vals)))
    best = weighted_cost(cost, w, e, ok, chosen)
    improved = True
    while improved:
        improved = False
        for pos in range(len(chosen)):
            for j in range(cost.shape[0]):
                if j in chosen:
                    continue
                trial = chosen.copy()
                trial[pos] = j
                v = weighted_cost(cost, w, e, ok, trial)
                if v < best - 1e-9:
                    chosen, best, improved = trial, v, True
    order, gains = _rank_pmedian(cost, w, e, ok, np.array(chosen))
    return Solution(
        order,
        gains,
        best,
        "heuristic",
        float("nan"),
        float("nan"),
        "greedy",
        time.perf_counter() - t0,
        [note],
    )
