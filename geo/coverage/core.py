"""The public array core of coverage: snapping, the multi-source search, reach pairs, pieces.

Everything here takes NumPy/SciPy arrays and returns arrays, in the spirit of spopt's
``from_cost_matrix``: no GeoDataFrames (that wrapper is :func:`geo.coverage.compute_coverage`).
All distances are **metres** of walk along the network (great-circle edge lengths), and
coordinates are metres in the network's metric CRS (:attr:`Network.metric_crs`).

Points (sites, communities) sit *on edges*: a point on edge ``e = (u, v)`` at ``t`` metres from
``u`` with an access leg ``leg`` is ``leg + t`` from ``u`` and ``leg + length[e] - t`` from ``v``.

>>> snap = snap_points(net, x, y)                      # points -> edges
>>> field = nearest_sites(net, snap.take(site_idx))     # one multi-source Dijkstra
>>> dist, site = point_distances(net, field, snap, snap.take(site_idx))
>>> reach = site_reach(net, sites, 1000.0)              # nodes each site reaches in 1 km
>>> s, p, d = reach_pairs(net, reach, sites, points)    # (site, point, metres) within 1 km

* :func:`snap_points` puts points on their nearest edge (exact: the nearest point of any
  edge, not the nearest node), reading a grid of segments (:func:`segment_index`, built once
  per network and kept in :data:`INDEX_CACHE`; :func:`nearest_segments` is the search).
* :func:`nearest_sites` runs **one** multi-source Dijkstra from every site at once (each site
  is a virtual node joined to its edge's two ends), giving every node its distance to the
  nearest site and that site's index.
* :func:`site_reach` runs a bounded Dijkstra per site on a **local** subgraph: the nodes inside
  a circle that must contain everything reachable, so work grows with the area reached.
* :func:`edge_pieces` turns a reach into the street pieces walked: whole edges, and partly
  walked edges cut where the walk runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped,unused-ignore]
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped,unused-ignore]

from ..network import ZERO_LENGTH_M, Network
from ..network import concat_ranges as _ranges
from ._snap import (
    CELL_M,
    INDEX_CACHE,
    IndexCache,
    SegmentIndex,
    Snap,
    nearest_segments,
    segment_index,
    snap_points,
)

if TYPE_CHECKING:
    from scipy.spatial import cKDTree  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "CELL_M",
    "EPS_M",
    "INDEX_CACHE",
    "IndexCache",
    "NodeField",
    "Reach",
    "SegmentIndex",
    "Snap",
    "augment_graph",
    "edge_pieces",
    "endpoint_costs",
    "nearest_segments",
    "nearest_sites",
    "point_distances",
    "reach_matrix",
    "reach_pairs",
    "same_edge_pairs",
    "segment_index",
    "site_reach",
    "snap_points",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Slack on the Euclidean pre-filter radius. UTM's scale factor is at most ~1.001 inside a
#: zone, so network distance L (great-circle metres) spans at most 1.001 L projected metres.
_RADIUS_SLACK = 1.002
#: Distances equal to a limit within this many metres count as within it (float noise).
EPS_M = 1e-6


def endpoint_costs(net: Network, snap: Snap) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Each point's edge ends and its walk to each.

    Parameters
    ----------
    net
        The network.
    snap
        Points on edges (all with ``edge >= 0``).

    Returns
    -------
    u, v : int64 (M,)
        The two end nodes of each point's edge.
    cost_u, cost_v : float64 (M,)
        Metres of walk from the point to ``u`` (``leg + t``) and to ``v``
        (``leg + length - t``), access leg included.
    """
    e = snap.edge
    length = np.asarray(net.length, np.float64)
    return (
        np.asarray(net.edge_u[e], np.int64),
        np.asarray(net.edge_v[e], np.int64),
        snap.leg + snap.t,
        snap.leg + (length[e] - snap.t),
    )


