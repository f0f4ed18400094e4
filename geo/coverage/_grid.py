"""Fast isochrone polygons: rasterise the reached street pieces, contour the distance field.

Valhalla's approach, adapted to keep the street-corridor shape of :mod:`.isochrones`' exact
method (each reached street piece buffered by ``street_buffer_m``):

1. The reached street pieces are cut into features, one per grid cell a piece passes through
   (:mod:`._grid_features`): the straight segment, cut exactly where the walk runs out, and a
   point on it that places it in its cell.
2. The features are written into a local grid around the site (``cell`` metres). One
   Euclidean distance transform gives every grid node its nearest feature cell; the node's
   distance to that cell's *segment* is its distance to the reached streets (exact along a
   straight street, whatever the cell size).
3. Marching squares (contourpy) draws the ``street_buffer_m`` contour of that field: the
   outline of the buffered street pieces, holes included. Nothing is drawn where no reached
   street is within the buffer, so polygons never jump a river or railway.

All sites of a kind are one owner for ``by="kind"``: the nearest of them reaches each street
end, and their features are split into groups of overlapping grids (connected cells), which
gives their union directly. Polygons are for display and area statistics only.
"""

from __future__ import annotations

import numpy as np
import shapely

from ._grid_features import SEGMENT_FIELDS, Features

try:  # the compiled distance field (setup.py builds it; optional where no compiler exists)
    from . import _fieldc as _compiled
except ImportError:  # pragma: no cover - depends on the install
    _compiled = None

#: The compiled kernel (:mod:`._fieldc`), or None: the NumPy path.
KERNEL = _compiled

#: Default grid cell in metres (5-minute polygons, 333 m of walk: 1.8% symmetric difference
#: against the exact method on Helsinki, simplified by 5 m).
CELL_M = 11.0
#: Larger walks are drawn on cells of ``limit / CELLS_PER_LIMIT`` metres when that is coarser
#: (their area grows faster than their outline: 15 minutes, 1000 m, on 14.3 m cells).
CELLS_PER_LIMIT = 70.0
#: Largest grid (cells) drawn at once; bigger groups get a coarser cell.
MAX_CELLS = 6_000_000


def _pad(width: float, cell: float) -> int:
    """Cells around the features' cells: every feature lies within a quarter cell of its
    cells, and the outermost grid nodes (cell centres) must lie farther than ``width``."""
    return int(np.floor(width / cell + 0.75)) + 1


def _groups(cx: np.ndarray, cy: np.ndarray, width: float, cell: float) -> list[np.ndarray]:
    """Features (by their cells) split into groups whose polygons cannot touch: connected
    (8-neighbour) blocks of ``2 x pad + 1`` cells that hold features."""
    from scipy import ndimage

    b = 2 * _pad(width, cell) + 1
    bx = cx // b
    by = cy // b
    bx -= bx.min()
    by -= by.min()
    occ = np.zeros((int(by.max()) + 1, int(bx.max()) + 1), bool)
    occ[by, bx] = True
    lab, n = ndimage.label(occ, structure=np.ones((3, 3), bool))
    if n == 1:
        return [np.arange(cx.size)]
    g = lab[by, bx]
    order = np.argsort(g, kind="stable")
    return np.split(order, np.searchsorted(g[order], np.arange(2, n + 1)))


def _box(cx, cy, pad: int):
    x0, y0 = int(cx.min()) - pad, int(cy.min()) - pad
    return x0, y0, int(cx.max()) + pad + 1 - x0, int(cy.max()) + pad + 1 - y0


def _field(
    f, ids, cx, cy, box, cell: float, offset: tuple[float, float], cap: float = np.inf
) -> np.ndarray:
    """The distance field of :func:`_contour`: at every grid node, the distance (metres) to
    the nearest segment among the features of its nearest feature cell; compiled
    (:mod:`._fieldc`) when it was built, else with NumPy (one feature per cell). Compiled,
    nodes with no segment within ``cap`` metres get a lower bound above ``cap`` instead."""
    x0, y0, w, h = box
    if KERNEL is not None:
        out = np.empty((h, w))
        i64 = np.int64
        seg = [np.ascontiguousarray(f[k], np.float32) for k in SEGMENT_FIELDS]
        KERNEL.field(
            np.ascontiguousarray(cx, i64), np.ascontiguousarray(cy, i64),
            np.ascontiguousarray(ids, i64), *seg, out, x0, y0, w, h, cell, *offset, cap,
        )  # fmt: skip
        return out
    return _field_numpy(f, ids, cx, cy, box, cell, offset)


def _field_numpy(f, ids, cx, cy, box, cell: float, offset: tuple[float, float]) -> np.ndarray:
    """:func:`_field` with SciPy's feature transform and one feature per cell (float32)."""
    from scipy import ndimage

    x0, y0, w, h = box
    lin = (cy - y0) * w + (cx - x0)
    mask = np.ones(h * w, bool)
    mask[lin] = False
    idx = np.empty(h * w, np.intp)
    idx[lin] = ids
    ft = ndimage.distance_transform_edt(
        mask.reshape(h, w), return_distances=False, return_indices=True
    )
    k = idx[ft[0] * w + ft[1]]
    # float32 in the grid's own frame (node (i, j) at ((i + 0.5) cell, (j + 0.5) cell))
    f4 = np.float32
    px = ((np.arange(w) + 0.5) * cell).astype(f4)
    py = ((np.arange(h) + 0.5) * cell).astype(f4)
    dx, dy = f["dx"][k], f["dy"][k]
    rx = (px + f4(offset[0]))[None, :] - f["ax"][k]
    ry = (py + f4(offset[1]))[:, None] - f["ay"][k]
    t = (rx * dx + ry * dy) * f["il2"][k]
    np.clip(t, 0.0, 1.0, out=t)
    rx -= t * dx
    ry -= t * dy
    return np.hypot(rx, ry).astype(np.float64)


