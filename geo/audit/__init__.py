"""County audits against the plan's targets, one county or a whole province.

:func:`run_audit` loads the inputs once, assigns sites and communities to counties, prepares each
county's clipped network once (so that every task reads only its own), then audits the
counties in parallel — locally in worker processes, or on an existing Dask cluster — resuming
where a previous run stopped, and writes ``summary.csv``, ``audit.xlsx``, ``layers.gpkg``,
``summary.json`` and a map per county.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from .._errors import InputError, import_optional
from .._safety import OutLock, folder_names, inside, refuse_overwrite
from ..config import Config
from ._book import feed
from ._boundaries import assign_county, read_boundaries, repair_polygons, select_counties
from ._county import CountyTask, audit_county
from ._inputs import RESULT_SCHEMA_VERSION, _input_key, iter_networks
from ._report import SUMMARY_COLUMNS, start_workbook, write_reports
from ._stream import Preloader, county_tasks, idle_seconds, run_tasks

logger = logging.getLogger(__name__)

__all__ = [
    "SUMMARY_COLUMNS",
    "AuditResult",
    "audit_county",
    "read_boundaries",
    "repair_polygons",
    "run_audit",
    "select_counties",
]

#: Seconds to wait for a Dask scheduler before giving up.
SCHEDULER_TIMEOUT_S = 5


@dataclass
class AuditResult:
    summary: pd.DataFrame
    report: dict[str, Any]
    out: Path

    @property
    def failed(self) -> list[str]:
        """Counties whose audit failed (excluded from the combined tables)."""
        return self.summary.loc[self.summary["status"] != "ok", "county"].astype(str).tolist()

    @property
    def targets_met(self) -> bool:
        ok = self.summary["status"] == "ok"
        return bool(ok.all() and self.summary.loc[ok, "targets_met"].astype(bool).all())


def _progress(iterable, total, verbose):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    if iterable is None:
        return tqdm(total=total, desc="counties", unit="county")

    return tqdm(iterable, total=total, desc="counties", unit="county")


def _check_scheduler(scheduler: str):
    """Connect to the Dask scheduler now, failing within SCHEDULER_TIMEOUT_S seconds."""
    distributed = import_optional(
        "distributed", extra="dask", feature="running counties on a Dask cluster"
    )
    try:
        return distributed.Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"cannot reach the Dask scheduler within {SCHEDULER_TIMEOUT_S} s",
            value=scheduler,
            fix="start the scheduler (dask scheduler), or check --scheduler / "
            "$DASK_SCHEDULER_ADDRESS; omit them to run on local processes",
        ) from exc


# run_audit is over 60 lines only by its keyword options and their docstring (the public API);
# its work is in the short steps below.
def run_audit(
    *,
    network: str | Path,
    sites: str | Path,
    communities: str | Path,
    boundaries: str | Path,
    out: str | Path,
    counties: list[str] | None = None,
    config: Config | None = None,
    crs: object = None,
    boundary_crs: object = None,
    lang: str = "zh",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    integrated_target: int = 10,
    coverage_target: float | None = None,
    write_maps: bool = True,
    scenario: bool | None = None,
    load_kw: dict | None = None,
    build_kw: dict | None = None,
    new_sites: int | None = None,
    workplaces: str | Path | None = None,
    demand: dict | None = None,
    background: list[str | Path] | None = None,
) -> AuditResult:
    """Audit counties against the plan's targets.

    Parameters
    ----------
    network
        Network source for the whole area (file), or ``"online"`` (osmnx per county).
    sites, communities
        Input files (see :func:`geo.load_sites`).
    boundaries
        County polygons (any vector file), or ``cnmaps:<province/city name or adcode>``.
    counties
        Names or codes to audit; None for all counties in ``boundaries``.
    workers
        Local worker processes (default: CPU count; 1 runs in this process).
    scheduler
        ``tcp://host:port`` of a Dask scheduler (or ``$DASK_SCHEDULER_ADDRESS``).
    force
        Re-run counties that already have results in ``out``.
    workplaces, demand
        Workplaces file (employees) and options of :func:`geo.coverage.views.demand_views`
        (``community_coverage``, ``decay``, ``buildings``): the demand views of issue 15.
    background
        Extra vector files drawn under every county map (water, parks...), as ``--background``
        in ``servicecircle coverage``; each map takes the features near its county.
    """
    cfg = config or Config().replace(minutes=15.0, thresholds_min=(5.0, 10.0, 15.0))
    if config is not None and config.max_distance_m is not None:
        cfg = cfg.replace(max_distance_m=None)
    out = Path(out)
    from .._safety import check_out_dir

    check_out_dir(out)
    refuse_overwrite(
        [out / f for f in _REPORT_FILES],
        [network, sites, communities, boundaries, *(background or [])],
        folders=[out / "counties", out / "networks"],
    )
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    client = _check_scheduler(scheduler) if scheduler else None
    try:
        out.mkdir(parents=True, exist_ok=True)
        with OutLock(out):
            return _run_audit(
                cfg, out, client, network=network, sites=sites, communities=communities,
                boundaries=boundaries, counties=counties, crs=crs, boundary_crs=boundary_crs,
                workers=workers, force=force, load_kw=load_kw or {}, build_kw=build_kw or {},
                workplaces=workplaces,
                task_opts={
                    "lang": lang, "integrated_target": integrated_target,
                    "coverage_target": coverage_target, "write_map": write_maps,
                    "new_sites": new_sites, "demand": demand, "scenario": scenario,
                    "background": tuple(str(p) for p in background or ()),
                },
            )  # fmt: skip
    finally:
        if client is not None:
            client.close()


_REPORT_FILES = (
    "summary.csv", "summary.json", "audit.xlsx", "layers.gpkg", "rejects.csv", "uncovered.csv",
    "proposed_sites.csv", "palace_proposal.csv", "marginal_gain.csv", "communities.csv",
)  # fmt: skip


@dataclass
class _Inputs:
    """The run's sites, communities and workplaces, each row with its ``county`` ("" when no
    county contains it), and the rows rejected on the way."""

    sites: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    workplaces: gpd.GeoDataFrame | None
    rejects: pd.DataFrame
    sites_outside: pd.DataFrame  # site_id, name, kind, lon, lat of sites outside every county
    communities_outside: int
    kind_mapping: dict[str, Any]
    input_crs: Any


def _run_audit(
    cfg: Config, out: Path, client, *, network, sites, communities, boundaries, counties, crs,
    boundary_crs, workers, force, load_kw: dict, build_kw: dict, workplaces,
    task_opts: dict[str, Any],
) -> AuditResult:  # fmt: skip
    t_start = time.perf_counter()
    bnd = read_boundaries(boundaries, crs=boundary_crs)
    chosen = select_counties(bnd, counties).copy()
    book = start_workbook(len(chosen))  # audit.xlsx's writer: its imports run meanwhile
    try:
        sources = {"network": network, "sites": sites, "communities": communities,
                   "boundaries": boundaries}  # fmt: skip
        return _audit_counties(cfg, out, client, book, t_start, bnd, chosen, sources, crs=crs,
                               workers=workers, force=force, load_kw=load_kw,
                               build_kw=build_kw, workplaces=workplaces,
                               task_opts=task_opts)  # fmt: skip
    finally:
        if book is not None:
            book.close()  # ends the child when the run stopped before the reports


def _audit_counties(
    cfg: Config, out: Path, client, book, t_start: float, bnd, chosen, sources: dict, *, crs,
    workers, force, load_kw: dict, build_kw: dict, workplaces, task_opts: dict[str, Any],
) -> AuditResult:  # fmt: skip
    """Run every chosen county (streamed as their networks are clipped), then the reports
    (``book``: audit.xlsx's writer in a child process, or None)."""
    network, sites, communities = sources["network"], sources["sites"], sources["communities"]
    chosen["folder"] = folder_names(zip(chosen["county"], chosen["code"], strict=True))
    data = _load_inputs(sites, communities, workplaces, bnd, crs, load_kw, task_opts["lang"])
    timings: dict = {}
    metric = (
        _crs.utm_crs(*np.asarray(chosen.geometry.iloc[0].centroid.coords[0]))
        if len(chosen)
        else None
    )
    by_folder = {r.folder: r for r in chosen.itertuples()}
    rows: list[dict] = []
    # the reports' county files, read (and rendered for audit.xlsx) while the others run
    pre = Preloader(out, feed(book, task_opts["lang"]))
    # each county's task is made, and runs, as soon as its piece is clipped (issue 13)
    tasks = county_tasks(
        iter_networks(network, chosen, out, cfg, force, timings, announce=True, **build_kw),
        lambda folder, net: _county_task(by_folder[folder], net, data, cfg, out, task_opts,
                                         metric),
        lambda folder: {} if force else _previous(out, folder),
        rows,
        on_reused=pre.add,  # a reused county's files are read (and rendered) meanwhile too
    )  # fmt: skip
    stats: dict = {}
    bar = _progress(None, len(chosen), cfg.verbose) if cfg.verbose else None

    def on_row(row: dict) -> None:
        pre.add(row)
        if bar is not None:
            bar.update(1)

    try:
        ran = run_tasks(tasks, workers, client, on_row, stats)
    finally:
        preloaded = pre.files()
        if bar is not None:
            bar.close()
    reused = sum(1 for r in rows if r.get("status") == "ok")
    if reused:
        logger.warning(
            "reused %d of %d counties from a previous run in %s (same inputs, network and "
            "settings); pass --force to recompute them",
            reused,
            len(chosen),
            out,
        )
    rows += ran
    for row in rows:  # the clip ran in this process, before the county's task (0: reused)
        row["seconds_clip"] = timings.get("clip", {}).get(row.get("folder"), 0.0)
    order = {f: i for i, f in enumerate(chosen["folder"])}
    rows.sort(key=lambda x: order.get(x.get("folder", ""), 0))
    stages = _stage_totals(rows, timings)
    if "first_task" in stats:  # wall time of this process before the first county started
        stages["before_first_task"] = round(stats["first_task"] - t_start, 3)
        stages["workers_idle"] = idle_seconds(ran, stats)
    meta = _meta(sources, cfg, task_opts, data, reused, len(ran), stages)
    return _write_outputs(out, rows, chosen, data, meta, task_opts["lang"], preloaded, book)


def _load_inputs(sites, communities, workplaces, bnd, crs, lk: dict, lang: str) -> _Inputs:
    """Read the input files and assign every row to its county; rows outside every county are
    logged and rejected (never silently dropped)."""
    from ..io import kind_mapping_line, load_communities, load_sites, rejects_frame

    site_only = ("kinds", "default_kind", "allow_unknown_kinds")
    s = load_sites(sites, crs=crs, **{k: v for k, v in lk.items() if k != "max_population"})
    ccols = {k: v for k, v in (lk.get("columns") or {}).items() if k != "kind"} or None
    c = load_communities(
        communities, crs=crs,
        **{k: v for k, v in lk.items() if k not in site_only and k != "columns"}, columns=ccols,
    )  # fmt: skip
    rejects = [rejects_frame(s, c)]
    wd = None
    if workplaces is not None:
        wd, w_rejects = _load_workplaces(workplaces, bnd, crs, lk)
        rejects.append(w_rejects)
    if s.kind_mapping:
        print(kind_mapping_line(s.kind_mapping, lang))
    sd, cd = s.data.copy(), c.data.copy()
    sd["county"] = assign_county(sd, bnd)
    cd["county"] = assign_county(cd, bnd)
    outside = sd.loc[sd["county"] == "", ["site_id", "name", "kind", "lon", "lat"]]
    if len(outside):
        logger.warning(
            "%d sites lie outside every county boundary: %s",
            len(outside),
            ", ".join(outside["name"].astype(str).head(10)),
        )
    c_out = int((cd["county"] == "").sum())
    if c_out:
        logger.warning("%d communities lie outside every county boundary", c_out)
    rejects += [
        _outside_rejects(sd, sites, "site_id", lang),
        _outside_rejects(cd, communities, "community_id", lang),
    ]
    return _Inputs(
        sd, cd, wd, pd.concat(rejects, ignore_index=True), outside, c_out, s.kind_mapping,
        getattr(s, "input_crs", None) or crs,
    )  # fmt: skip


def _load_workplaces(path, bnd, crs, lk: dict) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Workplaces (issue 15) with their county, and their rejected rows."""
    from ..io import load_workplaces

    w = load_workplaces(
        path, crs=crs, encoding=lk.get("encoding"), fix_swapped=lk.get("fix_swapped", False)
    )
    wd = w.data.copy()
    wd["county"] = assign_county(wd, bnd)
    return wd, w.rejects


def _county_task(
    r, net: tuple[str, str], data: _Inputs, cfg: Config, out: Path, opts: dict, metric
) -> CountyTask | dict[str, Any]:
    """The county's :class:`CountyTask` with its input key, or its error row when its network
    piece could not be made. ``metric`` is the run's metric CRS (of its first county)."""
    npath, nkey = net
    if npath.startswith("error:"):
        return {"county": r.county, "code": r.code, "folder": r.folder, "status": "error",
                "error": f"no network for this county ({npath[7:]})"}  # fmt: skip
    sd, cd, wd = data.sites, data.communities, data.workplaces
    reach = _reach_area(r.geometry, cfg.clip_buffer_m, metric)
    near = sd[shapely.intersects(reach, sd.geometry.to_numpy())] if len(sd) else sd
    task = CountyTask(
        county=r.county,
        code=r.code,
        boundary=r.geometry,
        network=npath,
        sites=near.reset_index(drop=True),
        communities=cd[cd["county"] == r.county].reset_index(drop=True),
        config=cfg,
        out_dir=str(out),
        lang=opts["lang"],
        integrated_target=opts["integrated_target"],
        coverage_target=opts["coverage_target"],
        write_map=opts["write_map"],
        new_sites=opts["new_sites"],
        workplaces=None if wd is None else wd[wd["county"] == r.county].reset_index(drop=True),
        demand=opts["demand"],
        scenario=opts["scenario"],
        background=opts["background"],
        input_crs=data.input_crs,
        folder=r.folder,
    )
    return dataclasses.replace(task, input_key=_input_key(task, nkey))


def _reach_area(county, buffer_m: float, metric) -> Any:
    """The county polygon grown by ``buffer_m`` metres (in ``metric``, the run's metric CRS),
    in WGS84: sites there serve the county too."""
    grown = gpd.GeoSeries([county], crs=4326).to_crs(metric).buffer(buffer_m)
    return grown.to_crs(4326).iloc[0]


def _meta(sources: dict, cfg: Config, opts: dict, data: _Inputs, reused: int, run: int,
          stages: dict) -> dict[str, Any]:  # fmt: skip
    """The run's settings and counts at the head of summary.json."""
    return {
        **{k: str(v) for k, v in sources.items()},
        "walk_speed_kmh": cfg.walk_speed_kmh,
        "integrated_target": opts["integrated_target"],
        "coverage_target": opts["coverage_target"],
        "rejected_rows": len(data.rejects),
        "communities_outside_counties": data.communities_outside,
        "kind_mapping": data.kind_mapping,
        "counties_reused": reused,
        "counties_run": run,
        "result_schema_version": RESULT_SCHEMA_VERSION,
        "stage_seconds": stages,
    }


def _write_outputs(out: Path, rows: list[dict], chosen, data: _Inputs, meta: dict,
                   lang: str, preloaded: dict | None = None, book=None) -> AuditResult:  # fmt: skip
    """The combined reports, then summary.json again with the reports' own time."""
    from ..io import write_json
    from ._report import summary_frame

    t_rep = time.perf_counter()
    report = write_reports(out, rows, chosen, data.rejects, data.sites_outside, meta, lang,
                           preloaded, workbook_job=book)  # fmt: skip
    # the reports' own time (Excel, CSV, GPKG) is known only now: add it to summary.json
    report["stage_seconds"]["reports"] = round(time.perf_counter() - t_rep, 3)
    write_json(report, out / "summary.json")
    return AuditResult(summary_frame(rows), report, out)


def _stage_totals(rows: list[dict], timings: dict) -> dict:
    """Province totals per stage (issue 13): parse and index once, then the counties' sums."""
    out = {"parse": timings.get("parse", 0.0), "index": timings.get("index", 0.0)}
    for stage in ("clip", "load", "coverage", "optimise", "files", "isochrones", "map"):
        out[stage] = round(sum(float(r.get(f"seconds_{stage}") or 0.0) for r in rows), 3)
    return out


def _previous(out: Path, folder: str) -> dict:
    """The county's stored result.json, or {} when absent or unreadable."""
    done = inside(out, "counties", folder, "result.json")
    try:
        prev = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return prev if isinstance(prev, dict) else {}


def _outside_rejects(data: gpd.GeoDataFrame, path, id_col: str, lang: str = "zh") -> pd.DataFrame:
    """Rows that no county boundary contains: reported as out of area, never silently dropped."""
    from ..io import reject_frame, reject_row

    o = data[data["county"] == ""]
    return reject_frame(
        reject_row(
            file=path,
            row=r["row"],
            rid=r[id_col],
            name=r["name"],
            column="lon/lat",
            value=f"{r['lon']:.6f}, {r['lat']:.6f}",
            code="outside_counties",
            lang=lang,
        )
        for _, r in o.iterrows()
    )
