"""The compiled OPL parser (geo/network/_oplc.c, issue 13) against the NumPy path it replaces
and against the text it parses: the same arrays bit for bit, on generated OPL (written with
libosmium's escaping rules) and on libosmium's own OPL of real files; coordinates equal to
``float()``; malformed text a NetworkError. Every test here runs on both paths where both
apply (the NumPy path is what installs without a C compiler get)."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_NETWORKS, need_shared
from hypothesis import given, settings
from hypothesis import strategies as st

import geo.network._opl as opl
from geo._errors import NetworkError
from geo.config import Config
from geo.demo import demo_pbf
from geo.network import build_network
from geo.network._model import _ARRAYS
from geo.network._osm import _WALK_EXCLUDE, _opl_text, _ways_from_opl, is_walkable

COMPILED = opl.PARSER
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="geo.network._oplc not built")
PATHS = ["compiled", "numpy"]


@pytest.fixture(params=PATHS)
def path_kind(request, monkeypatch):
    """Each test twice: the compiled parser and the NumPy path."""
    if request.param == "compiled" and COMPILED is None:
        pytest.skip("geo.network._oplc not built")
    monkeypatch.setattr(opl, "PARSER", COMPILED if request.param == "compiled" else None)
    return request.param


def _escape(text: str) -> str:
    """libosmium's OPL escaping (io/detail/string_util.hpp, append_utf8_encoded_string)."""
    out = []
    for ch in text:
        c = ord(ch)
        if (
            0x21 <= c <= 0x24
            or 0x26 <= c <= 0x2B
            or 0x2D <= c <= 0x3C
            or 0x3E <= c <= 0x3F
            or 0x41 <= c <= 0x7E
            or 0xA1 <= c <= 0xAC
            or 0xAE <= c <= 0x5FF
        ):
            out.append(ch)
        else:
            out.append(f"%{c:02x}%" if c <= 0xFF else f"%{c:04x}%")
    return "".join(out)


