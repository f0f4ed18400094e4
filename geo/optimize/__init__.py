"""Propose gap sites on the walking network: MCLP, LSCP and p-median, existing sites fixed.

The GeoDataFrame/network layer over :mod:`geo.optimize._core`: it builds the candidate x
community coverage matrix from the engine's per-site reach, the walk-distance matrix for
p-median, solves, and returns ranked proposals and the marginal-gain curve.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .._errors import SolverError
from ..coverage import CoverageResult
from ..coverage.core import (
    augment_graph,
    endpoint_costs,
    reach_pairs,
    same_edge_pairs,
    site_reach,
)
from . import _core
from ._candidates import GRID_SPACING_M, PALACE_SPACING_M, candidate_snap, generate_candidates
from ._describe import KIND_NAMES, describe_proposals, pmedian_figures

logger = logging.getLogger(__name__)

__all__ = [
    "Proposal",
    "coverage_matrix",
    "generate_candidates",
    "marginal_gain_curve",
    "parse_demand",
    "propose_mixed",
    "propose_sites",
]

Model = Literal["mclp", "lscp", "pmedian"]


@dataclass
class Proposal:
    """Proposed new sites and what they achieve.

    Attributes
    ----------
    sites
        Ranked proposals: ``rank``, ``candidate_id`` (for file candidates), ``source``,
        ``name``, ``lon``, ``lat``, ``newly_covered_population``,
        ``newly_covered_communities``, ``covered_population_after``, and for p-median
        ``weighted_distance_saved``.
    curve
        Marginal-gain table: ``new_sites``, ``covered_population``, ``covered_share``,
        ``added_population``, ``method``.
    summary
        Model, status, gap, solve time, totals, and count-target arithmetic.
    candidates
        Every candidate considered.
    """

    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    summary: dict[str, Any]
    candidates: gpd.GeoDataFrame = field(repr=False)


#: Candidates, their snap and coverage matrix per coverage result (generated candidates only),
#: dropped with the result.
_MATRICES: weakref.WeakKeyDictionary[CoverageResult, dict] = weakref.WeakKeyDictionary()


def coverage_matrix(res: CoverageResult, cand_snap, limit_m: float | None = None) -> sp.csr_matrix:
    """Candidates x communities boolean sparse matrix: within ``limit_m`` along the network."""
    limit = res.config.limit_m if limit_m is None else limit_m
    reach = site_reach(res.network, cand_snap, limit)
    s, p, _ = reach_pairs(res.network, reach, cand_snap, res.community_snap)
    off = res.communities["off_network"].to_numpy()
    keep = ~off[p]
    return sp.csr_matrix(
        (np.ones(int(keep.sum())), (s[keep], p[keep])), shape=(len(cand_snap), len(res.communities))
    )


def distance_matrix(res: CoverageResult, cand_snap, max_m: float = np.inf) -> np.ndarray:
    """Candidates x communities walk distances in metres (``inf`` beyond ``max_m``)."""
    net = res.network
    cs = res.community_snap
    on = cs.edge >= 0
    out = np.full((len(cand_snap), len(cs)), np.inf)
    u, v, cu, cv = endpoint_costs(net, cand_snap)
    pu, pv, pcu, pcv = endpoint_costs(net, cs.take(np.flatnonzero(on)))
    for start in range(0, len(cand_snap), 64):
        sl = slice(start, min(start + 64, len(cand_snap)))
        n = net.n_nodes
        k = sl.stop - sl.start
        aug = augment_graph(net.csr, u[sl], v[sl], cu[sl], cv[sl])
        d = dijkstra(aug, directed=True, indices=np.arange(n, n + k), limit=max_m)[:, :n]
        block = np.full((k, len(cs)), np.inf)
        block[:, on] = np.minimum(d[:, pu] + pcu, d[:, pv] + pcv)
        out[sl] = block
    # candidates and communities on the same edge walk straight along it
    ip, js, dd = same_edge_pairs(net, cs, cand_snap)
    near = dd <= max_m
    np.minimum.at(out, (js[near], ip[near]), dd[near])
    out[:, res.communities["off_network"].to_numpy()] = np.inf
    return out


def _one_median(res: CoverageResult, snap, w, e) -> tuple[_core.Solution, np.ndarray]:
    """Exact 1-median on the network, and the chosen candidate's row of walk distances."""
    import time

    from ._median import one_median

    t0 = time.perf_counter()
    off = res.communities["off_network"].to_numpy(bool)
    best, f, info = one_median(res.network, snap, res.community_snap, w, e, off_network=off)
    row = distance_matrix(res, snap.take(np.array([best])))
    sol = _core.single_site_solution(best, float(f[best]), w, e, np.ones(len(e), bool), t0)
    sol.info = {"exact_1_median": info}
    return sol, row


