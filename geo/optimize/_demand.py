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
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

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
from ..network import concat_ranges as _ranges
from . import _core
from ._candidates import snap_dedupe

if TYPE_CHECKING:
    from . import Proposal

logger = logging.getLogger(__name__)

LAYERS = ("residents", "workplaces", "streets")


def parse_demand(
    demand: str | Sequence[str], weights: str | Sequence[float] | None
) -> dict[str, float]:
    """The demand layers and their weights, from ``--demand`` and ``--weights``.

    Parameters
    ----------
    demand
        Layer names, comma-separated or a sequence: ``residents``, ``workplaces``, ``streets``.
    weights
        One weight per layer (unitless: what one percent of that layer's covered share is
        worth), comma-separated or a sequence; None gives every layer 1.

    Returns
    -------
    dict
        ``{layer: weight}`` in the order given, e.g. ``"residents,streets"`` with ``"1,0.5"``
        gives ``{"residents": 1.0, "streets": 0.5}``.

    Raises
    ------
    InputError
        An unknown or repeated layer, or weights that do not match the layers.
    """
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


class _Cuts:
    """The cut points of every touched edge, sorted: elementary segment ``i`` runs from cut
    ``i`` to cut ``i + 1`` (when both lie on the same edge)."""

    def __init__(self, pieces: list[pd.DataFrame], touched: np.ndarray, length: np.ndarray):
        e = np.concatenate([touched, touched, *[p["e"].to_numpy() for q in (0, 1) for p in pieces]])
        pos = np.concatenate(
            [np.zeros(touched.size), length[touched],
             *[p[c].to_numpy(float) for c in ("start", "end") for p in pieces]]
        )  # fmt: skip
        e = e.astype(np.int64)
        order = np.lexsort((pos, e))
        e, pos = e[order], pos[order]
        first = np.r_[True, (e[1:] != e[:-1]) | (pos[1:] != pos[:-1])]
        self.edge, self.pos = e[first], pos[first]
        self.K = float(length.max() if length.size else 0.0) + 10.0
        # a sort key for lookups (never inverted: e * K / K need not round back to e)
        self.key = self.edge * self.K + self.pos
        self.n = max(self.key.size - 1, 0)
        self.ok = self.edge[:-1] == self.edge[1:]
        self.length = np.where(self.ok, self.pos[1:] - self.pos[:-1], 0.0)

    def span(self, p: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """First segment and number of segments of every piece (``e``, ``start``, ``end``)."""
        e = p["e"].to_numpy(np.int64)
        i0 = np.searchsorted(self.key, e * self.K + p["start"].to_numpy(float))
        i1 = np.searchsorted(self.key, e * self.K + p["end"].to_numpy(float))
        return i0, np.maximum(i1 - i0, 0)

    def inside(self, p: pd.DataFrame) -> np.ndarray:
        """Per segment: does it lie in one of the pieces ``p``?"""
        i0, cnt = self.span(p)
        diff = np.zeros(self.n + 1)
        np.add.at(diff, i0, 1.0)
        np.add.at(diff, i0 + cnt, -1.0)
        return np.cumsum(diff)[: self.n] > 0


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
    elsewhere = union_length(intersect_intervals(exist, inside), net.n_edges) * cw
    elsewhere[touched] = 0.0
    exist = exist[np.isin(exist["e"].to_numpy(), touched)]
    inside = inside[np.isin(inside["e"].to_numpy(), touched)]
    cuts = _Cuts([cand, exist, inside], touched, net.length)
    i0, cnt = cuts.span(cand)
    cols = _ranges(i0, cnt)
    rows = np.repeat(cand["s"].to_numpy(np.int64), cnt)
    a = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(len(cand_snap), cuts.n))
    a.sum_duplicates()
    a.data[:] = 1.0
    keep = np.flatnonzero(cuts.ok & (cuts.length > 0) & cuts.inside(inside))
    edge = cuts.edge[:-1][keep]
    km = cuts.length[keep] / 1000
    return StreetDemand(
        a[:, keep].tocsr(),
        edge,
        cuts.pos[:-1][keep],
        cuts.pos[1:][keep],
        km,
        km * cw[edge],
        cuts.inside(exist)[keep],
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
) -> Proposal:
    """``k`` new sites maximising the weighted sum of covered shares of the demand layers.

    Parameters
    ----------
    res
        Coverage of the residents (communities) by the existing sites.
    k
        Number of new sites.
    demand
        ``{layer: weight}`` (unitless weights) from :func:`parse_demand`.
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
    from . import Proposal

    if "workplaces" in demand and workplaces is None:
        raise InputError(
            "the workplaces demand layer needs a workplaces file",
            column="--demand",
            value="workplaces",
            fix="pass --workplaces FILE, or drop workplaces from --demand",
        )
    if k is None or k < 1:
        raise SolverError("mixed demand needs the number of new sites: pass --new-sites K")
    cand = _mixed_candidates(res, demand, workplaces, candidates, candidates_only, spacing_m,
                             boundary)  # fmt: skip
    snap = snap_frame(res.network, cand, "candidates")
    inst = _Instance(res, snap, demand, workplaces, street_weights, classes, boundary)
    k_eff = min(k, inst.A.shape[0])
    sol = _core.mclp(inst.A, inst.W, k_eff, inst.C, time_limit=time_limit)
    sites = _table(cand, sol, inst.raw, inst.streets)
    sites["purpose"] = "coverage"
    sites["suggested_kind"] = "station" if "streets" in demand else ""
    from ._describe import describe_proposals

    sites = describe_proposals(
        sites, res.network, candidates=candidates, boundaries=boundaries,
        output_crs=output_crs, lang=lang,
    )  # fmt: skip
    summary = _mixed_summary(res, cand, demand, street_weights, sol, sites, inst)
    table = inst.curve(k_eff, time_limit) if curve else pd.DataFrame()
    return Proposal(sites, table, summary, cand)


def _mixed_summary(res, cand, demand, street_weights, sol, sites, inst) -> dict[str, Any]:
    """The solver summary of a mixed-demand plan: weights, status, every layer's share."""
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
        **inst.layer_summary(sol.selected),
    }
    pop = res.communities["population"].to_numpy(float)
    rc = res.communities["covered"].to_numpy(bool)
    summary["population"] = float(pop.sum())
    summary["covered_population_before"] = float(pop[rc].sum())
    summary["covered_population_after"] = (
        summary["residents_after"] if "residents" in inst.raw else float(pop[rc].sum())
    )
    return summary


