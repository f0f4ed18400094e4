"""Walking coverage of communities by service sites: the GeoDataFrame layer over the engine.

>>> res = compute_coverage(net, sites, communities, config=Config(minutes=15))
>>> res.communities[["community_id", "walk_distance_m", "covered"]]

Coverage numbers come from network distances (never from polygons): a community is covered at a
level when its walk distance to the nearest site, including both straight-line access legs, is
at most that level's limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import CRSError, InputError
from ..config import Config
from ..network import Network, build_network, from_networkx
from .core import (
    EPS_M,
    NodeField,
    Reach,
    Snap,
    nearest_sites,
    point_distances,
    reach_pairs,
    site_reach,
    snap_points,
)

logger = logging.getLogger(__name__)

__all__ = ["CoverageResult", "Snap", "as_network", "compute_coverage", "snap_frame"]


def as_network(network: Any, config: Config) -> Network:
    """Accept a :class:`Network`, a networkx graph, or any source :func:`build_network` reads."""
    if isinstance(network, Network):
        return network
    if hasattr(network, "edges") and hasattr(network, "nodes"):
        return from_networkx(network)
    return build_network(network, config=config)


def _points_wgs84(gdf: gpd.GeoDataFrame, what: str) -> np.ndarray:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"{what} must be a GeoDataFrame",
            value=type(gdf).__name__,
            fix=f"load it with geo.load_{what}(path).data",
        )
    if gdf.crs is None:
        raise CRSError(
            f"{what} have no CRS",
            column="crs",
            fix=f"set it, e.g. {what}.set_crs(4326) for longitude/latitude, or load "
            f"the file with geo.load_{what}(..., crs='gcj02') for Amap coordinates",
        )
    g = (
        gdf.geometry.to_crs(4326).to_numpy()
        if not gdf.crs.equals(4326)
        else gdf.geometry.to_numpy()
    )
    missing = shapely.is_missing(g) | shapely.is_empty(g)
    pts = np.where(missing, None, g)
    is_pt = shapely.get_type_id(pts) == 0
    return np.where(is_pt | missing, pts, shapely.point_on_surface(pts))


def snap_frame(net: Network, gdf: gpd.GeoDataFrame, what: str) -> Snap:
    """Snap a GeoDataFrame's points (polygons: a point on their surface) to ``net``."""
    pts = _points_wgs84(gdf, what)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    x, y = net.project(lon, lat)
    return snap_points(net, x, y)


