"""Candidate sites: user-supplied points, network nodes thinned on a grid in uncovered areas, and
uncovered community centroids; filtered by snapping distance and the study boundary, deduplicated.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..coverage import CoverageResult, snap_frame
from ..coverage.core import Snap, nearest_sites

logger = logging.getLogger(__name__)

#: Spacing in metres of the grid used to thin generated candidates: one network node per
#: 200 m cell, about a 2-3 minute walk, fine enough for siting a station.
GRID_SPACING_M = 200.0
#: Grid spacing (metres) for a cultural palace's candidates when every community is already
#: covered by other sites (one palace per county: a coarser grid is fine).
PALACE_SPACING_M = 500.0
#: Candidates closer than this (metres) to an earlier one are duplicates.
DEDUPE_M = 15.0
SOURCES = ("file", "generated", "community")


def generate_candidates(
    res: CoverageResult,
    *,
    user: gpd.GeoDataFrame | None = None,
    user_only: bool = False,
    spacing_m: float = GRID_SPACING_M,
    include_communities: bool = True,
    boundary=None,
    around: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Combine and clean candidate sites.

    Parameters
    ----------
    res
        The coverage of the existing sites.
    user
        Candidates from a file (e.g. 融合共建 partner points), with ``site_id``/``name``.
    user_only
        Use only ``user`` (``--candidates-only``).
    spacing_m
        Grid spacing for generated candidates: network nodes within the walk limit of an
        uncovered community, one per cell.
    include_communities
        Also offer the uncovered communities' own locations.
    boundary
        Keep only candidates inside this WGS84 geometry.
    around
        Boolean mask of the communities to generate candidates around (default: the uncovered
        ones on the network); a cultural palace in a fully covered county uses all of them.

    Returns
    -------
    GeoDataFrame
        WGS84 points with ``candidate_id`` (the file's id for user candidates, else empty),
        ``source`` (file/generated/community), ``name``, ``kind``, ``lon``, ``lat``.
    """
    frames = []
    if user is not None and len(user):
        frames.append(_user_frame(user))
    if not user_only:
        frames += _generated_frames(res, spacing_m, include_communities, around)
    if not frames:
        return gpd.GeoDataFrame(
            columns=["candidate_id", "source", "name", "kind", "lon", "lat", "geometry"],
            geometry="geometry",
            crs=4326,
        )
    return _clean(res, gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326), boundary)


def _user_frame(user: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The user's own candidates (e.g. 融合共建 partner points)."""
    u = user.to_crs(4326)
    return gpd.GeoDataFrame(
        {
            "candidate_id": u["site_id"].astype(str) if "site_id" in u else u.index.astype(str),
            "source": "file",
            "name": u.get("name", pd.Series("", index=u.index)).astype(str),
            "kind": u["kind"].astype(str) if "kind" in u else "partner",
        },
        geometry=u.geometry.to_numpy(),
        crs=4326,
    )


def _generated_frames(
    res: CoverageResult, spacing_m: float, include_communities: bool, around=None
) -> list[gpd.GeoDataFrame]:
    """Network nodes some uncovered community can walk to, one per grid cell, and the uncovered
    communities' own locations."""
    net, cfg = res.network, res.config
    unc = ~res.communities["covered"].to_numpy() & ~res.communities["off_network"].to_numpy()
    if around is not None:
        unc = np.asarray(around, bool)
    cs = res.community_snap.take(np.flatnonzero(unc))
    if not len(cs):
        return []
    field = nearest_sites(net, cs, limit=cfg.limit_m)
    nodes = np.flatnonzero(np.isfinite(field.dist))
    xy = net.xy[nodes]
    cell = np.floor(xy / spacing_m).astype(np.int64)
    d = np.hypot(*(xy - (cell + 0.5) * spacing_m).T)
    order = np.lexsort((d, cell[:, 1], cell[:, 0]))
    c = cell[order]
    pick = nodes[order[np.r_[True, (c[1:] != c[:-1]).any(axis=1)]]]
    frames = [
        gpd.GeoDataFrame(
            {"candidate_id": [""] * pick.size, "source": "generated", "name": "", "kind": ""},
            geometry=shapely.points(net.lon[pick], net.lat[pick]),
            crs=4326,
        )
    ]
    if include_communities:
        cc = res.communities[unc]
        frames.append(
            gpd.GeoDataFrame(
                {
                    "candidate_id": [""] * len(cc),
                    "source": "community",
                    "name": cc["name"].astype(str).to_numpy(),
                    "kind": "",
                },
                geometry=cc.geometry.representative_point().to_numpy(),
                crs=4326,
            )
        )
    return frames


def _clean(res: CoverageResult, cand: gpd.GeoDataFrame, boundary) -> gpd.GeoDataFrame:
    """Drop empty, outside-boundary and off-network candidates; dedupe (file ones win)."""
    cand = cand[~(cand.geometry.is_empty | cand.geometry.isna())]
    n0 = len(cand)
    if boundary is not None:
        cand = cand[shapely.intersects(boundary, cand.geometry.to_numpy())]
    cand = snap_dedupe(res, cand)
    logger.info(
        "%d candidates (%s) from %d before filtering and deduplication",
        len(cand),
        cand["source"].value_counts().to_dict(),
        n0,
    )
    return cand


def snap_dedupe(res: CoverageResult, cand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop candidates farther than ``max_snap_m`` from the network, then any closer
    than ``DEDUPE_M`` to an earlier kept one; adds ``lon``/``lat`` columns."""
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


def candidate_snap(res: CoverageResult, cand: gpd.GeoDataFrame) -> Snap:
    return snap_frame(res.network, cand, "candidates")
