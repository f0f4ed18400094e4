"""libosmium's OPL way lines (``w<id> T<tags> N<nodes>``) to arrays, with a tag filter.

:mod:`._osm` has libosmium write every highway way with its node locations as OPL text; this
module parses that text. Two implementations give identical results
(``tests/test_osm_oplc.py``): the compiled parser :mod:`._oplc` (``setup.py`` builds it; one
pass over the bytes, issue 13) and, where no C compiler was available, NumPy and pandas' C CSV
reader (about six times slower on a province's text).

Both hand back, per key asked for, the lines carrying it and the raw (escaped) values; the
values are unescaped and filtered once per distinct value, here, for both.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._errors import NetworkError

try:  # the compiled parser (setup.py builds it; optional where no compiler exists)
    from . import _oplc as _compiled
except ImportError:  # pragma: no cover - depends on the install
    _compiled = None

#: The compiled parser (:mod:`._oplc`), or None: the NumPy path (tests set it to None).
PARSER = _compiled

#: OPL marks a vertex without a location as ``n<id>xy``; this stands in for its coordinates.
NO_LOCATION = 1e9
_OPL_NODES = re.compile(rb" N([^\n]*)")
_OPL_ID = re.compile(rb"^w(-?\d+) ", re.MULTILINE)
_OPL_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")
#: An escaped line feed (or text that looks like one): values are then unescaped one by one.
_OPL_NEWLINE = re.compile(r"%0*[aA]%")
#: ``x``/``y`` become field separators and ``,`` a line end (``n`` is deleted): one vertex a row.
_OPL_TO_TSV = bytes.maketrans(b"xy,", b"\t\t\n")
#: Bytes of OPL text parsed at a time by the NumPy path (bounds its temporary copies).
OPL_CHUNK_BYTES = 16 * 2**20
#: Threads of the compiled parser (each parses a chunk of whole lines; same result as one), and
#: the text it takes to use more than one.
OPL_THREADS = min(2, os.cpu_count() or 1)
OPL_THREADS_FROM_BYTES = 4 * 2**20


@dataclass
class _Ways:
    """The kept ways of a file: per-way attributes and their vertices, flat."""

    n_read: int  # highway ways read (kept or not)
    osmid: np.ndarray  # (W,) way ids
    highway: np.ndarray  # (W,) str
    name: np.ndarray  # (W,) str
    counts: np.ndarray  # (W,) vertices per way
    ref: np.ndarray  # (V,) node ids
    lon: np.ndarray  # (V,) degrees; NO_LOCATION where the node is missing
    lat: np.ndarray  # (V,)


@dataclass
class _Tag:
    """One key's tags: the line of each, and its value as an index into the distinct values."""

    line: np.ndarray  # (T,) int64
    code: np.ndarray  # (T,) int64, into ``values``
    values: np.ndarray  # (U,) str, unescaped


def ways_from_opl(data: bytes | mmap.mmap, exclude: Mapping[str, re.Pattern[str]]) -> _Ways:
    """The ways of OPL text that carry ``highway`` and none of the ``exclude`` tags (libosmium
    was asked for highway ways only; the check keeps the result exactly :func:`is_walkable`'s).

    Parameters
    ----------
    data
        OPL way lines as libosmium writes them (``opl,locations_on_ways=true``), as bytes or
        a read-only map of the file.
    exclude
        Key -> pattern: a way is dropped when the (unescaped) value of one of these keys
        matches its pattern anywhere (``re.search``), as in Overpass ``[key!~pattern]``.

    Raises
    ------
    NetworkError
        When the text is not of that form, or a node id is 2**53 or more in absolute value.
    """
    keys = ("highway", "name", *exclude)
    parse = _parse_compiled if PARSER is not None else _parse_numpy
    osmid, counts, ref, lon, lat, tags = parse(data, keys)
    n_read = int(osmid.size)
    highway = _column(n_read, tags["highway"])
    if n_read and not tags["highway"].line.size:
        raise NetworkError(f"cannot parse libosmium's OPL output (no highway in {n_read} ways)")
    keep = np.zeros(n_read, bool)
    keep[tags["highway"].line] = True
    keep &= ~_excluded(n_read, tags, exclude)
    keep_v = np.repeat(keep, counts)
    return _Ways(
        n_read=n_read,
        osmid=osmid[keep],
        highway=highway[keep],
        name=_column(n_read, tags["name"])[keep],
        counts=counts[keep],
        ref=ref[keep_v],
        lon=lon[keep_v],
        lat=lat[keep_v],
    )


_Raw = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, _Tag]]


