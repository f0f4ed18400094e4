"""Coordinates of a site or community table: read (columns, a pair column or geometries),
checked (missing, unparsable, swapped, out of range, a CRS that does not fit) and converted to
WGS84, with every unusable row rejected through :class:`geo.io._fields._Rows`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import crs as _crs
from .._errors import CRSError, InputError
from ._columns import PAIR_ALIASES, norm_header
from ._fields import Role, _Rows, _texts
from ._values import parse_coords, split_pair

logger = logging.getLogger(__name__)


# --- coordinates -------------------------------------------------------------------------------


@dataclass
class _Coords:
    x: np.ndarray
    y: np.ndarray
    raw_x: np.ndarray
    raw_y: np.ndarray
    lon_col: str
    lat_col: str
    crs: object
    geoms: np.ndarray | None = None  # kept for community polygons


def _vector_coords(df: gpd.GeoDataFrame, role: Role, crs: object, path: Path) -> _Coords:
    src = crs
    if src is None:
        src = df.crs if df.crs is not None else "wgs84"
        if df.crs is None:
            logger.warning("%s has no CRS; assuming WGS84 longitude/latitude", path.name)
    geoms = df.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    pts = np.where(empty, None, geoms)
    is_point = shapely.get_type_id(pts) == 0
    rep = np.where(is_point | empty, pts, shapely.point_on_surface(pts))
    x = np.where(empty, np.nan, shapely.get_x(rep))
    y = np.where(empty, np.nan, shapely.get_y(rep))
    keep = None if role == "site" or is_point.all() else geoms
    raw_x = np.where(empty, "", x.astype(str))
    raw_y = np.where(empty, "", y.astype(str))
    return _Coords(x, y, raw_x, raw_y, "geometry", "geometry", src, keep)


def _table_coords(df: pd.DataFrame, cols: dict[str, str], crs: object, path: Path) -> _Coords:
    if "lon" in cols and "lat" in cols:
        lon_col, lat_col = cols["lon"], cols["lat"]
        raw_x, raw_y = _texts(df, lon_col), _texts(df, lat_col)
    else:
        pair = cols.get("pair") or next(
            (c for c in df.columns if norm_header(c) in {norm_header(a) for a in PAIR_ALIASES}),
            None,
        )
        if pair is None:
            missing = [f for f in ("lon", "lat") if f not in cols]
            raise InputError(
                f"找不到经度或纬度列 / no {' or '.join(missing)} column found",
                file=path,
                value=list(map(str, df.columns)),
                fix="name the columns lon/lat (or 经度/纬度, or one 经纬度 column), or choose "
                "them with --col lon=HEADER --col lat=HEADER",
            )
        halves = [split_pair(v) for v in _texts(df, pair)]
        raw_x = np.array([h[0] for h in halves], dtype=object)
        raw_y = np.array([h[1] for h in halves], dtype=object)
        lon_col = lat_col = pair
        cols["pair"] = pair
    src = "wgs84" if crs is None else crs
    return _Coords(parse_coords(raw_x), parse_coords(raw_y), raw_x, raw_y, lon_col, lat_col, src)


def _check_crs_fits(c: _Coords, parsed: object, path: Path) -> None:
    """Stop when a projected CRS is declared for values that are evidently degrees."""
    if not isinstance(parsed, pyproj.CRS) or parsed.is_geographic:
        return
    ok = np.isfinite(c.x) & np.isfinite(c.y)
    if ok.sum() and (np.abs(c.x[ok]) <= 180).all() and (np.abs(c.y[ok]) <= 90).all():
        lon, lat = float(np.median(c.x[ok])), float(np.median(c.y[ok]))
        raise CRSError(
            f"坐标看起来是经纬度(度)，不是 --crs 所说的投影坐标(米) / the coordinates look like "
            f"longitude/latitude degrees, not the projected metres of {parsed.to_string()}",
            file=path,
            value=f"{lon:.6f}, {lat:.6f}",
            fix="drop --crs (WGS84 degrees), or give the system the degrees are in, e.g. "
            "--crs gcj02 for Amap, --crs bd09 for Baidu; if the file declares this CRS, "
            "override it with --crs",
        )


def _validate_coords(c: _Coords, rows: _Rows, geographic: bool, fix_swapped: bool) -> None:
    for i in range(len(c.x)):
        for val, raw, col, label in (
            (c.x[i], c.raw_x[i], c.lon_col, "longitude"),
            (c.y[i], c.raw_y[i], c.lat_col, "latitude"),
        ):
            if raw == "":
                rows.reject(i, col, "missing_coord", value=raw, label=label)
                break
            if not np.isfinite(val):
                rows.reject(i, col, "bad_coord", value=raw, label=label)
                break
    if not geographic:
        return
    x, y = c.x, c.y
    ok = np.isfinite(x) & np.isfinite(y)
    china_share = _crs.in_china(x[ok], y[ok]).mean() if ok.any() else 0.0
    out_of_range = ok & ((np.abs(y) > 90) | (np.abs(x) > 180))
    swapped = ok & _crs.in_china(y, x) & ~_crs.in_china(x, y)
    swapped &= out_of_range | (china_share >= 0.5) | (china_share == 0)
    col = f"{c.lon_col}/{c.lat_col}" if c.lon_col != c.lat_col else c.lon_col
    for i in np.flatnonzero(swapped | out_of_range):
        value = f"{c.raw_x[i]}, {c.raw_y[i]}"
        if swapped[i] and fix_swapped:
            logger.warning(
                "%s row %d: latitude/longitude swapped; fixed", rows.path.name, rows.rows[i]
            )
            x[i], y[i] = y[i], x[i]
        else:
            rows.reject(i, col, "swapped" if swapped[i] else "out_of_range", value=value)


def _to_wgs84(c: _Coords, rows: _Rows, parsed: object) -> tuple[np.ndarray, np.ndarray]:
    good = ~rows.bad
    lon = np.full(len(c.x), np.nan)
    lat = np.full(len(c.x), np.nan)
    if good.any():
        lon[good], lat[good] = _crs.to_wgs84(c.x[good], c.y[good], parsed)
    col = f"{c.lon_col}/{c.lat_col}" if c.lon_col != c.lat_col else c.lon_col
    for i in np.flatnonzero(good & ~(np.isfinite(lon) & np.isfinite(lat))):
        rows.reject(i, col, "cannot_convert", value=f"{c.raw_x[i]}, {c.raw_y[i]}", crs=c.crs)
    return lon, lat
