"""Road centre-lines (路网 shapefiles from planning institutes) to a walking :class:`Network`.

Noding rules (documented in the README):

* Lines are joined where they share a vertex (within ``snap_m``, default 0.5 m, to absorb
  digitising slivers).
* With ``noding="crossings"`` (the default) lines that cross without a shared vertex are also
  split and joined at the crossing: in planning data an un-noded crossing is far more often a
  digitising shortcut than an overpass.
* **Bridges and tunnels** — lines flagged by a ``bridge``/``tunnel``/``layer`` style column
  (``桥梁``, ``隧道``, ``高架``, a non-zero ``layer``/``z_level``; or the column named by
  ``grade_column``) — are never split at crossings and connect to other lines only at their two
  end points, which is where ramps and stairs reach the ground.
* With ``noding="vertices"`` only shared vertices join lines (use this when the data marks no
  bridges but is known to be properly noded).
* If a class column exists (``highway``, ``fclass``, ``class``, ``道路等级``...), motorways and
  expressways (``motorway``, ``高速``, ``快速路``) are removed as not walkable.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .. import crs as _crs
from .._errors import InputError, NetworkError
from ._model import Network, from_pieces

logger = logging.getLogger(__name__)

Noding = Literal["crossings", "vertices"]
_GRADE_COLUMNS = (
    "bridge",
    "tunnel",
    "layer",
    "z_level",
    "zlevel",
    "level",
    "brunnel",
    "is_bridge",
    "is_tunnel",
    "桥梁",
    "隧道",
    "高架",
    "桥隧",
    "立交",
)
_CLASS_COLUMNS = ("highway", "fclass", "class", "road_class", "type", "道路等级", "等级", "类型")
_NAME_COLUMNS = ("name", "名称", "道路名称", "路名", "streetname")
_NOT_WALKABLE = re.compile(r"motorway|expressway|高速|快速路", re.I)
_TRUE = {"yes", "y", "true", "t", "1", "viaduct", "是", "桥", "隧道", "高架", "bridge", "tunnel"}


def _find(columns, candidates) -> str | None:
    low = {str(c).lower(): c for c in columns}
    return next((low[c.lower()] for c in candidates if c.lower() in low), None)


def _grade_separated(gdf: pd.DataFrame, grade_column: str | None) -> np.ndarray:
    cols = (
        [grade_column] if grade_column else [c for c in gdf.columns if _find([c], _GRADE_COLUMNS)]
    )
    flag = np.zeros(len(gdf), bool)
    for c in cols:
        if c not in gdf.columns:
            raise InputError(
                "grade column not found",
                column=c,
                value=list(map(str, gdf.columns)),
                fix="name an existing column with build_network(..., grade_column=NAME)",
            )
        s = gdf[c]
        num = pd.to_numeric(s, errors="coerce")
        text = s.astype(str).str.strip().str.lower()
        flag |= (num.fillna(0).to_numpy() != 0) | text.isin(_TRUE).to_numpy()
    return flag


class ProjectedWithoutCRS(NetworkError):
    """A road file without ``.prj`` whose coordinates are projected metres, not degrees.

    The message suggests the CGCS2000 Gauss-Krüger EPSG code (:func:`geo.crs.projected_hint`);
    :meth:`with_longitude` refines it with the study area's longitude when the caller knows it
    (from the sites, the boundary or the counties).
    """

    def __init__(self, path: Path, bounds, lon_hint: float | None = None) -> None:
        self.path, self.bounds, self.lon_hint = Path(path), tuple(bounds), lon_hint
        x0, y0, x1, y1 = self.bounds
        hint = _crs.projected_hint([x0, x1], [y0, y1], near_lon=lon_hint)
        super().__init__(f"{path}: no .prj and {hint}")

    def with_longitude(self, lon: float) -> ProjectedWithoutCRS:
        """The same error, suggesting the EPSG code for the study area's longitude."""
        return ProjectedWithoutCRS(self.path, self.bounds, lon)