def _contour(f: dict[str, np.ndarray], ids, origin: tuple[float, float], width: float, cell: float):
    """Outline (ragged coords, ring offsets, polygon offsets) of everything within ``width``
    metres of the features ``ids`` of ``f`` (arrays named like
    :class:`._grid_features.Part`'s, cells of ``cell`` metres, coordinates relative to
    ``origin``)."""
    import contourpy

    cx, cy = f["cx"][ids], f["cy"][ids]
    pad = _pad(width, cell)
    x0, y0, w, h = _box(cx, cy, pad)
    if w * h > MAX_CELLS:  # a coarser grid: features binned by their cell's centre
        coarse = cell * float(np.sqrt(w * h / MAX_CELLS))
        cx = np.floor((cx + 0.5) * (cell / coarse)).astype(np.int64)
        cy = np.floor((cy + 0.5) * (cell / coarse)).astype(np.int64)
        cell = coarse
        pad = _pad(width, cell) + 1  # a feature lies within 3/4 of a fine cell of its centre
        x0, y0, w, h = _box(cx, cy, pad)
    offset = (x0 * cell - origin[0], y0 * cell - origin[1])
    # exact values only near the contour (nothing within width + 2 cells: any value above)
    field = _field(f, ids, cx, cy, (x0, y0, w, h), cell, offset, width + 2.0 * cell)
    gx = (np.arange(w) + 0.5) * cell
    gy = (np.arange(h) + 0.5) * cell
    gen = contourpy.SerialContourGenerator(
        gx[None, :].repeat(h, 0),
        gy[:, None].repeat(w, 1),
        field,
        None,  # type: ignore[arg-type]  # no mask, as contour_generator() passes it
        corner_mask=True,
        line_type=contourpy.LineType.SeparateCode,
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
        quad_as_tri=False,
        z_interp=contourpy.ZInterp.Linear,
    )  # the class directly: contour_generator() spends 30% in masking a field with no NaN
    pts, offs, outer = gen.filled(-1.0, width)  # type: ignore[misc]
    if pts[0] is None:
        return np.zeros((0, 2)), np.zeros(1, np.int64), np.zeros(1, np.int64)
    return (
        pts[0] + (x0 * cell, y0 * cell),
        np.asarray(offs[0], np.int64),
        np.asarray(outer[0], np.int64),
    )


def group_polygons(
    f: Features, origin: tuple[float, float], width: float, cell: float, *, split: bool
) -> np.ndarray:
    """One MultiPolygon per owner of ``f``: its features buffered by ``width`` metres (empty
    when it has none). ``split``: an owner's features may lie far apart (several sites), so
    they are drawn on one grid per group of touching ones."""
    coords, rings, polys, multi = [], [0], [0], [0]
    n_pts = n_rings = 0
    cols = f.cols
    for o in range(f.n_owners):
        ids = f.take(o)
        if ids.size:
            parts = [ids]
            if split:
                parts = [ids[g] for g in _groups(cols["cx"][ids], cols["cy"][ids], width, cell)]
            for part in parts:
                p, off, g = _contour(cols, part, origin, width, cell)
                coords.append(p)
                rings.extend((off[1:] + n_pts).tolist())
                polys.extend((g[1:] + n_rings).tolist())
                n_pts += p.shape[0]
                n_rings += off.size - 1
        multi.append(len(polys) - 1)
    xy = np.concatenate(coords) if coords else np.zeros((0, 2))
    return shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON,
        xy,
        (np.asarray(rings, np.int64), np.asarray(polys, np.int64), np.asarray(multi, np.int64)),
    )


def _big_holes(parts: np.ndarray, min_area: float) -> np.ndarray:
    """Number of holes larger than ``min_area`` in each polygon."""
    rings, idx = shapely.get_rings(parts, return_index=True)
    first = np.r_[True, idx[1:] != idx[:-1]] if idx.size else idx.astype(bool)
    hole = ~first & (shapely.area(shapely.polygons(rings)) > min_area)
    return np.bincount(idx[hole], minlength=len(parts))


def simplify(polys: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker polygon by polygon (a topology-preserving simplify of one big
    MultiPolygon is superlinear), without topology checks (10x faster on contour output),
    redone with them for any polygon that came out invalid or lost a hole bigger than
    ``(4 x tolerance)^2``."""
    parts, idx = shapely.get_parts(polys, return_index=True)
    out = shapely.simplify(parts, tolerance, preserve_topology=False)
    big = (4.0 * tolerance) ** 2  # holes smaller than this may vanish at this tolerance
    bad = ~shapely.is_valid(out) | (_big_holes(out, big) < _big_holes(parts, big))
    if bad.any():
        out[bad] = shapely.simplify(parts[bad], tolerance, preserve_topology=True)
    res = np.array([shapely.MultiPolygon()] * len(polys), dtype=object)
    if idx.size:
        # ``out=`` lets indices skip polygons that have no parts (an empty isochrone)
        grouped = shapely.multipolygons(out, indices=idx, out=np.empty(len(polys), object))
        has, n = np.unique(idx, return_counts=True)
        res[has] = grouped[has]
        one = has[n == 1]  # a single part stays a Polygon, as GEOS's union would give
        res[one] = out[np.searchsorted(idx, one)]
    return res
