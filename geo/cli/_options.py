"""Options that several ``servicecircle`` commands share, each declared once.

Defaults come from :class:`geo.config.Config` and the constants of :mod:`geo.config`, never
typed a second time. This module imports nothing heavy: ``--help`` and argument errors must not
load geopandas, folium or matplotlib.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import DEFAULT_THRESHOLDS_MIN, MAX_POPULATION, Config

NETWORK_CRS_HELP = "override a road file's CRS (gcj02...)"
BOUNDARY_CRS_HELP = "the boundaries' CRS, e.g. gcj02"


def run_opts(p: argparse.ArgumentParser, *, no_cache: bool = True) -> None:
    """-v, -q, --cache-dir (and --no-cache): how a command runs, not what it computes."""
    g = p.add_argument_group("run")
    g.add_argument("--cache-dir", type=Path, default=None, help="network cache folder")
    if no_cache:
        g.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("-v", "--verbose", action="store_true", help="log progress")
    g.add_argument("-q", "--quiet", action="store_true", help="only errors")


def walk_opts(p: argparse.ArgumentParser, *, distance: bool = True) -> None:
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


def common(p: argparse.ArgumentParser) -> None:
    """Walk settings and run options (coverage, gaps, map, compare)."""
    walk_opts(p)
    run_opts(p)


def lang_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="language of outputs (zh: Chinese)"
    )


def output_opts(p: argparse.ArgumentParser, out_help: str = "output folder") -> None:
    """--lang, --no-map, --scenario/--no-scenario and --out."""
    lang_opt(p)
    p.add_argument("--no-map", action="store_true", help="skip the HTML map")
    scenario_opt(p)
    p.add_argument("--out", required=True, type=Path, help=out_help)


def background_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--background",
        action="append",
        default=None,
        metavar="FILE",
        help="extra map background (any vector file, e.g. water polygons); repeatable",
    )


def network_opts(p: argparse.ArgumentParser, what: str = "the area") -> None:
    p.add_argument(
        "--network",
        required=True,
        help=f"network for {what}: OSM .osm/.osm.pbf, road lines (.shp/.gpkg/.geojson), "
        ".graphml, or a place name / 'online'",
    )
    network_crs_opt(p)
    island_opts(p)


def network_crs_opt(p: argparse.ArgumentParser, help: str = NETWORK_CRS_HELP) -> None:
    p.add_argument("--network-crs", default=None, help=help)


def boundary_crs_opt(p: argparse.ArgumentParser, help: str = BOUNDARY_CRS_HELP) -> None:
    p.add_argument("--boundary-crs", default=None, help=help)


def island_opts(p: argparse.ArgumentParser) -> None:
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


def point_opts(p: argparse.ArgumentParser) -> None:
    """--sites, --communities, --crs, --kind, --col, --fix-swapped."""
    p.add_argument("--sites", required=True, type=Path, help="sites (CSV/XLSX/GeoJSON/GPKG/SHP)")
    p.add_argument("--communities", required=True, type=Path, help="communities file")
    p.add_argument(
        "--crs",
        default=None,
        help="coordinates of the site/community files: wgs84, gcj02, bd09 or EPSG:n",
    )
    kind_opt(p)
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


def kind_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kind",
        action="append",
        metavar="LABEL=KIND",
        help="map a site-kind label to a kind, e.g. 法律援助站=legal_aid",
    )


def inputs(p: argparse.ArgumentParser) -> None:
    """The inputs of coverage, gaps and map."""
    network_opts(p)
    point_opts(p)
    p.add_argument("--boundary", type=Path, default=None, help="study-area polygon file")
    planner_inputs(p)
    demand_views(p)


def demand_views(p: argparse.ArgumentParser) -> None:
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


def planner_inputs(p: argparse.ArgumentParser, *, county: bool = True) -> None:
    """Options for reading planners' files, shared by coverage, gaps, map and audit."""
    if county:
        p.add_argument(
            "--boundaries", default=None, help="county polygons; with --county, the study area"
        )
        p.add_argument("--county", nargs="+", default=None, metavar="NAME|CODE",
                       help="restrict to these counties of --boundaries")  # fmt: skip
        boundary_crs_opt(p)
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


def scenario_opt(p: argparse.ArgumentParser) -> None:
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


def new_sites_opt(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--new-sites", type=int, default=None, metavar="K", help=help)
