"""Write a coverage run's files: per-community CSV, rejects, JSON summary, isochrones, map."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .coverage import CoverageResult
from .io import REJECT_COLUMNS, atomic_path, write_csv, write_json

logger = logging.getLogger(__name__)

COMMUNITY_COLUMNS = [
    "community_id", "name", "population", "county", "lon", "lat", "nearest_site_id",
    "nearest_site_name", "nearest_site_kind", "snap_distance_m", "walk_distance_m",
    "walk_time_min", "covered", "off_network", "sites_within_reach",
]  # fmt: skip


def community_table(res: CoverageResult) -> pd.DataFrame:
    """The per-community table, contract columns first, then every level's flag."""
    c = res.communities.copy()
    if "lon" not in c or c["lon"].isna().all():
        pts = c.geometry.representative_point()
        c["lon"], c["lat"] = pts.x, pts.y
    cols = [k for k in COMMUNITY_COLUMNS if k in c.columns]
    levels = [k for k in c.columns if k.startswith("covered_")]
    out = pd.DataFrame(c[cols + levels])
    for k in ("snap_distance_m", "walk_distance_m"):
        out[k] = out[k].round(1)
    out["walk_time_min"] = out["walk_time_min"].round(2)
    return out


def site_table(res: CoverageResult) -> pd.DataFrame:
    s = pd.DataFrame(res.sites.drop(columns="geometry"))
    s["snap_distance_m"] = s["snap_distance_m"].round(1)
    return s


def write_coverage_outputs(
    res: CoverageResult,
    out: str | Path,
    *,
    rejects: pd.DataFrame | None = None,
    inputs: dict[str, Any] | None = None,
    map_kwargs: dict[str, Any] | None = None,
    write_map: bool = True,
    extra_summary: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``communities.csv``, ``sites.csv``, ``rejects.csv``, ``isochrones.geojson``,
    ``summary.json`` and ``map.html`` under ``out`` (each atomically)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "communities": write_csv(community_table(res), out / "communities.csv"),
        "sites": write_csv(site_table(res), out / "sites.csv"),
        "rejects": write_csv(rejects if rejects is not None else
                             pd.DataFrame(columns=REJECT_COLUMNS), out / "rejects.csv"),
    }
    iso = res.isochrones()
    if len(iso):
        with atomic_path(out / "isochrones.geojson") as tmp:
            gpd.GeoDataFrame(iso).to_file(tmp, driver="GeoJSON")
        paths["isochrones"] = out / "isochrones.geojson"
    summary = dict(res.summary)
    summary["rejected_rows"] = 0 if rejects is None else len(rejects)
    if rejects is not None and len(rejects):
        summary["rejects_by_reason"] = rejects["reason"].value_counts().to_dict()
    summary["config"] = {k: (str(v) if isinstance(v, Path) else v)
                         for k, v in dataclasses.asdict(res.config).items()}
    if inputs:
        summary["inputs"] = {k: str(v) for k, v in inputs.items()}
    if extra_summary:
        summary.update(extra_summary)
    if write_map:
        from .maps import make_map, save_map

        kw = dict(map_kwargs or {})
        offline = kw.pop("offline", True)
        m = make_map(res, isochrones=iso, offline=offline, **kw)
        info = save_map(m, out / "map.html", offline=offline)
        paths["map"] = out / "map.html"
        summary["map"] = {"file": "map.html", "size_bytes": info["size_bytes"],
                          "offline": offline}
    paths["summary"] = write_json(summary, out / "summary.json")
    return paths
