"""Small street pieces are judged by length, and what is dropped is reported."""

from __future__ import annotations

import numpy as np
from helpers import network_from_edges

from geo.config import Config
from geo.network import build_network


def test_long_viaduct_kept_short_fragment_dropped_and_reported():
    # main: a 30 x 30 grid of 100 m blocks (~174 km); a 8.7 km viaduct with 10 nodes; a 200 m
    # two-node fragment; none of them connected to each other
    n = 30
    xy = [(i * 100.0, j * 100.0) for j in range(n) for i in range(n)]
    edges = [(j * n + i, j * n + i + 1) for j in range(n) for i in range(n - 1)]
    edges += [(j * n + i, (j + 1) * n + i) for j in range(n - 1) for i in range(n)]
    base = len(xy)
    xy += [(5000.0 + k * 966.7, 0.0) for k in range(10)]
    edges += [(base + k, base + k + 1) for k in range(9)]
    xy += [(0.0, 5000.0), (200.0, 5000.0)]
    edges += [(base + 10, base + 11)]
    net = network_from_edges(np.array(xy), edges)
    out = build_network(net, config=Config(use_cache=False))
    assert out.meta["islands_dropped"] == 1
    assert abs(out.meta["island_km_dropped"] - 0.2) < 0.01
    assert out.n_nodes == n * n + 10  # the viaduct's 10 nodes stay
    s = out.summary()
    assert s["islands_dropped"] == 1 and s["island_km_dropped"] > 0
    kept = build_network(net, config=Config(use_cache=False), keep_islands=True)
    assert kept.n_nodes == n * n + 12 and "islands_dropped" not in kept.meta
