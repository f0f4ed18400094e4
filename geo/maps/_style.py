"""What the map layers share: colours, simplify tolerances with their units, coordinate rounding
and the number/text formatters of popups."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from .. import crs as _crs

NEIGHBOUR_COLOUR = "#9e9e9e"
UNREACHABLE_COLOUR = "#7f7f7f"
WATER = "#a9cfee"
PARK = "#cfe8c4"
MAJOR_HIGHWAYS = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
}

#: Metres in one degree of latitude (and of longitude at the equator): tolerances below are
#: given in metres and converted with this; longitude degrees are shorter away from the
#: equator, so the tolerance is at most this many metres east-west.
METRES_PER_DEGREE = 111_320.0
#: Douglas-Peucker tolerance of street centre-lines (edge by edge), metres (was 0.00003 deg).
STREET_SIMPLIFY_M = 3.3
#: Tolerance of water, park and railway shapes (topology kept), metres (was 0.00002 deg).
BACKGROUND_SIMPLIFY_M = 2.2
#: Tolerance of county boundaries, metres (was 0.0001 deg).
BOUNDARY_SIMPLIFY_M = 11.0
#: Isochrones come simplified by the map (15 m); over a very large map (a city-wide network
#: 100 km across) they are simplified further, by this share of the map's extent (1 m per
#: 5 km: 28 m over 140 km), and rounded to ``COARSE_DECIMALS``, so that such a map stays a few
#: megabytes. Below 75 km across nothing changes.
ISOCHRONE_SIMPLIFY_PER_EXTENT = 1 / 5000
#: Likewise for streets: 1 m per 10 km (14 m over 140 km); below 33 km nothing changes.
STREET_SIMPLIFY_PER_EXTENT = 1 / 10000
#: Decimals of isochrone coordinates once simplified by 20 m or more: 4 decimals is about
#: 10 m, half the tolerance.
COARSE_DECIMALS = 4
#: Tolerance the map asks of isochrones, metres (``CoverageResult.isochrones(simplify_m=)``).
ISOCHRONE_SIMPLIFY_M = 15.0
#: Decimals of longitude/latitude for lines and polygons: 5 decimals is about 1 m.
LINE_DECIMALS = 5
#: Decimals for points (sites, communities, proposals): 6 decimals is about 0.1 m.
POINT_DECIMALS = 6


def degrees(metres: float) -> float:
    """A distance in metres as degrees of latitude (for simplify tolerances in WGS84)."""
    return metres / METRES_PER_DEGREE


def extent_m(geoms: np.ndarray) -> float:
    """The larger side of the WGS84 bounding box of ``geoms``, metres (north-south scale)."""
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms))
    if not np.isfinite([x0, y0, x1, y1]).all():
        return 0.0
    cos = float(np.cos(np.radians((y0 + y1) / 2)))
    return max((x1 - x0) * cos, y1 - y0) * METRES_PER_DEGREE


def display_tolerance_m(base_m: float, extent: float, per_extent: float) -> float:
    """The simplify tolerance for a map ``extent`` metres across: ``base_m``, or
    ``per_extent x extent`` on very large maps."""
    return max(base_m, extent * per_extent)


def shift(geoms: np.ndarray, gcj: bool, decimals: int = POINT_DECIMALS) -> np.ndarray:
    """Shift to GCJ-02 for Amap tiles if asked, and round (5 decimals ~ 1 m) to keep files small."""

    def fn(c: np.ndarray) -> np.ndarray:
        if gcj:
            c = np.column_stack(_crs.wgs84_to_gcj02(c[:, 0], c[:, 1]))
        return np.round(c, decimals)

    return shapely.transform(np.asarray(geoms), fn)


def _num(x: Any, nd: int = 0) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "" if x is None else str(x)
    return "—" if not np.isfinite(v) else f"{v:,.{nd}f}"


def _str(col) -> list[str]:
    return ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in col]
