"""OpenStreetMap XML and PBF files to a walking :class:`Network`, via pyosmium.

Both formats go through libosmium (C++), which reads a city PBF in well under a second with
memory proportional to the file; see ``benchmarks/RESULTS.md`` for the osmium/pyrosm comparison
that chose it. Ways are kept by osmnx's own pedestrian ("walk") filter, reproduced tag for tag
in :func:`is_walkable` (osmnx 2.1, ``_overpass._get_network_filter("walk")``).

Neither ways nor vertices reach Python one by one. libosmium writes the highway ways, with
their node locations, as OPL text to a temporary file, which :mod:`._opl` parses in one
compiled pass (or with NumPy where no compiler was available); the walk filter then looks at
each distinct tag value once (issue 13: the per-vertex loop was about 8 of 15 s on a province).
"""

from __future__ import annotations

import logging
import mmap
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import NetworkError
from ._model import Network, end_node_mask, from_pieces, unique_first, unique_first_inverse
from ._opl import NO_LOCATION, _Ways, ways_from_opl

logger = logging.getLogger(__name__)

# osmnx's walk filter, as Overpass "!~" (unanchored regex must not match) conditions.
_WALK_EXCLUDE: dict[str, re.Pattern[str]] = {
    "area": re.compile("yes"),
    "access": re.compile("private"),
    "highway": re.compile(
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services"
    ),
    "foot": re.compile("no"),
    "service": re.compile("private"),
    "sidewalk": re.compile("separate"),
    "sidewalk:both": re.compile("separate"),
    "sidewalk:left": re.compile("separate"),
    "sidewalk:right": re.compile("separate"),
}


def is_walkable(tags: Mapping[str, str]) -> bool:
    """osmnx's pedestrian filter: a public ``highway`` a person may walk along.

    Excludes motorways, cycleways, areas, private access, ``foot=no``, construction and
    ways whose sidewalks are mapped separately (the sidewalk ways are used instead).
    """
    if "highway" not in tags:
        return False
    for key, pattern in _WALK_EXCLUDE.items():
        value = tags.get(key)
        if value is not None and pattern.search(value):
            return False
    return True


@dataclass
class _Lines:
    """Runs of located vertices (a way split where a vertex has no location), >= 2 vertices."""

    ref: np.ndarray  # (V,) node ids
    lon: np.ndarray
    lat: np.ndarray
    line: np.ndarray  # (V,) line index, non-decreasing
    way: np.ndarray  # (L,) the way each line comes from (index into _Ways)
    n_missing: int  # vertices without a location


