"""Exchange with networkx/osmnx: MultiDiGraph <-> :class:`Network`, GraphML and online OSM."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from .._errors import NetworkError
from ._model import Network, haversine_m

if TYPE_CHECKING:  # networkx is imported only where a graph is built (0.15 s at start-up)
    import networkx as nx

logger = logging.getLogger(__name__)


def to_networkx(net: Network) -> nx.MultiDiGraph:
    """An osmnx-compatible MultiDiGraph: both directions of every street.

    Nodes are keyed by ``node_id`` with ``x``/``y`` in WGS84 longitude/latitude and
    ``street_count``; edges carry ``osmid``, ``length`` (metres), ``highway``, ``name`` and
    ``reversed``, plus ``geometry`` (a LineString) where the street is not straight. The graph's
    ``crs`` is ``"epsg:4326"``, as osmnx expects.
    """
    import networkx as nx

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
    nodes = list(G.nodes)
    try:
        xs = np.array([float(G.nodes[n]["x"]) for n in nodes])
        ys = np.array([float(G.nodes[n]["y"]) for n in nodes])
    except KeyError as exc:
        raise NetworkError("graph nodes need 'x' and 'y' attributes (osmnx style)") from exc
    index = {n: i for i, n in enumerate(nodes)}
    edges = (
        G.edges(keys=True, data=True)
        if G.is_multigraph()
        else ((u, v, 0, d) for u, v, d in G.edges(data=True))
    )
    rec = _Records()
    for u, v, _k, d in edges:
        geom = d.get("geometry")
        rec.add(
            index[u],
            index[v],
            d.get("length"),
            str(d.get("reversed", False)) == "True",
            _first_int(d.get("osmid", -1)),
            _first_str(d.get("highway", "")),
            _first_str(d.get("name", "")),
            None if geom is None else np.asarray(geom.coords, float)[:, :2],
        )
    return _build(nodes, xs, ys, G.graph.get("crs", "epsg:4326"), rec, meta)


class _Records:
    """Directed edge records collected before the vectorised build."""

    def __init__(self) -> None:
        self.u: list[int] = []
        self.v: list[int] = []
        self.length: list[float] = []
        self.rev: list[bool] = []
        self.osmid: list[int] = []
        self.highway: list[str] = []
        self.name: list[str] = []
        self.geom: list[Any] = []  # coordinate arrays, WKT strings or None

    def add(self, u, v, length, rev, osmid, highway, name, geom) -> None:
        self.u.append(u)
        self.v.append(v)
        self.length.append(np.nan if length is None else float(length))
        self.rev.append(rev)
        self.osmid.append(osmid)
        self.highway.append(highway)
        self.name.append(name)
        self.geom.append(geom)


def _coords(geom: list[Any], xs: np.ndarray, ys: np.ndarray, iu, iv):
    """Flat coordinates of every record (WKT, coordinate array, or None for a straight edge
    between its nodes) and their offsets."""
    from ._model import concat_ranges as _ranges

    n = len(geom)
    kind = np.fromiter(
        (0 if g is None else 1 if isinstance(g, str) else 2 for g in geom), np.int8, n
    )
    wkt = np.flatnonzero(kind == 1)
    arr = np.flatnonzero(kind == 2)
    counts = np.full(n, 2, np.int64)
    if wkt.size:
        wflat, wcounts = _linestring_coords([geom[i] for i in wkt])
        counts[wkt] = wcounts
    if arr.size:
        arrays = [geom[i] for i in arr]
        counts[arr] = [len(c) for c in arrays]
    off = np.concatenate([[0], np.cumsum(counts)])
    flat = np.empty((int(off[-1]), 2))
    if wkt.size:
        flat[_ranges(off[wkt], counts[wkt])] = wflat
    if arr.size:
        flat[_ranges(off[arr], counts[arr])] = np.concatenate(arrays)
    none = np.flatnonzero(kind == 0)
    flat[off[none]] = np.column_stack([xs[iu[none]], ys[iu[none]]])
    flat[off[none] + 1] = np.column_stack([xs[iv[none]], ys[iv[none]]])
    return flat, off


def _linestring_coords(wkt: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of 2-D WKT LineStrings, parsed as one block of numbers (GEOS for others)."""
    head = "LINESTRING ("
    if all(w.startswith(head) and w.endswith(")") for w in wkt):
        body = " , ".join(w[len(head) : -1] for w in wkt)
        nums = np.array(body.replace(",", " ").split(), float)
        counts = np.array([w.count(",") + 1 for w in wkt], np.int64)
        if nums.size == 2 * counts.sum():
            return nums.reshape(-1, 2), counts
    geoms = shapely.from_wkt(np.array(wkt, object))
    flat, which = shapely.get_coordinates(geoms, return_index=True)
    return flat, np.bincount(which, minlength=len(wkt))


