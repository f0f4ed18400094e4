"""The OSM map background read with libosmium's tag filters (issue 13) gives exactly the rows of
the former reader: one pyosmium SimpleHandler pass with node locations and area assembly over
every object of the file, kept here as the oracle."""

from __future__ import annotations

import geopandas as gpd
import osmium
import pytest
import shapely
from conftest import REAL_NETWORKS, need_shared

from geo.network import _background as bg
from geo.network import read_background


def _oracle(path) -> gpd.GeoDataFrame:
    """The reader before issue 13: Python sees every node, way and area of the file."""
    rows_bg, rows_name, geoms = [], [], []
    wkb = osmium.geom.WKBFactory()

    class H(osmium.SimpleHandler):
        def node(self, n):
            kind = bg._PLACES.get(n.tags.get("place", ""))
            name = n.tags.get("name", "")
            if kind and name and n.location.valid():
                rows_bg.append(kind)
                rows_name.append(name)
                geoms.append(shapely.Point(n.location.lon, n.location.lat))

        def way(self, w):
            t = w.tags
            ww, rw = t.get("waterway"), t.get("railway")
            kind = "water" if ww in bg._WATERWAYS else "rail" if rw in bg._RAIL else None
            if kind is None or t.get("tunnel") in ("yes", "culvert"):
                return
            try:
                g = shapely.from_wkb(wkb.create_linestring(w))
            except Exception:
                return
            rows_bg.append(kind)
            rows_name.append(t.get("name", ""))
            geoms.append(g)

        def area(self, a):
            kind = bg._area_class(a.tags)
            if kind is None:
                return
            try:
                g = shapely.from_wkb(wkb.create_multipolygon(a))
            except Exception:
                return
            rows_bg.append(kind)
            rows_name.append(a.tags.get("name", ""))
            geoms.append(g)

    H().apply_file(str(path), locations=True, idx="flex_mem")
    g = gpd.GeoDataFrame({"bg": rows_bg, "name": rows_name}, geometry=geoms, crs=4326)
    return g[~g.geometry.is_empty].reset_index(drop=True)


def _assert_same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert list(a["bg"]) == list(b["bg"])
    assert list(a["name"]) == list(b["name"])
    assert a.geometry.geom_equals_exact(b.geometry, 0).all()


def _square(first_id: int, x: float, y: float, d: float) -> tuple[list[str], list[int]]:
    pts = [(x, y), (x + d, y), (x + d, y + d), (x, y + d)]
    nodes = [
        f'<node id="{first_id + i}" lat="{py:.7f}" lon="{px:.7f}" version="1"/>'
        for i, (px, py) in enumerate(pts)
    ]
    ids = [first_id + i for i in range(4)]
    return nodes, [*ids, ids[0]]


def _way(wid: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{wid}" version="1">{nds}{tg}</way>'


def _osm(tmp_path):
    """Every kind of background object next to objects that must stay out: untagged rings of
    a multipolygon lake with an island, a closed-way park, a river, a railway in a tunnel, a
    closed street ring, an unnamed place, a way with a missing node, a relation without area
    tags."""
    nodes = [
        '<node id="1" lat="30.5" lon="114.3" version="1"><tag k="place" v="suburb"/>'
        '<tag k="name" v="关山"/></node>',
        '<node id="2" lat="30.51" lon="114.31" version="1"><tag k="place" v="village"/></node>',
        '<node id="3" lat="30.52" lon="114.32" version="1"><tag k="amenity" v="bench"/></node>',
    ]
    ways, rels = [], []
    lake_outer, outer = _square(100, 114.30, 30.50, 0.02)
    island, inner = _square(110, 114.305, 30.505, 0.005)
    park, park_ring = _square(120, 114.35, 30.50, 0.01)
    street, street_ring = _square(130, 114.40, 30.50, 0.01)
    line, line_ring = _square(140, 114.45, 30.50, 0.01)
    odd, odd_ring = _square(150, 114.50, 30.50, 0.01)
    nodes += lake_outer + island + park + street + line + odd
    ways.append(_way(1000, outer, {}))
    ways.append(_way(1001, inner, {}))
    ways.append(_way(1002, park_ring, {"leisure": "park", "name": "南湖公园"}))
    ways.append(_way(1003, street_ring, {"highway": "residential"}))
    ways.append(_way(1004, line_ring[:3], {"waterway": "river", "name": "巡司河"}))
    ways.append(_way(1005, line_ring[2:], {"railway": "subway", "tunnel": "yes"}))
    ways.append(_way(1006, [140, 141, 99999], {"railway": "rail"}))  # node 99999 missing
    ways.append(_way(1007, odd_ring[:2], {"railway": "tram"}))
    ways.append(_way(1008, odd_ring, {"building": "yes"}))
    rels.append(
        '<relation id="5000" version="1"><member type="way" ref="1000" role="outer"/>'
        '<member type="way" ref="1001" role="inner"/><tag k="type" v="multipolygon"/>'
        '<tag k="natural" v="water"/><tag k="name" v="南湖"/></relation>'
    )
    rels.append(
        '<relation id="5001" version="1"><member type="way" ref="1008" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>'
    )
    body = "\n".join(nodes + ways + rels)
    p = tmp_path / "bg.osm"
    p.write_text(
        f"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n{body}\n</osm>\n",
        encoding="utf-8",
    )
    return p


def test_filtered_read_gives_the_oracle_rows_on_every_kind_of_object(tmp_path):
    p = _osm(tmp_path)
    want = _oracle(p)
    got = bg._read_cached.__wrapped__(str(p), 0, 0)
    _assert_same(got, want)
    # the oracle really sees the cases: the lake with its island hole, park, river, tram, place
    assert sorted(want["name"]) == sorted(["关山", "南湖", "南湖公园", "巡司河", ""])
    lake = want.geometry[want["name"] == "南湖"].iloc[0]
    assert len(lake.geoms[0].interiors) == 1


def test_a_file_without_background_ways_skips_the_assembly(tmp_path, monkeypatch):
    p = _osm(tmp_path)
    text = p.read_text(encoding="utf-8")
    for k in ("natural", "leisure", "waterway", "railway"):
        text = text.replace(f'k="{k}"', 'k="note"')
    p.write_text(text, encoding="utf-8")

    def boom(*a, **k):
        raise AssertionError("no candidate way: node locations and areas must not be built")

    monkeypatch.setattr(bg, "_assemble", boom)
    got = bg._read_cached.__wrapped__(str(p), 0, 0)
    _assert_same(got, _oracle(p))
    assert list(got["name"]) == ["关山"]


@pytest.mark.parametrize("name", ["optics_valley", "shanghai"])
def test_filtered_read_matches_the_oracle_on_real_osm(name):
    p = need_shared(REAL_NETWORKS[name])
    _assert_same(bg._read_cached.__wrapped__(str(p), 0, 0), _oracle(p))


def test_read_background_box_still_selects_by_intersection(tmp_path):
    p = _osm(tmp_path)
    near = read_background(p, (114.299, 30.499, 114.321, 30.521))
    assert set(near["name"]) == {"关山", "南湖"}
