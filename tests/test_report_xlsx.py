"""The meeting workbook writer (geo.report_xlsx, XlsxWriter): the same cells, formats, links,
widths, frozen header and filter as the openpyxl writer it replaced (tests/xlsx_reference.py),
on a small table holding every kind of value, and the streets sheet's covered share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from xlsx_reference import workbook_differences, write_workbook_reference

from geo.report_xlsx import write_workbook


def _tables() -> dict[str, pd.DataFrame]:
    n = 7
    communities = pd.DataFrame(
        {
            "community_id": ["C1", "C2", "=1+1", "+86 10", "@x", "-3", "C7"],
            "name": ["花桥社区", "bad\x07text", None, "a" * 80, "二七", "", "x"],
            "population": [12345, 0, 7, 1_000_000, 3, 42, 5],
            "lon": np.linspace(114.123456789, 114.2, n),
            "lat": [30.5, np.nan, 30.51, 30.52, np.inf, 30.53, -np.inf],
            "walk_distance_m": [812.4, np.nan, 0.0, 1e6, 3.33, 123.456, 0.1 + 0.2],
            "covered": [True, False, True, False, True, True, False],
            "covered_5min": [True, False, False, False, True, True, False],
            "nearest_site_kind": [
                "station",
                "integrated",
                "cultural_palace",
                "partner",
                "?",
                None,
                "station",
            ],
            "sites_within_reach": np.arange(n, dtype=np.int64),
            "covered_share": [0.5, 1.0, 0.0, np.nan, 0.123, 1 / 3, 0.999],
            "街道": ["花桥街道"] * n,
            "备注": [1, "二", 3.5, None, True, "=SUM(A1)", "ok"],
        }
    )
    streets = pd.DataFrame(
        {
            "edge_id": [0, 1, 2],
            "name": ["Erottajankatu", "解放大道", None],
            "highway": ["primary", "residential", "footway"],
            "length_m": [13.9, 250.0, 8.25],
            "covered_5min": [1.0, 0.4832, 0.0],
            "covered_15min": [1.0, 1.0, 0.25],
            "main_road": [True, False, False],
        }
    )
    summary = pd.DataFrame(
        {
            "county": ["江汉区", "洪山区"],
            "population_covered_15min_share": [0.816, 0.956],
            "proposal_status": ["milp:optimal", "not needed"],
            "map": ["counties/江汉区/map.html", "map.html"],
            "targets_met": [False, True],
        }
    )
    proposed = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "amap_url": [
                "https://uri.amap.com/marker?position=114.1,30.5&name=甲",
                "../up.html",
                "",
            ],
            "source": ["file", "generated", "community"],
        }
    )
    return {
        "summary": summary,
        "communities": communities,
        "streets": streets,
        "proposed_sites": proposed,
        "rejects": pd.DataFrame(columns=["file", "row", "reason"]),
    }


PARAMS = {"walk_speed_kmh": 4.0, "minutes": 15, "levels": "5min, 15min", "flag": True}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_same_workbook_as_the_openpyxl_writer(tmp_path, lang):
    tables = _tables()
    new = write_workbook(tables, tmp_path / "new.xlsx", lang=lang, params=PARAMS)
    old = write_workbook_reference(tables, tmp_path / "old.xlsx", lang=lang, params=PARAMS)
    assert workbook_differences(old, new) == []


def test_the_comparison_sees_a_changed_cell(tmp_path):
    """The oracle comparison is not blind: one changed value, format or width is reported."""
    tables = _tables()
    a = write_workbook(tables, tmp_path / "a.xlsx", params=PARAMS)
    tables["communities"].loc[3, "walk_distance_m"] = 1e6 + 1
    b = write_workbook(tables, tmp_path / "b.xlsx", params=PARAMS)
    diff = workbook_differences(a, b)
    assert len(diff) == 1 and "社区!F5" in diff[0]


def test_values_formats_and_looks(tmp_path):
    path = write_workbook(_tables(), tmp_path / "w.xlsx", params=PARAMS)
    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总", "社区", "道路", "建议新增站点", "问题数据", "说明"]
    ws = wb["社区"]
    heads = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(heads)}
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:M8"
    cell = ws.cell(2, col["人口"])
    assert (cell.value, cell.number_format) == (12345, "#,##0")
    assert ws.cell(2, col["经度(WGS84)"]).number_format == "0.000000"
    assert ws.cell(3, col["纬度(WGS84)"]).value is None  # NaN: empty
    assert ws.cell(6, col["纬度(WGS84)"]).value is None  # inf: empty
    assert ws.cell(2, col["覆盖人口比例"]).number_format == "0.0%"
    assert [ws.cell(r, col["是否覆盖"]).value for r in range(2, 5)] == ["是", "否", "是"]
    assert ws.cell(2, col["最近站点类型"]).value == "爱心驿站"
    assert ws.cell(3, col["名称"]).value == "badtext"
    f = ws.cell(4, col["社区编号"])
    assert (f.value, f.data_type, f.quotePrefix) == ("=1+1", "s", True)
    assert ws.cell(7, col["备注"]).value == "=SUM(A1)" and ws.cell(7, col["备注"]).quotePrefix
    assert ws.column_dimensions["B"].width == 50  # 80 characters: capped
    assert ws.column_dimensions["A"].width == 10  # 社区编号: 8 display columns + 2
    s = wb["汇总"]
    link = s.cell(3, 4)
    assert link.value == "map.html" and link.hyperlink.target == "map.html"
    assert s.cell(2, 3).value == "精确求解:最优"
    p = wb["建议新增站点"]
    assert p.cell(2, 2).hyperlink.target.startswith("https://uri.amap.com/")
    assert p.cell(3, 2).hyperlink is None  # links stay inside the output folder
    notes = {r[0].value: r[1].value for r in wb["说明"].iter_rows() if r[0].value}
    assert notes["步行速度(公里/小时)"] == 4.0 and notes["flag"] is True


def test_streets_covered_is_a_share_not_a_flag(tmp_path):
    """streets.csv's covered_<level> is the covered share of the segment's length: a percent
    in the workbook (48.3%), never 是 for a full share and a bare number for a partial one."""
    path = write_workbook(_tables(), tmp_path / "w.xlsx", params=PARAMS)
    ws = load_workbook(path)["道路"]
    heads = [c.value for c in ws[1]]
    j = heads.index("5分钟覆盖长度比例") + 1
    cells = [ws.cell(r, j) for r in range(2, 5)]
    assert [c.value for c in cells] == [1.0, 0.4832, 0.0]
    assert {c.number_format for c in cells} == {"0.0%"}
    assert ws.cell(2, heads.index("主干道") + 1).value == "是"  # a real flag stays 是/否
    notes = [[c.value for c in r] for r in load_workbook(path)["说明"].iter_rows()]
    row = next(r for r in notes if r[0] == "道路" and r[2] == "covered_5min")
    assert row[1] == "5分钟覆盖长度比例" and row[3] == "比例(0-1)"
    row = next(r for r in notes if r[0] == "社区" and r[2] == "covered_5min")
    assert row[1] == "5分钟覆盖" and row[3] is None  # no unit


def test_large_sheet_round_trip(tmp_path):
    """4,000 rows (the Helsinki street sheet's size): every value back as written."""
    rng = np.random.default_rng(0)
    n = 4000
    df = pd.DataFrame(
        {
            "edge_id": np.arange(n),
            "name": rng.choice(["甲街", "Mannerheimintie", "=x"], n),
            "length_m": rng.random(n) * 500,
            "covered_5min": rng.random(n).round(4),
            "main_road": rng.random(n) < 0.2,
        }
    )
    path = write_workbook({"streets": df}, tmp_path / "s.xlsx", notes=False)
    ws = load_workbook(path)["道路"]
    got = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(got) == n
    for rec, row in zip(df.itertuples(index=False), got, strict=True):
        assert row[0] == rec.edge_id and row[1] == rec.name
        assert math.isclose(row[2], rec.length_m, rel_tol=1e-15)
        assert row[3] == rec.covered_5min
        assert row[4] == ("是" if rec.main_road else "否")


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="=+-@\t\rab中 '", max_size=4),
            st.integers(-5, 5),
            st.floats(allow_nan=True),
        ),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=150, deadline=None)
