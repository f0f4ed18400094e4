"""Networks from every source: OSM XML/PBF, road lines, GraphML, online (recorded), the cache."""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from conftest import DISTRICTS, REAL_NETWORKS, need_shared

from geo._errors import NetworkError
from geo.config import Config
from geo.demo import demo_pbf
from geo.network import build_network, is_walkable, save_graphml, to_networkx
from geo.network._lines import read_lines


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(REAL_NETWORKS))
def test_every_shared_network_loads(name, cfg):
    net = build_network(need_shared(REAL_NETWORKS[name]), config=cfg)
    s = net.summary()
    assert s["nodes"] > 400 and s["edges"] > 700
    assert net.length.min() >= 0 and np.isfinite(net.length).all()
    assert s["metric_crs"] in ("EPSG:32650", "EPSG:32651")
    # the CSR is symmetric and carries the lengths
    csr = net.csr
    assert (csr != csr.T).nnz == 0
    assert csr.shape == (net.n_nodes, net.n_nodes)


@pytest.mark.realdata
def test_clip_to_district_with_buffer(cfg):
    districts = gpd.read_file(need_shared(DISTRICTS))
    jianghan = districts[districts["name"].str.contains("Jianghan")]
    full = build_network(REAL_NETWORKS["roads_central"], config=cfg)
    clipped = build_network(REAL_NETWORKS["roads_central"], config=cfg, boundary=jianghan)
    assert 0 < clipped.n_edges < full.n_edges
    area = shapely.union_all(jianghan.geometry.values)
    mid = shapely.points(clipped.lon, clipped.lat)
    # streets beyond the border but within the buffer are kept
    assert (~shapely.within(mid, area)).any()
    assert clipped.meta["clip_buffer_m"] == cfg.clip_buffer_m


def test_graphml_round_trip_readable_by_osmnx(tmp_path, cfg):
    net = build_network(demo_pbf(), config=cfg)
    path = save_graphml(net, tmp_path / "walk.graphml")
    G = ox.load_graphml(path)
    assert G.number_of_nodes() == net.n_nodes
    assert G.number_of_edges() == 2 * net.n_edges
    xs = [d["x"] for _, d in G.nodes(data=True)]
    assert 24.9 < min(xs) and max(xs) < 25.0  # longitude, Helsinki
    _, _, d = next(iter(G.edges(data=True)))
    assert isinstance(d["length"], float)
    curved = [d for *_, d in G.edges(data=True) if "geometry" in d]
    assert curved and curved[0]["geometry"].geom_type == "LineString"
    again = build_network(path, config=cfg)
    assert again.n_edges == net.n_edges
    assert abs(again.length.sum() - net.length.sum()) < 1e-6


def _osm_xml(n_ways: int) -> str:
    nodes, ways = [], []
    for w in range(n_ways):
        for k in range(3):
            nid = w * 10 + k + 1
            nodes.append(f'<node id="{nid}" lat="{30.60 + 0.001 * w}" lon="{114.30 + 0.001 * k}"/>')
        refs = "".join(f'<nd ref="{w * 10 + k + 1}"/>' for k in range(3))
        ways.append(f'<way id="{100 + w}">{refs}<tag k="highway" v="residential"/></way>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
        + "".join(nodes)
        + "".join(ways)
        + "</osm>"
    )


def test_cache_hit_and_invalidation(tmp_path, caplog):
    src = tmp_path / "area.osm"
    src.write_text(_osm_xml(2), encoding="utf-8")
    cache = tmp_path / "cache"
    cfg = Config(cache_dir=cache)
    a = build_network(src, config=cfg)
    assert a.n_edges == 2 and len(list(cache.glob("*.npz"))) == 1
    with caplog.at_level(logging.INFO, logger="geo.network"):
        b = build_network(src, config=cfg)
    assert "from cache" in caplog.text
    assert np.array_equal(a.length, b.length) and np.array_equal(a.node_id, b.node_id)
    # other parameters: another entry
    build_network(src, config=cfg, keep_islands=True)
    assert len(list(cache.glob("*.npz"))) == 2
    # same content rewritten: same key, no new entry
    src.write_text(_osm_xml(2), encoding="utf-8")
    build_network(src, config=cfg)
    assert len(list(cache.glob("*.npz"))) == 2
    # changed content: rebuilt under a new key, with the new street
    src.write_text(_osm_xml(3), encoding="utf-8")
    c = build_network(src, config=cfg)
    assert c.n_edges == 3 and len(list(cache.glob("*.npz"))) == 3
    # without the cache nothing is written
    build_network(src, config=cfg.replace(use_cache=False), largest_component=True)
    assert len(list(cache.glob("*.npz"))) == 3


def test_walk_filter_matches_osmnx():
    assert is_walkable({"highway": "residential"})
    assert is_walkable({"highway": "footway"})
    assert not is_walkable({"highway": "motorway"})
    assert not is_walkable({"highway": "motorway_link"})
    assert not is_walkable({"highway": "cycleway"})
    assert not is_walkable({"highway": "primary", "foot": "no"})
    assert not is_walkable({"highway": "service", "access": "private"})
    assert not is_walkable({"highway": "pedestrian", "area": "yes"})
    assert not is_walkable({"highway": "primary", "sidewalk": "separate"})
    assert not is_walkable({"building": "yes"})


