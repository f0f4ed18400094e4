"""Audit one county: coverage at 5/10/15 minutes, plan targets, gap sites, a cultural-palace
location, and the county's own output folder. Runs in a worker process; everything it needs
travels in a picklable :class:`CountyTask`."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._safety import console, folder_name, inside
from ..config import Config
from ..io import write_csv, write_json

logger = logging.getLogger(__name__)

KINDS = ("station", "integrated", "cultural_palace", "partner")


@dataclass(frozen=True)
class CountyTask:
    """Everything one county's audit needs (small enough to send to a Dask worker)."""

    county: str
    code: str
    boundary: Any  # shapely geometry, WGS84
    network: str  # path of this county's clipped network (.npz), or "online"
    sites: gpd.GeoDataFrame  # sites within reach of the county (inside + buffer)
    communities: gpd.GeoDataFrame  # communities inside the county
    config: Config
    out_dir: str
    lang: str = "zh"
    integrated_target: int = 10
    coverage_target: float | None = None
    time_limit: float = 60.0
    write_map: bool = True
    new_sites: int | None = None  # MCLP with this many sites instead of LSCP
    workplaces: gpd.GeoDataFrame | None = None  # workplaces inside the county (issue 15)
    demand: dict[str, Any] | None = None  # demand_views options (community_coverage, decay)
    scenario: bool | None = None  # what-if editor in the map (None: within the size budget)
    input_crs: Any = None  # coordinates of the input files, for the editor's CSV export
    folder: str = ""  # the county's folder under out_dir/counties (from geo._safety)
    input_key: str = ""  # hash of everything the result depends on (reuse only on a match)


def slug(county: str, code: str) -> str:
    """The county's folder name from cleaned parts (see :func:`geo._safety.folder_name`)."""
    return folder_name(county, code)


def _clear(folder: Path) -> None:
    """Remove a previous run's files so that a failure never leaves stale tables behind."""
    for f in folder.iterdir() if folder.is_dir() else []:
        if f.is_file() or f.is_symlink():
            f.unlink()


