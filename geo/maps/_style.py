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
#: Douglas-Peucker tolerance of street centre-lines (edge by edge), metres.
STREET_SIMPLIFY_M = 3.0
#: Tolerance of water, park and railway shapes (topology kept), metres.
BACKGROUND_SIMPLIFY_M = 2.0
#: Tolerance of county boundaries, metres.
BOUNDARY_SIMPLIFY_M = 10.0
#: Decimals of longitude/latitude for lines and polygons: 5 decimals is about 1 m.
LINE_DECIMALS = 5
#: Decimals for points (sites, communities, proposals): 6 decimals is about 0.1 m.
POINT_DECIMALS = 6


def degrees(metres: float) -> float:
    """A distance in metres as degrees of latitude (for simplify tolerances in WGS84)."""
    return metres / METRES_PER_DEGREE


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
