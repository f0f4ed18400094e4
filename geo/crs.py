"""Coordinate systems: WGS84, the Chinese GCJ-02 and BD-09 offsets, and metric projections.

Amap (高德), Tencent and most Chinese government exports use GCJ-02; Baidu uses BD-09. Both are
deliberately obfuscated offsets of WGS84 of up to ~700 m. The forward formulas are public; the
inverses have no closed form and are solved here by fixed-point iteration to well under 1 mm.

All distance work happens in a projected metric CRS, chosen by :func:`utm_crs` as the local
UTM zone (WGS84 / UTM zone N, EPSG:326NN in the northern hemisphere).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from ._errors import CRSError

__all__ = [
    "SYSTEM_COLUMNS",
    "add_system_columns",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "output_system",
    "parse_crs",
    "to_wgs84",
    "transform_geometry",
    "utm_crs",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CrsName = Literal["wgs84", "gcj02", "bd09"]

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
# Convergence target of the iterative inverses, in degrees (1e-10 deg ~ 0.01 mm).
_INV_TOL_DEG = 1e-10

Float = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall in the rough rectangle where the GCJ-02 offset applies.

    Outside it, GCJ-02 equals WGS84 (the same convention Amap and every public implementation
    follow).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offsets(lon: Float, lat: Float) -> tuple[Float, Float]:
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    lon_a = np.array(lon, dtype=float, ndmin=1)
    lat_a = np.array(lat, dtype=float, ndmin=1)
    return np.broadcast_arrays(lon_a, lat_a)  # type: ignore[return-value]


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02 (Amap, Tencent)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _offsets(lon_a, lat_a)
    inside = in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def _invert(
    forward, lon: ArrayLike, lat: ArrayLike, first_guess=None, max_iter: int = 30
) -> tuple[Float, Float]:
    """Solve ``forward(w) = target`` for w by fixed-point iteration (vectorised)."""
    tlon, tlat = _as_arrays(lon, lat)
    wlon, wlat = first_guess(tlon, tlat) if first_guess else (tlon.copy(), tlat.copy())
    for _ in range(max_iter):
        flon, flat = forward(wlon, wlat)
        elon, elat = flon - tlon, flat - tlat
        wlon = wlon - elon
        wlat = wlat - elat
        err = np.nanmax(np.abs(np.concatenate([elon, elat]))) if elon.size else 0.0
        if not np.isfinite(err) or err < _INV_TOL_DEG:
            break
    return wlon, wlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    """Convert GCJ-02 longitude/latitude to WGS84, exactly (iterated to < 0.01 mm)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: Float, lat: Float) -> tuple[Float, Float]:
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    """Convert BD-09 longitude/latitude to GCJ-02, exactly (the usual formula refined)."""
    return _invert(gcj02_to_bd09, lon, lat, first_guess=_bd09_to_gcj02_approx)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    """Convert WGS84 longitude/latitude to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Float, Float]:
    """Convert BD-09 longitude/latitude to WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_ALIASES: dict[str, str] = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84", "gps": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "amap": "gcj02", "gaode": "gcj02", "tencent": "gcj02",
    "mars": "gcj02", "高德": "gcj02", "火星": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "百度": "bd09",
}  # fmt: skip


def parse_crs(crs: object) -> str | pyproj.CRS:
    """Normalise a user CRS: ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or a :class:`pyproj.CRS`.

    Accepts those names (and aliases such as ``amap`` or ``baidu``), ``EPSG:n``, an integer EPSG
    code, or anything :class:`pyproj.CRS` understands.
    """
    if isinstance(crs, pyproj.CRS):
        return "wgs84" if crs.to_epsg() == 4326 else crs
    key = str(crs).strip().lower() if crs is not None else "wgs84"
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        parsed = pyproj.CRS.from_user_input(int(key) if key.isdigit() else crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise CRSError(
            "unknown coordinate system",
            column="crs",
            value=crs,
            fix="use wgs84, gcj02 (Amap/Tencent), bd09 (Baidu) or an EPSG code such as EPSG:4490",
        ) from exc
    return "wgs84" if parsed.to_epsg() == 4326 else parsed


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: object) -> tuple[Float, Float]:
    """Convert coordinates in ``crs`` (see :func:`parse_crs`) to WGS84 longitude/latitude."""
    c = parse_crs(crs)
    xa, ya = _as_arrays(x, y)
    if c == "wgs84":
        return xa.copy(), ya.copy()
    if c == "gcj02":
        return gcj02_to_wgs84(xa, ya)
    if c == "bd09":
        return bd09_to_wgs84(xa, ya)
    tr = pyproj.Transformer.from_crs(c, 4326, always_xy=True)
    lon, lat = tr.transform(xa, ya)
    return np.asarray(lon, float), np.asarray(lat, float)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: object) -> tuple[Float, Float]:
    """Convert WGS84 longitude/latitude to ``crs`` (see :func:`parse_crs`)."""
    c = parse_crs(crs)
    if c == "wgs84":
        return _as_arrays(lon, lat)
    if c == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if c == "bd09":
        return wgs84_to_bd09(lon, lat)
    tr = pyproj.Transformer.from_crs(4326, c, always_xy=True)
    x, y = tr.transform(*_as_arrays(lon, lat))
    return np.asarray(x, float), np.asarray(y, float)


def transform_geometry(geoms, fn):
    """Apply a vectorised ``fn(x, y) -> (x, y)`` to every coordinate of shapely geometries."""

    def _apply(coords: Float) -> Float:
        if len(coords) == 0:
            return coords
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)


