"""The array core of site selection, independent of GeoDataFrames (like spopt's
``from_cost_matrix``): coverage or cost matrices in, chosen candidates out.

Every model keeps the existing sites open: demands they already cover are passed as
``covered`` (MCLP, LSCP) or their distance to the nearest existing site as ``existing_cost``
(p-median). Models are solved exactly as mixed-integer programs with HiGHS
(``scipy.optimize.milp``) under a time limit; the status and optimality gap are reported. Lazy
greedy heuristics (CELF) with a data-dependent upper bound serve instances too large for the
exact solver and any case where it stops early.
"""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .._errors import SolverError

logger = logging.getLogger(__name__)

_STATUS = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}


@dataclass
class Solution:
    """Chosen candidates and how they were found.

    Attributes
    ----------
    selected
        Candidate indices, ranked: rank 1 adds the most on top of the existing sites, rank 2
        the most on top of those, and so on.
    gains
        What each ranked candidate adds (population newly covered, or weighted distance saved).
    objective
        Covered weight (MCLP, LSCP with a target), site count (LSCP) or total weighted cost
        (p-median), including what the existing sites already achieve.
    status
        ``optimal``, ``time_limit`` (best found, see ``gap``), ``heuristic``, ``infeasible``.
    gap
        Relative optimality gap (0 when proven optimal; from HiGHS or the greedy bound).
    bound
        Best bound on the objective.
    method
        ``milp``, ``exact`` (1-median by column sums) or ``greedy``.
    info
        Solver facts for the summary: the instance reduction before HiGHS, searches made.
    """

    selected: np.ndarray
    gains: np.ndarray
    objective: float
    status: str
    gap: float
    bound: float
    method: str
    solve_seconds: float
    messages: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @classmethod
    def nothing(cls, t0: float, objective: float = 0.0, *messages: str) -> Solution:
        """No new site needed (or possible): proven optimal at ``objective``."""
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0),
            objective,
            "optimal",
            0.0,
            objective,
            "milp",
            time.perf_counter() - t0,
            list(messages),
        )


def _as_csr(a) -> sp.csr_matrix:
    m = sp.csr_matrix(a, dtype=float)
    m.data[:] = 1.0
    m.eliminate_zeros()
    return m


def _row(a: sp.csr_matrix, j) -> np.ndarray:
    """Demands candidate ``j`` covers (CSR row indices without scipy's slicing overhead)."""
    return a.indices[a.indptr[j] : a.indptr[j + 1]]


def _rank_by_gain(a: sp.csr_matrix, w: np.ndarray, covered: np.ndarray, chosen: np.ndarray):
    """Order chosen candidates greedily by what each adds; return (order, gains)."""
    cov = covered.copy()
    left = list(chosen)
    order, gains = [], []
    while left:
        g = [float(w[_row(a, j)][~cov[_row(a, j)]].sum()) for j in left]
        b = int(np.argmax(g))
        j = left.pop(b)
        order.append(j)
        gains.append(g[b])
        cov[_row(a, j)] = True
    return np.array(order, np.int64), np.array(gains)


#: Branch-and-bound nodes HiGHS may explore: a deterministic work limit (the same answer on
#: any machine, under any load), unlike the wall-clock ``time_limit`` kept as a safety net.
NODE_LIMIT = 20_000


def _milp(c, integrality, bounds, constraints, time_limit, gap, node_limit=NODE_LIMIT):
    t0 = time.perf_counter()
    res = milp(
        c,
        integrality=integrality,
        bounds=bounds,
        constraints=constraints,
        options={
            "time_limit": float(time_limit),
            "mip_rel_gap": float(gap),
            "node_limit": int(node_limit),
            "disp": False,
        },
    )
    status = _STATUS.get(res.status, "error")
    msg = str(getattr(res, "message", "")).lower()
    if res.status in (1, 4) and "limit" in msg:
        # scipy reports HiGHS's node limit as "solution limit" (status 4) or an iteration
        # limit: tell it apart from the time limit (the node limit is deterministic)
        hit_time = "time" in msg or time.perf_counter() - t0 >= 0.98 * float(time_limit)
        status = "time_limit" if hit_time else "node_limit"
    mip_gap = getattr(res, "mip_gap", None)
    dual = getattr(res, "mip_dual_bound", None)
    return res, status, (0.0 if status == "optimal" else mip_gap), dual


