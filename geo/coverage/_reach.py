"""Per-site reach, searched a group of nearby sites at a time (the engine of
:func:`geo.coverage.core.site_reach`).

The reference is one bounded Dijkstra per site on the subgraph of the nodes inside its circle
(:func:`radii`: ``(limit - leg) * max(1.002, k) + 1`` m around its snapped point, ``k`` the
network's largest straight line / length, :func:`reach_each`). With
thousands of sites (an audit's ~3,000-5,000 gap candidates per county) that pays a k-d tree
query, two sparse-matrix constructions and a ``dijkstra`` call per site, about 0.3 ms, for a
search that reaches ~200 nodes. Here the sites are grouped by grid cell; each group gets one
box of nodes that contains every member's circle, one local graph with a virtual source per
member, and one ``dijkstra(indices=[...])``.

Same result, bit for bit: a site's search on its box differs from the search on its circle
only if some node it reaches within the limit lies outside its circle (a walk shorter than
the straight line: never on a network whose lengths follow its geometry). Distances along a
larger graph can only be smaller, and when every node reached lies inside the circle, each
is reached through nodes inside the circle, by the same float sums. So each site's reached
nodes are checked against its circle (with a 1e-9 relative margin for the float of the
distance); a site that fails the check, or whose edge end lies on its circle's rim within
that margin, is searched again alone, on its circle, exactly as before.

The check is proved instead of computed where it must hold: if straight line / walk is at
most ``k`` along every arc (:func:`_stretch`, once per network) and along the site's edge to
its ends, a walk of ``W`` metres ends within ``k (W - leg)`` of the site, inside its circle
(:func:`radii`) whenever ``k (limit - leg)`` is below that radius.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped,unused-ignore]
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped,unused-ignore]

from ..network import ZERO_LENGTH_M
from ..network import concat_ranges as _ranges
from .core import (
    _RADIUS_SLACK,
    EPS_M,
    INDEX_CACHE,
    IntArray,
    Network,
    Reach,
    Snap,
    _local_csr,
    _node_tree,
    augment_graph,
    endpoint_costs,
    nodes_in_box,
)

log = logging.getLogger(__name__)

#: Sites searched together at most (a group's distances are a dense block sites x box nodes).
GROUP_SITES = 64
#: ... and a group's block holds at most this many distances (about 40 MB), else it is halved.
BLOCK_VALUES = 5_000_000
#: The search circle grows with the network's straight line / length ratio up to this factor
#: (far above the ~1.0035 that great-circle lengths give; more means broken lengths).
_MAX_SLACK = 1.05
#: Relative margin when comparing a float distance with a circle's radius.
_RIM = 1e-9


def _arc_ratio(net: Network) -> float:
    """The largest straight line / length over the graph's arcs (cached per network): about
    1.0 on a street network (up to ~1.003 from the metric projection against great-circle
    lengths), far more where an edge is shorter than the line between its ends."""

    def build(n: Network) -> float:
        csr = n.csr
        if not csr.nnz:
            return 0.0
        rows = np.repeat(np.arange(n.n_nodes), np.diff(csr.indptr))
        chord = np.hypot(*(n.xy[rows] - n.xy[csr.indices]).T)
        return float(np.max(chord / csr.data))

    return INDEX_CACHE.get(net, "reach_stretch", build)


def _stretch(net: Network) -> float:
    """``k`` of the proof that a site's reached nodes are inside its circle (module notes):
    :func:`_arc_ratio` (a separate name so that tests can switch the proof off)."""
    return _arc_ratio(net)


def radii(net: Network, sites: Snap, budget: np.ndarray) -> np.ndarray:
    """Each site's search radius (metres, projected): a circle that holds every node it can
    reach within ``budget`` metres of walk (``limit - leg``; 0 where not finite or negative).

    ``max(1.002, k) * budget + 1`` m, where ``k`` bounds straight line / length along every arc
    (:func:`_arc_ratio`; at most :data:`_MAX_SLACK`, with a warning), plus whatever the site's
    straight line to one of its edge ends exceeds ``k`` times its walk to that end. ``k`` is above 1 where the lengths (great-circle metres
    on a sphere) are shorter than the projected lines: up to ~1.0035 at 60 degrees latitude on
    north-south streets, so a fixed 1.002 could miss a node reached by a straight walk within
    a few metres of the limit. A node reached by a walk of ``W <= budget`` metres lies within
    ``chord(site, end) + k (W - walk(site, end))`` of the site: inside the circle.
    """
    ok = np.isfinite(budget) & (budget >= 0)
    ratio = _arc_ratio(net)
    k = min(max(_RADIUS_SLACK, ratio), _MAX_SLACK)
    extra = np.zeros(len(sites))
    on = np.flatnonzero(sites.edge >= 0)
    if on.size:
        e = sites.edge[on]
        length = np.asarray(net.length, np.float64)[e]
        t = sites.t[on]
        for end, walk in ((net.edge_u[e], t), (net.edge_v[e], length - t)):
            chord = np.hypot(net.xy[end, 0] - sites.x[on], net.xy[end, 1] - sites.y[on])
            extra[on] = np.maximum(extra[on], chord - k * np.maximum(walk, 0.0))
    if ratio > _MAX_SLACK and len(sites):
        log.warning(
            "部分路段的长度只有两端直线距离的 1/%.3g（长度与几何不符？请检查路网的长度字段）；"
            "经过这些路段的步行只在站点直线距离的 %.0f%% 以内追踪 / some edges are shorter "
            "than the straight line between their ends; walks over them are followed only "
            "within that margin of the straight line",
            ratio, 100 * (_MAX_SLACK - 1),
        )  # fmt: skip
    return np.where(ok, budget, 0.0) * k + 1.0 + extra * (1 + _RIM)


def _proved(net: Network, sites: Snap, budget: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per site: whether every node it reaches is surely inside its circle, so its reached
    nodes need no check (see the module notes).

    A walk of ``W`` metres from the site ends within ``k (W - leg) <= k budget`` of it, where
    ``k`` bounds straight line / walk along every arc (:func:`_stretch`) and along the site's
    own edge to each end; that is inside the circle when ``k budget`` is below its radius.
    """
    e = sites.edge
    length = np.asarray(net.length, np.float64)[e]
    k = np.full(len(sites), _stretch(net))
    for end, walk in ((net.edge_u[e], sites.t), (net.edge_v[e], length - sites.t)):
        chord = np.hypot(net.xy[end, 0] - sites.x, net.xy[end, 1] - sites.y)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.maximum(k, np.where(chord > 0, chord / walk, 0.0))
    reach = k * (budget + EPS_M) * (1 + _RIM) + EPS_M
    return np.isfinite(reach) & (reach < r * (1 - _RIM))


