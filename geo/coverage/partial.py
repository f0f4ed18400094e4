"""Large communities counted in part: the covered share of each community's population.

A 社区 polygon is often 0.5-1 km² across; deciding its coverage from one point calls it all
covered or not at all. With ``--community-coverage area`` each polygon community is split into
the places its people live, each measured on its own along the network:

* **buildings** (``--buildings FILE``, or the OSM source's own buildings): every residential
  building (``building`` not in :data:`NON_RESIDENTIAL`) whose representative point lies
  in the community, weighted by floor area (footprint area × levels, from a ``building:levels``
  / ``levels`` / ``层数`` / ``楼层`` column when present, else 1 level);
* otherwise a **regular grid** of sample points, one per :data:`GRID_SPACING_M` cell, at the
  cell centres ``((i + ½) s, (j + ½) s)`` of the network's metric CRS, each weighted equally
  (a community smaller than one cell gets one point on its surface).

The population is shared out over these points by weight, and a point is covered at a level
when its walk to the nearest site (access leg included, as for communities) is within the
limit; a point more than ``max_snap_m`` from any street is not covered. The community's
``covered_share`` is the covered share of its people. **Rule:** a community counts as covered
when at least :data:`COVERED_SHARE_RULE` (50%) of its people are. Point communities keep one
sample (share 0 or 1). The point method stays the default, for comparison.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from .core import EPS_M, point_distances, snap_points

if TYPE_CHECKING:
    from . import CoverageResult

__all__ = [
    "COVERED_SHARE_RULE",
    "GRID_SPACING_M",
    "PartialCoverage",
    "apply_area_coverage",
    "partial_coverage",
    "sample_points",
]

#: A community is covered when at least this share of its people are within the walk.
COVERED_SHARE_RULE = 0.5
#: Spacing in metres of the sample grid used when no buildings are given.
GRID_SPACING_M = 50.0
#: Columns read as a building's number of floors.
LEVEL_COLUMNS = ("building:levels", "building_levels", "levels", "floors", "层数", "楼层", "楼层数")

Method = Literal["point", "area"]

#: OSM ``building`` values that are not homes; every other value (``yes`` included) counts.
NON_RESIDENTIAL = frozenset(
    {"commercial", "industrial", "retail", "office", "warehouse", "school", "university",
     "college", "hospital", "church", "temple", "mosque", "public", "civic", "government",
     "train_station", "transportation", "parking", "garage", "garages", "roof", "kiosk",
     "service", "supermarket", "hotel", "sports_hall", "stadium", "construction", "shed",
     "hangar", "factory", "manufacture", "barn", "farm_auxiliary", "greenhouse", "toilets"}
)  # fmt: skip


def residential(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Only homes: drop buildings whose ``building`` value is in :data:`NON_RESIDENTIAL`."""
    if "building" not in buildings.columns:
        return buildings
    kind = buildings["building"].astype(str).str.strip().str.lower()
    return buildings[~kind.isin(NON_RESIDENTIAL)]


def osm_buildings(path: Any) -> gpd.GeoDataFrame | None:
    """Building footprints (``building``, ``building:levels``) from an OSM ``.osm``/``.pbf``
    file, or None when ``path`` is not an OSM file or holds no buildings."""
    from pathlib import Path

    p = Path(str(path))
    name = p.name.lower()
    if not p.is_file() or not name.endswith((".osm", ".pbf", ".osm.xml", ".xml")):
        return None
    import osmium

    fab = osmium.geom.WKBFactory()
    geoms, kinds, levels = [], [], []
    flt = osmium.filter.KeyFilter("building")
    for o in osmium.FileProcessor(str(p)).with_areas(flt).with_filter(flt):
        if not o.is_area():
            continue
        try:
            geoms.append(shapely.from_wkb(fab.create_multipolygon(o)))
        except RuntimeError:  # an unclosed ring: skip that building
            continue
        kinds.append(o.tags.get("building", "yes"))
        levels.append(o.tags.get("building:levels", ""))
    if not geoms:
        return None
    return gpd.GeoDataFrame(
        {"building": kinds, "building:levels": levels}, geometry=geoms, crs=4326
    )


def _metric_polys(net, geoms: np.ndarray) -> np.ndarray:
    from ..crs import transform_geometry

    return transform_geometry(geoms, lambda x, y: net.project(x, y))


