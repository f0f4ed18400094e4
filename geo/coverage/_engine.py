"""The array core of coverage: multi-source bounded Dijkstra on a CSR matrix.

Everything here takes NumPy/SciPy arrays and returns arrays; the GeoDataFrame wrapper lives in
``geo.coverage``. Points (sites, communities) sit *on edges*: a point on edge ``e = (u, v)`` at
``t`` metres from ``u`` with an access leg ``leg`` is ``leg + t`` from ``u`` and
``leg + length[e] - t`` from ``v``.

* :func:`nearest_sites` runs **one** multi-source Dijkstra from every site at once (each site
  is a virtual node joined to its edge's two ends), giving every network node its distance to
  the nearest site and that site's index.
* :func:`site_reach` runs a bounded Dijkstra per site on a **local** subgraph: the nodes inside
  a circle that must contain everything reachable, so work grows with the area reached, not
  with the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..network import ZERO_LENGTH_M, Network
from ._snap import Snap

#: Slack on the Euclidean pre-filter radius. UTM's scale factor is at most ~1.001 inside a
#: zone, so network distance L (great-circle metres) spans at most 1.001 L projected metres.
_RADIUS_SLACK = 1.002
#: Distances equal to a limit within this many metres count as within it (float noise).
EPS_M = 1e-6


def _endpoint_costs(
    net: Network, snap: Snap
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    e = snap.edge
    return (net.edge_u[e], net.edge_v[e], snap.leg + snap.t, snap.leg + (net.length[e] - snap.t))


def _augment(csr: sp.csr_matrix, heads_u, heads_v, cost_u, cost_v) -> sp.csr_matrix:
    """Append one virtual source row per point, with directed arcs to its edge's two ends."""
    n = csr.shape[0]
    k = heads_u.size
    cols = np.column_stack([heads_u, heads_v]).ravel()
    vals = np.maximum(np.column_stack([cost_u, cost_v]).ravel(), ZERO_LENGTH_M)
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + 2 * np.arange(1, k + 1)])
    return sp.csr_matrix(
        (np.concatenate([csr.data, vals]), np.concatenate([csr.indices, cols]), indptr),
        shape=(n + k, n + k),
    )


@dataclass(frozen=True)
class NodeField:
    """Distance (m) from every node to its nearest source, and which source (-1: none)."""

    dist: np.ndarray
    source: np.ndarray


