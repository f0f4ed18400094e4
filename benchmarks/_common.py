"""Shared helpers for benchmarks: generated street-like networks, timing, peak memory."""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager

import numpy as np

from geo.network import Network, haversine_m

LON0, LAT0 = 114.0, 30.3  # Hubei
M_PER_DEG = 111_195.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def timer(out: dict, key: str):
    t0 = time.perf_counter()
    yield
    out[key] = round(time.perf_counter() - t0, 4)


def street_grid(
    n_nodes: int, spacing_m: float = 80.0, drop: float = 0.12, seed: int = 0
) -> Network:
    """A street-like network of about ``n_nodes`` nodes: a jittered grid with missing links.

    Blocks of ``spacing_m`` with 5% positional jitter; a share ``drop`` of links removed at
    random (dead ends, superblocks), plus occasional diagonals; straight edges.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side))
    x = ii.ravel() * spacing_m + rng.normal(0, spacing_m * 0.05, side * side)
    y = jj.ravel() * spacing_m + rng.normal(0, spacing_m * 0.05, side * side)
    idx = np.arange(side * side).reshape(side, side)
    h = np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    v = np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])
    d = np.column_stack([idx[:-1, :-1].ravel(), idx[1:, 1:].ravel()])
    d = d[rng.random(len(d)) < 0.03]
    e = np.concatenate([h, v, d])
    e = e[rng.random(len(e)) >= drop]
    lon = LON0 + x / (M_PER_DEG * np.cos(np.radians(LAT0)))
    lat = LAT0 + y / M_PER_DEG
    used = np.zeros(lon.size, bool)
    used[e.ravel()] = True
    remap = np.cumsum(used) - 1
    lon, lat = lon[used], lat[used]
    u, w = remap[e[:, 0]], remap[e[:, 1]]
    m = len(u)
    glon = np.column_stack([lon[u], lon[w]]).ravel()
    glat = np.column_stack([lat[u], lat[w]]).ravel()
    return Network(
        node_id=np.arange(lon.size, dtype=np.int64),
        lon=lon,
        lat=lat,
        edge_u=u,
        edge_v=w,
        length=haversine_m(lon[u], lat[u], lon[w], lat[w]),
        geom_offsets=np.arange(0, 2 * m + 1, 2, dtype=np.int64),
        geom_lon=glon,
        geom_lat=glat,
        edge_osmid=np.full(m, -1, np.int64),
        edge_highway=np.full(m, "", object),
        edge_name=np.full(m, "", object),
        meta={"source": f"street_grid({n_nodes})"},
    )


def random_points_near(net: Network, n: int, rng, jitter_m: float = 60.0):
    """Points scattered around random nodes, in the network's metric CRS."""
    pick = rng.integers(0, net.n_nodes, n)
    xy = net.xy[pick] + rng.normal(0, jitter_m, (n, 2))
    return xy[:, 0], xy[:, 1]
