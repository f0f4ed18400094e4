"""Issue 10 on real Wuhan data (Optics Valley OSM, OSM district boundaries): an Amap (GCJ-02)
workbook with title rows and official labels, a GBK community CSV with bad rows and rows in the
neighbouring district. Proposals pasted back into Amap land within 1 m; proposals carry ids,
names, street-name locations, county, nearest candidate and links; the API and the CLI give the
same figures; the console never prints a 0 m median for nothing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DISTRICTS, REAL_NETWORKS, need_shared

import geo
from geo import crs
from geo.cli import main
from geo.commands import _median_text
from geo.config import Config
from geo.network import build_network, haversine_m
from geo.optimize import propose_sites

COUNTY = "江夏区"
CONTRACT = [
    "proposal_id", "name", "location_desc", "county", "nearest_candidate_id",
    "nearest_candidate_name", "nearest_candidate_m", "amap_url", "lon_gcj02", "lat_gcj02",
]  # fmt: skip


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """The issue's inputs, built from real network nodes so that they sit on streets."""
    osm = need_shared(REAL_NETWORKS["optics_valley"])
    need_shared(DISTRICTS)
    d = tmp_path_factory.mktemp("walk")
    net = build_network(osm, config=Config(cache_dir=d / "cache"))
    rng = np.random.default_rng(7)
    box = (net.lon > 114.50) & (net.lon < 114.537) & (net.lat > 30.477) & (net.lat < 30.492)
    pick = rng.choice(np.flatnonzero(box), 60, replace=False)
    glon, glat = crs.wgs84_to_gcj02(net.lon[pick] + 3e-4, net.lat[pick] + 2e-4)
    labels = ["户外劳动者爱心驿站"] * 6 + ["职工驿站", "会·站·家", "职工之家", "户外劳动者服务站点"]
    rows = [["东湖高新区户外劳动者服务站点台账", "", "", "", "", ""],
            ["站点编号", "站点名称", "站点类型", "经度", "纬度", "街道"]]  # fmt: skip
    rows += [[f"S{i + 1:02d}", f"光谷站点{i + 1}", labels[i], f"{glon[i]:.6f}", f"{glat[i]:.6f}",
              "关东街道"] for i in range(10)]  # fmt: skip
    rows += [["S99", "坏坐标站", "爱心驿站", "abc", "30.48", "关东街道"], rows[2]]
    sites = d / "驿站_高德.xlsx"
    pd.DataFrame(rows).to_excel(sites, index=False, header=False)
    cands = d / "融合共建.csv"
    cands.write_text(
        "编号,名称,类型,经度,纬度\n"
        + "".join(
            f"K{i},共建点{i},融合共建点,{glon[i]:.6f},{glat[i]:.6f}\n" for i in range(50, 60)
        ),
        encoding="utf-8",
    )
    lines = ["社区名称,人口,经度,纬度,街道"]
    lines += [f"光谷社区{i + 1},{3000 + 100 * i},{glon[10 + i]:.6f},{glat[10 + i]:.6f},关东街道"
              for i in range(40)]  # fmt: skip
    lines += ["缺人口社区,,114.52,30.48,关东街道", "巨大社区,1e15,114.52,30.48,关东街道"]
    comms = d / "社区.csv"
    comms.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return {"osm": osm, "sites": sites, "comms": comms, "cands": cands, "dir": d}