def _coord(units: int, keep_zeros: bool = False) -> str:
    """libosmium's text for ``units`` 1e-7 degrees (trailing zeros dropped unless asked)."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**7)
    frac_s = f"{frac:07d}" if keep_zeros else f"{frac:07d}".rstrip("0")
    return f"{sign}{whole}" + (f".{frac_s}" if frac_s else "")


def _both(data: bytes, keys: tuple[str, ...]):
    compiled = opl._parse_compiled(data, keys) if COMPILED is not None else None
    return compiled, opl._parse_numpy(data, keys)


def _assert_raw_equal(a, b) -> None:
    """Two raw parses: ids, counts, node ids and coordinates byte for byte, the same tags."""
    for x, y in zip(a[:5], b[:5], strict=True):
        assert x.dtype == y.dtype
        assert x.tobytes() == y.tobytes()
    assert a[5].keys() == b[5].keys()
    for key in a[5]:
        ta, tb = a[5][key], b[5][key]
        for k in ("line", "code", "values"):
            x, y = getattr(ta, k), getattr(tb, k)
            assert x.dtype == y.dtype, (key, k)
            assert x.tolist() == y.tolist(), (key, k)  # values: in order of first appearance


def _assert_ways_equal(a: opl._Ways, b: opl._Ways) -> None:
    assert a.n_read == b.n_read
    for k in ("osmid", "highway", "name", "counts", "ref", "lon", "lat"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype, k
        if x.dtype == object:
            assert x.tolist() == y.tolist(), k
            assert all(type(v) is str for v in x), k
        else:
            assert x.tobytes() == y.tobytes(), k


# --- generated OPL --------------------------------------------------------------------------

_KEYS = [
    "highway",
    "old_highway",
    "highway:foo",
    "highwa",
    "name",
    "name:en",
    "foot",
    "xfoot",
    "foot:x",
    "access",
    "area",
    "service",
    "sidewalk",
    "sidewalk:both",
    "n a=m,e",  # escaped in the key itself
]
_TEXT = st.lists(
    st.sampled_from(
        [*"noyesprivatmcl_separd %,=@路é\tT\nNxy9", "no", "motor", "separate", "%20%", "%8def%"]
    ),
    max_size=6,
).map("".join)
_NODE = st.tuples(
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.one_of(
        st.none(),  # no location: n<id>xy
        st.tuples(
            st.integers(-1_800_000_000, 1_800_000_000),
            st.integers(-900_000_000, 900_000_000),
            st.booleans(),
        ),
    ),
)
_WAY = st.tuples(
    st.integers(-(2**62), 2**62),
    st.lists(st.tuples(st.sampled_from(_KEYS), _TEXT), max_size=5, unique_by=lambda kv: kv[0]),
    st.lists(_NODE, max_size=6),
)


def _opl_of(ways) -> bytes:
    lines = []
    for wid, tags, nodes in ways:
        t = ",".join(f"{_escape(k)}={_escape(v)}" for k, v in tags)
        n = ",".join(
            f"n{i}xy" if loc is None else f"n{i}x{_coord(loc[0], loc[2])}y{_coord(loc[1], loc[2])}"
            for i, loc in nodes
        )
        lines.append(f"w{wid} T{t} N{n}\n")
    return "".join(lines).encode()


def _expected(ways):
    """What the parse must give, from the generated ways themselves."""
    keep = []
    for wid, tags, nodes in ways:
        d = dict(tags)  # the last of a repeated key, as the parse gives
        if is_walkable(d):
            keep.append((wid, d, nodes))
    ref = [i for _, _, nodes in keep for i, _ in nodes]
    lon = [1e9 if loc is None else float(_coord(loc[0])) for _, _, n in keep for _, loc in n]
    lat = [1e9 if loc is None else float(_coord(loc[1])) for _, _, n in keep for _, loc in n]
    return keep, ref, lon, lat


@settings(max_examples=300, deadline=None)
@given(st.lists(_WAY, max_size=8))
def test_generated_opl_same_on_both_paths_and_as_written(ways):
    data = _opl_of(ways)
    keys = ("highway", "name", "name:en", "foot", "old_highway", "highwa")
    compiled, numpy_ = _both(data, keys)
    if compiled is not None:
        _assert_raw_equal(compiled, numpy_)
    results = []
    for parser in [COMPILED, None] if COMPILED is not None else [None]:
        opl.PARSER = parser
        try:
            results.append(_ways_from_opl(data))
        except NetworkError as exc:
            results.append(exc)
        finally:
            opl.PARSER = COMPILED
    has_highway = any(k == "highway" for _, tags, _ in ways for k, _ in tags)
    if ways and not has_highway:  # nothing to go on: both refuse
        assert all(isinstance(r, NetworkError) for r in results)
        return
    if len(results) == 2:
        _assert_ways_equal(*results)
    got = results[-1]
    keep, ref, lon, lat = _expected(ways)
    assert got.n_read == len(ways)
    assert got.osmid.tolist() == [w for w, _, _ in keep]
    assert got.highway.tolist() == [d["highway"] for _, d, _ in keep]
    assert got.name.tolist() == [d.get("name", "") for _, d, _ in keep]
    assert got.counts.tolist() == [len(n) for _, _, n in keep]
    assert got.ref.tolist() == ref
    assert got.lon.tobytes() == np.array(lon).tobytes()
    assert got.lat.tobytes() == np.array(lat).tobytes()


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(st.lists(_WAY, min_size=1, max_size=6))
def test_tag_lines_and_values(ways):
    """Exact keys only (not ``old_highway`` for ``highway``), values unescaped, in line order,
    each distinct value once."""
    data = _opl_of(ways)
    keys = tuple(k for k in _KEYS if k.isascii() and "=" not in k and " " not in k)
    tags = opl._parse_compiled(data, keys)[5]
    for key in keys:
        want = [(i, v) for i, (_, t, _) in enumerate(ways) for k, v in t if k == key]
        tag = tags[key]
        assert list(zip(tag.line.tolist(), tag.values[tag.code].tolist(), strict=True)) == want
        assert len(set(tag.values)) == tag.values.size


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.text(st.characters(blacklist_characters="\n"), max_size=3),
                st.sampled_from(["%", "%%", "%a%", "%41%", "%0%", "%d800%", "%10ffff%", "%8DEF%"]),
                st.sampled_from(
                    ["%110000%", "%ffffffffffff%", "%100000041%", "%zz%", "%4", "%-1%", "%%41%"]
                ),
            ),
            max_size=5,
        ).map("".join),
        min_size=1,
        max_size=5,
    )
)
def test_unescape_compiled_equals_python(values):
    """Any text, malformed escapes included: the same strings, or both a NetworkError."""
    raw = [v.encode("utf-8", "surrogatepass") for v in values]
    try:
        want: list[str] | type[Exception] = opl._unescape(raw)
    except NetworkError:
        want = NetworkError
    try:
        got: list[str] | type[Exception] = COMPILED.unescape(b"\n".join(raw))
    except ValueError:
        got = NetworkError
    assert got == want


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(st.lists(_WAY, max_size=10), st.integers(2, 16), st.booleans())
def test_threads_give_the_same_result(ways, threads, malformed):
    """The text cut into chunks parsed in parallel: the same arrays, tags (codes in order of
    first appearance) and the same first error."""
    data = _opl_of(ways)
    if malformed and ways:  # a bad line somewhere: the first one is reported, by line number
        lines = data.split(b"\n")
        lines[len(lines) // 3] = b"w1 Thighway=a Nn1x1y"
        lines[2 * len(lines) // 3] = b"w2 Thighway=a Nn1xaby2"
        data = b"\n".join(lines)
    keys = tuple(k.encode() for k in ("highway", "name", "foot", "name:en"))

    def run(n):
        try:
            out = COMPILED.parse(data, keys, n)
        except (ValueError, OverflowError) as exc:
            return repr(exc)
        return [bytes(x) for x in out[:5]] + [out[5], out[6]]

    assert run(threads) == run(1)


@needs_compiled
def test_threads_on_a_real_file():
    data = _opl_text(Path(demo_pbf()))
    keys = tuple(k.encode() for k in ("highway", "name", *_WALK_EXCLUDE))
    one = COMPILED.parse(data, keys, 1)
    for n in (2, 3, 16):
        many = COMPILED.parse(data, keys, n)
        assert [bytes(x) for x in many[:5]] == [bytes(x) for x in one[:5]]
        assert many[5:] == one[5:]


# --- coordinates ----------------------------------------------------------------------------

_DIGITS = st.text("0123456789", min_size=1, max_size=4)
_TOKEN = st.one_of(
    st.builds(  # libosmium's form: up to 7 decimals, trailing zeros or not
        lambda neg, whole, frac: f"{'-' if neg else ''}{whole}" + (f".{frac}" if frac else ""),
        st.booleans(),
        st.integers(0, 180),
        st.text("0123456789", max_size=7),
    ),
    st.builds(  # beyond the fast path: long decimals, exponents, leading zeros, "1." / ".5"
        lambda neg, a, b, e: f"{'-' if neg else ''}{a}{b}{e}",
        st.booleans(),
        st.sampled_from(["", "0", "00012", "123456789012", "1234567890123456"]),
        st.sampled_from(["", ".", ".5", ".12345678", ".000000000000000001", ".99999999999"]),
        st.sampled_from(["", "e3", "E-5", "e+0"]),
    ).filter(lambda s: any(c.isdigit() for c in s.split("e")[0].split("E")[0])),
)


def _is_fast(tok: str) -> bool:
    body = tok.lstrip("-")
    whole, _, frac = body.partition(".")
    return (
        body.replace(".", "", 1).isdigit()
        and whole != ""
        and ("." not in body or frac != "")
        and len(whole) + len(frac) <= 15
        and len(frac) <= 7
    )


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_TOKEN, _TOKEN), min_size=1, max_size=20))
def test_coordinates_are_float_of_the_text(pairs):
    """Bit for bit ``float(text)``: D / 10**k on the fast path, Python's parser otherwise."""
    nodes = ",".join(f"n{i}x{x}y{y}" for i, (x, y) in enumerate(pairs))
    _, _, _, lon, lat, _, slow = COMPILED.parse(f"w1 T N{nodes}\n".encode(), ())
    lon, lat = np.frombuffer(lon), np.frombuffer(lat)
    for i, (x, y) in enumerate(pairs):
        assert struct.pack("<d", lon[i]) == struct.pack("<d", float(x)), x
        assert struct.pack("<d", lat[i]) == struct.pack("<d", float(y)), y
    assert slow == sum(not _is_fast(t) for p in pairs for t in p)  # the fast path was used


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**15 - 1), st.integers(0, 7), st.booleans())
def test_fast_path_division_is_correctly_rounded(d, k, neg):
    """Every D < 10**15 with k <= 7 decimals: D / 10**k is the double float() gives."""
    text = str(d).rjust(k + 1, "0")
    tok = ("-" if neg else "") + (f"{text[:-k]}.{text[-k:]}" if k else text)
    _, _, _, lon, _, _, slow = COMPILED.parse(f"w1 T Nn1x{tok}y0\n".encode(), ())
    assert slow == 0
    assert struct.pack("<d", np.frombuffer(lon)[0]) == struct.pack("<d", float(tok))


