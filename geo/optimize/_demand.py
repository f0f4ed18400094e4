"""Gap sites for several demand layers at once: residents, workplaces and streets.

``gaps --demand residents,workplaces,streets --weights 1,1,0.5`` maximises

    Σ_layer weight_layer × (covered demand of the layer / total demand of the layer)

with ``k`` new sites, the existing sites kept: each layer counts as its covered *share*, so a
weight says how much one percent of that layer is worth against one percent of the others
(people and kilometres cannot be added otherwise). The layers:

* ``residents``: community population within the walk limit (as plain ``gaps``);
* ``workplaces``: employees of workplaces within the limit (``--workplaces FILE``);
* ``streets``: street kilometres within the limit of a station, optionally weighted by class
  (``--street-weights primary=3,secondary=2``). Streets already covered are those within the
  limit of an existing station kind (:data:`geo.coverage.streets.STATION_KINDS`).

Street coverage is partial along edges, so it is made exact for set covering: every edge a
candidate reaches is cut at every end of a reached piece (candidates' and existing stations'),
and each elementary segment between cuts is one demand with weight ``length_km × class
weight``; a candidate covers a segment exactly when the segment lies in one of its pieces.
The weighted maximal covering problem is then solved by :func:`geo.optimize._core.mclp`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from .._errors import InputError, SolverError
from ..coverage import CoverageResult, snap_frame
from ..coverage.core import EPS_M, edge_pieces, nearest_sites, site_reach
from ..coverage.streets import (
    STATION_KINDS,
    area_intervals,
    class_weights,
    covered_intervals,
    intersect_intervals,
    merge_intervals,
    station_snap,
    union_length,
)
from . import _core

logger = logging.getLogger(__name__)

LAYERS = ("residents", "workplaces", "streets")
#: Candidates closer than this (metres) to an earlier one are duplicates.
DEDUPE_M = 15.0


def parse_demand(demand: str | Sequence[str], weights: str | Sequence[float] | None) -> dict:
    """``"residents,streets"`` and ``"1,0.5"`` -> ``{"residents": 1.0, "streets": 0.5}``."""
    names = [d.strip() for d in (demand.split(",") if isinstance(demand, str) else demand)]
    names = [d for d in names if d]
    bad = [d for d in names if d not in LAYERS]
    if bad or not names or len(set(names)) != len(names):
        raise InputError(
            "unknown or repeated demand layer",
            column="--demand",
            value=",".join(names),
            fix="use one or more of residents, workplaces, streets, comma-separated, e.g. "
            "--demand residents,streets",
        )
    if weights is None:
        ws = [1.0] * len(names)
    else:
        raw = weights.split(",") if isinstance(weights, str) else list(weights)
        try:
            ws = [float(w) for w in raw]
        except (TypeError, ValueError):
            ws = []
        if len(ws) != len(names) or not all(np.isfinite(w) and w >= 0 for w in ws) or not any(ws):
            raise InputError(
                "--weights needs one non-negative number per --demand layer, not all zero",
                column="--weights",
                value=weights if isinstance(weights, str) else ",".join(map(str, raw)),
                fix=f"give {len(names)} numbers, e.g. --weights {','.join(['1'] * len(names))}",
            )
    return dict(zip(names, ws, strict=True))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, np.int64)
    if counts.sum() == 0:
        return np.zeros(0, np.int64)
    rep = np.repeat(np.asarray(starts, np.int64), counts)
    off = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return rep + off


@dataclass(frozen=True)
class StreetDemand:
    """Elementary street segments as demands: ``a`` (candidates x segments), ``edge``,
    ``start``/``end`` (m), ``km``, ``weight`` (km x class weight), ``covered`` (by existing
    stations), ``total_weight`` (the whole network's weighted km) and ``covered_elsewhere``
    (weighted km the existing stations cover on edges no candidate reaches)."""

    a: sp.csr_matrix
    edge: np.ndarray
    start: np.ndarray
    end: np.ndarray
    km: np.ndarray
    weight: np.ndarray
    covered: np.ndarray
    total_weight: float
    covered_elsewhere: float


def street_demand(
    res: CoverageResult,
    cand_snap,
    *,
    street_weights: Mapping[str, float] | None = None,
    kinds: Sequence[str] | None = STATION_KINDS,
    limit_m: float | None = None,
    classes: np.ndarray | None = None,
    area=None,
) -> StreetDemand:
    """The exact street-segment covering instance for ``cand_snap`` (see the module doc).

    With ``area`` (WGS84 polygon) only street length inside it counts (cut exactly)."""
    net = res.network
    lim = float(res.config.limit_m if limit_m is None else limit_m)
    cw = class_weights(net.edge_highway if classes is None else classes, street_weights or {})
    inside = area_intervals(net, area)
    total = float((union_length(inside, net.n_edges) * cw).sum() / 1000)
    # the same tolerance as covered_intervals: within the limit plus EPS_M
    lim_e = lim + EPS_M
    ps, pe, p0, p1 = edge_pieces(net, site_reach(net, cand_snap, lim_e), cand_snap, lim_e)
    cand = pd.DataFrame({"s": ps, "e": pe, "start": p0, "end": p1})
    st = station_snap(res, kinds)
    exist = merge_intervals(covered_intervals(net, nearest_sites(net, st), st, lim))
    touched = np.unique(cand["e"].to_numpy(int))
    per_edge = union_length(intersect_intervals(exist, inside), net.n_edges)
    elsewhere = per_edge * cw
    elsewhere[touched] = 0.0
    exist = exist[np.isin(exist["e"].to_numpy(), touched)]
    inside = inside[np.isin(inside["e"].to_numpy(), touched)]
    L = net.length
    K = float(L.max() if L.size else 0.0) + 10.0
    e_bp = np.concatenate(
        [touched, touched, cand["e"], cand["e"], exist["e"], exist["e"], inside["e"], inside["e"]]
    )
    p_bp = np.concatenate(
        [np.zeros(touched.size), L[touched], cand["start"], cand["end"], exist["start"],
         exist["end"], inside["start"], inside["end"]]
    )  # fmt: skip
    e_bp = e_bp.astype(np.int64)
    order = np.lexsort((p_bp, e_bp))
    e_bp, p_bp = e_bp[order], p_bp[order]
    first = np.r_[True, (e_bp[1:] != e_bp[:-1]) | (p_bp[1:] != p_bp[:-1])]
    e_of, pos = e_bp[first], p_bp[first]
    # a sort key for lookups (never inverted: e * K / K need not round back to e)
    key = e_of * K + pos
    seg_ok = e_of[:-1] == e_of[1:]
    seg_len = np.where(seg_ok, pos[1:] - pos[:-1], 0.0)

    def span(e, s, t):
        i0 = np.searchsorted(key, np.asarray(e, np.int64) * K + np.asarray(s))
        i1 = np.searchsorted(key, np.asarray(e, np.int64) * K + np.asarray(t))
        return i0, np.maximum(i1 - i0, 0)

    n_seg = max(key.size - 1, 0)
    i0, cnt = span(exist["e"].to_numpy(), exist["start"].to_numpy(), exist["end"].to_numpy())
    diff = np.zeros(n_seg + 1)
    np.add.at(diff, i0, 1.0)
    np.add.at(diff, i0 + cnt, -1.0)
    covered = np.cumsum(diff)[:n_seg] > 0
    i0, cnt = span(inside["e"].to_numpy(), inside["start"].to_numpy(), inside["end"].to_numpy())
    diff = np.zeros(n_seg + 1)
    np.add.at(diff, i0, 1.0)
    np.add.at(diff, i0 + cnt, -1.0)
    in_area = np.cumsum(diff)[:n_seg] > 0
    i0, cnt = span(cand["e"].to_numpy(), cand["start"].to_numpy(), cand["end"].to_numpy())
    cols = _ranges(i0, cnt)
    rows = np.repeat(cand["s"].to_numpy(np.int64), cnt)
    a = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(len(cand_snap), n_seg))
    a.sum_duplicates()
    a.data[:] = 1.0
    keep = np.flatnonzero(seg_ok & (seg_len > 0) & in_area)
    a = a[:, keep].tocsr()
    edge = e_of[:-1][keep]
    km = seg_len[keep] / 1000
    return StreetDemand(
        a,
        edge,
        pos[:-1][keep],
        pos[1:][keep],
        km,
        km * cw[edge],
        covered[keep],
        total,
        float(elsewhere.sum() / 1000),
    )


def street_candidates(
    res: CoverageResult, spacing_m: float, kinds=STATION_KINDS
) -> gpd.GeoDataFrame:
    """Network nodes beyond half the walk limit from every station, one per grid cell."""
    net, lim = res.network, res.config.limit_m
    field = nearest_sites(net, station_snap(res, kinds))
    nodes = np.flatnonzero(~(field.dist <= lim / 2))
    xy = net.xy[nodes]
    cell = np.floor(xy / spacing_m).astype(np.int64)
    centre = (cell + 0.5) * spacing_m
    d = np.hypot(*(xy - centre).T)
    order = np.lexsort((d, cell[:, 1], cell[:, 0])) if nodes.size else np.zeros(0, np.int64)
    c = cell[order]
    first = np.r_[True, (c[1:] != c[:-1]).any(axis=1)] if c.size else np.zeros(0, bool)
    pick = nodes[order[first]]
    return gpd.GeoDataFrame(
        {"candidate_id": [""] * pick.size, "source": "street", "name": "", "kind": ""},
        geometry=shapely.points(net.lon[pick], net.lat[pick]),
        crs=4326,
    )


def _dedupe(res: CoverageResult, cand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    net = res.network
    snap = snap_frame(net, cand, "candidates")
    cand = cand[snap.leg <= res.config.max_snap_m]
    xy = np.column_stack(net.project(cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy()))
    keep = np.ones(len(cand), bool)
    for i, j in sorted(cKDTree(xy).query_pairs(DEDUPE_M)):
        if keep[i] and keep[j]:
            keep[j] = False
    cand = cand[keep].reset_index(drop=True)
    cand["lon"], cand["lat"] = cand.geometry.x, cand.geometry.y
    return cand


def propose_mixed(
    res: CoverageResult,
    *,
    k: int,
    demand: Mapping[str, float],
    workplaces: CoverageResult | None = None,
    street_weights: Mapping[str, float] | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    candidates_only: bool = False,
    spacing_m: float = 200.0,
    boundary=None,
    time_limit: float = 60.0,
    curve: bool = True,
    classes: np.ndarray | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    output_crs: str | None = None,
    lang: str = "zh",
):
    """``k`` new sites maximising the weighted sum of covered shares of the demand layers.

    Parameters
    ----------
    res
        Coverage of the residents (communities) by the existing sites.
    k
        Number of new sites.
    demand
        ``{layer: weight}`` from :func:`parse_demand`.
    workplaces
        Coverage of the workplaces (``employees`` as ``population``); needed for that layer.
    street_weights
        Per-class weights for the street layer (:func:`geo.coverage.streets.parse_street_weights`).
    candidates, candidates_only, spacing_m, boundary, time_limit
        As for :func:`geo.optimize.propose_sites`.
    boundaries, output_crs, lang
        For the proposals' ids, names and locations
        (:func:`geo.optimize._describe.describe_proposals`).
    classes
        Per-edge street classes for the weights (default the OSM classes; see
        :func:`geo.coverage.streets.edge_classes` for ``--main-roads``).

    Returns
    -------
    Proposal
        ``sites`` with ``newly_covered_population``, ``newly_covered_employees`` and
        ``newly_covered_street_km`` per proposal; ``summary`` with the weights and every
        layer's covered share before and after.
    """
    from . import Proposal, coverage_matrix
    from ._candidates import generate_candidates

    if "workplaces" in demand and workplaces is None:
        raise InputError(
            "the workplaces demand layer needs a workplaces file",
            column="--demand",
            value="workplaces",
            fix="pass --workplaces FILE, or drop workplaces from --demand",
        )
    if k is None or k < 1:
        raise SolverError("mixed demand needs the number of new sites: pass --new-sites K")
    frames = [
        generate_candidates(
            res, user=candidates, user_only=candidates_only, spacing_m=spacing_m, boundary=boundary
        )
    ]
    if not candidates_only:
        if "streets" in demand:
            frames.append(street_candidates(res, spacing_m))
        if workplaces is not None and "workplaces" in demand:
            frames.append(generate_candidates(workplaces, spacing_m=spacing_m, boundary=boundary))
    cand = gpd.GeoDataFrame(pd.concat([f for f in frames if len(f)], ignore_index=True), crs=4326)
    if boundary is not None and len(cand):
        cand = cand[shapely.intersects(boundary, cand.geometry.to_numpy())]
    cand = _dedupe(res, cand) if len(cand) else cand
    if not len(cand):
        raise SolverError("no candidate sites within the snapping distance of a street")
    snap = snap_frame(res.network, cand, "candidates")
    blocks, weights, covered, layer_of, totals, raw, base = [], [], [], [], {}, {}, {}
    streets = None
    for layer, lw in demand.items():
        if layer == "residents":
            a = coverage_matrix(res, snap)
            w = res.communities["population"].to_numpy(float)
            cov = res.communities["covered"].to_numpy(bool)
        elif layer == "workplaces":
            a = coverage_matrix(workplaces, snap)
            w = workplaces.communities["population"].to_numpy(float)
            cov = workplaces.communities["covered"].to_numpy(bool)
        else:
            streets = street_demand(
                res, snap, street_weights=street_weights, classes=classes, area=boundary
            )
            a, w, cov = streets.a, streets.weight, streets.covered
        tot = float(streets.total_weight if layer == "streets" else w.sum())
        totals[layer] = tot
        base[layer] = streets.covered_elsewhere if layer == "streets" else 0.0
        raw[layer] = (a, w, cov)
        blocks.append(a)
        weights.append(w * (lw / tot) if tot > 0 else w * 0.0)
        covered.append(cov)
        layer_of.append(np.full(a.shape[1], list(demand).index(layer)))
    A = sp.hstack(blocks, format="csr")
    W = np.concatenate(weights)
    C = np.concatenate(covered)
    k_eff = min(k, A.shape[0])
    sol = _core.mclp(A, W, k_eff, C, time_limit=time_limit)
    sites = _table(cand, sol, raw, streets)
    sites["purpose"] = "coverage"
    sites["suggested_kind"] = "station" if "streets" in demand else ""
    from ._describe import describe_proposals

    sites = describe_proposals(
        sites, res.network, candidates=candidates, boundaries=boundaries,
        output_crs=output_crs, lang=lang,
    )  # fmt: skip
    summary: dict[str, Any] = {
        "model": "mclp",
        "demand": list(demand),
        "weights": dict(demand),
        "street_weights": dict(street_weights or {}),
        "objective_note": "weighted sum of each layer's covered share",
        "candidates": len(cand),
        "candidates_by_source": cand["source"].value_counts().to_dict(),
        "limit_m": round(res.config.limit_m, 1),
        "status": sol.status,
        "method": sol.method,
        "gap": sol.gap,
        "objective": sol.objective,
        "solve_seconds": round(sol.solve_seconds, 3),
        "new_sites": len(sites),
        "messages": list(sol.messages),
    }
    chosen = np.zeros(A.shape[0], bool)
    chosen[sol.selected] = True
    for layer, (a, w, cov) in raw.items():
        after = cov | (np.asarray(a[chosen].sum(axis=0)).ravel() > 0)
        tot = totals[layer]
        unit = "street_km_weighted" if layer == "streets" else layer
        b0, b1 = float(w[cov].sum()) + base[layer], float(w[after].sum()) + base[layer]
        summary[f"{unit}_before"] = b0
        summary[f"{unit}_after"] = b1
        summary[f"{layer}_share_before"] = round(b0 / tot, 4) if tot else 0.0
        summary[f"{layer}_share_after"] = round(b1 / tot, 4) if tot else 0.0
    pop = res.communities["population"].to_numpy(float)
    rc = res.communities["covered"].to_numpy(bool)
    summary["population"] = float(pop.sum())
    summary["covered_population_before"] = float(pop[rc].sum())
    summary["covered_population_after"] = (
        summary["residents_after"] if "residents" in raw else float(pop[rc].sum())
    )
    table = (
        _curve(A, W, C, raw, totals, base, demand, k_eff, time_limit) if curve else pd.DataFrame()
    )
    return Proposal(sites, table, summary, cand)


def _table(cand, sol, raw, streets) -> gpd.GeoDataFrame:
    sel = sol.selected
    out = cand.iloc[sel].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(sel) + 1))
    cols = {
        "residents": ("newly_covered_population", "newly_covered_communities"),
        "workplaces": ("newly_covered_employees", "newly_covered_workplaces"),
    }
    for layer, (a, w, cov) in raw.items():
        c = cov.copy()
        gained, count = [], []
        for j in sel:
            idx = a[j].indices
            new = idx[~c[idx]]
            if layer == "streets":
                gained.append(float(streets.km[new].sum()))
            else:
                gained.append(float(w[new].sum()))
            count.append(int(new.size))
            c[new] = True
        if layer == "streets":
            out["newly_covered_street_km"] = np.round(gained, 3)
        else:
            out[cols[layer][0]] = gained
            out[cols[layer][1]] = count
            if layer == "residents":
                base = float(w[cov].sum())
                out["covered_population_after"] = base + np.cumsum(gained)
    out["objective_gain"] = sol.gains
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def _curve(A, W, C, raw, totals, base, demand, k_max, time_limit) -> pd.DataFrame:
    """Per k = 0..k_max: every layer's covered share with the optimal k new sites."""
    rows = []
    for k in range(0, min(k_max, 30) + 1):
        sol = _core.mclp(A, W, k, C, time_limit=time_limit) if k else None
        chosen = np.zeros(A.shape[0], bool)
        if sol is not None:
            chosen[sol.selected] = True
        row: dict[str, Any] = {
            "new_sites": k,
            "method": "existing" if k == 0 else f"{sol.method}:{sol.status}",
        }
        for layer, (a, w, cov) in raw.items():
            after = cov | (np.asarray(a[chosen].sum(axis=0)).ravel() > 0) if k else cov
            tot = totals[layer]
            row[f"{layer}_share"] = float((w[after].sum() + base[layer]) / tot) if tot else 0.0
            if layer == "residents":
                row["covered_population"] = float(w[after].sum())
        # the weighted sum of shares, over the sum of the weights: 0..1
        row["objective"] = sum(demand[layer] * row[f"{layer}_share"] for layer in raw)
        row["covered_share"] = row["objective"] / sum(demand.values())
        rows.append(row)
    df = pd.DataFrame(rows)
    df["added_objective"] = df["objective"].diff().fillna(0.0)
    return df
