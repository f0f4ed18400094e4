"""Exchange with networkx/osmnx: MultiDiGraph <-> :class:`Network`, GraphML and online OSM."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyproj
import shapely

from .._errors import NetworkError
from ._model import Network, haversine_m

logger = logging.getLogger(__name__)


def to_networkx(net: Network) -> nx.MultiDiGraph:
    """An osmnx-compatible MultiDiGraph: both directions of every street.

    Nodes are keyed by ``node_id`` with ``x``/``y`` in WGS84 longitude/latitude and
    ``street_count``; edges carry ``osmid``, ``length`` (metres), ``highway``, ``name`` and
    ``reversed``, plus ``geometry`` (a LineString) where the street is not straight. The graph's
    ``crs`` is ``"epsg:4326"``, as osmnx expects.
    """
    G = nx.MultiDiGraph(
        crs="epsg:4326", simplified=True, **{f"sc_{k}": str(v) for k, v in net.meta.items()}
    )
    degree = np.bincount(np.concatenate([net.edge_u, net.edge_v]), minlength=net.n_nodes)
    G.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y), "street_count": int(d)})
        for i, x, y, d in zip(net.node_id, net.lon, net.lat, degree, strict=True)
    )
    ids = net.node_id
    off = net.geom_offsets
    for e in range(net.n_edges):
        u, v = int(ids[net.edge_u[e]]), int(ids[net.edge_v[e]])
        a, b = off[e], off[e + 1]
        attrs: dict[str, Any] = {"osmid": int(net.edge_osmid[e]), "length": float(net.length[e])}
        if net.edge_highway[e]:
            attrs["highway"] = str(net.edge_highway[e])
        if net.edge_name[e]:
            attrs["name"] = str(net.edge_name[e])
        geom = None
        if b - a > 2:
            geom = shapely.linestrings(net.geom_lon[a:b], net.geom_lat[a:b])
        G.add_edge(u, v, **attrs, reversed=False, **({"geometry": geom} if geom else {}))
        rev = {"geometry": geom.reverse()} if geom is not None else {}
        G.add_edge(v, u, **attrs, reversed=True, **rev)
    return G


def from_networkx(G: nx.MultiGraph | nx.MultiDiGraph | nx.Graph, **meta: Any) -> Network:
    """Convert an osmnx-style graph (any CRS) to a :class:`Network`.

    Directions are ignored (people walk both ways); a street stored once per direction becomes
    one edge. Edges without ``length`` get their great-circle length.
    """
    if G.number_of_edges() == 0:
        raise NetworkError("the graph has no edges; a walking network needs streets")
    crs = G.graph.get("crs", "epsg:4326")
    nodes = list(G.nodes)
    try:
        xs = np.array([float(G.nodes[n]["x"]) for n in nodes])
        ys = np.array([float(G.nodes[n]["y"]) for n in nodes])
    except KeyError as exc:
        raise NetworkError("graph nodes need 'x' and 'y' attributes (osmnx style)") from exc
    to_ll = None
    pcrs = pyproj.CRS.from_user_input(crs)
    if not pcrs.equals(pyproj.CRS.from_epsg(4326)):
        to_ll = pyproj.Transformer.from_crs(pcrs, 4326, always_xy=True)
        xs, ys = to_ll.transform(xs, ys)
    try:
        node_id = np.array([int(n) for n in nodes], np.int64)
    except (TypeError, ValueError):
        node_id = np.arange(len(nodes), dtype=np.int64)
    index = {n: i for i, n in enumerate(nodes)}
    edges = (
        G.edges(keys=True, data=True)
        if G.is_multigraph()
        else ((u, v, 0, d) for u, v, d in G.edges(data=True))
    )
    # A street stored in both directions appears as (u, v) and (v, u): count the copies per
    # direction and keep max(forward, backward) of them, so real parallel streets survive.
    groups: dict[tuple, list[list]] = {}
    for u, v, _k, d in edges:
        iu, iv = index[u], index[v]
        geom = d.get("geometry")
        if geom is not None:
            c = np.asarray(geom.coords, float)
            if to_ll is not None:
                c = np.column_stack(to_ll.transform(c[:, 0], c[:, 1]))
        else:
            c = np.array([[xs[iu], ys[iu]], [xs[iv], ys[iv]]])
        # orient the geometry from u to v
        if np.hypot(*(c[0] - (xs[iu], ys[iu]))) > np.hypot(*(c[-1] - (xs[iu], ys[iu]))):
            c = c[::-1]
        length = d.get("length")
        length = float(
            np.sum(haversine_m(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]))
            if length is None
            else length
        )
        key = (min(iu, iv), max(iu, iv), round(length, 1))
        fwd = iu < iv or (iu == iv and str(d.get("reversed", False)) != "True")
        g = groups.setdefault(key, [[], []])
        g[0 if fwd else 1].append((iu, iv, length, d, c))
    us, vs, lens, osm, hw, nm, coords_l = [], [], [], [], [], [], []
    for fwd, bwd in groups.values():
        if fwd and bwd and fwd[0][0] == fwd[0][1]:  # self-loops stored twice
            chosen = fwd
        else:
            chosen = fwd if len(fwd) >= len(bwd) else bwd
        for iu, iv, length, d, c in chosen:
            us.append(iu)
            vs.append(iv)
            lens.append(length)
            osm.append(_first_int(d.get("osmid", -1)))
            h, n = d.get("highway", ""), d.get("name", "")
            hw.append(str(h[0] if isinstance(h, list) else h))
            nm.append(str(n[0] if isinstance(n, list) else n))
            coords_l.append(c)
    counts = np.array([len(c) for c in coords_l])
    flat = np.concatenate(coords_l)
    return Network(
        node_id=node_id,
        lon=np.asarray(xs, float),
        lat=np.asarray(ys, float),
        edge_u=np.asarray(us, np.int64),
        edge_v=np.asarray(vs, np.int64),
        length=np.asarray(lens, float),
        geom_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        geom_lon=flat[:, 0].copy(),
        geom_lat=flat[:, 1].copy(),
        edge_osmid=np.asarray(osm, np.int64),
        edge_highway=np.asarray(hw, object),
        edge_name=np.asarray(nm, object),
        meta={"source_kind": "networkx", **meta},
    ).select_edges(np.ones(len(us), bool))  # drop isolated nodes


def save_graphml(net: Network, path: str | Path) -> Path:
    """Write ``net`` as GraphML that ``osmnx.load_graphml`` reads (atomically)."""
    import osmnx as ox

    from ..io import atomic_path

    with atomic_path(path) as tmp:
        ox.save_graphml(to_networkx(net), tmp)
    return Path(path)


def read_graphml(path: str | Path) -> Network:
    """Read a GraphML written by osmnx or by ``servicecircle network``."""
    import osmnx as ox

    G = ox.load_graphml(path)
    return from_networkx(G, source=str(path), source_kind="graphml")


def from_osmnx_online(query: str | Any, *, buffer_m: float = 0.0) -> Network:
    """Download the walking network for a place name or WGS84 polygon through osmnx.

    Needs the internet (Nominatim for place names, Overpass for streets).
    """
    import osmnx as ox

    try:
        if isinstance(query, str):
            G = ox.graph_from_place(query, network_type="walk", retain_all=True)
        else:
            poly = shapely.buffer(query, buffer_m / 111_000) if buffer_m else query
            G = ox.graph_from_polygon(poly, network_type="walk", retain_all=True)
    except Exception as exc:  # network failures surface as many types
        raise NetworkError(
            f"could not download the walking network for {query!r} ({exc}). Without internet, "
            "use a downloaded .osm.pbf (e.g. from Geofabrik) or a road shapefile instead"
        ) from exc
    return from_networkx(
        G, source=str(query) if isinstance(query, str) else "polygon", source_kind="osmnx-online"
    )


def _first_int(value: Any) -> int:
    if isinstance(value, list):
        value = value[0] if value else -1
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