def augment_graph(
    csr: sp.csr_matrix, heads_u: IntArray, heads_v: IntArray, cost_u: FloatArray, cost_v: FloatArray
) -> sp.csr_matrix:
    """The graph with one virtual source node per point appended, joined to its edge's ends.

    Parameters
    ----------
    csr
        N x N graph, edge weights in metres.
    heads_u, heads_v : int64 (K,)
        The two nodes each point is joined to (from :func:`endpoint_costs`).
    cost_u, cost_v : float64 (K,)
        Metres from each point to ``heads_u`` / ``heads_v`` (at least ``ZERO_LENGTH_M``).

    Returns
    -------
    scipy.sparse.csr_matrix
        (N + K) x (N + K) graph: node ``N + i`` is point ``i``, with directed arcs out of it
        only, so a search from it (``dijkstra(..., directed=True, indices=N + i)``) gives the
        point's walk to every node and no walk passes through another point.
    """
    n = int(csr.shape[0])
    k = int(heads_u.size)
    cols = np.column_stack([heads_u, heads_v]).ravel()
    vals = np.maximum(np.column_stack([cost_u, cost_v]).ravel(), ZERO_LENGTH_M)
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + 2 * np.arange(1, k + 1)])
    return sp.csr_matrix(
        (np.concatenate([csr.data, vals]), np.concatenate([csr.indices, cols]), indptr),
        shape=(n + k, n + k),
    )


#: The names before they were public (``geo.coverage._engine`` re-exports them).
_endpoint_costs = endpoint_costs
_augment = augment_graph


@dataclass(frozen=True)
class NodeField:
    """Walk distance from every node to its nearest source, and which source.

    Attributes
    ----------
    dist : float64 (N,)
        Metres to the nearest source (``inf``: unreachable or beyond the search limit).
    source : int64 (N,)
        Index of that source in the sources given (-1: none).
    """

    dist: FloatArray
    source: IntArray


def nearest_sites(net: Network, sites: Snap, *, limit: float | None = None) -> NodeField:
    """Multi-source Dijkstra from all sites at once.

    Parameters
    ----------
    net
        The network.
    sites
        Snapped sites (all must be on an edge: ``edge >= 0``).
    limit
        Stop exploring beyond this many metres (None: the whole network, so that uncovered
        points still get their true distance).

    Returns
    -------
    NodeField
        Metres from every node to its nearest site, and that site's index in ``sites``.
    """
    n = net.n_nodes
    if len(sites) == 0:
        return NodeField(np.full(n, np.inf), np.full(n, -1, np.int64))
    u, v, cu, cv = _endpoint_costs(net, sites)
    aug = _augment(net.csr, u, v, cu, cv)
    dist, _, src = dijkstra(
        aug,
        directed=True,
        indices=np.arange(n, n + len(sites)),
        min_only=True,
        limit=np.inf if limit is None else float(limit),
        return_predecessors=True,
    )
    src = np.where(src >= n, src - n, -1)
    return NodeField(np.asarray(dist[:n], np.float64), np.asarray(src[:n], np.int64))


def point_distances(
    net: Network, field: NodeField, points: Snap, sites: Snap
) -> tuple[FloatArray, IntArray]:
    """Walk distance (m) from each point to its nearest site, and that site's index.

    Includes both access legs, both directions along the point's edge, and sites on the same
    edge as the point (reached directly along it). Points off the network get ``inf`` / -1.
    """
    m = len(points)
    dist = np.full(m, np.inf)
    best = np.full(m, -1, np.int64)
    on = points.edge >= 0
    if not on.any():
        return dist, best
    p = points.take(np.flatnonzero(on))
    u, v, cu, cv = _endpoint_costs(net, p)
    du = field.dist[u] + cu
    dv = field.dist[v] + cv
    d = np.minimum(du, dv)
    b = np.where(du <= dv, field.source[u], field.source[v])
    b = np.where(np.isfinite(d), b, -1)
    ip, js, direct = same_edge_pairs(net, p, sites)
    if ip.size:
        order = np.lexsort((direct, ip))
        ip, js, direct = ip[order], js[order], direct[order]
        first = np.r_[True, ip[1:] != ip[:-1]]
        ip, js, direct = ip[first], js[first], direct[first]
        better = direct < d[ip]
        d[ip[better]] = direct[better]
        b[ip[better]] = js[better]
    idx = np.flatnonzero(on)
    dist[idx] = d
    best[idx] = b
    return dist, best


