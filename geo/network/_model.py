"""The walking network as arrays: what every stage computes on.

A :class:`Network` holds one undirected edge per street piece (walking ignores one-way rules),
with its length in metres and its geometry as ragged coordinate arrays. It converts to and from
osmnx-style networkx graphs, which are the exchange format, and exposes the compressed sparse
row (CSR) adjacency that the coverage engine runs Dijkstra on.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely

from .. import crs as _crs
from .._errors import NetworkError

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius, as osmnx's great_circle uses
#: Length given to zero-length edges in the CSR matrix, because scipy's csgraph treats stored
#: zeros as missing edges. 1 micrometre: far below any reported precision.
ZERO_LENGTH_M = 1e-6

_ARRAYS = (
    "node_id",
    "lon",
    "lat",
    "edge_u",
    "edge_v",
    "length",
    "geom_offsets",
    "geom_lon",
    "geom_lat",
    "edge_osmid",
    "edge_highway",
    "edge_name",
)


#: The networks' text columns (saved as codes into their distinct values).
_TEXT = ("edge_highway", "edge_name")


def _text_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, distinct)`` with ``distinct.astype(object)[codes]`` equal to ``values`` as
    text (what ``values.astype(str)`` gives)."""
    import pandas as pd

    codes, distinct = pd.factorize(np.asarray(values, object), use_na_sentinel=False)
    dtype = np.int32 if distinct.size < 2**31 else np.int64
    return codes.astype(dtype), np.asarray(distinct, object).astype(str)


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres between WGS84 points (vectorised)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, float)) for a in (lon1, lat1, lon2, lat2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _consecutive_haversine_m(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """``haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])``, the same doubles, with each
    vertex's radians and cosine computed once rather than twice."""
    lon_r, lat_r = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    cos_lat = np.cos(lat_r)
    a = (
        np.sin((lat_r[1:] - lat_r[:-1]) / 2) ** 2
        + cos_lat[:-1] * cos_lat[1:] * np.sin((lon_r[1:] - lon_r[:-1]) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def empty_clip_error(buffer_m: float) -> NetworkError:
    """The error for a clip area (grown by ``buffer_m``) that no street of the network touches."""
    return NetworkError(
        "no street of the network lies within the boundary (plus "
        f"{buffer_m:.0f} m); check that the boundary and network cover the same place "
        "and that the boundary's CRS is right (Amap boundaries are GCJ-02)"
    )


@dataclass(frozen=True, eq=False)
class Network:
    """An undirected walking network stored as NumPy arrays.

    Attributes
    ----------
    node_id : int64 (N,)
        Node identifiers (OSM node ids, or generated ones for road shapefiles).
    lon, lat : float64 (N,)
        Node coordinates, WGS84 degrees.
    edge_u, edge_v : int64 (E,)
        Edge end points as indices into the node arrays.
    length : float64 (E,)
        Edge length in metres (great-circle length of the geometry).
    geom_offsets : int64 (E+1,)
        Edge ``e``'s geometry is ``geom_lon/geom_lat[geom_offsets[e]:geom_offsets[e+1]]``,
        running from ``edge_u[e]`` to ``edge_v[e]``; at least two points.
    geom_lon, geom_lat : float64 (M,)
        Flat geometry coordinates, WGS84 degrees.
    edge_osmid : int64 (E,)
        Source way or line id (-1 when unknown).
    edge_highway, edge_name : str (E,)
        OSM highway class and street name ("" when unknown).
    meta : dict
        Provenance: source file, its hash, build parameters.
    """

    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length: np.ndarray
    geom_offsets: np.ndarray
    geom_lon: np.ndarray
    geom_lat: np.ndarray
    edge_osmid: np.ndarray
    edge_highway: np.ndarray
    edge_name: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    # -- sizes and summaries ------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return int(self.node_id.size)

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.size)

    def __repr__(self) -> str:
        return (
            f"Network({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.length.sum() / 1000:,.1f} km, source={self.meta.get('source')!r})"
        )

    def summary(self) -> dict[str, Any]:
        """Counts, total length, connected pieces and the bounding box."""
        labels = self.component_labels
        n_comp = int(labels.max()) + 1 if labels.size else 0
        largest = float(np.bincount(labels).max() / max(self.n_nodes, 1)) if n_comp else 0.0
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "length_km": round(float(self.length.sum()) / 1000, 3),
            "components": n_comp,
            "largest_component_node_share": round(largest, 4),
            "metric_crs": self.metric_crs.to_string(),
            "bbox": [
                float(self.lon.min()),
                float(self.lat.min()),
                float(self.lon.max()),
                float(self.lat.max()),
            ]
            if self.n_nodes
            else None,
            **{
                k: v
                for k, v in self.meta.items()
                if k
                in (
                    "source",
                    "source_kind",
                    "islands_dropped",
                    "island_km_dropped",
                    "island_nodes_dropped",
                )
            },
        }

    # -- projected views -----------------------------------------------------------------------
    @cached_property
    def metric_crs(self) -> pyproj.CRS:
        """The local UTM zone used for all distance work (metres)."""
        return _crs.utm_crs(self.lon, self.lat)

    @cached_property
    def _to_metric(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs(4326, self.metric_crs, always_xy=True)

    def project(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 longitude/latitude to this network's metric CRS (metres)."""
        x, y = self._to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x), np.asarray(y)

    @cached_property
    def xy(self) -> np.ndarray:
        """Node coordinates in the metric CRS, shape (N, 2)."""
        return np.column_stack(self.project(self.lon, self.lat))

    @cached_property
    def geom_xy(self) -> np.ndarray:
        """Flat edge-geometry coordinates in the metric CRS, shape (M, 2)."""
        return np.column_stack(self.project(self.geom_lon, self.geom_lat))

    def edge_lines(self, *, projected: bool = True, edges: np.ndarray | None = None) -> np.ndarray:
        """Edge geometries as a shapely LineString array (metric CRS unless ``projected=False``);
        only those of the edge indices ``edges`` (in that order) when given."""
        if edges is None:
            coords = self.geom_xy if projected else np.column_stack([self.geom_lon, self.geom_lat])
            counts = np.diff(self.geom_offsets)
            return shapely.linestrings(coords, indices=np.repeat(np.arange(self.n_edges), counts))
        take, counts = self.edge_vertices(edges)
        coords = (
            self.geom_xy[take]
            if projected
            else np.column_stack([self.geom_lon[take], self.geom_lat[take]])
        )
        return shapely.linestrings(coords, indices=np.repeat(np.arange(counts.size), counts))

    def edge_vertices(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices into ``geom_lon``/``geom_lat`` of the vertices of ``edges``, edge after edge,
        and the vertex count of each edge."""
        edges = np.asarray(edges, np.int64)
        start = self.geom_offsets[edges]
        counts = self.geom_offsets[edges + 1] - start
        first = np.cumsum(counts) - counts  # where each edge begins in the result
        return np.repeat(start - first, counts) + np.arange(int(counts.sum())), counts

    # -- graph views ---------------------------------------------------------------------------
    @cached_property
    def csr(self) -> sp.csr_matrix:
        """Symmetric N x N adjacency in CSR form; values are edge lengths in metres.

        Parallel edges keep the shortest length; self-loops are dropped (they never shorten a
        path); zero lengths become :data:`ZERO_LENGTH_M` so that scipy keeps them.
        """
        keep = self.edge_u != self.edge_v
        u, v = self.edge_u[keep], self.edge_v[keep]
        w = np.maximum(self.length[keep], ZERO_LENGTH_M)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        key = lo * np.int64(self.n_nodes) + hi
        # a file's edges come nearly in order: the stable sort (timsort) runs through them
        order = np.argsort(key, kind="stable")
        key, w = key[order], w[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
        w = np.minimum.reduceat(w, starts) if w.size else w  # shortest of parallel edges
        lo, hi = lo[order][starts], hi[order][starts]
        n = self.n_nodes
        idx = np.int32 if n < 2**31 - 1 and 2 * lo.size < 2**31 - 1 else np.int64
        # no duplicate (row, col) is left, so scipy's conversion (a counting sort in C++, then
        # each row's columns sorted) keeps every value as it is
        m = sp.coo_matrix(
            (np.concatenate([w, w]), (np.r_[lo, hi].astype(idx), np.r_[hi, lo].astype(idx))),
            shape=(n, n),
        ).tocsr()
        m.sort_indices()
        return m

    @cached_property
    def component_labels(self) -> np.ndarray:
        """Connected-component label of every node (0 = the largest piece)."""
        from scipy.sparse.csgraph import connected_components

        if self.n_nodes == 0:
            return np.zeros(0, np.int64)
        graph = self.__dict__.get("csr")
        if graph is None:  # each edge once is enough (undirected); no lengths or sorting needed
            n = self.n_nodes  # (a province's parse needs the pieces, not the weighted CSR: 1 s)
            idx = np.int32 if n < 2**31 - 1 and self.n_edges < 2**31 - 1 else np.int64
            ones = np.ones(self.n_edges, np.int8)
            graph = sp.csr_matrix(
                (ones, (self.edge_u.astype(idx), self.edge_v.astype(idx))), (n, n)
            )
        _, labels = connected_components(graph, directed=False)
        sizes = np.bincount(labels)
        rank = np.empty_like(sizes)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(sizes.size)
        return rank[labels]

    # -- selection -----------------------------------------------------------------------------
    def select_edges(self, mask: np.ndarray, **meta: Any) -> Network:
        """A new network with only the edges where ``mask`` is true (unused nodes dropped)."""
        return Network(**dict(self._selected(mask)), meta={**self.meta, **meta})

    def _selected(self, mask: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        """:meth:`select_edges`'s arrays one by one (``(name, array)`` in :data:`_ARRAYS`
        order), so that a caller writing them out holds one at a time (see :meth:`save_npz`)."""
        mask = np.asarray(mask, bool)
        if mask.shape != (self.n_edges,):
            raise IndexError(f"mask has shape {mask.shape}; expected ({self.n_edges},)")
        idx = np.flatnonzero(mask)  # then every array is indexed by the kept edges only
        u, v = self.edge_u[idx], self.edge_v[idx]
        used = np.zeros(self.n_nodes, bool)
        used[u] = True
        used[v] = True
        nodes = np.flatnonzero(used)
        yield "node_id", self.node_id[nodes]
        yield "lon", self.lon[nodes]
        yield "lat", self.lat[nodes]
        remap = np.cumsum(used) - 1  # old node index -> new, for the used ones
        yield "edge_u", remap[u]
        yield "edge_v", remap[v]
        del u, v, used, nodes, remap
        yield "length", self.length[idx]
        starts = self.geom_offsets[idx]
        counts = self.geom_offsets[idx + 1] - starts
        yield "geom_offsets", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = concat_ranges(starts, counts)
        del starts, counts
        yield "geom_lon", self.geom_lon[flat]
        yield "geom_lat", self.geom_lat[flat]
        del flat
        yield "edge_osmid", self.edge_osmid[idx]
        yield "edge_highway", self.edge_highway[idx]
        yield "edge_name", self.edge_name[idx]

    def clip(self, area, buffer_m: float, *, metric_crs: Any = None) -> Network:
        """Keep whole edges that touch ``area`` (WGS84 geometry) grown by ``buffer_m`` metres.

        Edges are kept whole rather than cut, so a walk that leaves the area and comes back is
        not broken; the buffer should be at least the coverage limit. ``metric_crs`` measures
        the buffer in another projection than :attr:`metric_crs` (that of a larger network
        this one was cut from, so that both clips agree).
        """
        if metric_crs is None or pyproj.CRS(metric_crs) == self.metric_crs:
            project, lines = self.project, self.edge_lines()
        else:
            to_m = pyproj.Transformer.from_crs(4326, metric_crs, always_xy=True)

            def project(lon, lat):
                return to_m.transform(np.asarray(lon, float), np.asarray(lat, float))

            xy = np.column_stack(project(self.geom_lon, self.geom_lat))
            counts = np.diff(self.geom_offsets)
            lines = shapely.linestrings(xy, indices=np.repeat(np.arange(self.n_edges), counts))
        area_m = _crs.transform_geometry(area, project)
        grown = shapely.buffer(area_m, buffer_m)
        shapely.prepare(grown)
        mask = shapely.intersects(grown, lines)
        if not mask.any():
            raise empty_clip_error(buffer_m)
        return self.select_edges(mask, clip_buffer_m=buffer_m)

    def largest_component(self) -> Network:
        """Only the largest connected piece."""
        keep = self.component_labels[self.edge_u] == 0
        return self.select_edges(keep, largest_component=True)

    # -- persistence ---------------------------------------------------------------------------
    def save_npz(self, path: str | Path, *, edges: np.ndarray | None = None) -> None:
        """Write the arrays to an uncompressed ``.npz`` (fast to reload; no pickle).

        The text columns are stored as codes into their distinct values (``<name>_codes``,
        ``<name>_values``): a province's 5 M street names as fixed-width text took 620 MB and
        most of the time to write and read. With ``edges`` (a flag per edge), the file is that
        of ``select_edges(edges)``, written array by array without making that network first
        (a province's copy is half a gigabyte)."""
        pairs = ((k, getattr(self, k)) for k in _ARRAYS) if edges is None else self._selected(edges)
        with open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            for k, a in pairs:
                if k in _TEXT:
                    codes, values = _text_codes(a)
                    _write_member(zf, f"{k}_codes", codes)
                    _write_member(zf, f"{k}_values", values)
                else:
                    _write_member(zf, k, a)
                del a
            _write_member(zf, "meta_json", np.array(json.dumps(self.meta, default=str)))

    @classmethod
    def load_npz(cls, path: str | Path) -> Network:
        """Read a network written by :meth:`save_npz` (or by a version that stored the text
        columns as fixed-width text)."""
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in _ARRAYS if k not in _TEXT}
            for k in _TEXT:
                if f"{k}_codes" in z.files:
                    values = z[f"{k}_values"].astype(object)
                    arrays[k] = values[z[f"{k}_codes"]] if values.size else np.zeros(0, object)
                else:
                    arrays[k] = z[k].astype(object)
            meta = json.loads(str(z["meta_json"]))
        return cls(**arrays, meta=meta)


def _write_member(zf: zipfile.ZipFile, name: str, a: np.ndarray) -> None:
    """One array of an ``.npz``, as ``np.savez`` writes it (uncompressed, zip64 forced)."""
    with zf.open(name + ".npy", "w", force_zip64=True) as fid:
        np.lib.format.write_array(fid, np.asanyarray(a), allow_pickle=False)


#: Street pieces shorter in total than this many metres can be dropped as fragments ...
ISLAND_MAX_M = 1000.0
#: ... when also shorter than this share of the main piece's length (tiny networks).
ISLAND_SHARE = 0.01


def drop_islands(net: Network) -> Network:
    """Drop small disconnected street pieces, judged by their total length (not node count).

    A piece goes when its streets add up to less than ``min(ISLAND_MAX_M, ISLAND_SHARE x
    the main piece's length)``: clipped or mis-joined footpaths go, while a long viaduct
    or a district cut off by a river (few nodes, many km) stays. What was dropped is recorded
    in ``meta`` (``islands_dropped``, ``island_km_dropped``, ``island_nodes_dropped``) and
    logged as a warning.
    """
    small, dropped = island_pieces(net)
    if small is None:
        return net
    keep = ~small[net.component_labels[net.edge_u]]
    out = net.select_edges(keep, **dropped)
    carry_labels(out, net, keep)
    return out


def carry_labels(out: Network, net: Network, keep: np.ndarray) -> None:
    """Give ``out`` = ``net.select_edges(keep)`` its component labels from ``net``'s when
    ``keep`` keeps whole pieces: every node ends an edge of its own piece, so
    the kept nodes are those of the kept pieces, in the same order, and their labels are the
    old ones renumbered (the same as computing them again, which takes a second on a
    province)."""
    labels = net.component_labels
    kept_piece = np.zeros(int(labels.max()) + 1 if labels.size else 0, bool)
    kept_piece[labels[net.edge_u[keep]]] = True
    kept = labels[kept_piece[labels]]
    if kept.size == out.n_nodes:
        out.__dict__["component_labels"] = (np.cumsum(kept_piece) - 1)[kept]


def island_pieces(net: Network) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The pieces :func:`drop_islands` drops, without dropping them: a flag per component
    label (None when none goes) and the ``meta`` entries that record them (the warning is
    logged here). The province audit clips its counties out of the network as parsed and
    leaves these pieces' edges out of each clip, instead of copying the whole province once
    without them (issue 13: half a second before the first county could start)."""
    labels = net.component_labels
    if labels.size == 0 or labels.max() == 0:
        return None, {}
    n_comp = int(labels.max()) + 1
    km = np.bincount(labels[net.edge_u], weights=net.length, minlength=n_comp)
    small = km < min(ISLAND_MAX_M, ISLAND_SHARE * km[0])
    small[0] = False
    if not small.any():
        return None, {}
    nodes = np.bincount(labels, minlength=n_comp)
    dropped = {
        "islands_dropped": int(small.sum()),
        "island_km_dropped": round(float(km[small].sum()) / 1000, 3),
        "island_nodes_dropped": int(nodes[small].sum()),
    }
    logger.warning(
        "dropped %d small street pieces (%.2f km, %d nodes; each under %.0f m) that do not "
        "connect to the rest; pass --keep-islands to keep them",
        dropped["islands_dropped"],
        dropped["island_km_dropped"],
        dropped["island_nodes_dropped"],
        min(ISLAND_MAX_M, ISLAND_SHARE * km[0]),
    )
    return small, dropped


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for every (s, c), vectorised."""
    counts = np.asarray(counts, np.int64)
    nz = counts > 0
    starts, counts = np.asarray(starts, np.int64)[nz], counts[nz]
    if counts.size == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(counts)
    out = np.ones(int(ends[-1]), np.int64)
    out[0] = starts[0]
    out[ends[:-1]] = starts[1:] - (starts[:-1] + counts[:-1] - 1)
    return np.cumsum(out)


def unique_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_index=True)`` by one stable sort: the sorted distinct values
    and the index of each one's first occurrence. (NumPy 2's hash-based ``unique`` took a
    third of a province parse.)"""
    distinct, first, _ = unique_first_inverse(values)
    return distinct, first


def unique_first_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`unique_first` and, for every value, the index of its distinct value (what
    ``np.searchsorted(distinct, values)`` gives, from the same sort)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.ones(ordered.size, bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(values.size, np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], order[new], inverse


def end_node_mask(pos: np.ndarray, line_index: np.ndarray, n_nodes: int) -> np.ndarray:
    """Which line vertices end an edge: a line's first and last vertex, and junctions.

    ``pos`` gives each vertex's node as an index below ``n_nodes``; a node is a junction if
    it appears more than once among all line vertices.
    """
    first = np.ones(pos.size, bool)
    first[1:] = line_index[1:] != line_index[:-1]
    last = np.roll(first, -1)
    if last.size:
        last[-1] = True
    counts = np.bincount(pos, minlength=n_nodes)
    return first | last | (counts[pos] > 1)


#: Edges handled at a time by :func:`_edge_geometry` (bounds its temporary arrays).
EDGE_BLOCK = 1 << 16


def _edge_geometry(
    first: np.ndarray,
    npts: np.ndarray,
    pos: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat geometry (longitudes, latitudes, offsets) and great-circle length (metres) of edges
    running over line vertices ``first[e] .. first[e] + npts[e] - 1``.

    Block by block of :data:`EDGE_BLOCK` edges, so that the temporaries stay small (on a
    province the whole-array version spent most of its time in page faults); each edge's length
    sums its segments in order, as one ``np.bincount`` over all edges would: the same doubles.
    """
    offsets = np.zeros(first.size + 1, np.int64)
    np.cumsum(npts, out=offsets[1:])
    glon = np.empty(int(offsets[-1]))
    glat = np.empty(int(offsets[-1]))
    length = np.zeros(first.size)
    for lo in range(0, first.size, EDGE_BLOCK):
        hi = min(lo + EDGE_BLOCK, first.size)
        n = npts[lo:hi]
        at = pos[concat_ranges(first[lo:hi], n)]
        g0, g1 = int(offsets[lo]), int(offsets[hi])
        glon[g0:g1] = node_lon[at]
        glat[g0:g1] = node_lat[at]
        seg = _consecutive_haversine_m(glon[g0:g1], glat[g0:g1])
        piece = np.repeat(np.arange(hi - lo), n)
        within = piece[:-1] == piece[1:]
        length[lo:hi] = np.bincount(piece[:-1][within], weights=seg[within], minlength=hi - lo)
    return glon, glat, offsets, length


def from_pieces(
    node_ids: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    refs: np.ndarray,
    line_index: np.ndarray,
    line_osmid: np.ndarray,
    line_highway: np.ndarray,
    line_name: np.ndarray,
    meta: dict[str, Any],
    *,
    pos: np.ndarray | None = None,
) -> Network:
    """Build a network from lines given as node-reference sequences.

    Every line is split at nodes it shares with another line (or with itself) and at its ends,
    so edges meet only at real junctions, like a simplified osmnx graph.

    Parameters
    ----------
    node_ids, node_lon, node_lat
        All referenced nodes and their WGS84 coordinates (``node_ids`` sorted and unique).
    refs
        Concatenated node ids of every line, in order.
    line_index
        For every entry of ``refs``, the line it belongs to (non-decreasing).
    line_osmid, line_highway, line_name
        Per-line attributes.
    pos
        ``np.searchsorted(node_ids, refs)``, when already known (see
        :func:`unique_first_inverse`).
    """
    if refs.size == 0:
        raise NetworkError("the source has no usable streets (no edges after filtering)")
    if pos is None:
        pos = np.searchsorted(node_ids, refs)
    ends = np.flatnonzero(end_node_mask(pos, line_index, node_ids.size))
    same_line = line_index[ends[:-1]] == line_index[ends[1:]]
    a, b = ends[:-1][same_line], ends[1:][same_line]
    glon, glat, offsets, length = _edge_geometry(a, b - a + 1, pos, node_lon, node_lat)
    is_end_node = np.zeros(node_ids.size, bool)
    is_end_node[pos[a]] = True
    is_end_node[pos[b]] = True
    end_nodes = np.flatnonzero(is_end_node)  # sorted and unique, without a hash table
    remap = np.full(node_ids.size, -1, np.int64)
    remap[end_nodes] = np.arange(end_nodes.size)
    li = line_index[a]
    net = Network(
        node_id=node_ids[end_nodes].astype(np.int64),
        lon=node_lon[end_nodes],
        lat=node_lat[end_nodes],
        edge_u=remap[pos[a]],
        edge_v=remap[pos[b]],
        length=length,
        geom_offsets=offsets,
        geom_lon=glon,
        geom_lat=glat,
        edge_osmid=np.asarray(line_osmid, np.int64)[li],
        edge_highway=np.asarray(line_highway, object)[li],
        edge_name=np.asarray(line_name, object)[li],
        meta=meta,
    )
    logger.info("built %r", net)
    return net