def test_safe_frame_equals_per_cell_safe_text(values):
    """The CSV writer's column-wise formula guard equals the per-cell rule on mixed columns,
    text columns and pandas string columns."""
    from geo.io._write import safe_frame, safe_text

    texts = [v for v in values if isinstance(v, str) or v is None]
    frames = [pd.DataFrame({"mixed": pd.Series(values, dtype=object)})]
    if texts:
        frames.append(pd.DataFrame({"text": texts}))
        frames.append(pd.DataFrame({"string": pd.array(texts, dtype="string")}))
    for df in frames:
        got = safe_frame(df)
        for c in df:
            want = [safe_text(v) for v in df[c].tolist()]
            assert [None if v is pd.NA else v for v in got[c].tolist()] == [
                None if v is pd.NA else v for v in want
            ] or got[c].equals(df[c].map(safe_text))


def test_nullable_and_odd_values(tmp_path):
    """pandas' NA and nullable dtypes give empty cells; values Excel has no type for are text."""
    df = pd.DataFrame(
        {
            "population": pd.array([1200, None], dtype="Int64"),
            "covered": pd.array([True, None], dtype="boolean"),
            "name": pd.array(["甲", None], dtype="string"),
            "备注": [[1, 2], {"k": "=v"}],
        }
    )
    ws = load_workbook(write_workbook({"communities": df}, tmp_path / "n.xlsx", notes=False))[
        "社区"
    ]
    assert list(ws.iter_rows(min_row=2, values_only=True)) == [
        (1200, "是", "甲", "[1, 2]"),
        (None, None, None, "{'k': '=v'}"),
    ]
    assert ws.cell(2, 1).number_format == "#,##0"
