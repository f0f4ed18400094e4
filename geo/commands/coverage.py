"""``servicecircle coverage``: walk distance and coverage for every community, with tables,
workbook, isochrones and maps in ``--out``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import schema
from ..coverage import compute_coverage
from ..outputs import start_maps, write_coverage_outputs
from ._console import print_summary, print_views
from ._inputs import config, load, output_crs
from ._views import console_rejects, load_summary, map_kwargs, start_background, views


def cmd_coverage(a: argparse.Namespace) -> int:
    cfg = config(a)
    # the maps' child imports folium and matplotlib while the network loads and coverage runs
    maps = None if a.no_map else start_maps()
    try:
        return _coverage(a, cfg, maps)
    finally:
        if maps is not None:
            maps.close()  # reaps it; ends it when the command stopped before the maps


def _coverage(a: argparse.Namespace, cfg, maps) -> int:
    net, sites, comms, rejects, boundary = load(a, cfg)
    bg = None if a.no_map else start_background(net, a)  # read while the coverage runs
    try:
        res = compute_coverage(net, sites.data, comms.data, config=cfg)
        res, demand, rejects = views(a, res, boundary, rejects)
        kw = map_kwargs(a, net, sites, boundary, bg) if bg is not None else {"lang": a.lang}
    finally:
        if bg is not None:
            bg.close()
    out = Path(a.out)
    write_coverage_outputs(
        res,
        out,
        rejects=rejects,
        inputs={"sites": a.sites, "communities": a.communities, "network": a.network},
        map_kwargs=kw,
        write_map=not a.no_map,
        isochrones=not a.no_isochrones,
        output_crs=output_crs(a, sites),
        extra_summary=load_summary(a, sites, rejects),
        views=demand,
        workbook="coverage.xlsx",
        parallel=True,  # workbook and map.png in child processes where that is safe
        maps_job=maps,
    )
    metrics = schema.apply_metrics(res.communities, res.config, "summary")
    print_summary({**res.summary, **metrics, **console_rejects(a, rejects)}, out, a.lang)
    print_views(demand, cfg.main_level, a.lang)
    return 0
