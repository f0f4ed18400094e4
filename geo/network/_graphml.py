"""Write a :class:`Network` as osmnx-style GraphML in chunks, without a networkx graph.

The file is the one ``osmnx.save_graphml(to_networkx(net))`` writes, byte for byte: the same
keys in the same order, both directions of every street in networkx's adjacency order, values
stringified as osmnx does. Building the networkx graph first took 130 s and 9.0 GB for a
province (issue 13); here memory is a few arrays over the edges plus one chunk of text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import numpy as np
import shapely

from ._model import Network

#: Directed edges formatted per chunk of text.
CHUNK_EDGES = 100_000
_NS = (
    'xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"'
)
_EDGE_ATTRS = ("osmid", "length", "highway", "name", "reversed", "geometry")


def _text(value: str) -> str:
    """XML character data, escaped as ElementTree does."""
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def _attrib(value: str) -> str:
    """An XML attribute value, escaped as ElementTree does."""
    value = _text(value).replace('"', "&quot;")
    return value.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _directed_order(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both directions of every edge in networkx's iteration order, with their keys.

    ``to_networkx`` adds edge ``e`` as (u, v) then (v, u); networkx lists edges by source node
    (in node order), then by neighbour in the order it first appeared, then by key (0, 1, ...
    in insertion order). Returns (source, target, edge, reversed) per directed edge.
    """
    n_e = net.n_edges
    src = np.empty(2 * n_e, np.int64)
    dst = np.empty(2 * n_e, np.int64)
    src[0::2], src[1::2] = net.edge_u, net.edge_v
    dst[0::2], dst[1::2] = net.edge_v, net.edge_u
    created = np.arange(2 * n_e)
    pair = src * np.int64(max(net.n_nodes, 1)) + dst
    order = np.lexsort((created, pair))
    first = np.flatnonzero(np.r_[True, pair[order][1:] != pair[order][:-1]])
    group_first = np.repeat(created[order][first], np.diff(np.r_[first, order.size]))
    pair_first = np.empty_like(created)
    pair_first[order] = group_first
    out = np.lexsort((created, pair_first, src))
    return src[out], dst[out], out // 2, (out % 2).astype(bool)


def _keys(sorted_pair: np.ndarray) -> np.ndarray:
    """Parallel-edge keys: the rank of each directed edge within its (source, target)."""
    n = sorted_pair.size
    start = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]]) if n else sorted_pair
    return np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))


class _Keys:
    """networkx's key table: ids in order of discovery, listed newest first."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], str] = {}

    def add(self, scope: str, name: str) -> str:
        return self.ids.setdefault((scope, name), f"d{len(self.ids)}")

    def xml(self) -> str:
        return "".join(
            f'  <key id="{kid}" for="{scope}" attr.name="{_attrib(name)}" attr.type="string" />\n'
            for (scope, name), kid in reversed(self.ids.items())
        )


def write_graphml(net: Network, fh: IO[str]) -> None:
    """Write ``net`` to the text stream ``fh`` (UTF-8) as osmnx's GraphML."""
    graph = {"crs": "epsg:4326", "simplified": "True"}
    graph.update({f"sc_{k}": str(v) for k, v in net.meta.items()})
    keys = _Keys()
    gkeys = [keys.add("graph", k) for k in graph]
    nkeys = [keys.add("node", k) for k in ("x", "y", "street_count")]
    src, dst, edge, rev = _directed_order(net)
    curved = np.diff(net.geom_offsets) > 2
    present = {
        "highway": net.edge_highway[edge] != "",
        "name": net.edge_name[edge] != "",
        "geometry": curved[edge],
    }
    first_at = {a: int(np.argmax(present[a])) if a in present else 0 for a in _EDGE_ATTRS}
    seen = [a for a in _EDGE_ATTRS if a not in present or present[a].any()]
    ekeys = {a: keys.add("edge", a) for a in sorted(seen, key=lambda a: first_at[a])}
    fh.write(f"<?xml version='1.0' encoding='utf-8'?>\n<graphml {_NS}>\n")
    fh.write(keys.xml())
    fh.write('  <graph edgedefault="directed">\n')
    for part in _node_chunks(net, nkeys):
        fh.write(part)
    keys_of = _keys(src * np.int64(max(net.n_nodes, 1)) + dst)
    for lo in range(0, src.size, CHUNK_EDGES):
        sl = slice(lo, lo + CHUNK_EDGES)
        fh.write(_edge_chunk(net, src[sl], dst[sl], edge[sl], rev[sl], keys_of[sl], ekeys))
    for kid, value in zip(gkeys, graph.values(), strict=True):
        fh.write(f'    <data key="{kid}">{_text(value)}</data>\n')
    fh.write("  </graph>\n</graphml>\n")


