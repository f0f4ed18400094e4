"""Grouped per-site reach (one search per grid cell of sites) equals one search per site,
bit for bit: same sites, nodes, order and float distances."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import awkward_graph, grid_network, metres_to_lonlat, network_from_edges
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geo.coverage._reach as R
from geo.coverage.core import Reach, site_reach, snap_points


def _each(net, snap, limit) -> Reach:
    """The reference: every site searched alone on its own circle."""
    found = R.reach_each(net, snap, limit, range(len(snap)))
    if not found:
        return Reach(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), float(limit))
    return Reach(
        np.concatenate([np.full(t[1].size, t[0], np.int64) for t in found]),
        np.concatenate([t[1] for t in found]),
        np.concatenate([t[2] for t in found]),
        float(limit),
    )


def _same(a: Reach, b: Reach) -> None:
    for name in ("site", "node", "dist"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    assert a.limit == b.limit


def _snap(net, pts):
    return snap_points(net, *net.project(*metres_to_lonlat(pts[:, 0], pts[:, 1])))


class _Count:
    """Counts the sites searched alone (the fallback)."""

    def __init__(self, monkeypatch):
        self.alone: list[int] = []
        orig = R.reach_each

        def each(net, sites, limit, which):
            which = list(which)
            self.alone += which
            return orig(net, sites, limit, which)

        monkeypatch.setattr(R, "reach_each", each)


@pytest.mark.parametrize("prove", [True, False])
@pytest.mark.parametrize(("cell", "group"), [(None, 64), (150.0, 64), (2000.0, 5), (2000.0, 64)])
def test_grid_grouped_equals_each(cell, group, prove, monkeypatch):
    """Many sites on a street grid: groups of several sites, split when a cell holds more than
    ``GROUP_SITES``; no site needs the fallback on a network whose lengths follow geometry,
    whether the reached nodes are proved inside their circles or checked pair by pair."""
    net = grid_network(25, 60.0, drop=0.15, seed=3)
    rng = np.random.default_rng(3)
    snap = _snap(net, rng.uniform(-100, 1600, (300, 2)))
    snap.leg[::37] = np.nan  # as off-network points
    limit = 333.0
    want = _each(net, snap, limit)
    ok = np.isfinite(snap.leg)
    budget = limit - snap.leg[ok]
    assert R._proved(net, snap.take(np.flatnonzero(ok)), budget, budget * 1.002 + 1.0).all()
    monkeypatch.setattr(R, "GROUP_SITES", group)
    if not prove:
        monkeypatch.setattr(R, "_stretch", lambda net: np.inf)
    count = _Count(monkeypatch)
    got = R.site_reach_grouped(net, snap, limit, cell_m=cell)
    _same(got, want)
    assert len(want) > 10_000
    assert count.alone == []
    sizes = [g.size for g in R._groups(snap, np.flatnonzero(np.isfinite(snap.leg)), cell or limit)]
    assert max(sizes) > 1
    if cell == 2000.0:  # one cell holds every site: split into groups of GROUP_SITES
        assert max(sizes) == group
        assert len(sizes) > 1


def test_dense_group_halved(monkeypatch):
    """A group whose block of distances would pass ``BLOCK_VALUES`` is searched in halves."""
    net = grid_network(20, 60.0, drop=0.1, seed=4)
    snap = _snap(net, np.random.default_rng(4).uniform(0, 1100, (120, 2)))
    want = _each(net, snap, 300.0)
    calls = []
    orig = R._search_group
    monkeypatch.setattr(R, "BLOCK_VALUES", 2_000)
    monkeypatch.setattr(
        R, "_search_group", lambda net, s, g, *a: calls.append(g.size) or orig(net, s, g, *a)
    )
    _same(R.site_reach_grouped(net, snap, 300.0, cell_m=5000.0), want)
    assert len(calls) > 2 * len(R._groups(snap, np.arange(len(snap)), 5000.0))
    assert min(calls) < max(calls) / 4


def test_site_reach_is_grouped(monkeypatch):
    """The public ``site_reach`` takes the grouped path and gives the reference result."""
    net = grid_network(12, 80.0, drop=0.1, seed=1)
    snap = _snap(net, np.random.default_rng(1).uniform(0, 900, (80, 2)))
    calls = []
    orig = R.site_reach_grouped
    monkeypatch.setattr(R, "site_reach_grouped", lambda *a, **k: calls.append(1) or orig(*a, **k))
    _same(site_reach(net, snap, 250.0), _each(net, snap, 250.0))
    assert calls == [1]


def test_shortcut_falls_back_to_own_circle(monkeypatch):
    """A zero-length edge between far-apart nodes is a walk shorter than the straight line:
    a site's box can then reach past its circle, so that site is searched alone, as before."""
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [900.0, 0.0], [1000.0, 0.0]])
    edges = [(0, 1), (1, 2), (2, 3), (3, 4)]
    lengths = [100.0, 100.0, 0.0, 100.0]
    net = network_from_edges(xy, edges, lengths)
    snap = _snap(net, np.array([[10.0, 0.0], [950.0, 0.0], [150.0, 0.0]]))
    assert R._stretch(net) > 1e6
    count = _Count(monkeypatch)
    got = R.site_reach_grouped(net, snap, 300.0, cell_m=5000.0)
    _same(got, _each(net, snap, 300.0))
    assert count.alone  # the fallback ran
    # and it matters: on the box, site 0 would reach node 3 (900 m away) through the shortcut
    assert 3 not in set(got.node[got.site == 0])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    g=awkward_graph(max_nodes=12, span=800.0, max_edges=24, normal=3),
    seed=st.integers(0, 10_000),
    limit=st.floats(1.0, 900.0),
    cell=st.sampled_from([None, 50.0, 300.0, 5000.0]),
    group=st.integers(1, 8),
)
def test_property_grouped_equals_each(g, seed, limit, cell, group):
    xy, edges, lengths = g
    net = network_from_edges(xy, edges, lengths)
    rng = np.random.default_rng(seed)
    snap = _snap(net, rng.uniform(-100, 900, (int(rng.integers(0, 25)), 2)))
    old = R.GROUP_SITES
    R.GROUP_SITES = group
    try:
        got = R.site_reach_grouped(net, snap, limit, cell_m=cell)
    finally:
        R.GROUP_SITES = old
    _same(got, _each(net, snap, limit))


