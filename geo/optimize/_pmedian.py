"""p-median on a cost matrix: the exact 1-median by weighted column sums, and the
mixed-integer program (HiGHS) for ``k >= 2`` with its greedy fallback."""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from .._errors import SolverError
from ._greedy import _rank_pmedian, greedy_pmedian
from ._highs import _milp
from ._solution import Solution, _lowest_tied, single_site_solution

logger = logging.getLogger(__name__)

_INFEASIBLE = "p-median infeasible: some demand reaches no candidate and has no existing site"


def pmedian(
    cost,
    w,
    k: int,
    existing_cost=None,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-6,
    max_pairs: int = 3_000_000,
    exact_one: bool = True,
) -> Solution:
    """p-median: ``k`` new sites minimising total weighted walk distance.

    With ``k = 1`` (and ``exact_one``, the default) no MILP is needed: each candidate's
    weighted column sum is its objective (:func:`one_median_dense`); the answer is exact, the
    same as the MILP's, and ties go to the lowest candidate index.

    Parameters
    ----------
    cost
        Candidates x demands distance matrix (metres; ``inf`` = unreachable).
    w
        Demand weights.
    existing_cost
        Each demand's distance to its nearest existing site (``inf`` where none); demands keep
        it unless a new site is closer.
    """
    t0 = time.perf_counter()
    cost = np.asarray(cost, float)
    w = np.asarray(w, float)
    n_c, n_d = cost.shape
    if k > n_c:
        raise SolverError(f"k={k} new sites asked for, but there are only {n_c} candidates")
    e = np.full(n_d, np.inf) if existing_cost is None else np.asarray(existing_cost, float)
    ok = np.isfinite(e) | np.isfinite(cost).any(axis=0)
    if k == 1 and exact_one:
        return one_median_dense(cost, w, e, ok, t0)
    if not ok.all():
        logger.warning(
            "%d demands reach no site or candidate; left out of the p-median", int((~ok).sum())
        )
    pairs_j, pairs_i = np.nonzero((cost < e[None, :]) & ok[None, :])
    if pairs_i.size > max_pairs:
        note = f"{pairs_i.size:,} assignment pairs exceed max_pairs={max_pairs:,}: solved greedily"
        return greedy_pmedian(cost, w, k, e, ok, t0, note)
    c, cons, integ = _pmedian_model(cost, w, k, e, ok, pairs_j, pairs_i)
    res, status, gap, dual = _milp(c, integ, Bounds(0, 1), cons, time_limit, mip_gap)
    if res.x is None:
        if status == "infeasible":
            raise SolverError(_INFEASIBLE)
        return greedy_pmedian(cost, w, k, e, ok, t0, f"HiGHS stopped ({status}); used greedy")
    chosen = np.flatnonzero(res.x[:n_c] > 0.5)
    base = float((w * np.where(np.isfinite(e) & ok, e, 0.0))[ok].sum())
    order, gains = _rank_pmedian(cost, w, e, ok, chosen)
    obj = float(res.fun) + base
    bound = (float(dual) + base) if dual is not None and np.isfinite(dual) else obj
    return Solution(
        order, gains, obj, status, float(gap or 0.0), bound, "milp", time.perf_counter() - t0
    )


def _pmedian_model(cost, w, k, e, ok, pairs_j, pairs_i):
    """Objective, constraints and integrality of the p-median over the useful pairs only.

    Variables: ``x_j`` (candidates, binary) then ``z`` (one per pair ``(j, i)`` with the
    candidate closer than the existing site, continuous). The objective counts what each
    assignment changes against the existing site, so the constant ``sum w e`` is left out.
    """
    n_c, n_d = cost.shape
    fixed = np.where(np.isfinite(e) & ok, e, 0.0)
    delta = cost[pairs_j, pairs_i] - fixed[pairs_i]  # <= 0 when e finite
    n_z = pairs_i.size
    pair_cost = np.where(np.isfinite(e[pairs_i]), delta, cost[pairs_j, pairs_i])
    c = np.concatenate([np.zeros(n_c), w[pairs_i] * pair_cost])
    # each demand: sum_j z_ij <= 1 (== 1 when it has no existing site)
    assign = sp.csr_matrix((np.ones(n_z), (pairs_i, n_c + np.arange(n_z))), shape=(n_d, n_c + n_z))
    lb = np.where(ok & ~np.isfinite(e), 1.0, 0.0)
    link = sp.csr_matrix(
        (
            np.r_[np.ones(n_z), -np.ones(n_z)],
            (np.r_[np.arange(n_z), np.arange(n_z)], np.r_[n_c + np.arange(n_z), pairs_j]),
        ),
        shape=(n_z, n_c + n_z),
    )
    card = sp.csr_matrix(np.r_[np.ones(n_c), np.zeros(n_z)])
    cons = [
        LinearConstraint(assign, lb, 1.0),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(card, k, k),
    ]
    return c, cons, np.r_[np.ones(n_c), np.zeros(n_z)]


def one_median_dense(cost, w, e, ok, t0: float) -> Solution:
    """Exact p-median with p = 1 from a cost matrix: the smallest weighted column sum.

    A demand with no existing site must be reached (as in the MILP), so a candidate that leaves
    such a demand unreachable is infeasible; ties go to the lowest candidate index.
    """
    n_c = cost.shape[0]
    fixed = np.where(np.isfinite(e), e, np.inf)
    f = np.empty(n_c)
    rows = max(1, 4_000_000 // max(1, cost.shape[1]))
    must = ok & ~np.isfinite(e)
    for s in range(0, n_c, rows):
        c = np.minimum(cost[s : s + rows][:, ok], fixed[ok][None, :])
        val = np.where(np.isfinite(c), c * w[ok][None, :], 0.0).sum(axis=1)
        val[(~np.isfinite(cost[s : s + rows][:, must])).any(axis=1)] = np.inf
        f[s : s + rows] = val
    if not np.isfinite(f).any():
        raise SolverError(_INFEASIBLE)
    best = _lowest_tied(f)
    return single_site_solution(best, float(f[best]), w, e, ok, t0)
