"""Build, cache and exchange walking networks.

Sources: OSM XML (``.osm``), OSM PBF (``.osm.pbf``), road centre-lines (SHP/GPKG/GeoJSON),
GraphML (osmnx or ``servicecircle network``), or online through osmnx for a place name or a
polygon. Every source becomes a :class:`Network` of arrays; :func:`to_networkx` gives the
osmnx-compatible MultiDiGraph for exchange.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from .._errors import NetworkError, ServiceCircleError
from ..config import Config
from . import _cache
from ._background import background_for, read_background, read_vector_background
from ._cache import cached_piece, file_hash, seal, store_piece
from ._lines import Noding, ProjectedWithoutCRS, read_lines
from ._model import (
    ZERO_LENGTH_M,
    Network,
    carry_labels,
    concat_ranges,
    empty_clip_error,
    haversine_m,
    island_pieces,
)
from ._nx import from_networkx, from_osmnx_online, read_graphml, save_graphml, to_networkx
from ._osm import is_walkable, osm_bbox, read_osm

logger = logging.getLogger(__name__)

__all__ = [
    "ZERO_LENGTH_M",
    "EdgeClipper",
    "Network",
    "ProjectedWithoutCRS",
    "background_for",
    "build_for_clipping",
    "build_network",
    "cache_entry",
    "cached_network",
    "cached_piece",
    "concat_ranges",
    "file_hash",
    "from_networkx",
    "haversine_m",
    "is_walkable",
    "read_background",
    "read_graphml",
    "read_lines",
    "read_vector_background",
    "save_graphml",
    "seal",
    "source_kind",
    "store_network",
    "store_piece",
    "to_networkx",
]

_LINE_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb"}


def source_kind(source: object) -> str:
    """Which reader a source needs: osm, lines, graphml, npz, online-place or online-polygon."""
    if isinstance(source, Network):
        return "network"
    if hasattr(source, "geom_type"):
        return "online-polygon"
    path = Path(str(source))
    name = path.name.lower()
    if name.endswith((".osm", ".osm.xml", ".xml", ".pbf", ".osm.bz2")):
        return "osm"
    if name.endswith(".graphml"):
        return "graphml"
    if name.endswith(".npz"):
        return "npz"
    if path.suffix.lower() in _LINE_SUFFIXES:
        return "lines"
    if not path.exists() and not path.suffix:
        return "online-place"
    raise NetworkError(
        f"unsupported network source {str(source)!r}: use an OSM .osm/.osm.pbf file, a road "
        "shapefile/GeoPackage/GeoJSON, a .graphml, or a place name for online download"
    )


def _read_or_explain(reader, path, what: str) -> Network:
    """``reader(path)``, turning a parser's crash on a damaged file into one clear error."""
    try:
        return reader(path)
    except (ServiceCircleError, FileNotFoundError):
        raise
    except Exception as exc:
        raise NetworkError(
            f"{path}: not a readable {what} file ({type(exc).__name__}: {exc}). Fix: check that "
            "the file is complete and in that format (re-export or re-download it)"
        ) from exc


def _area_of(boundary: object):
    if boundary is None:
        return None
    from ..io import boundary_geometry

    return boundary_geometry(boundary)


