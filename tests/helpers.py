"""Small builders for tests: synthetic networks and random points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.network import Network, from_networkx, haversine_m

LON0, LAT0 = 114.30, 30.55  # Wuhan
M_PER_DEG_LAT = 111_195.0


def metres_to_lonlat(x, y):
    lon = LON0 + np.asarray(x) / (M_PER_DEG_LAT * np.cos(np.radians(LAT0)))
    lat = LAT0 + np.asarray(y) / M_PER_DEG_LAT
    return lon, lat


def network_from_edges(
    xy: np.ndarray, edges: list[tuple[int, int]], lengths: list[float] | None = None
) -> Network:
    """A network from node positions in metres (around Wuhan) and (u, v) pairs."""
    import networkx as nx

    lon, lat = metres_to_lonlat(xy[:, 0], xy[:, 1])
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(len(xy)):
        G.add_node(i, x=float(lon[i]), y=float(lat[i]))
    for k, (u, v) in enumerate(edges):
        length = (
            lengths[k]
            if lengths is not None
            else float(haversine_m(lon[u], lat[u], lon[v], lat[v]))
        )
        G.add_edge(u, v, length=length)
    return from_networkx(G)


def grid_network(n: int = 8, spacing: float = 100.0, drop: float = 0.0, seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    xy = np.array([(i * spacing, j * spacing) for j in range(n) for i in range(n)], float)
    xy += rng.normal(0, spacing * 0.05, xy.shape)
    edges = []
    for j in range(n):
        for i in range(n):
            a = j * n + i
            if i + 1 < n and rng.random() >= drop:
                edges.append((a, a + 1))
            if j + 1 < n and rng.random() >= drop:
                edges.append((a, a + n))
    return network_from_edges(xy, edges)


def random_points(net: Network, n: int, rng, pad_deg: float = 0.002, **cols) -> gpd.GeoDataFrame:
    lon = rng.uniform(net.lon.min() - pad_deg, net.lon.max() + pad_deg, n)
    lat = rng.uniform(net.lat.min() - pad_deg, net.lat.max() + pad_deg, n)
    return gpd.GeoDataFrame(cols, geometry=shapely.points(lon, lat), crs=4326)


def awkward_graph(*, max_nodes: int = 9, span: float = 600.0, max_edges: int = 16, normal: int = 2):
    """Hypothesis strategy: small graphs (node positions in metres, (u, v) pairs, lengths) with
    self-loops, parallel edges and zero or stretched lengths."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        n = draw(st.integers(2, max_nodes))
        xy = np.array([[draw(st.floats(0, span)), draw(st.floats(0, span))] for _ in range(n)])
        kinds = ["normal"] * normal + ["self", "zero", "parallel"]
        edges, lengths = [], []
        for _ in range(draw(st.integers(1, max_edges))):
            u = draw(st.integers(0, n - 1))
            kind = draw(st.sampled_from(kinds))
            v = u if kind == "self" else draw(st.integers(0, n - 1))
            d = float(np.hypot(*(xy[u] - xy[v])))
            length = 0.0 if kind == "zero" else d * draw(st.floats(1.0, 1.5))
            if kind == "self":
                length += draw(st.floats(1, 50))
            edges.append((u, v))
            lengths.append(length)
            if kind == "parallel":
                edges.append((u, v))
                lengths.append(length + draw(st.floats(0, 100)))
        return xy, edges, lengths

    return build()