def _node_chunks(net: Network, nkeys: list[str]) -> Iterator[str]:
    degree = np.bincount(np.concatenate([net.edge_u, net.edge_v]), minlength=net.n_nodes)
    kx, ky, kd = nkeys
    for lo in range(0, net.n_nodes, CHUNK_EDGES):
        sl = slice(lo, lo + CHUNK_EDGES)
        yield "".join(
            f'    <node id="{i}">\n      <data key="{kx}">{x!r}</data>\n'
            f'      <data key="{ky}">{y!r}</data>\n      <data key="{kd}">{d}</data>\n'
            "    </node>\n"
            for i, x, y, d in zip(
                net.node_id[sl].tolist(),
                net.lon[sl].tolist(),
                net.lat[sl].tolist(),
                degree[sl].tolist(),
                strict=True,
            )
        )


def _wkt(net: Network, edge: np.ndarray, rev: np.ndarray) -> list[str | None]:
    """WKT of each directed edge's geometry (reversed where ``rev``), None when straight."""
    off = net.geom_offsets
    counts = off[edge + 1] - off[edge]
    out: list[str | None] = [None] * edge.size
    bent = np.flatnonzero(counts > 2)
    if bent.size == 0:
        return out
    c = counts[bent]
    start = np.repeat(np.cumsum(c) - c, c)
    j = np.arange(int(c.sum())) - start  # position within the geometry
    base = np.repeat(off[edge[bent]], c)
    last = np.repeat(off[edge[bent]] + c - 1, c)
    idx = np.where(np.repeat(rev[bent], c), last - j, base + j)
    coords = np.column_stack([net.geom_lon[idx], net.geom_lat[idx]])
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(bent.size), c))
    for i, w in zip(bent.tolist(), shapely.to_wkt(lines, rounding_precision=-1), strict=True):
        out[i] = w
    return out


def _edge_chunk(net, src, dst, edge, rev, keys, ekeys: dict[str, str]) -> str:
    ids = net.node_id
    highway = net.edge_highway[edge]
    name = net.edge_name[edge]
    rows = zip(
        ids[src].tolist(),
        ids[dst].tolist(),
        keys.tolist(),
        net.edge_osmid[edge].tolist(),
        net.length[edge].tolist(),
        highway.tolist(),
        name.tolist(),
        rev.tolist(),
        _wkt(net, edge, rev),
        strict=True,
    )
    k = {a: ekeys.get(a, "") for a in _EDGE_ATTRS}
    parts = []
    for u, v, key, osmid, length, hw, nm, r, wkt in rows:
        parts.append(
            f'    <edge source="{u}" target="{v}" id="{key}">\n'
            f'      <data key="{k["osmid"]}">{osmid}</data>\n'
            f'      <data key="{k["length"]}">{length!r}</data>\n'
        )
        if hw:
            parts.append(f'      <data key="{k["highway"]}">{_text(str(hw))}</data>\n')
        if nm:
            parts.append(f'      <data key="{k["name"]}">{_text(str(nm))}</data>\n')
        parts.append(f'      <data key="{k["reversed"]}">{r}</data>\n')
        if wkt is not None:
            parts.append(f'      <data key="{k["geometry"]}">{wkt}</data>\n')
        parts.append("    </edge>\n")
    return "".join(parts)
