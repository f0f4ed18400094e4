"""Turn a site or community table into a validated WGS84 GeoDataFrame plus a rejects table.

The non-coordinate fields are a table, :data:`FIELDS` (in :mod:`geo.io._fields`), each with one
validator; coordinates are read and checked in :mod:`geo.io._coords`. Adding a
validated field (``capacity`` for sites, ``employees`` for workplaces) is one entry there plus
its header aliases in :data:`geo.io._columns.HEADER_ALIASES`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import crs as _crs
from .._errors import InputError
from ..config import MAX_POPULATION
from ._columns import kind_lookup, match_headers
from ._coords import (
    _check_crs_fits,
    _Coords,
    _table_coords,
    _to_wgs84,
    _validate_coords,
    _vector_coords,
)
from ._fields import FIELDS, MAX_CAPACITY, MAX_EMPLOYEES, Field, Role, _Ctx, _Rows, _texts
from ._messages import REJECT_COLUMNS
from ._read import read_table
from ._values import id_key

logger = logging.getLogger(__name__)

__all__ = ["FIELDS", "MAX_POPULATION", "REJECT_COLUMNS", "Field", "LoadResult", "read_points"]


@dataclass(frozen=True)
class LoadResult:
    """What a loader returns.

    Attributes
    ----------
    data
        The usable rows as a GeoDataFrame in WGS84 (EPSG:4326), with standard columns
        (``site_id``/``community_id``, ``name``, ``kind`` or ``population``, ``county``,
        ``address``, ``lon``, ``lat``, ``row``; ``lon_gcj02``/``lat_gcj02`` or
        ``lon_bd09``/``lat_bd09`` when the input was in that system) followed by the file's
        other columns, unchanged.
    rejects
        One row per unusable input row (:data:`REJECT_COLUMNS`): ``category`` tells errors from
        ``duplicate`` rows and rows ``out_of_area``.
    encoding
        The text encoding used for CSV files (None otherwise).
    source
        The file read.
    columns
        Which of the file's headers were used for each standard field.
    kind_mapping
        For sites: every label met, ``{label: {"kind", "count", "how"}}``.
    input_crs
        The coordinate system of the input (``wgs84``, ``gcj02``, ``bd09`` or an EPSG string).
    """

    data: gpd.GeoDataFrame
    rejects: pd.DataFrame
    encoding: str | None
    source: Path
    columns: dict[str, str] = field(default_factory=dict)
    kind_mapping: dict[str, dict[str, Any]] = field(default_factory=dict)
    input_crs: str = "wgs84"

    def __len__(self) -> int:
        return len(self.data)


class UnknownKindError(InputError):
    """Site-kind labels that no alias, rule or ``--kind`` maps to a kind."""


# --- duplicates, kinds, boundary ---------------------------------------------------------------


def _row_keys(df: pd.DataFrame) -> list[tuple]:
    cells = df.drop(columns="geometry", errors="ignore").astype(str).to_numpy().tolist()
    if "geometry" in df:
        wkb = shapely.to_wkb(df.geometry.to_numpy())
        return [(*r, w) for r, w in zip(cells, wkb, strict=True)]
    return [tuple(r) for r in cells]


def _duplicates(df: pd.DataFrame, rows: _Rows, id_col: str) -> None:
    """Exact duplicate rows, then ids that differ only in case, width or invisible characters."""
    first_row: dict[tuple, int] = {}
    for i, key in enumerate(_row_keys(df)):
        if key in first_row:
            rows.reject(i, "*", "duplicate_row", value="", first=first_row[key])
        else:
            first_row[key] = int(rows.rows[i])
    seen: dict[str, int] = {}
    for i, rid in enumerate(rows.ids):
        k = id_key(rid)
        if k in seen and not rows.bad[i]:
            rows.reject(i, id_col, "duplicate_id", value=rid, first=seen[k])
        seen.setdefault(k, int(rows.rows[i]))


def _stop_on_unknown_kinds(ctx: _Ctx, path: Path, header: str | None) -> None:
    unknown = {k: v["count"] for k, v in ctx.mapping.items() if v["kind"] is None}
    if not unknown:
        return
    listing = "; ".join(f"{label} ({n} 行/rows)" for label, n in unknown.items())
    flags = " ".join(f"--kind '{label}=station'" for label in unknown)
    raise UnknownKindError(
        f"未知的站点类型 / unknown site kind label(s): {listing}",
        file=path,
        column=header,
        fix=f"say which kind each label is, e.g. {flags} (kinds: station, integrated, "
        "cultural_palace, partner, or your own), or pass --allow-unknown-kinds to keep them "
        "as kinds of their own",
    )


def _boundary_rejects(gdf: gpd.GeoDataFrame, boundary: object, rows: _Rows, c: _Coords) -> None:
    area = _boundary_geometry(boundary)
    inside = shapely.intersects(area, gdf.geometry.to_numpy())
    col = f"{c.lon_col}/{c.lat_col}" if c.lon_col != c.lat_col else c.lon_col
    for i in np.flatnonzero(~rows.bad & ~inside):
        value = f"{gdf['lon'].iloc[i]:.6f}, {gdf['lat'].iloc[i]:.6f}"
        rows.reject(i, col, "outside_boundary", value=value)


def _warn_replacement(df: pd.DataFrame, rows: np.ndarray, path: Path) -> None:
    text = df.drop(columns="geometry", errors="ignore").astype(str)
    hit = text.apply(lambda col: col.str.contains("\ufffd", regex=False)).any(axis=1).to_numpy()
    if hit.any():
        logger.warning(
            "%s: rows %s hold undecodable characters (shown as �); the names there are "
            "garbled. Pass the right --encoding or save the file as CSV UTF-8",
            path.name,
            ", ".join(map(str, rows[hit][:20])) + (" ..." if hit.sum() > 20 else ""),
        )


# --- the loader --------------------------------------------------------------------------------


def _explode_multipoints(df: pd.DataFrame) -> pd.DataFrame:
    """One row per point of a MultiPoint feature (ids get ``-1``, ``-2`` ... suffixes later)."""
    if "geometry" not in df or not (df.geom_type == "MultiPoint").any():
        return df
    rows = df.attrs.get("rows")
    df = df.assign(_row=rows, _part=0)
    df.attrs = {}
    multi = df.geom_type == "MultiPoint"
    ex = df[multi].explode(index_parts=False)
    ex["_part"] = ex.groupby(level=0).cumcount() + 1
    out = pd.concat([df[~multi], ex]).sort_index(kind="stable").reset_index(drop=True)
    logger.warning("%d MultiPoint feature(s) split into one row per point", int(multi.sum()))
    rows_, parts = out.pop("_row").tolist(), out.pop("_part").tolist()
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=df.crs)
    out.attrs = {"rows": rows_, "parts": parts}
    return out


def _ids_names(df: pd.DataFrame, cols: dict, rows: np.ndarray, role: Role, parts=None):
    n = len(df)
    ids = _texts(df, cols.get("id"))
    prefix = "S" if role == "site" else "C"
    no_id = ids == ""
    ids[no_id] = [f"{prefix}{r}" for r in rows[no_id]]
    if parts is not None:
        ids = np.array([f"{i}-{p}" if p else i for i, p in zip(ids, parts, strict=True)], object)
    names = _texts(df, cols.get("name"))
    return ids, np.where(names == "", ids, names) if n else names.astype(object)


def _fields(df, cols, ctx: _Ctx, rows: _Rows) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for f in FIELDS:
        if ctx.role not in f.roles:
            continue
        if f.name not in cols:
            if f.default is not None:
                out[f.name] = np.full(len(df), f.default(ctx), dtype=object)
            continue
        values, issues = f.validate(_texts(df, cols[f.name]), ctx)
        for i, code, params in issues:
            rows.reject(i, cols[f.name], code, **params)
        out[f.name] = values
    if "population" in out:
        out["population"] = out["population"].astype(float)
    return out


def _user_system(parsed: object) -> str:
    return parsed if isinstance(parsed, str) else parsed.to_string()


def _assemble(df, cols, fields, ids, names, c: _Coords, lon, lat, role, parsed, rows):
    id_col = "site_id" if role == "site" else "community_id"
    out = pd.DataFrame({id_col: ids, "name": names, **fields})
    out["lon"], out["lat"] = lon, lat
    out["row"] = rows.rows
    if parsed != "wgs84":
        out["src_x"], out["src_y"] = c.x, c.y
    if parsed in ("gcj02", "bd09"):
        out[f"lon_{parsed}"], out[f"lat_{parsed}"] = np.round(c.x, 6), np.round(c.y, 6)
    used = set(cols.values()) | {"geometry"}
    for col in df.columns:
        if col not in used and col not in out.columns:
            out[col] = df[col].to_numpy()
    if c.geoms is not None:
        g = c.geoms.copy()
        if parsed != "wgs84":
            g = _crs.transform_geometry(g, lambda a, b: _crs.to_wgs84(a, b, parsed))
        geometry = np.where(~rows.bad, g, None)
    else:
        geometry = shapely.points(lon, lat)
    return gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")


def _check_columns(df: pd.DataFrame, columns: Mapping[str, str] | None, path: Path) -> None:
    for field_name, header in (columns or {}).items():
        if header not in df.columns:
            raise InputError(
                f"--col 指定的列不在文件中 / the column named for {field_name!r} is not in the file",
                file=path,
                value=header,
                fix=f"use --col {field_name}=HEADER with one of: {', '.join(map(str, df.columns))}",
            )


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
    layer: str | int | None = None,
    boundary: object = None,
    fix_swapped: bool = False,
    allow_unknown_kinds: bool = False,
    max_population: float = MAX_POPULATION,
    lang: str = "zh",
) -> LoadResult:
    """Load sites or communities from CSV, Excel, GeoJSON, GeoPackage or Shapefile.

    See :func:`geo.load_sites` and :func:`geo.load_communities` for the parameters.
    """
    path = Path(path)
    df, enc, is_vector = read_table(path, encoding=encoding, sheet=sheet, layer=layer)
    df = _explode_multipoints(df) if is_vector else df
    row_no = np.asarray(df.attrs.pop("rows", None) or np.arange(len(df)) + 2)
    parts = df.attrs.pop("parts", None)
    _check_columns(df, columns, path)
    cols = match_headers(df.columns, columns)
    _warn_replacement(df, row_no, path)
    ids, names = _ids_names(df, cols, row_no, role, parts)
    rows = _Rows(path, row_no, ids, names, lang)
    ctx = _Ctx(role, lang, kind_lookup(kinds), default_kind,
               {"population": max_population, "capacity": MAX_CAPACITY,
                "employees": MAX_EMPLOYEES}, allow_unknown_kinds)  # fmt: skip
    if is_vector and "geometry" in df and df.geometry.notna().any():
        c = _vector_coords(df, role, crs, path)
    else:
        c = _table_coords(df, cols, crs, path)
    parsed = _crs.parse_crs(c.crs)
    _check_crs_fits(c, parsed, path)
    fields = _fields(df, cols, ctx, rows)
    _stop_on_unknown_kinds(ctx, path, cols.get("kind"))
    _validate_coords(c, rows, not isinstance(parsed, pyproj.CRS) or parsed.is_geographic,
                     fix_swapped)  # fmt: skip
    _duplicates(df, rows, cols.get("id", "id"))
    lon, lat = _to_wgs84(c, rows, parsed)
    gdf = _assemble(df, cols, fields, ids, names, c, lon, lat, role, parsed, rows)
    if boundary is not None:
        _boundary_rejects(gdf, boundary, rows, c)
    return _result(gdf, rows, path, enc, cols, ctx, parsed)


def _result(gdf, rows: _Rows, path, enc, cols, ctx: _Ctx, parsed) -> LoadResult:
    data = gdf.loc[~rows.bad].reset_index(drop=True)
    rejects = rows.frame()
    if len(rejects):
        from ._messages import describe_rejects

        logger.warning("%s: %d of %d rows not used: %s", path.name, len(rejects), len(gdf),
                       describe_rejects(rejects, ctx.lang))  # fmt: skip
    result = LoadResult(data, rejects, enc, path, cols, ctx.mapping, _user_system(parsed))
    if not len(data):
        raise NoUsableRowsError(
            f"没有可用的行 / no usable rows ({len(rejects)} rejected; first reason: "
            f"{rejects['reason'].iloc[0] if len(rejects) else 'n/a'})",
            file=path,
            fix="see the rejects table (rejects.csv) for each row's reason",
            result=result,
        )
    return result


class NoUsableRowsError(InputError):
    """Every row was rejected; ``.result`` still holds the rejects so they can be written."""

    def __init__(self, problem: str, *, result: LoadResult, **kw: Any) -> None:
        self.result = result
        super().__init__(problem, **kw)


def _boundary_geometry(boundary: object):
    """A single WGS84 shapely geometry from a GeoDataFrame, GeoSeries, geometry or file."""
    if isinstance(boundary, (str, Path)):
        boundary = gpd.read_file(boundary)
    if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if boundary.crs is not None:
            boundary = boundary.to_crs(4326)
        return shapely.union_all(np.asarray(boundary.geometry))
    return boundary


boundary_geometry = _boundary_geometry