def _existing_cost(res: CoverageResult, kinds: list[str] | None) -> np.ndarray:
    if kinds is None:
        d = res.communities["walk_distance_m"].to_numpy(float)
        return np.where(np.isnan(d), np.inf, d)
    from ..coverage.core import nearest_sites, point_distances

    sk = res.sites["kind"].astype(str).to_numpy()[res.usable_sites]
    idx = np.flatnonzero(np.isin(sk, kinds))
    s = res.site_snap.take(res.usable_sites[idx])
    dist, _ = point_distances(res.network, nearest_sites(res.network, s), res.community_snap, s)
    return dist


def marginal_gain_curve(
    a, w, covered, k_max: int, *, exact: bool = True, time_limit: float = 20.0
) -> pd.DataFrame:
    """Covered population against the number of new sites, 0..k_max (exact MCLP per k when
    ``exact``, else the nested greedy sequence)."""
    w = np.asarray(w, float)
    total = float(w.sum())
    base = float(w[np.asarray(covered, bool)].sum())
    rows = [{"new_sites": 0, "covered_population": base, "method": "existing"}]
    k_max = min(k_max, a.shape[0])
    if exact:
        for k in range(1, k_max + 1):
            sol = _core.mclp(a, w, k, covered, time_limit=time_limit)
            rows.append(
                {
                    "new_sites": k,
                    "covered_population": sol.objective,
                    "method": f"{sol.method}:{sol.status}",
                }
            )
    else:
        g = _core.greedy_mclp(a, w, k_max, covered)
        cum = base + np.cumsum(g.gains)
        rows += [
            {"new_sites": i + 1, "covered_population": float(c), "method": "greedy"}
            for i, c in enumerate(cum)
        ]
    df = pd.DataFrame(rows)
    df["covered_share"] = df["covered_population"] / total if total else 0.0
    df["added_population"] = df["covered_population"].diff().fillna(0.0)
    return df[["new_sites", "covered_population", "covered_share", "added_population", "method"]]