# --- malformed text -------------------------------------------------------------------------

_MALFORMED = [
    b"x1 Thighway=a N\n",  # not a way line
    b"w1 Thighway=a\n",  # no node list
    b"wx Thighway=a Nn1x1y2\n",  # bad way id
    b"w1 Thighway=a Nn1x1y\n",  # half a location
    b"w1 Thighway=a Nn1x1.5\n",  # no latitude
    b"w1 Thighway=a Nn1xaby2\n",  # not a number
    b"w1 Thighway=a Nnx1y2\n",  # no node id
    b"w1 Thighway=a Nn1x1y2,\n",  # empty item
    b"w1 Thighway=a Nn1x1y2 Tfoo\n",  # the node list is not last
    b"w1 Thighway=a Nn1x1y2\n\n",  # an empty line
    b"w1 Thighway=a Nn1x1e5e5y2\n",  # not a float
]


@pytest.mark.parametrize("data", _MALFORMED)
def test_malformed_text_is_a_network_error(data, path_kind):
    with pytest.raises(NetworkError, match=r"cannot parse libosmium's OPL output \(.+\)"):
        _ways_from_opl(data)


def test_every_prefix_of_a_line_parses_or_is_refused():
    """Text cut anywhere (no final line feed): a result or a NetworkError, never a crash or a
    read past the end; where both paths give a result, the same one."""
    line = b"w-1 v2 Thighway=a,name=x%20%y,foot=%8def% Nn1x1.5y-2.25,n-2xy,n3x1e2y.5"
    for k in range(len(line) + 1):
        got = []
        for parser in [COMPILED, None] if COMPILED is not None else [None]:
            opl.PARSER = parser
            try:
                got.append(_ways_from_opl(line[:k]))
            except NetworkError:
                got.append(None)
            finally:
                opl.PARSER = COMPILED
        if len(got) == 2 and got[0] is not None and got[1] is not None:
            _assert_ways_equal(*got)
    if COMPILED is not None:  # the whole line, without its line feed (the NumPy path needs one)
        assert got[0] is not None and got[0].counts.tolist() == [3]
    assert _ways_from_opl(line + b"\n").counts.tolist() == [3]