def _to_wgs84(crs: Any, xs, ys, flat: np.ndarray):
    """Node and geometry coordinates in WGS84 degrees (unchanged when ``crs`` is WGS84)."""
    pcrs = pyproj.CRS.from_user_input(crs)
    if not pcrs.equals(pyproj.CRS.from_epsg(4326)):
        to_ll = pyproj.Transformer.from_crs(pcrs, 4326, always_xy=True)
        xs, ys = (np.asarray(a) for a in to_ll.transform(xs, ys))
        flat = np.column_stack(to_ll.transform(flat[:, 0], flat[:, 1]))
    return xs, ys, flat


def _node_ids(nodes: list[Any]) -> np.ndarray:
    """Integer node ids, or 0..n-1 when the graph's node keys are not integers."""
    try:
        return np.array([int(n) for n in nodes], np.int64)
    except (TypeError, ValueError):
        return np.arange(len(nodes), dtype=np.int64)


def _orient(flat: np.ndarray, off: np.ndarray, xs, ys, iu: np.ndarray):
    """Every record's geometry turned to run from its ``u`` node; also each point's record."""
    from ._model import concat_ranges as _ranges

    first, last = flat[off[:-1]], flat[off[1:] - 1]
    ux, uy = xs[iu], ys[iu]
    flip = np.hypot(first[:, 0] - ux, first[:, 1] - uy) > np.hypot(last[:, 0] - ux, last[:, 1] - uy)
    counts = np.diff(off)
    pos = _ranges(off[:-1], counts)
    rec_of = np.repeat(np.arange(iu.size), counts)
    j = pos - off[rec_of]
    src = np.where(flip[rec_of], off[rec_of + 1] - 1 - j, pos)
    return flat[src], rec_of


def _lengths(rec: _Records, flat: np.ndarray, rec_of: np.ndarray, n: int) -> np.ndarray:
    """Record lengths (m); a missing one is the haversine length of its geometry."""
    length = np.asarray(rec.length, float)
    miss = np.isnan(length)
    if miss.any():
        seg = haversine_m(flat[:-1, 0], flat[:-1, 1], flat[1:, 0], flat[1:, 1])
        inside = rec_of[:-1] == rec_of[1:]
        sums = np.bincount(rec_of[:-1][inside], weights=seg[inside], minlength=n)
        length = np.where(miss, sums, length)
    return length


def _one_direction(iu: np.ndarray, iv: np.ndarray, length: np.ndarray, rev) -> np.ndarray:
    """Records to keep, groups in first-seen order.

    A street stored in both directions appears as (u, v) and (v, u): per (ends, length)
    group keep the copies of the direction with more of them, so real parallel streets
    survive; self-loops stored twice keep the forward copies.
    """
    lo, hi = np.minimum(iu, iv), np.maximum(iu, iv)
    rl = np.round(length, 1)
    fwd = (iu < iv) | ((iu == iv) & ~np.asarray(rev, bool))
    order = np.lexsort((np.arange(iu.size), rl, hi, lo))
    k = np.column_stack([lo[order], hi[order], rl[order]])
    new = np.r_[True, (k[1:] != k[:-1]).any(axis=1)]
    grp = np.empty(iu.size, np.int64)
    grp[order] = np.cumsum(new) - 1
    n_f = np.bincount(grp, weights=fwd, minlength=grp.max() + 1)
    n_b = np.bincount(grp, weights=~fwd, minlength=grp.max() + 1)
    loop = (lo == hi)[order][new]
    take_fwd = np.where((n_f > 0) & (n_b > 0) & loop, True, n_f >= n_b)
    chosen = fwd == take_fwd[grp]
    first_seen = np.full(grp.max() + 1, iu.size)
    np.minimum.at(first_seen, grp, np.arange(iu.size))
    sel = np.flatnonzero(chosen)
    return sel[np.lexsort((sel, first_seen[grp[sel]]))]