def _column(gdf: pd.DataFrame, name: str, default) -> np.ndarray:
    if name in gdf.columns:
        return gdf[name].to_numpy()
    return np.asarray(default)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Everything a coverage run produced.

    Attributes
    ----------
    communities
        One row per community: ``community_id``, ``name``, ``population``, ``snap_distance_m``
        (access leg), ``walk_distance_m`` (to the nearest site, metres), ``walk_time_min``,
        ``nearest_site_id``/``_kind``/``_name``, ``covered`` (main level),
        ``covered_<level>`` for every level, ``sites_within_reach`` (redundancy at the main
        level) and ``off_network``.
    sites
        One row per site: ``snap_distance_m``, ``off_network``, ``communities_served`` and
        ``population_served`` (its catchment: communities for which it is the nearest covering
        site), ``communities_within_reach`` and ``population_within_reach`` (all in reach).
    summary
        Totals and shares per level, counts of off-network points; JSON-ready.
    """

    communities: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    summary: dict[str, Any]
    config: Config
    network: Network
    site_snap: Snap
    community_snap: Snap
    usable_sites: np.ndarray
    node_field: NodeField
    _cache: dict = field(default_factory=dict, repr=False)

    def reach(self, limit_m: float | None = None) -> Reach:
        """Per-site reach (usable sites, in ``usable_sites`` order) within ``limit_m`` metres."""
        limit = float(limit_m if limit_m is not None else self.config.limit_m)
        key = ("reach", limit)
        if key not in self._cache:
            self._cache[key] = site_reach(
                self.network, self.site_snap.take(self.usable_sites), limit
            )
        return self._cache[key]

    def isochrones(self, **kwargs: Any) -> gpd.GeoDataFrame:
        """Isochrone polygons; see :func:`geo.coverage.isochrones.isochrones`."""
        from .isochrones import isochrones

        return isochrones(self, **kwargs)


def compute_coverage(
    network: Any,
    sites: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    config: Config | None = None,
    redundancy: bool = True,
) -> CoverageResult:
    """Walk distance from every community to its nearest site, and coverage at every level.

    Parameters
    ----------
    network
        A :class:`~geo.network.Network`, an osmnx graph, or a source path.
    sites, communities
        GeoDataFrames with a CRS (e.g. from :func:`geo.load_sites`); they may differ in CRS.
        Community polygons are measured from a point on their surface.
    config
        Walk time, speed, levels and ``max_snap_m``.
    redundancy
        Also count, for every community, the sites within the main limit (one local search per
        site), and each site's reach.

    Returns
    -------
    CoverageResult
    """
    cfg = config or Config()
    net = as_network(network, cfg)
    s_snap = snap_frame(net, sites, "sites")
    c_snap = snap_frame(net, communities, "communities")
    s_ok, usable = _usable_sites(s_snap, len(sites), cfg)
    u_snap = s_snap.take(usable)
    site_field = nearest_sites(net, u_snap)
    dist, best = point_distances(net, site_field, c_snap, u_snap)
    c_off = (c_snap.edge < 0) | ~(c_snap.leg <= cfg.max_snap_m)
    # off the network: no walk distance (a point in the sea is not "7,000 km away"), no site
    dist = np.where(c_off, np.inf, dist)
    best = np.where(c_off, -1, best)
    # index of each community's nearest site in ``sites`` (-1: none)
    site_global = np.where(best >= 0, usable[np.maximum(best, 0)] if usable.size else -1, -1)
    out = _community_table(communities, c_snap, dist, cfg)
    _add_nearest_site(out, sites, site_global)
    _add_levels(out, dist, c_off, cfg)
    site_out = _site_table(sites, s_snap, s_ok, out, site_global)
    result = CoverageResult(out, site_out, {}, cfg, net, s_snap, c_snap, usable, site_field)
    if redundancy:
        _add_redundancy(result, c_off)
    result.summary.update(summarise(out, site_out, cfg, net))
    return result


def _usable_sites(s_snap: Snap, n_sites: int, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Which sites are on the network within ``max_snap_m`` (mask, and their indices)."""
    s_ok = (s_snap.edge >= 0) & (s_snap.leg <= cfg.max_snap_m)
    usable = np.flatnonzero(s_ok)
    if n_sites == 0:
        logger.warning("no sites given: every community is uncovered")
    elif usable.size < n_sites:
        logger.warning(
            "%d of %d sites are more than %.0f m from any street (or have no "
            "geometry) and serve no one",
            n_sites - usable.size,
            n_sites,
            cfg.max_snap_m,
        )
    return s_ok, usable


def _community_table(
    communities: gpd.GeoDataFrame, c_snap: Snap, dist: np.ndarray, cfg: Config
) -> gpd.GeoDataFrame:
    """Identity columns, the file's own columns, then access leg and walk distance/time."""
    n_c = len(communities)
    out = gpd.GeoDataFrame(geometry=communities.geometry.to_crs(4326).to_numpy(), crs=4326)
    out.insert(
        0,
        "community_id",
        _column(communities, "community_id", communities.index.astype(str)).astype(str),
    )
    out.insert(1, "name", _column(communities, "name", out["community_id"]).astype(str))
    out.insert(2, "population", _column(communities, "population", np.ones(n_c)).astype(float))
    for extra in communities.columns:  # the file's own columns (街道, 备注 ...) pass through
        if extra not in out.columns and extra != communities.geometry.name:
            out[extra] = communities[extra].to_numpy()
    out["snap_distance_m"] = c_snap.leg
    out["walk_distance_m"] = np.where(np.isfinite(dist), dist, np.nan)
    out["walk_time_min"] = out["walk_distance_m"] / cfg.metres_per_minute
    return out


def _add_nearest_site(
    out: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, site_global: np.ndarray
) -> None:
    """The nearest site's id, kind and name (empty when none is reachable)."""
    n_s = len(sites)
    sid = _column(sites, "site_id", sites.index.astype(str)).astype(str)
    labels = {
        "nearest_site_id": sid,
        "nearest_site_kind": _column(sites, "kind", np.full(n_s, "station")).astype(str),
        "nearest_site_name": _column(sites, "name", sid).astype(str),
    }
    has = site_global >= 0
    for col, values in labels.items():
        out[col] = np.where(has, values[np.maximum(site_global, 0)] if n_s else "", "")