def reach_each(net: Network, sites: Snap, limit: float, which: Iterable[int]) -> list[tuple]:
    """The reference: one search per site on its own circle (``site_reach`` before grouping).

    Returns ``(site, nodes, dist)`` per site of ``which`` that reaches something.
    """
    which = list(which)
    if not which:  # nothing to search: no tree to build (scipy.spatial not even imported)
        return []
    tree = _node_tree(net)
    csr = net.csr
    lookup = np.full(net.n_nodes, -1, np.int64)
    u, v, cu, cv = endpoint_costs(net, sites)
    r = radii(net, sites, limit - sites.leg)
    out = []
    for s in which:
        budget = limit - sites.leg[s]
        if not np.isfinite(budget) or budget < 0:
            continue
        nodes = np.asarray(tree.query_ball_point((sites.x[s], sites.y[s]), r[s]), np.int64)
        nodes.sort()
        if nodes.size == 0:
            continue
        sub = _local_csr(csr, nodes, lookup)
        lu, lv = int(np.searchsorted(nodes, u[s])), int(np.searchsorted(nodes, v[s]))
        k = int(nodes.size)
        hu = lu if lu < k and nodes[lu] == u[s] else -1
        hv = lv if lv < k and nodes[lv] == v[s] else -1
        if hu < 0 and hv < 0:
            continue
        heads = np.array([hu if hu >= 0 else hv, hv if hv >= 0 else hu], np.int64)
        costs = np.array([cu[s] if hu >= 0 else cv[s], cv[s] if hv >= 0 else cu[s]])
        aug = augment_graph(sub, heads[:1], heads[1:], costs[:1], costs[1:])
        d = np.asarray(dijkstra(aug, directed=True, indices=k, limit=limit + EPS_M)[:k])
        hit = np.flatnonzero(d <= limit + EPS_M)
        out.append((s, nodes[hit], d[hit]))
    return out