def same_edge_pairs(
    net: Network, points: Snap, sites: Snap
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (point, site) pair snapped to the same edge, with the direct walk (m) between
    them along that edge (both access legs included; a self-loop may go either way round)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not len(sites) or not len(points):
        return empty
    has = np.zeros(net.n_edges + 1, bool)  # index -1 (missing) lands on the spare slot
    has[sites.edge] = True
    has[-1] = False
    cand = np.flatnonzero(has[points.edge])  # the few points sharing an edge with a site
    if cand.size == 0:
        return empty
    order = np.argsort(sites.edge, kind="stable")
    se = sites.edge[order]
    pe = points.edge[cand]
    lo = np.searchsorted(se, pe, "left")
    cnt = np.searchsorted(se, pe, "right") - lo
    ip = np.repeat(cand, cnt)
    js = order[_ranges(lo, cnt)]
    e = points.edge[ip]
    length = np.asarray(net.length, np.float64)
    dt = np.abs(points.t[ip] - sites.t[js])
    dt = np.where(net.edge_u[e] == net.edge_v[e], np.minimum(dt, length[e] - dt), dt)
    return ip, js, points.leg[ip] + sites.leg[js] + dt


@dataclass(frozen=True)
class Reach:
    """Per-site reach: the nodes each site reaches within ``limit`` metres.

    ``site``, ``node`` and ``dist`` (metres) are parallel arrays, one entry per (site, reached
    node), sorted by site.
    """

    site: IntArray
    node: IntArray
    dist: FloatArray
    limit: float

    def __len__(self) -> int:
        return int(self.site.size)


def _node_tree(net: Network) -> cKDTree:
    """k-d tree over the nodes (metric CRS), built once per network (:data:`INDEX_CACHE`).
    scipy.spatial is imported here, when a tree is first needed: a coverage run searches its
    sites' boxes with :func:`nodes_in_box` and never needs one (60 ms of its start-up)."""
    from scipy.spatial import cKDTree

    return INDEX_CACHE.get(net, "node_tree", lambda n: cKDTree(n.xy))


def nodes_in_box(net: Network, centre: tuple[float, float], half: float) -> IntArray:
    """The nodes within ``half`` metres of ``centre`` in x and in y (a square box, edges
    included), in index order: the nodes ``_node_tree(net).query_ball_point(centre, half,
    p=np.inf)`` finds, sorted. The nodes are sorted by x once per network
    (:data:`INDEX_CACHE`); a box reads only those in its x range, then tests each exactly."""
    order, xs = INDEX_CACHE.get(net, "x_order", _x_order)
    cx, cy = float(centre[0]), float(centre[1])
    pad = 1e-9 * (abs(half) + abs(cx) + 1.0)  # a wider x range: rounding never drops a node
    lo = int(np.searchsorted(xs, cx - half - pad, side="left"))
    hi = int(np.searchsorted(xs, cx + half + pad, side="right"))
    cand = order[lo:hi]
    xy = net.xy[cand]
    inside = np.maximum(np.abs(xy[:, 0] - cx), np.abs(xy[:, 1] - cy)) <= half
    return np.sort(cand[inside])


def _x_order(net: Network) -> tuple[IntArray, np.ndarray]:
    order = np.argsort(net.xy[:, 0], kind="stable").astype(np.int64)
    return order, net.xy[order, 0]


def _local_csr(csr: sp.csr_matrix, nodes: IntArray, lookup: IntArray) -> sp.csr_matrix:
    """The subgraph induced by ``nodes`` (sorted), touching only their rows.

    ``lookup`` is a scratch array of -1 of length N; it is restored before returning.
    """
    lookup[nodes] = np.arange(nodes.size)
    starts = csr.indptr[nodes]
    counts = csr.indptr[nodes + 1] - starts
    flat = _ranges(starts, counts)
    cols = lookup[csr.indices[flat]]
    rows = np.repeat(np.arange(nodes.size), counts)
    keep = cols >= 0
    lookup[nodes] = -1
    return sp.csr_matrix(
        (csr.data[flat][keep], (rows[keep], cols[keep])), shape=(nodes.size, nodes.size)
    )


def site_reach(
    net: Network,
    sites: Snap,
    limit: float,
    *,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
) -> Reach:
    """Nodes within ``limit`` metres of each site, computed locally per site.

    Each site's search runs on the subgraph of nodes within a circle of radius
    ``(limit - leg) * max(1.002, k) + 1`` m around its snapped point (``k``: the network's
    largest straight line / length over its arcs, above 1 where great-circle lengths are
    shorter than projected lines), which contains every node it can reach, so the result
    equals a global
    search while the work grows with the area reached. Nearby sites are searched together, one
    ``dijkstra`` per grid cell on a box holding their circles, with the same result as one
    search per circle (:mod:`geo.coverage._reach`).

    Parameters
    ----------
    net
        The network.
    sites
        Snapped sites; sites off the network or with ``leg > limit`` reach nothing.
    limit
        Walk limit in metres, access leg included.
    progress
        Optional wrapper for the loop over groups of sites (e.g. ``tqdm``).
    """
    from ._reach import site_reach_grouped

    return site_reach_grouped(net, sites, limit, progress=progress)


def reach_matrix(net: Network, reach: Reach, sites: Snap, points: Snap) -> sp.csr_matrix:
    """Sites x points sparse matrix of walk distances (m) for pairs within ``reach.limit``.

    Stored values are ``distance + 1`` so that a distance of zero is not lost; subtract 1 (or
    use :func:`reach_pairs`).
    """
    s, p, d = reach_pairs(net, reach, sites, points)
    return sp.csr_matrix((d + 1.0, (s, p)), shape=(len(sites), len(points)))


def reach_pairs(
    net: Network, reach: Reach, sites: Snap, points: Snap
) -> tuple[IntArray, IntArray, FloatArray]:
    """``(site, point, metres)`` for every pair within ``reach.limit``, the shortest per pair.

    Sorted by site, then point. ``reach`` must come from :func:`site_reach` on ``sites``.
    """
    on = np.flatnonzero(points.edge >= 0)
    p = points.take(on)
    u, v, cu, cv = _endpoint_costs(net, p)
    end_node = np.concatenate([u, v])
    order = np.argsort(end_node, kind="stable")
    end_node = end_node[order]
    end_p = np.concatenate([on, on])[order]
    end_add = np.concatenate([cu, cv])[order]
    lo = np.searchsorted(end_node, reach.node, "left")
    cnt = np.searchsorted(end_node, reach.node, "right") - lo
    j = _ranges(lo, cnt)
    s_all = [np.repeat(reach.site, cnt)]
    p_all = [end_p[j]]
    d_all = [np.repeat(reach.dist, cnt) + end_add[j]]
    ip, js, direct = same_edge_pairs(net, p, sites)
    if ip.size:
        s_all.append(js)
        p_all.append(on[ip])
        d_all.append(direct)
    s_c, p_c, d_c = np.concatenate(s_all), np.concatenate(p_all), np.concatenate(d_all)
    ok = d_c <= reach.limit + EPS_M
    s_c, p_c, d_c = s_c[ok], p_c[ok], d_c[ok]
    if not s_c.size:
        return s_c, p_c, d_c
    # One integer key per (site, point) pair: a single sort (3x faster than a 3-key lexsort),
    # then the smallest distance of each run of equal keys.
    key = s_c.astype(np.int64) * np.int64(len(points)) + p_c
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return s_c[order[first]], p_c[order[first]], np.minimum.reduceat(d_c[order], first)


def edge_pieces(
    net: Network, reach: Reach, sites: Snap, limit: float
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The street pieces each site walks within ``limit`` metres (``limit <= reach.limit``).

    Returns
    -------
    site, edge : int64 (K,)
        Which site walks which edge.
    start, end : float64 (K,)
        The walked stretch, in metres from the edge's ``u`` end (``0 <= start < end <=
        length``): whole edges, edges walked in from one or both ends and cut where the walk
        runs out, and each site's own edge walked both ways from its snapped point.
    """
    length = np.asarray(net.length, np.float64)
    n_e = net.n_edges
    keep = reach.dist <= limit
    rs, rn, rem = reach.site[keep], reach.node[keep], limit - reach.dist[keep]
    ends = np.concatenate([net.edge_u, net.edge_v])
    by_node = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[by_node], np.arange(net.n_nodes + 1))
    cnt = ptr[rn + 1] - ptr[rn]
    inc = by_node[_ranges(ptr[rn], cnt)]
    e = inc % n_e
    side_v = inc >= n_e
    key = np.repeat(rs, cnt) * np.int64(n_e) + e
    r = np.repeat(rem, cnt)
    uk, inv = np.unique(key, return_inverse=True)
    a = np.full(uk.size, -1.0)
    b = np.full(uk.size, -1.0)
    np.maximum.at(a, inv[~side_v], r[~side_v])
    np.maximum.at(b, inv[side_v], r[side_v])
    s_k, e_k = uk // n_e, uk % n_e
    le = length[e_k]
    full = a + b >= le
    pa = ~full & (a > 0)
    pb = ~full & (b > 0)
    budget = limit - sites.leg
    ok = budget >= 0
    own = sites.edge[ok]
    site = np.concatenate([s_k[full], s_k[pa], s_k[pb], np.flatnonzero(ok)])
    edge = np.concatenate([e_k[full], e_k[pa], e_k[pb], own])
    start = np.concatenate(
        [
            np.zeros(int(full.sum()) + int(pa.sum())),
            le[pb] - b[pb],
            np.maximum(sites.t[ok] - budget[ok], 0.0),
        ]
    )
    end = np.concatenate(
        [le[full], a[pa], le[pb], np.minimum(sites.t[ok] + budget[ok], length[own])]
    )
    good = end > start
    return site[good], edge[good], start[good], end[good]
