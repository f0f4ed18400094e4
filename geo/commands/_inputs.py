"""Reading a command's inputs: the run's Config, the study area, sites, communities and the
network (shared by coverage, map, gaps and compare)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import crs as _crs
from ..config import DEFAULT_THRESHOLDS_MIN, DEFAULT_WALK_SPEED_KMH, Config
from ..io import (
    NoUsableRowsError,
    load_boundaries,
    load_communities,
    load_sites,
    rejects_frame,
    write_csv,
)
from ..network import ProjectedWithoutCRS, build_network
from ._console import print_kind_mapping

logger = logging.getLogger("geo")


def kv(items: Sequence[str] | None, what: str) -> dict[str, str]:
    """``LABEL=VALUE`` options (``--kind``, ``--col``) as a dict; stops on any other form."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"error: {what} takes LABEL=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def config(a: argparse.Namespace, **over) -> Config:
    """The run's :class:`~geo.config.Config` from the walk and run options (geo.cli)."""
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


def boundary_of(path, crs=None):
    """One study-area polygon file (``--boundary``), repaired."""
    from ..audit import repair_polygons  # the audit package only when boundaries are used

    return repair_polygons(load_boundaries(path, crs=crs), path)


def area(a: argparse.Namespace):
    """The study area: ``--boundary FILE``, or ``--county NAME`` of ``--boundaries FILE``.

    Returns (boundary GeoDataFrame or None, all boundaries for naming counties or None).
    """
    if getattr(a, "county", None) and not getattr(a, "boundaries", None):
        raise SystemExit("error: --county needs --boundaries FILE (county polygons)")
    allb = None
    if getattr(a, "boundaries", None):
        from ..audit import read_boundaries, select_counties

        allb = read_boundaries(a.boundaries, crs=getattr(a, "boundary_crs", None))
        if getattr(a, "county", None):
            return select_counties(allb, a.county), allb
    if a.boundary:
        return boundary_of(a.boundary), allb
    return None, allb


def load_kw(a: argparse.Namespace) -> dict:
    """The loaders' reading options from the command line."""
    return {
        "crs": a.crs,
        "encoding": a.encoding,
        "fix_swapped": a.fix_swapped,
        "sheet": getattr(a, "sheet", None),
        "layer": getattr(a, "layer", None),
        "lang": getattr(a, "lang", "zh"),
    }


def loaded(fn, path, out: Path | None, **kw):
    """Run a loader; when every row is rejected, still write rejects.csv before stopping."""
    try:
        return fn(path, **kw)
    except NoUsableRowsError as exc:
        if out is not None:
            write_csv(exc.result.rejects, Path(out) / "rejects.csv")
            exc.fix = f"{exc.fix}: {Path(out) / 'rejects.csv'}"
            exc.args = (exc._format(),)
        raise


def load(a: argparse.Namespace, cfg: Config):
    """Sites, communities and network of coverage, map and gaps.

    Returns (network, sites, communities, rejects, boundary); sets ``a._boundaries_all``.
    """
    boundary, allb = area(a)
    a._boundaries_all = allb
    cols = kv(a.col, "--col")
    out = getattr(a, "out", None)
    out = out if out is not None and Path(out).suffix.lower() != ".html" else None
    kw = load_kw(a)
    sites = loaded(
        load_sites, a.sites, out, columns=cols or None, kinds=kv(a.kind, "--kind"),
        boundary=grown(boundary, cfg.clip_buffer_m), allow_unknown_kinds=a.allow_unknown_kinds,
        **kw,
    )  # fmt: skip
    ccols = {k: v for k, v in cols.items() if k != "kind"}
    comms = loaded(
        load_communities, a.communities, out, columns=ccols or None, boundary=boundary,
        max_population=a.max_population, **kw,
    )  # fmt: skip
    print_kind_mapping(sites.kind_mapping, kw["lang"])
    if allb is not None:
        fill_county(comms.data, allb)
        fill_county(sites.data, allb)
    net = _network(a, cfg, boundary, sites)
    return net, sites, comms, rejects_frame(sites, comms), boundary


def _network(a: argparse.Namespace, cfg: Config, boundary, sites):
    try:
        return build_network(
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


def grown(boundary, metres: float):
    """The boundary grown by ``metres``: sites that far outside still serve people inside."""
    if boundary is None:
        return None
    c = boundary.to_crs(4326).union_all().centroid
    utm = _crs.utm_crs(c.x, c.y)
    return boundary.to_crs(utm).buffer(metres).to_crs(4326)


def fill_county(data, boundaries) -> None:
    """Name the county of rows whose own county cell is empty, from the boundaries."""
    if not len(data):
        return
    empty = data["county"].astype(str).isin(["", "nan", "None"]).to_numpy()
    if empty.any():
        from ..audit import assign_county

        data.loc[empty, "county"] = np.asarray(assign_county(data, boundaries), object)[empty]


def output_crs(a: argparse.Namespace, loaded) -> str | None:
    """``--output-crs``, else the input's system when it is GCJ-02/BD-09."""
    return _crs.output_system(getattr(a, "output_crs", None), loaded.input_crs)
