"""The grid snapper equals a brute-force search over every edge, whatever the geometry."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import metres_to_lonlat
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage import _segment_grid
from geo.coverage.core import INDEX_CACHE, nearest_segments, segment_index, snap_points
from geo.network import Network


def _polyline_network(rng: np.random.Generator, n_edges: int, span: float) -> Network:
    """Edges with 2-6 vertices each, some zero-length pieces and repeated vertices."""
    counts = rng.integers(2, 7, n_edges)
    xy = rng.uniform(0, span, (int(counts.sum()), 2))
    dup = rng.random(xy.shape[0]) < 0.15  # repeated vertex: a zero-length segment
    dup[np.r_[0, np.cumsum(counts)[:-1]]] = False
    for i in np.flatnonzero(dup):
        xy[i] = xy[i - 1]
    lon, lat = metres_to_lonlat(xy[:, 0], xy[:, 1])
    off = np.r_[0, np.cumsum(counts)]
    first, last = off[:-1], off[1:] - 1
    ends = np.concatenate([first, last])
    return Network(
        node_id=np.arange(ends.size, dtype=np.int64),
        lon=lon[ends],
        lat=lat[ends],
        edge_u=np.arange(n_edges, dtype=np.int64),
        edge_v=np.arange(n_edges, 2 * n_edges, dtype=np.int64),
        length=np.full(n_edges, 1.0),
        geom_offsets=off.astype(np.int64),
        geom_lon=lon,
        geom_lat=lat,
        edge_osmid=np.full(n_edges, -1, np.int64),
        edge_highway=np.full(n_edges, "", object),
        edge_name=np.full(n_edges, "", object),
    )


def _brute(net: Network, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    lines = net.edge_lines()
    return shapely.distance(shapely.points(px, py)[:, None], lines[None, :]).min(axis=1)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    span=st.sampled_from([30.0, 400.0, 5_000.0]),
    far=st.floats(0.0, 200_000.0),
)
def test_grid_snap_equals_brute_force(seed, span, far):
    rng = np.random.default_rng(seed)
    net = _polyline_network(rng, int(rng.integers(1, 25)), span)
    # points inside, around and far outside the network's extent
    pts = rng.uniform(-0.5 * span, 1.5 * span, (60, 2))
    pts[:5] += rng.normal(0, far + 1.0, (5, 2))
    px, py = net.project(*metres_to_lonlat(pts[:, 0], pts[:, 1]))
    snap = snap_points(net, px, py)
    brute = _brute(net, px, py)
    assert np.allclose(snap.leg, brute, rtol=1e-12, atol=1e-7)
    lines = net.edge_lines()
    assert np.all(shapely.distance(shapely.points(snap.x, snap.y), lines[snap.edge]) < 1e-6)
    assert np.allclose(shapely.distance(shapely.points(px, py), lines[snap.edge]), snap.leg)


def test_batches_and_coarse_cells_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(3)
    net = _polyline_network(rng, 200, 3_000.0)
    px, py = net.project(*metres_to_lonlat(*rng.uniform(-500, 3_500, (2, 2_000))))
    want = snap_points(net, px, py)
    monkeypatch.setattr(_segment_grid, "_PAIR_BATCH", 50)  # many small batches
    monkeypatch.setattr(_segment_grid, "MAX_CELLS", 16)  # a few big cells
    INDEX_CACHE.clear(net)
    got = snap_points(net, px, py)
    assert segment_index(net).nx * segment_index(net).ny <= 25
    assert np.array_equal(got.leg, want.leg)
    assert np.allclose(got.t, want.t, atol=1e-6)
    assert np.allclose(_brute(net, px, py), got.leg, rtol=1e-12, atol=1e-7)


def test_missing_points_and_index_cache():
    rng = np.random.default_rng(1)
    net = _polyline_network(rng, 10, 500.0)
    ix = segment_index(net)
    assert segment_index(net) is ix  # built once per network
    INDEX_CACHE.clear(net)
    assert segment_index(net) is not ix
    x = np.array([np.nan, 10.0, np.inf])
    y = np.array([0.0, np.nan, 5.0])
    snap = snap_points(net, x, y)
    assert np.all(snap.edge == -1) and np.all(np.isnan(snap.leg))
    d, seg = nearest_segments(segment_index(net), np.zeros(0), np.zeros(0))
    assert d.size == 0 and seg.size == 0


@pytest.mark.parametrize("cell", [5.0, 50.0, 1_000.0])
def test_cell_size_does_not_change_the_answer(monkeypatch, cell):
    rng = np.random.default_rng(7)
    net = _polyline_network(rng, 80, 2_000.0)
    px, py = net.project(*metres_to_lonlat(*rng.uniform(-300, 2_300, (2, 500))))
    monkeypatch.setattr(_segment_grid, "CELL_M", cell)
    INDEX_CACHE.clear(net)
    snap = snap_points(net, px, py)
    assert np.allclose(snap.leg, _brute(net, px, py), rtol=1e-12, atol=1e-7)


def test_points_far_from_every_street_use_the_coarse_grid():
    rng = np.random.default_rng(11)
    net = _polyline_network(rng, 300, 4_000.0)
    pts = rng.uniform(0, 4_000, (400, 2))
    pts[:200, 0] += 30_000.0  # 26+ km east of the network
    px, py = net.project(*metres_to_lonlat(pts[:, 0], pts[:, 1]))
    INDEX_CACHE.clear(net)
    snap = snap_points(net, px, py)
    assert "coarse" in vars(segment_index(net))  # built on first use, for the far points
    assert np.allclose(snap.leg, _brute(net, px, py), rtol=1e-12, atol=1e-7)
