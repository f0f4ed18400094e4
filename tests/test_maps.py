"""Map content without a browser: the Amap GCJ-02 shift, languages, thinning, the PNG."""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network

from geo import crs
from geo.config import Config
from geo.coverage import compute_coverage
from geo.maps import MAX_SITE_ISOCHRONES, make_map, save_map, save_png


@pytest.fixture(scope="module")
def res():
    net = grid_network(10, 100.0, seed=4)
    rng = np.random.default_rng(4)
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B"], "name": ["甲站", "乙站"], "kind": ["station", "integrated"]},
        geometry=shapely.points(net.lon[[11, 77]], net.lat[[11, 77]]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {"name": [f"c{i}" for i in range(30)], "population": rng.integers(10, 100, 30)},
        geometry=shapely.points(rng.choice(net.lon, 30), rng.choice(net.lat, 30)),
        crs=4326,
    )
    return compute_coverage(net, sites, comms, config=Config(minutes=5))


def _layers(m: folium.Map) -> list[dict]:
    """The map's layers as the page receives them (parsed from the JSON payload)."""
    return [json.loads(t) for t in m._sc_payload["layers"]]


def _circle_locations(m: folium.Map) -> list[list[float]]:
    """[lat, lon] of every point feature (sites, communities) on the map."""
    found = []
    for layer in _layers(m):
        if layer["kind"] in ("points", "proposals"):
            for f in layer["data"]["features"]:
                lon, lat = f["geometry"]["coordinates"]
                found.append([lat, lon])
    return found


def test_amap_basemap_shifts_overlays_to_gcj02(res):
    wgs = res.sites.geometry
    m = make_map(res, basemap="amap", offline=False)
    locs = _circle_locations(m)
    glon, glat = crs.wgs84_to_gcj02(wgs.x.to_numpy(), wgs.y.to_numpy())
    for lon, lat in zip(glon, glat, strict=True):
        assert any(abs(a - lat) < 1e-6 and abs(b - lon) < 1e-6 for a, b in locs)
    # and the shift is real: ~hundreds of metres from the WGS84 position
    from geo.network import haversine_m

    assert 100 < haversine_m(wgs.x.iloc[0], wgs.y.iloc[0], glon[0], glat[0]) < 1000
    html = m.get_root().render()
    assert "autonavi.com" in html
    plain = _circle_locations(make_map(res, basemap="osm", offline=False))
    assert any(abs(a - wgs.y.iloc[0]) < 1e-6 and abs(b - wgs.x.iloc[0]) < 1e-6 for a, b in plain)


def test_tianditu_needs_a_key(res, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ValueError, match="Tianditu basemap needs a key"):
        make_map(res, basemap="tianditu")
    html = make_map(res, basemap="tianditu", tianditu_key="abc123").get_root().render()
    assert "tk=abc123" in html and "tianditu.gov.cn" in html


def test_english_labels(res, tmp_path):
    m = make_map(res, lang="en", basemap="none")
    page = m.get_root().render()
    assert "Outdoor-worker station" in page and "Population covered" in page
    assert "爱心驿站" not in page