def _local_aug(
    csr: sp.csr_matrix, nodes: IntArray, lookup: IntArray, heads: tuple, costs: tuple
) -> sp.csr_matrix:
    """``augment_graph(_local_csr(csr, nodes, lookup), *heads, *costs)`` in one step.

    The same matrix (``csr`` is canonical: sorted rows, no duplicates, so the local rows stay
    sorted), assembled directly instead of through two COO conversions.
    """
    n = int(nodes.size)
    lookup[nodes] = np.arange(n)
    starts = csr.indptr[nodes]
    counts = csr.indptr[nodes + 1] - starts
    flat = _ranges(starts, counts)
    cols = lookup[csr.indices[flat]]
    lookup[nodes] = -1
    keep = cols >= 0
    rows = np.repeat(np.arange(n), counts)[keep]
    k = int(heads[0].size)
    indptr = np.zeros(n + k + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1 : n + 1])
    indptr[n + 1 :] = indptr[n] + 2 * np.arange(1, k + 1)
    vals = np.maximum(np.column_stack(costs).ravel(), ZERO_LENGTH_M)
    return sp.csr_matrix(
        (
            np.concatenate([csr.data[flat][keep], vals]),
            np.concatenate([cols[keep], np.column_stack(heads).ravel()]),
            indptr,
        ),
        shape=(n + k, n + k),
    )


def _inside(net: Network, sites: Snap, s: IntArray, nodes: IntArray, r: np.ndarray) -> np.ndarray:
    """Per (site, node) pair: 1 surely inside the site's circle, -1 surely outside, 0 on the
    rim (within the float margin)."""
    d = np.hypot(net.xy[nodes, 0] - sites.x[s], net.xy[nodes, 1] - sites.y[s])
    rr = r[s]
    return np.where(d <= rr * (1 - _RIM), 1, np.where(d >= rr * (1 + _RIM), -1, 0))


def _groups(sites: Snap, idx: IntArray, cell_m: float) -> list[IntArray]:
    """Sites ``idx`` grouped by grid cell, at most :data:`GROUP_SITES` a group."""
    cx = np.floor(sites.x[idx] / cell_m).astype(np.int64)
    cy = np.floor(sites.y[idx] / cell_m).astype(np.int64)
    order = np.lexsort((cy, cx))
    cx, cy, idx = cx[order], cy[order], idx[order]
    cut = np.flatnonzero((cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])) + 1
    out = []
    for g in np.split(idx, cut):
        out += [g[i : i + GROUP_SITES] for i in range(0, g.size, GROUP_SITES)]
    return out


