"""Issue 12 done-when: an offline audit map of a Wuhan district from real OSM data (Optics
Valley, 光谷; the part inside 江夏区 Jiangxia District), opened in headless Chromium with the
network cut off: water and street names on the background, a metric scale bar, summary numbers
equal to summary.csv, proposal popups with name, place and coordinates, neighbouring-county
sites in grey. Screenshots (Chinese and English) go to tests/artifacts/.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import DISTRICTS, REAL_NETWORKS, need_shared
from test_maps_browser import COLLECT_JS, _driver

from geo.cli import main

COUNTY = "Jiangxia District"


@pytest.fixture(scope="module")
def wuhan_inputs(tmp_path_factory):
    osm = need_shared(REAL_NETWORKS["optics_valley"])
    need_shared(DISTRICTS)
    d = tmp_path_factory.mktemp("wuhan_maps")
    districts = gpd.read_file(DISTRICTS)
    jx = districts[districts["name"] == COUNTY].geometry.iloc[0]
    extract = shapely.box(114.5005, 30.4775, 114.5375, 30.4920)
    area = jx.intersection(extract)
    rng = np.random.default_rng(3)

    def inside(n, poly):
        out = []
        x0, y0, x1, y1 = poly.bounds
        while len(out) < n:
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if poly.contains(p):
                out.append(p)
        return out

    comms = inside(60, area)
    pd.DataFrame(
        {
            "community_id": [f"C{i:02d}" for i in range(60)],
            "name": [f"光谷社区{i}" for i in range(60)],
            "population": rng.integers(800, 6000, 60),
            "lon": [p.x for p in comms],
            "lat": [p.y for p in comms],
        }
    ).to_csv(d / "communities.csv", index=False)
    own = inside(5, area)
    nb = inside(3, extract.difference(jx))  # across the border, in 洪山区
    pts = own + nb
    pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(len(pts))],
            "name": [f"驿站{i}" for i in range(len(pts))],
            "kind": ["爱心驿站", "会·站·家一体化", "爱心驿站", "会·站·家一体化", "爱心驿站"]
            + ["会·站·家一体化"] * 3,
            "lon": [p.x for p in pts],
            "lat": [p.y for p in pts],
        }
    ).to_csv(d / "sites.csv", index=False)
    return d, osm


def _audit(d, osm, lang):
    out = d / f"audit_{lang}"
    rc = main(
        ["audit", "--network", str(osm), "--sites", str(d / "sites.csv"),
         "--communities", str(d / "communities.csv"), "--boundaries", str(DISTRICTS),
         "--county", COUNTY, "--out", str(out), "--lang", lang,
         "--cache-dir", str(d / "cache"), "-q"]
    )  # fmt: skip
    assert rc in (0, 1)
    return out


@pytest.fixture(scope="module")
def audits(wuhan_inputs):
    d, osm = wuhan_inputs
    return {lang: _audit(d, osm, lang) for lang in ("zh", "en")}


@pytest.mark.browser
@pytest.mark.realdata
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_offline_audit_map_tells_its_story(audits, lang, artifacts):
    out = audits[lang]
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert len(summary) == 1
    row = summary.iloc[0]
    maps = sorted(out.glob("counties/*/map.html"))
    assert len(maps) == 1
    folder = maps[0].parent
    assert (folder / "map.png").stat().st_size > 50_000
    props = pd.read_csv(folder / "proposed_sites.csv", encoding="utf-8-sig")
    d = _driver()
    try:
        d.get(maps[0].as_uri())
        d.implicitly_wait(2)
        # screenshots of the map as opened (before the test clicks anything)
        d.execute_script("window.scMap.fit()")
        d.save_screenshot(str(artifacts / f"wuhan_audit_{lang}.png"))
        d.execute_script(
            "const b = window.scMap.data.bounds;"
            "window.scMap.map.setView([(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2], 16)"
        )
        d.save_screenshot(str(artifacts / f"wuhan_audit_{lang}_z16.png"))
        d.execute_script("window.scMap.fit()")
        state = d.execute_script("""
            const api = window.scMap, m = api.map, L_ = api.layers;
            const count = g => g ? g.getLayers().length : 0;
            const lines = {};
            document.querySelectorAll('#sc-title [data-key]').forEach(
                e => lines[e.getAttribute('data-key')] = e.getAttribute('data-value'));
            return {water: count(L_.bg_water), waterOn: !!L_.bg_water && m.hasLayer(L_.bg_water),
                    scale: document.querySelector('.leaflet-control-scale-line').innerText,
                    title: document.title, lines: lines,
                    legend: document.getElementById('sc-legend').innerText,
                    neighbours: count(L_.sites_neighbour), alerts: window.__alerts};
        """)
        assert state["water"] >= 1 and state["waterOn"]
        assert re.fullmatch(r"\d+ (m|km)", state["scale"].strip()), state["scale"]
        # the scale bar is not under the legend
        overlap = d.execute_script("""
            const a = document.querySelector('.leaflet-control-scale').getBoundingClientRect();
            const b = document.getElementById('sc-legend').getBoundingClientRect();
            return !(a.right < b.left || a.left > b.right || a.bottom < b.top || a.top > b.bottom);
        """)
        assert not overlap
        # one set of numbers: the summary box shows summary.csv's figures
        assert float(state["lines"]["population_covered_share"]) == pytest.approx(
            row["population_covered_15min_share"], abs=1e-4
        )
        assert int(state["lines"]["communities_covered"]) == row["communities_covered_15min"]
        assert int(state["lines"]["sites"]) == row["sites"]
        assert state["neighbours"] == 3  # the sites across the border, drawn grey
        assert ("15分钟" if lang == "zh" else "15-minute") in state["title"]
        assert ("邻县站点" if lang == "zh" else "Neighbouring-county") in state["legend"]
        # street names appear when zoomed in (at the middle of the communities)
        d.execute_script(
            "const b = window.scMap.data.bounds;"
            "window.scMap.map.setView([(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2], 16)"
        )
        n_streets = d.execute_script("return document.querySelectorAll('.sc-lab-street').length")
        assert n_streets >= 3
        d.execute_script("window.scMap.fit()")
        # proposals explained: name, place and coordinates in every popup
        if len(props):
            texts = d.execute_script(COLLECT_JS)
            for _, p in props.iterrows():
                popups = [x for x in texts if str(p["name"]) in x and "\t" in x]  # a table
                t = popups[0] if popups else None
                assert t is not None, p["name"]
                assert str(p["location_desc"]) in t
                assert f"{p['lon']:.6f}" in t and f"{p['lat']:.6f}" in t
                assert "GCJ-02" in t or "WGS84" in t
        assert d.execute_script("return window.__alerts") == []
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        d.quit()
    import shutil

    shutil.copy(folder / "map.png", artifacts / f"wuhan_audit_{lang}_static.png")
