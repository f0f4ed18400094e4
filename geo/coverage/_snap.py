"""Snap points to the nearest street edge (not the nearest node), exactly and fast.

Edges are broken into straight segments, and every segment is listed in the cells of a uniform
grid (:data:`CELL_M` metres) that it passes through. A point first measures the segments of
its own cell; that distance ``d`` bounds the answer, so it then reads only the cells nearer
than ``d`` in a block of cells around it, widening the block until every cell outside it is
farther than the best distance found. The result equals a brute-force search over all
segments (the hypothesis test checks this); everything is array work in NumPy, float64.

The index (segments and grid) is built once per network and kept in :data:`INDEX_CACHE`, an
explicit cache keyed weakly by the network, so it is dropped with the network.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from ..network import Network
from ._segment_grid import CELL_M, SegmentIndex, build_segment_index, nearest_segments

__all__ = [
    "CELL_M",
    "INDEX_CACHE",
    "IndexCache",
    "SegmentIndex",
    "Snap",
    "edge_lines",
    "nearest_segments",
    "segment_index",
    "snap_points",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_T = TypeVar("_T")


class IndexCache:
    """Per-network cache of derived indexes (the segment grid, the edge lines).

    Keyed weakly by the network, so an entry goes when its network does. One instance,
    :data:`INDEX_CACHE`, serves the package; :meth:`clear` drops a network's entries (used by
    benchmarks that time the index build).
    """

    def __init__(self) -> None:
        self._data: weakref.WeakKeyDictionary[Network, dict[str, Any]] = weakref.WeakKeyDictionary()

    def get(self, net: Network, key: str, build: Callable[[Network], _T]) -> _T:
        """The cached ``key`` of ``net``, built with ``build(net)`` the first time."""
        entries = self._data.setdefault(net, {})
        if key not in entries:
            entries[key] = build(net)
        return entries[key]  # type: ignore[no-any-return]

    def clear(self, net: Network | None = None) -> None:
        """Drop the entries of ``net`` (all networks when None)."""
        if net is None:
            self._data.clear()
        else:
            self._data.pop(net, None)


#: The package's cache of per-network indexes.
INDEX_CACHE = IndexCache()


@dataclass(frozen=True)
class Snap:
    """Where points meet the network.

    Attributes
    ----------
    edge : int64 (P,)
        Index of the nearest edge (-1 for missing points).
    t : float64 (P,)
        Distance in metres along that edge from its ``u`` end to the projected point, scaled to
        the edge's ``length``.
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


def segment_index(net: Network) -> SegmentIndex:
    """The segment grid of ``net`` used for snapping (metres, metric CRS).

    Built once per network and kept in :data:`INDEX_CACHE` (dropped with the network).
    """
    return INDEX_CACHE.get(net, "segment_index", build_segment_index)


def _project(
    ix: SegmentIndex, seg: IntArray, px: FloatArray, py: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Distance (m) from points to segments, and the parameter (0..1) of the foot point."""
    dx, dy = ix.dx[seg], ix.dy[seg]
    l2 = dx * dx + dy * dy
    t = np.divide(
        (px - ix.ax[seg]) * dx + (py - ix.ay[seg]) * dy, l2, out=np.zeros_like(l2), where=l2 > 0
    )
    t = np.clip(t, 0.0, 1.0)
    fx = ix.ax[seg] + t * dx
    fy = ix.ay[seg] + t * dy
    return np.hypot(px - fx, py - fy), t


def snap_points(net: Network, x: np.ndarray, y: np.ndarray) -> Snap:
    """Snap metric-CRS points to their nearest edges.

    Both directions along the edge are then available to the engine: ``t`` metres to ``u``
    and ``length - t`` to ``v``.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    edge = np.full(n, -1, np.int64)
    t_out = np.full(n, np.nan)
    leg = np.full(n, np.nan)
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if ok.size == 0 or net.n_edges == 0:
        return Snap(edge, t_out, leg, px, py)
    ix = segment_index(net)
    # points in cell order read the grid in memory order (cache-friendly)
    ok = ok[
        np.argsort(
            np.floor((y[ok] - ix.y0) / ix.cell_m) * ix.nx + np.floor((x[ok] - ix.x0) / ix.cell_m),
            kind="stable",
        )
    ]
    qx, qy = x[ok], y[ok]
    _, best_seg = nearest_segments(ix, qx, qy)
    best_d, best_t = _project(ix, best_seg, qx, qy)
    e = ix.seg_edge[best_seg]
    along = ix.seg_along[best_seg] + best_t * ix.seg_len[best_seg]
    plen = ix.edge_proj_len[e]
    frac = np.divide(along, plen, out=np.zeros_like(along), where=plen > 0)
    edge[ok] = e
    t_out[ok] = np.clip(frac, 0.0, 1.0) * net.length[e]
    leg[ok] = best_d
    px[ok] = ix.ax[best_seg] + best_t * ix.dx[best_seg]
    py[ok] = ix.ay[best_seg] + best_t * ix.dy[best_seg]
    return Snap(edge, t_out, leg, px, py)


def edge_lines(net: Network) -> np.ndarray:
    """Projected edge LineStrings (shapely), built once per network; for drawing isochrones."""
    return INDEX_CACHE.get(net, "edge_lines", lambda n: n.edge_lines())
