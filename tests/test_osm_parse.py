"""The vectorised OSM reader (issue 13) against the per-vertex reader it replaced.

The reference below is the earlier ``read_osm`` loop (osmium iterating every vertex in
Python), kept here as an independent oracle: the new reader must give the same arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import REAL_NETWORKS, need_shared
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.demo import demo_pbf
from geo.network._model import _ARRAYS, Network, from_pieces
from geo.network._osm import _ways_from_opl, is_walkable, read_osm

osmium = pytest.importorskip("osmium")


#: every test twice: the compiled OPL parser and the NumPy path (conftest.opl_parser)
pytestmark = pytest.mark.usefixtures("opl_parser")


def _reference(path: str) -> Network:
    """The pre-issue-13 reader: one Python step per way vertex."""
    fp = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    refs, lons, lats, line_idx, osmids, highways, names = [], [], [], [], [], [], []
    line = 0
    for way in fp:
        tags = way.tags
        if not is_walkable(tags):
            continue
        run = 0
        for nd in [*way.nodes, None]:  # None: the end of the way cuts like a missing node
            if nd is not None and nd.location.valid():
                if run == 0:
                    osmids.append(way.id)
                    highways.append(tags.get("highway", ""))
                    names.append(tags.get("name", ""))
                refs.append(nd.ref)
                lons.append(nd.location.lon)
                lats.append(nd.location.lat)
                line_idx.append(line)
                run += 1
                continue
            if run >= 2:
                line += 1
            elif run:
                del refs[-run:], lons[-run:], lats[-run:], line_idx[-run:]
                osmids.pop(), highways.pop(), names.pop()
            run = 0
    refs_a = np.asarray(refs, np.int64)
    node_ids, first = np.unique(refs_a, return_index=True)
    return from_pieces(
        node_ids,
        np.asarray(lons)[first],
        np.asarray(lats)[first],
        refs_a,
        np.asarray(line_idx, np.int64),
        np.asarray(osmids, np.int64),
        np.asarray(highways, object),
        np.asarray(names, object),
        {},
    )


def _assert_same(a: Network, b: Network) -> None:
    for k in _ARRAYS:
        x, y = getattr(a, k), getattr(b, k)
        assert x.shape == y.shape, k
        assert np.array_equal(x, y), k


_TRICKY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
<node id="1" lat="30.1" lon="114.1"/><node id="2" lat="30.1000001" lon="-114.2"/>
<node id="4" lat="-30.4" lon="114.4"/><node id="5" lat="30.5" lon="114.5"/>
<node id="6" lat="30.6" lon="114.6"/><node id="7" lat="30.7" lon="114.7"/>
<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/>
 <tag k="highway" v="residential"/><tag k="name" v="a b,c=d%路 Ää\tx"/></way>
<way id="11"><tag k="highway" v="residential"/></way>
<way id="12"><nd ref="5"/><nd ref="6"/><tag k="highway" v="footway"/>
 <tag k="xfoot" v="no"/><tag k="name:en" v="no"/></way>
<way id="13"><nd ref="6"/><nd ref="7"/><tag k="highway" v="footway"/><tag k="foot" v="%no"/></way>
<way id="14"><nd ref="6"/><nd ref="7"/><tag k="highway" v="path"/>
 <tag k="sidewalk:both" v="separate"/></way>
<way id="15"><nd ref="5"/><nd ref="7"/><tag k="highway" v="motorway_link"/></way>
<way id="16"><nd ref="7"/><nd ref="9"/><tag k="highway" v="steps"/></way>
<way id="17"><nd ref="7"/><nd ref="1"/><nd ref="7"/><tag k="highway" v="ser%vice"/>
 <tag k="service" v="alley"/></way>
</osm>
"""


@pytest.mark.parametrize("name", ["helsinki", "helsinki-small-chunks", "tricky"])
def test_same_network_as_the_per_vertex_reader(name, tmp_path, monkeypatch):
    if name == "helsinki-small-chunks":  # OPL parsed a few lines at a time (NumPy path)
        monkeypatch.setattr("geo.network._opl.PARSER", None)
        monkeypatch.setattr("geo.network._opl.OPL_CHUNK_BYTES", 5000)
    if name.startswith("helsinki"):
        path = str(demo_pbf())
    else:
        path = str(tmp_path / "tricky.osm")
        Path(path).write_text(_TRICKY, encoding="utf-8")
    new = read_osm(path)
    _assert_same(_reference(path), new)
    if name == "tricky":  # escapes undone, filter applied by key and value
        assert set(new.edge_osmid) == {10, 12, 17}
        assert "a b,c=d%路 Ää x" in set(new.edge_name)  # XML turns the tab into a space
        assert "ser%vice" in set(new.edge_highway)


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["optics_valley", "shanghai"])
def test_same_network_on_real_extracts(name):
    path = need_shared(REAL_NETWORKS[name])
    _assert_same(_reference(str(path)), read_osm(path))