def _mixed_candidates(res, demand, workplaces, candidates, candidates_only, spacing_m, boundary):
    """User candidates, plus generated ones near uncovered communities, streets, workplaces."""
    from ._candidates import generate_candidates

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
    cand = snap_dedupe(res, cand) if len(cand) else cand
    if not len(cand):
        raise SolverError("no candidate sites within the snapping distance of a street")
    return cand


class _Instance:
    """The weighted covering instance over every demand layer: ``A`` (candidates x demands of
    all layers), ``W`` (weight / layer total x layer weight), ``C`` (already covered)."""

    def __init__(self, res, snap, demand, workplaces, street_weights, classes, boundary):
        from . import coverage_matrix

        self.demand = dict(demand)
        self.raw: dict[str, tuple] = {}
        self.totals: dict[str, float] = {}
        self.base: dict[str, float] = {}
        self.streets: StreetDemand | None = None
        blocks, weights, covered = [], [], []
        for layer, lw in demand.items():
            if layer == "streets":
                st = street_demand(
                    res, snap, street_weights=street_weights, classes=classes, area=boundary
                )
                self.streets = st
                a, w, cov = st.a, st.weight, st.covered
                tot, self.base[layer] = float(st.total_weight), st.covered_elsewhere
            else:
                r = res if layer == "residents" else workplaces
                a = coverage_matrix(r, snap)
                w = r.communities["population"].to_numpy(float)
                cov = r.communities["covered"].to_numpy(bool)
                tot, self.base[layer] = float(w.sum()), 0.0
            self.totals[layer] = tot
            self.raw[layer] = (a, w, cov)
            blocks.append(a)
            weights.append(w * (lw / tot) if tot > 0 else w * 0.0)
            covered.append(cov)
        self.A = sp.hstack(blocks, format="csr")
        self.W = np.concatenate(weights)
        self.C = np.concatenate(covered)

    def shares(self, selected) -> dict[str, tuple[float, float]]:
        """Per layer: covered weight (layer units) and covered share with ``selected`` added."""
        chosen = np.zeros(self.A.shape[0], bool)
        chosen[np.asarray(selected, np.int64)] = True
        out = {}
        for layer, (a, w, cov) in self.raw.items():
            after = cov | (np.asarray(a[chosen].sum(axis=0)).ravel() > 0) if chosen.any() else cov
            v = float(w[after].sum()) + self.base[layer]
            out[layer] = (v, v / self.totals[layer] if self.totals[layer] else 0.0)
        return out

    def layer_summary(self, selected) -> dict[str, Any]:
        before, after = self.shares([]), self.shares(selected)
        out: dict[str, Any] = {}
        for layer in self.raw:
            unit = "street_km_weighted" if layer == "streets" else layer
            out[f"{unit}_before"], out[f"{unit}_after"] = before[layer][0], after[layer][0]
            out[f"{layer}_share_before"] = round(before[layer][1], 4)
            out[f"{layer}_share_after"] = round(after[layer][1], 4)
        return out

    def curve(self, k_max: int, time_limit: float) -> pd.DataFrame:
        """Per k = 0..k_max: every layer's covered share with the optimal k new sites."""
        rows = []
        for k in range(0, min(k_max, 30) + 1):
            sol = _core.mclp(self.A, self.W, k, self.C, time_limit=time_limit) if k else None
            sh = self.shares([] if sol is None else sol.selected)
            row: dict[str, Any] = {
                "new_sites": k,
                "method": "existing" if sol is None else f"{sol.method}:{sol.status}",
            }
            for layer, (v, share) in sh.items():
                row[f"{layer}_share"] = share
                if layer == "residents":
                    row["covered_population"] = v
            # the weighted sum of shares, over the sum of the weights: 0..1
            row["objective"] = sum(self.demand[la] * row[f"{la}_share"] for la in self.raw)
            row["covered_share"] = row["objective"] / sum(self.demand.values())
            rows.append(row)
        df = pd.DataFrame(rows)
        df["added_objective"] = df["objective"].diff().fillna(0.0)
        return df


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
