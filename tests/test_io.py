"""Loaders: headers, encodings, formats, and bad rows going to rejects with reasons."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import crs
from geo._errors import InputError
from geo.io import load_boundaries, load_communities, load_sites, safe_text, write_csv


def test_contract_csv_needs_no_mapping(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text(
        "id,name,kind,lon,lat\nA1,Hankou station,station,114.29,30.58\n"
        "A2,Palace,cultural_palace,114.30,30.59\n",
        encoding="utf-8",
    )
    r = load_sites(p)
    assert list(r.data["site_id"]) == ["A1", "A2"]
    assert list(r.data["kind"]) == ["station", "cultural_palace"]
    assert r.data.crs.to_epsg() == 4326 and len(r.rejects) == 0
    assert r.data.geometry.x.tolist() == [114.29, 114.30]


def test_chinese_headers_gbk_and_kinds(tmp_path):
    p = tmp_path / "驿站.csv"
    text = (
        "编号,名称,类型,经度,纬度,地址,区县\n"
        "1,江岸爱心驿站,爱心驿站,114.30,30.60,江岸区某路1号,江岸区\n"
        "2,武昌会站家,会·站·家一体化,114.31,30.55,,武昌区\n"
        "3,工人文化宫,工人文化宫,114.28,30.58,,江汉区\n"
        "4,银行网点,融合共建,114.27,30.57,,江汉区\n"
    )
    p.write_bytes(text.encode("gbk"))
    r = load_sites(p)
    assert r.encoding == "gb18030"
    assert list(r.data["kind"]) == ["station", "integrated", "cultural_palace", "partner"]
    assert r.data["name"].iloc[0] == "江岸爱心驿站"
    assert r.data["county"].iloc[1] == "武昌区"
    assert r.columns["lon"] == "经度"


def test_gcj02_input_is_converted(tmp_path):
    wlon, wlat = 114.3055, 30.5928
    glon, glat = crs.wgs84_to_gcj02(wlon, wlat)
    p = tmp_path / "amap.csv"
    p.write_text(f"name,lng,lat\nx,{glon[0]:.8f},{glat[0]:.8f}\n", encoding="utf-8")
    r = load_sites(p, crs="gcj02")
    from geo.network import haversine_m

    assert haversine_m(r.data["lon"], r.data["lat"], wlon, wlat)[0] < 0.5
    assert "src_x" in r.data


def test_broken_csv_rejects_each_row_with_reason(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(
        "id,name,kind,lon,lat\n"
        "1,ok,station,114.30,30.60\n"  # row 2 fine
        "2,no lat,station,114.30,\n"  # row 3 missing
        "3,text,station,abc,30.6\n"  # row 4 non-numeric
        "4,swapped,station,30.60,114.30\n"  # row 5 swapped
        "5,range,station,200,30\n"  # row 6 out of range
        "1,dup,station,114.31,30.61\n"  # row 7 duplicate id
        "7,odd,spaceship,114.31,30.61\n"  # row 8 unknown kind: stops the load (see test_io_kinds)
        "8,fine,integrated,114.32,30.62\n",  # row 9 fine
        encoding="utf-8",
    )
    r = load_sites(p, lang="en", allow_unknown_kinds=True)
    assert list(r.data["site_id"]) == ["1", "7", "8"]
    assert r.data["kind"].tolist() == ["station", "spaceship", "integrated"]
    rej = r.rejects.set_index("row")
    assert rej.loc[3, "reason"] == "missing latitude"
    assert rej.loc[4, "reason"] == "non-numeric longitude" and rej.loc[4, "value"] == "abc"
    assert rej.loc[5, "reason"] == "latitude and longitude are swapped"
    assert rej.loc[6, "reason"] == "coordinate out of range"
    assert rej.loc[7, "reason"].startswith("duplicate id (first used on row 2)")
    assert (r.rejects["file"] == str(p)).all() and r.rejects["fix"].str.len().min() > 10
    assert (r.rejects["category"] == "error").all()
    out = write_csv(r.rejects, tmp_path / "rejects.csv")
    assert len(pd.read_csv(out)) == 5
    zh = load_sites(p, allow_unknown_kinds=True).rejects.set_index("row")
    assert zh.loc[3, "reason"] == "缺少纬度" and zh.loc[5, "reason"] == "经纬度填反了"
    assert "--fix-swapped" in zh.loc[5, "fix"]
    # fixing swapped rows on request
    r2 = load_sites(p, fix_swapped=True, allow_unknown_kinds=True)
    assert "4" in set(r2.data["site_id"])
    assert r2.data.set_index("site_id").loc["4", "lon"] == 114.30


def test_population_and_boundary_rejects(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "id,name,population,lon,lat\n1,a,100,114.30,30.60\n2,b,-5,114.30,30.60\n"
        "3,c,,114.30,30.60\n4,d,many,114.30,30.60\n5,far,10,116.0,39.9\n",
        encoding="utf-8",
    )
    area = shapely.box(114.0, 30.0, 115.0, 31.0)
    r = load_communities(p, boundary=area, lang="en")
    assert list(r.data["community_id"]) == ["1"]
    cats = dict(zip(r.rejects["row"], r.rejects["category"], strict=True))
    assert cats == {3: "error", 4: "error", 5: "error", 6: "out_of_area"}
    reasons = dict(zip(r.rejects["row"], r.rejects["reason"], strict=True))
    assert reasons[3].startswith("population must be")
    assert reasons[4] == "missing population"
    assert reasons[5].startswith("population must be")
    assert reasons[6] == "outside the study boundary"


def test_no_population_column_weighs_one(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name,lon,lat\na,114.3,30.6\nb,114.31,30.61\n", encoding="utf-8")
    r = load_communities(p)
    assert r.data["population"].tolist() == [1.0, 1.0]
    assert r.data["community_id"].tolist() == ["C2", "C3"]


def test_excel_and_geojson_polygons(tmp_path):
    df = pd.DataFrame(
        {
            "名称": ["甲社区", "乙社区"],
            "人口": [1200, 800],
            "经度": [114.30, 114.31],
            "纬度": [30.60, 30.61],
        }
    )
    x = tmp_path / "c.xlsx"
    df.to_excel(x, index=False)
    r = load_communities(x)
    assert r.data["population"].tolist() == [1200, 800] and r.encoding is None
    polys = gpd.GeoDataFrame(
        {"name": ["p"], "population": [50]},
        geometry=[shapely.box(114.30, 30.60, 114.301, 30.601)],
        crs=4326,
    )
    g = tmp_path / "c.geojson"
    polys.to_file(g)
    r = load_communities(g)
    assert r.data.geom_type.iloc[0] == "Polygon"
    assert 114.30 < r.data["lon"].iloc[0] < 114.301


def test_empty_and_undecodable_files(tmp_path):
    e = tmp_path / "empty.csv"
    e.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty.csv.*the file is empty.*Fix:"):
        load_sites(e)
    h = tmp_path / "header.csv"
    h.write_text("id,name,lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match="no data rows"):
        load_sites(h)
    b = tmp_path / "bin.csv"
    b.write_bytes("名称,lon,lat\n甲,1,2\n".encode("gbk"))
    with pytest.raises(InputError, match="cannot decode the file as ascii.*Fix:"):
        load_sites(b, encoding="ascii")
    n = tmp_path / "nocoords.csv"
    n.write_text("name,where\na,here\n", encoding="utf-8")
    with pytest.raises(InputError, match="no lon or lat column.*--col lon=HEADER"):
        load_sites(n)


def test_boundaries_gcj02_and_names(tmp_path):
    poly = shapely.box(114.2, 30.5, 114.3, 30.6)
    gcj = crs.transform_geometry(poly, crs.wgs84_to_gcj02)
    f = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"name": ["江岸区"], "adcode": [420102]}, geometry=[gcj], crs=4326).to_file(f)
    b = load_boundaries(f, crs="gcj02")
    assert b["county"].iloc[0] == "江岸区" and b["code"].iloc[0] == "420102"
    assert b.geometry.iloc[0].symmetric_difference(poly).area < 1e-10


def test_safe_text_neutralises_formulas():
    assert safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_text("@SUM(A1)") == "'@SUM(A1)"
    assert safe_text("正常名称") == "正常名称"
    assert safe_text(-5) == -5