def build_network(
    source: str | Path | Any,
    *,
    config: Config | None = None,
    boundary: object = None,
    crs: object = None,
    noding: Noding = "crossings",
    grade_column: str | None = None,
    largest_component: bool = False,
    keep_islands: bool = False,
) -> Network:
    """Build (or load from the cache) the walking network of ``source``.

    Parameters
    ----------
    source
        An OSM ``.osm``/``.osm.pbf`` file, a road-line file (``.shp``, ``.gpkg``, ``.geojson``),
        a ``.graphml``, a cached ``.npz``, a place name (online) or a shapely polygon (online),
        or an existing :class:`Network`.
    config
        Run settings; ``config.clip_buffer_m``, ``config.cache_dir`` and ``config.use_cache``
        apply here.
    boundary
        Optional study area (GeoDataFrame, geometry or file, WGS84). The network is clipped to
        it plus ``config.clip_buffer_m`` metres, keeping whole edges.
    crs
        For road-line files, override the file's CRS (``"gcj02"``...).
    noding, grade_column
        Road-line noding rules; see :func:`geo.network._lines.read_lines`.
    largest_component
        Keep only the largest connected piece.
    keep_islands
        Keep small disconnected street pieces (see :func:`~geo.network._model.drop_islands`:
        under 1 km of streets in all, judged by length, not node count). By
        default they are dropped (and counted in the log and ``meta``): in real data they are
        mostly clipped or mis-joined footpaths, and a community snapped to one would look
        unreachable. Large pieces (a district split by a river with no bridge in the data)
        are always kept.

    Returns
    -------
    Network
    """
    cfg = config or Config()
    kind = source_kind(source)
    area = _area_of(boundary)
    if kind == "network":
        net = source
    elif kind.startswith("online"):
        query = area if (kind == "online-place" and area is not None) else source
        net = from_osmnx_online(query, buffer_m=cfg.clip_buffer_m if area is not None else 0)
    elif kind == "npz":
        net = _read_or_explain(Network.load_npz, source, "network .npz")
    else:
        path = Path(source)
        if not path.exists():
            raise NetworkError(f"network file not found: {path}")
        t0 = time.perf_counter()
        cpath = _entry(path, kind, cfg, area, crs, noding, grade_column, largest_component,
                       keep_islands)  # fmt: skip
        if cpath is not None:
            cached = _cache.load(cpath)
            if cached is not None:
                logger.info("network from cache in %.3f s", time.perf_counter() - t0)
                return cached
        t0 = time.perf_counter()
        net = _read_file(path, kind, cfg, area, crs, noding, grade_column)
        net = _finish(net, area, cfg, largest_component, keep_islands)
        net.meta["build_seconds"] = round(time.perf_counter() - t0, 3)
        if cpath is not None:
            _cache.store(net, cpath)
        return net
    return _finish(net, area, cfg, largest_component, keep_islands)


def _read_file(path: Path, kind: str, cfg: Config, area, crs, noding, grade) -> Network:
    """The network of an OSM, GraphML or road-line file, as read (nothing dropped yet)."""
    if kind == "osm":
        bbox = None if area is None else osm_bbox(area, cfg.clip_buffer_m)
        return _read_or_explain(partial(read_osm, bbox=bbox), path, "OSM")
    if kind == "graphml":
        return _read_or_explain(read_graphml, path, "GraphML")
    try:
        return read_lines(path, crs=crs, noding=noding, grade_column=grade)
    except ProjectedWithoutCRS as exc:
        if area is None:
            raise
        raise exc.with_longitude(float(area.centroid.x)) from None


def build_for_clipping(
    source: str | Path,
    *,
    config: Config | None = None,
    crs: object = None,
    noding: Noding = "crossings",
    grade_column: str | None = None,
    largest_component: bool = False,
    keep_islands: bool = False,
) -> tuple[Network, np.ndarray | None]:
    """:func:`build_network` of a network file (no cache, no boundary) for clipping many areas
    out of with :class:`EdgeClipper`, without the copy that drops small pieces.

    Returns the network as read (its ``meta`` and :attr:`~Network.metric_crs` already those of
    the built network) and the edges
    :func:`build_network` keeps (None: all of them). ``EdgeClipper(net, keep=keep)`` clips the
    same pieces as ``EdgeClipper(build_network(...))``; ``net.select_edges(keep)`` is the built
    network itself. A province's copy took half a second before its first county could start.
    """
    cfg = config or Config()
    t0 = time.perf_counter()
    path = Path(source)
    if not path.exists():
        raise NetworkError(f"network file not found: {path}")
    net = _read_file(path, source_kind(source), cfg, None, crs, noding, grade_column)
    if net.n_edges == 0:
        raise NetworkError("the network has no edges")
    keep, meta = _pruned(net, largest_component, keep_islands)
    net.meta.update(meta)
    if keep is not None:  # clips measure their buffer as the built network would
        from .. import crs as _crs

        used = np.zeros(net.n_nodes, bool)
        used[net.edge_u[keep]] = True
        used[net.edge_v[keep]] = True
        net.__dict__["metric_crs"] = _crs.utm_crs(net.lon[used], net.lat[used])
    net.meta["build_seconds"] = round(time.perf_counter() - t0, 3)
    return net, keep