_KEYS = [
    "highway",
    "foot",
    "access",
    "area",
    "service",
    "sidewalk",
    "sidewalk:left",
    "name",
    "xfoot",
    "foot:x",
]
_VALUES = st.lists(
    st.sampled_from([*"noyesprivatmcl_separd %,=@路é\tT", "no", "motor", "separate", "%20%"]),
    max_size=6,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(_KEYS[1:]), _VALUES, max_size=4),
        min_size=1,
        max_size=8,
    ),
    st.lists(_VALUES, min_size=8, max_size=8),
)
def test_opl_walk_filter_equals_is_walkable(tmp_path_factory, tag_sets, highways):
    """Any tags: the filter on libosmium's escaped OPL text keeps exactly what is_walkable keeps."""
    path = tmp_path_factory.mktemp("opl") / "ways.opl"
    f = osmium.io.File(str(path), "opl,locations_on_ways=true,add_metadata=false")
    tags_list = [{"highway": hw, **t} for t, hw in zip(tag_sets, highways, strict=False)]
    with osmium.SimpleWriter(f, overwrite=True) as w:
        for i, tags in enumerate(tags_list):
            w.add_way(osmium.osm.mutable.Way(id=i + 1, nodes=[1, 2], tags=tags))
    ways = _ways_from_opl(path.read_bytes())
    want = [i + 1 for i, t in enumerate(tags_list) if is_walkable(t)]
    assert ways.osmid.tolist() == want
    kept = [t for t in tags_list if is_walkable(t)]
    assert ways.highway.tolist() == [t["highway"] for t in kept]
    assert ways.name.tolist() == [t.get("name", "") for t in kept]


def _grid_pbf(path: Path, lon0: float, lon1: float, nx: int, ny: int, extra=None) -> None:
    """A jittered street grid as an OSM PBF, ways of 1-5 blocks, some links missing; plus
    an ``extra`` north-south street at ``(lon, lat0, lat1)``."""
    rng = np.random.default_rng(3)
    lon = np.linspace(lon0, lon1, nx)
    lat = np.linspace(30.0, 30.0 + (lon1 - lon0) * ny / nx, ny)
    nid = np.arange(nx * ny).reshape(ny, nx) + 1
    with osmium.SimpleWriter(str(path)) as w:
        for y in range(ny):
            for x in range(nx):
                jitter = rng.normal(0, 0.1 * (lon[1] - lon[0]), 2)
                loc = (float(lon[x] + jitter[0]), float(lat[y] + jitter[1]))
                w.add_node(osmium.osm.mutable.Node(id=int(nid[y, x]), location=loc))
        wid = 1
        for line in [*nid, *nid.T]:
            pos = 0
            while pos < line.size - 1:
                seg = line[pos : pos + int(rng.integers(2, 7))]
                pos += seg.size - 1
                if rng.random() < 0.15:
                    continue
                w.add_way(
                    osmium.osm.mutable.Way(
                        id=wid, nodes=seg.tolist(), tags={"highway": "residential"}
                    )
                )
                wid += 1
        if extra is not None:
            lon_e, lat_a, lat_b = extra
            for k, la in enumerate((lat_a, lat_b)):
                w.add_node(osmium.osm.mutable.Node(id=10**9 + k, location=(lon_e, la)))
            w.add_way(
                osmium.osm.mutable.Way(id=wid, nodes=[10**9, 10**9 + 1], tags={"highway": "path"})
            )


def test_boundary_read_equals_whole_read_then_clip(tmp_path):
    """network --boundary reads only the streets near the boundary (issue 13), with the same
    result as building the whole file and clipping it, even when the county lies in another
    UTM zone than the whole file (the buffer is measured in the whole file's projection)."""
    import pyproj
    import shapely

    from geo.config import Config
    from geo.network import _finish, build_network

    cfg = Config(use_cache=False)
    buf = cfg.clip_buffer_m
    east = (114.22, 30.05, 114.32, 30.15)
    # a street just east of the eastern county, inside the buffer as measured in one of zone
    # 49 (the whole file's projection, as today) and zone 50 (the county's own), not the other
    z49, z50 = (pyproj.Transformer.from_crs(4326, c, always_xy=True) for c in (32649, 32650))

    def gap(tr, lon):  # projected distance from the county to the street, as clip sees it
        corners = shapely.get_coordinates(shapely.box(*east))
        county = shapely.Polygon(np.column_stack(tr.transform(*corners.T)))
        street = shapely.LineString(np.column_stack(tr.transform([lon, lon], [29.99, 30.21])))
        return shapely.distance(county, street)

    lon_e = east[2] + buf / 96_000
    for _ in range(30):  # Newton steps: the buffer's edge halfway between the two zones' gaps
        lon_e -= ((gap(z49, lon_e) + gap(z50, lon_e)) / 2 - buf) / 96_000
    inside_49 = gap(z49, lon_e) < buf
    assert abs(gap(z49, lon_e) - gap(z50, lon_e)) > 0.05  # the case this test needs
    assert inside_49 != (gap(z50, lon_e) < buf)
    pbf = tmp_path / "grid.osm.pbf"
    _grid_pbf(pbf, 113.0, 114.4, 70, 12, extra=(lon_e, 29.99, 30.21))
    whole = read_osm(pbf)
    assert whole.metric_crs.to_epsg() == 32649
    for box in [east, (113.40, 30.02, 113.55, 30.2)]:
        area = shapely.box(*box)
        want = _finish(whole, area, cfg, False, False)
        got = build_network(pbf, config=cfg, boundary=area)
        _assert_same(want, got)
        assert 0 < got.n_edges < whole.n_edges / 4
        assert got.meta["source_metric_crs"] == "EPSG:32649"
    # the eastern county alone is measured in zone 50, so the override mattered there
    assert got.metric_crs.to_epsg() == 32650 or box != east
    east_net = build_network(pbf, config=cfg, boundary=shapely.box(*east))
    assert east_net.metric_crs.to_epsg() == 32650
    assert (10**9 in set(east_net.node_id)) == inside_49  # as measured today, in zone 49
