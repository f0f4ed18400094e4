"""The offline map in a real headless Chromium with the network cut off."""

from __future__ import annotations

import os
import shutil

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network

from geo.config import Config
from geo.coverage import compute_coverage
from geo.maps import make_map, save_map

XSS = "<img src=x onerror=alert(1)>"

#: Opens the popup and tooltip of every feature on the first Leaflet map of the page (by firing
#: the click/mouseover a user would) and returns their texts, plus the title and legend panels.
COLLECT_JS = """
const m = (window.scMap && window.scMap.map) ||
          Object.values(window).filter(v => v instanceof L.Map)[0];
const out = [];
const layers = [];
m.eachLayer(l => layers.push(l));
for (const l of layers) {
    if (l instanceof L.LayerGroup || !l._map) continue;
    let ll = null;
    try { ll = l.getLatLng ? l.getLatLng() : (l.getCenter ? l.getCenter() : null); }
    catch (e) { ll = null; }
    if (!ll) continue;
    if (l.getPopup && l.getPopup()) l.openPopup(ll);  // its own popup
    else l.fire('click', {latlng: ll}, true);       // its layer's popup function
    const cs = document.querySelectorAll('.leaflet-popup-content');  // the newest is last
    if (cs.length) out.push(cs[cs.length - 1].innerText);
    if (l.closePopup) l.closePopup();
    m.closePopup();
    if (l.getTooltip && l.getTooltip()) {
        l.openTooltip(ll);
        const el = l.getTooltip().getElement();
        if (el) out.push(el.innerText);
        l.closeTooltip();
    } else {
        l.fire('mouseover', {latlng: ll}, true);
        const ts = document.querySelectorAll('.leaflet-tooltip');
        if (ts.length) out.push(ts[ts.length - 1].innerText);
        l.fire('mouseout', {latlng: ll}, true);
    }
}
for (const id of ['sc-title', 'sc-legend']) {
    const e = document.getElementById(id);
    if (e) out.push(e.innerText);
}
return out;
"""
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _driver():
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium/ChromeDriver missing in CI: scripts/system-deps.sh should "
                "have installed the Debian packages chromium and chromium-driver"
            )
        pytest.skip("Chromium not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
        "--disable-dev-shm-usage",
    ):
        opts.add_argument(a)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=opts, service=Service(DRIVER))
    # cut the network off entirely, and record any alert() an injected script would raise
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    d.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"},
    )
    return d


@pytest.fixture(scope="module")
def offline_map(tmp_path_factory):
    out = tmp_path_factory.mktemp("map")
    net = grid_network(12, 90.0, seed=2)
    rng = np.random.default_rng(2)
    n_s, n_c = 6, 40
    lon = rng.uniform(net.lon.min(), net.lon.max(), n_s + n_c)
    lat = rng.uniform(net.lat.min(), net.lat.max(), n_s + n_c)
    kinds = ["station", "integrated", "cultural_palace", "station", "partner", "integrated"]
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(n_s)],
            "name": [XSS] + [f"站点{i}" for i in range(1, n_s)],
            "kind": kinds,
            "address": [XSS] * n_s,
        },
        geometry=shapely.points(lon[:n_s], lat[:n_s]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {
            "community_id": [f"C{i}" for i in range(n_c)],
            "name": [XSS] + [f"社区{i}" for i in range(1, n_c)],
            "population": rng.integers(100, 3000, n_c),
        },
        geometry=shapely.points(lon[n_s:], lat[n_s:]),
        crs=4326,
    )
    res = compute_coverage(net, sites, comms, config=Config(minutes=5))
    iso = res.isochrones()
    m = make_map(res, lang="zh", basemap="none", offline=True, isochrones=iso)
    path = out / "map.html"
    info = save_map(m, path, offline=True)
    return path, info, res, iso


def test_offline_html_has_no_external_resources(offline_map):
    path, info, *_ = offline_map
    page = path.read_text(encoding="utf-8")
    assert info["size_bytes"] == path.stat().st_size
    assert "cdn.jsdelivr" not in page and "code.jquery.com" not in page
    assert "<script src=" not in page
    assert XSS not in page  # only escaped forms appear


@pytest.mark.browser
def test_map_in_headless_chromium(offline_map, artifacts):
    path, _, res, iso = offline_map
    d = _driver()
    try:
        d.get(path.as_uri())
        d.implicitly_wait(2)
        state = d.execute_script("""
            const maps = Object.values(window).filter(v => v instanceof L.Map);
            const m = maps[0];
            let circles = 0, polygons = 0, divs = 0;
            m.eachLayer(l => {
                if (l instanceof L.CircleMarker) circles++;
                else if (l instanceof L.Polygon) polygons++;
            });
            return {leaflet: L.version, maps: maps.length, circles, polygons,
                    legend: !!document.getElementById('sc-legend'),
                    title: document.getElementById('sc-title').innerText,
                    control: document.querySelectorAll('.leaflet-control-layers').length,
                    alerts: window.__alerts};
        """)
        assert state["leaflet"] == "1.9.3" and state["maps"] == 1
        assert state["circles"] == len(res.sites) + len(res.communities)
        main = iso[iso["level"] == res.config.main_level]
        n_poly = sum(shapely.get_num_geometries(g) for g in main.geometry)
        assert state["polygons"] == n_poly
        assert state["legend"] and state["control"] == 1
        assert "5分钟职工服务圈" in state["title"] and "15分钟" not in state["title"]
        # the hostile name shows as text in its popup and ran nothing
        text = "\n".join(d.execute_script(COLLECT_JS))
        assert XSS in text
        assert d.execute_script("return window.__alerts") == []
        assert d.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        d.save_screenshot(str(artifacts / "map_offline.png"))
    finally:
        d.quit()