def _entry(path: Path, kind: str, cfg: Config, area, crs, noding, grade, largest, islands,
           source_hash: str | None = None):  # fmt: skip
    """The cache entry of a network file built with these options (None: no caching)."""
    if not cfg.use_cache:
        return None
    params = {
        "kind": kind,
        "crs": str(crs),
        "noding": noding,
        "grade": grade,
        "area": hashlib.sha256(shapely.to_wkb(area)).hexdigest() if area else None,
        "buffer": cfg.clip_buffer_m if area is not None else None,
        "largest": largest,
        "islands": islands,
    }
    key = _cache.cache_key(source_hash or _cache.file_hash(path), params)
    return _cache.cache_path(cfg.cache_dir, path, key)


def cache_entry(
    source: str | Path | Any,
    *,
    config: Config | None = None,
    boundary: object = None,
    crs: object = None,
    noding: Noding = "crossings",
    grade_column: str | None = None,
    largest_component: bool = False,
    keep_islands: bool = False,
    source_hash: str | None = None,
) -> Path | None:
    """Where :func:`build_network` keeps (or would keep) the network of ``source`` built with
    these options, or None when it caches nothing (not a file, or ``config.use_cache`` off).
    ``source_hash``: the file's :func:`file_hash` when the caller has it already (a province's
    file is not read twice).

    With :func:`store_network`, a caller can build with the cache off and write the entry
    later, when nothing waits for it (the province audit: after the last county's piece).
    """
    cfg = config or Config()
    kind = source_kind(source)
    if kind in ("network", "npz") or kind.startswith("online") or not Path(source).exists():
        return None
    return _entry(Path(source), kind, cfg, _area_of(boundary), crs, noding, grade_column,
                  largest_component, keep_islands, source_hash)  # fmt: skip


def cached_network(entry: Path) -> Network | None:
    """The network in the cache entry ``entry`` (see :func:`cache_entry`), or None when it is
    absent or fails its checksum (then a warning says so)."""
    return _cache.load(entry)


def store_network(net: Network, entry: Path, *, edges: np.ndarray | None = None) -> None:
    """Write ``net`` to the cache entry ``entry`` (see :func:`cache_entry`), atomically and
    checksummed; a full or read-only disk only warns. With ``edges`` (a flag per edge), what is
    stored is ``net.select_edges(edges)``, written without making it first."""
    _cache.store(net, entry, edges=edges)


def _finish(net: Network, area, cfg: Config, largest: bool, keep_islands: bool) -> Network:
    if area is not None:
        net = net.clip(area, cfg.clip_buffer_m, metric_crs=net.meta.get("source_metric_crs"))
    if net.n_edges == 0:
        raise NetworkError("the network has no edges")
    keep, meta = _pruned(net, largest, keep_islands)
    if keep is None:
        return net
    out = net.select_edges(keep, **meta)
    if not largest:  # the pieces' labels carry over (see drop_islands)
        carry_labels(out, net, keep)
    return out


def _pruned(net: Network, largest: bool, keep_islands: bool) -> tuple[np.ndarray | None, dict]:
    """The edges :func:`_finish` keeps (None: all) and the ``meta`` entries that say what went:
    small pieces (by length, see :func:`~geo.network._model.drop_islands`) unless
    ``keep_islands``, or every piece but the largest with ``largest``; both logged."""
    labels = net.component_labels
    n_comp = int(labels.max()) + 1
    keep, meta = None, {}
    if n_comp > 1 and not largest and not keep_islands:
        small, meta = island_pieces(net)  # by total length; reported in meta and the summary
        if small is not None:
            keep = ~small[labels[net.edge_u]]
            n_comp -= int(small.sum())
            labels = np.where(small[labels], 0, labels)  # gone: not outside the largest
    if n_comp > 1:
        outside = int((labels > 0).sum())
        if largest:
            keep = labels[net.edge_u] == 0
            meta = {**meta, "largest_component": True}
            logger.warning(
                "dropped %d nodes in %d pieces disconnected from the main network",
                outside,
                n_comp - 1,
            )
        else:
            logger.warning(
                "the network is in %d disconnected pieces (%d of %d nodes outside the largest); "
                "points snapped to a small piece can only reach sites on that piece. Pass "
                "largest_component=True (--largest-component) to drop them, or fix the data",
                n_comp,
                outside,
                net.n_nodes - int(meta.get("island_nodes_dropped", 0)),
            )
    return keep, meta


