"""County audits against the plan's targets, one county or a whole province.

:func:`run_audit` loads the inputs once, assigns sites and communities to counties, prepares each
county's clipped network once (so that every task reads only its own), then audits the
counties in parallel — locally in worker processes, or on an existing Dask cluster — resuming
where a previous run stopped, and writes ``summary.csv``, ``audit.xlsx``, ``layers.gpkg``,
``summary.json`` and a map per county.
"""

from __future__ import annotations

import dataclasses
import hashlib
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

from .._errors import InputError, NetworkError, import_optional
from .._safety import OutLock, folder_names, inside, refuse_overwrite
from ..config import Config
from ._boundaries import assign_county, read_boundaries, repair_polygons, select_counties
from ._county import CountyTask, audit_county
from ._report import SUMMARY_COLUMNS, write_reports

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

#: Bump when a county's stored result would differ for the same inputs (new columns, fixes), so
#: that results from older versions are recomputed instead of reused.
RESULT_SCHEMA_VERSION = 2
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


def _blake(*parts: object) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def _source_hash(source) -> str:
    from ..network import file_hash

    p = Path(str(source))
    return file_hash(p) if p.is_file() else str(source)


def prepare_networks(
    source,
    boundaries: gpd.GeoDataFrame,
    out: Path,
    cfg: Config,
    force: bool = False,
    timings: dict | None = None,
    **build_kw,
) -> dict[str, tuple[str, str]]:
    """Build the source network once, then save each county's clipped piece (plus buffer).

    ``boundaries`` needs a ``folder`` column (from :func:`geo._safety.folder_names`). Returns
    ``{folder: (npz path, key)}`` where ``key`` hashes the source file's content, the build
    options and the county's polygon: a piece is rebuilt whenever its key changes. A county
    whose clip fails maps to ``("error: ...", "")``.
    """
    from ..io import atomic_path, write_json
    from ..network import build_network

    if str(source) == "online":
        return {
            r.folder: ("online", _blake("online", shapely.to_wkb(r.geometry)))
            for r in boundaries.itertuples()
        }
    src = _source_hash(source)
    paths, todo = {}, []
    for r in boundaries.itertuples():
        p = inside(out, "networks", f"{r.folder}.npz")
        key = _blake(src, build_kw, cfg.clip_buffer_m, shapely.to_wkb(r.geometry))
        paths[r.folder] = (str(p), key)
        kf = p.with_suffix(".json")
        old = json.loads(kf.read_text(encoding="utf-8")).get("key") if kf.exists() else None
        if force or not p.exists() or old != key:
            todo.append((r.folder, r.geometry, p, key))
    if not todo:
        return paths
    import time

    from ..network import EdgeClipper, ProjectedWithoutCRS

    t0 = time.perf_counter()
    try:
        full = build_network(source, config=cfg, **build_kw)
    except ProjectedWithoutCRS as exc:  # suggest the EPSG code for the counties' longitude
        raise exc.with_longitude(float(boundaries.geometry.union_all().centroid.x)) from None
    t1 = time.perf_counter()
    clipper = EdgeClipper(full)  # edge lines and their index built once for every county
    tm = timings if timings is not None else {}
    tm["parse"] = round(t1 - t0, 3)
    tm["index"] = round(time.perf_counter() - t1, 3)
    tm.setdefault("clip", {})
    for name, geom, p, key in todo:
        t = time.perf_counter()
        try:
            piece = clipper.clip(geom, cfg.clip_buffer_m)
        except NetworkError as exc:
            paths[name] = (f"error: {exc}", "")
            continue
        with atomic_path(p) as tmp:
            piece.save_npz(tmp)
        write_json({"key": key}, p.with_suffix(".json"))
        tm["clip"][name] = round(time.perf_counter() - t, 3)
    return paths


def _frame_bytes(df: pd.DataFrame) -> bytes:
    """A stable digest of a (Geo)DataFrame's rows, geometry included."""
    if not len(df):
        return b"empty" + ",".join(map(str, df.columns)).encode()
    plain = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    h = pd.util.hash_pandas_object(plain.astype(str), index=False).to_numpy().tobytes()
    geom = b"".join(shapely.to_wkb(df.geometry.to_numpy())) if "geometry" in df else b""
    return ",".join(map(str, plain.columns)).encode() + h + geom