def _parse_compiled(data: bytes | mmap.mmap, keys: tuple[str, ...]) -> _Raw:
    """Way ids, vertices per way, node ids, lon, lat and the tags of ``keys``, by :mod:`._oplc`."""
    for key in keys:
        _check_key(key)
    try:
        threads = OPL_THREADS if len(data) >= OPL_THREADS_FROM_BYTES else 1
        osmid, counts, ref, lon, lat, tags, _slow = PARSER.parse(
            data, tuple(k.encode() for k in keys), threads
        )
    except OverflowError as exc:
        raise NetworkError(f"OSM node ids beyond 2**53 are not supported ({exc})") from exc
    except ValueError as exc:
        raise NetworkError(f"cannot parse libosmium's OPL output ({exc})") from exc
    out = {}
    for key, (line, code, vals, n_values) in zip(keys, tags, strict=True):
        values = np.empty(n_values, object)
        try:
            values[:] = PARSER.unescape(vals) if n_values else []
        except ValueError as exc:  # bad UTF-8 or escape
            raise NetworkError(f"cannot parse libosmium's OPL output ({exc})") from exc
        out[key] = _Tag(np.frombuffer(line, np.int64), np.frombuffer(code, np.int64), values)
    return (
        np.frombuffer(osmid, np.int64),
        np.frombuffer(counts, np.int64),
        np.frombuffer(ref, np.int64),
        np.frombuffer(lon, np.float64),
        np.frombuffer(lat, np.float64),
        out,
    )


def _parse_numpy(data: bytes | mmap.mmap, keys: tuple[str, ...]) -> _Raw:
    """The same as :func:`_parse_compiled`, with regular expressions, NumPy and pandas.

    The node lists are cut off first (most of the text); ids and tags are then searched in
    the rest, the same lines without their ``N`` fields."""
    counts, ref, lon, lat, text = _split_opl(data)
    line_start = np.flatnonzero(np.frombuffer(b"\n" + text, np.uint8) == ord("\n"))[:-1]
    n_read = int(line_start.size)
    osmid = np.array(_OPL_ID.findall(text), dtype=bytes).astype(np.int64)
    if osmid.size != n_read:
        raise NetworkError(f"cannot parse libosmium's OPL output ({osmid.size} of {n_read} ways)")
    if counts.size != n_read:
        raise NetworkError(f"cannot parse libosmium's OPL output ({counts.size} node lists)")
    tags = {key: _tag_table(*_tag_matches(text, line_start, key)) for key in keys}
    return osmid, counts, ref, lon, lat, tags


def _check_key(key: str) -> None:
    """Refuse a key that libosmium would escape (both parsers look for it verbatim)."""
    if not (key.isascii() and key.isprintable() and key and not set(key) & set(" ,=%@")):
        raise ValueError(f"tag key {key!r} would be escaped in OPL")


def _tag_matches(data: bytes, line_start: np.ndarray, key: str) -> tuple[np.ndarray, list[bytes]]:
    """Lines carrying tag ``key``, and its raw values.

    In OPL, tags follow `` T`` or ``,``, and ``,``, ``=``, ``%`` and white space are escaped
    inside keys and values. The regular expression starts with the key itself (which lets
    ``re`` scan for it quickly); matches not preceded by `` T`` or ``,`` are part of a longer key.
    """
    _check_key(key)
    pattern = re.compile(re.escape(key.encode()) + b"=([^,\\s]*)")
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
    return line.astype(np.int64), [v for v, k in zip(vals, ok, strict=True) if k]


def _tag_table(line: np.ndarray, vals: list[bytes]) -> _Tag:
    """One key's raw values, each distinct value unescaped once."""
    import pandas as pd

    code, uniq = pd.factorize(np.array(vals, dtype=object))
    values = np.empty(len(uniq), object)
    values[:] = _unescape(list(uniq))
    return _Tag(line=line, code=code.astype(np.int64), values=values)


def _char(m: re.Match[str]) -> str:
    """The character of one ``%<hex>%`` escape."""
    return chr(int(m.group(1), 16))


def _unescape(raw: list[bytes]) -> list[str]:
    """OPL values (``%<hex>%`` escapes) as text."""
    if not raw:
        return []
    try:
        text = b"\n".join(raw).decode("utf-8")
        if "%" not in text:
            return text.split("\n")
        if _OPL_NEWLINE.search(text):  # a value holds a line feed: unescape them one by one
            return [_OPL_ESCAPE.sub(_char, t) for t in text.split("\n")]
        return _OPL_ESCAPE.sub(_char, text).split("\n")
    except (ValueError, OverflowError) as exc:  # bad UTF-8 or escape
        raise NetworkError(f"cannot parse libosmium's OPL output ({exc})") from exc


def _column(n: int, tag: _Tag) -> np.ndarray:
    """The value of the tag on every line ("" where absent)."""
    out = np.full(n, "", object)
    out[tag.line] = tag.values[tag.code]
    return out


def _excluded(n: int, tags: dict[str, _Tag], exclude: Mapping[str, re.Pattern[str]]) -> np.ndarray:
    """Lines with a value of a key in ``exclude`` that its pattern matches (each distinct value
    searched once)."""
    out = np.zeros(n, bool)
    for key, pattern in exclude.items():
        tag = tags[key]
        hit = np.fromiter(
            (pattern.search(v) is not None for v in tag.values), bool, len(tag.values)
        )
        out[tag.line[hit[tag.code]]] = True
    return out


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