def audit_county(task: CountyTask) -> dict[str, Any]:
    """Run one county; never raises: errors come back in the row's ``error`` field."""
    t0 = time.perf_counter()
    name = task.folder or folder_name(task.county, task.code)
    base = {"county": task.county, "code": task.code, "folder": name}
    try:
        folder = inside(task.out_dir, "counties", name)
        _clear(folder)
        folder.mkdir(parents=True, exist_ok=True)
    except Exception as exc:
        return {**base, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    try:
        row = _audit(task, folder)
        row.update(base, status="ok", error="")
    except Exception as exc:  # one failing county must not stop the others
        logger.error("county %s failed: %s", console(task.county), console(exc))
        row = {**base, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
        try:
            (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        except OSError:
            pass
    row["seconds"] = round(time.perf_counter() - t0, 2)
    row["input_key"] = task.input_key
    try:
        write_json(row, folder / "result.json")
    except OSError as exc:  # a full or read-only disk: the county fails, the run goes on
        if row.get("status") == "ok":
            row.update(status="error", error=f"cannot write result.json: {exc}")
    return row


def _audit(task: CountyTask, folder: Path) -> dict[str, Any]:
    from ..coverage import compute_coverage
    from ..network import Network, build_network
    from ..optimize import count_target, propose_sites

    cfg = task.config
    lap = _Stages()
    net = (
        build_network(task.boundary, config=cfg)
        if task.network == "online"
        else Network.load_npz(task.network)
    )
    lap("load")
    if not len(task.communities):
        raise ValueError(
            "no communities inside this county; check the communities file and the boundary"
        )
    res = compute_coverage(net, task.sites, task.communities, config=cfg)
    from ..coverage.views import county_row, demand_views

    res, views = demand_views(
        res, workplaces=task.workplaces, area=task.boundary, **(task.demand or {})
    )
    inside = (
        task.sites["county"].to_numpy() == task.county if len(task.sites) else np.zeros(0, bool)
    )
    kinds = task.sites.loc[inside, "kind"].astype(str) if len(task.sites) else pd.Series([])
    counts = {k: int((kinds == k).sum()) for k in KINDS}
    c = res.communities
    pop = c["population"].to_numpy(float)
    row: dict[str, Any] = {"county": task.county, "code": task.code, "sites": int(inside.sum())}
    for k in KINDS:
        row[f"sites_{k}"] = counts[k]
    row["integrated_target"] = task.integrated_target
    row["integrated_shortfall"] = max(0, task.integrated_target - counts["integrated"])
    row["has_cultural_palace"] = counts["cultural_palace"] > 0
    row["communities"] = len(c)
    row["population"] = float(pop.sum())
    for level in cfg.levels:
        cov = c[f"covered_{level}"].to_numpy(bool)
        row[f"communities_covered_{level}"] = int(cov.sum())
        row[f"population_covered_{level}"] = float(pop[cov].sum())
        row[f"population_covered_{level}_share"] = (
            round(float(pop[cov].sum() / pop.sum()), 4) if pop.sum() else 0.0
        )
    row["uncovered_communities"] = int((~c["covered"]).sum())
    row["off_network_communities"] = int(c["off_network"].sum())
    row.update(county_row(views, res))  # streets, workplaces, capacity, area (issue 15)
    lap("coverage")

    # gap sites: reach the coverage target (default: every coverable community)
    prop = None
    if row["uncovered_communities"]:
        prop = propose_sites(
            res,
            model="mclp" if task.new_sites else "lscp",
            k=task.new_sites,
            target_share=None if task.new_sites else task.coverage_target,
            time_limit=task.time_limit,
            lang=task.lang,
        )
        row["proposed_sites"] = len(prop.sites)
        row["population_covered_after"] = prop.summary["covered_population_after"]
        row["proposal_status"] = prop.summary["status"]
        _note_fallback(row, task.county, "gap sites", prop.summary)
    else:
        row["proposed_sites"] = 0
        row["population_covered_after"] = row[f"population_covered_{cfg.main_level}"]
        row["proposal_status"] = "not needed"
    ct = count_target(
        res,
        ("integrated", task.integrated_target),
        row["proposed_sites"],
        existing=counts["integrated"],
    )
    row["integrated_sites_for_count_only"] = ct["sites_for_count_only"]
    row["new_sites_total"] = max(ct["shortfall"], row["proposed_sites"])

    # no cultural palace: where the first one should go (p-median, k = 1)
    palace = None
    if not row["has_cultural_palace"]:
        try:
            palace = propose_sites(
                res,
                k=1,
                model="pmedian",
                existing_kinds=["cultural_palace"],
                curve=False,
                time_limit=task.time_limit,
            )
            p = palace.sites.iloc[0]
            row["palace_proposal_lon"] = round(float(p["lon"]), 6)
            row["palace_proposal_lat"] = round(float(p["lat"]), 6)
            _note_fallback(row, task.county, "cultural palace", palace.summary)
        except Exception as exc:
            row["palace_proposal_error"] = str(exc)
    lap("optimise")
    row["targets_met"] = bool(
        row["integrated_shortfall"] == 0
        and row["has_cultural_palace"]
        and row["uncovered_communities"] == 0
    )

    # the county's own files
    from ..outputs import community_table, proposal_table

    ct_df = community_table(res)
    _set_county(ct_df, task.county)
    write_csv(ct_df, folder / "communities.csv")
    unc = ct_df[~ct_df["covered"]].sort_values("walk_distance_m", ascending=False)
    write_csv(unc, folder / "uncovered.csv")
    if prop is not None:
        pt = proposal_table(prop)
        _set_county(pt, task.county)
        write_csv(pt, folder / "proposed_sites.csv")
        curve = prop.curve.copy()
        _set_county(curve, task.county)
        write_csv(curve, folder / "marginal_gain.csv")
    if palace is not None:
        pp = proposal_table(palace)
        _set_county(pp, task.county)
        write_csv(pp, folder / "palace_proposal.csv")
    s = pd.DataFrame(res.sites.drop(columns="geometry"))
    s["in_county"] = inside
    write_csv(s, folder / "sites.csv")
    views.write(folder)  # streets.csv, uncovered_main_roads.csv, workplaces.csv
    lap("files")
    iso = res.isochrones(minutes=cfg.limit_m / cfg.metres_per_minute, by="kind")
    if len(iso):
        from ..coverage.isochrones import built_up_share

        share = built_up_share(res, iso, area=task.boundary)
        row[f"built_up_share_{cfg.main_level}"] = next(iter(share.values()))["share"]
        _set_county(iso, task.county)
        iso.to_file(folder / "isochrones.geojson", driver="GeoJSON")
    lap("isochrones")
    if task.write_map:
        from ..maps import make_map, save_map

        bnd = gpd.GeoDataFrame({"county": [task.county]}, geometry=[task.boundary], crs=4326)
        props = prop.sites if prop is not None else None
        if palace is not None:
            extra = palace.sites.assign(
                name="工人文化宫（建议）" if task.lang == "zh" else "Cultural palace (proposed)"
            )
            extra["rank"] = 0
            props = extra if props is None else pd.concat([props, extra], ignore_index=True)
        lines = [_target_line(row, task.lang)]
        from ..maps import county_map_kwargs

        m = make_map(
            res,
            lang=task.lang,
            basemap="none",
            offline=True,
            boundaries=bnd,
            proposals=None if props is None else gpd.GeoDataFrame(props, crs=4326),
            summary_lines=lines,
            views=views,
            scenario=task.scenario,
            input_crs=task.input_crs,
            **county_map_kwargs(res, row, task.county, inside, prop, task.lang),
        )
        save_map(m, folder / "map.html")
        row["map"] = str((folder / "map.html").relative_to(Path(task.out_dir)))
        from ..maps import save_png

        save_png(res, folder / "map.png", tiles=False, **m._sc_png)
    lap("map")
    row.update(lap.columns())
    return row


class _Stages:
    """Per-stage wall time of one county (issue 13): ``lap(name)`` closes the stage."""

    NAMES = ("load", "coverage", "optimise", "files", "isochrones", "map")

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.s: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.s[name] = self.s.get(name, 0.0) + now - self.t
        self.t = now

    def columns(self) -> dict[str, float]:
        return {f"seconds_{n}": round(self.s.get(n, 0.0), 3) for n in self.NAMES}


def _note_fallback(row: dict, county: str, what: str, summary: dict) -> None:
    """Name the county whenever a solver answer is not a proven optimum (issue 13)."""
    if summary.get("status") in ("optimal", "not needed"):
        return
    note = f"{county}: {what}: {summary.get('method')}:{summary.get('status')}"
    msgs = [m for m in summary.get("messages", []) if "HiGHS" in m or "greedy" in m]
    if msgs:
        note += " (" + "; ".join(msgs) + ")"
    logger.warning("%s", note)
    row["solver_fallback"] = "; ".join(filter(None, [row.get("solver_fallback", ""), note]))


def _target_line(row: dict, lang: str) -> str:
    if lang == "zh":
        palace = "有" if row["has_cultural_palace"] else "无（已给出建议位置）"
        return (
            f"会站家: {row['sites_integrated']}/{row['integrated_target']}，缺口 "
            f"{row['integrated_shortfall']}；工人文化宫: {palace}；建议新增站点 "
            f"{row['proposed_sites']} 个"
        )
    palace = "yes" if row["has_cultural_palace"] else "none (location proposed)"
    return (
        f"Integrated sites: {row['sites_integrated']}/{row['integrated_target']}, "
        f"shortfall {row['integrated_shortfall']}; cultural palace: {palace}; "
        f"proposed new sites: {row['proposed_sites']}"
    )


def _set_county(df: pd.DataFrame, county: str) -> None:
    if "county" in df.columns:
        df["county"] = county
    else:
        df.insert(0, "county", county)