def nearest_sites(net: Network, sites: Snap, *, limit: float | None = None) -> NodeField:
    """Multi-source Dijkstra from all sites at once.

    Parameters
    ----------
    net
        The network.
    sites
        Snapped sites (all must be on an edge: ``edge >= 0``).
    limit
        Stop exploring beyond this distance in metres (None: the whole network, so that
        uncovered points still get their true distance).
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
    return NodeField(dist[:n], src[:n].astype(np.int64))


def point_distances(
    net: Network, field: NodeField, points: Snap, sites: Snap
) -> tuple[np.ndarray, np.ndarray]:
    """Walk distance (m) from each point to its nearest site, and that site's index.

    Includes both access legs, both directions along the point's edge, and sites on the same
    edge as the point (reached directly along it).
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
    # sites on the same edge: direct along the edge
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (point, site) pair snapped to the same edge, with the direct walk between them
    along that edge (both access legs included; a self-loop may go either way round)."""
    from ..network._model import _ranges

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
    dt = np.abs(points.t[ip] - sites.t[js])
    dt = np.where(net.edge_u[e] == net.edge_v[e], np.minimum(dt, net.length[e] - dt), dt)
    return ip, js, points.leg[ip] + sites.leg[js] + dt


@dataclass(frozen=True)
class Reach:
    """Per-site reach: the nodes each site reaches within ``limit`` metres.

    ``site``, ``node`` and ``dist`` are parallel arrays, one entry per (site, reached node).
    """

    site: np.ndarray
    node: np.ndarray
    dist: np.ndarray
    limit: float

    def __len__(self) -> int:
        return int(self.site.size)


def _node_tree(net: Network) -> cKDTree:
    tree = net.__dict__.get("_sc_node_tree")
    if tree is None:
        tree = cKDTree(net.xy)
        net.__dict__["_sc_node_tree"] = tree
    return tree


def _local_csr(csr: sp.csr_matrix, nodes: np.ndarray, lookup: np.ndarray) -> sp.csr_matrix:
    """The subgraph induced by ``nodes`` (sorted), touching only their rows.

    ``lookup`` is a scratch array of -1 of length N; it is restored before returning.
    """
    from ..network._model import _ranges

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


def site_reach(net: Network, sites: Snap, limit: float, *, progress=None) -> Reach:
    """Nodes within ``limit`` metres of each site, computed locally per site.

    Each site's search runs on the subgraph of nodes within a circle of radius
    ``(limit - leg) * 1.002 + 1`` m around its snapped point, which contains every node it can
    reach (a walk is never shorter than the straight line), so the result equals a global
    search while the work grows with the area reached.
    """
    tree = _node_tree(net)
    csr = net.csr
    lookup = np.full(net.n_nodes, -1, np.int64)
    u, v, cu, cv = _endpoint_costs(net, sites)
    out_s, out_n, out_d = [], [], []
    it = range(len(sites)) if progress is None else progress(range(len(sites)))
    for s in it:
        budget = limit - sites.leg[s]
        if not np.isfinite(budget) or budget < 0:
            continue
        nodes = np.asarray(
            tree.query_ball_point((sites.x[s], sites.y[s]), budget * _RADIUS_SLACK + 1.0), np.int64
        )
        nodes.sort()
        if nodes.size == 0:
            continue
        sub = _local_csr(csr, nodes, lookup)
        lu, lv = np.searchsorted(nodes, u[s]), np.searchsorted(nodes, v[s])
        k = nodes.size
        hu = np.array([lu if lu < k and nodes[lu] == u[s] else -1])
        hv = np.array([lv if lv < k and nodes[lv] == v[s] else -1])
        ok_u, ok_v = hu[0] >= 0, hv[0] >= 0
        if not (ok_u or ok_v):
            continue
        heads = np.array([hu[0] if ok_u else hv[0], hv[0] if ok_v else hu[0]])
        costs = np.array([cu[s] if ok_u else cv[s], cv[s] if ok_v else cu[s]])
        aug = _augment(sub, heads[:1], heads[1:], costs[:1], costs[1:])
        d = dijkstra(aug, directed=True, indices=k, limit=limit + EPS_M)[:k]
        hit = np.flatnonzero(d <= limit + EPS_M)
        out_s.append(np.full(hit.size, s, np.int64))
        out_n.append(nodes[hit])
        out_d.append(d[hit])
    if not out_s:
        z = np.zeros(0)
        return Reach(z.astype(np.int64), z.astype(np.int64), z, float(limit))
    return Reach(np.concatenate(out_s), np.concatenate(out_n), np.concatenate(out_d), float(limit))


def reach_matrix(net: Network, reach: Reach, sites: Snap, points: Snap) -> sp.csr_matrix:
    """Sites x points sparse matrix of walk distances (m) for pairs within ``reach.limit``.

    Stored values are ``distance + 1`` so that a distance of zero is not lost; subtract 1 (or
    use :func:`reach_pairs`).
    """
    s, p, d = reach_pairs(net, reach, sites, points)
    return sp.csr_matrix((d + 1.0, (s, p)), shape=(len(sites), len(points)))


def reach_pairs(
    net: Network, reach: Reach, sites: Snap, points: Snap
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site, point, distance m) for every pair within ``reach.limit``, the shortest per pair."""
    on = np.flatnonzero(points.edge >= 0)
    p = points.take(on)
    u, v, cu, cv = _endpoint_costs(net, p)
    ends = pd.DataFrame(
        {
            "node": np.concatenate([u, v]),
            "p": np.concatenate([on, on]),
            "add": np.concatenate([cu, cv]),
        }
    )
    r = pd.DataFrame({"s": reach.site, "node": reach.node, "d": reach.dist})
    j = r.merge(ends, on="node")
    frames = [pd.DataFrame({"s": j["s"], "p": j["p"], "d": j["d"] + j["add"]})]
    ip, js, direct = same_edge_pairs(net, p, sites)
    if ip.size:
        frames.append(pd.DataFrame({"s": js, "p": on[ip], "d": direct}))
    allp = pd.concat(frames, ignore_index=True)
    allp = allp[allp["d"] <= reach.limit + EPS_M]
    allp = allp.groupby(["s", "p"], sort=True, as_index=False)["d"].min()
    return (allp["s"].to_numpy(np.int64), allp["p"].to_numpy(np.int64), allp["d"].to_numpy(float))
