"""Province/county reports: summary.csv, audit.xlsx (one sheet per table), layers.gpkg and
summary.json, gathered from the per-county folders."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..io import atomic_path, safe_frame, write_csv, write_json

logger = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    "county", "code", "status", "error", "sites", "sites_station", "sites_integrated",
    "sites_cultural_palace", "sites_partner", "integrated_target", "integrated_shortfall",
    "has_cultural_palace", "communities", "communities_covered_5min",
    "communities_covered_10min", "communities_covered_15min", "population",
    "population_covered_5min", "population_covered_10min", "population_covered_15min",
    "population_covered_5min_share", "population_covered_10min_share",
    "population_covered_15min_share", "uncovered_communities", "off_network_communities",
    "proposed_sites", "population_covered_after", "integrated_sites_for_count_only",
    "new_sites_total", "built_up_share_15min", "palace_proposal_lon", "palace_proposal_lat", "targets_met", "map",
    "seconds",
]  # fmt: skip

ZH_HEADERS = {
    "county": "区县", "code": "区划代码", "status": "状态", "error": "错误", "sites": "站点数",
    "sites_station": "爱心驿站", "sites_integrated": "会站家", "sites_cultural_palace":
    "工人文化宫", "sites_partner": "融合共建点", "integrated_target": "会站家目标",
    "integrated_shortfall": "会站家缺口", "has_cultural_palace": "是否有工人文化宫",
    "communities": "社区数", "communities_covered_5min": "5分钟覆盖社区",
    "communities_covered_10min": "10分钟覆盖社区", "communities_covered_15min": "15分钟覆盖社区",
    "population": "人口", "population_covered_5min": "5分钟覆盖人口",
    "population_covered_10min": "10分钟覆盖人口", "population_covered_15min": "15分钟覆盖人口",
    "population_covered_5min_share": "5分钟人口覆盖率",
    "population_covered_10min_share": "10分钟人口覆盖率",
    "population_covered_15min_share": "15分钟人口覆盖率", "uncovered_communities": "未覆盖社区",
    "off_network_communities": "远离道路社区", "proposed_sites": "建议新增站点",
    "population_covered_after": "新增后覆盖人口",
    "integrated_sites_for_count_only": "仅为数量目标需新增会站家", "new_sites_total": "新增站点合计",
    "palace_proposal_lon": "建议文化宫经度", "palace_proposal_lat": "建议文化宫纬度",
    "targets_met": "是否达标", "built_up_share_15min": "15分钟可达建成区比例", "map": "地图", "seconds": "用时(秒)",
    "community_id": "社区编号", "name": "名称", "lon": "经度", "lat": "纬度",
    "nearest_site_id": "最近站点编号", "nearest_site_name": "最近站点", "nearest_site_kind":
    "最近站点类型", "snap_distance_m": "距道路(米)", "walk_distance_m": "步行距离(米)",
    "walk_time_min": "步行时间(分钟)", "covered": "是否覆盖", "off_network": "远离道路",
    "sites_within_reach": "可达站点数", "rank": "优先级", "candidate_id": "候选点编号",
    "source": "来源", "newly_covered_population": "新增覆盖人口",
    "newly_covered_communities": "新增覆盖社区", "covered_population_after": "累计覆盖人口",
    "new_sites": "新增站点数", "covered_population": "覆盖人口", "covered_share": "覆盖率",
    "added_population": "边际新增人口", "method": "求解方法", "weighted_distance_saved":
    "减少的加权距离", "file": "文件", "row": "行号", "column": "列", "value": "值",
    "reason": "原因", "fix": "修改建议", "id": "编号", "kind": "类型",
}  # fmt: skip
from ..coverage.views import DEMAND_ZH  # noqa: E402  (issue 15 columns)

ZH_HEADERS.update({k: v for k, v in DEMAND_ZH.items() if k not in ZH_HEADERS})
from ..io._vocab import PLANNER_ZH, zh_values  # noqa: E402  (issue 10 columns and values)

ZH_HEADERS.update(PLANNER_ZH)
SHEETS = {
    "summary": ("汇总", "Summary"),
    "uncovered": ("未覆盖社区", "Uncovered"),
    "proposed_sites": ("建议新增站点", "Proposed sites"),
    "palace_proposal": ("文化宫建议", "Palace proposals"),
    "marginal_gain": ("边际收益", "Marginal gain"),
    "communities": ("社区", "Communities"),
    "uncovered_main_roads": ("未覆盖主干道", "Uncovered main roads"),
    "workplaces": ("工作地", "Workplaces"),
    "rejects": ("问题数据", "Rejects"),
}


def _gather(out: Path, name: str, counties: list[str]) -> pd.DataFrame:
    frames = []
    for c in counties:
        p = out / "counties" / c / f"{name}.csv"
        if p.exists():
            frames.append(pd.read_csv(p, encoding="utf-8-sig", dtype={"code": str}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in SUMMARY_COLUMNS:
        if c not in df:
            df[c] = None
    extra = [c for c in df.columns if c not in SUMMARY_COLUMNS]
    return df[SUMMARY_COLUMNS + extra]


def write_excel(tables: dict[str, pd.DataFrame], path: Path, lang: str) -> Path:
    """One sheet per table; Chinese headers unless ``lang='en'``; formulas never run."""
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for key, df in tables.items():
                sheet = SHEETS.get(key, (key, key))[0 if lang == "zh" else 1]
                frame = zh_values(df).rename(columns=ZH_HEADERS) if lang == "zh" else df
                frame.to_excel(xw, sheet_name=sheet[:31], index=False)
                ws = xw.sheets[sheet[:31]]
                for col in ws.iter_cols():
                    for cell in col:
                        if cell.data_type == "f":  # text that looks like a formula stays text
                            cell.data_type = "s"
                            cell.quotePrefix = True
                    width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
                    ws.column_dimensions[col[0].column_letter].width = min(40, width + 2)
                ws.freeze_panes = "B2"
    return path


def write_reports(
    out: Path,
    rows: list[dict],
    boundaries: gpd.GeoDataFrame,
    rejects: pd.DataFrame,
    outside: pd.DataFrame,
    meta: dict,
    lang: str,
) -> dict:
    """Write the combined reports from the counties that succeeded.

    Failed counties are listed (summary table, ``counties_failed``) but their files never enter
    the combined tables. Each report file is written on its own: one that fails (an illegal
    character, a full disk) is logged and listed in ``reports_failed``, and the others are
    still written.
    """
    from .._safety import console, folder_name

    out = Path(out)
    summary = summary_frame(rows)
    failed_writers: list[dict] = []

    def attempt(name: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:
            logger.error("could not write %s: %s", name, console(exc))
            failed_writers.append({"file": name, "error": f"{type(exc).__name__}: {exc}"})

    attempt("summary.csv", write_csv, summary, out / "summary.csv")
    ok_rows = [r for r in rows if r.get("status") == "ok"]
    names = [r.get("folder") or folder_name(r["county"], r.get("code", "")) for r in ok_rows]
    tables = {"summary": summary}
    for key in ("uncovered", "proposed_sites", "palace_proposal", "marginal_gain", "communities",
                "uncovered_main_roads", "workplaces"):  # fmt: skip
        try:
            tables[key] = _gather(out, key, names)
        except Exception as exc:
            failed_writers.append({"file": f"{key}.csv", "error": f"{type(exc).__name__}: {exc}"})
            tables[key] = pd.DataFrame()
        if len(tables[key]):
            attempt(f"{key}.csv", write_csv, tables[key], out / f"{key}.csv")
    if len(rejects):
        tables["rejects"] = rejects
    attempt(
        "audit.xlsx",
        write_excel,
        {k: safe_frame(v) if k == "rejects" else v for k, v in tables.items()},
        out / "audit.xlsx",
        lang,
    )
    attempt("rejects.csv", write_csv, rejects, out / "rejects.csv")
    attempt("layers.gpkg", _write_gpkg, out, names, boundaries, tables)
    ok = summary[summary["status"] == "ok"]
    doc = {
        **meta,
        "counties": len(summary),
        "counties_ok": len(ok),
        "counties_failed": summary.loc[summary["status"] != "ok", ["county", "error"]].to_dict(
            "records"
        ),
        "targets_missed": ok.loc[~ok["targets_met"].astype(bool), "county"].tolist(),
        "sites_outside_counties": outside.to_dict("records"),
        "rows": summary.to_dict("records"),
    }
    doc["reports_failed"] = failed_writers
    attempt("summary.json", write_json, doc, out / "summary.json")
    doc["reports_failed"] = failed_writers
    return doc


def _write_gpkg(out: Path, names, boundaries, tables) -> None:
    layers = {"boundaries": boundaries[["county", "code", "geometry"]]}

    def pts(df):
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)

    for key in ("communities", "proposed_sites", "palace_proposal"):
        if len(tables.get(key, [])):
            layers[key] = pts(tables[key])
    sites = _gather(out, "sites", names)
    if len(sites) and "lon" in sites:
        sites = sites.drop_duplicates("site_id") if "site_id" in sites else sites
        layers["sites"] = pts(sites)
    iso = [
        gpd.read_file(p)
        for n in names
        if (p := out / "counties" / n / "isochrones.geojson").exists()
    ]
    if iso:
        layers["isochrones_15min"] = gpd.GeoDataFrame(pd.concat(iso, ignore_index=True), crs=4326)
    with atomic_path(out / "layers.gpkg") as tmp:
        tmp.unlink()
        for name, gdf in layers.items():
            g = gdf.copy()
            for c in g.columns:
                if c != "geometry" and g[c].dtype == object:
                    g[c] = g[c].astype(str)
            g.to_file(tmp, layer=name, driver="GPKG")