class EdgeClipper:
    """Clip many areas (a province's counties) out of one network: each edge's bounding box is
    found once, not once per county (issue 13).

    ``clipper.clip(area, buffer_m)`` returns the same network as ``net.clip(area, buffer_m)``:
    whole edges that touch the area grown by ``buffer_m`` metres. With ``keep`` (a flag per
    edge, see :func:`build_for_clipping`), it is the clip of ``net.select_edges(keep)``. A grid of the edges' boxes
    in longitude/latitude gives the candidates; only their vertices are projected (so a
    province's 10 M vertices are not all projected before the first county can start). An
    edge with a vertex in the area is kept at once, and only the other candidates' lines are
    built and tested exactly (a province-wide STRtree of every edge line took 7 s to build).
    """

    #: Grid cell size, metres (north-south; a cell is as many degrees of longitude wide).
    CELL_M = 5000.0
    #: Degrees added around an area's box before looking for candidates (about 100 m): the
    #: grown area's outline is projected back to longitude/latitude point by point, and a
    #: straight line in metres bends very slightly there.
    MARGIN_DEG = 1e-3

    def __init__(self, net: Network, *, keep: np.ndarray | None = None) -> None:
        self.net = net
        self._to_lonlat: pyproj.Transformer | None = None
        self.cell = self.CELL_M / 111_320.0  # degrees
        some = np.flatnonzero(np.diff(net.geom_offsets) > 0)
        self.box = np.full((4, net.n_edges), np.nan)  # min lon, min lat, max lon, max lat
        starts = net.geom_offsets[some]
        # every edge has a geometry when parsed from OSM: views instead of copies then
        sel = slice(None) if some.size == net.n_edges else some
        for i, (coord, reduce) in enumerate(
            [
                (net.geom_lon, np.minimum),
                (net.geom_lat, np.minimum),
                (net.geom_lon, np.maximum),
                (net.geom_lat, np.maximum),
            ]
        ):
            self.box[i, sel] = reduce.reduceat(coord, starts)
        filed = None if keep is None else keep[some]  # the others: no clip can take them
        self.by_cell = np.zeros(0, np.int64)
        if not some.size or (filed is not None and not filed.any()):  # no candidates at all
            return
        w = {} if filed is None else {"where": filed[None, :]}
        box = self.box[:, sel]  # a view when every edge has a geometry
        # the widest and the tallest box: a box meeting an area starts no further than this
        # before the area's own box
        self.max_size = np.max(box[2:] - box[:2], axis=1, initial=-np.inf, **w) + 1e-5
        self.origin = np.min(box[:2], axis=1, initial=np.inf, **w)
        cell = np.floor((box[:2] - self.origin[:, None]) / self.cell).astype(np.int64)
        if filed is not None:
            cell, some = cell[:, filed], some[filed]
        self.ncx = int(cell[0].max()) + 1
        key = cell[1] * self.ncx + cell[0]
        order = np.argsort(key, kind="stable")
        self.by_cell = some[order]
        self.n_rows = int(cell[1].max()) + 1
        self.cell_start = np.searchsorted(key[order], np.arange(self.n_rows * self.ncx + 1))

    def clip(self, area, buffer_m: float) -> Network:
        from .. import crs as _crs

        net = self.net
        area_m = _crs.transform_geometry(area, lambda x, y: net.project(x, y))
        grown = shapely.buffer(area_m, buffer_m)
        shapely.prepare(grown)
        near = self._near(*self._lonlat_bounds(grown))
        if not near.size:
            raise empty_clip_error(buffer_m)
        take, counts = net.edge_vertices(near)
        xy = np.column_stack(net.project(net.geom_lon[take], net.geom_lat[take]))
        inside = shapely.intersects_xy(grown, xy[:, 0], xy[:, 1])
        first = np.cumsum(counts) - counts
        has_inside = np.logical_or.reduceat(inside, first)
        rest = ~has_inside  # no vertex in the area: may still cross it
        rest_lines = shapely.linestrings(
            xy[np.repeat(rest, counts)], indices=np.repeat(np.arange(int(rest.sum())), counts[rest])
        )
        crossing = near[rest][shapely.intersects(grown, rest_lines)]
        mask = np.zeros(net.n_edges, bool)
        mask[near[has_inside]] = True
        mask[crossing] = True
        if not mask.any():
            raise empty_clip_error(buffer_m)
        return net.select_edges(mask, clip_buffer_m=buffer_m)

    def estimate(self, area) -> int:
        """A cheap size of ``area``'s piece, to order the clips (largest first): the edges
        filed in the grid cells under the area's bounding box, each cell counted by the share
        of it that the box covers (no edge looked at: microseconds per county)."""
        x0, y0, x1, y1 = shapely.bounds(area)
        if not self.by_cell.size or not np.isfinite([x0, y0, x1, y1]).all():  # empty
            return 0
        per_cell = np.diff(self.cell_start).reshape(self.n_rows, self.ncx)

        def share(lo: float, hi: float, n: int, origin: float) -> np.ndarray:
            left = origin + np.arange(n) * self.cell  # the grid is in longitude/latitude
            return np.clip(np.minimum(hi, left + self.cell) - np.maximum(lo, left), 0, None)

        fx = share(x0, x1, self.ncx, self.origin[0]) / self.cell
        fy = share(y0, y1, self.n_rows, self.origin[1]) / self.cell
        return round(float(fy @ per_cell @ fx))

    def _lonlat_bounds(self, grown) -> tuple[float, float, float, float]:
        """The longitude/latitude box of ``grown`` (metric), widened by :attr:`MARGIN_DEG`."""
        if self._to_lonlat is None:
            self._to_lonlat = pyproj.Transformer.from_crs(self.net.metric_crs, 4326, always_xy=True)
        xy = shapely.get_coordinates(shapely.segmentize(grown, 500.0))
        lon, lat = self._to_lonlat.transform(xy[:, 0], xy[:, 1])
        m = self.MARGIN_DEG
        return (
            float(np.min(lon)) - m,
            float(np.min(lat)) - m,
            float(np.max(lon)) + m,
            float(np.max(lat)) + m,
        )

    def _near(self, gx0: float, gy0: float, gx1: float, gy1: float) -> np.ndarray:
        """The edges whose box meets the box ``gx0, gy0, gx1, gy1`` (sorted indices): those
        filed in the grid cells that this box, widened by the largest edge box, covers."""
        if not self.by_cell.size:
            return self.by_cell
        lo = np.floor((np.array([gx0, gy0]) - self.max_size - self.origin) / self.cell)
        hi = np.floor((np.array([gx1, gy1]) - self.origin) / self.cell)
        cx0, cx1 = int(max(lo[0], 0)), int(min(hi[0], self.ncx - 1))
        cy0, cy1 = int(max(lo[1], 0)), int(min(hi[1], self.n_rows - 1))
        if cx0 > cx1 or cy0 > cy1:
            return np.zeros(0, np.int64)
        row = np.arange(cy0, cy1 + 1) * self.ncx
        spans = [self.by_cell[self.cell_start[r + cx0] : self.cell_start[r + cx1 + 1]] for r in row]
        idx = np.concatenate(spans)
        x0, y0, x1, y1 = self.box[:, idx]
        return np.sort(idx[(x1 >= gx0) & (x0 <= gx1) & (y1 >= gy0) & (y0 <= gy1)])