@needs_compiled
@pytest.mark.skipif(sys.platform != "linux", reason="mprotect through ctypes")
def test_text_is_never_read_past_its_end():
    """Every prefix of a line, placed so that it ends where an inaccessible page starts: the
    parser refuses or parses it, never touching the page (the reader maps libosmium's file, so
    a read past the end would fault). Run in a child process, which a fault would kill."""
    child = textwrap.dedent(
        """
        import ctypes, mmap
        from geo.network import _oplc
        page = mmap.PAGESIZE
        buf = mmap.mmap(-1, 3 * page)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        assert libc.mprotect(addr + 2 * page, page, 0) == 0  # PROT_NONE
        line = b"w1 Thighway=a,name=x%20%y Nn1x1y2\\nw-2 v2 Tfoo=%8def%,highway=b Nn1x1.5y-2.25,n-2xy,n3x1e2y.5"
        parsed = 0
        for k in range(len(line) + 1):
            for threads in (1, 3):
                view = memoryview(buf)[2 * page - k : 2 * page]
                view[:] = line[:k]
                try:
                    _oplc.parse(view, (b"highway", b"name", b"foo"), threads)
                    parsed += 1
                except (ValueError, OverflowError):
                    pass
                view.release()
        print(parsed)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10  # some prefixes are whole lines


_EDITS = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.sampled_from(["insert", "delete", "replace"]),
        st.sampled_from([*"wnxyTN ,=\n-.1e%a"]),
    ),
    max_size=3,
)


def _edit(data: bytes, edits) -> bytes:
    for at, op, ch in edits:
        i = int(at * len(data))
        c = ch.encode()
        data = {
            "insert": data[:i] + c + data[i:],
            "delete": data[:i] + data[i + 1 :],
            "replace": data[:i] + c + data[i + 1 :],
        }[op]
    return data


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(st.lists(_WAY, max_size=4), _EDITS, st.integers(1, 4))
def test_damaged_text_is_refused_or_parsed_consistently(ways, edits, threads):
    """OPL with a few characters inserted, deleted or replaced: a ValueError/OverflowError, or
    arrays that agree with each other (and, run under AddressSanitizer, no read outside the
    text)."""
    text = _edit(_opl_of(ways), edits).decode("utf-8", "replace")
    try:
        osmid, counts, ref, lon, lat, tags, _ = COMPILED.parse(
            text.encode(), (b"highway",), threads
        )
    except (ValueError, OverflowError):
        return
    counts = np.frombuffer(counts, np.int64)
    assert (
        len(osmid)
        == len(counts) * 8
        == text.encode().count(b"\n") * 8 + (8 if text and not text.endswith("\n") else 0)
    )
    assert counts.sum() * 8 == len(ref) == len(lon) == len(lat)
    line, code, values, n_values = tags[0]
    assert len(line) == len(code)
    assert np.frombuffer(code, np.int64).max(initial=-1) < n_values


def test_node_ids_beyond_2_53_are_refused(path_kind):
    for nid in (2**53, -(2**53), 2**62):
        with pytest.raises(NetworkError, match=r"beyond 2\*\*53"):
            _ways_from_opl(f"w1 Thighway=a Nn1x1y2,n{nid}x1y2\n".encode())
    assert _ways_from_opl(f"w1 Thighway=a Nn{2**53 - 1}x1y2\n".encode()).ref[0] == 2**53 - 1


def test_escaped_line_feed_in_a_value(path_kind):
    """A name holding a line feed (%a%) stays one value (it used to shift every later name)."""
    data = b"w1 Thighway=a,name=x%a%y Nn1x1y2\nw2 Thighway=b,name=z%20%%8def% Nn2x1y2\n"
    ways = _ways_from_opl(data)
    assert ways.name.tolist() == ["x\ny", "z 路"]
    assert ways.highway.tolist() == ["a", "b"]


def test_empty_text_and_empty_lists(path_kind):
    assert _ways_from_opl(b"").osmid.size == 0
    ways = _ways_from_opl(b"w1 T N\nw2 Thighway=a N\nw-3 Thighway=b,name=c Nn-5xy\n")
    assert ways.n_read == 3
    assert ways.osmid.tolist() == [2, -3]
    assert ways.counts.tolist() == [0, 1]
    assert ways.ref.tolist() == [-5]
    assert ways.lon.tolist() == ways.lat.tolist() == [1e9]


# --- real files -----------------------------------------------------------------------------

_REAL = {
    "helsinki": lambda: demo_pbf(),
    "optics_valley": lambda: need_shared(REAL_NETWORKS["optics_valley"]),
    "shanghai": lambda: need_shared(REAL_NETWORKS["shanghai"]),
}


@needs_compiled
@pytest.mark.parametrize(
    "name",
    [
        "helsinki",
        pytest.param("optics_valley", marks=pytest.mark.realdata),
        pytest.param("shanghai", marks=pytest.mark.realdata),
    ],
)
def test_real_opl_same_on_both_paths(name):
    data = _opl_text(Path(_REAL[name]()))
    keys = ("highway", "name", *_WALK_EXCLUDE)
    _assert_raw_equal(*_both(data, keys))
    compiled = _ways_from_opl(data)
    opl.PARSER = None
    try:
        numpy_ = _ways_from_opl(data)
    finally:
        opl.PARSER = COMPILED
    _assert_ways_equal(compiled, numpy_)
    assert compiled.osmid.size > 100


@needs_compiled
@pytest.mark.parametrize("name", ["helsinki", pytest.param("shanghai", marks=pytest.mark.realdata)])
def test_build_network_same_with_and_without_the_extension(name, monkeypatch):
    path = _REAL[name]()
    cfg = Config(use_cache=False)
    compiled = build_network(path, config=cfg)
    monkeypatch.setattr(opl, "PARSER", None)
    numpy_ = build_network(path, config=cfg)
    assert compiled.n_edges > 100
    for k in _ARRAYS:
        x, y = getattr(compiled, k), getattr(numpy_, k)
        assert x.dtype == y.dtype, k
        assert x.shape == y.shape, k
        assert np.array_equal(x, y), k


# --- ways to lines --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=12), st.booleans())
def test_whole_ways_equal_the_run_split_when_every_vertex_is_located(counts, with_missing):
    """The shortcut for complete extracts gives what cutting at missing vertices gives."""
    from geo.network._osm import _split_at_missing, _split_runs, _whole_ways

    c = np.asarray(counts, np.int64)
    n = int(c.sum())
    lon = np.arange(n, dtype=float) / 7
    if with_missing and n:
        lon[n // 2] = opl.NO_LOCATION
    ways = opl._Ways(
        n_read=c.size,
        osmid=np.arange(c.size, dtype=np.int64) + 100,
        highway=np.full(c.size, "path", object),
        name=np.full(c.size, "", object),
        counts=c,
        ref=np.arange(n, dtype=np.int64) * 3,
        lon=lon,
        lat=-lon,
    )
    general = _split_runs(ways, ways.lon != opl.NO_LOCATION)
    got = _split_at_missing(ways)
    if not (with_missing and n):
        got = _whole_ways(ways)
    for k in ("ref", "lon", "lat", "line", "way"):
        x, y = getattr(got, k), getattr(general, k)
        assert x.dtype == y.dtype, k
        assert x.tolist() == y.tolist(), k
    assert got.n_missing == general.n_missing


@pytest.mark.parametrize("tag", ["highway", "building"])
def test_file_without_any_located_vertex_or_highway_is_a_clear_error(tmp_path, path_kind, tag):
    """Every vertex outside the extract, or no highway at all (libosmium's OPL text is then
    empty, which the reader does not map): the usual error, not a crash."""
    from geo.network._osm import read_osm

    path = tmp_path / "cut.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6"><way id="1"><nd ref="1"/><nd ref="2"/>'
        f'<tag k="{tag}" v="path"/></way></osm>'
    )
    with pytest.raises(NetworkError, match="no walkable streets"):
        read_osm(path)
