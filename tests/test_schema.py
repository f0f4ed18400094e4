"""The column registry (geo.schema): one entry per column reaches every output, and a new
metric is one function plus one registry entry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import grid_network

from geo import schema
from geo.cli import main
from geo.network import save_graphml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A small CLI run's inputs: a grid network, sites and communities with extra columns."""
    d = tmp_path_factory.mktemp("schema_in")
    net = grid_network(10, 100.0, seed=4)
    save_graphml(net, d / "net.graphml")
    rng = np.random.default_rng(4)
    pd.DataFrame(
        {
            "site_id": ["A", "B"],
            "name": ["甲站", "乙站"],
            "kind": ["station", "integrated"],
            "lon": net.lon[[11, 77]],
            "lat": net.lat[[11, 77]],
            "负责人": ["张三", "李四"],
        }
    ).to_csv(d / "sites.csv", index=False, encoding="utf-8-sig")
    idx = rng.choice(len(net.lon), 30)
    pd.DataFrame(
        {
            "community_id": [f"C{i}" for i in range(30)],
            "name": [f"社区{i}" for i in range(30)],
            "population": rng.integers(100, 5000, 30),
            "lon": net.lon[idx],
            "lat": net.lat[idx],
            "街道": ["花桥街道"] * 15 + ["二七街道"] * 15,
            "备注": ["bad\x07text"] + [""] * 29,
        }
    ).to_csv(d / "communities.csv", index=False, encoding="utf-8-sig")
    return d


def _coverage(inputs, out, *extra):
    d = inputs
    argv = ["coverage", "--network", str(d / "net.graphml"), "--sites", str(d / "sites.csv"),
            "--communities", str(d / "communities.csv"), "--minutes", "5", "--out", str(out),
            "--no-cache", *extra]  # fmt: skip
    assert main(argv) == 0


@pytest.fixture
def toy_metric():
    """A toy metric, registered with one decorator and nothing else."""

    @schema.metric(
        column="toy_walk_share",
        dtype="float",
        unit="share",
        fmt="percent",
        zh="玩具指标",
        en="Toy metric",
        doc="walk distance as a share of the coverage limit",
        needs=("walk_distance_m",),
    )
    def toy_walk_share(communities, config):
        return (communities["walk_distance_m"] / config.limit_m).rename("toy_walk_share")

    @schema.metric(
        column="toy_people_total",
        dtype="float",
        unit="people",
        fmt="thousands",
        zh="玩具汇总",
        en="Toy total",
        doc="total population (county summary)",
        table="summary",
        needs=("population",),
    )
    def toy_people_total(communities, config):
        return float(communities["population"].sum())

    yield
    schema.unregister("toy_walk_share")
    schema.unregister("toy_people_total")


def test_toy_metric_reaches_csv_xlsx_and_popup(inputs, tmp_path, toy_metric, capsys):
    from openpyxl import load_workbook

    _coverage(inputs, tmp_path)
    console = capsys.readouterr().out
    assert "玩具汇总: " in console and "5分钟" in console  # summary metric, levels in minutes
    c = pd.read_csv(tmp_path / "communities.csv", encoding="utf-8-sig")
    assert "toy_walk_share" in c
    expect = c["walk_distance_m"] / 333.333
    assert np.allclose(c["toy_walk_share"], expect, rtol=1e-3, equal_nan=True)
    # input columns the tool does not know pass through unchanged
    assert c["街道"].tolist() == ["花桥街道"] * 15 + ["二七街道"] * 15
    s = pd.read_csv(tmp_path / "sites.csv", encoding="utf-8-sig")
    assert s["负责人"].tolist() == ["张三", "李四"]

    wb = load_workbook(tmp_path / "coverage.xlsx")
    ws = wb["社区"]
    heads = [c.value for c in ws[1]]
    j = heads.index("玩具指标") + 1
    assert ws.cell(2, j).number_format == "0.0%"
    assert "街道" in heads
    summ = wb["汇总"]
    assert "玩具汇总" in [c.value for c in summ[1]]
    notes = [[c.value for c in r] for r in wb["说明"].iter_rows()]
    assert any(r[2] == "toy_walk_share" and r[4].startswith("walk distance") for r in notes)

    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    escaped = json.dumps("玩具指标")[1:-1]  # the popup data travels as JSON
    assert "玩具指标" in html or escaped in html


