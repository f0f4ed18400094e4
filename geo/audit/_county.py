"""Audit one county: coverage at 5/10/15 minutes, plan targets, gap sites, a cultural-palace
location, and the county's own output folder. Runs in a worker process; everything it needs
travels in a picklable :class:`CountyTask`.

Computing and writing are apart: :func:`compute_county` gives a :class:`CountyResult`, the pure
:func:`county_row` turns it into the county's summary row, and :mod:`geo.audit._write` writes its
files and map.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._safety import console, folder_name, inside
from ..config import Config
from ..io import BUILTIN_KINDS, write_json
from ._pool import undo_malloc_trim

if TYPE_CHECKING:
    from ..coverage import CoverageResult
    from ..coverage.views import DemandViews
    from ..network import Network
    from ..optimize import Proposal

logger = logging.getLogger(__name__)

#: The kinds counted in the summary row (``sites_<kind>``).
KINDS = BUILTIN_KINDS


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
    background: tuple[str, ...] = ()  # extra map background files (--background)
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
    undo_malloc_trim()  # a Dask worker's allocator settings (see there)
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
    """Compute the county (:func:`compute_county`), make its row (:func:`county_row`), then
    write its files and map (:mod:`geo.audit._write`); the row gains the stage timings."""
    from ._write import write_isochrones, write_map, write_tables

    lap = _Stages()
    result = compute_county(task, lap)
    row = county_row(result)
    write_tables(result, folder)
    lap("files")
    write_isochrones(result, folder)
    lap("isochrones")
    if task.write_map:
        row["map"] = write_map(result, row, folder)
    lap("map")
    row.update(lap.columns())
    return row


@dataclass(frozen=True)
class CountyResult:
    """What one county's audit computed, before anything is written.

    ``in_county`` flags the rows of ``coverage.sites`` inside the county (the others are
    neighbours within walking reach). ``gaps`` are the gap sites (None when every community is
    covered), ``palace`` the first cultural palace's location (None when the county has one;
    ``palace_error`` says why it could not be placed). ``isochrones`` are the main level's
    walk areas by kind (isochrones.geojson; also what the map's PNG draws when the page has
    none of its own), and ``built_up_share`` the county area they reach.
    """

    task: CountyTask
    coverage: CoverageResult
    views: DemandViews
    in_county: np.ndarray
    gaps: Proposal | None = None
    palace: Proposal | None = None
    palace_error: str | None = None
    isochrones: gpd.GeoDataFrame | None = None
    built_up_share: float | None = None

    @property
    def site_counts(self) -> dict[str, int]:
        """Sites of each built-in kind inside the county."""
        s = self.task.sites
        kinds = s.loc[self.in_county, "kind"].astype(str) if len(s) else pd.Series([])
        return {k: int((kinds == k).sum()) for k in KINDS}


def compute_county(task: CountyTask, lap: _Stages | None = None) -> CountyResult:
    """Coverage, demand views, gap sites, the palace location and the isochrones of a county.

    ``lap`` (a :class:`_Stages`) times the stages load, coverage, optimise and isochrones.
    """
    from ..coverage import compute_coverage
    from ..coverage.views import demand_views

    lap = lap or _Stages()
    net = _load_network(task)
    lap("load")
    if not len(task.communities):
        raise ValueError(
            "no communities inside this county; check the communities file and the boundary"
        )
    res = compute_coverage(net, task.sites, task.communities, config=task.config)
    res, views = demand_views(
        res, workplaces=task.workplaces, area=task.boundary, **(task.demand or {})
    )
    in_county = (
        task.sites["county"].to_numpy() == task.county if len(task.sites) else np.zeros(0, bool)
    )
    result = CountyResult(task, res, views, in_county)
    lap("coverage")
    result = _optimise(result)
    lap("optimise")
    result = _isochrones(result)
    lap("isochrones")
    return result


def _load_network(task: CountyTask) -> Network:
    from ..network import Network, build_network

    if task.network == "online":
        return build_network(task.boundary, config=task.config)
    return Network.load_npz(task.network)


def _optimise(result: CountyResult) -> CountyResult:
    """Gap sites up to the coverage target (default: every coverable community), and where the
    first cultural palace should go when the county has none (p-median, k = 1)."""
    from ..optimize import propose_sites

    task, res = result.task, result.coverage
    gaps = palace = error = None
    if res.summary["communities"] - res.summary["communities_covered"]:
        gaps = propose_sites(
            res,
            model="mclp" if task.new_sites else "lscp",
            k=task.new_sites,
            target_share=None if task.new_sites else task.coverage_target,
            time_limit=task.time_limit,
            lang=task.lang,
        )
        _log_fallback(task.county, "gap sites", gaps.summary)
    if not result.site_counts["cultural_palace"]:
        try:
            palace = propose_sites(
                res,
                k=1,
                model="pmedian",
                existing_kinds=["cultural_palace"],
                curve=False,
                time_limit=task.time_limit,
            )
            palace.sites.iloc[0]  # no site at all: IndexError, reported as the error
            _log_fallback(task.county, "cultural palace", palace.summary)
        except Exception as exc:
            error = str(exc)
    return dataclasses.replace(result, gaps=gaps, palace=palace, palace_error=error)


def _isochrones(result: CountyResult) -> CountyResult:
    """The main level's isochrones by kind, and the share of the county they reach."""
    from ..coverage.isochrones import built_up_share

    res, cfg = result.coverage, result.task.config
    iso = res.isochrones(minutes=cfg.limit_m / cfg.metres_per_minute, by="kind")
    share = None
    if len(iso):
        shares = built_up_share(res, iso, area=result.task.boundary)
        share = next(iter(shares.values()))["share"]
    return dataclasses.replace(result, isochrones=iso, built_up_share=share)