@pytest.mark.parametrize("grouped", [True, False])
def test_lengths_shorter_than_lines_still_reach_the_rim(grouped):
    """Great-circle lengths can be a little shorter than the projected lines (up to ~0.35% on
    north-south streets far from the equator). A straight street whose lengths are 0.4% under
    its lines: the node 1,249.5 m of walk away lies 1,254.5 m away in a straight line, beyond
    a fixed ``1.002 * 1250 + 1`` m circle. The search circle grows with the network's ratio, so
    the reach equals one global Dijkstra."""
    from scipy.sparse.csgraph import dijkstra

    step = 1254.5 / 25  # metres between nodes along the line
    xy = np.array([(i * step, 0.0) for i in range(40)])
    edges = [(i, i + 1) for i in range(39)] + [(i + 1, i) for i in range(39)]
    lengths = [step * 0.996] * len(edges)
    net = network_from_edges(xy, edges, lengths)
    assert R._arc_ratio(net) > 1.003
    snap = _snap(net, np.array([[0.0, 0.0], [3 * step, 0.0]]))
    limit = 1250.0
    got = R.site_reach_grouped(net, snap, limit) if grouped else _each(net, snap, limit)
    for s in range(2):
        node = int(np.argmin(np.hypot(*(net.xy - [snap.x[s], snap.y[s]]).T)))
        d = dijkstra(net.csr, indices=node)
        want = np.flatnonzero(d <= limit + snap.leg[s] * 0)  # the sites sit on their nodes
        mine = got.node[got.site == s]
        assert np.array_equal(np.sort(mine), want)
        assert (d[want] > 1249.0).any()  # the rim node is in


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 60),
    half=st.floats(0.0, 3000.0),
    offset=st.floats(-5e5, 5e5),
)
def test_property_box_query_equals_the_kd_tree(seed, n, half, offset):
    """nodes_in_box (a coverage run's box search, no k-d tree) finds exactly the nodes of
    cKDTree.query_ball_point(p=inf), sorted, nodes on the box's edges included."""
    from scipy.spatial import cKDTree

    from geo.coverage.core import nodes_in_box

    rng = np.random.default_rng(seed)
    xy = rng.uniform(-2000, 2000, (n, 2)) + offset
    centre = (float(rng.uniform(-1000, 1000) + offset), float(rng.uniform(-1000, 1000) + offset))
    if n >= 4:  # nodes exactly on the edges and corners of the box
        xy[0] = (centre[0] + half, centre[1])
        xy[1] = (centre[0] - half, centre[1] + half)
        xy[2] = (centre[0], centre[1] - half)
        xy[3] = (np.nextafter(centre[0] + half, np.inf), centre[1])

    class Net:  # what nodes_in_box reads of a network
        pass

    net = Net()
    net.xy = xy  # type: ignore[attr-defined]
    got = nodes_in_box(net, centre, half)  # type: ignore[arg-type]
    want = np.sort(np.asarray(cKDTree(xy).query_ball_point(centre, half, p=np.inf), np.int64))
    assert got.dtype == np.int64
    assert np.array_equal(got, want)
