"""Write a coverage run's files: per-community CSV, rejects, JSON summary, isochrones, map."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _background, schema
from . import crs as _crs
from ._fonts import cjk_font as _cjk_font  # old private name, kept for callers
from ._maps_job import _Maps, start_maps  # noqa: F401  (start_maps: its public home)
from .config import MAX_SITE_ISOCHRONES
from .coverage import CoverageResult
from .io import REJECT_COLUMNS, atomic_path, write_csv, write_geojson, write_json

logger = logging.getLogger(__name__)

#: Columns the per-community table never writes (loader internals; the system coordinates are
#: re-added beside lon/lat by :func:`geo.crs.add_system_columns`).
#: Scheduler priority the workbook's child gives up (:func:`os.nice`): the command's end waits
#: for the isochrones and the map, so on two cores they get the CPU first (Helsinki, 200 sites:
#: 2.45 s -> 2.15 s wall; the workbook still ends before the map).
WORKBOOK_NICE = 10

_INTERNAL = ("row", "src_x", "src_y", "geometry", "lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09")


def with_metrics(res: CoverageResult) -> CoverageResult:
    """``res`` with every registered metric (:func:`geo.schema.metric`) computed."""
    comms = schema.apply_metrics(res.communities, res.config, "communities")
    sites = schema.apply_metrics(res.sites, res.config, "sites")
    if comms is res.communities and sites is res.sites:
        return res
    extra = schema.apply_metrics(comms, res.config, "summary")
    return dataclasses.replace(
        res, communities=comms, sites=sites, summary={**res.summary, **extra}, _cache=res._cache
    )


def community_table(res: CoverageResult, output_crs: str | None = None) -> pd.DataFrame:
    """The per-community table in the registry's order (:data:`geo.schema.TABLES`): contract
    columns, every level's flag, metrics, then the input's own columns (街道, 备注 ...)."""
    c = schema.apply_metrics(res.communities, res.config, "communities").copy()
    if "lon" not in c or c["lon"].isna().all():
        pts = c.geometry.representative_point()
        c["lon"], c["lat"] = pts.x, pts.y
    out = pd.DataFrame(schema.order_columns(c, "communities", drop=_INTERNAL))
    for k in ("snap_distance_m", "walk_distance_m"):
        out[k] = out[k].round(1)
    out["walk_time_min"] = out["walk_time_min"].round(2)
    out["lon"], out["lat"] = out["lon"].astype(float).round(6), out["lat"].astype(float).round(6)
    return _crs.add_system_columns(out, output_crs)


def off_network_rejects(
    res: CoverageResult, sites_file: object = "", communities_file: object = "", lang: str = "zh"
) -> pd.DataFrame:
    """Sites that serve no one because no street is within ``max_snap_m``, and sites or
    communities so far from every street (> ``FAR_OUTSIDE_M``) that they lie outside the
    network's area altogether (sea, another region)."""
    from .io import FAR_OUTSIDE_M, reject_frame, reject_row

    recs = []
    for frame, file, id_col, only_far in (
        (res.sites, sites_file, "site_id", False),
        (res.communities, communities_file, "community_id", True),
    ):
        d = frame["snap_distance_m"].to_numpy(float) if "snap_distance_m" in frame else []
        for i in np.flatnonzero(frame["off_network"].to_numpy(bool)):
            far = not np.isfinite(d[i]) or d[i] > FAR_OUTSIDE_M
            if only_far and not far:
                continue
            r = frame.iloc[i]
            recs.append(
                reject_row(
                    file=file,
                    row=r.get("row", ""),
                    rid=r.get(id_col, ""),
                    name=r.get("name", ""),
                    column="lon/lat",
                    value=f"{d[i]:.0f} m" if np.isfinite(d[i]) else "no geometry",
                    code="far_outside" if far and np.isfinite(d[i]) else "off_network",
                    lang=lang,
                    max_snap_m=res.config.max_snap_m,
                    km=d[i] / 1000 if np.isfinite(d[i]) else 0.0,
                )
            )
    return reject_frame(recs)