def _grid_samples(polys: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(community index, x, y) of every grid cell centre inside each polygon (a polygon with
    none gets one point on its surface)."""
    idx, xs_all, ys_all = [], [], []
    for i, g in enumerate(polys):
        if g is None or shapely.is_empty(g):
            continue
        x0, y0, x1, y1 = g.bounds
        xs = (np.arange(np.floor(x0 / spacing_m), np.ceil(x1 / spacing_m)) + 0.5) * spacing_m
        ys = (np.arange(np.floor(y0 / spacing_m), np.ceil(y1 / spacing_m)) + 0.5) * spacing_m
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        inside = shapely.contains_xy(g, gx, gy) if gx.size else np.zeros(0, bool)
        if inside.any():
            gx, gy = gx[inside], gy[inside]
        else:
            p = shapely.point_on_surface(g)
            gx, gy = np.array([p.x]), np.array([p.y])
        idx.append(np.full(gx.size, i))
        xs_all.append(gx)
        ys_all.append(gy)
    if not idx:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    return np.concatenate(idx), np.concatenate(xs_all), np.concatenate(ys_all)


def _floor_area(buildings: gpd.GeoDataFrame, polys_m: np.ndarray) -> np.ndarray:
    area = shapely.area(polys_m)
    col = next((c for c in LEVEL_COLUMNS if c in buildings.columns), None)
    if col is None:
        return area
    lv = pd.to_numeric(buildings[col].astype(str).str.extract(r"([\d.]+)")[0], errors="coerce")
    lv = lv.to_numpy(float)
    return area * np.where(np.isfinite(lv) & (lv > 0), lv, 1.0)


def _building_samples(net, buildings: gpd.GeoDataFrame, polys: np.ndarray) -> pd.DataFrame:
    """One sample per home inside a polygon (``community`` indexes ``polys``), weighted by
    floor area; a building in two overlapping communities goes to the first of them."""
    b = buildings.to_crs(4326) if buildings.crs is not None else buildings.set_crs(4326)
    b = residential(b)
    b = b[np.isin(shapely.get_type_id(b.geometry.to_numpy()), [3, 6])]
    bm = _metric_polys(net, b.geometry.to_numpy())
    fa = _floor_area(b, bm)
    rep = shapely.point_on_surface(bm)
    bi, ci = shapely.STRtree(polys).query(rep, predicate="within")
    order = np.lexsort((ci, bi))
    bi, ci = bi[order], ci[order]
    first = np.unique(bi, return_index=True)[1]
    bi, ci = bi[first], ci[first]
    ok = fa[bi] > 0
    bi, ci = bi[ok], ci[ok]
    return pd.DataFrame(
        {
            "community": ci,
            "x": shapely.get_x(rep[bi]),
            "y": shapely.get_y(rep[bi]),
            "w": fa[bi],
            "method": "buildings",
        }
    )


def sample_points(
    res: CoverageResult,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    spacing_m: float = GRID_SPACING_M,
) -> pd.DataFrame:
    """Sample points of every community: ``community`` (row index), ``x``, ``y`` (metric CRS),
    ``weight`` (share of the community's people, summing to 1 per community) and ``method``
    (``point``, ``grid`` or ``buildings``)."""
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        raise InputError(
            "the sample grid spacing must be a positive number of metres",
            column="spacing_m",
            value=spacing_m,
            fix="use e.g. 50",
        )
    net = res.network
    geoms = res.communities.geometry.to_numpy()
    is_poly = np.isin(shapely.get_type_id(geoms), [3, 6])
    frames = []
    pt_idx = np.flatnonzero(~is_poly)
    if pt_idx.size:
        p = shapely.point_on_surface(geoms[pt_idx])
        x, y = net.project(shapely.get_x(p), shapely.get_y(p))
        frames.append(
            pd.DataFrame({"community": pt_idx, "x": x, "y": y, "w": 1.0, "method": "point"})
        )
    poly_idx = np.flatnonzero(is_poly)
    polys = _metric_polys(net, geoms[poly_idx]) if poly_idx.size else np.zeros(0, object)
    done = np.zeros(poly_idx.size, bool)
    if buildings is not None and len(buildings) and poly_idx.size:
        bf = _building_samples(net, buildings, polys)
        if len(bf):
            done[np.unique(bf["community"].to_numpy())] = True
            bf["community"] = poly_idx[bf["community"].to_numpy()]
            frames.append(bf)
    if (~done).any():
        ci, gx, gy = _grid_samples(polys[~done], spacing_m)
        frames.append(
            pd.DataFrame(
                {
                    "community": poly_idx[~done][ci],
                    "x": gx,
                    "y": gy,
                    "w": 1.0,
                    "method": "grid",
                }
            )
        )
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["community", "x", "y", "w", "method"])
    )
    tot = out.groupby("community")["w"].transform("sum")
    out["weight"] = out["w"] / tot
    return out.drop(columns="w").sort_values("community", kind="stable").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PartialCoverage:
    """Per community: ``community_id``, ``covered_share`` (main level),
    ``covered_share_<level>``, ``samples``, ``sample_method``; and the sample points."""

    communities: pd.DataFrame
    samples: pd.DataFrame
    summary: dict[str, Any]


def partial_coverage(
    res: CoverageResult,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    spacing_m: float = GRID_SPACING_M,
) -> PartialCoverage:
    """The covered share of each community's people, from building or grid samples.

    Parameters
    ----------
    res
        A coverage run (its sites, network and levels are used).
    buildings
        Building footprints (any CRS); weights are floor areas.
    spacing_m
        Grid spacing in metres where no building lies in a community (default 50 m).
    """
    cfg, net = res.config, res.network
    smp = sample_points(res, buildings=buildings, spacing_m=spacing_m)
    snap = snap_points(net, smp["x"].to_numpy(float), smp["y"].to_numpy(float))
    sites = res.site_snap.take(res.usable_sites)
    dist, _ = point_distances(net, res.node_field, snap, sites)
    off = ~(snap.leg <= cfg.max_snap_m)
    dist = np.where(off, np.inf, dist)
    smp["walk_distance_m"] = dist
    n = len(res.communities)
    ci = smp["community"].to_numpy(int)
    w = smp["weight"].to_numpy(float)
    out = pd.DataFrame({"community_id": res.communities["community_id"].to_numpy()})
    for level, lim in cfg.levels.items():
        out[f"covered_share_{level}"] = np.bincount(
            ci, weights=w * (dist <= lim + EPS_M), minlength=n
        )[:n]
    out["covered_share"] = out[f"covered_share_{cfg.main_level}"]
    out["samples"] = np.bincount(ci, minlength=n)[:n]
    meth = smp.groupby("community")["method"].first()
    out["sample_method"] = meth.reindex(range(n)).fillna("").to_numpy()
    pop = res.communities["population"].to_numpy(float)
    summary = {
        "community_coverage": "area",
        "covered_share_rule": COVERED_SHARE_RULE,
        "grid_spacing_m": spacing_m,
        "samples": len(smp),
        "samples_by_method": smp["method"].value_counts().to_dict(),
        "population_covered_in_part": float((pop * out["covered_share"]).sum()),
    }
    return PartialCoverage(out, smp, summary)


def apply_area_coverage(res: CoverageResult, part: PartialCoverage) -> CoverageResult:
    """A copy of ``res`` whose ``covered_<level>`` flags follow the 50% rule of ``part``, with
    ``covered_share`` columns and the summary recomputed."""
    from . import summarise

    c = res.communities.copy()
    for level in res.config.levels:
        share = part.communities[f"covered_share_{level}"].to_numpy()
        c[f"covered_share_{level}"] = np.round(share, 6)
        c[f"covered_{level}"] = share >= COVERED_SHARE_RULE - 1e-12
    c["covered_share"] = c[f"covered_share_{res.config.main_level}"]
    c["covered"] = c[f"covered_{res.config.main_level}"]
    summary = summarise(c, res.sites, res.config, res.network)
    summary.update(part.summary)
    pop = c["population"].to_numpy(float)
    total = float(pop.sum())
    for level in res.config.levels:
        inpart = float((pop * c[f"covered_share_{level}"]).sum())
        summary["levels"][level]["population_covered_in_part"] = inpart
        summary["levels"][level]["population_share_in_part"] = (
            round(inpart / total, 4) if total else 0.0
        )
    summary["population_covered_point_method"] = res.summary.get("population_covered")
    keep = {k: v for k, v in res.summary.items() if k not in summary}
    return dataclasses.replace(res, communities=c, summary={**keep, **summary}, _cache=res._cache)