def _search_group(
    net: Network, sites: Snap, g: IntArray, r: np.ndarray, limit: float, ctx: tuple
) -> tuple[list[tuple], list[int]]:
    """One group's searches on a box holding every member's circle.

    Returns ``(site, nodes, dist)`` per member that reaches something, and the members that
    must be searched alone (see the module notes).
    """
    (u, v, cu, cv), proved, lookup = ctx
    x, y = sites.x[g], sites.y[g]
    half = max(np.ptp(x), np.ptp(y)) / 2 + float(r[g].max()) + 1.0
    centre = ((x.max() + x.min()) / 2, (y.max() + y.min()) / 2)
    nodes = nodes_in_box(net, centre, half)
    n = int(nodes.size)
    if g.size > 1 and g.size * n > BLOCK_VALUES:  # dense streets: halve the group
        half_g = np.array_split(g[np.argsort(x if np.ptp(x) >= np.ptp(y) else y)], 2)
        f1, a1 = _search_group(net, sites, half_g[0], r, limit, ctx)
        f2, a2 = _search_group(net, sites, half_g[1], r, limit, ctx)
        return f1 + f2, a1 + a2
    # each member's edge ends, kept only where its own circle holds them (as alone)
    heads, costs, retry = [], [], []
    for end, cost in ((u, cu), (v, cv)):
        loc = np.minimum(np.searchsorted(nodes, end[g]), max(n - 1, 0))
        side = _inside(net, sites, g, end[g], r)
        found = (n > 0) & (nodes[loc] == end[g]) if n else np.zeros(g.size, bool)
        retry.append(side == 0)
        heads.append(np.where(found & (side > 0), loc, -1))
        costs.append(cost[g])
    bad = retry[0] | retry[1]
    hu, hv = heads
    none = (hu < 0) & (hv < 0)
    run = ~bad & ~none
    if not run.any():
        return [], list(g[bad])
    m = g[run]
    hu, hv = hu[run], hv[run]
    ku, kv = costs[0][run], costs[1][run]
    aug = _local_aug(
        net.csr, nodes, lookup,
        (np.where(hu >= 0, hu, hv), np.where(hv >= 0, hv, hu)),
        (np.where(hu >= 0, ku, kv), np.where(hv >= 0, kv, ku)),
    )  # fmt: skip
    d = np.asarray(dijkstra(aug, directed=True, indices=n + np.arange(m.size), limit=limit + EPS_M))
    row, col = np.nonzero(d[:, :n] <= limit + EPS_M)
    ok = np.ones(m.size, bool)
    check = ~proved[m][row]  # pairs whose site is not proved inside (module notes)
    if check.any():
        out = np.zeros(row.size, bool)
        out[check] = _inside(net, sites, m[row[check]], nodes[col[check]], r) <= 0
        ok[row[out]] = False
    keep = ok[row]
    row, col = row[keep], col[keep]
    bounds = np.searchsorted(row, np.arange(m.size + 1))
    found = [
        (int(m[i]), nodes[col[a:b]], d[i, col[a:b]])
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        if b > a
    ]
    return found, list(g[bad]) + list(m[~ok])


def site_reach_grouped(
    net: Network,
    sites: Snap,
    limit: float,
    *,
    cell_m: float | None = None,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
) -> Reach:
    """:func:`geo.coverage.core.site_reach`, searching a grid cell's sites together.

    ``cell_m`` is the grid cell (default: the limit, at least 100 m).
    """
    budget = limit - sites.leg
    ok = np.isfinite(budget) & (budget >= 0)
    r = radii(net, sites, budget)
    grouped = np.flatnonzero(ok & (sites.edge >= 0))
    alone = [int(i) for i in np.flatnonzero(ok & (sites.edge < 0))]
    cell = max(float(limit), 100.0) if cell_m is None else float(cell_m)
    groups = _groups(sites, grouped, cell) if grouped.size else []
    proved = np.zeros(len(sites), bool)
    if grouped.size:
        proved[grouped] = _proved(net, sites.take(grouped), budget[grouped], r[grouped])
    ctx = (endpoint_costs(net, sites), proved, np.full(net.n_nodes, -1, np.int64))
    found: list[tuple] = []
    it: Iterable[int] = range(len(groups)) if progress is None else progress(range(len(groups)))
    for i in it:
        f, a = _search_group(net, sites, groups[i], r, limit, ctx)
        found += f
        alone += a
    found += reach_each(net, sites, limit, alone)
    if not found:
        return Reach(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), float(limit))
    found.sort(key=lambda t: t[0])
    return Reach(
        np.concatenate([np.full(t[1].size, t[0], np.int64) for t in found]),
        np.concatenate([t[1] for t in found]),
        np.concatenate([t[2] for t in found]),
        float(limit),
    )