def _build(nodes: list[Any], xs, ys, crs: Any, rec: _Records, meta: dict[str, Any]) -> Network:
    """The shared, vectorised part of :func:`from_networkx` and :func:`read_graphml`."""
    from ._model import concat_ranges as _ranges

    iu = np.asarray(rec.u, np.int64)
    iv = np.asarray(rec.v, np.int64)
    flat, off = _coords(rec.geom, xs, ys, iu, iv)
    xs, ys, flat = _to_wgs84(crs, xs, ys, flat)
    node_id = _node_ids(nodes)
    flat, rec_of = _orient(flat, off, xs, ys, iu)
    length = _lengths(rec, flat, rec_of, iu.size)
    sel = _one_direction(iu, iv, length, rec.rev)
    c = np.diff(off)[sel]
    pts = flat[_ranges(off[:-1][sel], c)]
    return Network(
        node_id=node_id,
        lon=np.asarray(xs, float),
        lat=np.asarray(ys, float),
        edge_u=iu[sel],
        edge_v=iv[sel],
        length=length[sel],
        geom_offsets=np.concatenate([[0], np.cumsum(c)]).astype(np.int64),
        geom_lon=pts[:, 0].copy(),
        geom_lat=pts[:, 1].copy(),
        edge_osmid=np.asarray(rec.osmid, np.int64)[sel],
        edge_highway=np.asarray(rec.highway, object)[sel],
        edge_name=np.asarray(rec.name, object)[sel],
        meta={"source_kind": "networkx", **meta},
    ).select_edges(np.ones(sel.size, bool))  # drop isolated nodes


def save_graphml(net: Network, path: str | Path) -> Path:
    """Write ``net`` as GraphML that ``osmnx.load_graphml`` reads (atomically).

    The file is the one ``osmnx.save_graphml(to_networkx(net))`` writes, streamed from the
    arrays in chunks (no networkx graph; see :mod:`geo.network._graphml`).
    """
    from ..io import atomic_path
    from ._graphml import write_graphml

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        write_graphml(net, fh)
    return Path(path)


def read_graphml(path: str | Path) -> Network:
    """Read a GraphML written by osmnx or by ``servicecircle network``.

    The file is read directly (no networkx graph, no osmnx import): about 10x faster than
    ``osmnx.load_graphml`` followed by :func:`from_networkx`, with the same result. Files in
    a layout this reader does not recognise go through osmnx.
    """
    meta = {"source": str(path), "source_kind": "graphml"}
    try:
        parsed = _parse_graphml(Path(path).read_text(encoding="utf-8"))
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        logger.debug("fast GraphML reader gave up on %s (%s); using osmnx", path, exc)
        parsed = None
    if parsed is None:
        import osmnx as ox

        return from_networkx(ox.load_graphml(path), **meta)
    nodes, xs, ys, crs, rec = parsed
    if not rec.u:
        raise NetworkError("the graph has no edges; a walking network needs streets")
    return _build(nodes, xs, ys, crs, rec, meta)


_KEY = re.compile(r"<key\b([^>]*)>")
_ATTR = re.compile(r'([\w.:-]+)="([^"]*)"')
_NODE = re.compile(r'<node id="([^"]*)"')
_EDGE = re.compile(r'<edge source="([^"]*)" target="([^"]*)"')