def _args(w, *extra):
    return [
        "--network", str(w["osm"]), "--sites", str(w["sites"]), "--communities", str(w["comms"]),
        "--crs", "gcj02", "--boundaries", str(DISTRICTS), "--county", COUNTY,
        "--cache-dir", str(w["dir"] / "cache"), *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def gaps_out(walk):
    out = walk["dir"] / "gaps"
    rc = main(["gaps", *_args(walk, "--candidates", str(walk["cands"]), "--new-sites", "2",
                              "--no-map", "--out", str(out))])  # fmt: skip
    assert rc == 0
    return out


def test_proposals_paste_back_in_gcj02_within_1m(gaps_out, tmp_path):
    p = pd.read_csv(gaps_out / "proposed_sites.csv", encoding="utf-8-sig")
    assert len(p) >= 1
    back = tmp_path / "pasted.csv"
    p[["proposal_id", "lon_gcj02", "lat_gcj02"]].rename(
        columns={"proposal_id": "id", "lon_gcj02": "经度", "lat_gcj02": "纬度"}
    ).to_csv(back, index=False)
    r = geo.load_sites(back, crs="gcj02")
    d = haversine_m(r.data["lon"], r.data["lat"], p["lon"], p["lat"])
    assert (d < 1.0).all(), d
    # and the communities come out in the system they went in
    c = pd.read_csv(gaps_out / "communities.csv", encoding="utf-8-sig")
    src = pd.read_csv(gaps_out.parent / "社区.csv", encoding="gbk")
    m = c.merge(src, left_on="name", right_on="社区名称")
    assert len(m) == len(c) > 0
    assert np.allclose(m["lon_gcj02"], m["经度"], atol=2e-6)
    assert np.allclose(m["lat_gcj02"], m["纬度"], atol=2e-6)


def test_proposed_sites_contract(gaps_out):
    p = pd.read_csv(gaps_out / "proposed_sites.csv", encoding="utf-8-sig")
    assert all(c in p.columns for c in CONTRACT), set(CONTRACT) - set(p.columns)
    assert p["proposal_id"].tolist() == [f"P{i + 1:02d}" for i in range(len(p))]
    assert p["name"].str.startswith(tuple(p["proposal_id"])).all()
    # street names from the OSM network, e.g. 光谷六路与高新二路交叉口北约50米
    assert p["location_desc"].str.contains("路").all()
    assert p["location_desc"].str.contains("交叉口|旁").all()
    assert (p["county"] == COUNTY).all()
    assert p["nearest_candidate_id"].str.startswith("K").all()
    assert (p["nearest_candidate_m"] >= 0).all()
    for url, lon, lat in zip(p["amap_url"], p["lon_gcj02"], p["lat_gcj02"], strict=True):
        assert url.startswith("https://uri.amap.com/marker?position=")
        assert f"{lon:.6f},{lat:.6f}" in url
    assert p["baidu_url"].str.contains("coord_type=bd09ll").all()
    assert (p["newly_covered_population"] >= 0).all()
    s = json.loads((gaps_out / "summary.json").read_text(encoding="utf-8"))
    assert s["kind_mapping"]["户外劳动者爱心驿站"]["kind"] == "station"
    assert s["output_crs"] == "gcj02"


def test_rejects_separate_errors_duplicates_and_out_of_area(gaps_out):
    r = pd.read_csv(gaps_out / "rejects.csv", encoding="utf-8-sig")
    cats = r["category"].value_counts().to_dict()
    assert cats.get("duplicate") == 1 and cats.get("out_of_area", 0) > 0
    errors = r[r["category"] == "error"]
    assert set(errors["reason_code"]) >= {"bad_coord", "missing_number", "too_large"}
    # Chinese reasons; fixes name only real flags
    assert errors["reason"].str.contains("[\u4e00-\u9fff]").all()
    from geo.cli import build_parser

    flags = {o for a in build_parser()._subparsers._group_actions[0].choices["gaps"]._actions
             for o in a.option_strings}  # fmt: skip
    used = set(r["fix"].str.findall(r"--[a-z][a-z-]+").sum())
    assert used <= flags, used - flags


def test_api_and_cli_give_the_same_figures(walk):
    out = walk["dir"] / "cov"
    assert main(["coverage", *_args(walk, "--no-map", "--out", str(out))]) == 0
    cli = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # the README's Python API
    b = geo.load_boundaries(DISTRICTS)
    b = b[b["county"] == "Jiangxia District"]  # the same polygon (the CLI reads locname)
    cfg = Config(cache_dir=walk["dir"] / "cache")
    sites = geo.load_sites(walk["sites"], crs="gcj02")
    comms = geo.load_communities(walk["comms"], crs="gcj02", boundary=b)
    net = geo.build_network(walk["osm"], config=cfg, boundary=b)
    res = geo.compute_coverage(net, sites.data, comms.data, config=cfg)
    api = res.summary
    for k in ("communities", "population", "population_covered_share", "communities_covered"):
        assert api[k] == cli[k], k
    assert (comms.rejects["category"] == "out_of_area").sum() > 0
    assert api["communities_off_network"] == 0


def test_palace_proposal_states_positive_gain_with_unit(walk):
    cfg = Config(cache_dir=walk["dir"] / "cache")
    sites = geo.load_sites(walk["sites"], crs="gcj02")
    comms = geo.load_communities(walk["comms"], crs="gcj02")
    net = geo.build_network(walk["osm"], config=cfg)
    res = geo.compute_coverage(net, sites.data, comms.data, config=cfg)
    p = propose_sites(res, k=1, model="pmedian", existing_kinds=["cultural_palace"], curve=False)
    row = p.sites.iloc[0]
    assert row["weighted_distance_saved"] >= 0
    assert row["newly_reached_population"] > 0 and 0 < row["mean_walk_m_after"] < 5000
    assert "工人文化宫" in row["name"] and row["proposal_id"] == "P01"


def test_console_median_says_none_or_unreachable():
    assert _median_text(None, 0) == "无" and _median_text(None, 0, "en") == "none"
    assert _median_text(None, 3) == "不可达" and _median_text(None, 3, "en") == "unreachable"
    assert _median_text(1234.4, 3) == "1,234 米" and _median_text(1234.4, 3, "en") == "1,234 m"


def test_unknown_label_exits_2_naming_it(walk, tmp_path, capsys):
    bad = tmp_path / "s.csv"
    bad.write_text("name,kind,lon,lat\na,法律援助站,114.52,30.48\n", encoding="utf-8")
    args = _args(walk, "--no-map", "--out", str(tmp_path / "o"))
    args[args.index("--sites") + 1] = str(bad)
    assert main(["coverage", *args]) == 2
    err = capsys.readouterr().err
    assert "法律援助站" in err and "--kind '法律援助站=station'" in err
    assert "Traceback" not in err


def test_every_row_rejected_still_writes_rejects_csv(walk, tmp_path, capsys):
    bad = tmp_path / "c.csv"
    bad.write_text("name,population,lon,lat\na,1,abc,30\nb,2,,30\n", encoding="utf-8")
    args = _args(walk, "--no-map", "--out", str(tmp_path / "o"))
    args[args.index("--communities") + 1] = str(bad)
    assert main(["coverage", *args]) == 2
    r = pd.read_csv(tmp_path / "o" / "rejects.csv", encoding="utf-8-sig")
    assert r["row"].tolist() == [2, 3]
    assert "rejects.csv" in capsys.readouterr().err


def test_projected_roads_without_prj_suggest_gauss_kruger(tmp_path, capsys):
    import geopandas as gpd

    roads = gpd.read_file(need_shared(REAL_NETWORKS["roads_central"])).head(300).to_crs(4547)
    shp = tmp_path / "roads.shp"
    roads.to_file(shp)
    shp.with_suffix(".prj").unlink()
    rc = main(["network", "--source", str(shp), "--out", str(tmp_path / "n.graphml"),
               "--no-cache"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "look projected" in err and "--network-crs EPSG:4547" in err
    assert "Traceback" not in err
    assert crs.gauss_kruger_epsg(114.3) == 4547 and crs.gauss_kruger_epsg(easting=38.5e6) == 4526


def test_unused_input_columns_pass_through(gaps_out):
    c = pd.read_csv(gaps_out / "communities.csv", encoding="utf-8-sig")
    s = pd.read_csv(gaps_out / "sites.csv", encoding="utf-8-sig")
    assert (c["街道"] == "关东街道").all() and (s["街道"] == "关东街道").all()
    assert {"lon_gcj02", "lat_gcj02"} <= set(c.columns) & set(s.columns)
    for t in (c, s, pd.read_csv(gaps_out / "candidates.csv", encoding="utf-8-sig")):
        for col in ("lon", "lat", "lon_gcj02", "lat_gcj02"):
            assert np.allclose(t[col], t[col].round(6), rtol=0, atol=1e-9), col  # six decimals


def test_points_far_outside_the_network_are_not_called_off_network(walk, tmp_path):
    from geo.outputs import off_network_rejects

    cfg = Config(cache_dir=walk["dir"] / "cache")
    net = geo.build_network(walk["osm"], config=cfg)
    p = tmp_path / "s.csv"
    # one real site, one in the East China Sea, one in Helsinki
    p.write_text(
        f"id,name,lon,lat\nok,a,{net.lon[0]},{net.lat[0]}\nsea,b,124.0,29.0\nfi,c,24.94,60.17\n",
        encoding="utf-8",
    )
    sites = geo.load_sites(p)
    comms = geo.load_communities(walk["comms"], crs="gcj02")
    res = geo.compute_coverage(net, sites.data, comms.data, config=cfg)
    rej = off_network_rejects(res, p).set_index("id")
    assert (
        rej.loc["sea", "reason_code"] == "far_outside"
        and rej.loc["fi", "reason_code"] == "far_outside"
    )
    assert rej.loc["sea", "category"] == "out_of_area"
    assert "远在路网范围之外" in rej.loc["fi", "reason"]


def test_audit_takes_minutes_levels_new_sites_col_and_sheet(walk, tmp_path):
    out = tmp_path / "audit"
    rc = main([
        "audit", "--network", str(walk["osm"]), "--sites", str(walk["sites"]),
        "--communities", str(walk["comms"]), "--crs", "gcj02", "--boundaries", str(DISTRICTS),
        "--county", COUNTY, "--minutes", "10", "--levels", "5", "10", "--new-sites", "1",
        "--col", "lon=经度", "--col", "lat=纬度", "--sheet", "0", "--workers", "1", "--no-map",
        "--cache-dir", str(walk["dir"] / "cache"), "--out", str(out),
    ])  # fmt: skip
    assert rc == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["kind_mapping"]["户外劳动者爱心驿站"]["kind"] == "station"
    (county,) = list((out / "counties").iterdir())
    c = pd.read_csv(county / "communities.csv", encoding="utf-8-sig")
    assert {"covered_5min", "covered_10min"} <= set(c.columns) and "covered_15min" not in c
    summ = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")  # no 15-minute column anywhere
    assert "population_covered_10min_share" in summ and not any("15min" in k for k in summ)
    p = pd.read_csv(county / "proposed_sites.csv", encoding="utf-8-sig")
    assert len(p) == 1 and p["proposal_id"].tolist() == ["P01"]
    # the workbook is Chinese: values, yes/no, and which system each coordinate pair is in
    x = pd.read_excel(out / "audit.xlsx", sheet_name=None)
    comm = x["社区"]
    assert {"经度(WGS84)", "纬度(WGS84)"} <= set(comm.columns)
    assert set(comm["最近站点类型"].dropna()) <= {"爱心驿站", "会站家", "工人文化宫", "融合共建点"}
    assert set(comm["是否覆盖"]) <= {"是", "否"}
    prop = x["建议新增站点"]
    assert {"建议编号", "位置描述", "高德地图链接"} <= set(prop.columns)
    assert set(prop["来源"]) <= {"用户候选点", "路网生成", "社区位置"}
    assert x["问题数据"]["类别"].isin(["错误", "重复", "区域外"]).all()


def test_far_communities_have_no_walk_distance(walk, tmp_path, capsys):
    far = tmp_path / "far.csv"
    far.write_text("name,population,lon,lat\nfi,100,24.94,60.17\nsea,100,124.0,29.0\n")
    args = _args(walk, "--no-map", "--out", str(tmp_path / "o"))
    i = args.index("--county")
    del args[i - 2 : i + 2]  # no boundary: the far points reach the coverage step
    args[args.index("--communities") + 1] = str(far)
    assert main(["coverage", *args]) == 0
    c = pd.read_csv(tmp_path / "o" / "communities.csv", encoding="utf-8-sig")
    assert c["off_network"].all() and c["walk_distance_m"].isna().all()
    assert c["nearest_site_id"].isna().all()
    assert "不可达" in capsys.readouterr().out
    r = pd.read_csv(tmp_path / "o" / "rejects.csv", encoding="utf-8-sig")
    assert (r.loc[r["file"] == str(far), "reason_code"] == "far_outside").all()


def test_output_crs_chooses_the_system(walk, tmp_path):
    out = tmp_path / "bd"
    assert main(["gaps", *_args(walk, "--output-crs", "bd09", "--new-sites", "1", "--no-map",
                                "--out", str(out))]) == 0  # fmt: skip
    p = pd.read_csv(out / "proposed_sites.csv", encoding="utf-8-sig")
    c = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    assert {"lon_bd09", "lat_bd09"} <= set(p.columns) & set(c.columns)
    assert "lon_gcj02" not in p.columns
    back = tmp_path / "baidu.csv"
    p[["lon_bd09", "lat_bd09"]].rename(columns={"lon_bd09": "lng", "lat_bd09": "lat"}).to_csv(
        back, index=False
    )
    r = geo.load_sites(back, crs="bd09")
    assert (haversine_m(r.data["lon"], r.data["lat"], p["lon"], p["lat"]) < 1.0).all()
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["output_crs"] == "bd09"


def test_location_desc_from_street_names():
    """A cross of 珞喻路 (east-west) and 鲁磨路 (north-south); a point 50 m east and 30 m north
    of the junction is described as the issue asks."""
    import dataclasses

    from helpers import metres_to_lonlat, network_from_edges

    from geo.optimize._describe import StreetIndex, describe_location

    xy = np.array([[-300.0, 0], [0, 0], [300, 0], [0, -300], [0, 300], [300, 300]])
    net = network_from_edges(xy, [(0, 1), (1, 2), (3, 1), (1, 4), (2, 5)])
    net = dataclasses.replace(
        net, edge_name=np.array(["珞喻路", "珞喻路", "鲁磨路", "鲁磨路", ""], dtype=object)
    )
    idx = StreetIndex(net)
    lon, lat = metres_to_lonlat(50.0, 30.0)
    assert describe_location(idx, float(lon), float(lat)) == "珞喻路与鲁磨路交叉口东北约60米"
    lon, lat = metres_to_lonlat(-3.0, 2.0)
    assert describe_location(idx, float(lon), float(lat)) == "珞喻路与鲁磨路交叉口"
    lon, lat = metres_to_lonlat(-200.0, -20.0)
    assert describe_location(idx, float(lon), float(lat), "en").startswith("about 200 m W")
    far = describe_location(idx, *map(float, metres_to_lonlat(5000.0, 5000.0)))
    assert far.startswith("附近无具名道路")


def test_palace_proposed_even_when_every_community_is_covered(walk):
    cfg = Config(cache_dir=walk["dir"] / "cache", minutes=120.0)
    sites = geo.load_sites(walk["sites"], crs="gcj02")
    comms = geo.load_communities(walk["comms"], crs="gcj02")
    net = geo.build_network(walk["osm"], config=cfg, largest_component=True)
    res = geo.compute_coverage(net, sites.data, comms.data, config=cfg)
    assert res.communities.loc[~res.communities["off_network"], "covered"].all()
    p = propose_sites(res, k=1, model="pmedian", existing_kinds=["cultural_palace"], curve=False)
    assert len(p.sites) == 1 and p.sites["mean_walk_m_after"].iloc[0] > 0
