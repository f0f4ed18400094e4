"""OpenStreetMap XML and PBF files to a walking :class:`Network`, via pyosmium.

Both formats go through libosmium (C++), which reads a city PBF in well under a second with
memory proportional to the file; see ``benchmarks/RESULTS.md`` for the osmium/pyrosm comparison
that chose it. Ways are kept by osmnx's own pedestrian ("walk") filter, reproduced tag for tag
in :func:`is_walkable` (osmnx 2.1, ``_overpass._get_network_filter("walk")``).

Python touches each way once (the walk filter); the vertices never reach Python one by one.
libosmium writes the walkable ways, with their node locations, as OPL text to a temporary file,
which NumPy parses in one call (issue 13: the per-vertex loop was about 8 of 15 s on a province).
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import NetworkError
from ._model import Network, end_node_mask, from_pieces, unique_first, unique_first_inverse

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
#: OPL marks a vertex without a location as ``n<id>xy``; this stands in for its coordinates.
_NO_LOCATION = 1e9
_OPL_NODES = re.compile(rb" N([^\n]*)")
_OPL_ID = re.compile(rb"^w(-?\d+) ", re.MULTILINE)
_OPL_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")
#: ``x``/``y`` become field separators and ``,`` a line end (``n`` is deleted): one vertex a row.
_OPL_TO_TSV = bytes.maketrans(b"xy,", b"\t\t\n")


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
class _Ways:
    """The walkable ways of a file: per-way attributes and their vertices, flat."""

    n_read: int  # highway ways read (walkable or not)
    osmid: np.ndarray  # (W,) way ids
    highway: np.ndarray  # (W,) str
    name: np.ndarray  # (W,) str
    counts: np.ndarray  # (W,) vertices per way
    ref: np.ndarray  # (V,) node ids
    lon: np.ndarray  # (V,) degrees; _NO_LOCATION where the node is missing
    lat: np.ndarray  # (V,)


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
    filter and the attributes are then read from that text."""
    import osmium

    with tempfile.TemporaryDirectory(prefix="servicecircle-osm-") as tmp:
        opl = Path(tmp) / "ways.opl"
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
        data = opl.read_bytes()
    return _ways_from_opl(data)


def _ways_from_opl(data: bytes) -> _Ways:
    """Parse OPL way lines (``w<id> T<tags> N<nodes>``) and keep the walkable ones.

    The node lists are cut off first (most of the text); ids and tags are then searched in
    the rest, the same lines without their ``N`` fields."""
    counts, ref, lon, lat, tags = _split_opl(data)
    line_start = np.flatnonzero(np.frombuffer(b"\n" + tags, np.uint8) == ord("\n"))[:-1]
    n_read = int(line_start.size)
    osmid = np.array(_OPL_ID.findall(tags), dtype=bytes).astype(np.int64)
    highway = _tag_column(tags, line_start, "highway")
    if osmid.size != n_read or (highway is None and n_read):
        raise NetworkError(f"cannot parse libosmium's OPL output ({osmid.size} of {n_read} ways)")
    walkable = ~_excluded(tags, line_start)
    if counts.size != n_read:
        raise NetworkError(f"cannot parse libosmium's OPL output ({counts.size} node lists)")
    name = _tag_column(tags, line_start, "name")
    keep_v = np.repeat(walkable, counts)
    return _Ways(
        n_read=n_read,
        osmid=osmid[walkable],
        highway=(highway if highway is not None else np.zeros(0, object))[walkable],
        name=(name if name is not None else np.full(n_read, "", object))[walkable],
        counts=counts[walkable],
        ref=ref[keep_v],
        lon=lon[keep_v],
        lat=lat[keep_v],
    )


def _tag_matches(
    data: bytes, line_start: np.ndarray, key: str, value: bytes = b"[^,\\s]*"
) -> tuple[np.ndarray, list[bytes]]:
    """Lines carrying tag ``key`` with a value matching ``value``, and the values.

    In OPL, tags follow `` T`` or ``,``, and ``,``, ``=``, ``%`` and white space are escaped
    inside keys and values. The regular expression starts with the key itself (which lets
    ``re`` scan for it quickly); matches not preceded by `` T`` or ``,`` are part of a longer key.
    """
    if not (key.isascii() and key.isprintable() and not set(key) & set(" ,=%@")):
        raise ValueError(f"tag key {key!r} would be escaped in OPL")
    pattern = re.compile(re.escape(key.encode()) + b"=(" + value + b")")
    pos, vals = [], []
    for m in pattern.finditer(data):
        pos.append(m.start())
        vals.append(m.group(1))
    at = np.asarray(pos, np.int64)
    ok = np.zeros(at.size, bool)
    if at.size:
        buf = np.frombuffer(data, np.uint8)
        before = buf[np.maximum(at - 1, 0)]
        ok = (before == ord(",")) | (
            (before == ord("T")) & (buf[np.maximum(at - 2, 0)] == ord(" ")) & (at >= 2)
        )
    line = np.searchsorted(line_start, at[ok], side="right") - 1
    return line, [v for v, k in zip(vals, ok, strict=True) if k]


