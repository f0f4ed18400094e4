"""Street coverage for outdoor workers: how much of every street lies within a walk of a station.

爱心驿站 serve sanitation workers, couriers, riders and traffic police, who spend the day on the
streets rather than at home. So the demand here is the street network itself: for every edge,
the walk time from its *farthest* point to the nearest station, and for every level the exact
length of the edge within that walk (the partial-edge split the isochrones use).

The walk model is the engine's: a point at ``x`` metres along edge ``e = (u, v)`` of length
``L`` is ``min(d(u) + x, d(v) + L - x)`` from the nearest station, where ``d`` is the
multi-source network distance (stations' access legs included), or ``leg + |x - t|`` for a
station snapped to the same edge at ``t``. A worker standing on the street has no access leg.
Each source is a "cone" ``c + |x - p|`` along the edge, so the covered set at limit ``λ`` is a
union of intervals and the worst point is where two cones meet.

Main roads (主干道/次干道, where outdoor workers mostly are) are the OSM classes in
:data:`MAIN_ROAD_CLASSES`; their uncovered kilometres are reported separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .core import EPS_M, NodeField, Snap, nearest_sites
from .intervals import (
    area_intervals,
    complement_intervals,
    intersect_intervals,
    merge_intervals,
    piece_lines,
    union_length,
)

if TYPE_CHECKING:
    from ..network import Network
    from . import CoverageResult

__all__ = [
    "MAIN_ROAD_CLASSES",
    "STATION_KINDS",
    "StreetCoverage",
    "area_intervals",
    "complement_intervals",
    "covered_intervals",
    "covered_length",
    "intersect_intervals",
    "merge_intervals",
    "parse_street_weights",
    "piece_lines",
    "street_coverage",
    "union_length",
    "worst_distance",
]

#: Site kinds that serve outdoor workers on the street: 爱心驿站 and the 会·站·家 integrated
#: sites (whose "站" is a rest station).
STATION_KINDS: tuple[str, ...] = ("station", "integrated")

#: OSM highway classes counted as main roads (主干道 and 次干道, with their link roads).
MAIN_ROAD_CLASSES: frozenset[str] = frozenset(
    {
        "main",
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
    }
)


#: Edges lying along a ``--main-roads`` line (within this many metres) count as main roads.
MAIN_ROAD_TOLERANCE_M = 15.0


def main_road_mask(
    net: Network, lines: gpd.GeoDataFrame, *, tolerance_m: float = MAIN_ROAD_TOLERANCE_M
) -> np.ndarray:
    """Edges that run along the given main-road lines (e.g. a 主干道 layer for a road
    centre-line network without classes): at least half of 9 evenly spaced points of the edge
    lie within ``tolerance_m`` metres of a line."""
    from ..crs import transform_geometry

    g = lines.to_crs(4326) if lines.crs is not None else lines.set_crs(4326)
    geoms = g.geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not geoms.size or not net.n_edges:
        return np.zeros(net.n_edges, bool)
    tree = shapely.STRtree(transform_geometry(geoms, lambda x, y: net.project(x, y)))
    k = 9
    fr = np.tile((np.arange(k) + 0.5) / k, net.n_edges)
    pts = shapely.line_interpolate_point(np.repeat(net.edge_lines(), k), fr, normalized=True)
    hit = np.zeros(pts.size, bool)
    hit[np.unique(tree.query(pts, predicate="dwithin", distance=tolerance_m)[0])] = True
    return hit.reshape(net.n_edges, k).mean(axis=1) >= 0.5


def edge_classes(net: Network, main_roads: np.ndarray | None = None) -> np.ndarray:
    """Each edge's class: its OSM class, or ``main`` where ``main_roads`` marks an edge whose
    class is unknown (road centre-lines carry none)."""
    cls = highway_class(net.edge_highway)
    if main_roads is not None:
        cls = np.where(np.asarray(main_roads, bool) & (cls == "unknown"), "main", cls)
    return cls


def highway_class(highway: Iterable[object]) -> np.ndarray:
    """The first OSM class of each edge (lists such as ``"['primary', 'secondary']"`` and
    empty values become their first entry or ``"unknown"``)."""
    out = []
    for h in highway:
        s = "" if h is None or (isinstance(h, float) and np.isnan(h)) else str(h)
        s = s.strip("[]").split(",")[0].strip().strip("'\"")
        out.append(s or "unknown")
    return np.asarray(out, dtype=object)


def is_main_road(highway: Iterable[object]) -> np.ndarray:
    """True where an edge's class is in :data:`MAIN_ROAD_CLASSES`."""
    return np.isin(highway_class(highway), list(MAIN_ROAD_CLASSES))


