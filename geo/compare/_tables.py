"""The comparison's tables, from per-community and per-site frames: changed communities,
the county table (compare.csv), target progress and site changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..network import haversine_m

#: Contract columns of compare.csv, in order.
COMPARE_COLUMNS = [
    "county",
    "population_covered_15min_before",
    "population_covered_15min_after",
    "delta",
    "sites_integrated_before",
    "sites_integrated_after",
]
INTEGRATED_TARGET = 10
OUTPUT_FILES = (
    "compare.csv",
    "compare.xlsx",
    "communities_changed.csv",
    "site_changes.csv",
    "target_progress.csv",
    "compare_map.html",
)
#: A site is "moved" when the same site (id, else kind and name) is more than this far away.
MOVED_M = 5.0
ALL = "全部"

CHANGE_ZH = {
    "gained": "新覆盖",
    "lost": "失去覆盖",
    "added": "新增",
    "moved": "移动",
    "closed": "关闭",
}
SHEETS_EN = {
    "counties": "Counties",
    "progress": "Target progress",
    "communities": "Communities changed",
    "sites": "Site changes",
}
SHEETS = {
    "counties": "区县对比",
    "progress": "目标进展",
    "communities": "社区变化",
    "sites": "站点变化",
}


def _arrow(before: float, after: float) -> str:
    if not (np.isfinite(before) and np.isfinite(after)) or abs(after - before) < 1e-9:
        return "→"
    return "↑" if after > before else "↓"


def main_level_of(cfg_levels: list[str], main: str) -> str:
    """The level compared: 15 minutes when the run has it, else the run's main level."""
    return "15min" if "15min" in cfg_levels else main


def community_changes(b: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    """b and a: community_id, county, name, population, lon, lat, walk_distance_m, covered."""
    keys = ["county", "community_id"]
    j = b.merge(
        a[[*keys, "walk_distance_m", "covered"]],
        on=keys,
        how="outer",
        suffixes=("_before", "_after"),
    )
    for col in ("covered_before", "covered_after"):
        j[col] = j[col].astype("boolean").fillna(False).astype(bool)
    j["change"] = np.where(
        ~j["covered_before"] & j["covered_after"],
        "gained",
        np.where(j["covered_before"] & ~j["covered_after"], "lost", ""),
    )
    for col in ("walk_distance_m_before", "walk_distance_m_after"):
        j[col] = pd.to_numeric(j[col], errors="coerce").round(1)
    return j


def county_table(allc: pd.DataFrame, sites_b: pd.DataFrame, sites_a: pd.DataFrame) -> pd.DataFrame:
    rows = []
    counties = sorted(set(allc["county"].astype(str)))
    for c in counties:
        sub = allc[allc["county"].astype(str) == c]
        pop = sub["population"].to_numpy(float)
        pb = float(pop[sub["covered_before"].to_numpy(bool)].sum())
        pa = float(pop[sub["covered_after"].to_numpy(bool)].sum())
        total = float(pop.sum())

        def count(s: pd.DataFrame, kind: str, c=c) -> int:
            if not len(s):
                return 0
            return int(((s["county"].astype(str) == c) & (s["kind"].astype(str) == kind)).sum())

        rows.append(
            {
                "county": c,
                "population_covered_15min_before": pb,
                "population_covered_15min_after": pa,
                "delta": pa - pb,
                "sites_integrated_before": count(sites_b, "integrated"),
                "sites_integrated_after": count(sites_a, "integrated"),
                "population": total,
                "coverage_share_before": round(pb / total, 4) if total else 0.0,
                "coverage_share_after": round(pa / total, 4) if total else 0.0,
                "communities_gained": int((sub["change"] == "gained").sum()),
                "communities_lost": int((sub["change"] == "lost").sum()),
                "palace_before": count(sites_b, "cultural_palace") > 0,
                "palace_after": count(sites_a, "cultural_palace") > 0,
            }
        )
    return pd.DataFrame(rows, columns=[*COMPARE_COLUMNS, "population", "coverage_share_before",
                                       "coverage_share_after", "communities_gained",
                                       "communities_lost", "palace_before", "palace_after"])  # fmt: skip


def progress_table(counties: pd.DataFrame, target: int = INTEGRATED_TARGET) -> pd.DataFrame:
    yn = {True: "有", False: "无"}
    rows = []
    for r in counties.itertuples():
        ib, ia = r.sites_integrated_before, r.sites_integrated_after
        rows.append(
            {
                "county": r.county,
                "integrated_progress": f"{ib} → {ia} / {target}",
                "integrated_trend": _arrow(ib, ia)
                + (" 达标" if ia >= target else f" 缺{target - ia}"),
                "palace_progress": f"{yn[bool(r.palace_before)]} → {yn[bool(r.palace_after)]}",
                "coverage_progress": f"{100 * r.coverage_share_before:.1f}% → {100 * r.coverage_share_after:.1f}%",
                "coverage_trend": _arrow(r.coverage_share_before, r.coverage_share_after)
                + f" {100 * (r.coverage_share_after - r.coverage_share_before):+.1f}",
            }
        )
    return pd.DataFrame(rows)


def _site_key(s: pd.DataFrame, use_id: bool) -> pd.Series:
    if use_id:
        return s["site_id"].astype(str)
    return s["kind"].astype(str) + "\x1f" + s["name"].astype(str)


def site_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Sites added, moved (> MOVED_M) or closed; frames with kind, name, lon, lat (WGS84)."""
    use_id = (
        "site_id" in before and "site_id" in after and
        len(set(before["site_id"].astype(str)) & set(after["site_id"].astype(str))) > 0
    )  # fmt: skip
    b, a = before.copy(), after.copy()
    b["_k"], a["_k"] = _site_key(b, use_id), _site_key(a, use_id)
    b["_n"], a["_n"] = b.groupby("_k").cumcount(), a.groupby("_k").cumcount()
    cols = ["_k", "_n", "kind", "name", "lon", "lat", "county"] + (["site_id"] if use_id else [])
    for f in (b, a):
        if "county" not in f:
            f["county"] = ALL
    j = b[cols].merge(
        a[cols], on=["_k", "_n"], how="outer", suffixes=("_before", "_after"), indicator=True
    )
    moved = haversine_m(j["lon_before"], j["lat_before"], j["lon_after"], j["lat_after"])
    change = np.select(
        [j["_merge"] == "right_only", j["_merge"] == "left_only", moved > MOVED_M],
        ["added", "closed", "moved"],
        "",
    )
    out = pd.DataFrame(
        {
            "change": change,
            "county": j["county_after"].fillna(j["county_before"]),
            "site_id": j["site_id_after"].fillna(j["site_id_before"]) if use_id else "",
            "kind": j["kind_after"].fillna(j["kind_before"]),
            "name": j["name_after"].fillna(j["name_before"]),
            "lon_before": j["lon_before"].round(6),
            "lat_before": j["lat_before"].round(6),
            "lon_after": j["lon_after"].round(6),
            "lat_after": j["lat_after"].round(6),
            "moved_m": np.where(change == "moved", np.round(moved, 1), np.nan),
        }
    )
    return out[out["change"] != ""].reset_index(drop=True)
