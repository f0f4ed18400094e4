"""An independent reference: plain networkx Dijkstra on a graph with the snapped points inserted.

Every edge carrying snapped points is cut at them (sorted by position), and every point gets its
access leg as an edge of its own. Nothing from the engine is reused except the snapping itself,
which the issue asks the oracle to share.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from geo.coverage import Snap
from geo.network import Network


def oracle_graph(net: Network, snaps: dict[str, Snap]) -> nx.MultiGraph:
    G = nx.MultiGraph()
    G.add_nodes_from(range(net.n_nodes))
    on_edge: dict[int, list[tuple[float, tuple]]] = {}
    for tag, snap in snaps.items():
        for i in range(len(snap)):
            e = int(snap.edge[i])
            if e < 0:
                continue
            anchor = (tag, "anchor", i)
            G.add_edge((tag, i), anchor, weight=float(snap.leg[i]))
            on_edge.setdefault(e, []).append((float(snap.t[i]), anchor))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.length[e])
        pts = sorted(on_edge.get(e, []), key=lambda p: p[0])
        chain = [(0.0, u), *pts, (length, v)]
        for (t0, a), (t1, b) in zip(chain[:-1], chain[1:], strict=True):
            G.add_edge(a, b, weight=max(t1 - t0, 0.0))
    return G


def oracle_nearest(net: Network, sites: Snap, points: Snap) -> np.ndarray:
    """Distance from each point to its nearest site (inf when unreachable)."""
    G = oracle_graph(net, {"s": sites, "p": points})
    sources = [("s", i) for i in range(len(sites)) if sites.edge[i] >= 0]
    out = np.full(len(points), np.inf)
    if not sources:
        return out
    dist = nx.multi_source_dijkstra_path_length(G, sources, weight="weight")
    for i in range(len(points)):
        out[i] = dist.get(("p", i), np.inf)
    return out


def oracle_pairs(net: Network, sites: Snap, points: Snap, limit: float) -> dict:
    """{(site, point): distance} for all pairs within ``limit``."""
    G = oracle_graph(net, {"s": sites, "p": points})
    res = {}
    for s in range(len(sites)):
        if sites.edge[s] < 0:
            continue
        d = nx.single_source_dijkstra_path_length(G, ("s", s), cutoff=limit, weight="weight")
        for i in range(len(points)):
            if ("p", i) in d:
                res[(s, i)] = d[("p", i)]
    return res