def county_row(result: CountyResult) -> dict[str, Any]:
    """The county's summary row (the registry's ``summary`` table, :mod:`geo.schema`).

    Pure: reads the coverage summary (:func:`geo.coverage.summarise`, the numbers the
    ``coverage`` command reports), the demand views' columns
    (:func:`geo.coverage.views.county_row`) and the proposals; writes nothing.
    """
    from ..coverage.views import county_row as views_row

    task, res = result.task, result.coverage
    row = _site_columns(result)
    row.update(_coverage_columns(res.summary))
    row.update(views_row(result.views, res))  # streets, workplaces, capacity, area (issue 15)
    row.update(_gap_columns(result, row))
    row.update(_palace_columns(result, row.get("solver_fallback", "")))
    row["targets_met"] = bool(
        row["integrated_shortfall"] == 0
        and row["has_cultural_palace"]
        and row["uncovered_communities"] == 0
    )
    if result.built_up_share is not None:
        row[f"built_up_share_{task.config.main_level}"] = result.built_up_share
    return row


def _site_columns(result: CountyResult) -> dict[str, Any]:
    task, counts = result.task, result.site_counts
    row: dict[str, Any] = {
        "county": task.county,
        "code": task.code,
        "sites": int(result.in_county.sum()),
    }
    row.update({f"sites_{k}": counts[k] for k in KINDS})
    row["integrated_target"] = task.integrated_target
    row["integrated_shortfall"] = max(0, task.integrated_target - counts["integrated"])
    row["has_cultural_palace"] = counts["cultural_palace"] > 0
    return row


def _coverage_columns(summary: dict[str, Any]) -> dict[str, Any]:
    """Counts, population and shares per level, from the coverage summary."""
    row: dict[str, Any] = {
        "communities": summary["communities"],
        "population": summary["population"],
    }
    for level, v in summary["levels"].items():
        row[f"communities_covered_{level}"] = v["communities_covered"]
        row[f"population_covered_{level}"] = v["population_covered"]
        row[f"population_covered_{level}_share"] = v["population_share"]
    row["uncovered_communities"] = summary["communities"] - summary["communities_covered"]
    row["off_network_communities"] = summary["communities_off_network"]
    return row


def _gap_columns(result: CountyResult, row: dict[str, Any]) -> dict[str, Any]:
    """Gap sites and the integrated-site count target beyond them."""
    from ..optimize import count_target

    out: dict[str, Any] = {}
    gaps = result.gaps
    if gaps is not None:
        out["proposed_sites"] = len(gaps.sites)
        out["population_covered_after"] = gaps.summary["covered_population_after"]
        out["proposal_status"] = gaps.summary["status"]
        note = fallback_note(result.task.county, "gap sites", gaps.summary)
        if note:
            out["solver_fallback"] = note
    else:
        out["proposed_sites"] = 0
        out["population_covered_after"] = row[f"population_covered_{result.task.config.main_level}"]
        out["proposal_status"] = "not needed"
    ct = count_target(
        result.coverage,
        ("integrated", result.task.integrated_target),
        out["proposed_sites"],
        existing=result.site_counts["integrated"],
    )
    out["integrated_sites_for_count_only"] = ct["sites_for_count_only"]
    out["new_sites_total"] = max(ct["shortfall"], out["proposed_sites"])
    return out


def _palace_columns(result: CountyResult, fallback: str) -> dict[str, Any]:
    """The proposed palace's coordinates (or why there are none)."""
    out: dict[str, Any] = {}
    if result.palace_error is not None:
        out["palace_proposal_error"] = result.palace_error
    elif result.palace is not None:
        p = result.palace.sites.iloc[0]
        out["palace_proposal_lon"] = round(float(p["lon"]), 6)
        out["palace_proposal_lat"] = round(float(p["lat"]), 6)
        note = fallback_note(result.task.county, "cultural palace", result.palace.summary)
        if note:
            out["solver_fallback"] = "; ".join(filter(None, [fallback, note]))
    return out


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


def fallback_note(county: str, what: str, summary: dict) -> str | None:
    """The note naming the county when a solver answer is not a proven optimum (issue 13)."""
    if summary.get("status") in ("optimal", "not needed"):
        return None
    note = f"{county}: {what}: {summary.get('method')}:{summary.get('status')}"
    msgs = [m for m in summary.get("messages", []) if "HiGHS" in m or "greedy" in m]
    if msgs:
        note += " (" + "; ".join(msgs) + ")"
    return note


def _log_fallback(county: str, what: str, summary: dict) -> None:
    note = fallback_note(county, what, summary)
    if note:
        logger.warning("%s", note)
