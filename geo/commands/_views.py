"""What coverage, map and gaps add around the coverage itself: the demand views of issue 15
(streets, workplaces, capacity, partial coverage), the map options and the summary extras."""

from __future__ import annotations

import argparse
import logging

import geopandas as gpd
import pandas as pd
import shapely

from .. import _background
from .._errors import InputError
from ..coverage.partial import osm_buildings
from ..coverage.views import demand_views
from ..io import describe_rejects, load_workplaces
from ..network import background_for

logger = logging.getLogger("geo")


def views(a: argparse.Namespace, res, boundary, rejects):
    """The demand views: returns (result, views, rejects with the workplaces' rejects)."""
    wp = None
    if a.workplaces:
        w = load_workplaces(
            a.workplaces,
            crs=a.crs,
            encoding=a.encoding,
            boundary=boundary,
            fix_swapped=a.fix_swapped,
        )
        wp = w.data
        rejects = pd.concat([rejects, w.rejects], ignore_index=True) if len(w.rejects) else rejects
    kw = demand_kw(a)
    area = None
    if boundary is not None:  # street km count inside the study area only
        area = shapely.union_all(boundary.geometry.to_crs(4326).values)
    res, found = demand_views(res, workplaces=wp, area=area, **kw)
    return res, found, rejects


def demand_kw(a: argparse.Namespace) -> dict:
    """demand_views options from the command line (the audit runs them per county)."""
    kw: dict = {"community_coverage": a.community_coverage, "decay": a.decay}
    if a.buildings:
        bld = gpd.read_file(a.buildings)
        kw["buildings"] = bld.set_crs(4326) if bld.crs is None else bld
    elif a.community_coverage == "area":  # the OSM source's own buildings, if it has any
        kw["buildings"] = osm_buildings(a.network)
    if a.main_roads:
        kw["main_roads"] = _main_roads(a.main_roads)
    return kw


def _main_roads(path):
    try:
        roads = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(
            f"cannot read the main-road file ({exc})",
            file=path,
            fix="give a line file (.shp with .shx, .gpkg or .geojson)",
        ) from exc
    if roads.crs is None:
        logger.warning("%s has no CRS; assuming WGS84 longitude/latitude", path)
        roads = roads.set_crs(4326)
    return roads


def load_summary(a: argparse.Namespace, sites, rejects) -> dict:
    """What the loaders decided, for summary.json."""
    return {
        "kind_mapping": sites.kind_mapping,
        "input_crs": sites.input_crs,
        "county": list(a.county) if getattr(a, "county", None) else None,
        "rejects_by_category_at_load": (
            rejects["category"].value_counts().to_dict() if len(rejects) else {}
        ),
    }


def console_rejects(a: argparse.Namespace, rejects) -> dict:
    """The rejected-rows line of the console summary."""
    return {
        "rejected_rows": len(rejects),
        "rejects_line": describe_rejects(rejects, a.lang) if len(rejects) else "",
    }


def map_kwargs(a: argparse.Namespace, net, sites, boundary, background_job=None) -> dict:
    """The offline map options that coverage and gaps share; ``background_job`` (from
    :func:`start_background`) gives the background read meanwhile by another process."""
    return {
        "lang": a.lang,
        "offline": True,
        "basemap": "none",
        "scenario": a.scenario,
        "input_crs": sites.input_crs,
        "boundaries": boundary,
        "background": (
            background_job.result() if background_job is not None else background(net, a)
        ),
    }


def start_background(net, a: argparse.Namespace):
    """Read the map background (:func:`background`) in a forked child while this process
    computes the coverage (:mod:`geo._background`; here when forking is not safe)."""
    return _background.start(background, net, a, what="the map background")


def background(net, a: argparse.Namespace | None = None):
    """The map background: the network's own OSM file, plus ``--background`` files."""
    return background_for(net, getattr(a, "background", None) if a is not None else None)