#: Edge attributes taken from the file: the columns that may hold them (first found wins) and
#: how their text is cleaned. A new attribute is one entry here (and one in ``from_pieces``).
_FIELDS = {
    "highway": (_CLASS_COLUMNS, lambda s: _text(s)),
    "name": (_NAME_COLUMNS, lambda s: _text(s).replace({"nan": "", "None": ""})),
}
_NODINGS = ("crossings", "vertices")


def _text(s: pd.Series) -> pd.Series:
    """A column as text, missing values as "" (pandas' string dtype keeps NaN through astype)."""
    return s.astype(object).where(s.notna(), "").astype(str)


def read_lines(
    path: str | Path,
    *,
    crs: object = None,
    noding: Noding = "crossings",
    snap_m: float = 0.5,
    grade_column: str | None = None,
    meta: dict | None = None,
) -> Network:
    """Build a walking network from road centre-lines (SHP, GPKG, GeoJSON).

    Parameters
    ----------
    path
        The line file.
    crs
        Override the file's CRS (e.g. ``"gcj02"`` for Amap-traced roads).
    noding
        ``"crossings"`` (default) or ``"vertices"``; see the module notes.
    snap_m
        Vertices closer than this many metres are treated as one junction.
    grade_column
        Column marking bridges/tunnels (non-zero or yes); guessed when omitted.
    """
    path = Path(path)
    if noding not in _NODINGS:
        raise InputError(
            "unknown noding mode",
            column="noding",
            value=noding,
            fix="use 'crossings' or 'vertices'",
        )
    gdf = _read_wgs84(path, crs)
    n_in = len(gdf)
    gdf = _walkable_lines(gdf, path)
    grade = _grade_separated(gdf, grade_column)
    lines, source_row, is_grade = _noded(gdf.geometry.to_numpy(), grade, noding)
    coords, node_of, line_of = _junctions(lines, is_grade, snap_m)
    refs, li, ok_line = _line_nodes(node_of, line_of, len(lines))
    rows = source_row[ok_line]
    node_ids, first_pos = np.unique(node_of, return_index=True)
    info = {
        "source": str(path),
        "source_kind": "road-lines",
        "noding": noding,
        "snap_m": snap_m,
        "grade_separated_lines": int(grade.sum()),
        "lines_read": n_in,
        **(meta or {}),
    }
    return from_pieces(
        node_ids,
        coords[first_pos, 0],
        coords[first_pos, 1],
        refs,
        li,
        rows.astype(np.int64),
        _edge_field(gdf, "highway", rows),
        _edge_field(gdf, "name", rows),
        info,
    )


def _read_wgs84(path: Path, crs: object) -> gpd.GeoDataFrame:
    """The file in WGS84: ``crs`` overrides the file's own; no .prj means degrees, unless the
    numbers are evidently projected metres (:class:`ProjectedWithoutCRS`)."""
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise NetworkError(f"{path}: cannot read the road file ({exc})") from exc
    parsed = _crs.parse_crs(crs) if crs is not None else None
    if parsed in ("gcj02", "bd09"):
        gdf = gdf.set_geometry(
            _crs.transform_geometry(
                gdf.geometry.to_numpy(), lambda x, y: _crs.to_wgs84(x, y, parsed)
            ),
            crs=4326,
        )
    elif parsed is not None:
        gdf = gdf.set_crs(parsed, allow_override=True)
    if gdf.crs is None:
        b = gdf.total_bounds
        hint = _crs.projected_hint(b[[0, 2]], b[[1, 3]])
        if hint:
            raise ProjectedWithoutCRS(path, b)
        logger.warning("%s has no .prj; assuming WGS84 longitude/latitude", path.name)
        gdf = gdf.set_crs(4326)
    return gdf.to_crs(4326)


