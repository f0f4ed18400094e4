"""Scenario mode in headless Chromium gives the Python engine's answers on a real network."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REAL_NETWORKS, need_shared
from scenario_util import apply, compare_with_python, near_streets, page_sites, scripted_edits
from test_maps_browser import _driver

from geo.config import Config
from geo.coverage import compute_coverage
from geo.io import load_sites
from geo.maps import make_map, save_map
from geo.network import build_network

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module", params=["optics_valley", "roads_central"])
def real_map(request, tmp_path_factory):
    src = need_shared(REAL_NETWORKS[request.param])
    out = tmp_path_factory.mktemp("scn")
    cfg = Config(cache_dir=out / "cache")
    net = build_network(src, config=cfg)
    rng = np.random.default_rng(14)
    comms = near_streets(net, 400, rng)
    comms["community_id"] = [f"C{i}" for i in range(len(comms))]
    comms["name"] = [XSS] + [f"社区{i}" for i in range(1, len(comms))]
    comms["population"] = rng.integers(200, 5000, len(comms)).astype(float)
    n_s = max(8, net.n_edges // 300 // 2 * 2)  # enough sites that many communities are reached
    sites = near_streets(net, n_s, rng)
    sites["site_id"] = [f"S{i}" for i in range(len(sites))]
    sites["name"] = [XSS] + [f"驿站{i}" for i in range(1, len(sites))]
    sites["kind"] = ["station", "integrated"] * (n_s // 2)
    res = compute_coverage(net, sites, comms, config=cfg)
    m = make_map(res, basemap="none", offline=True, scenario=True, title="光谷 · 方案推演")
    path = out / "map.html"
    save_map(m, path)
    return path, net, comms, cfg


def test_page_has_no_data_as_code(real_map):
    page = real_map[0].read_text(encoding="utf-8")
    assert XSS not in page
    assert "sc-scenario-data" in page and "window.servicecircle" not in page.split("<script>")[0]


def test_browser_equals_python_over_scripted_edits(real_map, artifacts, tmp_path):
    path, net, comms, cfg = real_map
    d = _driver()
    try:
        d.get(path.as_uri())
        d.implicitly_wait(2)
        assert d.execute_script("return !!window.servicecircle")
        first = compare_with_python(d, net, comms, cfg)
        assert first["compared"] > 50  # the test has teeth: many distances within the limit
        ids = [s["id"] for s in page_sites(d)]
        ops = scripted_edits(np.random.default_rng(7), net, 24, ids)
        kinds = {o[0] for o in ops}
        assert {"addSite", "moveSite", "closeSite", "reopenSite"} <= kinds
        errs = []
        for op in ops:
            apply(d, op)
            errs.append(compare_with_python(d, net, comms, cfg)["max_err_m"])
        assert len(errs) >= 20 and max(errs) <= 1.0
        print(
            f"{net.meta.get('source')}: {len(errs)} edits, {first['compared']} communities "
            f"within the limit at the start, largest difference {max(errs):.4f} m"
        )
        # undo walks back: after undoing everything the page is at the baseline again
        for _ in ops:
            d.execute_script("window.servicecircle.undo()")
        again = compare_with_python(d, net, comms, cfg)
        assert again["covered"] == first["covered"]
        s = d.execute_script("return window.servicecircle.summary()")
        assert s["text"].startswith("+0 处 → 覆盖率")
        assert d.execute_script("return window.__alerts") == []
    finally:
        d.quit()


def test_summary_text_and_export_round_trip(real_map, artifacts, tmp_path):
    path, net, comms, cfg = real_map
    d = _driver()
    try:
        d.get(path.as_uri())
        d.implicitly_wait(2)
        lon, lat = float(net.lon.mean()), float(net.lat.mean())
        for k in range(3):
            d.execute_script(
                "window.servicecircle.addSite(arguments[0], arguments[1], 'integrated')",
                lon + 0.004 * k,
                lat - 0.002 * k,
            )
        s = d.execute_script("return window.servicecircle.summary()")
        base = s["baseline"]["levels"]["15min"]["population_share"]
        now = s["now"]["levels"]["15min"]["population_share"]
        assert s["text"] == (
            f"+3 处 → 覆盖率 {100 * base:.1f}% → {100 * now:.1f}% "
            f"({'+' if now >= base else ''}{100 * (now - base):.1f})"
        )
        text = d.execute_script("return window.servicecircle.exportCsv()")
        f = tmp_path / "scenario.csv"
        f.write_text(text, encoding="utf-8")
        back = load_sites(f)
        assert len(back.rejects) == 0
        open_ = [x for x in page_sites(d) if x["open"]]
        assert back.data["kind"].tolist() == [x["kind"] for x in open_]
        assert back.data["name"].tolist() == [x["name"] for x in open_]  # the hostile name too
        assert np.allclose(back.data["lon"], [x["lon"] for x in open_], atol=1e-6)
        # the panel lists the edits, the hostile name stayed text
        items = d.execute_script(
            "return Array.from(document.querySelectorAll('.sc-scn li')).map(e => e.textContent)"
        )
        assert len(items) == 3 and all("新增" in x for x in items)
        d.save_screenshot(str(artifacts / "scenario_panel.png"))
        assert d.execute_script("return window.__alerts") == []
    finally:
        d.quit()


def test_cli_map_gcj02_export_reads_back_unchanged(tmp_path, artifacts):
    """`servicecircle map --scenario` on GCJ-02 files: the export is in GCJ-02 and the CLI
    reads it back as the same sites (unmoved rows byte for byte)."""
    import pandas as pd

    from geo import crs as _crs
    from geo.cli import main

    src = need_shared(REAL_NETWORKS["optics_valley"])
    rng = np.random.default_rng(3)
    cfg = Config(cache_dir=tmp_path / "cache")
    net = build_network(src, config=cfg)
    s = near_streets(net, 5, rng)
    c = near_streets(net, 60, rng)
    slon, slat = _crs.wgs84_to_gcj02(s.geometry.x, s.geometry.y)
    clon, clat = _crs.wgs84_to_gcj02(c.geometry.x, c.geometry.y)
    sites_csv = tmp_path / "sites.csv"
    pd.DataFrame(
        {
            "name": [f"驿站,{i}" for i in range(5)],
            "kind": ["爱心驿站"] * 5,
            "lon": np.round(slon, 6),
            "lat": np.round(slat, 6),
        }
    ).to_csv(sites_csv, index=False)
    comm_csv = tmp_path / "comms.csv"
    pd.DataFrame(
        {"name": [f"社区{i}" for i in range(60)], "population": 1000, "lon": clon, "lat": clat}
    ).to_csv(comm_csv, index=False)
    out = tmp_path / "map.html"
    argv = ["map", "--network", str(src), "--sites", str(sites_csv), "--communities"]
    argv += [str(comm_csv), "--crs", "gcj02", "--offline", "--scenario", "--out", str(out)]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    d = _driver()
    try:
        d.get(out.as_uri())
        d.implicitly_wait(2)
        ids = [x["id"] for x in page_sites(d)]
        d.execute_script(
            "const s = window.servicecircle; s.closeSite(arguments[0]);"
            "s.addSite(arguments[1], arguments[2], 'cultural_palace');",
            ids[0],
            float(net.lon.mean()),
            float(net.lat.mean()),
        )
        text = d.execute_script("return window.servicecircle.exportCsv()")
        wgs = [x for x in page_sites(d) if x["open"]]
    finally:
        d.quit()
    lines = text.strip().split("\r\n")
    orig = sites_csv.read_text(encoding="utf-8").strip().split("\n")
    assert lines[0] == "kind,name,lon,lat"
    # unmoved rows carry the input's own numbers
    for row, o in zip(lines[1:5], orig[2:6], strict=True):
        assert row.split(",")[-2:] == o.split(",")[-2:]
    f = tmp_path / "scenario.csv"
    f.write_text(text, encoding="utf-8")
    back = load_sites(f, crs="gcj02")
    assert len(back.rejects) == 0 and len(back.data) == 5
    assert back.data["kind"].tolist() == ["station"] * 4 + ["cultural_palace"]
    assert np.allclose(back.data["lon"], [x["lon"] for x in wgs], atol=2e-7)
    assert np.allclose(back.data["lat"], [x["lat"] for x in wgs], atol=2e-7)


def test_panel_by_mouse_add_drag_close_undo(real_map, artifacts):
    """The planner's own gestures: add by clicking the map, drag to move, click to close,
    undo; the panel lists the edits and the API sees the same state."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    path, net, comms, cfg = real_map
    if "optics_valley" not in str(net.meta.get("source", "")):
        pytest.skip("the gestures are scripted for the optics_valley view")
    d = _driver()
    try:
        d.get(path.as_uri())
        d.implicitly_wait(2)
        d.execute_script(
            "const m = Object.values(window).find(v => v instanceof L.Map);"
            "m.setView([30.4846, 114.5180], 15, {animate: false});"
        )
        panel = d.find_element(By.CLASS_NAME, "sc-scn")
        buttons = panel.find_elements(By.TAG_NAME, "button")
        assert [b.text for b in buttons] == ["点击地图添加", "撤销", "重置", "导出方案"]
        panel.find_element(By.TAG_NAME, "select").send_keys("会·站·家一体化")
        buttons[0].click()
        body = d.find_element(By.ID, d.execute_script(
            "return Object.values(window).find(v => v instanceof L.Map).getContainer().id"
        ))  # fmt: skip
        ActionChains(d).move_to_element_with_offset(body, -120, 60).click().perform()
        s = d.execute_script("return window.servicecircle.sites()")
        new = [x for x in s if not x["baseline"]]
        assert len(new) == 1 and new[0]["kind"] == "integrated"
        # drag the new site 80 px to the right
        icons = d.find_elements(By.CSS_SELECTOR, ".sc-site.sc-new")
        assert len(icons) == 1
        ActionChains(d).click_and_hold(icons[0]).move_by_offset(40, 0).move_by_offset(
            40, 0
        ).release().perform()
        moved = [x for x in d.execute_script("return window.servicecircle.sites()") if x["moved"]]
        assert len(moved) == 1 and moved[0]["lon"] > new[0]["lon"]
        # click a baseline site to close it
        base_icon = d.find_elements(By.CSS_SELECTOR, ".sc-site:not(.sc-new)")[0]
        d.execute_script("arguments[0].scrollIntoView()", base_icon)
        base_icon.click()
        closed = [
            x for x in d.execute_script("return window.servicecircle.sites()") if not x["open"]
        ]
        assert len(closed) == 1
        items = [e.text for e in panel.find_elements(By.TAG_NAME, "li")]
        assert [x.split(" · ")[0] for x in items] == ["新增", "移动", "关闭"]
        compare_with_python(d, net, comms, cfg)
        d.save_screenshot(str(artifacts / "scenario_panel_in_use.png"))
        buttons[1].click()  # undo the close
        assert all(x["open"] for x in d.execute_script("return window.servicecircle.sites()"))
        assert len(panel.find_elements(By.TAG_NAME, "li")) == 2
        assert d.execute_script("return window.__alerts") == []
    finally:
        d.quit()
