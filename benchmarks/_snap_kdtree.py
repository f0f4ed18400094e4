"""Baseline for ``engine_speed.py --only snap``: the k-d tree snapper used before the grid.

Kept verbatim (imports aside) from geo/coverage/_snap.py as of 31ef520, so that the benchmark
compares old and new in the same run. Not used by the package.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from geo.network import Network

#: Longest indexed piece of a segment, in metres. Short pieces make the k nearest midpoints
#: prove the answer far more often (25 m: ~3% of points need a second round, against 60%).
PIECE_M = 25.0
_K = 8
#: Query points are sorted by cells of this size (metres) before the k-d tree query: nearby
#: queries then walk the same tree nodes, which is 2-3x faster than random order.
_SORT_CELL_M = 250.0

#: Per-network caches (segment index, edge lines), dropped with the network.
_CACHE: weakref.WeakKeyDictionary[Network, dict[str, Any]] = weakref.WeakKeyDictionary()


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


@dataclass(frozen=True)
class SegmentIndex:
    """Straight segments of every edge (metric CRS) and a k-d tree over piece midpoints."""

    ax: np.ndarray
    ay: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    seg_len: np.ndarray
    seg_edge: np.ndarray
    seg_along: np.ndarray  # projected metres from the edge's start to the segment's start
    edge_proj_len: np.ndarray
    piece_seg: np.ndarray
    half: float
    tree: cKDTree


def segment_index(net: Network) -> SegmentIndex:
    """Build (once per network, kept on it) the segment index used for snapping."""
    cache = _CACHE.setdefault(net, {})
    if "segment_index" in cache:
        return cache["segment_index"]  # type: ignore[no-any-return]
    xy = net.geom_xy
    off = net.geom_offsets
    counts = np.diff(off)
    is_start = np.ones(xy.shape[0], bool)
    is_start[off[1:] - 1] = False
    a = np.flatnonzero(is_start)
    ax, ay = xy[a, 0], xy[a, 1]
    dx, dy = xy[a + 1, 0] - ax, xy[a + 1, 1] - ay
    seg_len = np.hypot(dx, dy)
    seg_edge = np.repeat(np.arange(net.n_edges), counts - 1)
    csum = np.cumsum(seg_len)
    first = np.r_[0, np.cumsum(counts - 1)[:-1]]
    edge_start_sum = np.where(
        counts > 1,
        csum[np.minimum(first, csum.size - 1)] - seg_len[np.minimum(first, seg_len.size - 1)],
        0.0,
    )
    seg_along = csum - seg_len - edge_start_sum[seg_edge]
    edge_proj_len = np.bincount(seg_edge, weights=seg_len, minlength=net.n_edges)
    n_piece = np.maximum(np.ceil(seg_len / PIECE_M).astype(np.int64), 1)
    piece_seg = np.repeat(np.arange(seg_len.size), n_piece)
    # position of each piece's midpoint within its segment, as a fraction
    k = np.arange(piece_seg.size) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
    frac = (k + 0.5) / n_piece[piece_seg]
    mids = np.column_stack(
        [ax[piece_seg] + frac * dx[piece_seg], ay[piece_seg] + frac * dy[piece_seg]]
    )
    half = float((seg_len / n_piece).max() / 2) if seg_len.size else 0.0
    tree = cKDTree(mids, balanced_tree=False, compact_nodes=False)
    idx = SegmentIndex(
        ax, ay, dx, dy, seg_len, seg_edge, seg_along, edge_proj_len, piece_seg, half, tree
    )
    cache["segment_index"] = idx
    return idx


def _project(ix: SegmentIndex, seg: np.ndarray, px: np.ndarray, py: np.ndarray):
    """Distance from points to segments, and the parameter (0..1) of the foot point."""
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
    # spatially sorted queries (locality in the tree); results are put back in input order
    ok = ok[np.lexsort((y[ok] // _SORT_CELL_M, x[ok] // _SORT_CELL_M))]
    qx, qy = x[ok], y[ok]
    best_d = np.full(ok.size, np.inf)
    best_seg = np.zeros(ok.size, np.int64)
    best_t = np.zeros(ok.size)
    todo = np.arange(ok.size)
    n_pieces = ix.piece_seg.size
    for k in (_K, 4 * _K, 16 * _K):
        k = min(k, n_pieces)
        rk, cand = ix.tree.query(np.column_stack([qx[todo], qy[todo]]), k=k)
        rk, cand = rk.reshape(todo.size, k), cand.reshape(todo.size, k)
        seg = ix.piece_seg[cand]
        d, tt = _project(ix, seg.ravel(), np.repeat(qx[todo], k), np.repeat(qy[todo], k))
        d, tt = d.reshape(seg.shape), tt.reshape(seg.shape)
        j = np.argmin(d, axis=1)
        rows = np.arange(todo.size)
        best_d[todo], best_seg[todo], best_t[todo] = d[rows, j], seg[rows, j], tt[rows, j]
        if k == n_pieces:
            todo = todo[:0]
            break
        # proven when no unseen piece can be closer than the best found
        todo = todo[rk[:, -1] < best_d[todo] + ix.half]
        if todo.size == 0:
            break
    for i in todo:  # rare: settle with a ball query
        near = ix.tree.query_ball_point((qx[i], qy[i]), best_d[i] + ix.half + 1e-9)
        sg = ix.piece_seg[np.asarray(near, np.int64)]
        dd, t2 = _project(ix, sg, np.full(sg.size, qx[i]), np.full(sg.size, qy[i]))
        m = int(np.argmin(dd))
        best_d[i], best_seg[i], best_t[i] = dd[m], sg[m], t2[m]
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
    cache = _CACHE.setdefault(net, {})
    if "edge_lines" not in cache:
        cache["edge_lines"] = net.edge_lines()
    return cache["edge_lines"]  # type: ignore[no-any-return]
