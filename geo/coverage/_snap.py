"""Snap points to the nearest street edge (not the nearest node)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ..network import Network


@dataclass(frozen=True)
class Snap:
    """Where points meet the network.

    Attributes
    ----------
    edge : int64 (P,)
        Index of the nearest edge (-1 for missing points).
    t : float64 (P,)
        Distance in metres along that edge from its ``u`` end to the projected point.
    leg : float64 (P,)
        Straight-line access leg in metres from the point to the edge (NaN if missing).
    x, y : float64 (P,)
        The projected point on the edge, in the network's metric CRS.
    """

    edge: np.ndarray
    t: np.ndarray
    leg: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.edge.size)

    def take(self, idx: np.ndarray) -> Snap:
        return Snap(self.edge[idx], self.t[idx], self.leg[idx], self.x[idx], self.y[idx])


def edge_index(net: Network) -> tuple[np.ndarray, shapely.STRtree]:
    """Projected edge lines and their STRtree, built once per network and kept on it."""
    cached = net.__dict__.get("_sc_edge_index")
    if cached is None:
        lines = net.edge_lines()
        cached = (lines, shapely.STRtree(lines))
        net.__dict__["_sc_edge_index"] = cached
    return cached


def snap_points(net: Network, x: np.ndarray, y: np.ndarray) -> Snap:
    """Snap metric-CRS points to their nearest edges.

    Both directions along the edge are available to the engine: ``t`` metres to ``u`` and
    ``length - t`` to ``v``. ``t`` is scaled to the edge's own ``length`` so that partial
    distances add up exactly to the network's edge lengths.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    edge = np.full(n, -1, np.int64)
    t = np.full(n, np.nan)
    leg = np.full(n, np.nan)
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.any() and net.n_edges:
        lines, tree = edge_index(net)
        pts = shapely.points(x[ok], y[ok])
        (qi, ei), dist = tree.query_nearest(pts, all_matches=False, return_distance=True)
        idx = np.flatnonzero(ok)[qi]
        edge[idx] = ei
        leg[idx] = dist
        along = shapely.line_locate_point(lines[ei], pts[qi])
        proj_len = shapely.length(lines[ei])
        frac = np.divide(along, proj_len, out=np.zeros_like(along), where=proj_len > 0)
        t[idx] = np.clip(frac, 0.0, 1.0) * net.length[ei]
        on = shapely.line_interpolate_point(lines[ei], along)
        px[idx] = shapely.get_x(on)
        py[idx] = shapely.get_y(on)
    return Snap(edge, t, leg, px, py)