@dataclass
class Reduced:
    """A covering instance after exact reduction (see :func:`reduce_covering`).

    ``cand`` are the original indices of the kept candidates; ``a`` is kept candidates x merged
    demand groups; ``w`` the groups' summed weights; ``info`` the counts for the summary.
    """

    cand: np.ndarray
    a: sp.csr_matrix
    w: np.ndarray
    info: dict


def _merge_identical_rows(m: sp.csr_matrix) -> tuple[np.ndarray, int]:
    """Group label of every row of ``m`` (rows with the same non-zero columns share one)."""
    m = m.tocsr()
    m.sort_indices()
    keys: dict[bytes, int] = {}
    label = np.empty(m.shape[0], np.int64)
    ind, ptr = m.indices.astype(np.int64), m.indptr
    for i in range(m.shape[0]):
        label[i] = keys.setdefault(ind[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    return label, len(keys)


def reduce_covering(
    a: sp.csr_matrix, w: np.ndarray, k: int | None, masks: list[np.ndarray] | None = None
) -> Reduced:
    """Exact reductions of a covering instance (candidates x uncovered demands) before HiGHS.

    1. Candidates that cover nothing are dropped.
    2. *Dominated* candidates are dropped: ``j`` covers a subset of what ``j'`` covers (ties:
       the higher index goes) and ``j'`` is eligible wherever ``j`` is (``masks``). Any
       solution using ``j`` is matched or beaten by one using ``j'``. Skipped when fewer than
       ``k`` candidates would remain.
    3. Demands covered by exactly the same kept candidates are merged (weights add): they are
       covered together or not at all.

    The optimum (covered weight, or the fewest sites for set covering) is unchanged.
    """
    a = _as_csr(a)
    n_c, n_d = a.shape
    size = np.diff(a.indptr)
    keep = size > 0
    if k is not None and keep.sum() < k:
        keep = np.ones(n_c, bool)
    n_empty = int(n_c - keep.sum())
    ov = (a @ a.T).tocoo()
    r, c = ov.row, ov.col
    dom = (r != c) & (ov.data >= size[r]) & ((size[c] > size[r]) | ((size[c] == size[r]) & (c < r)))
    for m in masks or []:
        m = np.asarray(m, bool)
        dom &= m[c] | ~m[r]
    dominated = np.zeros(n_c, bool)
    dominated[r[dom]] = True
    n_dom = 0
    if k is None or (keep & ~dominated).sum() >= k:
        n_dom = int((keep & dominated).sum())
        keep &= ~dominated
    cand = np.flatnonzero(keep)
    sub = a[cand]
    label, n_groups = _merge_identical_rows(sub.T.tocsr())
    wg = np.bincount(label, weights=w, minlength=n_groups)
    first = np.unique(label, return_index=True)[1]
    ag = sub[:, first]
    info = {
        "candidates": int(n_c),
        "candidates_kept": int(cand.size),
        "candidates_empty": n_empty,
        "candidates_dominated": n_dom,
        "demands": int(n_d),
        "demand_groups": int(n_groups),
    }
    return Reduced(cand, ag.tocsr(), wg, info)


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


def mclp(
    a,
    w,
    k: int,
    covered=None,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-6,
    min_counts: list[tuple[np.ndarray, int]] | None = None,
    max_vars: int = 2_000_000,
    node_limit: int = NODE_LIMIT,
    reduce: bool = True,
    lp_first: bool = True,
) -> Solution:
    """Maximal covering: ``k`` new sites that maximise the newly covered weight.

    Parameters
    ----------
    a
        Candidates x demands coverage matrix (non-zero = within reach).
    w
        Demand weights (population), non-negative.
    k
        Number of new sites.
    covered
        Demands already covered by the existing (fixed) sites.
    time_limit
        Seconds for HiGHS, a safety net only: results that stop there depend on the machine
        and are flagged (``time_limit`` status and a message).
    node_limit
        Branch-and-bound nodes for HiGHS: the deterministic work limit.
    reduce
        Reduce the instance first (:func:`reduce_covering`; the optimum is unchanged).
    lp_first
        Solve the LP relaxation first; when its optimum is integral, no branching is needed.
    min_counts
        ``[(eligible_mask, n)]``: at least ``n`` of the new sites among ``eligible_mask``.
    max_vars
        Above this many variables the lazy-greedy heuristic is used instead.
    """
    t0 = time.perf_counter()
    a = _as_csr(a)
    w = np.asarray(w, float)
    n_c, n_d = a.shape
    cov = np.zeros(n_d, bool) if covered is None else np.asarray(covered, bool)
    base = float(w[cov].sum())
    if k <= 0:
        return Solution.nothing(t0, base)
    if k > n_c:
        raise SolverError(
            f"k={k} new sites asked for, but there are only {n_c} candidates; "
            "lower --new-sites or add candidates (--candidates, or let "
            "servicecircle generate them)"
        )
    d = np.flatnonzero(~cov & (np.asarray(a.sum(axis=0)).ravel() > 0) & (w > 0))
    if d.size == 0:
        logger.warning("no uncovered demand can be covered by any candidate")
        return Solution(
            np.arange(k),
            np.zeros(k),
            base,
            "optimal",
            0.0,
            base,
            "milp",
            time.perf_counter() - t0,
            ["no candidate covers any uncovered demand"],
        )
    if n_c + d.size > max_vars:
        sol = greedy_mclp(a, w, k, cov)
        sol.messages.append(
            f"{n_c + d.size:,} variables exceed max_vars={max_vars:,}: solved with lazy greedy"
        )
        return sol
    masks = [np.asarray(m, bool) for m, _ in (min_counts or [])]
    if reduce:
        red = reduce_covering(a[:, d], w[d], k, masks)
    else:
        red = Reduced(np.arange(n_c), a[:, d].tocsr(), w[d], {"reduced": False})
    info = {"reduction": red.info}
    if not min_counts and red.cand.size <= k:
        # forced: every kept candidate is chosen; the rest (covering nothing new) fill up k
        rest = np.setdiff1d(np.arange(n_c), red.cand)[: k - red.cand.size]
        order, gains = _rank_by_gain(a, w, cov, np.concatenate([red.cand, rest]))
        info["reduction"]["forced"] = int(red.cand.size)
        value = base + float(gains.sum())
        return Solution(
            order, gains, value, "optimal", 0.0, value, "milp",
            time.perf_counter() - t0, [], info,
        )  # fmt: skip
    ad, wd, nk, ng = red.a, red.w, red.cand.size, red.a.shape[1]
    # variables: x (kept candidates, binary), y (demand groups, continuous in [0, 1])
    c = np.concatenate([np.zeros(nk), -wd])
    link = sp.hstack([-ad.T, sp.identity(ng)], format="csr")  # y_g - sum_j a_gj x_j <= 0
    card = sp.csr_matrix(np.concatenate([np.ones(nk), np.zeros(ng)]))
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(card, k, k)]
    for mask, n in min_counts or []:
        row = np.concatenate([np.asarray(mask, float)[red.cand], np.zeros(ng)])
        cons.append(LinearConstraint(sp.csr_matrix(row), n, np.inf))
    integ = np.concatenate([np.ones(nk), np.zeros(ng)])
    x_lp = _integral_lp(c, cons, nk, time_limit) if lp_first else None
    info["lp_relaxation_integral"] = x_lp is not None
    if x_lp is not None:
        # the LP relaxation's optimum is integral, so it is the MILP optimum: no branching
        order, gains = _rank_by_gain(a, w, cov, red.cand[x_lp])
        value = base + float(gains.sum())
        return Solution(
            order, gains, value, "optimal", 0.0, value, "milp",
            time.perf_counter() - t0, [], info,
        )  # fmt: skip
    res, status, gap, dual = _milp(c, integ, Bounds(0, 1), cons, time_limit, mip_gap, node_limit)
    if res.x is None:
        if status == "infeasible":
            raise SolverError(
                "the count targets cannot be met with these candidates and k; "
                "raise --new-sites or add eligible candidates"
            )
        sol = greedy_mclp(a, w, k, cov)
        sol.messages.append(f"HiGHS stopped ({status}) without a solution; used lazy greedy")
        sol.info.update(info)
        return sol
    chosen = red.cand[np.flatnonzero(res.x[:nk] > 0.5)]
    order, gains = _rank_by_gain(a, w, cov, chosen)
    value = base + float(gains.sum())
    bound = base - dual if dual is not None and np.isfinite(dual) else value
    messages = []
    if status != "optimal":
        messages.append(_stopped_message(status, node_limit, time_limit, gap))
    return Solution(
        order,
        gains,
        value,
        "optimal" if status == "optimal" else status,
        float(gap or 0.0),
        float(bound),
        "milp",
        time.perf_counter() - t0,
        messages,
        info,
    )


def _integral_lp(c, cons, n_x: int, time_limit: float) -> np.ndarray | None:
    """Solve the LP relaxation (HiGHS interior point + crossover, deterministic); return the
    chosen candidates when its optimal vertex is integral in ``x`` (then it is optimal for the
    integer program too), else None."""
    from scipy.optimize import linprog

    ub = [(con.A, con.lb, con.ub) for con in cons]
    rows_ub, b_ub, rows_eq, b_eq = [], [], [], []
    for A, lo, hi in ub:
        A = sp.csr_matrix(A)
        lo = np.broadcast_to(np.asarray(lo, float), (A.shape[0],))
        hi = np.broadcast_to(np.asarray(hi, float), (A.shape[0],))
        eq = lo == hi
        if eq.any():
            rows_eq.append(A[np.flatnonzero(eq)])
            b_eq.append(hi[eq])
        up = ~eq & np.isfinite(hi)
        if up.any():
            rows_ub.append(A[np.flatnonzero(up)])
            b_ub.append(hi[up])
        down = ~eq & np.isfinite(lo)
        if down.any():
            rows_ub.append(-A[np.flatnonzero(down)])
            b_ub.append(-lo[down])
    try:
        r = linprog(
            c,
            A_ub=sp.vstack(rows_ub, format="csr") if rows_ub else None,
            b_ub=np.concatenate(b_ub) if b_ub else None,
            A_eq=sp.vstack(rows_eq, format="csr") if rows_eq else None,
            b_eq=np.concatenate(b_eq) if b_eq else None,
            bounds=(0, 1),
            method="highs-ipm",
            options={"time_limit": float(time_limit)},
        )
    except ValueError:
        return None
    if r.status != 0 or r.x is None:
        return None
    x = r.x[:n_x]
    if np.any((x > 1e-7) & (x < 1 - 1e-7)):
        return None
    return np.flatnonzero(x > 0.5)


def _stopped_message(status: str, node_limit: int, time_limit: float, gap) -> str:
    g = f"{float(gap):.2%}" if gap is not None and np.isfinite(gap) else "unknown"
    if status == "node_limit":
        return (
            f"HiGHS stopped at its deterministic work limit ({node_limit:,} nodes) with a gap of "
            f"{g}: the best plan found is returned (the same on any machine)"
        )
    return (
        f"HiGHS stopped at the {time_limit:g} s time limit with a gap of {g}: this result may "
        "differ on a faster or less loaded machine; raise the time limit (--time-limit)"
    )


def lscp(
    a,
    w=None,
    covered=None,
    *,
    target_share: float | None = None,
    time_limit: float = 60.0,
    mip_gap: float = 1e-6,
    node_limit: int = NODE_LIMIT,
) -> Solution:
    """Set covering: the fewest new sites covering every coverable demand, or reaching
    ``target_share`` of the total weight (existing coverage included).

    Raises
    ------
    SolverError
        If ``target_share`` exceeds what all candidates together can reach (the message gives
        the reachable share).
    """
    t0 = time.perf_counter()
    a = _as_csr(a)
    n_c, n_d = a.shape
    w = np.ones(n_d) if w is None else np.asarray(w, float)
    cov = np.zeros(n_d, bool) if covered is None else np.asarray(covered, bool)
    coverable = np.asarray(a.sum(axis=0)).ravel() > 0
    base, total = float(w[cov].sum()), float(w.sum())
    if target_share is None:
        d = np.flatnonzero(~cov & coverable)
        if d.size == 0:
            return Solution.nothing(t0)
        cons = [LinearConstraint(a[:, d].T, 1.0, np.inf)]
        c, integ, bounds = np.ones(n_c), np.ones(n_c), Bounds(0, 1)
    else:
        reach = base + float(w[~cov & coverable].sum())
        if not 0 < target_share <= 1:
            raise SolverError(f"target share must be within (0, 1], got {target_share}")
        need = target_share * total - base
        if need <= 1e-9:
            return Solution.nothing(t0, 0.0, "the existing sites already reach the target share")
        if target_share * total > reach + 1e-6:
            raise SolverError(
                f"a target of {target_share:.1%} cannot be reached: existing sites plus every "
                f"candidate cover at most {reach / total:.1%} of the population (the rest is "
                "off the network or beyond every candidate); lower the target or add "
                "candidates"
            )
        d = np.flatnonzero(~cov & coverable & (w > 0))
        link = sp.hstack([-a[:, d].T, sp.identity(d.size)], format="csr")
        tgt = sp.csr_matrix(np.concatenate([np.zeros(n_c), w[d]]))
        cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(tgt, need - 1e-6, np.inf)]
        c = np.concatenate([np.ones(n_c), np.zeros(d.size)])
        integ = np.concatenate([np.ones(n_c), np.zeros(d.size)])
        bounds = Bounds(0, 1)
    x_lp = _integral_lp(c, cons, n_c, time_limit)
    messages: list[str] = []
    if x_lp is not None:  # an integral LP optimum is the integer optimum
        chosen, status, gap, dual = x_lp, "optimal", 0.0, float(len(x_lp))
    else:
        res, status, gap, dual = _milp(c, integ, bounds, cons, time_limit, mip_gap, node_limit)
        if res.x is None:
            raise SolverError(
                f"set covering stopped without a solution ({status}); raise the "
                "time limit (--time-limit)"
            )
        chosen = np.flatnonzero(res.x[:n_c] > 0.5)
        if status != "optimal":
            messages.append(_stopped_message(status, node_limit, time_limit, gap))
    order, gains = _rank_by_gain(a, w, cov, chosen)
    return Solution(
        order,
        gains,
        float(len(chosen)),
        status,
        float(gap or 0.0),
        float(dual if dual is not None else len(chosen)),
        "milp",
        time.perf_counter() - t0,
        messages,
        {"lp_relaxation_integral": x_lp is not None},
    )


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
        return greedy_pmedian(
            cost,
            w,
            k,
            e,
            ok,
            t0,
            f"{pairs_i.size:,} assignment pairs exceed max_pairs={max_pairs:,}: solved greedily",
        )
    fixed = np.where(np.isfinite(e) & ok, e, 0.0)
    delta = cost[pairs_j, pairs_i] - fixed[pairs_i]  # <= 0 when e finite
    n_z = pairs_i.size
    c = np.concatenate(
        [
            np.zeros(n_c),
            w[pairs_i] * np.where(np.isfinite(e[pairs_i]), delta, cost[pairs_j, pairs_i]),
        ]
    )
    # each demand: sum_j z_ij <= 1 (== 1 when it has no existing site)
    assign = sp.csr_matrix((np.ones(n_z), (pairs_i, n_c + np.arange(n_z))), shape=(n_d, n_c + n_z))
    must = ok & ~np.isfinite(e)
    lb = np.where(must, 1.0, 0.0)
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
    integ = np.r_[np.ones(n_c), np.zeros(n_z)]
    res, status, gap, dual = _milp(c, integ, Bounds(0, 1), cons, time_limit, mip_gap)
    if res.x is None:
        if status == "infeasible":
            raise SolverError(
                "p-median infeasible: some demand reaches no candidate and has no existing site"
            )
        return greedy_pmedian(cost, w, k, e, ok, t0, f"HiGHS stopped ({status}); used greedy")
    chosen = np.flatnonzero(res.x[:n_c] > 0.5)
    base = float((w * fixed)[ok].sum())
    order, gains = _rank_pmedian(cost, w, e, ok, chosen)
    obj = float(res.fun) + base
    bound = (float(dual) + base) if dual is not None and np.isfinite(dual) else obj
    return Solution(
        order, gains, obj, status, float(gap or 0.0), bound, "milp", time.perf_counter() - t0
    )


def single_site_solution(
    best: int, objective: float, w, e, ok, t0: float, messages: list[str] | None = None
) -> Solution:
    """The :class:`Solution` of a 1-median whose candidate ``best`` costs ``objective``."""
    fin = ok & np.isfinite(e)
    before = float((w[fin] * e[fin]).sum())
    return Solution(
        np.array([best], np.int64),
        np.array([before - objective]),
        float(objective),
        "optimal",
        0.0,
        float(objective),
        "exact",
        time.perf_counter() - t0,
        list(messages or []),
    )


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
        raise SolverError(
            "p-median infeasible: some demand reaches no candidate and has no existing site"
        )
    best = _lowest_tied(f)
    return single_site_solution(best, float(f[best]), w, e, ok, t0)


def _lowest_tied(f: np.ndarray, rel: float = 1e-9) -> int:
    """Index of the minimum, the lowest index among values tied within ``rel``."""
    m = float(np.min(f))
    return int(np.flatnonzero(f <= m + rel * abs(m) + 1e-9)[0])


def weighted_cost(cost, w, e, ok, chosen) -> float:
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
