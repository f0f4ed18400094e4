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
from ..coverage._engine import nearest_sites
from ..coverage._snap import Snap

logger = logging.getLogger(__name__)

#: Spacing in metres of the grid used to thin generated candidates: one network node per
#: 200 m cell, about a 2-3 minute walk, fine enough for siting a station.
GRID_SPACING_M = 200.0
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

    Returns
    -------
    GeoDataFrame
        WGS84 points with ``candidate_id`` (the file's id for user candidates, else empty),
        ``source`` (file/generated/community), ``name``, ``kind``, ``lon``, ``lat``.
    """
    net, cfg = res.network, res.config
    frames = []
    if user is not None and len(user):
        u = user.to_crs(4326)
        frames.append(
            gpd.GeoDataFrame(
                {
                    "candidate_id": u["site_id"].astype(str)
                    if "site_id" in u
                    else u.index.astype(str),
                    "source": "file",
                    "name": u.get("name", pd.Series("", index=u.index)).astype(str),
                    "kind": u["kind"].astype(str) if "kind" in u else "partner",
                },
                geometry=u.geometry.to_numpy(),
                crs=4326,
            )
        )
    if not user_only:
        unc = ~res.communities["covered"].to_numpy() & ~res.communities["off_network"].to_numpy()
        cs = res.community_snap.take(np.flatnonzero(unc))
        if len(cs):
            # nodes that some uncovered community can walk to within the limit
            field = nearest_sites(net, cs, limit=cfg.limit_m)
            nodes = np.flatnonzero(np.isfinite(field.dist))
            xy = net.xy[nodes]
            cell = np.floor(xy / spacing_m).astype(np.int64)
            centre = (cell + 0.5) * spacing_m
            d = np.hypot(*(xy - centre).T)
            order = np.lexsort((d, cell[:, 1], cell[:, 0]))
            c = cell[order]
            first = np.r_[True, (c[1:] != c[:-1]).any(axis=1)]
            pick = nodes[order[first]]
            frames.append(
                gpd.GeoDataFrame(
                    {
                        "candidate_id": [""] * pick.size,
                        "source": "generated",
                        "name": "",
                        "kind": "",
                    },
                    geometry=shapely.points(net.lon[pick], net.lat[pick]),
                    crs=4326,
                )
            )
            if include_communities:
                cc = res.communities[unc]
                pts = cc.geometry.representative_point().to_numpy()
                frames.append(
                    gpd.GeoDataFrame(
                        {
                            "candidate_id": [""] * len(cc),
                            "source": "community",
                            "name": cc["name"].astype(str).to_numpy(),
                            "kind": "",
                        },
                        geometry=pts,
                        crs=4326,
                    )
                )
    if not frames:
        return gpd.GeoDataFrame(
            columns=["candidate_id", "source", "name", "kind", "lon", "lat", "geometry"],
            geometry="geometry",
            crs=4326,
        )
    cand = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    cand = cand[~(cand.geometry.is_empty | cand.geometry.isna())]
    n0 = len(cand)
    if boundary is not None:
        cand = cand[shapely.intersects(boundary, cand.geometry.to_numpy())]
    snap = snap_frame(net, cand, "candidates")
    near = snap.leg <= cfg.max_snap_m
    cand = cand[near]
    # dedupe in order: file candidates win over generated ones
    xy = np.column_stack(net.project(cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy()))
    keep = np.ones(len(cand), bool)
    for i, j in sorted(cKDTree(xy).query_pairs(DEDUPE_M)):
        if keep[i] and keep[j]:
            keep[j] = False
    cand = cand[keep].reset_index(drop=True)
    cand["lon"], cand["lat"] = cand.geometry.x, cand.geometry.y
    logger.info(
        "%d candidates (%s) from %d before filtering and deduplication",
        len(cand),
        cand["source"].value_counts().to_dict(),
        n0,
    )
    return cand


def candidate_snap(res: CoverageResult, cand: gpd.GeoDataFrame) -> Snap:
    return snap_frame(res.network, cand, "candidates")
