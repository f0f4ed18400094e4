"""Turn a site or community table into a validated WGS84 GeoDataFrame plus a rejects table."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import crs as _crs
from .._errors import InputError
from ._columns import kind_lookup, match_headers, norm_header
from ._read import read_table

logger = logging.getLogger(__name__)

Role = Literal["site", "community"]
REJECT_COLUMNS = ["file", "row", "id", "name", "column", "value", "reason", "fix"]


@dataclass(frozen=True)
class LoadResult:
    """What a loader returns.

    Attributes
    ----------
    data
        The usable rows as a GeoDataFrame in WGS84 (EPSG:4326), with standard columns
        (``site_id``/``community_id``, ``name``, ``kind`` or ``population``, ``county``,
        ``address``, ``lon``, ``lat``, ``row``) followed by the file's other columns.
    rejects
        One row per unusable input row: ``file``, ``row``, ``id``, ``name``, ``column``,
        ``value``, ``reason``, ``fix``.
    encoding
        The text encoding used for CSV files (None otherwise).
    source
        The file read.
    columns
        Which of the file's headers were used for each standard field.
    """

    data: gpd.GeoDataFrame
    rejects: pd.DataFrame
    encoding: str | None
    source: Path
    columns: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data)


class _Rejects:
    def __init__(self, file: Path) -> None:
        self.file = str(file)
        self.rows: list[dict] = []
        self.bad: set[int] = set()

    def add(self, idx, row, rid, name, column, value, reason, fix) -> None:
        self.rows.append(
            dict(
                file=self.file,
                row=int(row),
                id=rid,
                name=name,
                column=column,
                value=value,
                reason=reason,
                fix=fix,
            )
        )
        self.bad.add(idx)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=REJECT_COLUMNS)


def _text(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, "", dtype=object)
    return series.astype(str).str.strip().replace({"nan": "", "None": ""}).to_numpy(dtype=object)


def read_points(
    path: str | Path,
    role: Role,
    *,
    crs: object = None,
    columns: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | Iterable[str] | None = None,
    default_kind: str = "station",
    encoding: str | None = None,
    sheet: str | int | None = None,
    boundary: object = None,
    fix_swapped: bool = False,
) -> LoadResult:
    """Load sites or communities from CSV, Excel, GeoJSON, GeoPackage or Shapefile.

    See :func:`geo.load_sites` and :func:`geo.load_communities` for the parameters.
    """
    path = Path(path)
    df, enc, is_vector = read_table(path, encoding=encoding, sheet=sheet)
    n = len(df)
    cols = match_headers(df.columns, columns)
    for field_name, header in (columns or {}).items():
        if header not in df.columns:
            raise InputError(
                f"the column named for {field_name!r} is not in the file",
                file=path,
                value=header,
                fix=f"use one of: {', '.join(map(str, df.columns))}",
            )
    rows = np.arange(n) + (1 if is_vector else 2)  # spreadsheet row numbers (header = 1)
    rej = _Rejects(path)
    prefix = "S" if role == "site" else "C"
    id_col = "site_id" if role == "site" else "community_id"

    ids = _text(df[cols["id"]] if "id" in cols else None, n)
    no_id = ids == ""
    ids[no_id] = [f"{prefix}{r}" for r in rows[no_id]]
    names = _text(df[cols["name"]] if "name" in cols else None, n)
    names = np.where(names == "", ids, names)

    def bad(i: int, column: str, value: object, reason: str, fix: str) -> None:
        rej.add(i, rows[i], ids[i], names[i], column, value, reason, fix)

    # --- coordinates --------------------------------------------------------------------------
    geoms = None
    src_crs = crs
    if is_vector and "geometry" in df and df.geometry.notna().any():
        gdf = df
        if src_crs is None:
            src_crs = gdf.crs if gdf.crs is not None else "wgs84"
            if gdf.crs is None:
                logger.warning("%s has no CRS; assuming WGS84 longitude/latitude", path.name)
        geoms = gdf.geometry.to_numpy()
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        pts = np.where(empty, None, geoms)
        is_point = shapely.get_type_id(pts) == 0
        rep = np.where(is_point | empty, pts, shapely.point_on_surface(pts))
        x = np.where(empty, np.nan, shapely.get_x(rep))
        y = np.where(empty, np.nan, shapely.get_y(rep))
        if role == "site" or is_point.all():
            geoms = None  # rebuilt from converted x/y below
        raw_x = np.where(empty, "", x.astype(str))
        raw_y = np.where(empty, "", y.astype(str))
        lon_col, lat_col = "geometry", "geometry"
    else:
        if "lon" not in cols or "lat" not in cols:
            missing = [f for f in ("lon", "lat") if f not in cols]
            raise InputError(
                f"no {' or '.join(missing)} column found",
                file=path,
                value=list(map(str, df.columns)),
                fix="name the columns lon/lat (or 经度/纬度), or pass columns={'lon': ..., "
                "'lat': ...} (--lon-col/--lat-col)",
            )
        lon_col, lat_col = cols["lon"], cols["lat"]
        raw_x, raw_y = _text(df[lon_col], n), _text(df[lat_col], n)
        x = pd.to_numeric(pd.Series(raw_x), errors="coerce").to_numpy(float, copy=True)
        y = pd.to_numeric(pd.Series(raw_y), errors="coerce").to_numpy(float, copy=True)
        src_crs = "wgs84" if src_crs is None else src_crs
    parsed = _crs.parse_crs(src_crs)
    geographic = not isinstance(parsed, pyproj.CRS) or parsed.is_geographic

    for i in range(n):
        for val, raw, colname, label in (
            (x[i], raw_x[i], lon_col, "longitude"),
            (y[i], raw_y[i], lat_col, "latitude"),
        ):
            if raw == "":
                bad(
                    i,
                    colname,
                    raw,
                    f"missing {label}",
                    "fill in the coordinate or remove the row",
                )
                break
            if not np.isfinite(val):
                bad(
                    i,
                    colname,
                    raw,
                    f"non-numeric {label}",
                    "use decimal degrees such as 114.305 (not degrees-minutes text)",
                )
                break

    if geographic:
        ok = np.isfinite(x) & np.isfinite(y)
        china_share = _crs.in_china(x[ok], y[ok]).mean() if ok.any() else 0.0
        out_of_range = ok & ((np.abs(y) > 90) | (np.abs(x) > 180))
        swapped = ok & _crs.in_china(y, x) & ~_crs.in_china(x, y)
        swapped &= out_of_range | (china_share >= 0.5) | (china_share == 0)
        for i in np.flatnonzero(swapped | out_of_range):
            if swapped[i] and fix_swapped:
                logger.warning("%s row %d: latitude/longitude swapped; fixed", path.name, rows[i])
                x[i], y[i] = y[i], x[i]
            elif swapped[i]:
                bad(
                    i,
                    f"{lon_col}/{lat_col}",
                    f"{raw_x[i]}, {raw_y[i]}",
                    "latitude and longitude are swapped",
                    "swap the two columns, or pass fix_swapped=True (--fix-swapped)",
                )
            else:
                bad(
                    i,
                    f"{lon_col}/{lat_col}",
                    f"{raw_x[i]}, {raw_y[i]}",
                    "coordinate out of range",
                    "longitude must be within -180..180 and latitude within -90..90; "
                    "if these are projected metres, pass crs='EPSG:<code>' (--crs)",
                )

    good = np.array([i not in rej.bad for i in range(n)])
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if good.any():
        lon[good], lat[good] = _crs.to_wgs84(x[good], y[good], parsed)
        bad_tr = good & ~(np.isfinite(lon) & np.isfinite(lat))
        for i in np.flatnonzero(bad_tr):
            bad(
                i,
                f"{lon_col}/{lat_col}",
                f"{raw_x[i]}, {raw_y[i]}",
                f"cannot convert from {src_crs}",
                "check the crs argument (--crs) matches the coordinates",
            )

    # --- ids, kinds, population --------------------------------------------------------------
    seen: dict[str, int] = {}
    for i in range(n):
        if ids[i] in seen:
            bad(
                i,
                cols.get("id", "id"),
                ids[i],
                f"duplicate id (first used on row {seen[ids[i]]})",
                "give every row its own id",
            )
        else:
            seen[ids[i]] = int(rows[i])

    out = pd.DataFrame({id_col: ids, "name": names})
    if role == "site":
        table = kind_lookup(kinds)
        raw_kind = _text(df[cols["kind"]] if "kind" in cols else None, n)
        kind = np.empty(n, dtype=object)
        for i, label in enumerate(raw_kind):
            if label == "":
                kind[i] = default_kind
            elif norm_header(label) in table:
                kind[i] = table[norm_header(label)]
            else:
                kind[i] = None
                known = sorted(set(table.values()))
                bad(
                    i,
                    cols["kind"],
                    label,
                    "unknown site kind",
                    f"use one of {', '.join(known)}, or declare it with "
                    f"kinds={{'{label}': 'my_kind'}} (--kind '{label}=my_kind')",
                )
        out["kind"] = kind
    else:
        if "population" in cols:
            raw_pop = _text(df[cols["population"]], n)
            pop = pd.to_numeric(pd.Series(raw_pop).str.replace(",", ""), errors="coerce")
            pop = pop.to_numpy(float)
            for i in range(n):
                if raw_pop[i] == "":
                    bad(
                        i,
                        cols["population"],
                        "",
                        "missing population",
                        "fill in the population (0 if none)",
                    )
                elif not np.isfinite(pop[i]) or pop[i] < 0:
                    bad(
                        i,
                        cols["population"],
                        raw_pop[i],
                        "population must be a number of people, zero or more",
                        "correct the value",
                    )
        else:
            logger.info("%s: no population column; every community weighs 1", path.name)
            pop = np.ones(n)
        out["population"] = pop
    out["county"] = _text(df[cols["county"]] if "county" in cols else None, n)
    out["address"] = _text(df[cols["address"]] if "address" in cols else None, n)
    out["lon"], out["lat"] = lon, lat
    out["row"] = rows
    if parsed != "wgs84":
        out["src_x"], out["src_y"] = x, y
    used = set(cols.values()) | {"geometry"}
    for c in df.columns:
        if c not in used and c not in out.columns:
            out[c] = df[c].to_numpy()

    if geoms is not None:
        g = geoms.copy()
        if parsed != "wgs84":
            g = _crs.transform_geometry(g, lambda a, b: _crs.to_wgs84(a, b, parsed))
        geometry = np.where(good, g, None)
    else:
        geometry = shapely.points(lon, lat)
    gdf = gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")

    if boundary is not None:
        area = _boundary_geometry(boundary)
        inside = shapely.intersects(area, gdf.geometry.to_numpy())
        for i in np.flatnonzero(good & ~inside):
            if i in rej.bad:
                continue
            bad(
                i,
                f"{lon_col}/{lat_col}",
                f"{lon[i]:.6f}, {lat[i]:.6f}",
                "outside the study boundary",
                "check the coordinates and their crs (--crs), or widen the boundary",
            )

    keep = np.array([i not in rej.bad for i in range(n)])
    data = gdf.loc[keep].reset_index(drop=True)
    rejects = rej.frame().sort_values("row", kind="stable").reset_index(drop=True)
    if len(rejects):
        logger.warning("%s: %d of %d rows rejected (see rejects)", path.name, len(rejects), n)
    if not len(data):
        raise InputError(
            f"no usable rows ({len(rejects)} rejected; first reason: "
            f"{rejects['reason'].iloc[0] if len(rejects) else 'n/a'})",
            file=path,
            fix="see the rejects table for each row's reason",
        )
    return LoadResult(data=data, rejects=rejects, encoding=enc, source=path, columns=cols)


def _boundary_geometry(boundary: object):
    """A single WGS84 shapely geometry from a GeoDataFrame, GeoSeries, geometry or file."""
    if isinstance(boundary, (str, Path)):
        boundary = gpd.read_file(boundary)
    if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if boundary.crs is not None:
            boundary = boundary.to_crs(4326)
        return shapely.union_all(np.asarray(boundary.geometry))
    return boundary