def test_popup_rows_format_values_with_units():
    rows = dict(
        schema.popup_rows(
            {"name": "社区1", "population": 12345.0, "walk_distance_m": 812.4, "covered": True}
        )
    )
    assert rows["名称"] == "社区1"
    assert rows["人口"] == "12,345"
    assert rows["步行距离(米)"] == "812 米"
    assert rows["是否覆盖"] == "是"


def test_level_patterns_expand_from_config():
    from geo.config import Config

    cfg = Config(minutes=20, thresholds_min=(5, 10))
    cols = schema.table_columns("summary", cfg.levels)
    assert "population_covered_20min_share" in cols
    col = schema.column("population_covered_20min_share")
    assert col.zh == "20分钟人口覆盖率" and col.fmt == "percent" and col.unit == "share"
    assert schema.header("covered_1000m", "en") == "Covered within 1000 m"


def test_every_output_column_is_registered_with_zh_header_and_unit(inputs, tmp_path):
    _coverage(inputs, tmp_path)
    inputs_cols = {"街道", "备注", "负责人"}
    for p in tmp_path.glob("*.csv"):
        cols = pd.read_csv(p, nrows=0, encoding="utf-8-sig").columns
        missing = [c for c in cols if schema.column(c) is None and c not in inputs_cols]
        assert not missing, f"{p.name}: unregistered columns {missing}"
    for col, _ in schema.entries():  # per-table meanings too
        assert col.zh and re.search(r"[\u4e00-\u9fff]", col.zh + col.doc + "中"), col.name
        assert col.unit in schema.UNITS and col.fmt in schema.FORMATS


