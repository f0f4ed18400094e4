"""Streamed GraphML export (issue 13): the same bytes as osmnx.save_graphml(to_networkx(net))."""

from __future__ import annotations

import numpy as np
import pytest

from geo.demo import demo_pbf
from geo.network import Network, read_graphml, save_graphml, to_networkx
from geo.network._osm import read_osm

ox = pytest.importorskip("osmnx")


def _odd_network() -> Network:
    """Parallel streets, a self-loop, a loop street with a bend, names needing escapes, a
    first edge without highway or name, meta with quotes and line breaks."""
    lon = np.array([114.0, 114.001, 114.002, 114.0015])
    lat = np.array([30.0, 30.0005, 30.0, 30.001])
    u = np.array([0, 0, 1, 1, 2, 2, 3, 1])
    v = np.array([1, 1, 2, 1, 3, 0, 3, 0])
    geoms = [
        [0, 1],
        [0, 3, 1],
        [1, 2],
        [1, 3, 2, 1],
        [2, 3],
        [2, 1, 0],
        [3, 0, 2, 3],
        [1, 0],
    ]
    flat = np.concatenate(geoms)
    off = np.concatenate([[0], np.cumsum([len(g) for g in geoms])])
    return Network(
        node_id=np.array([5, 7, 11, 2**40]),
        lon=lon,
        lat=lat,
        edge_u=u,
        edge_v=v,
        length=np.array([60.5, 80.25, 70.0, 200.0, 90.0, 150.0, 300.0, 60.5]),
        geom_offsets=off.astype(np.int64),
        geom_lon=lon[flat],
        geom_lat=lat[flat],
        edge_osmid=np.array([1, 2, 3, 4, 5, 6, 7, 1]),
        edge_highway=np.array(["", "footway", "path", "steps", "a&b", "x<y>", "", ""], object),
        edge_name=np.array(["", "", "A & B <路>", "", 'q"uote', "", "环路", ""], object),
        meta={"source": 'a "b" <c>\n&d', "n": 3},
    )


@pytest.mark.parametrize("which", ["helsinki", "odd"])
def test_same_bytes_as_osmnx(which, tmp_path):
    net = read_osm(demo_pbf()) if which == "helsinki" else _odd_network()
    ours = save_graphml(net, tmp_path / "ours.graphml")
    theirs = tmp_path / "osmnx.graphml"
    ox.save_graphml(to_networkx(net), theirs)
    assert ours.read_bytes() == theirs.read_bytes()
    G = ox.load_graphml(ours)  # and osmnx reads it back
    assert G.number_of_edges() == 2 * net.n_edges
    if which == "helsinki":
        back = read_graphml(ours)
        assert back.n_edges == net.n_edges
        assert np.isclose(back.length.sum(), net.length.sum())