def utm_crs(lon: ArrayLike, lat: ArrayLike) -> pyproj.CRS:
    """The WGS84 / UTM zone covering the median of the given points.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (WGS84).

    Returns
    -------
    pyproj.CRS
        EPSG:326NN (north) or EPSG:327NN (south); units are metres.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    if not ok.any():
        raise CRSError(
            "cannot choose a metric projection: no valid coordinates",
            fix="check that the input has longitude/latitude values",
        )
    mlon, mlat = float(np.median(lon_a[ok])), float(np.median(lat_a[ok]))
    zone = int(np.clip(np.floor((mlon + 180.0) / 6.0) + 1, 1, 60))
    return pyproj.CRS.from_epsg((32600 if mlat >= 0 else 32700) + zone)


#: Names of the coordinate columns added for a planner's own system.
SYSTEM_COLUMNS: dict[str, tuple[str, str]] = {
    "gcj02": ("lon_gcj02", "lat_gcj02"),
    "bd09": ("lon_bd09", "lat_bd09"),
}
#: Decimals of every output coordinate (1e-6 degree is about 0.1 m).
COORD_DECIMALS = 6


def output_system(output_crs: object = None, input_crs: object = None) -> str | None:
    """The planner's own system for output tables: ``gcj02``, ``bd09`` or None (WGS84 only).

    ``output_crs`` (``--output-crs``) wins; otherwise the input's system when it was GCJ-02 or
    BD-09.
    """
    for c in (output_crs, input_crs):
        if c is None or c == "":
            continue
        parsed = parse_crs(c)
        return parsed if parsed in SYSTEM_COLUMNS else None
    return None


def add_system_columns(df, system: str | None, lon: str = "lon", lat: str = "lat"):
    """Round WGS84 ``lon``/``lat`` to 6 decimals (about 0.1 m) and add ``lon_<system>``/
    ``lat_<system>`` beside them, in place, right after ``lat``; ``system`` ``gcj02`` or
    ``bd09`` (anything else only rounds)."""
    import pandas as pd

    if lon not in df or lat not in df:
        return df
    x = pd.to_numeric(df[lon], errors="coerce").to_numpy(float)
    y = pd.to_numeric(df[lat], errors="coerce").to_numpy(float)
    df[lon], df[lat] = np.round(x, COORD_DECIMALS), np.round(y, COORD_DECIMALS)
    if system not in SYSTEM_COLUMNS:
        return df
    fwd = wgs84_to_gcj02 if system == "gcj02" else wgs84_to_bd09
    ox, oy = fwd(x, y) if len(x) else (x, y)
    cx, cy = SYSTEM_COLUMNS[system]
    for c in (cx, cy):
        if c in df:
            del df[c]
    at = list(df.columns).index(lat) + 1
    df.insert(at, cx, np.round(ox, COORD_DECIMALS))
    df.insert(at + 1, cy, np.round(oy, COORD_DECIMALS))
    return df


#: EPSG codes of CGCS2000 3-degree Gauss-Krüger projections: "CM" variants (false easting
#: 500 km, no zone prefix) for central meridians 75..135 E, and zone-prefixed variants 25..45.
_GK3_CM_FIRST, _GK3_ZONE_FIRST = 4534, 4513


def gauss_kruger_epsg(lon: float | None = None, easting: float | None = None) -> int | None:
    """The CGCS2000 3-degree Gauss-Krüger EPSG code for a longitude (``CM`` variant, e.g.
    EPSG:4547 for 112.5-115.5 E, Wuhan), or for a zone-prefixed easting such as 38 512 000 m
    (zone 38 -> EPSG:4526). None outside China's zones."""
    if easting is not None and easting >= 1e7:
        zone = int(easting // 1e6)
        return _GK3_ZONE_FIRST + zone - 25 if 25 <= zone <= 45 else None
    if lon is None or not np.isfinite(lon):
        return None
    cm = int(round(lon / 3.0) * 3)
    return _GK3_CM_FIRST + (cm - 75) // 3 if 75 <= cm <= 135 else None


def projected_hint(x: ArrayLike, y: ArrayLike, near_lon: float | None = None) -> str | None:
    """When coordinates cannot be degrees (no CRS declared), a one-line suggestion of the
    CGCS2000 Gauss-Krüger EPSG code to pass; None when they look like longitude/latitude."""
    xa, ya = _as_arrays(x, y)
    ok = np.isfinite(xa) & np.isfinite(ya)
    if not ok.any() or ((np.abs(xa[ok]) <= 180).all() and (np.abs(ya[ok]) <= 90).all()):
        return None
    ex = float(np.median(xa[ok]))
    code = gauss_kruger_epsg(easting=ex) if ex >= 1e7 else gauss_kruger_epsg(near_lon)
    if code:
        return (
            f"the coordinates look projected (metres, e.g. x={ex:,.0f}); if they are CGCS2000 "
            f"3-degree Gauss-Krüger, pass --network-crs EPSG:{code}"
        )
    return (
        f"the coordinates look projected (metres, e.g. x={ex:,.0f}), not degrees: if they are "
        "CGCS2000 3-degree Gauss-Krüger around 114°E (Wuhan), pass --network-crs EPSG:4547; for "
        "central meridian CM use EPSG:4534 + (CM - 75) / 3 (e.g. 111°E: EPSG:4546)"
    )