def test_many_sites_are_thinned_to_kind_unions(tmp_path):
    net = grid_network(40, 80.0, seed=9)
    rng = np.random.default_rng(9)
    n = MAX_SITE_ISOCHRONES + 50
    pick = rng.integers(0, net.n_nodes, n)
    sites = gpd.GeoDataFrame(
        {"kind": rng.choice(["station", "integrated"], n)},
        geometry=shapely.points(net.lon[pick], net.lat[pick]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(geometry=shapely.points(net.lon[::7], net.lat[::7]), crs=4326)
    r = compute_coverage(net, sites, comms)
    info = save_map(make_map(r, basemap="none"), tmp_path / "big.html")
    assert info["size_bytes"] < 10e6
    page = (tmp_path / "big.html").read_text(encoding="utf-8")
    assert page.count('"kind": "station"') <= 3 * 2  # one union per kind and level


def test_png_has_content(res, tmp_path):
    info = save_png(res, tmp_path / "m.png", lang="zh", tiles=False)
    assert info["size_bytes"] > 20_000 and info["tiles"] is False
    from PIL import Image

    img = np.asarray(Image.open(tmp_path / "m.png").convert("RGB"))
    assert img.shape[0] > 500 and (img < 250).any()  # not a blank page


def _payload_meta(m):
    return m._sc_payload["meta"]


def test_many_communities_are_aggregated_into_hexagons(tmp_path):
    """Issue 11.14: above the documented limit communities become hexagons, and it says so."""
    net = grid_network(30, 80.0, seed=5)
    rng = np.random.default_rng(5)
    n = 3000
    comms = gpd.GeoDataFrame(
        {"population": rng.integers(10, 500, n)},
        geometry=shapely.points(
            rng.uniform(net.lon.min(), net.lon.max(), n),
            rng.uniform(net.lat.min(), net.lat.max(), n),
        ),
        crs=4326,
    )
    sites = gpd.GeoDataFrame(
        {"kind": ["station"] * 3}, geometry=shapely.points(net.lon[:3], net.lat[:3]), crs=4326
    )
    r = compute_coverage(net, sites, comms)
    m = make_map(r, max_community_points=500, scenario=False)
    layer = next(x for x in _layers(m) if x["id"] == "communities")
    assert layer["kind"] == "polygons"
    cells = layer["data"]["features"]
    assert 1 < len(cells) < n
    counts = [int(f["properties"]["c"].replace(",", "")) for f in cells]
    assert sum(counts) == n  # every community in exactly one cell
    pops = sum(float(f["properties"]["p"].replace(",", "")) for f in cells)
    assert pops == pytest.approx(comms["population"].sum(), rel=1e-6)
    notes = [x for x in _payload_meta(m)["summary"] if x.get("key") == "aggregated"]
    assert notes and "500" in notes[0]["text"]
    # below the limit: one marker per community
    m2 = make_map(r, max_community_points=n, scenario=False)
    layer2 = next(x for x in _layers(m2) if x["id"] == "communities")
    assert layer2["kind"] == "points" and len(layer2["data"]["features"]) == n


def test_title_follows_the_run_level(res):
    m = make_map(res, scenario=False)
    assert _payload_meta(m)["title"].startswith("5分钟")
    assert (
        make_map(res, lang="en", scenario=False)._sc_payload["meta"]["title"].startswith("5-minute")
    )


def test_outlier_does_not_blank_the_extent(res):
    from geo.maps import robust_bounds

    b = robust_bounds(res)
    net = res.network
    assert b[0] > net.lon.min() - 0.01 and b[2] < net.lon.max() + 0.01
    far = res.communities.copy()
    far.loc[far.index[0], "geometry"] = shapely.Point(116.40, 39.90)  # Beijing typo
    res2 = type(res)(**{**res.__dict__, "communities": far})
    b2 = robust_bounds(res2)
    assert b2[2] < 116.0  # Beijing is not in the frame
    assert np.allclose(b2, b, atol=0.01)


def test_png_scale_bar_lengths():
    from geo.maps._png import scale_length_m, scale_text

    assert scale_length_m(1000) == 200
    assert scale_length_m(48_000) == 5000
    assert scale_text(5000, "zh") == "5 公里" and scale_text(200, "en") == "200 m"


def test_proposals_popup_fields_and_palace(res):
    props = gpd.GeoDataFrame(
        {
            "rank": [1, 2, 0],
            "proposal_id": ["P01", "P02", ""],
            "name": ["新站1", "新站2", "工人文化宫（建议）"],
            "location_desc": ["光谷大道与高新二路交叉口东北 120 米", "x", "y"],
            "newly_covered_population": [1200.0, 300.0, np.nan],
            "amap_url": ["javascript:alert(1)", None, None],
        },
        geometry=shapely.points(res.network.lon[[5, 6, 7]], res.network.lat[[5, 6, 7]]),
        crs=4326,
    )
    m = make_map(res, proposals=props, scenario=False)
    layer = next(x for x in _layers(m) if x["id"] == "proposals")
    p = [f["properties"] for f in layer["data"]["features"]]
    assert [x["_palace"] for x in p] == [False, False, True]
    assert p[0]["loc"].startswith("光谷大道") and "WGS84" in p[0]["xy"]
    assert all(x["url"].startswith("https://uri.amap.com/marker?position=") for x in p)
    line = next(x for x in _payload_meta(m)["summary"] if x.get("key") == "before_after")
    assert line["text"].startswith("新增2处 → 覆盖率由")