def _parse_graphml(text: str):
    """Nodes, coordinates, CRS and edge records of a networkx-written GraphML, read column by
    column with regular expressions (or None for a layout it does not know)."""
    if "<graphml" not in text or "<hyperedge" in text or "<port" in text:
        return None
    ids = {}
    for m in _KEY.finditer(text):
        a = dict(_ATTR.findall(m.group(1)))
        ids[(a.get("for", "all"), a.get("attr.name", a["id"]))] = a["id"]
    node_m = list(_NODE.finditer(text))
    edge_m = list(_EDGE.finditer(text))
    if not node_m or text.count("<node") != len(node_m) or text.count("<edge") != len(edge_m):
        return None
    node_pos = np.array([m.start() for m in node_m])
    edge_pos = np.array([m.start() for m in edge_m])
    if edge_pos.size and node_pos[-1] > edge_pos[0]:
        return None  # nodes must come first, as networkx writes them
    crs = "epsg:4326"
    if ("graph", "crs") in ids:
        found = re.search(f'<data key="{ids["graph", "crs"]}"\\s*>([^<]*)</data>', text)
        crs = _unescape(found.group(1)) if found else crs

    def column(kind: str, name: str, pos: np.ndarray, default: Any) -> np.ndarray:
        out = np.full(pos.size, default, object)
        kid = ids.get((kind, name), ids.get(("all", name)))
        if kid is None:
            return out
        pat = re.compile(f'<data key="{re.escape(kid)}"\\s*>([^<]*)</data>')
        lo = int(pos[0]) if pos.size else 0
        hi = len(text) if kind == "edge" or not edge_pos.size else int(edge_pos[0])
        vals = pat.findall(text, lo, hi)
        if len(vals) == pos.size:  # every element has it: values in element order
            out[:] = vals
            return out
        found = list(pat.finditer(text, lo, hi))
        owner = np.searchsorted(pos, [m.start() for m in found], side="right") - 1
        out[owner] = [m.group(1) for m in found]
        return out

    xs = column("node", "x", node_pos, None)
    ys = column("node", "y", node_pos, None)
    if any(v is None for v in xs) or any(v is None for v in ys):
        raise KeyError("x")
    node_ids = [m.group(1) for m in node_m]
    index = {nid: i for i, nid in enumerate(node_ids)}
    rec = _Records()
    rec.u = [index[m.group(1)] for m in edge_m]
    rec.v = [index[m.group(2)] for m in edge_m]
    rec.length = list(np.asarray(column("edge", "length", edge_pos, "nan"), str).astype(float))
    rec.rev = list(column("edge", "reversed", edge_pos, "False") == "True")
    rec.osmid = list(_texts(column("edge", "osmid", edge_pos, "-1"), _first_int))
    rec.highway = list(_texts(column("edge", "highway", edge_pos, ""), _first_str))
    rec.name = list(_texts(column("edge", "name", edge_pos, ""), _first_str))
    rec.geom = list(column("edge", "geometry", edge_pos, None))
    return node_ids, np.asarray(xs, str).astype(float), np.asarray(ys, str).astype(float), crs, rec


def _texts(col: np.ndarray, first: Any) -> np.ndarray:
    """A GraphML text column: lists ("[a, b]") give their first item; entities unescaped."""
    odd = [i for i, v in enumerate(col) if v[:1] == "[" or "&" in v]
    if first is _first_int:
        try:
            out = np.asarray(col, str).astype(np.int64).astype(object) if not odd else None
        except ValueError:
            out = None
        if out is not None:
            return out
        return np.array([first(_literal(_unescape(v))) for v in col], object)
    out = col.copy()
    for i in odd:
        out[i] = first(_literal(_unescape(col[i])))
    return out


def _unescape(v: str) -> str:
    if "&" not in v:
        return v
    from xml.sax.saxutils import unescape

    return unescape(v, {"&quot;": '"', "&apos;": "'"})


def _literal(v: str) -> Any:
    """Lists as osmnx writes them ("[1, 2]"), else the string itself."""
    if v.startswith("[") and v.endswith("]"):
        import ast

        try:
            return ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v
    return v


def _first_str(value: Any) -> str:
    return str(value[0] if isinstance(value, list) and value else value)


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