def read_osm(
    path: str | Path,
    *,
    meta: dict | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Network:
    """Build the walking network of an OSM ``.osm`` (XML) or ``.osm.pbf`` file.

    Parameters
    ----------
    path
        The OSM file. Ways must be complete (every referenced node present), as in extracts
        from Geofabrik, the openstreetmap.org export or Overpass ``(._;>;);`` queries; vertices
        without a location split their way.
    meta
        Extra provenance stored on the network.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in WGS84 degrees: build only the streets that
        may reach this box (see :func:`_near_bbox`). Clipping the result to any area inside
        the box gives the same network as clipping the whole file's network. The metric CRS
        of the whole file's network is stored as ``meta["source_metric_crs"]``, so that a clip
        buffer is measured in the same projection as without ``bbox``.
    """
    path = Path(path)
    ways = _read_walkable_ways(path)
    lines = _split_at_missing(ways)
    if lines.n_missing:
        logger.warning(
            "%s: %d way vertices have no location (outside the extract); their "
            "ways were split there",
            path.name,
            lines.n_missing,
        )
    if lines.ref.size == 0:
        raise NetworkError(
            f"{path}: no walkable streets found among {ways.n_read} highway ways; check that "
            "the file is an OSM extract of the right area"
        )
    info = {
        "source": str(path),
        "source_kind": "osm-pbf" if path.suffix == ".pbf" else "osm-xml",
        "ways_read": ways.n_read,
        "walk_filter": "osmnx 2.1 walk",
        **(meta or {}),
    }
    if bbox is not None:
        info["source_metric_crs"] = _metric_crs_of_all(lines)
        lines = _near_bbox(lines, bbox)
    node_ids, first, pos = unique_first_inverse(lines.ref)
    return from_pieces(
        node_ids,
        lines.lon[first],
        lines.lat[first],
        lines.ref,
        lines.line,
        ways.osmid[lines.way],
        ways.highway[lines.way],
        ways.name[lines.way],
        info,
        pos=pos,
    )


#: Extra margin around a boundary's buffer when reading only part of a file: the buffer is
#: measured in a projection (a few parts per thousand off true distance), straight edges
#: bulge slightly in longitude/latitude, and the margin costs only a little more parsing.
BBOX_MARGIN_M = 1000.0


def osm_bbox(area, buffer_m: float) -> tuple[float, float, float, float]:
    """A WGS84 box holding ``area`` grown by ``buffer_m`` metres (generously), for
    :func:`read_osm`'s ``bbox``."""
    x0, y0, x1, y1 = (float(v) for v in area.bounds)
    margin = 2.0 * buffer_m + BBOX_MARGIN_M
    dlat = margin / 110_000.0  # metres per degree of latitude are at least 110.5 km
    top = min(max(abs(y0), abs(y1)) + dlat, 89.0)
    dlon = margin / (111_320.0 * np.cos(np.radians(top)))
    return x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat


def _read_walkable_ways(path: Path) -> _Ways:
    """One libosmium pass writes every highway way with its node locations as OPL; the walk
    filter and the attributes are then read from that text, mapped rather than copied."""
    with tempfile.TemporaryDirectory(prefix="servicecircle-osm-") as tmp:
        opl = Path(tmp) / "ways.opl"
        _write_opl(path, opl)
        if opl.stat().st_size == 0:  # no highway at all (an empty file cannot be mapped)
            return _ways_from_opl(b"")
        with open(opl, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as text:
            return _ways_from_opl(text)


def _opl_text(path: Path) -> bytes:
    """Every highway way of an OSM file with its node locations, as libosmium's OPL text."""
    with tempfile.TemporaryDirectory(prefix="servicecircle-osm-") as tmp:
        opl = Path(tmp) / "ways.opl"
        _write_opl(path, opl)
        return opl.read_bytes()


def _write_opl(path: Path, opl: Path) -> None:
    """libosmium's OPL text of every highway way of ``path``, with node locations, to ``opl``."""
    import osmium

    target = osmium.io.File(str(opl), "opl,locations_on_ways=true,add_metadata=false")
    locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    locations.ignore_errors()  # a vertex outside the extract keeps an invalid location
    try:
        with osmium.SimpleWriter(target) as writer:
            osmium.apply(
                osmium.io.Reader(str(path), osmium.osm.NODE | osmium.osm.WAY),
                locations,
                osmium.filter.EntityFilter(osmium.osm.WAY),
                osmium.filter.KeyFilter("highway"),
                writer,
            )
    except RuntimeError as exc:  # libosmium parse errors
        raise NetworkError(f"{path}: cannot read as OSM XML/PBF ({exc})") from exc


def _ways_from_opl(data: bytes | mmap.mmap) -> _Ways:
    """The walkable ways of OPL way lines (see :func:`._opl.ways_from_opl`)."""
    return ways_from_opl(data, _WALK_EXCLUDE)


def _split_at_missing(ways: _Ways) -> _Lines:
    """Cut ways at vertices without a location; drop pieces of a single vertex."""
    valid = ways.lon != NO_LOCATION
    if valid.all():  # the usual case (complete extracts): every way of 2+ vertices is a line
        return _whole_ways(ways)
    return _split_runs(ways, valid)


def _whole_ways(ways: _Ways) -> _Lines:
    """:func:`_split_runs` when every vertex has a location, without its per-vertex passes."""
    long_enough = ways.counts >= 2
    way = np.flatnonzero(long_enough)
    line = np.repeat(np.arange(way.size), ways.counts[way])
    if long_enough.all():
        ref, lon, lat = ways.ref, ways.lon, ways.lat
    else:
        keep = np.repeat(long_enough, ways.counts)
        ref, lon, lat = ways.ref[keep], ways.lon[keep], ways.lat[keep]
    return _Lines(ref=ref, lon=lon, lat=lat, line=line, way=way, n_missing=0)


def _split_runs(ways: _Ways, valid: np.ndarray) -> _Lines:
    """Runs of located vertices of each way (``valid``), of 2 vertices or more."""
    n_v = ways.ref.size
    way_of = np.repeat(np.arange(ways.counts.size), ways.counts)
    first_in_way = np.ones(n_v, bool)
    first_in_way[1:] = way_of[1:] != way_of[:-1]
    prev_valid = np.ones(n_v, bool)
    prev_valid[1:] = valid[:-1]
    starts = valid & (first_in_way | ~prev_valid)
    run = np.cumsum(starts) - 1  # the run of every located vertex
    run_len = np.bincount(run[valid], minlength=int(starts.sum()))
    keep_run = run_len >= 2
    keep = valid.copy()
    keep[valid] = keep_run[run[valid]]
    line_of_run = np.cumsum(keep_run) - 1
    return _Lines(
        ref=ways.ref[keep],
        lon=ways.lon[keep],
        lat=ways.lat[keep],
        line=line_of_run[run[keep]],
        way=way_of[np.flatnonzero(starts)][keep_run],
        n_missing=int(n_v - valid.sum()),
    )


def _metric_crs_of_all(lines: _Lines) -> str:
    """The metric CRS the whole file's network would get (the UTM zone of its nodes' median)."""
    from .. import crs as _crs

    node_ids, first = unique_first(lines.ref)
    pos = np.searchsorted(node_ids, lines.ref)
    ends = np.flatnonzero(
        np.bincount(pos[end_node_mask(pos, lines.line, node_ids.size)], minlength=node_ids.size)
    )
    lon, lat = lines.lon[first][ends], lines.lat[first][ends]
    return _crs.utm_crs(lon, lat).to_string()


def _near_bbox(lines: _Lines, bbox: tuple[float, float, float, float]) -> _Lines:
    """The lines whose extent meets ``bbox``, plus every line that shares a node with one.

    A line's edges lie within its extent, so no other line can reach the box; the
    neighbours keep the junction count of every node on a kept line exact, so the kept
    lines split into exactly the edges they give in the whole network. When no line meets
    the box, all are kept (the clip then reports the empty result as it does without a box).
    """
    starts = np.flatnonzero(np.r_[True, lines.line[1:] != lines.line[:-1]])
    lo_lon = np.minimum.reduceat(lines.lon, starts)
    hi_lon = np.maximum.reduceat(lines.lon, starts)
    lo_lat = np.minimum.reduceat(lines.lat, starts)
    hi_lat = np.maximum.reduceat(lines.lat, starts)
    x0, y0, x1, y1 = bbox
    hit = (hi_lon >= x0) & (lo_lon <= x1) & (hi_lat >= y0) & (lo_lat <= y1)
    if not hit.any():
        return lines
    shared = np.isin(lines.ref, lines.ref[hit[lines.line]])
    keep_line = hit.copy()
    keep_line[lines.line[shared]] = True
    keep = keep_line[lines.line]
    return _Lines(
        ref=lines.ref[keep],
        lon=lines.lon[keep],
        lat=lines.lat[keep],
        line=(np.cumsum(keep_line) - 1)[lines.line[keep]],
        way=lines.way[keep_line],
        n_missing=lines.n_missing,
    )