def _tag_column(data: bytes, line_start: np.ndarray, key: str) -> np.ndarray | None:
    """The value of tag ``key`` on every line ("" where absent), or None if no line has it."""
    line, vals = _tag_matches(data, line_start, key)
    if not vals:
        return None
    out = np.full(line_start.size, "", object)
    text = b"\n".join(vals).decode("utf-8")
    if "%" in text:
        text = _OPL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    out[line] = text.split("\n")
    return out


def _excluded(data: bytes, line_start: np.ndarray) -> np.ndarray:
    """Lines that :func:`is_walkable` rejects, found with one regular expression per key.

    The value patterns are plain ASCII words, which OPL never escapes and which contain no
    hexadecimal-only run, so they match the escaped text exactly where they match the value.
    """
    out = np.zeros(line_start.size, bool)
    for key, pattern in _WALK_EXCLUDE.items():
        value = b"[^,\\s]*?(?:" + pattern.pattern.encode() + b")[^,\\s]*"
        out[_tag_matches(data, line_start, key, value)[0]] = True
    return out


#: Bytes of OPL text parsed at a time (bounds the temporary copies made while parsing).
OPL_CHUNK_BYTES = 16 * 2**20


def _parse_opl_nodes(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vertices per way, node ids, longitudes and latitudes of OPL way lines (see
    :func:`_split_opl`)."""
    return _split_opl(data)[:4]


def _split_opl(
    data: bytes,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bytes]:
    """Vertices per way, node ids, longitudes and latitudes of OPL way lines, and the lines
    without their node lists.

    Each line ends with `` N n<id>x<lon>y<lat>,...`` (``n<id>xy`` for a vertex without a
    location). Coordinates are OSM's fixed 7-decimal values, so parsing the text gives the
    same doubles as libosmium's ``Location.lon``/``lat``. Parsed in chunks of whole lines.
    """
    counts, tables, tags = [], [], []
    lo = 0
    while lo < len(data):
        hi = data.find(b"\n", min(lo + OPL_CHUNK_BYTES, len(data) - 1)) + 1 or len(data)
        pieces = _OPL_NODES.split(data[lo:hi])  # line start, nodes, rest + next line start, ...
        parts = pieces[1::2]
        tags.append(b"".join(pieces[0::2]))
        del pieces
        counts.append(np.array([p.count(b",") + 1 if p else 0 for p in parts], np.int64))
        text = b",".join(p for p in parts if p)
        del parts
        if b"xy" in text:
            text = text.replace(b"xy", b"x1e9y1e9")
        table = _vertex_table(text)
        if table[0].size != counts[-1].sum():
            raise NetworkError(f"cannot parse libosmium's OPL output ({table[0].size} vertices)")
        tables.append(table)
        lo = hi
    count = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    ref = np.concatenate([t[0] for t in tables]) if tables else np.zeros(0, np.int64)
    if ref.size and np.abs(ref).max() >= 2**53:
        raise NetworkError("OSM node ids beyond 2**53 are not supported")
    lon = np.concatenate([t[1] for t in tables]) if tables else np.zeros(0)
    lat = np.concatenate([t[2] for t in tables]) if tables else np.zeros(0)
    return count, ref, lon, lat, b"".join(tags)


def _vertex_table(text: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids, longitudes and latitudes of ``n<id>x<lon>y<lat>`` items joined by commas.

    pandas' C reader parses them about four times faster than ``np.fromstring``; its default
    float converter gives the correctly rounded double of these short decimals, the same as
    ``float()`` (test against ``float`` on random OSM coordinates and on real files).
    """
    import io

    import pandas as pd

    if not text:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    csv = text.translate(_OPL_TO_TSV, b"n")
    try:
        df = pd.read_csv(
            io.BytesIO(csv),
            sep="\t",
            header=None,
            names=["ref", "lon", "lat"],
            dtype={"ref": np.int64, "lon": np.float64, "lat": np.float64},
            engine="c",
            na_filter=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise NetworkError(f"cannot parse libosmium's OPL output ({exc})") from exc
    return (df["ref"].to_numpy(), df["lon"].to_numpy(), df["lat"].to_numpy())


def _split_at_missing(ways: _Ways) -> _Lines:
    """Cut ways at vertices without a location; drop pieces of a single vertex."""
    n_v = ways.ref.size
    way_of = np.repeat(np.arange(ways.counts.size), ways.counts)
    valid = ways.lon != _NO_LOCATION
    first_in_way = np.ones(n_v, bool)
    first_in_way[1:] = way_of[1:] != way_of[:-1]
    prev_valid = np.ones(n_v, bool)
    prev_valid[1:] = valid[:-1]
    starts = valid & (first_in_way | ~prev_valid)
    run = np.cumsum(starts) - 1  # the run of every located vertex
    run_len = np.bincount(run[valid], minlength=int(starts.sum()))
    keep_run = run_len >= 2
    keep = valid & keep_run[np.maximum(run, 0)]
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