def _add_levels(out: gpd.GeoDataFrame, dist: np.ndarray, c_off: np.ndarray, cfg: Config) -> None:
    """``off_network``, ``covered_<level>`` for every level and ``covered`` (main level)."""
    out["off_network"] = c_off
    for level, lim in cfg.levels.items():
        out[f"covered_{level}"] = (dist <= lim + EPS_M) & ~c_off
    out["covered"] = out[f"covered_{cfg.main_level}"]


def _site_table(
    sites: gpd.GeoDataFrame,
    s_snap: Snap,
    s_ok: np.ndarray,
    out: gpd.GeoDataFrame,
    site_global: np.ndarray,
) -> gpd.GeoDataFrame:
    """Sites in WGS84 with their access leg and catchment (communities it is nearest for)."""
    n_s = len(sites)
    site_out = gpd.GeoDataFrame(sites.copy()).to_crs(4326)
    site_out["snap_distance_m"] = s_snap.leg
    site_out["off_network"] = ~s_ok
    served = out["covered"].to_numpy() & (site_global >= 0)
    pop = out["population"].to_numpy(float)
    site_out["communities_served"] = np.bincount(site_global[served], minlength=n_s)[:n_s]
    site_out["population_served"] = np.bincount(
        site_global[served], weights=pop[served], minlength=n_s
    )[:n_s]
    return site_out


def _add_redundancy(result: CoverageResult, c_off: np.ndarray) -> None:
    """Sites within the main limit of every community, and every site's reach."""
    out, site_out = result.communities, result.sites
    n_c, n_s = len(out), len(site_out)
    u_snap = result.site_snap.take(result.usable_sites)
    s, p, _ = reach_pairs(result.network, result.reach(), u_snap, result.community_snap)
    keep = ~c_off[p]
    s, p = s[keep], p[keep]
    out["sites_within_reach"] = np.bincount(p, minlength=n_c)[:n_c]
    g = result.usable_sites[s]
    pop = out["population"].to_numpy(float)
    site_out["communities_within_reach"] = np.bincount(g, minlength=n_s)[:n_s]
    site_out["population_within_reach"] = np.bincount(g, weights=pop[p], minlength=n_s)[:n_s]


def summarise(out: pd.DataFrame, sites: pd.DataFrame, cfg: Config, net: Network) -> dict:
    """JSON-ready totals: counts and population within every level, and their shares."""
    pop = out["population"].to_numpy(float)
    total = float(pop.sum())
    levels = {}
    for level, lim in cfg.levels.items():
        cov = out[f"covered_{level}"].to_numpy(bool)
        levels[level] = {
            "limit_m": round(lim, 1),
            "communities_covered": int(cov.sum()),
            "communities_share": round(float(cov.mean()) if len(cov) else 0.0, 4),
            "population_covered": float(pop[cov].sum()),
            "population_share": round(float(pop[cov].sum() / total) if total else 0.0, 4),
        }
    main = levels[cfg.main_level]
    unc = ~out["covered"].to_numpy(bool)
    far = out.loc[unc, "walk_distance_m"]
    return {
        "communities": len(out),
        "population": total,
        "sites": len(sites),
        "sites_by_kind": sites["kind"].value_counts().to_dict() if "kind" in sites else {},
        "sites_off_network": int(sites["off_network"].sum()) if len(sites) else 0,
        "communities_off_network": int(out["off_network"].sum()),
        "main_level": cfg.main_level,
        "limit_m": round(cfg.limit_m, 1),
        "walk_speed_kmh": cfg.walk_speed_kmh,
        "max_snap_m": cfg.max_snap_m,
        "communities_covered": main["communities_covered"],
        "population_covered": main["population_covered"],
        "population_covered_share": main["population_share"],
        "uncovered_median_walk_m": round(float(far.median()), 1) if far.notna().any() else None,
        "unreachable_communities": int(out["walk_distance_m"].isna().sum()),
        "levels": levels,
        "metric_crs": net.metric_crs.to_string(),
        "network": {k: v for k, v in net.summary().items() if k != "bbox"},
    }