def site_table(res: CoverageResult, output_crs: str | None = None) -> pd.DataFrame:
    """The per-site table: the input's columns in their order (unknown ones pass through),
    then the computed ones and every registered site metric."""
    sites = schema.apply_metrics(res.sites, res.config, "sites")
    s = pd.DataFrame(sites.drop(columns=["geometry", "src_x", "src_y"], errors="ignore"))
    s["snap_distance_m"] = s["snap_distance_m"].round(1)
    return _crs.add_system_columns(s, output_crs)


def write_coverage_outputs(
    res: CoverageResult,
    out: str | Path,
    *,
    rejects: pd.DataFrame | None = None,
    inputs: dict[str, Any] | None = None,
    map_kwargs: dict[str, Any] | None = None,
    write_map: bool = True,
    isochrones: bool = True,
    extra_summary: dict[str, Any] | None = None,
    proposal=None,
    output_crs: str | None = None,
    views=None,
    workbook: str | None = None,
    parallel: bool = False,
    maps_job: _background.Job | None = None,
) -> dict[str, Path]:
    """Write ``communities.csv``, ``sites.csv``, ``rejects.csv``, ``isochrones.geojson``,
    ``summary.json`` and ``map.html`` under ``out`` (each atomically).

    With a ``proposal`` (from :func:`geo.optimize.propose_sites`) also
    ``proposed_sites.csv``, ``marginal_gain.csv``, ``marginal_gain.png`` and
    ``candidates.csv``, and the proposals go on the map and into ``summary.json``.
    ``output_crs`` (``gcj02``/``bd09``) adds ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``) beside
    WGS84 in every table with coordinates. ``workbook`` (``coverage.xlsx``, ``gaps.xlsx``)
    also writes the tables as a meeting-ready workbook (:mod:`geo.report_xlsx`).
    ``parallel`` (the command line): the workbook, and the maps (``map.html``, ``map.png``),
    are written by forked child processes while this one builds the isochrones; the child of
    the maps imports folium and matplotlib meanwhile (:mod:`geo._background`; the same files,
    written here in sequence where forking is not safe). ``maps_job``: the maps' job from
    :func:`start_maps`, started earlier (closed here when done).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lang = (map_kwargs or {}).get("lang", "zh")
    res = with_metrics(res)
    jobs: dict[str, _background.Job] = {}
    try:
        if write_map:  # first: its child draws most of the maps while the tables and the
            run = {"res": res, "out": out, "map_kwargs": map_kwargs or {}, "proposal": proposal,
                   "views": views}  # isochrones are made here  # fmt: skip
            if maps_job is not None:  # started before the run existed: the run goes to it
                jobs["maps"] = maps_job
                maps_job.send({**run, "res": _without_cache(res)}, last=False)
            else:  # the child has the run from the fork
                writer = _Maps(run)
                jobs["maps"] = _background.start(writer.write, parallel=parallel,
                                                 wait_input=True, prepare=writer.prepare,
                                                 early=writer.early,
                                                 what="map.html and map.png")  # fmt: skip
        paths, summary = _write_tables(res, out, rejects, inputs, output_crs, views, proposal,
                                       extra_summary, lang)  # fmt: skip
        if workbook and parallel:  # the tables are written: the workbook can start now
            jobs["workbook"] = _start_workbook(res, out / workbook, paths, summary, write_map,
                                               proposal, lang, parallel)  # fmt: skip
        maps = jobs.get("maps")
        iso = _isochrones(res, isochrones, maps if maps is not None and maps.forked else None)
        if maps is not None and maps.forked:
            maps.send({"iso": iso})
        if len(iso):
            paths["isochrones"] = write_geojson(gpd.GeoDataFrame(iso), out / "isochrones.geojson")
        if maps is not None:
            if not maps.forked:
                maps.send({"iso": iso})
            summary["map"] = maps.result()
            paths["map"], paths["map_png"] = out / "map.html", out / "map.png"
        if workbook:
            if "workbook" not in jobs:
                jobs["workbook"] = _start_workbook(res, out / workbook, paths, summary,
                                                   write_map, proposal, lang, False)  # fmt: skip
            paths["workbook"] = jobs["workbook"].result()
    finally:
        for job in jobs.values():
            job.close()  # reap a child this process did not wait for (after an error)
    paths["summary"] = write_json(summary, out / "summary.json")
    return paths


def _without_cache(res: CoverageResult) -> CoverageResult:
    """``res`` without what it keeps for later computations (the sites' reach: 8 of the 10 MB
    a Helsinki run sends through the pipe to the maps' child, which never uses it)."""
    return dataclasses.replace(res, _cache={}) if res._cache else res


def _write_tables(res, out: Path, rejects, inputs, output_crs, views, proposal, extra_summary,
                  lang: str) -> tuple[dict[str, Path], dict[str, Any]]:  # fmt: skip
    """The CSV tables (and the proposal's files); returns their paths and summary.json's
    content so far."""
    rejects = _all_rejects(res, rejects, inputs or {}, lang)
    paths = {
        "communities": write_csv(community_table(res, output_crs), out / "communities.csv"),
        "sites": write_csv(site_table(res, output_crs), out / "sites.csv"),
        "rejects": write_csv(rejects, out / "rejects.csv"),
    }
    if views is not None:  # streets.csv, uncovered_streets.geojson, workplaces.csv
        paths.update(views.write(out))
    summary = run_summary(res, rejects, output_crs, inputs, extra_summary)
    if proposal is not None:
        paths.update(_write_proposal(proposal, out, output_crs, lang))
        summary["proposal"] = proposal.summary
    return paths, summary


def _all_rejects(res, rejects: pd.DataFrame | None, inputs: dict, lang: str) -> pd.DataFrame:
    """The loaders' rejects plus the points far from every street."""
    far = off_network_rejects(res, inputs.get("sites", ""), inputs.get("communities", ""), lang)
    base = rejects if rejects is not None else pd.DataFrame(columns=REJECT_COLUMNS)
    return pd.concat([base, far], ignore_index=True)


def _isochrones(res, isochrones: bool, maps: _background.Job | None = None) -> gpd.GeoDataFrame:
    """The isochrones an output uses (isochrones.geojson, the maps); none when not wanted.
    ``maps`` (a forked maps' job) gets the main level's as soon as they exist: map.png draws
    only those, while this process makes the other levels."""
    if not isochrones:
        return res.isochrones(minutes=[])
    by = "site" if len(res.sites) <= MAX_SITE_ISOCHRONES else "kind"
    if maps is None:
        return res.isochrones(by=by)

    def on_level(level: str, frame: gpd.GeoDataFrame) -> None:
        if level == res.config.main_level:
            maps.send({"main_isochrones": frame}, last=False)

    return res.isochrones(by=by, on_level=on_level)


def run_summary(
    res: CoverageResult,
    rejects: pd.DataFrame,
    output_crs: str | None = None,
    inputs: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``summary.json``'s content before the proposal and map keys (pure)."""
    summary = dict(res.summary)
    summary["rejected_rows"] = len(rejects)
    if len(rejects):
        summary["rejects_by_reason"] = rejects["reason"].value_counts().to_dict()
        summary["rejects_by_category"] = (
            rejects["category"].fillna("error").value_counts().to_dict()
        )
    summary["output_crs"] = output_crs or "wgs84"
    summary["config"] = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(res.config).items()
    }
    if inputs:
        summary["inputs"] = {k: str(v) for k, v in inputs.items()}
    if extra:
        summary.update(extra)
    return summary


def _write_proposal(proposal, out: Path, output_crs: str | None, lang: str) -> dict[str, Path]:
    """proposed_sites.csv, marginal_gain.csv (and .png), candidates.csv."""
    paths = {
        "proposed_sites": write_csv(
            proposal_table(proposal, output_crs), out / "proposed_sites.csv"
        ),
        "marginal_gain": write_csv(proposal.curve, out / "marginal_gain.csv"),
    }
    cands = pd.DataFrame(proposal.candidates.drop(columns="geometry"))
    paths["candidates"] = write_csv(
        _crs.add_system_columns(cands, output_crs), out / "candidates.csv"
    )
    if len(proposal.curve):
        paths["marginal_gain_plot"] = plot_marginal_gain(
            proposal.curve, out / "marginal_gain.png", lang
        )
    return paths


def summary_row(summary: dict[str, Any]) -> dict[str, Any]:
    """A coverage summary (``res.summary``) as one row of the registry's ``summary`` table."""
    row: dict[str, Any] = {
        "communities": summary.get("communities"),
        "population": summary.get("population"),
        "sites": summary.get("sites"),
    }
    for level, v in summary.get("levels", {}).items():
        row[f"communities_covered_{level}"] = v["communities_covered"]
        row[f"population_covered_{level}"] = v["population_covered"]
        row[f"population_covered_{level}_share"] = v["population_share"]
    row["uncovered_communities"] = summary.get("communities", 0) - summary.get(
        "communities_covered", 0
    )
    row["off_network_communities"] = summary.get("communities_off_network")
    metric_cols = [m.column for m in schema.METRICS.values() if m.table == "summary"]
    row.update({k: summary[k] for k in metric_cols if k in summary})
    if summary.get("map"):
        row["map"] = summary["map"]["file"]
    return row


def _start_workbook(res, path: Path, paths: dict, summary: dict, write_map: bool, proposal,
                    lang: str, parallel: bool) -> _background.Job:  # fmt: skip
    """The workbook job: its summary row names the map (``map.html``) before the map exists."""
    if write_map and "map" not in summary:
        summary = {**summary, "map": {"file": "map.html"}}
    return _background.start(
        _write_workbook, res, path, dict(paths), summary, proposal, lang, parallel=parallel,
        what=path.name, nice=WORKBOOK_NICE, prepare=_warm_workbook,
    )  # fmt: skip


def _warm_workbook() -> None:
    """The workbook's modules, imported first in its child (with no garbage collection
    meanwhile: :func:`geo._memory.imports_uncollected`)."""
    import xlsxwriter  # noqa: F401

    from . import report_xlsx  # noqa: F401


def _write_workbook(res, path: Path, paths: dict, summary: dict, proposal, lang: str) -> Path:
    """coverage.xlsx / gaps.xlsx: the summary row, then each CSV table just written."""
    from .report_xlsx import parameters, write_workbook

    tables = {"summary": schema.order_columns(pd.DataFrame([summary_row(summary)]), "summary")}
    for key in ("proposed_sites", "marginal_gain", "communities", "sites", "candidates",
                "streets", "uncovered_main_roads", "workplaces", "rejects"):  # fmt: skip
        if key in paths and paths[key].suffix == ".csv":
            df = pd.read_csv(paths[key], encoding="utf-8-sig", dtype={"code": str})
            if len(df) or key != "rejects":
                tables[key] = df
    params = parameters(
        res.config,
        {"source": (summary.get("inputs") or {}).get("network"), **summary.get("network", {})},
        output_crs=summary.get("output_crs"),
        input_crs=summary.get("input_crs"),
    )
    return write_workbook(tables, path, lang=lang, params=params)


def proposal_table(prop, output_crs: str | None = None) -> pd.DataFrame:
    sites = _crs.add_system_columns(pd.DataFrame(prop.sites), output_crs)
    cols = [c for c in schema.table_columns("proposed_sites") if c in sites.columns]
    return pd.DataFrame(sites[cols])


def plot_marginal_gain(curve: pd.DataFrame, path: str | Path, lang: str = "zh") -> Path:
    """Covered population against new sites, as a PNG (Chinese labels when a CJK font exists)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = _cjk_font()
    zh = lang == "zh" and font is not None
    if lang == "zh" and font is None:
        logger.info("no CJK font found (install fonts-wqy-microhei); plot labels in English")
    rc = {"font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    import matplotlib

    with matplotlib.rc_context(rc):  # a Figure of its own: the user's backend is untouched
        fig = Figure(figsize=(7, 4), dpi=120)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        x = curve["new_sites"].to_numpy()
        y = 100 * curve["covered_share"].to_numpy()
        ax.plot(x, y, marker="o", color="#3182bd")
        for xi, yi in zip(x, y, strict=True):
            ax.annotate(
                f"{yi:.1f}%",
                (xi, yi),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
            )
        ax.set_xlabel("新增站点数" if zh else "New sites")
        ax.set_ylabel("覆盖人口比例 (%)" if zh else "Population covered (%)")
        ax.set_title("边际收益曲线" if zh else "Marginal gain of new sites")
        ax.set_xticks(x)
        ax.set_ylim(0, 100)  # from 0%: a truncated axis would exaggerate the gains
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    return Path(path)
