"""The PNG's streets and street labels read straight from the network's vertex arrays (issue 13)
give exactly the vertices of the shapely lines they used to be built from."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REAL_NETWORKS, need_shared
from helpers import grid_network

from geo.maps import _png_layers
from geo.maps._png_layers import line_xy, street_xy
from geo.network import build_network


@pytest.fixture(scope="module")
def real_net():
    return build_network(need_shared(REAL_NETWORKS["optics_valley"]))


def _nets(real_net):
    return [grid_network(9, drop=0.2, seed=3), real_net]


def test_edge_lines_of_some_edges_are_those_of_all_edges(real_net):
    rng = np.random.default_rng(7)
    for net in _nets(real_net):
        pick = rng.choice(net.n_edges, size=min(300, net.n_edges), replace=False)
        for projected in (True, False):
            want = net.edge_lines(projected=projected)[pick]
            got = net.edge_lines(projected=projected, edges=pick)
            assert got.shape == want.shape
            assert all(a.equals_exact(b, 0) for a, b in zip(got, want, strict=True))
        assert net.edge_lines(edges=np.zeros(0, int)).size == 0


@pytest.mark.parametrize("limit", [None, 50])
def test_street_xy_is_line_xy_of_the_longest_edges(real_net, monkeypatch, limit):
    for net in _nets(real_net):
        if limit is not None:
            monkeypatch.setattr(_png_layers, "MAX_STREET_EDGES", limit)
        lines = net.edge_lines(projected=False)
        if lines.size > _png_layers.MAX_STREET_EDGES:  # the former selection, kept as oracle
            lines = lines[np.argsort(-net.length)[: _png_layers.MAX_STREET_EDGES]]
        want = line_xy(lines)
        got = street_xy(net)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)  # NaN breaks in the same rows
        assert np.isnan(got[:, 0]).sum() == min(net.n_edges, _png_layers.MAX_STREET_EDGES) - 1
