"""The direct GraphML reader gives exactly what osmnx.load_graphml + from_networkx give."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.network import Network, build_network, from_networkx, save_graphml
from geo.network._model import _ARRAYS
from geo.network._nx import read_graphml

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _same(a: Network, b: Network) -> None:
    for k in _ARRAYS:
        x, y = getattr(a, k), getattr(b, k)
        assert x.shape == y.shape and (x == y).all(), k


def _via_osmnx(path: Path) -> Network:
    ox = pytest.importorskip("osmnx")
    return from_networkx(ox.load_graphml(path), source=str(path), source_kind="graphml")


def test_real_network_round_trip(tmp_path):
    src = SHARED / "wuhan" / "optics_valley.osm"
    if not src.exists():
        pytest.skip(f"real data not found at {src}")
    from geo.config import Config

    net = build_network(src, config=Config(use_cache=False))
    path = save_graphml(net, tmp_path / "ov.graphml")
    fast = read_graphml(path)
    _same(fast, _via_osmnx(path))
    assert fast.meta["source_kind"] == "graphml"
    assert (fast.edge_name != "").any() and (fast.edge_highway != "").any()


def test_lists_entities_projected_crs_and_missing_lengths(tmp_path):
    ox = pytest.importorskip("osmnx")
    G = nx.MultiDiGraph(crs="epsg:32650")
    pts = {1: (500000.0, 3350000.0), 2: (500100.0, 3350000.0), 3: (500100.0, 3350150.0)}
    for n, (x, y) in pts.items():
        G.add_node(n, x=x, y=y)
    bend = shapely.LineString([pts[2], (500160.0, 3350070.0), pts[3]])
    G.add_edge(1, 2, osmid=[11, 12], highway=["footway", "path"], name="A & B <路>", length=100.0)
    G.add_edge(2, 1, osmid=[11, 12], highway=["footway", "path"], name="A & B <路>", length=100.0)
    G.add_edge(2, 3, osmid=13, highway="residential", geometry=bend)
    G.add_edge(3, 3, osmid=14, length=5.0)
    path = tmp_path / "g.graphml"
    ox.save_graphml(G, path)
    fast = read_graphml(path)
    _same(fast, _via_osmnx(path))
    assert fast.n_edges == 3
    assert sorted(fast.edge_name) == ["", "", "A & B <路>"]
    assert fast.edge_osmid.tolist()[0] == 11
    assert np.isclose(fast.lon.min(), 117.0, atol=0.01)  # UTM 50N -> WGS84
