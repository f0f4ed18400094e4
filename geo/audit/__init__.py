"""County audits against the plan's targets, one county or a whole province.

:func:`run_audit` loads the inputs once, assigns sites and communities to counties, prepares each
county's clipped network once (so that every task reads only its own), then audits the
counties in parallel — locally in worker processes, or on an existing Dask cluster — resuming
where a previous run stopped, and writes ``summary.csv``, ``audit.xlsx``, ``layers.gpkg``,
``summary.json`` and a map per county.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import NetworkError, import_optional
from ..config import Config
from ._boundaries import assign_county, read_boundaries, select_counties
from ._county import CountyTask, audit_county, slug
from ._report import SUMMARY_COLUMNS, write_reports

logger = logging.getLogger(__name__)

__all__ = ["SUMMARY_COLUMNS", "AuditResult", "audit_county", "read_boundaries", "run_audit"]


@dataclass
class AuditResult:
    summary: pd.DataFrame
    report: dict[str, Any]
    out: Path

    @property
    def targets_met(self) -> bool:
        ok = self.summary["status"] == "ok"
        return bool(ok.all() and self.summary.loc[ok, "targets_met"].astype(bool).all())


def _progress(iterable, total, verbose):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc="counties", unit="county")


def prepare_networks(
    source, boundaries: gpd.GeoDataFrame, out: Path, cfg: Config, force: bool = False, **build_kw
) -> dict[str, str]:
    """Build the source network once, then save each county's clipped piece (plus buffer).

    Returns ``{county folder name: npz path}``; a county whose clip fails maps to
    ``"error: ..."``.
    """
    from ..network import build_network

    if str(source) == "online":
        return {slug(r.county, r.code): "online" for r in boundaries.itertuples()}
    paths, todo = {}, []
    for r in boundaries.itertuples():
        name = slug(r.county, r.code)
        p = out / "networks" / f"{name}.npz"
        paths[name] = str(p)
        if force or not p.exists():
            todo.append((name, r.geometry, p))
    if not todo:
        return paths
    full = build_network(source, config=cfg, **build_kw)
    for name, geom, p in todo:
        try:
            piece = full.clip(geom, cfg.clip_buffer_m)
        except NetworkError as exc:
            paths[name] = f"error: {exc}"
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        from ..io import atomic_path

        with atomic_path(p) as tmp:
            piece.save_npz(tmp)
    return paths


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
    from ..io import load_communities, load_sites, rejects_frame

    cfg = config or Config().replace(minutes=15.0, thresholds_min=(5.0, 10.0, 15.0))
    if config is not None and config.max_distance_m is not None:
        cfg = cfg.replace(max_distance_m=None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bnd = read_boundaries(boundaries, crs=boundary_crs)
    chosen = select_counties(bnd, counties)
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
    nets = prepare_networks(network, chosen, out, cfg, force=force, **(build_kw or {}))
    metric = None
    tasks, rows = [], []
    for r in chosen.itertuples():
        name = slug(r.county, r.code)
        done = out / "counties" / name / "result.json"
        if done.exists() and not force:
            prev = json.loads(done.read_text(encoding="utf-8"))
            if prev.get("status") == "ok":
                rows.append(prev)
                continue
        npath = nets[name]
        if npath.startswith("error:"):
            rows.append(
                {
                    "county": r.county,
                    "code": r.code,
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
        tasks.append(
            CountyTask(
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
                workplaces=None
                if wd is None
                else wd[wd["county"] == r.county].reset_index(drop=True),
                demand=demand,
                scenario=scenario,
                input_crs=getattr(s, "input_crs", None) or crs,
            )
        )
    rows += _run(tasks, workers, scheduler, cfg.verbose)
    order = {slug(r.county, r.code): i for i, r in enumerate(chosen.itertuples())}
    rows.sort(key=lambda x: order.get(slug(x["county"], x.get("code", "")), 0))
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
    }
    report = write_reports(out, rows, chosen, rejects, outside, meta, lang)
    from ._report import summary_frame

    return AuditResult(summary_frame(rows), report, out)


def _run(
    tasks: list[CountyTask], workers: int | None, scheduler: str | None, verbose: bool
) -> list[dict]:
    if not tasks:
        return []
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if scheduler:
        distributed = import_optional(
            "distributed", extra="dask", feature="running counties on a Dask cluster"
        )
        with distributed.Client(scheduler) as client:
            futures = client.map(audit_county, tasks, pure=False)
            return [
                f.result()
                for f in _progress(distributed.as_completed(futures), len(futures), verbose)
            ]
    n = workers or os.cpu_count() or 1
    if n <= 1 or len(tasks) == 1:
        return [audit_county(t) for t in _progress(tasks, len(tasks), verbose)]
    import multiprocessing as mp

    with ProcessPoolExecutor(
        max_workers=min(n, len(tasks)), mp_context=mp.get_context("spawn")
    ) as ex:
        futs = [ex.submit(audit_county, t) for t in tasks]
        return [f.result() for f in _progress(as_completed(futs), len(futs), verbose)]


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