def _lines(tmp_path, bridge):
    g = gpd.GeoDataFrame(
        {"name": ["east-west", "north-south"], "bridge": ["no", "yes" if bridge else "no"]},
        geometry=[
            shapely.LineString([(114.30, 30.60), (114.32, 30.60)]),
            shapely.LineString([(114.31, 30.59), (114.31, 30.61)]),
        ],
        crs=4326,
    )
    p = tmp_path / f"roads_{bridge}.gpkg"
    g.to_file(p)
    return p


def test_road_lines_split_at_crossings_but_not_bridges(tmp_path):
    at_grade = read_lines(_lines(tmp_path, False))
    assert at_grade.n_nodes == 5 and at_grade.n_edges == 4  # joined at the crossing
    bridged = read_lines(_lines(tmp_path, True))
    assert bridged.n_nodes == 4 and bridged.n_edges == 2  # the bridge passes over
    assert int(bridged.component_labels.max()) == 1
    only_vertices = read_lines(_lines(tmp_path, False), noding="vertices")
    assert only_vertices.n_edges == 2


def test_road_lines_shared_vertices_and_slivers(tmp_path):
    # a T junction sharing an interior vertex, and an end 0.2 m short of a vertex
    g = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(114.30, 30.60), (114.31, 30.60), (114.32, 30.60)]),
            shapely.LineString([(114.31, 30.60), (114.31, 30.61)]),
            shapely.LineString([(114.32, 30.600002), (114.33, 30.60)]),
        ],
        crs=4326,
    )
    p = tmp_path / "t.shp"
    g.to_file(p)
    net = read_lines(p, noding="vertices")
    assert int(net.component_labels.max()) == 0  # all one piece
    assert net.n_edges == 4


def test_empty_and_disconnected_networks(tmp_path, caplog):
    g = gpd.GeoDataFrame(geometry=[shapely.Point(114.3, 30.6)], crs=4326)
    p = tmp_path / "points.gpkg"
    g.to_file(p)
    with pytest.raises(NetworkError, match="no usable road lines"):
        build_network(p, config=Config(use_cache=False))
    two = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(114.30, 30.60), (114.32, 30.60)]),
            shapely.LineString([(114.40, 30.70), (114.42, 30.70)]),
        ],
        crs=4326,
    )
    q = tmp_path / "two.gpkg"
    two.to_file(q)
    with caplog.at_level(logging.WARNING):
        net = build_network(q, config=Config(use_cache=False))
    assert "2 disconnected pieces" in caplog.text and "--largest-component" in caplog.text
    assert net.n_edges == 2
    one = build_network(q, config=Config(use_cache=False), largest_component=True)
    assert one.n_edges == 1


def _recorded_overpass(lon0=114.30, lat0=30.60, n=4, step=0.002):
    """An Overpass API response of the kind osmnx receives: a small street grid."""
    elements, nid = [], 1
    ids = {}
    for j in range(n):
        for i in range(n):
            ids[i, j] = nid
            elements.append(
                {"type": "node", "id": nid, "lat": lat0 + j * step, "lon": lon0 + i * step}
            )
            nid += 1
    wid = 1000
    for j in range(n):
        elements.append(
            {
                "type": "way",
                "id": wid,
                "nodes": [ids[i, j] for i in range(n)],
                "tags": {"highway": "residential", "name": f"街{j}"},
            }
        )
        wid += 1
    for i in range(n):
        elements.append(
            {
                "type": "way",
                "id": wid,
                "nodes": [ids[i, j] for j in range(n)],
                "tags": {"highway": "footway"},
            }
        )
        wid += 1
    return {"version": 0.6, "generator": "Overpass API (recorded)", "elements": elements}


def test_online_path_with_recorded_response(monkeypatch):
    import osmnx._overpass as op

    calls = []

    def fake_request(data, *args, **kwargs):
        calls.append(data)
        return _recorded_overpass()

    monkeypatch.setattr(op, "_overpass_request", fake_request)
    area = shapely.box(114.299, 30.599, 114.307, 30.607)
    net = build_network(area, config=Config(use_cache=False))
    assert calls, "osmnx did not query Overpass"
    assert "highway" in str(calls[0])
    assert net.meta["source_kind"] == "osmnx-online"
    # osmnx simplifies away the four degree-2 corners of the 4 x 4 grid
    assert net.n_nodes == 12 and net.n_edges == 20
    from geo.network import haversine_m

    want = 12 * float(haversine_m(114.30, 30.60, 114.302, 30.60)) + 12 * float(
        haversine_m(114.30, 30.60, 114.30, 30.602)
    )
    assert net.length.sum() == pytest.approx(want, rel=1e-3)
    G = to_networkx(net)
    assert nx.is_strongly_connected(G)


def test_online_failure_message(monkeypatch):
    import osmnx._overpass as op

    def offline(*a, **k):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(op, "_overpass_request", offline)
    with pytest.raises(NetworkError, match="downloaded .osm.pbf"):
        build_network(shapely.box(114.3, 30.6, 114.31, 30.61), config=Config(use_cache=False))
