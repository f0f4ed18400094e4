"""Street coverage against an independent edge-by-edge oracle (networkx, stations cut into edges)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import REAL_NETWORKS, need_shared
from helpers import grid_network
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import oracle_graph

from geo.config import Config
from geo.coverage import compute_coverage
from geo.coverage.streets import (
    class_weights,
    parse_street_weights,
    station_snap,
    street_coverage,
)
from geo.network import build_network


def _points(net, rng, n, jitter_m=30.0):
    e = rng.integers(0, net.n_edges, n)
    f = rng.random(n)
    lines = net.edge_lines(projected=False)
    pts = shapely.line_interpolate_point(lines[e], f, normalized=True)
    lon = shapely.get_x(pts) + rng.normal(0, jitter_m / 96_000, n)
    lat = shapely.get_y(pts) + rng.normal(0, jitter_m / 111_000, n)
    return lon, lat


def _frames(net, rng, n_sites, n_comm, kinds=("station",)):
    lon, lat = _points(net, rng, n_sites)
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n_sites)],
            "name": [f"site {i}" for i in range(n_sites)],
            "kind": [kinds[i % len(kinds)] for i in range(n_sites)],
        },
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    lon, lat = _points(net, rng, n_comm)
    comms = gpd.GeoDataFrame(
        {"community_id": [f"C{i}" for i in range(n_comm)], "population": 100.0},
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    return sites, comms


def oracle_streets(net, snap, limits):
    """Per edge: worst-point distance and covered metres per limit, from a networkx graph in
    which every station is cut into its edge (so each sub-edge has only its two ends)."""
    G = oracle_graph(net, {"s": snap})
    sources = [("s", i) for i in range(len(snap)) if snap.edge[i] >= 0]
    dist = nx.multi_source_dijkstra_path_length(G, sources, weight="weight") if sources else {}
    on_edge = {}
    for i in range(len(snap)):
        if snap.edge[i] >= 0:
            on_edge.setdefault(int(snap.edge[i]), []).append((float(snap.t[i]), ("s", "anchor", i)))
    worst = np.zeros(net.n_edges)
    cov = {lim: np.zeros(net.n_edges) for lim in limits}
    for e in range(net.n_edges):
        L = float(net.length[e])
        chain = [(0.0, int(net.edge_u[e])), *sorted(on_edge.get(e, [])), (L, int(net.edge_v[e]))]
        w = 0.0
        for (t0, a), (t1, b) in zip(chain[:-1], chain[1:], strict=True):
            seg = max(t1 - t0, 0.0)
            da, db = dist.get(a, np.inf), dist.get(b, np.inf)
            # worst point of the piece: sample densely + the analytic crossing
            xs = np.linspace(0.0, seg, 201)
            if np.isfinite(da) and np.isfinite(db):
                xs = np.r_[xs, min(max((db - da + seg) / 2, 0.0), seg)]
            w = max(w, float(np.min([da + xs, db + seg - xs], axis=0).max()))
            for lim in limits:
                cov[lim][e] += min(seg, max(0.0, lim - da) + max(0.0, lim - db))
        worst[e] = w
    return worst, cov


def _check(net, cfg, sites, comms, kinds=("station", "integrated")):
    res = compute_coverage(net, sites, comms, config=cfg, redundancy=False)
    sc = street_coverage(res, kinds=kinds)
    snap = station_snap(res, kinds)
    limits = list(cfg.levels.values())
    worst, cov = oracle_streets(net, snap, limits)
    got = sc.edges["walk_time_min_to_station"].to_numpy() * cfg.metres_per_minute
    fin = np.isfinite(worst)
    assert np.array_equal(np.isnan(got), ~fin)
    # the table rounds minutes to 0.01 (<= 0.34 m at 4 km/h)
    np.testing.assert_allclose(got[fin], worst[fin], atol=0.35)
    for level, lim in cfg.levels.items():
        np.testing.assert_allclose(
            sc.edges[f"covered_m_{level}"], np.minimum(cov[lim], net.length), atol=0.051
        )
        km = np.minimum(cov[lim], net.length).sum() / 1000
        assert sc.summary[f"street_km_covered_{level}"] == pytest.approx(km, abs=1e-3)
    return res, sc


@pytest.mark.realdata
def test_street_coverage_matches_oracle_on_optics_valley(tmp_path):
    path = need_shared(REAL_NETWORKS["optics_valley"])
    cfg = Config(cache_dir=tmp_path / "cache", use_cache=False)
    net = build_network(path, config=cfg)
    rng = np.random.default_rng(7)
    sites, comms = _frames(net, rng, 12, 30, kinds=("station", "integrated", "cultural_palace"))
    res, sc = _check(net, cfg, sites, comms)
    # palaces do not count as stations for outdoor workers
    assert sc.summary["street_stations"] == int(
        (res.sites["kind"].isin(["station", "integrated"]) & ~res.sites["off_network"]).sum()
    )
    lv = cfg.main_level
    share = sc.summary[f"street_km_covered_share_{lv}"]
    assert 0 < share < 1
    # uncovered stretches + covered metres add up to the whole network
    unc = sc.uncovered["length_m"].sum() / 1000
    assert unc + sc.summary[f"street_km_covered_{lv}"] == pytest.approx(
        sc.summary["street_km"], abs=0.01
    )
    main_unc = sc.uncovered.loc[sc.uncovered["main_road"], "length_m"].sum() / 1000
    assert main_unc == pytest.approx(sc.summary[f"main_road_km_uncovered_{lv}"], abs=0.01)
    assert sc.summary["main_road_km"] > 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_sites=st.integers(0, 6))
def test_street_coverage_matches_oracle_on_grids(seed, n_sites):
    net = grid_network(6, 120.0, drop=0.25, seed=seed)
    rng = np.random.default_rng(seed)
    cfg = Config(minutes=5, thresholds_min=(2.0, 5.0), use_cache=False)
    sites, comms = _frames(net, rng, n_sites, 5)
    _check(net, cfg, sites, comms, kinds=("station",))


def test_street_weights_parse():
    w = parse_street_weights("primary=3, secondary=2,other=0.5")
    assert w == {"primary": 3.0, "secondary": 2.0, "other": 0.5}
    cw = class_weights(
        np.array(["primary", "['secondary', 'tertiary']", "footway", None], object), w
    )
    assert cw.tolist() == [3.0, 2.0, 0.5, 0.5]
    assert class_weights(["trunk", "footway"], {"main": 4}).tolist() == [4.0, 1.0]
    from geo._errors import InputError

    with pytest.raises(InputError, match="street-weights"):
        parse_street_weights("primary:3")
    with pytest.raises(InputError):
        parse_street_weights("primary=-1")


@pytest.mark.realdata
def test_street_km_inside_an_area_matches_geometric_oracle(tmp_path):
    """Only street length inside a county counts; edges are cut exactly at its boundary."""
    from shapely.ops import substring

    path = need_shared(REAL_NETWORKS["optics_valley"])
    cfg = Config(cache_dir=tmp_path / "cache", use_cache=False)
    net = build_network(path, config=cfg)
    rng = np.random.default_rng(21)
    sites, comms = _frames(net, rng, 10, 10)
    res = compute_coverage(net, sites, comms, config=cfg, redundancy=False)
    lon0, lat0 = np.median(net.lon), np.median(net.lat)
    area = shapely.Polygon(
        [(lon0 - 0.012, lat0 - 0.006), (lon0 + 0.010, lat0 - 0.008), (lon0 + 0.006, lat0 + 0.007),
         (lon0 - 0.009, lat0 + 0.005)]
    )  # fmt: skip
    sc = street_coverage(res, area=area)
    snap = station_snap(res)
    limits = list(cfg.levels.values())
    G = oracle_graph(net, {"s": snap})
    sources = [("s", i) for i in range(len(snap))]
    dist = nx.multi_source_dijkstra_path_length(G, sources, weight="weight")
    lines = net.edge_lines()
    poly = shapely.transform(area, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
    on_edge = {}
    for i in range(len(snap)):
        on_edge.setdefault(int(snap.edge[i]), []).append((float(snap.t[i]), ("s", "anchor", i)))
    total = 0.0
    cov = dict.fromkeys(limits, 0.0)
    for e in range(net.n_edges):
        line, L = lines[e], float(net.length[e])
        scale = line.length / L if L > 0 else 0.0
        total += shapely.intersection(line, poly).length / scale if scale else 0.0
        chain = [(0.0, int(net.edge_u[e])), *sorted(on_edge.get(e, [])), (L, int(net.edge_v[e]))]
        for lim in limits:
            pieces = []
            for (t0, a), (t1, b) in zip(chain[:-1], chain[1:], strict=True):
                ra = min(max(lim - dist.get(a, np.inf), 0.0), t1 - t0)
                rb = min(max(lim - dist.get(b, np.inf), 0.0), t1 - t0)
                if ra > 0:
                    pieces.append((t0, t0 + ra))
                if rb > 0:
                    pieces.append((t1 - rb, t1))
            merged = []  # plain interval union, then each piece cut by the polygon
            for s_, t_ in sorted(pieces):
                if merged and s_ <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], t_)
                else:
                    merged.append([s_, t_])
            for s_, t_ in merged:
                if t_ > s_ and scale:
                    piece = substring(line, s_ * scale, t_ * scale)
                    cov[lim] += shapely.intersection(piece, poly).length / scale
    assert sc.summary["street_km"] == pytest.approx(total / 1000, abs=2e-3)
    assert 0 < sc.summary["street_km"] < net.length.sum() / 1000 * 0.8
    for level, lim in cfg.levels.items():
        assert sc.summary[f"street_km_covered_{level}"] == pytest.approx(cov[lim] / 1000, abs=2e-3)
    # uncovered stretches lie inside the area
    unc = sc.uncovered
    assert shapely.within(unc.geometry.to_numpy(), area.buffer(1e-5)).all()
