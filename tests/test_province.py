"""Province batch pieces (issue 13): one edge index for every county's clip."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import network_from_edges

from geo._errors import NetworkError
from geo.config import Config
from geo.demo import demo_pbf
from geo.network import EdgeClipper, build_network


def test_edge_clipper_equals_network_clip(tmp_path):
    net = build_network(demo_pbf(), config=Config(cache_dir=tmp_path))
    clipper = EdgeClipper(net)
    lon0, lat0 = float(np.median(net.lon)), float(np.median(net.lat))
    areas = [
        shapely.box(lon0 - 0.004, lat0 - 0.002, lon0, lat0 + 0.002),
        shapely.Point(lon0 + 0.003, lat0).buffer(0.002),
        shapely.box(net.lon.min(), net.lat.min(), lon0, lat0),
    ]
    for area in areas:
        for buf in (0.0, 150.0):
            a, b = net.clip(area, buf), clipper.clip(area, buf)
            assert a.n_edges == b.n_edges and a.n_nodes == b.n_nodes
            assert np.array_equal(a.node_id, b.node_id)
            assert np.array_equal(a.edge_u, b.edge_u) and np.array_equal(a.edge_v, b.edge_v)
            assert np.array_equal(a.length, b.length)


def test_edge_clipper_and_network_clip_fail_alike_off_the_network():
    xy = np.array([[0, 0], [300, 0], [300, 300]], float)
    net = network_from_edges(xy, [(0, 1), (1, 2)])
    far = shapely.Point(float(net.lon.max()) + 0.5, float(net.lat.max()) + 0.5).buffer(0.001)
    msgs = []
    for clip in (net.clip, EdgeClipper(net).clip):
        with pytest.raises(NetworkError, match=r"no street of the network lies within") as err:
            clip(far, 100.0)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1] and "(plus 100 m)" in msgs[0]
    assert net.clip(far, 100_000.0).n_edges == EdgeClipper(net).clip(far, 100_000.0).n_edges == 2