# --- the array core -------------------------------------------------------------------------


def _same_edge(net: Network, sites: Snap) -> dict[int, list[tuple[float, float]]]:
    """Edge -> [(position t, access leg)] of the stations snapped onto it."""
    out: dict[int, list[tuple[float, float]]] = {}
    for e, t, leg in zip(sites.edge, sites.t, sites.leg, strict=True):
        if e >= 0 and np.isfinite(leg):
            out.setdefault(int(e), []).append((float(t), float(leg)))
    return out


def _cones(net: Network, field: NodeField, e: int, on_edge) -> list[tuple[float, float]]:
    """The (position, cost) cones along edge ``e``: its two ends and stations on it."""
    length = float(net.length[e])
    du, dv = float(field.dist[net.edge_u[e]]), float(field.dist[net.edge_v[e]])
    cones = [(0.0, du), (length, dv)] + [(t, leg) for t, leg in on_edge.get(e, [])]
    return [(p, c) for p, c in cones if np.isfinite(c)]


def worst_distance(net: Network, field: NodeField, sites: Snap) -> np.ndarray:
    """Walk distance (m) from each edge's farthest point to its nearest station.

    ``inf`` where no station can be reached. An edge is wholly within a limit exactly when
    this distance is at most the limit.
    """
    length = net.length
    du, dv = field.dist[net.edge_u], field.dist[net.edge_v]
    # two linear pieces d(u) + x and d(v) + L - x meet at x* (clipped to the edge)
    with np.errstate(invalid="ignore"):
        x = np.clip((dv - du + length) / 2.0, 0.0, length)
        x = np.where(np.isfinite(x), x, np.where(np.isfinite(du), length, 0.0))
        out = np.minimum(du + x, dv + length - x)
    on_edge = _same_edge(net, sites)
    for e in on_edge:
        cones = _cones(net, field, e, on_edge)
        L = float(length[e])
        cand = [0.0, L]
        for i, (pi, ci) in enumerate(cones):
            for pj, cj in cones[i + 1 :]:
                lo, hi = (pi, ci), (pj, cj)
                if pj < pi:
                    lo, hi = hi, lo
                cand.append(min(max((hi[1] - lo[1] + lo[0] + hi[0]) / 2.0, 0.0), L))
        out[e] = max(min(c + abs(xx - p) for p, c in cones) for xx in cand)
    return out


