"""`servicecircle compare` and geo.compare: two site lists, and two audits county by county."""

from __future__ import annotations

import sys

import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from conftest import DISTRICTS, REAL_NETWORKS, ROOT, need_shared
from helpers import grid_network, random_points

from geo.cli import main
from geo.compare import COMPARE_COLUMNS, compare_sites
from geo.config import Config
from geo.coverage import compute_coverage


@pytest.fixture
def scene():
    net = grid_network(16, 110.0, seed=4)
    rng = np.random.default_rng(4)
    comms = random_points(net, 120, rng)
    comms["community_id"] = [f"C{i}" for i in range(120)]
    comms["name"] = [f"社区{i}" for i in range(120)]
    comms["population"] = rng.integers(100, 3000, 120).astype(float)
    comms["county"] = np.where(comms.geometry.x < net.lon.mean(), "西区", "东区")
    before = random_points(net, 6, rng)
    before["site_id"] = [f"S{i}" for i in range(6)]
    before["name"] = [f"站{i}" for i in range(6)]
    before["kind"] = [
        "integrated",
        "station",
        "integrated",
        "cultural_palace",
        "station",
        "partner",
    ]
    before["county"] = np.where(before.geometry.x < net.lon.mean(), "西区", "东区")
    after = before.iloc[1:].copy()  # S0 closed
    after.loc[after.index[0], "geometry"] = shapely.Point(
        net.lon.mean(), net.lat.mean()
    )  # S1 moved
    new = random_points(net, 2, rng)
    new["site_id"], new["name"], new["kind"] = ["N1", "N2"], ["新站1", "新站2"], "integrated"
    new["county"] = np.where(new.geometry.x < net.lon.mean(), "西区", "东区")
    after = pd.concat([after, new], ignore_index=True)
    return net, comms, before, after


def test_compare_sites_tables_match_two_coverage_runs(scene, tmp_path):
    net, comms, before, after = scene
    cfg = Config(minutes=5)  # levels 5/10/15: the 15-minute level is compared
    cmp = compare_sites(net, comms, before, after, config=cfg)
    assert list(cmp.counties.columns[: len(COMPARE_COLUMNS)]) == COMPARE_COLUMNS
    rb = compute_coverage(net, before, comms, config=cfg).communities
    ra = compute_coverage(net, after, comms, config=cfg).communities
    gained = set(ra.loc[ra["covered_15min"] & ~rb["covered_15min"], "community_id"])
    lost = set(rb.loc[rb["covered_15min"] & ~ra["covered_15min"], "community_id"])
    got = cmp.communities
    assert set(got.loc[got["change"] == "gained", "community_id"]) == gained
    assert set(got.loc[got["change"] == "lost", "community_id"]) == lost
    assert gained or lost  # the scene changes something
    for county, sub in cmp.counties.groupby("county"):
        m = comms["county"].to_numpy() == county
        pb = float(comms["population"][m & rb["covered_15min"].to_numpy()].sum())
        pa = float(comms["population"][m & ra["covered_15min"].to_numpy()].sum())
        r = sub.iloc[0]
        assert r.population_covered_15min_before == pb and r.population_covered_15min_after == pa
        assert r.delta == pa - pb
        ib = int(((before["county"] == county) & (before["kind"] == "integrated")).sum())
        ia = int(((after["county"] == county) & (after["kind"] == "integrated")).sum())
        assert (r.sites_integrated_before, r.sites_integrated_after) == (ib, ia)
    # distances before and after are the engine's
    row = got.iloc[0]
    assert row["walk_distance_m_after"] == pytest.approx(
        ra.set_index("community_id").loc[row["community_id"], "walk_distance_m"], abs=0.05
    )
    ch = cmp.sites.set_index("site_id")["change"].to_dict()
    assert ch == {"S0": "closed", "S1": "moved", "N1": "added", "N2": "added"}
    assert cmp.progress["integrated_progress"].str.contains("/ 10").all()
    paths = cmp.write(tmp_path)
    wb = openpyxl.load_workbook(paths["compare_xlsx"])
    assert wb.sheetnames == ["区县对比", "目标进展", "社区变化", "站点变化", "说明"]
    heads = [c.value for c in wb["区县对比"][1]]
    assert heads[:6] == [
        "区县",
        "15分钟覆盖人口(前)",
        "15分钟覆盖人口(后)",
        "覆盖人口变化",
        "会站家一体化(前)",
        "会站家一体化(后)",
    ]  # from the registry
    changes = {c.value for c in wb["站点变化"]["A"][1:]}
    assert changes == {"新增", "移动", "关闭"}
    page = (tmp_path / "compare_map.html").read_text(encoding="utf-8")
    assert "方案对比" in page and "<script src=" not in page  # offline, titled


def test_cli_compare_site_lists(scene, tmp_path):
    net, comms, before, after = scene
    import osmnx as ox

    from geo.network import to_networkx

    gpath = tmp_path / "net.graphml"
    ox.save_graphml(to_networkx(net), gpath)

    def csv(df, name):
        p = tmp_path / name
        g = df.geometry
        out = df.drop(columns="geometry").assign(lon=g.x, lat=g.y)
        out.to_csv(p, index=False)
        return p

    argv = ["compare", "--network", str(gpath), "--communities", str(csv(comms, "c.csv"))]
    argv += ["--before", str(csv(before, "a.csv")), "--after", str(csv(after, "b.csv"))]
    argv += ["--minutes", "5", "--out", str(tmp_path / "out"), "--no-cache"]
    assert main(argv) == 0
    df = pd.read_csv(tmp_path / "out" / "compare.csv", encoding="utf-8-sig")
    assert list(df.columns[:6]) == COMPARE_COLUMNS
    assert set(df["county"]) == {"东区", "西区"}
    # the change map's scale bar is metric only (folium's default adds miles and feet)
    page = (tmp_path / "out" / "compare_map.html").read_text(encoding="utf-8")
    assert "imperial: false" in page and "L.control.scale()" not in page
    # never overwrite an input
    bad = ["compare", "--network", str(gpath), "--communities", str(tmp_path / "c.csv")]
    bad += ["--before", str(tmp_path / "out" / "compare.csv"), "--after", str(tmp_path / "b.csv")]
    assert main([*bad, "--out", str(tmp_path / "out")]) == 2
    assert main(["compare", "--before", "x.csv", "--out", str(tmp_path / "o2")]) == 2


