"""The array core of site selection, independent of GeoDataFrames (like spopt's
``from_cost_matrix``): coverage or cost matrices in, chosen candidates out.

Every model keeps the existing sites open: demands they already cover are passed as
``covered`` (MCLP, LSCP) or their distance to the nearest existing site as ``existing_cost``
(p-median). Models are solved exactly as mixed-integer programs with HiGHS
(``scipy.optimize.milp``) under a deterministic work limit; the status and optimality gap are
reported. Lazy greedy heuristics (CELF) with a data-dependent upper bound serve instances too
large for the exact solver and any case where it stops early.

This module holds the covering models (:func:`mclp`, :func:`lscp`) and gathers the rest:

* :mod:`._solution`: :class:`Solution` and the shared ranking helpers;
* :mod:`._reduce`: exact reduction before HiGHS (:func:`reduce_covering`);
* :mod:`._highs`: running HiGHS (node limit, LP relaxation first, stop messages);
* :mod:`._greedy`: greedy fallbacks (:func:`greedy_mclp`, :func:`greedy_pmedian`);
* :mod:`._pmedian`: the p-median (:func:`pmedian`, :func:`one_median_dense`).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from .._errors import SolverError
from ._greedy import greedy_mclp, greedy_pmedian, weighted_cost
from ._highs import NODE_LIMIT, _integral_lp, _milp, _stopped_message
from ._pmedian import one_median_dense, pmedian
from ._reduce import Reduced, reduce_covering
from ._solution import Solution, _as_csr, _rank_by_gain, single_site_solution

logger = logging.getLogger(__name__)

__all__ = [
    "NODE_LIMIT",
    "Reduced",
    "Solution",
    "greedy_mclp",
    "greedy_pmedian",
    "lscp",
    "mclp",
    "one_median_dense",
    "pmedian",
    "reduce_covering",
    "single_site_solution",
    "weighted_cost",
]


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
    cov = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool)
    d = np.flatnonzero(~cov & (np.asarray(a.sum(axis=0)).ravel() > 0) & (w > 0))
    early = _mclp_trivial(a, w, k, cov, d, max_vars, t0)
    if early is not None:
        return early
    masks = [np.asarray(m, bool) for m, _ in (min_counts or [])]
    if reduce:
        red = reduce_covering(a[:, d], w[d], k, masks)
    else:
        red = Reduced(np.arange(a.shape[0]), a[:, d].tocsr(), w[d], {"reduced": False})
    info = {"reduction": red.info}
    if not min_counts and red.cand.size <= k:
        # forced: every kept candidate is chosen; the rest (covering nothing new) fill up k
        rest = np.setdiff1d(np.arange(a.shape[0]), red.cand)[: k - red.cand.size]
        info["reduction"]["forced"] = int(red.cand.size)
        return _ranked(a, w, cov, np.concatenate([red.cand, rest]), t0, info)
    c, integ, cons = _mclp_model(red, k, min_counts)
    x_lp = _integral_lp(c, cons, red.cand.size, time_limit) if lp_first else None
    info["lp_relaxation_integral"] = x_lp is not None
    if x_lp is not None:
        # the LP relaxation's optimum is integral, so it is the MILP optimum: no branching
        return _ranked(a, w, cov, red.cand[x_lp], t0, info)
    res, status, gap, dual = _milp(c, integ, Bounds(0, 1), cons, time_limit, mip_gap, node_limit)
    if res.x is None:
        return _mclp_unsolved(a, w, k, cov, status, info)
    chosen = red.cand[np.flatnonzero(res.x[: red.cand.size] > 0.5)]
    order, gains = _rank_by_gain(a, w, cov, chosen)
    base = float(w[cov].sum())
    value = base + float(gains.sum())
    bound = base - dual if dual is not None and np.isfinite(dual) else value
    messages = [] if status == "optimal" else [
        _stopped_message(status, node_limit, time_limit, gap)
    ]  # fmt: skip
    return Solution(
        order, gains, value, status, float(gap or 0.0), float(bound), "milp",
        time.perf_counter() - t0, messages, info,
    )  # fmt: skip


def _mclp_trivial(a, w, k, cov, d, max_vars, t0) -> Solution | None:
    """The answer when no solver is needed (``k <= 0``, nothing coverable, too large for the
    exact model); None otherwise. Raises when ``k`` exceeds the candidates."""
    n_c = a.shape[0]
    base = float(w[cov].sum())
    if k <= 0:
        return Solution.nothing(t0, base)
    if k > n_c:
        raise SolverError(
            f"k={k} new sites asked for, but there are only {n_c} candidates; "
            "lower --new-sites or add candidates (--candidates, or let "
            "servicecircle generate them)"
        )
    if d.size == 0:
        logger.warning("no uncovered demand can be covered by any candidate")
        msg = "no candidate covers any uncovered demand"
        return Solution.optimal(np.arange(k), np.zeros(k), base, t0, [msg])
    if n_c + d.size > max_vars:
        sol = greedy_mclp(a, w, k, cov)
        sol.messages.append(
            f"{n_c + d.size:,} variables exceed max_vars={max_vars:,}: solved with lazy greedy"
        )
        return sol
    return None


def _mclp_model(red: Reduced, k: int, min_counts):
    """Objective, integrality and constraints of the MCLP on a reduced instance.

    Variables: ``x`` (kept candidates, binary), ``y`` (demand groups, continuous in [0, 1]).
    """
    ad, wd, nk, ng = red.a, red.w, red.cand.size, red.a.shape[1]
    c = np.concatenate([np.zeros(nk), -wd])
    link = sp.hstack([-ad.T, sp.identity(ng)], format="csr")  # y_g - sum_j a_gj x_j <= 0
    card = sp.csr_matrix(np.concatenate([np.ones(nk), np.zeros(ng)]))
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(card, k, k)]
    for mask, n in min_counts or []:
        row = np.concatenate([np.asarray(mask, float)[red.cand], np.zeros(ng)])
        cons.append(LinearConstraint(sp.csr_matrix(row), n, np.inf))
    return c, np.concatenate([np.ones(nk), np.zeros(ng)]), cons


def _ranked(a, w, cov, chosen, t0: float, info: dict) -> Solution:
    """A proven optimum ``chosen``, ranked by what each site adds."""
    order, gains = _rank_by_gain(a, w, cov, chosen)
    value = float(w[cov].sum()) + float(gains.sum())
    return Solution.optimal(order, gains, value, t0, [], info)


def _mclp_unsolved(a, w, k, cov, status: str, info: dict) -> Solution:
    """HiGHS stopped without any plan: infeasible count targets raise, else lazy greedy."""
    if status == "infeasible":
        raise SolverError(
            "the count targets cannot be met with these candidates and k; "
            "raise --new-sites or add eligible candidates"
        )
    sol = greedy_mclp(a, w, k, cov)
    sol.messages.append(f"HiGHS stopped ({status}) without a solution; used lazy greedy")
    sol.info.update(info)
    return sol


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
    model = _lscp_model(a, w, cov, target_share)
    if isinstance(model, str):
        return Solution.nothing(t0, 0.0, *([model] if model else []))
    c, integ, cons = model
    x_lp = _integral_lp(c, cons, n_c, time_limit)
    messages: list[str] = []
    if x_lp is not None:  # an integral LP optimum is the integer optimum
        chosen, status, gap, dual = x_lp, "optimal", 0.0, float(len(x_lp))
    else:
        res, status, gap, dual = _milp(
            c, integ, Bounds(0, 1), cons, time_limit, mip_gap, node_limit
        )
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
        order, gains, float(len(chosen)), status, float(gap or 0.0),
        float(dual if dual is not None else len(chosen)), "milp", time.perf_counter() - t0,
        messages, {"lp_relaxation_integral": x_lp is not None},
    )  # fmt: skip


def _lscp_model(a, w, cov, target_share):
    """Objective, integrality and constraints of the set covering (``target_share`` None:
    cover every coverable demand; else reach that share). A string instead when nothing is
    needed: the message for the solution ('' for none)."""
    n_c = a.shape[0]
    coverable = np.asarray(a.sum(axis=0)).ravel() > 0
    if target_share is None:
        d = np.flatnonzero(~cov & coverable)
        if d.size == 0:
            return ""
        return np.ones(n_c), np.ones(n_c), [LinearConstraint(a[:, d].T, 1.0, np.inf)]
    base, total = float(w[cov].sum()), float(w.sum())
    reach = base + float(w[~cov & coverable].sum())
    if not 0 < target_share <= 1:
        raise SolverError(f"target share must be within (0, 1], got {target_share}")
    need = target_share * total - base
    if need <= 1e-9:
        return "the existing sites already reach the target share"
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
    return c, np.concatenate([np.ones(n_c), np.zeros(d.size)]), cons