def _walkable_lines(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """One row per single line, without empty or non-line features and without motorways."""
    n_in = len(gdf)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])]
    if len(gdf) < n_in:
        logger.warning("%s: %d features without line geometry ignored", path.name, n_in - len(gdf))
    gdf = gdf.explode(index_parts=False, ignore_index=True)
    class_col = _find(gdf.columns, _CLASS_COLUMNS)
    if class_col is not None:
        bad = gdf[class_col].astype(str).str.contains(_NOT_WALKABLE)
        if bad.any():
            logger.info(
                "%s: %d motorway/expressway lines removed (column %r)",
                path.name,
                int(bad.sum()),
                class_col,
            )
            gdf = gdf[~bad].reset_index(drop=True)
    if len(gdf) == 0:
        raise NetworkError(f"{path}: the file has no usable road lines (no edges)")
    return gdf


def _noded(
    lines: np.ndarray, grade: np.ndarray, noding: Noding
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines split at their crossings (``noding="crossings"``; bridges and tunnels never),
    each piece's source row, and whether it is grade-separated."""
    if noding != "crossings" or not (~grade).any():
        return lines, np.arange(len(lines)), grade
    at_grade = np.flatnonzero(~grade)
    utm = _crs.utm_crs(*shapely.get_coordinates(lines[at_grade][:100]).T)
    to_m = gpd.GeoSeries(lines[at_grade], crs=4326).to_crs(utm)
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(to_m.to_numpy())))
    # recover each piece's source line from a point in its middle
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    src = shapely.STRtree(to_m.to_numpy()).query_nearest(mids, all_matches=False)[1]
    pieces = gpd.GeoSeries(noded, crs=utm).to_crs(4326).to_numpy()
    return (
        np.concatenate([pieces, lines[grade]]),
        np.concatenate([at_grade[src], np.flatnonzero(grade)]),
        np.concatenate([np.zeros(len(pieces), bool), np.ones(int(grade.sum()), bool)]),
    )


def _junctions(
    lines: np.ndarray, is_grade: np.ndarray, snap_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every vertex's coordinates, junction (vertices within ``snap_m`` metres are one) and line.

    A bridge's or tunnel's interior vertices never join anything; its ends do.
    """
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    nv = coords.shape[0]
    first = np.r_[True, line_of[1:] != line_of[:-1]]
    last = np.r_[line_of[1:] != line_of[:-1], True]
    joinable = ~is_grade[line_of] | first | last
    utm = _crs.utm_crs(coords[:, 0], coords[:, 1])
    x, y = _crs.from_wgs84(coords[:, 0], coords[:, 1], utm)
    from scipy.spatial import cKDTree  # here only: an OSM network never needs scipy.spatial

    cand = np.flatnonzero(joinable)
    pairs = cKDTree(np.column_stack([x[cand], y[cand]])).query_pairs(snap_m, output_type="ndarray")
    adj = coo_matrix((np.ones(len(pairs)), (cand[pairs[:, 0]], cand[pairs[:, 1]])), shape=(nv, nv))
    _, node_of = connected_components(adj, directed=False)
    return coords, node_of.astype(np.int64), line_of


def _line_nodes(
    node_of: np.ndarray, line_of: np.ndarray, n_lines: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each line's junction sequence (``refs``, line number ``li``) without repeats, keeping the
    lines that still join two junctions (``ok_line``), renumbered consecutively."""
    # drop consecutive repeats of a junction inside a line (zero-length slivers)
    keep = np.r_[True, (node_of[1:] != node_of[:-1]) | (line_of[1:] != line_of[:-1])]
    refs, li = node_of[keep], line_of[keep]
    ok_line = np.bincount(li, minlength=n_lines) >= 2
    keep2 = ok_line[li]
    refs, li = refs[keep2], li[keep2]
    return refs, np.cumsum(ok_line)[li] - 1, ok_line


def _edge_field(gdf: pd.DataFrame, field: str, rows: np.ndarray) -> np.ndarray:
    """The ``field`` of every edge (from its source row), or "" when the file has no column."""
    candidates, clean = _FIELDS[field]
    col = _find(gdf.columns, candidates)
    if col is None:
        return np.full(rows.size, "", object)
    return clean(gdf[col]).to_numpy(object)[rows]