def _input_key(task: CountyTask, network_key: str) -> str:
    """Hash of everything a county's result depends on (see RESULT_SCHEMA_VERSION): its rows,
    its network piece, its polygon, every parameter, and the content of files named by them."""
    frames, params = [], {}
    for f in dataclasses.fields(task):
        v = getattr(task, f.name)
        if f.name in ("network", "out_dir", "input_key", "folder", "config"):
            continue
        if isinstance(v, pd.DataFrame):
            frames.append(_frame_bytes(v))
        elif f.name == "boundary":
            frames.append(shapely.to_wkb(v))
        else:
            params[f.name] = v
    for k, v in dict(task.demand or {}).items():  # e.g. a buildings file: its content counts
        if isinstance(v, (str, Path)) and Path(v).is_file():
            params[f"demand.{k}.content"] = _source_hash(v)
        elif isinstance(v, pd.DataFrame):  # buildings / main roads read into frames: all rows
            frames.append(k.encode() + _frame_bytes(v))
    params["demand"] = {
        k: v for k, v in dict(task.demand or {}).items() if not isinstance(v, pd.DataFrame)
    }
    skip = ("verbose", "cache_dir", "use_cache")
    cfg = {f.name: getattr(task.config, f.name) for f in dataclasses.fields(task.config)}
    cfg = {k: v for k, v in cfg.items() if k not in skip}
    return _blake(RESULT_SCHEMA_VERSION, network_key, params, cfg, *frames)


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
    """
    cfg = config or Config().replace(minutes=15.0, thresholds_min=(5.0, 10.0, 15.0))
    if config is not None and config.max_distance_m is not None:
        cfg = cfg.replace(max_distance_m=None)
    out = Path(out)
    from .._safety import check_out_dir

    check_out_dir(out)
    refuse_overwrite(
        [out / f for f in _REPORT_FILES],
        [network, sites, communities, boundaries],
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
                lang=lang, workers=workers, force=force, integrated_target=integrated_target,
                coverage_target=coverage_target, write_maps=write_maps, load_kw=load_kw,
                build_kw=build_kw, new_sites=new_sites, workplaces=workplaces, demand=demand,
                scenario=scenario,
            )  # fmt: skip
    finally:
        if client is not None:
            client.close()


_REPORT_FILES = (
    "summary.csv", "summary.json", "audit.xlsx", "layers.gpkg", "rejects.csv", "uncovered.csv",
    "proposed_sites.csv", "palace_proposal.csv", "marginal_gain.csv", "communities.csv",
)  # fmt: skip


def _run_audit(
    cfg, out, client, *, network, sites, communities, boundaries, counties, crs, boundary_crs,
    lang, workers, force, integrated_target, coverage_target, write_maps, load_kw, build_kw,
    new_sites, workplaces, demand, scenario,
) -> AuditResult:  # fmt: skip
    from ..io import load_communities, load_sites, rejects_frame

    bnd = read_boundaries(boundaries, crs=boundary_crs)
    chosen = select_counties(bnd, counties).copy()
    chosen["folder"] = folder_names(zip(chosen["county"], chosen["code"], strict=True))
    lk = load_kw or {}
    site_only = ("kinds", "default_kind", "allow_unknown_kinds")
    s = load_sites(sites, crs=crs, **{k: v for k, v in lk.items() if k != "max_population"})
    ccols = {k: v for k, v in (lk.get("columns") or {}).items() if k != "kind"} or None
    c = load_communities(
        communities, crs=crs,
        **{k: v for k, v in lk.items() if k not in site_only and k != "columns"}, columns=ccols,
    )  # fmt: skip
    rejects = rejects_frame(s, c)
    wd = None
    if workplaces is not None:
        from ..io import load_workplaces

        w = load_workplaces(
            workplaces,
            crs=crs,
            encoding=lk.get("encoding"),
            fix_swapped=lk.get("fix_swapped", False),
        )
        wd = w.data.copy()
        wd["county"] = assign_county(wd, bnd)
        rejects = pd.concat([rejects, w.rejects], ignore_index=True)
    from ..io import kind_mapping_line

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
    c_out = cd[cd["county"] == ""]
    if len(c_out):
        logger.warning("%d communities lie outside every county boundary", len(c_out))
    rejects = pd.concat(
        [
            rejects,
            _outside_rejects(sd, sites, "site_id", lang),
            _outside_rejects(cd, communities, "community_id", lang),
        ],
        ignore_index=True,
    )
    timings: dict = {}
    nets = prepare_networks(
        network, chosen, out, cfg, force=force, timings=timings, **(build_kw or {})
    )
    metric = None
    tasks, rows, reused = [], [], 0
    for r in chosen.itertuples():
        npath, nkey = nets[r.folder]
        if npath.startswith("error:"):
            rows.append(
                {
                    "county": r.county,
                    "code": r.code,
                    "folder": r.folder,
                    "status": "error",
                    "error": f"no network for this county ({npath[7:]})",
                }
            )
            continue
        if metric is None:
            from .. import crs as _crs

            metric = _crs.utm_crs(*np.asarray(chosen.geometry.iloc[0].centroid.coords[0]))
        reach = (
            gpd.GeoSeries([r.geometry], crs=4326)
            .to_crs(metric)
            .buffer(cfg.clip_buffer_m)
            .to_crs(4326)
            .iloc[0]
        )
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
            lang=lang,
            integrated_target=integrated_target,
            coverage_target=coverage_target,
            write_map=write_maps,
            new_sites=new_sites,
            workplaces=None if wd is None else wd[wd["county"] == r.county].reset_index(drop=True),
            demand=demand,
            scenario=scenario,
            input_crs=getattr(s, "input_crs", None) or crs,
            folder=r.folder,
        )
        task = dataclasses.replace(task, input_key=_input_key(task, nkey))
        prev = _previous(out, r.folder)
        if not force and prev.get("status") == "ok" and prev.get("input_key") == task.input_key:
            rows.append(prev)
            reused += 1
            continue
        tasks.append(task)
    if reused:
        logger.warning(
            "reused %d of %d counties from a previous run in %s (same inputs, network and "
            "settings); pass --force to recompute them",
            reused,
            len(chosen),
            out,
        )
    rows += _run(tasks, workers, client, cfg.verbose)
    for row in rows:  # the clip ran in this process, before the workers (0: piece reused)
        row["seconds_clip"] = timings.get("clip", {}).get(row.get("folder"), 0.0)
    order = {f: i for i, f in enumerate(chosen["folder"])}
    rows.sort(key=lambda x: order.get(x.get("folder", ""), 0))
    meta = {
        "network": str(network),
        "sites": str(sites),
        "communities": str(communities),
        "boundaries": str(boundaries),
        "walk_speed_kmh": cfg.walk_speed_kmh,
        "integrated_target": integrated_target,
        "coverage_target": coverage_target,
        "rejected_rows": len(rejects),
        "communities_outside_counties": len(c_out),
        "kind_mapping": s.kind_mapping,
        "counties_reused": reused,
        "counties_run": len(tasks),
        "result_schema_version": RESULT_SCHEMA_VERSION,
        "stage_seconds": _stage_totals(rows, timings),
    }
    t_rep = time.perf_counter()
    report = write_reports(out, rows, chosen, rejects, outside, meta, lang)
    # the reports' own time (Excel, CSV, GPKG) is known only now: add it to summary.json
    report["stage_seconds"]["reports"] = round(time.perf_counter() - t_rep, 3)
    from ..io import write_json as _write_json

    _write_json(report, out / "summary.json")
    from ._report import summary_frame

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


def _run(tasks: list[CountyTask], workers: int | None, client, verbose: bool) -> list[dict]:
    if not tasks:
        return []
    if client is not None:
        import distributed

        futures = client.map(audit_county, tasks, pure=False, retries=1)
        task_of = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        rows = []
        for f in _progress(distributed.as_completed(futures), len(futures), verbose):
            try:
                rows.append(f.result())
            except Exception as exc:  # KilledWorker after Dask's own retries, a lost worker
                t = task_of[f.key]
                rows.append(
                    {
                        "county": t.county,
                        "code": t.code,
                        "folder": t.folder,
                        "status": "error",
                        "error": f"Dask task failed: {type(exc).__name__}: {exc}",
                    }
                )
        return rows
    n = workers or os.cpu_count() or 1
    if n <= 1 or len(tasks) == 1:
        return [audit_county(t) for t in _progress(tasks, len(tasks), verbose)]
    from ._pool import run_in_workers

    bar = _progress(None, len(tasks), verbose) if verbose else None
    try:
        return run_in_workers(
            audit_county,
            tasks,
            min(n, len(tasks)),
            on_done=(lambda _: bar.update(1)) if bar else None,
        )
    finally:
        if bar is not None:
            bar.close()


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
