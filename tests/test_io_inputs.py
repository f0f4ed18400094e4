"""Real-world inputs (issue 10 items 3, 5; issue 11 items 10, 11): official kind labels, title
rows, one 经纬度 column, full-width digits, DMS text, sheets, damaged files, CRS that do not fit,
population caps, MultiPoints, GPKG layers, ids that differ only invisibly, encodings."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo._errors import CRSError, InputError
from geo.io import (
    FIELDS,
    KIND_ALIASES,
    UnknownKindError,
    load_communities,
    load_sites,
    read_table,
)
from geo.io._read import detect_encoding
from geo.io._values import parse_coord, parse_dms, split_pair

OFFICIAL = {
    "爱心驿站": "station",
    "户外劳动者爱心驿站": "station",
    "户外劳动者服务站点": "station",
    "职工驿站": "station",
    "工会驿站": "station",
    "会站家": "integrated",
    "会·站·家": "integrated",
    "会站家一体化": "integrated",
    "职工之家": "integrated",
    "工人文化宫": "cultural_palace",
    "职工文化宫": "cultural_palace",
    "文化宫": "cultural_palace",
    "融合共建": "partner",
    "融合共建点": "partner",
}


def _sites_csv(tmp_path, labels, name="s.csv"):
    p = tmp_path / name
    rows = [f"{i},n{i},{lab},{114.30 + i * 1e-3:.4f},30.60" for i, lab in enumerate(labels)]
    p.write_text("id,name,kind,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def test_official_kind_labels_are_built_in(tmp_path):
    r = load_sites(_sites_csv(tmp_path, list(OFFICIAL)))
    assert r.data["kind"].tolist() == list(OFFICIAL.values())
    assert all(r.kind_mapping[lab]["kind"] == k for lab, k in OFFICIAL.items())
    assert set(KIND_ALIASES) == {"station", "integrated", "cultural_palace", "partner"}


def test_kind_rules_and_mapping_report(tmp_path):
    labels = ["江岸区总工会爱心驿站", "某街道会站家阵地", "汉口工人文化宫分馆", "银行融合共建网点"]
    r = load_sites(_sites_csv(tmp_path, labels + ["江岸区总工会爱心驿站"]))
    assert r.data["kind"].tolist() == [
        "station", "integrated", "cultural_palace", "partner", "station"
    ]  # fmt: skip
    m = r.kind_mapping["江岸区总工会爱心驿站"]
    assert m == {"kind": "station", "count": 2, "how": "rule:含'驿站'"}


def test_unknown_label_stops_with_counts_and_flag(tmp_path):
    p = _sites_csv(tmp_path, ["爱心驿站", "法律援助站", "法律援助站", "心理咨询室"])
    with pytest.raises(UnknownKindError) as e:
        load_sites(p)
    msg = str(e.value)
    assert "法律援助站 (2" in msg and "心理咨询室 (1" in msg
    assert "--kind '法律援助站=station'" in msg and "--allow-unknown-kinds" in msg
    r = load_sites(p, kinds={"法律援助站": "station", "心理咨询室": "station"})
    assert (r.data["kind"] == "station").all() and r.kind_mapping["法律援助站"]["how"] == "table"
    kept = load_sites(p, allow_unknown_kinds=True)
    assert kept.data["kind"].tolist()[1:] == ["法律援助站", "法律援助站", "心理咨询室"]


def test_exact_duplicates_and_invisible_id_differences(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "id,name,population,lon,lat\n"
        "A1,甲,10,114.30,30.60\n"
        "A1,甲,10,114.30,30.60\n"  # exact duplicate of row 2
        "a\u200b1,乙,5,114.31,30.61\n"  # same id: case + zero-width
        "Ａ2,丙,5,114.32,30.62\n"  # full-width A2
        "A2,丁,5,114.33,30.63\n",  # duplicate of Ａ2 after NFKC
        encoding="utf-8",
    )
    r = load_communities(p)
    rej = r.rejects.set_index("row")
    assert rej.loc[3, "category"] == "duplicate" and rej.loc[3, "reason_code"] == "duplicate_row"
    assert rej.loc[3, "reason"] == "与第 2 行完全相同的重复行"
    assert (
        rej.loc[4, "reason_code"] == "duplicate_id" and rej.loc[6, "reason_code"] == "duplicate_id"
    )
    assert r.data["community_id"].tolist() == ["A1", "A2"]


def test_title_rows_pair_column_fullwidth_and_dms(tmp_path):
    df = pd.DataFrame(
        [
            ["江岸区户外劳动者服务站点统计表", "", "", ""],
            ["填报单位：江岸区总工会", "", "", ""],
            ["序号", "站点名称", "站点类型", "经纬度"],
            ["1", "甲驿站", "爱心驿站", "114.2650,30.5960"],
            ["2", "乙驿站", "爱心驿站", "１１４．２７１２，３０．５９８１"],
            ["3", "丙驿站", "爱心驿站", "114°16'30.5\"E 30°35'45\"N"],
            ["", "", "", ""],
        ]
    )
    x = tmp_path / "stations.xlsx"
    with pd.ExcelWriter(x) as w:
        pd.DataFrame({"说明": ["封面"]}).to_excel(w, sheet_name="封面", index=False)
        df.to_excel(w, sheet_name="站点", index=False, header=False)
    with pytest.raises(InputError, match="no lon or lat"):
        load_sites(x)  # the first sheet is a cover page
    r = load_sites(x, sheet="站点")
    assert r.data["name"].tolist() == ["甲驿站", "乙驿站", "丙驿站"]
    assert r.data["row"].tolist() == [4, 5, 6]
    assert np.allclose(r.data["lon"], [114.2650, 114.2712, 114 + 16 / 60 + 30.5 / 3600])
    assert np.allclose(r.data["lat"], [30.5960, 30.5981, 30 + 35 / 60 + 45 / 3600])
    assert len(load_sites(x, sheet=1)) == 3
    with pytest.raises(InputError, match="no such worksheet.*--sheet.*封面, 站点"):
        load_sites(x, sheet="汇总")


def test_value_parsers():
    assert parse_dms("30度35分45秒") == pytest.approx(30.595833, abs=1e-6)
    assert parse_dms("114°16′30″W") == pytest.approx(-(114 + 16 / 60 + 30 / 3600))
    assert np.isnan(parse_coord("abc")) and parse_coord("１１４．５") == 114.5
    assert split_pair("114.1；30.2") == ("114.1", "30.2")


def test_truncated_xlsx_is_one_line_error(tmp_path):
    good = tmp_path / "g.xlsx"
    pd.DataFrame({"name": ["a"], "lon": [114.3], "lat": [30.6]}).to_excel(good, index=False)
    bad = tmp_path / "t.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="damaged or truncated.*Fix:"):
        load_sites(bad)


def test_projected_crs_on_degrees_stops(tmp_path):
    p = _sites_csv(tmp_path, ["爱心驿站", "爱心驿站"])
    with pytest.raises(CRSError, match="look like longitude/latitude.*EPSG:32650"):
        load_sites(p, crs="EPSG:32650")
    g = tmp_path / "wrong.geojson"
    gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=shapely.points([114.3, 114.31], [30.6, 30.61]), crs=3857
    ).to_file(g)
    with pytest.raises(CRSError, match="look like longitude/latitude"):
        load_sites(g)
    assert len(load_sites(g, crs="wgs84")) == 2


def test_population_cap_is_documented_and_overridable(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("name,population,lon,lat\na,1e15,114.3,30.6\nb,1,114.31,30.61\n", encoding="utf-8")
    r = load_communities(p)
    rej = r.rejects.iloc[0]
    assert rej["reason_code"] == "too_large" and "--max-population" in rej["fix"]
    assert "1,000,000" in rej["reason"]
    assert len(load_communities(p, max_population=1e16)) == 2
    assert any(f.name == "population" for f in FIELDS)


def test_multipoint_exploded(tmp_path):
    g = tmp_path / "mp.geojson"
    gpd.GeoDataFrame(
        {"id": ["m", "s"], "name": ["multi", "single"]},
        geometry=[
            shapely.MultiPoint([(114.3, 30.6), (114.31, 30.61)]),
            shapely.Point(114.32, 30.6),
        ],
        crs=4326,
    ).to_file(g)
    r = load_sites(g)
    assert r.data["site_id"].tolist() == ["m-1", "m-2", "s"]
    assert r.data["lon"].tolist() == [114.3, 114.31, 114.32]


def test_two_layer_gpkg_needs_layer(tmp_path):
    g = tmp_path / "two.gpkg"
    for name, x in (("sites", 114.3), ("old", 114.4)):
        gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.Point(x, 30.6)], crs=4326).to_file(
            g, layer=name
        )
    with pytest.raises(InputError, match="2 layers.*--layer NAME.*sites, old"):
        load_sites(g)
    assert load_sites(g, layer="old").data["lon"].iloc[0] == 114.4


def test_half_truncated_shapefile_refused(tmp_path):
    shp = tmp_path / "pts.shp"
    gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(50)]},
        geometry=shapely.points(np.linspace(114.3, 114.4, 50), np.full(50, 30.6)),
        crs=4326,
    ).to_file(shp)
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="disagree on the number of records"):
        load_sites(shp)


def test_encodings_limited_and_replacements_named(tmp_path, caplog):
    text = "名稱,lon,lat\n臺北車站,114.3,30.6\n"
    assert detect_encoding(text.encode("big5")) == "big5"
    assert detect_encoding("名称,甲\n".encode("gbk")) == "gb18030"
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        b"name,lon,lat\n" + "江岸区,114.3,30.6\n".encode() + "江汉区,114.31,30.61\n".encode("gbk")
    )
    with caplog.at_level(logging.WARNING):
        r = load_sites(mixed)
    assert r.encoding in ("utf-8", "gb18030", "big5")
    assert ("rows 2 " in caplog.text or "rows 3 " in caplog.text) and "--encoding" in caplog.text
    with pytest.raises(InputError, match="cannot decode the file as gb18030"):
        read_table(mixed, encoding="gb18030")


def test_reject_fixes_name_only_real_flags_in_both_languages():
    import re

    from geo.cli import build_parser
    from geo.io._messages import MESSAGES

    sub = build_parser()._subparsers._group_actions[0].choices
    flags = {o for p in sub.values() for a in p._actions for o in a.option_strings}
    for code, (_, zr, zf, er, ef) in MESSAGES.items():
        named = set(re.findall(r"--[a-z][a-z-]+", " ".join((zr, zf, er, ef))))
        assert named <= flags, (code, named - flags)
        assert re.search("[\u4e00-\u9fff]", zr) and re.search("[\u4e00-\u9fff]", zf), code


def test_load_errors_name_only_real_flags(tmp_path):
    import re

    from geo.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices
    flags = {o for p in sub.values() for a in p._actions for o in a.option_strings}
    p = tmp_path / "n.csv"
    p.write_text("name,where\na,here\n", encoding="utf-8")
    for call in (
        lambda: load_sites(p),
        lambda: load_sites(p, columns={"lon": "nope"}),
        lambda: load_sites(_sites_csv(tmp_path, ["天文台"])),
        lambda: load_sites(_sites_csv(tmp_path, ["爱心驿站"]), crs="EPSG:32650"),
    ):
        with pytest.raises(InputError) as e:
            call()
        named = set(re.findall(r"--[a-z][a-z-]+", str(e.value)))
        assert named and named <= flags, named - flags


@pytest.mark.parametrize("kind", ["folder", "binary", "csv_as_xlsx", "empty_xlsx", "no_shx"])
def test_unreadable_inputs_are_one_line_errors(tmp_path, kind):
    p = tmp_path / {"folder": "d.csv", "binary": "b.csv", "csv_as_xlsx": "c.xlsx",
                    "empty_xlsx": "e.xlsx", "no_shx": "s.shp"}[kind]  # fmt: skip
    if kind == "folder":
        p.mkdir()
    elif kind == "binary":
        p.write_bytes(bytes(range(256)) * 50)
    elif kind == "csv_as_xlsx":
        p.write_text("name,lon,lat\na,114.3,30.6\n")
    elif kind == "empty_xlsx":
        p.write_bytes(b"")
    else:
        gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(114.3, 30.6)], crs=4326).to_file(p)
        p.with_suffix(".shx").unlink()
    with pytest.raises(InputError, match="Fix:"):
        load_sites(p)