@pytest.mark.realdata
@pytest.mark.slow
def test_cli_compare_two_audits(tmp_path):
    need_shared(REAL_NETWORKS["roads_central"])
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_wuhan_example import make

    paths = make(tmp_path / "ex", n_sites=60, n_comms=300, seed=11)
    import geopandas as gpd

    s = pd.read_csv(paths["sites"], encoding="utf-8-sig")
    c = pd.read_csv(paths["communities"], encoding="utf-8-sig")
    d = gpd.read_file(DISTRICTS)
    jianghan = d[d["name"].str.contains("Jianghan")].geometry.iloc[0]
    s_in = np.flatnonzero(gpd.points_from_xy(s["经度"], s["纬度"]).within(jianghan))
    c_in = np.flatnonzero(gpd.points_from_xy(c["经度"], c["纬度"]).within(jianghan))
    later = s.drop(s.index[s_in[:1]])  # one site in the county closed
    extra = s.iloc[:3].copy()
    extra["名称"] = ["新会站家A", "新会站家B", "新会站家C"]
    extra["类型"] = "会·站·家一体化"
    extra["经度"] = c["经度"].to_numpy()[c_in[:3]]  # three new integrated sites at communities
    extra["纬度"] = c["纬度"].to_numpy()[c_in[:3]]
    for col in ("编号", "id", "site_id"):
        if col in extra:
            extra[col] = [f"NEW{k}" for k in range(3)]
    later = pd.concat([later, extra], ignore_index=True)
    later_csv = tmp_path / "sites_2025.csv"
    later.to_csv(later_csv, index=False, encoding="utf-8-sig")
    outs = []
    for year, sites in (("2024", paths["sites"]), ("2025", later_csv)):
        out = tmp_path / year
        argv = ["audit", "--network", str(REAL_NETWORKS["roads_central"]), "--sites", str(sites)]
        argv += ["--communities", str(paths["communities"]), "--boundaries", str(DISTRICTS)]
        argv += ["--county", "江汉区", "--out", str(out), "-q", "--workers", "1", "--no-map"]
        assert main(argv) == 0
        outs.append(out)
    cmp_out = tmp_path / "cmp"
    argv = ["compare", "--before-audit", str(outs[0]), "--after-audit", str(outs[1])]
    assert main([*argv, "--out", str(cmp_out)]) == 0
    df = pd.read_csv(cmp_out / "compare.csv", encoding="utf-8-sig")
    assert list(df.columns[:6]) == COMPARE_COLUMNS
    sb = pd.read_csv(outs[0] / "summary.csv", encoding="utf-8-sig")
    sa = pd.read_csv(outs[1] / "summary.csv", encoding="utf-8-sig")
    r = df.iloc[0]
    assert r["county"] == sb["county"].iloc[0]
    assert r["population_covered_15min_before"] == pytest.approx(
        sb["population_covered_15min"].iloc[0]
    )
    assert r["population_covered_15min_after"] == pytest.approx(
        sa["population_covered_15min"].iloc[0]
    )
    assert r["sites_integrated_before"] == sb["sites_integrated"].iloc[0]
    assert r["sites_integrated_after"] == sa["sites_integrated"].iloc[0]
    ch = pd.read_csv(cmp_out / "site_changes.csv", encoding="utf-8-sig")
    assert (ch["change"] == "added").sum() == 3 and (ch["change"] == "closed").sum() == 1
    assert r["sites_integrated_after"] >= r["sites_integrated_before"] + 2
    assert r["delta"] > 0  # new sites at communities cover them
    gained = pd.read_csv(cmp_out / "communities_changed.csv", encoding="utf-8-sig")
    assert (gained["change"] == "gained").sum() >= 1
    assert (cmp_out / "compare_map.html").exists() and (cmp_out / "compare.xlsx").exists()


def test_geo_compare_is_callable_on_two_results(scene):
    import geo

    net, comms, before, after = scene
    cfg = Config(minutes=5)
    ra = geo.compute_coverage(net, before, comms, config=cfg)
    rb = geo.compute_coverage(net, after, comms, config=cfg)
    one = geo.compare(ra, rb)
    two = compare_sites(net, comms, before, after, config=cfg)
    pd.testing.assert_frame_equal(one.counties, two.counties)
    assert "<table" in one._repr_html_()


def test_sites_without_county_are_counted_where_they_are(scene):
    net, comms, before, after = scene
    cfg = Config(minutes=5)
    a = compare_sites(net, comms, before, after, config=cfg)
    b = compare_sites(
        net, comms, before.drop(columns="county"), after.drop(columns="county"), config=cfg
    )
    cols = ["county", "sites_integrated_before", "sites_integrated_after"]
    pd.testing.assert_frame_equal(a.counties[cols], b.counties[cols])