def covered_intervals(net: Network, field: NodeField, sites: Snap, limit_m: float) -> pd.DataFrame:
    """Pieces of street within ``limit_m`` metres of a station: ``e``, ``start``, ``end`` (m
    from the edge's ``u`` end), possibly overlapping on edges that carry a station."""
    length = net.length
    du, dv = field.dist[net.edge_u], field.dist[net.edge_v]
    lim = limit_m + EPS_M
    with np.errstate(invalid="ignore"):
        a = np.clip(lim - du, 0.0, length)
        b = np.clip(lim - dv, 0.0, length)
    a = np.where(np.isfinite(a), a, 0.0)
    b = np.where(np.isfinite(b), b, 0.0)
    full = a + b >= length
    e = np.arange(net.n_edges)
    parts = [
        pd.DataFrame({"e": e[full], "start": 0.0, "end": length[full]}),
        pd.DataFrame({"e": e[~full], "start": 0.0, "end": a[~full]}),
        pd.DataFrame({"e": e[~full], "start": length[~full] - b[~full], "end": length[~full]}),
    ]
    ok = (sites.edge >= 0) & (sites.leg <= lim)
    if ok.any():
        se = sites.edge[ok]
        r = lim - sites.leg[ok]
        parts.append(
            pd.DataFrame(
                {
                    "e": se,
                    "start": np.maximum(sites.t[ok] - r, 0.0),
                    "end": np.minimum(sites.t[ok] + r, length[se]),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out[out["end"] > out["start"]].reset_index(drop=True)


def covered_length(net: Network, field: NodeField, sites: Snap, limit_m: float) -> np.ndarray:
    """Exact length (m) of every edge within ``limit_m`` metres of a station."""
    return np.minimum(
        union_length(covered_intervals(net, field, sites, limit_m), net.n_edges), net.length
    )


def uncovered_pieces(net: Network, field: NodeField, sites: Snap, limit_m: float) -> pd.DataFrame:
    """The complement of :func:`covered_intervals`: ``e``, ``start``, ``end`` per gap."""
    return complement_intervals(covered_intervals(net, field, sites, limit_m), net.length)


# --- the result layer -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StreetCoverage:
    """Street coverage of one run.

    Attributes
    ----------
    edges
        One row per street edge: ``edge_id``, ``name``, ``highway``, ``street_class`` (main
        or the OSM class), ``length_m``, ``walk_time_min_to_station`` (from the edge's
        farthest point; NaN when no station is reachable), ``covered_<level>`` (the covered
        share of the edge's length, 0-1, exact) and ``covered_m_<level>`` (metres).
    uncovered
        The street stretches outside the main level, cut exactly: ``edge_id``, ``name``,
        ``highway``, ``main_road``, ``start_m``, ``end_m``, ``length_m`` and the geometry.
    summary
        ``street_km``, ``street_km_covered_<level>``, ``street_km_covered_share_<level>``,
        ``main_road_km``, ``main_road_km_covered_<level>``, ``main_road_km_uncovered_<level>``
        and ``by_class`` (km and covered share per class and level).
    """

    edges: pd.DataFrame
    uncovered: gpd.GeoDataFrame
    summary: dict[str, Any]


def station_snap(res: CoverageResult, kinds: Iterable[str] | None = STATION_KINDS) -> Snap:
    """The snapped, usable sites of the given kinds (all kinds when ``kinds`` is None)."""
    use = res.usable_sites
    if kinds is not None and "kind" in res.sites:
        sk = res.sites["kind"].astype(str).to_numpy()[use]
        use = use[np.isin(sk, list(kinds))]
    return res.site_snap.take(use)


def street_coverage(
    res: CoverageResult,
    *,
    kinds: Iterable[str] | None = STATION_KINDS,
    main_roads: np.ndarray | None = None,
    area: Any | None = None,
) -> StreetCoverage:
    """Walk time from every street edge to the nearest station, and covered km per level.

    Parameters
    ----------
    res
        A coverage run (its network, sites and levels are used).
    kinds
        Which site kinds serve outdoor workers (default :data:`STATION_KINDS`); None: all.
    main_roads
        Per-edge mask of main roads for networks without classes (:func:`main_road_mask`).
    area
        Count only the street length inside this WGS84 polygon (a county: its network is
        clipped with a walking buffer, whose streets are walked but not counted). Edges are
        cut exactly at the boundary.
    """
    net, cfg = res.network, res.config
    snap = station_snap(res, kinds)
    field = nearest_sites(net, snap)
    worst = worst_distance(net, field, snap)
    cls = edge_classes(net, main_roads)
    main = np.isin(cls, list(MAIN_ROAD_CLASSES))
    inside = area_intervals(net, area)
    length = union_length(inside, net.n_edges)  # street length counted (in the area)
    rows = np.flatnonzero(length > 0)
    edges = pd.DataFrame(
        {
            "edge_id": rows,
            "name": np.asarray(net.edge_name, dtype=object)[rows],
            "highway": cls[rows],
            "main_road": main[rows],
            "length_m": np.round(np.asarray(net.length, float)[rows], 1),
            "walk_time_min_to_station": np.round(
                np.where(np.isfinite(worst), worst, np.nan)[rows] / cfg.metres_per_minute, 2
            ),
            "length_in_area_m": np.round(length[rows], 1),
        }
    )
    km = length.sum() / 1000
    summary: dict[str, Any] = {
        "street_station_kinds": sorted(kinds) if kinds is not None else "all",
        "street_stations": len(snap),
        "street_km": round(float(km), 3),
        "main_road_km": round(float(length[main].sum() / 1000), 3),
        "street_area": "boundary" if area is not None else "network",
    }
    by_class: dict[str, dict[str, Any]] = {}
    for level, lim in cfg.levels.items():
        cov_iv = covered_intervals(net, field, snap, lim)
        cov = union_length(
            cov_iv if area is None else intersect_intervals(cov_iv, inside), net.n_edges
        )
        cov = np.minimum(cov, length)
        share = np.where(length > 0, cov / np.where(length > 0, length, 1), 1.0)
        edges[f"covered_{level}"] = np.round(share[rows], 4)
        edges[f"covered_m_{level}"] = np.round(cov[rows], 1)
        summary.update(_level_summary(level, cov, length, main))
        _class_shares(by_class, level, cls, rows, cov, length)
    summary["by_class"] = by_class
    gaps = uncovered_pieces(net, field, snap, cfg.limit_m)
    if area is not None:
        gaps = intersect_intervals(gaps, inside)
    return StreetCoverage(edges, _stretches(net, gaps, cls, main), summary)


def _level_summary(level: str, cov: np.ndarray, length: np.ndarray, main: np.ndarray) -> dict:
    km, ckm = length.sum() / 1000, cov.sum() / 1000
    return {
        f"street_km_covered_{level}": round(float(ckm), 3),
        f"street_km_covered_share_{level}": round(float(ckm / km), 4) if km else 0.0,
        f"main_road_km_covered_{level}": round(float(cov[main].sum() / 1000), 3),
        f"main_road_km_uncovered_{level}": round(float((length[main] - cov[main]).sum() / 1000), 3),
    }


def _class_shares(by_class: dict, level: str, cls, rows, cov, length) -> None:
    for c in np.unique(cls[rows]):
        m = cls == c
        tot = float(length[m].sum())
        d = by_class.setdefault(
            str(c), {"km": round(tot / 1000, 3), "main_road": bool(c in MAIN_ROAD_CLASSES)}
        )
        d[f"covered_share_{level}"] = round(float(cov[m].sum() / tot), 4) if tot else 0.0


def _stretches(net: Network, gaps: pd.DataFrame, cls, main) -> gpd.GeoDataFrame:
    """The uncovered stretches as a WGS84 line table."""
    e = gaps["e"].to_numpy(int)
    return gpd.GeoDataFrame(
        {
            "edge_id": e,
            "name": np.asarray(net.edge_name, dtype=object)[e],
            "highway": cls[e],
            "main_road": main[e],
            "start_m": gaps["start"].round(1).to_numpy(),
            "end_m": gaps["end"].round(1).to_numpy(),
            "length_m": (gaps["end"] - gaps["start"]).round(1).to_numpy(),
        },
        geometry=piece_lines(net, gaps) if len(gaps) else np.array([], dtype=object),
        crs=4326,
    )


def parse_street_weights(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """``"primary=3,secondary=2"`` -> ``{"primary": 3.0, "secondary": 2.0}``.

    ``main`` sets every class in :data:`MAIN_ROAD_CLASSES` at once, ``other`` (or ``*``)
    every class not named. Unnamed classes weigh 1.
    """
    from .._errors import InputError

    if text is None:
        return {}
    if isinstance(text, Mapping):
        items = [(str(k), v) for k, v in text.items()]
    else:
        items = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            k, sep, v = part.partition("=")
            if not sep:
                raise InputError(
                    "street weights take CLASS=WEIGHT pairs",
                    column="--street-weights",
                    value=part,
                    fix="write e.g. --street-weights primary=3,secondary=2,other=1",
                )
            items.append((k.strip(), v.strip()))
    out: dict[str, float] = {}
    for k, v in items:
        try:
            w = float(v)
        except (TypeError, ValueError):
            w = float("nan")
        if not np.isfinite(w) or w < 0:
            raise InputError(
                "a street weight must be a number, zero or more",
                column="--street-weights",
                value=f"{k}={v}",
                fix="write e.g. --street-weights primary=3,secondary=2",
            )
        out[k] = w
    return out


def class_weights(highway: Iterable[object], weights: Mapping[str, float]) -> np.ndarray:
    """Per-edge weight from :func:`parse_street_weights` output (default 1); ``highway`` is
    the OSM class or :func:`edge_classes`."""
    cls = highway_class(highway)
    default = float(weights.get("other", weights.get("*", 1.0)))
    w = np.full(cls.size, default)
    if "main" in weights:
        w[np.isin(cls, list(MAIN_ROAD_CLASSES))] = float(weights["main"])
    for k, v in weights.items():
        if k not in ("main", "other", "*"):
            w[cls == k] = float(v)
    return w