def test_xlsx_is_meeting_ready(inputs, tmp_path):
    from openpyxl import load_workbook

    _coverage(inputs, tmp_path)
    wb = load_workbook(tmp_path / "coverage.xlsx")
    assert wb.sheetnames[-1] == "说明"
    ws = wb["社区"]
    heads = [c.value for c in ws[1]]
    assert heads[:3] == ["社区编号", "名称", "人口"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    pop = ws.cell(2, heads.index("人口") + 1)
    assert pop.number_format == "#,##0"
    walk = ws.cell(2, heads.index("步行距离(米)") + 1)
    assert walk.number_format == "#,##0"
    lon = ws.cell(2, heads.index("经度(WGS84)") + 1)
    assert lon.number_format == "0.000000"
    cov = {ws.cell(r, heads.index("是否覆盖") + 1).value for r in range(2, ws.max_row + 1)}
    assert cov <= {"是", "否"}
    assert ws.column_dimensions["A"].width >= 8  # 社区编号 is 8 display columns
    # the control character was cleaned, the rest of the text kept
    note = ws.cell(2, heads.index("备注") + 1).value
    assert note == "badtext"
    summ = wb["汇总"]
    sh = [c.value for c in summ[1]]
    share = summ.cell(2, sh.index("5分钟人口覆盖率") + 1)
    assert share.number_format == "0.0%" and 0 <= share.value <= 1
    link = summ.cell(2, sh.index("地图") + 1)
    assert link.hyperlink is not None and link.hyperlink.target == "map.html"
    params = {r[0].value: r[1].value for r in wb["说明"].iter_rows() if r[0].value}
    assert params["步行速度(公里/小时)"] == 4.0 and "工具版本" in params
    assert params["步行时间(分钟)"] == 5


def test_xlsx_english(inputs, tmp_path):
    from openpyxl import load_workbook

    _coverage(inputs, tmp_path, "--lang", "en")
    wb = load_workbook(tmp_path / "coverage.xlsx")
    assert "Communities" in wb.sheetnames and "Notes" in wb.sheetnames
    heads = [c.value for c in wb["Communities"][1]]
    assert "Walk distance (m)" in heads


def test_readme_outputs_table_matches_registry():
    """The README's column reference is the registry's table (regenerate it with
    scripts/readme_columns.py), and every column the README names is registered."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from readme_columns import render

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render(text) == text, "README column reference is stale: run scripts/readme_columns.py"
    named = set(re.findall(r"`([a-z][a-z0-9_]*_(?:m|min|share|km|id|name|kind))`", text))
    unknown = sorted(n for n in named if schema.column(n) is None)
    assert not unknown, f"README names columns the registry does not know: {unknown}"


def test_gaps_writes_gaps_xlsx_with_links(inputs, tmp_path):
    from openpyxl import load_workbook

    d = inputs
    argv = ["gaps", "--network", str(d / "net.graphml"), "--sites", str(d / "sites.csv"),
            "--communities", str(d / "communities.csv"), "--minutes", "5", "--new-sites", "2",
            "--out", str(tmp_path), "--no-cache", "--no-map"]  # fmt: skip
    assert main(argv) == 0
    wb = load_workbook(tmp_path / "gaps.xlsx")
    assert {"汇总", "建议新增站点", "边际收益", "社区", "说明"} <= set(wb.sheetnames)
    ws = wb["建议新增站点"]
    heads = [c.value for c in ws[1]]
    assert heads[:2] == ["优先级", "建议编号"]
    url = ws.cell(2, heads.index("高德地图链接") + 1)
    assert url.hyperlink is not None and url.hyperlink.target.startswith("https://")
    gain = ws.cell(2, heads.index("新增覆盖人口") + 1)
    assert gain.number_format == "#,##0"
    mg = wb["边际收益"]
    mh = [c.value for c in mg[1]]
    assert mg.cell(2, mh.index("覆盖人口比例") + 1).number_format == "0.0%"
    src = {ws.cell(r, heads.index("来源") + 1).value for r in range(2, ws.max_row + 1)}
    assert src <= {"用户候选点", "路网生成", "社区位置"}, src


def test_coerce_uses_registry_types():
    df = pd.DataFrame(
        {
            "population": ["12", "x"],
            "covered": ["True", "False"],
            "name": ["a", None],
            "街道": [1, 2],
        }
    )
    out = schema.coerce(df)
    assert out["population"].tolist()[0] == 12.0 and np.isnan(out["population"].tolist()[1])
    assert out["covered"].dtype == bool and out["covered"].tolist() == [True, False]
    assert out["name"].tolist() == ["a", ""]
    assert out["街道"].tolist() == [1, 2]


def test_toy_metric_in_both_map_popups(toy_metric):
    """The popup definition of the communities layer (and of the scenario editor's markers)
    carries the registered metric with its formatted value."""
    import geopandas as gpd
    import shapely

    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import make_map
    from geo.maps._scenario import scenario_payload
    from geo.outputs import with_metrics

    net = grid_network(8, 100.0, seed=2)
    sites = gpd.GeoDataFrame(
        {"site_id": ["A"], "kind": ["station"]},
        geometry=shapely.points(net.lon[[10]], net.lat[[10]]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {"name": ["甲", "乙"], "population": [100, 200]},
        geometry=shapely.points(net.lon[[20, 40]], net.lat[[20, 40]]),
        crs=4326,
    )
    res = with_metrics(compute_coverage(net, sites, comms, config=Config(minutes=5)))
    expect = [f"{100 * d / res.config.limit_m:.1f}%" for d in res.communities["walk_distance_m"]]
    m = make_map(res, scenario=False)
    layer = next(
        json.loads(t) for t in m._sc_payload["layers"] if json.loads(t)["id"] == "communities"
    )
    key = next(k for k, lab in layer["fields"] if lab == "玩具指标")
    assert [f["properties"][key] for f in layer["data"]["features"]] == expect
    extra = scenario_payload(res, lang="zh")["communities"]["extra"]
    assert extra == [{"label": "玩具指标", "values": expect}]