def propose_sites(
    res: CoverageResult,
    *,
    k: int | None = None,
    model: Model = "mclp",
    candidates: gpd.GeoDataFrame | None = None,
    candidates_only: bool = False,
    target_share: float | None = None,
    min_kind_count: tuple[str, int] | None = None,
    existing_kinds: list[str] | None = None,
    spacing_m: float = GRID_SPACING_M,
    boundary=None,
    time_limit: float = 60.0,
    curve: bool = True,
    exact_curve_max: int = 30,
    boundaries: gpd.GeoDataFrame | None = None,
    output_crs: str | None = None,
    lang: str = "zh",
) -> Proposal:
    """Propose new sites that close the gap left by the existing ones.

    Parameters
    ----------
    res
        Coverage of the existing sites (they stay open).
    k
        New sites (MCLP, p-median; for LSCP the solver decides).
    model
        ``mclp`` (maximise newly covered population), ``lscp`` (fewest sites to cover every
        coverable community, or ``target_share`` of the population), ``pmedian`` (minimise
        population-weighted walk distance, e.g. a first cultural palace).
    candidates, candidates_only
        User candidate points (e.g. 融合共建 partners); with ``candidates_only`` nothing else.
    target_share
        LSCP target, e.g. 0.95 of the population within the limit.
    min_kind_count
        ``("integrated", 10)``: the plan needs at least 10 sites of that kind in total; the
        summary says how many new sites the count needs beyond those coverage needs.
    existing_kinds
        p-median: which existing kinds count as already serving (default all).
    boundaries, output_crs, lang
        For the proposals' descriptions (:func:`geo.optimize._describe.describe_proposals`):
        county polygons, the planner's coordinate system (``gcj02``/``bd09``) and language.
    """
    cfg = res.config
    key = (
        (float(spacing_m), bool(candidates_only))
        if candidates is None and boundary is None
        else None
    )
    memo = _MATRICES.setdefault(res, {}) if key is not None else {}
    if key in memo:  # an audit asks twice (gap sites, then the palace): build the matrix once
        cand, snap, a = memo[key]
    else:
        cand = generate_candidates(
            res, user=candidates, user_only=candidates_only, spacing_m=spacing_m,
            boundary=boundary,
        )  # fmt: skip
        snap = a = None
    if len(cand) == 0 and model == "pmedian" and not candidates_only:
        # everyone is covered, so no gap candidates: a palace still needs somewhere to go
        cand = generate_candidates(
            res, user=candidates, spacing_m=max(spacing_m, PALACE_SPACING_M), boundary=boundary,
            around=~res.communities["off_network"].to_numpy(bool),
        )  # fmt: skip
        key = None
    if len(cand) == 0:
        raise SolverError(
            "no candidate sites: none given within the snapping distance of a "
            "street, and no uncovered community to generate them for"
        )
    if snap is None:
        snap = candidate_snap(res, cand)
    w = res.communities["population"].to_numpy(float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SolverError(
            f"{int(bad.sum())} communities have a missing or negative population (first: "
            f"{res.communities['community_id'].iloc[i]!r} = {w[i]}); fix the population "
            "column (the loaders reject such rows)"
        )
    covered = res.communities["covered"].to_numpy(bool)
    if a is None:
        a = coverage_matrix(res, snap)
        if key is not None:
            memo[key] = (cand, snap, a)
    useless = np.asarray(a[:, ~covered].sum(axis=1)).ravel() == 0
    messages = []
    if useless.all() and model != "pmedian":
        messages.append("no candidate covers any uncovered community")
    elif useless.any():
        messages.append(f"{int(useless.sum())} candidates cover no uncovered community")
    summary: dict[str, Any] = {
        "model": model,
        "candidates": len(cand),
        "candidates_by_source": cand["source"].value_counts().to_dict(),
        "limit_m": round(cfg.limit_m, 1),
    }
    if model == "mclp":
        if k is None:
            raise SolverError("MCLP needs the number of new sites: pass k (--new-sites K)")
        if k > len(cand):
            messages.append(f"k={k} exceeds the {len(cand)} candidates; proposing all of them")
            k = len(cand)
        sol = _core.mclp(a, w, k, covered, time_limit=time_limit)
    elif model == "lscp":
        try:
            sol = _core.lscp(a, w, covered, target_share=target_share, time_limit=time_limit)
        except SolverError as exc:
            if target_share is None or "cannot be reached" not in str(exc):
                raise
            messages.append(f"{exc}; proposing the sites that cover everything coverable")
            sol = _core.lscp(a, w, covered, time_limit=time_limit)
        if k is not None and len(sol.selected) > k:
            messages.append(f"covering needs {len(sol.selected)} sites, more than k={k}")
    elif model == "pmedian":
        if k is None:
            raise SolverError("p-median needs the number of new sites: pass k (--new-sites K)")
        e = _existing_cost(res, existing_kinds)
        if min(k, len(cand)) == 1:
            # exact 1-median from bounded candidate searches: no MILP, no dense matrix
            sol, cost = _one_median(res, snap, w, e)
        else:
            cost = distance_matrix(res, snap)
            sol = _core.pmedian(cost, w, min(k, len(cand)), e, time_limit=time_limit)
    else:
        raise SolverError(f"unknown model {model!r}: use mclp, lscp or pmedian")
    messages += sol.messages
    n_cov = len(sol.selected)
    if min_kind_count is not None:
        short = count_target(res, min_kind_count, n_cov)["shortfall"]
        if short > n_cov:
            extra = _core.greedy_mclp(
                a,
                w,
                short - n_cov,
                _covered_after(a, covered, sol),
                eligible=~np.isin(np.arange(a.shape[0]), sol.selected),
            )
            sol.selected = np.concatenate([sol.selected, extra.selected])
            sol.gains = np.concatenate([sol.gains, extra.gains])
            messages.append(
                f"{len(extra.selected)} more site(s) added so that "
                f"{min_kind_count[0]} reaches {min_kind_count[1]} in total"
            )
    sites = _proposal_table(res, cand, a, w, covered, sol, model)
    sites["purpose"] = ["coverage"] * n_cov + ["count"] * (len(sites) - n_cov)
    if model == "pmedian":
        if cost.shape[0] == 1:  # the 1-median keeps only the chosen candidate's row
            sites = pmedian_figures(sites, np.zeros(len(sol.selected), np.int64), cost, w, e)
        else:
            sites = pmedian_figures(sites, sol.selected, cost, w, e)
    palace = model == "pmedian" and list(existing_kinds or []) == ["cultural_palace"]
    sites = describe_proposals(
        sites, res.network, candidates=candidates, boundaries=boundaries, output_crs=output_crs,
        lang=lang, kind_label=KIND_NAMES["zh" if lang == "zh" else "en"]["cultural_palace"]
        if palace else None,
    )  # fmt: skip
    if min_kind_count is not None:
        short = count_target(res, min_kind_count, n_cov)["shortfall"]
        sites["suggested_kind"] = [
            min_kind_count[0] if i < short else "station" for i in range(len(sites))
        ]
    summary.update(
        {
            "status": sol.status,
            "method": sol.method,
            "gap": sol.gap,
            "bound": sol.bound,
            "objective": sol.objective,
            "solve_seconds": round(sol.solve_seconds, 3),
            **({"solver_info": sol.info} if sol.info else {}),
            "new_sites": len(sites),
            "population": float(w.sum()),
            "covered_population_before": float(w[covered].sum()),
            "covered_population_after": float(sites["covered_population_after"].iloc[-1])
            if len(sites)
            else float(w[covered].sum()),
            "coverable_population": float(
                w[covered | (np.asarray(a.sum(axis=0)).ravel() > 0)].sum()
            ),
        }
    )
    if min_kind_count is not None:
        summary["count_target"] = count_target(res, min_kind_count, n_cov)
    k_curve = max(len(sites), k or 0)
    table = (
        marginal_gain_curve(a, w, covered, k_curve, exact=k_curve <= exact_curve_max)
        if curve and k_curve
        else pd.DataFrame()
    )
    summary["messages"] = messages
    for m in messages:
        logger.warning(m)
    return Proposal(sites, table, summary, cand)


def _covered_after(a, covered, sol) -> np.ndarray:
    cov = covered.copy()
    for j in sol.selected:
        cov[a[j].indices] = True
    return cov


def count_target(
    res: CoverageResult, target: tuple[str, int], n_coverage: int, existing: int | None = None
) -> dict:
    """How many new sites a kind's count target needs, and how many beyond coverage's.

    ``existing`` overrides the count of that kind among ``res.sites`` (an audit counts only the
    sites inside the county, while ``res.sites`` also holds neighbours within walking reach).
    """
    kind, n = target
    if existing is not None:
        have = int(existing)
    else:
        have = int((res.sites["kind"].astype(str) == kind).sum()) if "kind" in res.sites else 0
    short = max(0, n - have)
    return {
        "kind": kind,
        "target": n,
        "existing": have,
        "shortfall": short,
        "sites_for_coverage": n_coverage,
        "sites_for_count_only": max(0, short - n_coverage),
        "total_new_sites": max(short, n_coverage),
        "note": f"the {n_coverage} coverage sites can be built as {kind}; "
        f"{max(0, short - n_coverage)} more are needed for the count alone",
    }


def _proposal_table(res, cand, a, w, covered, sol, model) -> gpd.GeoDataFrame:
    sel = sol.selected
    out = cand.iloc[sel].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(sel) + 1))
    cov = covered.copy()
    newly_pop, newly_n, after = [], [], []
    for j in sel:
        idx = a[j].indices
        new = idx[~cov[idx]]
        newly_pop.append(float(w[new].sum()))
        newly_n.append(int(new.size))
        cov[new] = True
        after.append(float(w[cov].sum()))
    out["newly_covered_population"] = newly_pop
    out["newly_covered_communities"] = newly_n
    out["covered_population_after"] = after
    if model == "pmedian":
        out["weighted_distance_saved"] = sol.gains
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


# several demand layers at once (issue 15); last, as it builds on the names above
from ._demand import parse_demand, propose_mixed  # noqa: E402
