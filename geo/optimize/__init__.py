"""Propose gap sites on the walking network: MCLP, LSCP and p-median, existing sites fixed.

The GeoDataFrame/network layer over :mod:`geo.optimize._core`: it builds the candidate x
community coverage matrix from the engine's per-site reach (:mod:`._matrices`), the
walk-distance matrix for the p-median, solves, and returns ranked proposals and the
marginal-gain curve.

:func:`propose_sites` dispatches per model through :data:`_MODELS`: each model is one small
solve function (and the p-median one more step for its distance figures); preparing the
candidates, the count target, the summary and the curve are shared.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._errors import SolverError
from ..coverage import CoverageResult
from ..coverage.core import Snap
from . import _core
from ._candidates import GRID_SPACING_M, PALACE_SPACING_M, candidate_snap, generate_candidates
from ._describe import KIND_NAMES, describe_proposals, pmedian_figures
from ._matrices import coverage_matrix, distance_matrix, existing_cost, reached, reaches_any
from ._targets import count_target, marginal_gain_curve

logger = logging.getLogger(__name__)

__all__ = [
    "Proposal",
    "count_target",
    "coverage_matrix",
    "distance_matrix",
    "existing_cost",
    "generate_candidates",
    "marginal_gain_curve",
    "parse_demand",
    "propose_mixed",
    "propose_sites",
]

Model = Literal["mclp", "lscp", "pmedian"]

#: The name before it was public (benchmarks and tests of earlier issues use it).
_existing_cost = existing_cost


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


@dataclass(frozen=True)
class _Options:
    """What :func:`propose_sites` was asked (see its parameters)."""

    model: str
    k: int | None
    target_share: float | None
    min_kind_count: tuple[str, int] | None
    existing_kinds: list[str] | None
    time_limit: float
    curve: bool
    exact_curve_max: int
    candidates: gpd.GeoDataFrame | None
    boundaries: gpd.GeoDataFrame | None
    output_crs: str | None
    lang: str


@dataclass
class _Job:
    """One :func:`propose_sites` call: options, candidates, weights, and the coverage matrix,
    built only when something needs it (a 1-median needs only its chosen candidate's row)."""

    res: CoverageResult
    opts: _Options
    cand: gpd.GeoDataFrame
    snap: Snap
    w: np.ndarray
    covered: np.ndarray
    key: tuple | None
    a: sp.csr_matrix | None = None
    messages: list[str] = field(default_factory=list)

    def matrix(self) -> sp.csr_matrix:
        """The full candidates x communities coverage matrix (built once, then cached)."""
        if self.a is None:
            self.a = coverage_matrix(self.res, self.snap)
            if self.key is not None:
                _MATRICES.setdefault(self.res, {})[self.key] = (self.cand, self.snap, self.a)
        return self.a

    def rows(self, sel: np.ndarray) -> sp.csr_matrix:
        """Coverage rows of candidates ``sel``, in that order."""
        sel = np.asarray(sel, np.int64)
        if self.a is not None:
            return self.a[sel]
        return coverage_matrix(self.res, self.snap.take(sel))

    def useless(self) -> np.ndarray:
        """Candidates that cover no uncovered community."""
        if self.a is None and self.opts.model == "pmedian":
            return ~reaches_any(self.res, self.snap, ~self.covered)
        return np.asarray(self.matrix()[:, ~self.covered].sum(axis=1)).ravel() == 0

    def coverable(self) -> np.ndarray:
        """Communities covered now or by some candidate."""
        if self.a is None:
            return self.covered | reached(self.res, self.snap)
        return self.covered | (np.asarray(self.a.sum(axis=0)).ravel() > 0)


@dataclass
class _Solved:
    """A model's solution, and for the p-median its distances (``cost`` rows, ``e``)."""

    sol: _core.Solution
    cost: np.ndarray | None = None
    e: np.ndarray | None = None


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


def _solve_mclp(job: _Job) -> _Solved:
    """Maximal covering with ``k`` new sites (all candidates when ``k`` exceeds them)."""
    k = job.opts.k
    if k is None:
        raise SolverError("MCLP needs the number of new sites: pass k (--new-sites K)")
    if k > len(job.cand):
        job.messages.append(f"k={k} exceeds the {len(job.cand)} candidates; proposing all of them")
        k = len(job.cand)
    a = job.matrix()
    return _Solved(_core.mclp(a, job.w, k, job.covered, time_limit=job.opts.time_limit))


def _solve_lscp(job: _Job) -> _Solved:
    """Set covering; an unreachable target share falls back to covering everything coverable."""
    o, a = job.opts, job.matrix()
    try:
        sol = _core.lscp(
            a, job.w, job.covered, target_share=o.target_share, time_limit=o.time_limit
        )
    except SolverError as exc:
        if o.target_share is None or "cannot be reached" not in str(exc):
            raise
        job.messages.append(f"{exc}; proposing the sites that cover everything coverable")
        sol = _core.lscp(a, job.w, job.covered, time_limit=o.time_limit)
    if o.k is not None and len(sol.selected) > o.k:
        job.messages.append(f"covering needs {len(sol.selected)} sites, more than k={o.k}")
    return _Solved(sol)


def _solve_pmedian(job: _Job) -> _Solved:
    """p-median: the exact 1-median by bounded searches for one site (no MILP, no dense
    matrix), else the MILP on the walk-distance matrix."""
    k = job.opts.k
    if k is None:
        raise SolverError("p-median needs the number of new sites: pass k (--new-sites K)")
    e = existing_cost(job.res, job.opts.existing_kinds)
    p = min(k, len(job.cand))
    if p == 1:
        sol, cost = _one_median(job.res, job.snap, job.w, e)
    else:
        cost = distance_matrix(job.res, job.snap)
        sol = _core.pmedian(cost, job.w, p, e, time_limit=job.opts.time_limit)
    return _Solved(sol, cost, e)


def _pmedian_figures(sites: gpd.GeoDataFrame, job: _Job, solved: _Solved) -> gpd.GeoDataFrame:
    """Walk figures of the p-median proposals (the 1-median keeps only its chosen row)."""
    sel = solved.sol.selected
    rows = np.zeros(len(sel), np.int64) if solved.cost.shape[0] == 1 else sel
    return pmedian_figures(sites, rows, solved.cost, job.w, solved.e)


@dataclass(frozen=True)
class _ModelSpec:
    """How one model is solved, and what it adds to the proposal table."""

    solve: Callable[[_Job], _Solved]
    figures: Callable[[gpd.GeoDataFrame, _Job, _Solved], gpd.GeoDataFrame] | None = None


#: model name -> how it is solved and described; add a model here.
_MODELS: dict[str, _ModelSpec] = {
    "mclp": _ModelSpec(_solve_mclp),
    "lscp": _ModelSpec(_solve_lscp),
    "pmedian": _ModelSpec(_solve_pmedian, _pmedian_figures),
}


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
    spacing_m, boundary
        Grid spacing (metres) of generated candidates, and the area they must lie in.
    time_limit
        Seconds for HiGHS, a safety net (the node limit is the deterministic work limit).
    curve, exact_curve_max
        Build the marginal-gain curve, exactly (an MCLP per k) up to this many sites.
    boundaries, output_crs, lang
        For the proposals' descriptions (:func:`geo.optimize._describe.describe_proposals`):
        county polygons, the planner's coordinate system (``gcj02``/``bd09``) and language.
    """
    if model not in _MODELS:
        raise SolverError(f"unknown model {model!r}: use {', '.join(_MODELS)}")
    opts = _Options(
        model, k, target_share, min_kind_count, existing_kinds, time_limit, curve,
        exact_curve_max, candidates, boundaries, output_crs, lang,
    )  # fmt: skip
    job = _prepare(res, opts, candidates_only, spacing_m, boundary)
    notes = _useless_messages(job)
    job.messages += notes
    solved = _MODELS[model].solve(job)
    sol = solved.sol
    job.messages += sol.messages
    n_cov = len(sol.selected)
    _add_count_sites(job, sol, n_cov)
    sites = _sites(job, solved, n_cov)
    summary = _summary(job, sol, sites, n_cov)
    table = _curve(job, len(sites))
    summary["messages"] = job.messages
    for m in job.messages:  # candidates that cover nothing new are normal: not a warning
        quiet = m in notes and not m.startswith("no candidate")
        logger.log(logging.INFO if quiet else logging.WARNING, m)
    return Proposal(sites, table, summary, job.cand)


def _prepare(res: CoverageResult, opts: _Options, candidates_only, spacing_m, boundary) -> _Job:
    """Candidates (cached per result when generated), their snap, and the weights."""
    key = None
    if opts.candidates is None and boundary is None:
        key = (float(spacing_m), bool(candidates_only))
    cached = _MATRICES.get(res, {}).get(key) if key is not None else None
    if cached is not None:  # an audit asks twice (gap sites, then the palace): build it once
        cand, snap, a = cached
    else:
        cand = generate_candidates(
            res, user=opts.candidates, user_only=candidates_only, spacing_m=spacing_m,
            boundary=boundary,
        )  # fmt: skip
        if len(cand) == 0 and opts.model == "pmedian" and not candidates_only:
            # everyone is covered, so no gap candidates: a palace still needs somewhere to go
            cand = generate_candidates(
                res, user=opts.candidates, spacing_m=max(spacing_m, PALACE_SPACING_M),
                boundary=boundary, around=~res.communities["off_network"].to_numpy(bool),
            )  # fmt: skip
            key = None
        if len(cand) == 0:
            raise SolverError(
                "no candidate sites: none given within the snapping distance of a "
                "street, and no uncovered community to generate them for"
            )
        snap, a = candidate_snap(res, cand), None
    covered = res.communities["covered"].to_numpy(bool)
    return _Job(res, opts, cand, snap, _population(res), covered, key, a)


def _population(res: CoverageResult) -> np.ndarray:
    """Community weights; a missing or negative population stops with the first bad row."""
    w = res.communities["population"].to_numpy(float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SolverError(
            f"{int(bad.sum())} communities have a missing or negative population (first: "
            f"{res.communities['community_id'].iloc[i]!r} = {w[i]}); fix the population "
            "column (the loaders reject such rows)"
        )
    return w


def _useless_messages(job: _Job) -> list[str]:
    useless = job.useless()
    if useless.all() and job.opts.model != "pmedian":
        return ["no candidate covers any uncovered community"]
    if useless.any():
        return [f"{int(useless.sum())} candidates cover no uncovered community"]
    return []


def _add_count_sites(job: _Job, sol: _core.Solution, n_cov: int) -> None:
    """Greedy extra sites when a kind's count target needs more than coverage does."""
    target = job.opts.min_kind_count
    if target is None:
        return
    short = count_target(job.res, target, n_cov)["shortfall"]
    if short <= n_cov:
        return
    a = job.matrix()
    extra = _core.greedy_mclp(
        a, job.w, short - n_cov, _covered_after(a, job.covered, sol),
        eligible=~np.isin(np.arange(a.shape[0]), sol.selected),
    )  # fmt: skip
    sol.selected = np.concatenate([sol.selected, extra.selected])
    sol.gains = np.concatenate([sol.gains, extra.gains])
    job.messages.append(
        f"{len(extra.selected)} more site(s) added so that {target[0]} reaches {target[1]} in total"
    )


def _sites(job: _Job, solved: _Solved, n_cov: int) -> gpd.GeoDataFrame:
    """The ranked proposal table: coverage figures, the model's own, descriptions."""
    o = job.opts
    sites = _proposal_table(job, solved.sol)
    sites["purpose"] = ["coverage"] * n_cov + ["count"] * (len(sites) - n_cov)
    figures = _MODELS[o.model].figures
    if figures is not None:
        sites = figures(sites, job, solved)
    palace = o.model == "pmedian" and list(o.existing_kinds or []) == ["cultural_palace"]
    label = KIND_NAMES["zh" if o.lang == "zh" else "en"]["cultural_palace"] if palace else None
    sites = describe_proposals(
        sites, job.res.network, candidates=o.candidates, boundaries=o.boundaries,
        output_crs=o.output_crs, lang=o.lang, kind_label=label,
    )  # fmt: skip
    if o.min_kind_count is not None:
        short = count_target(job.res, o.min_kind_count, n_cov)["shortfall"]
        sites["suggested_kind"] = [
            o.min_kind_count[0] if i < short else "station" for i in range(len(sites))
        ]
    return sites


def _summary(job: _Job, sol: _core.Solution, sites: gpd.GeoDataFrame, n_cov: int) -> dict:
    w, covered, o = job.w, job.covered, job.opts
    before = float(w[covered].sum())
    summary: dict[str, Any] = {
        "model": o.model,
        "candidates": len(job.cand),
        "candidates_by_source": job.cand["source"].value_counts().to_dict(),
        "limit_m": round(job.res.config.limit_m, 1),
        "status": sol.status,
        "method": sol.method,
        "gap": sol.gap,
        "bound": sol.bound,
        "objective": sol.objective,
        "solve_seconds": round(sol.solve_seconds, 3),
        **({"solver_info": sol.info} if sol.info else {}),
        "new_sites": len(sites),
        "population": float(w.sum()),
        "covered_population_before": before,
        "covered_population_after": float(sites["covered_population_after"].iloc[-1])
        if len(sites)
        else before,
        "coverable_population": float(w[job.coverable()].sum()),
    }
    if o.min_kind_count is not None:
        summary["count_target"] = count_target(job.res, o.min_kind_count, n_cov)
    return summary


def _curve(job: _Job, n_sites: int) -> pd.DataFrame:
    k_curve = max(n_sites, job.opts.k or 0)
    if not (job.opts.curve and k_curve):
        return pd.DataFrame()
    exact = k_curve <= job.opts.exact_curve_max
    return marginal_gain_curve(job.matrix(), job.w, job.covered, k_curve, exact=exact)


def _covered_after(a, covered, sol) -> np.ndarray:
    cov = covered.copy()
    for j in sol.selected:
        cov[a[j].indices] = True
    return cov


def _proposal_table(job: _Job, sol: _core.Solution) -> gpd.GeoDataFrame:
    sel = sol.selected
    out = job.cand.iloc[sel].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(sel) + 1))
    rows = job.rows(sel)
    w, cov = job.w, job.covered.copy()
    newly_pop, newly_n, after = [], [], []
    for i in range(len(sel)):
        idx = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
        new = idx[~cov[idx]]
        newly_pop.append(float(w[new].sum()))
        newly_n.append(int(new.size))
        cov[new] = True
        after.append(float(w[cov].sum()))
    out["newly_covered_population"] = newly_pop
    out["newly_covered_communities"] = newly_n
    out["covered_population_after"] = after
    if job.opts.model == "pmedian":
        out["weighted_distance_saved"] = sol.gains
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


# several demand layers at once (issue 15); last, as it builds on the names above
from ._demand import parse_demand, propose_mixed  # noqa: E402
