"""EdgeClipper's box grid (issue 13) keeps exactly the edges ``Network.clip`` keeps: edges with a
vertex in the area, edges that only cross it, across grid cells of any size."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import metres_to_lonlat, network_from_edges

from geo.config import Config
from geo.demo import demo_pbf
from geo.network import EdgeClipper, build_network


def _same(a, b) -> None:
    assert np.array_equal(a.node_id, b.node_id)
    assert np.array_equal(a.edge_u, b.edge_u) and np.array_equal(a.edge_v, b.edge_v)
    assert np.array_equal(a.length, b.length)


def test_an_edge_crossing_the_area_without_a_vertex_in_it_is_kept():
    xy = np.array([[0, 0], [2000, 0], [0, 500], [2000, 500], [5000, 5000], [5100, 5000]], float)
    net = network_from_edges(xy, [(0, 1), (2, 3), (4, 5)])
    lon, lat = metres_to_lonlat(np.array([900.0, 1100.0]), np.array([-100.0, 100.0]))
    area = shapely.box(lon[0], lat[0], lon[1], lat[1])  # 200 m square on the first edge's middle
    got = EdgeClipper(net).clip(area, 0.0)
    assert got.n_edges == 1  # the crossing edge only: no vertex of it lies in the square
    _same(net.clip(area, 0.0), got)


@pytest.mark.parametrize("cell_m", [30.0, 400.0, 5000.0])
def test_clipper_equals_network_clip_on_random_areas(tmp_path, monkeypatch, cell_m):
    monkeypatch.setattr(EdgeClipper, "CELL_M", cell_m)
    net = build_network(demo_pbf(), config=Config(cache_dir=tmp_path))
    clipper = EdgeClipper(net)
    rng = np.random.default_rng(5)
    lo, hi = np.array([net.lon.min(), net.lat.min()]), np.array([net.lon.max(), net.lat.max()])
    for _ in range(12):
        c = lo + rng.random(2) * (hi - lo)
        r = rng.uniform(0.0003, 0.004)
        area = (
            shapely.Point(*c).buffer(r) if rng.random() < 0.5 else shapely.box(*(c - r), *(c + r))
        )
        buf = float(rng.choice([0.0, 40.0, 300.0]))
        _same(net.clip(area, buf), clipper.clip(area, buf))


def _select_edges_oracle(net, mask):
    """``Network.select_edges`` before issue 13: every array masked over all edges and nodes."""
    used = np.zeros(net.n_nodes, bool)
    used[net.edge_u[mask]] = True
    used[net.edge_v[mask]] = True
    new_index = np.cumsum(used) - 1
    counts = np.diff(net.geom_offsets)[mask]
    flat = np.concatenate(
        [np.arange(s, s + c) for s, c in zip(net.geom_offsets[:-1][mask], counts, strict=True)]
        or [np.zeros(0, np.int64)]
    )
    return {
        "node_id": net.node_id[used],
        "lon": net.lon[used],
        "lat": net.lat[used],
        "edge_u": new_index[net.edge_u[mask]],
        "edge_v": new_index[net.edge_v[mask]],
        "length": net.length[mask],
        "geom_offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "geom_lon": net.geom_lon[flat],
        "geom_lat": net.geom_lat[flat],
        "edge_osmid": net.edge_osmid[mask],
        "edge_highway": net.edge_highway[mask],
        "edge_name": net.edge_name[mask],
    }


def test_select_edges_equals_the_masked_arrays(tmp_path):
    net = build_network(demo_pbf(), config=Config(cache_dir=tmp_path))
    rng = np.random.default_rng(11)
    for share in (0.0, 0.01, 0.3, 1.0):
        mask = rng.random(net.n_edges) < share
        got = net.select_edges(mask, note="x")
        for name, want in _select_edges_oracle(net, mask).items():
            have = getattr(got, name)
            assert have.dtype == want.dtype, name
            assert np.array_equal(have, want), name
        assert got.meta["note"] == "x"
    with pytest.raises(IndexError):
        net.select_edges(np.ones(net.n_edges + 1, bool))
