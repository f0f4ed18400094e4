"""The demand views through the CLI: contract files, columns and summary keys (issue 15)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REAL_NETWORKS, need_shared
from test_partial import _squares
from test_streets import _points

from geo import crs as C
from geo.cli import main
from geo.config import Config
from geo.network import build_network

KINDS = ["爱心驿站", "会·站·家一体化", "工人文化宫", "爱心驿站", "爱心驿站", "会站家", "爱心驿站",
         "爱心驿站", "融合共建", "爱心驿站"]  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    osm = need_shared(REAL_NETWORKS["optics_valley"])
    d = tmp_path_factory.mktemp("demand")
    net = build_network(osm, config=Config(use_cache=False))
    rng = np.random.default_rng(2)
    lon, lat = _points(net, rng, 10)
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    pd.DataFrame(
        {"编号": [f"S{i}" for i in range(10)], "名称": [f"站点{i}" for i in range(10)], "类型": KINDS,
         "经度": np.round(glon, 6), "纬度": np.round(glat, 6), "容量": rng.integers(4, 60, 10)}
    ).to_csv(d / "sites.csv", index=False, encoding="utf-8-sig")  # fmt: skip
    sq = _squares(net, rng, 20)
    sq["name"] = [f"社区{i}" for i in range(20)]
    sq.to_file(d / "communities.geojson", driver="GeoJSON")  # WGS84 polygons
    lon, lat = _points(net, rng, 30)
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    wp = pd.DataFrame(
        {"单位名称": [f"企业{i}" for i in range(30)], "职工人数": rng.integers(20, 2000, 30).astype(str),
         "经度": np.round(glon, 6), "纬度": np.round(glat, 6)}
    )  # fmt: skip
    wp.loc[3, "职工人数"] = "很多"
    wp.to_csv(d / "workplaces.csv", index=False, encoding="gbk")
    return {"osm": osm, "dir": d}


def _run(inputs, cmd, out, *extra):
    sites = inputs["dir"] / "sites_wgs.csv"
    if not sites.exists():  # the sites file is GCJ-02; communities are WGS84 polygons
        s = pd.read_csv(inputs["dir"] / "sites.csv", encoding="utf-8-sig")
        lon, lat = C.to_wgs84(s["经度"].to_numpy(), s["纬度"].to_numpy(), "gcj02")
        s["经度"], s["纬度"] = np.round(lon, 7), np.round(lat, 7)
        s.to_csv(sites, index=False, encoding="utf-8-sig")
    argv = [cmd, "--network", str(inputs["osm"]), "--sites", str(sites), "--communities",
            str(inputs["dir"] / "communities.geojson"), "--no-map", "--no-cache", "--out", str(out),
            *extra]  # fmt: skip
    assert main(argv) == 0


@pytest.mark.realdata
def test_coverage_writes_every_demand_view(inputs, tmp_path, capsys):
    out = tmp_path / "cov"
    wp_gcj = str(inputs["dir"] / "workplaces.csv")
    # workplaces are GCJ-02 in a GBK CSV: --crs applies to every input file, so convert
    # the sites file first (done in _run) and give the workplaces with their own CRS
    w = pd.read_csv(wp_gcj, encoding="gbk", dtype=str)
    lon, lat = C.to_wgs84(
        w["经度"].astype(float).to_numpy(), w["纬度"].astype(float).to_numpy(), "gcj02"
    )
    w["经度"], w["纬度"] = np.round(lon, 7), np.round(lat, 7)
    w.to_csv(tmp_path / "wp.csv", index=False, encoding="gbk")
    _run(
        inputs,
        "coverage",
        out,
        "--workplaces",
        str(tmp_path / "wp.csv"),
        "--community-coverage",
        "area",
    )
    printed = capsys.readouterr().out
    assert "道路覆盖" in printed and "职工覆盖" in printed and "E2SFCA" in printed
    st = pd.read_csv(out / "streets.csv")
    assert list(st.columns[:5]) == [
        "edge_id",
        "name",
        "highway",
        "length_m",
        "walk_time_min_to_station",
    ]
    for lv in ("5min", "10min", "15min"):
        assert f"covered_{lv}" in st
    s = json.loads((out / "summary.json").read_text())
    for lv in ("5min", "10min", "15min"):
        km = (st["length_m"] * st[f"covered_{lv}"]).sum() / 1000
        assert s[f"street_km_covered_{lv}"] == pytest.approx(km, rel=2e-3)
        assert s[f"street_km_covered_share_{lv}"] == pytest.approx(km / s["street_km"], abs=2e-3)
    cm = pd.read_csv(out / "communities.csv")
    assert {"e2sfca", "covered_share", "underserved"} <= set(cm.columns)
    assert np.array_equal(cm["covered"].to_numpy(), cm["covered_share"].to_numpy() >= 0.5)
    assert s["covered_share_rule"] == 0.5
    wp = pd.read_csv(out / "workplaces.csv")
    assert len(wp) == 29 and wp["name"].str.startswith("企业").all()
    rej = pd.read_csv(out / "rejects.csv")
    assert (rej["value"] == "很多").sum() == 1 and "职工人数" in rej["reason"].iloc[-1]
    assert s["workplaces"]["employees"] == pytest.approx(wp["employees"].sum())
    sites = pd.read_csv(out / "sites.csv")
    assert {"capacity", "supply_demand_ratio", "overloaded"} <= set(sites.columns)
    assert s["e2sfca"]["decay"] == "gaussian"


@pytest.mark.realdata
def test_point_method_stays_default(inputs, tmp_path):
    out = tmp_path / "pt"
    _run(inputs, "coverage", out)
    cm = pd.read_csv(out / "communities.csv")
    assert "covered_share" not in cm and "e2sfca" in cm


@pytest.mark.realdata
def test_gaps_demand_streets_and_mix(inputs, tmp_path, capsys):
    out = tmp_path / "g1"
    _run(inputs, "gaps", out, "--demand", "streets", "--new-sites", "3",
         "--street-weights", "primary=3,secondary=2")  # fmt: skip
    s = json.loads((out / "summary.json").read_text())["proposal"]
    assert s["weights"] == {"streets": 1.0} and s["street_weights"] == {
        "primary": 3.0,
        "secondary": 2.0,
    }
    assert s["streets_share_after"] > s["streets_share_before"]
    p = pd.read_csv(out / "proposed_sites.csv")
    assert len(p) == 3 and (p["newly_covered_street_km"] > 0).all()
    # proposals a person can find, as for the residents' gaps (issue 10 contract)
    assert p["proposal_id"].tolist() == ["P01", "P02", "P03"]
    assert p["location_desc"].astype(str).str.len().gt(0).all() and "amap_url" in p
    out2 = tmp_path / "g2"
    capsys.readouterr()
    _run(
        inputs,
        "gaps",
        out2,
        "--demand",
        "residents,streets",
        "--weights",
        "1,0.5",
        "--new-sites",
        "2",
    )
    assert "weights residents=1, streets=0.5" in capsys.readouterr().out
    assert main(["gaps", "--network", str(inputs["osm"]), "--sites", str(inputs["dir"] / "sites.csv"),
                 "--communities", str(inputs["dir"] / "communities.geojson"), "--demand", "people",
                 "--new-sites", "1", "--out", str(tmp_path / "bad")]) == 2  # fmt: skip


@pytest.mark.realdata
@pytest.mark.browser
def test_demand_layers_in_headless_chromium(inputs, tmp_path, artifacts):
    """The map shows the street, workplace and capacity views, with no console error."""
    from test_maps_browser import _driver

    out = tmp_path / "map"
    wp = pd.read_csv(inputs["dir"] / "workplaces.csv", encoding="gbk", dtype=str)
    lon, lat = C.to_wgs84(
        wp["经度"].astype(float).to_numpy(), wp["纬度"].astype(float).to_numpy(), "gcj02"
    )
    wp["经度"], wp["纬度"] = np.round(lon, 7), np.round(lat, 7)
    wp.to_csv(tmp_path / "wp.csv", index=False, encoding="gbk")
    sites = inputs["dir"] / "sites_wgs.csv"
    argv = ["coverage", "--network", str(inputs["osm"]), "--sites", str(sites), "--communities",
            str(inputs["dir"] / "communities.geojson"), "--workplaces", str(tmp_path / "wp.csv"),
            "--community-coverage", "area", "--no-cache", "--out", str(out)]  # fmt: skip
    if not sites.exists():
        _run(inputs, "coverage", tmp_path / "prep")
    assert main(argv) == 0
    d = _driver()
    try:
        d.set_window_size(1500, 1000)
        d.get((out / "map.html").as_uri())
        import time

        time.sleep(1.5)
        text = d.find_element("tag name", "body").text
        for want in (
            "未覆盖道路",
            "工作地",
            "容量可达性",
            "站点容量",
            "服务不足社区",
            "社区覆盖比例",
            "道路覆盖",
        ):
            assert want in text, want
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        assert d.find_elements("tag name", "canvas")  # layers drawn (canvas renderer)
        d.save_screenshot(str(artifacts / "demand_views_map.png"))
    finally:
        d.quit()


def test_load_workplaces_gcj02_chinese_headers_and_rejects(tmp_path):
    from geo.io import load_workplaces

    lon = np.array([114.30, 114.31, 114.32, 114.33])
    lat = np.array([30.55, 30.56, 30.57, 30.58])
    glon, glat = C.wgs84_to_gcj02(lon, lat)
    df = pd.DataFrame(
        {"单位名称": ["物流园A", "农贸市场B", "企业C", "园区D"], "从业人员": ["1,200", "80", "", "300"],
         "经度": np.round(glon, 7), "纬度": np.round(glat, 7), "备注": ["x", "y", "z", "w"]}
    )  # fmt: skip
    df.to_csv(tmp_path / "w.csv", index=False, encoding="gbk")
    w = load_workplaces(tmp_path / "w.csv", crs="gcj02")
    d = w.data
    assert d["name"].tolist() == ["物流园A", "农贸市场B", "园区D"]
    assert d["employees"].tolist() == [1200.0, 80.0, 300.0]
    from geo.network import haversine_m

    err = haversine_m(d["lon"], d["lat"], lon[[0, 1, 3]], lat[[0, 1, 3]])
    assert err.max() < 1.0  # GCJ-02 converted back to WGS84 within a metre
    assert len(w.rejects) == 1 and w.rejects["row"].iloc[0] == 4
    assert "职工人数" in w.rejects["reason"].iloc[0] or "employees" in w.rejects["reason"].iloc[0]
    df.drop(columns="从业人员").to_csv(tmp_path / "n.csv", index=False, encoding="gbk")
    from geo._errors import InputError

    with pytest.raises(InputError, match="employees"):
        load_workplaces(tmp_path / "n.csv", crs="gcj02")


def test_audit_reuse_key_sees_every_row_of_demand_frames():
    """A changed main-road or buildings layer must never reuse a county's stored result."""
    import dataclasses

    import geopandas as gpd
    import shapely

    from geo.audit import _input_key
    from geo.audit._county import CountyTask

    lines = [shapely.LineString([(0, i), (1, i)]) for i in range(200)]
    g1 = gpd.GeoDataFrame({"a": range(200)}, geometry=lines, crs=4326)
    g2 = g1.copy()
    g2.loc[100, "geometry"] = shapely.LineString([(0, 100), (1, 100.5)])  # hidden in a repr
    assert str(g1) == str(g2)
    e = gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.Point(0, 0)], crs=4326)
    t = CountyTask(county="x", code="1", boundary=shapely.box(0, 0, 1, 1), network="n", sites=e,
                   communities=e, config=Config(), out_dir="/tmp", demand={"main_roads": g1})  # fmt: skip
    assert _input_key(t, "k") == _input_key(t, "k")
    assert _input_key(t, "k") != _input_key(dataclasses.replace(t, demand={"main_roads": g2}), "k")
    wp = dataclasses.replace(t, workplaces=e.assign(employees=5.0))
    assert _input_key(wp, "k") != _input_key(t, "k")
