"""The engine's distances equal an independent networkx Dijkstra to within 0.5 m."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REAL_NETWORKS, need_shared
from helpers import awkward_graph, grid_network, network_from_edges, random_points
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import oracle_nearest, oracle_pairs

from geo.config import Config
from geo.coverage import compute_coverage
from geo.coverage.core import nearest_sites, point_distances, reach_pairs, site_reach, snap_points
from geo.network import build_network

TOL_M = 0.5


def _check(net, sites, comms, cfg):
    res = compute_coverage(net, sites, comms, config=cfg)
    usable_snap = res.site_snap.take(res.usable_sites)
    want = oracle_nearest(net, usable_snap, res.community_snap)
    got = res.communities["walk_distance_m"].to_numpy()
    got = np.where(np.isnan(got), np.inf, got)
    assert np.array_equal(np.isinf(want), np.isinf(got))
    fin = np.isfinite(want)
    assert np.abs(got[fin] - want[fin]).max(initial=0) <= TOL_M
    return res


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grid_matches_oracle(seed, cfg):
    rng = np.random.default_rng(seed)
    net = grid_network(10, 120.0, drop=0.25, seed=seed)  # dropped edges -> several pieces
    sites = random_points(net, 6, rng)
    comms = random_points(net, 150, rng, population=rng.integers(1, 100, 150))
    res = _check(net, sites, comms, cfg)
    assert res.communities["covered"].any()


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(REAL_NETWORKS))
def test_real_networks_match_oracle(name, cfg, rng):
    net = build_network(need_shared(REAL_NETWORKS[name]), config=cfg)
    lon0, lat0, lon1, lat1 = net.summary()["bbox"]
    # stay near the streets: points around random nodes
    pick = rng.choice(net.n_nodes, 250, replace=False)
    import geopandas as gpd
    import shapely

    jitter = rng.normal(0, 0.002, (250, 2))
    pts = shapely.points(net.lon[pick] + jitter[:, 0], net.lat[pick] + jitter[:, 1])
    sites = gpd.GeoDataFrame(geometry=pts[:40], crs=4326)
    comms = gpd.GeoDataFrame({"population": np.arange(210)}, geometry=pts[40:], crs=4326)
    res = _check(net, sites, comms, cfg)
    assert 0 < res.summary["communities_covered"] < 210


def test_reach_pairs_match_oracle(rng):
    net = grid_network(9, 100.0, drop=0.15, seed=3)
    sites = random_points(net, 8, rng)
    comms = random_points(net, 80, rng)
    x, y = net.project(sites.geometry.x, sites.geometry.y)
    s = snap_points(net, x, y)
    x, y = net.project(comms.geometry.x, comms.geometry.y)
    c = snap_points(net, x, y)
    limit = 350.0
    reach = site_reach(net, s, limit)
    ss, pp, dd = reach_pairs(net, reach, s, c)
    got = {(int(a), int(b)): float(d) for a, b, d in zip(ss, pp, dd, strict=True)}
    want = oracle_pairs(net, s, c, limit)
    # pairs within the limit agree (allow float noise right at the boundary)
    strict = {k: v for k, v in want.items() if v <= limit - 1e-6}
    assert set(strict) <= set(got)
    assert set(got) <= set(want)
    for k, v in got.items():
        assert abs(v - want[k]) <= TOL_M


def test_reach_equals_global_search():
    """The local per-site search finds exactly the nodes a global search finds."""
    from scipy.sparse.csgraph import dijkstra

    from geo.coverage.core import augment_graph, endpoint_costs

    net = grid_network(15, 80.0, drop=0.1, seed=5)
    rng = np.random.default_rng(5)
    pts = random_points(net, 10, rng)
    x, y = net.project(pts.geometry.x, pts.geometry.y)
    s = snap_points(net, x, y)
    limit = 400.0
    reach = site_reach(net, s, limit)
    u, v, cu, cv = endpoint_costs(net, s)
    for k in range(len(s)):
        aug = augment_graph(net.csr, u[k : k + 1], v[k : k + 1], cu[k : k + 1], cv[k : k + 1])
        d = dijkstra(aug, directed=True, indices=net.n_nodes, limit=limit + 1e-6)[: net.n_nodes]
        want = set(np.flatnonzero(d <= limit + 1e-6))
        got = set(reach.node[reach.site == k])
        assert got == want


# --- property-based: awkward small graphs ------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=awkward_graph(), seed=st.integers(0, 10_000))
def test_property_matches_oracle(g, seed):
    xy, edges, lengths = g
    net = network_from_edges(xy, edges, lengths)
    rng = np.random.default_rng(seed)
    ns, nc = int(rng.integers(0, 4)), int(rng.integers(1, 12))
    sx = rng.uniform(-50, 650, (ns, 2))
    cx = rng.uniform(-50, 650, (nc, 2))
    if ns and nc:  # a community on the same edge as a site
        cx[0] = sx[0] + rng.normal(0, 3, 2)
    from helpers import metres_to_lonlat

    s = snap_points(net, *net.project(*metres_to_lonlat(sx[:, 0], sx[:, 1])))
    c = snap_points(net, *net.project(*metres_to_lonlat(cx[:, 0], cx[:, 1])))
    field = nearest_sites(net, s)
    got, _ = point_distances(net, field, c, s)
    want = oracle_nearest(net, s, c)
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    assert np.abs(got[fin] - want[fin]).max(initial=0) <= TOL_M


def test_community_exactly_at_threshold():
    xy = np.array([[0.0, 0.0], [1000.0, 0.0], [2000.0, 0.0]])
    net = network_from_edges(xy, [(0, 1), (1, 2)], [1000.0, 1000.0])
    import geopandas as gpd
    import shapely

    sites = gpd.GeoDataFrame(geometry=[shapely.Point(net.lon[0], net.lat[0])], crs=4326)
    comms = gpd.GeoDataFrame(geometry=shapely.points(net.lon[1:], net.lat[1:]), crs=4326)
    cfg = Config(minutes=15, walk_speed_kmh=4.0)  # 1000 m
    res = compute_coverage(net, sites, comms, config=cfg)
    d = res.communities["walk_distance_m"].to_numpy()
    assert d[0] == pytest.approx(1000.0, abs=1e-6)
    assert res.communities["covered"].tolist() == [True, False]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), long_edges=st.booleans())
def test_snapping_equals_brute_force(seed, long_edges):
    """The k-d tree snapper finds the same nearest edge distance as checking every edge."""
    import shapely

    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 30))
    xy = rng.uniform(0, 3000 if long_edges else 400, (n, 2))
    edges = [(int(a), int(b)) for a, b in rng.integers(0, n, (int(rng.integers(1, 40)), 2))]
    net = network_from_edges(xy, edges)
    pts = rng.uniform(-200, 3200 if long_edges else 600, (50, 2))
    from helpers import metres_to_lonlat

    px, py = net.project(*metres_to_lonlat(pts[:, 0], pts[:, 1]))
    snap = snap_points(net, px, py)
    lines = net.edge_lines()
    brute = shapely.distance(shapely.points(px, py)[:, None], lines[None, :]).min(axis=1)
    assert np.allclose(snap.leg, brute, atol=1e-6)
    on_edge = shapely.distance(shapely.points(snap.x, snap.y), lines[snap.edge])
    assert np.all(on_edge < 1e-6)
    assert np.all((snap.t >= 0) & (snap.t <= net.length[snap.edge] + 1e-9))
