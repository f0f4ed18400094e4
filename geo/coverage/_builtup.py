"""Areas of the street corridor, exact along grid rows: no union of buffered polygons.

The street corridor is the union of every street segment buffered by ``width`` metres (a
"stadium": the segment swept by a disk). Cut along a horizontal line, a stadium is one interval
whose ends follow in closed form, and a polygon (an isochrone, a county) is the even-odd pairs
of its boundary's crossings. So along the centre line of every row of height ``row_m`` the
lengths of corridor ∩ county and corridor ∩ county ∩ isochrones are exact; the areas are those
lengths times ``row_m`` (the midpoint rule across rows).

Against the GEOS reference (``union_all(buffer(lines, width, quad_segs=4))`` intersected with the
same polygons) the shares agree to well within 0.005 at the default ``ROW_M`` (tested on real and
generated counties); the GEOS buffer's 16-sided round ends are themselves about 2.5% smaller
than the disks used here.
"""

from __future__ import annotations

import numpy as np
import shapely

from ..network import Network
from ..network import concat_ranges as _ranges

#: Row height in metres (the only discretisation: every row is measured exactly along x).
ROW_M = 10.0
#: Most rows measured at once: a very tall area gets taller rows.
MAX_ROWS = 40_000
#: Most (segment, row) pairs worked out at once (memory: about 100 bytes each).
BLOCK = 1_000_000


def _segments(net: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every straight piece of every edge geometry: x1, y1, x2, y2 (metric CRS)."""
    xy, off = net.geom_xy, net.geom_offsets
    keep = np.ones(len(xy) - 1, bool) if len(xy) else np.zeros(0, bool)
    if len(xy):
        keep[off[1:-1] - 1] = False  # no piece joins one edge's last vertex to the next edge
    a = xy[:-1][keep]
    b = xy[1:][keep]
    return a[:, 0], a[:, 1], b[:, 0], b[:, 1]


class Rows:
    """Horizontal lines ``y0 + (j + 0.5) h``, j = 0 .. n - 1, clipped to ``[x0, x1]``."""

    def __init__(self, bounds: tuple[float, float, float, float], row_m: float) -> None:
        x0, y0, x1, y1 = bounds
        h = max(float(row_m), (y1 - y0) / MAX_ROWS)
        self.x0, self.x1, self.y0, self.h = x0, x1, y0, h
        self.n = max(1, int(np.ceil((y1 - y0) / h)))

    def centre(self, j: np.ndarray) -> np.ndarray:
        return self.y0 + (j + 0.5) * self.h

    def span(self, lo: np.ndarray, hi: np.ndarray, closed: bool) -> tuple[np.ndarray, np.ndarray]:
        """First row and row count whose centre lies in [lo, hi] (``closed``) or [lo, hi)."""
        first = np.ceil((lo - self.y0) / self.h - 0.5)
        last = (
            np.floor((hi - self.y0) / self.h - 0.5)
            if closed
            else np.ceil((hi - self.y0) / self.h - 0.5) - 1
        )
        first = np.clip(first, 0, self.n).astype(np.int64)
        last = np.clip(last, -1, self.n - 1).astype(np.int64)
        return first, np.maximum(last - first + 1, 0)


def corridor(net: Network, width: float, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """The rows' pieces inside the street corridor, as merged keys (:func:`_merged`).

    Worked out in blocks of at most :data:`BLOCK` (segment, row) pairs, so memory stays
    bounded however many streets there are.
    """
    x1, y1, x2, y2 = _segments(net)
    near = (np.maximum(x1, x2) >= rows.x0 - width) & (np.minimum(x1, x2) <= rows.x1 + width)
    seg = np.column_stack([x1[near], y1[near], x2[near], y2[near]])
    first, count = rows.span(
        np.minimum(seg[:, 1], seg[:, 3]) - width, np.maximum(seg[:, 1], seg[:, 3]) + width, True
    )
    block = np.cumsum(count) // BLOCK
    cuts = np.searchsorted(block, np.arange(1, int(block[-1]) + 1)) if len(block) else []
    parts = [
        _merged(rows, *_stadium_rows(seg[sl], first[sl], count[sl], width, rows))
        for sl in (slice(a, b) for a, b in zip([0, *cuts], [*cuts, len(seg)], strict=True))
    ]
    return _union(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _stadium_rows(seg, first, count, width: float, rows: Rows) -> tuple[np.ndarray, ...]:
    """(row, x from, x to) where each buffered segment crosses each row.

    A segment's buffer is the union of the disks at its ends and the rectangle swept along
    it; its interval on a row runs from the least to the greatest of the disks' ends and the
    crossings of the rectangle's two long sides (its short sides lie inside the disks).
    """
    pick = np.repeat(np.arange(len(seg)), count)
    j = _ranges(first, count)
    yc = rows.centre(j)
    x1, y1, x2, y2 = seg[pick].T
    dx, dy = x2 - x1, y2 - y1
    length = np.hypot(dx, dy)
    scale = np.divide(width, length, out=np.zeros_like(length), where=length > 0)
    nx, ny = -dy * scale, dx * scale  # the normal, ``width`` long
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN: this piece misses the row
        cands = []
        for cx, cy in ((x1, y1), (x2, y2)):  # the disks at both ends
            half = np.sqrt(width * width - (yc - cy) ** 2)
            cands += [cx - half, cx + half]
        for sign in (1.0, -1.0):  # the rectangle's long sides
            t = (yc - y1 - sign * ny) / dy
            x = np.where((t >= 0) & (t <= 1), x1 + sign * nx + t * dx, np.nan)
            cands.append(x)
        lo, hi = np.fmin.reduce(cands), np.fmax.reduce(cands)
    ok = lo <= hi  # False when NaN (no piece on this row: rounding at the very edge)
    return j[ok], lo[ok], hi[ok]


def polygons(geoms: np.ndarray, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """The rows' pieces inside the polygons (each valid; they may overlap each other), as
    merged keys (:func:`_merged`)."""
    parts, owner = shapely.get_parts(np.asarray(geoms, object), return_index=True)
    rings, part = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return np.zeros(0), np.zeros(0)
    same = ring[1:] == ring[:-1]
    ax, ay = xy[:-1][same, 0], xy[:-1][same, 1]
    bx, by = xy[1:][same, 0], xy[1:][same, 1]
    gid = owner[part[ring[:-1][same]]]
    first, count = rows.span(np.minimum(ay, by), np.maximum(ay, by), False)
    e = np.repeat(np.arange(len(ax)), count)
    j = _ranges(first, count)
    yc = rows.centre(j)
    x = ax[e] + (yc - ay[e]) * (bx[e] - ax[e]) / (by[e] - ay[e])
    # crossings of one polygon and row come in pairs: inside between the 1st and 2nd, ...
    order = np.lexsort((x, j, gid[e]))
    j, x = j[order], x[order]
    return _merged(rows, j[0::2], x[0::2], x[1::2])


def _merged(rows: Rows, j: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Row intervals as disjoint, sorted keys ``row * (x1 - x0 + 1) + x - x0`` (their union)."""
    width = rows.x1 - rows.x0 + 1.0
    a = j * width + (np.clip(a, rows.x0, rows.x1) - rows.x0)
    b = j * width + (np.clip(b, rows.x0, rows.x1) - rows.x0)
    return _union(a, b)


def _union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of intervals [a, b) as disjoint, sorted intervals."""
    if not len(a):
        return a, b
    order = np.argsort(a, kind="stable")
    a, b = a[order], np.maximum.accumulate(b[order])
    new = np.r_[True, a[1:] > b[:-1]]
    return a[new], b[np.r_[new[1:], True]]


def measure(rows: Rows, merged: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Area (m²) where the first 1, 2, ..., all of the ``merged`` row pieces overlap."""
    key = np.concatenate([np.concatenate(m) for m in merged])
    delta = np.zeros((len(key), len(merged)), np.int8)
    at = 0
    for k, (a, b) in enumerate(merged):
        delta[at : at + len(a), k] = 1
        delta[at + len(a) : at + len(a) + len(b), k] = -1
        at += len(a) + len(b)
    order = np.argsort(key, kind="stable")
    key = key[order]
    inside = np.cumsum(delta[order], axis=0, dtype=np.int8) > 0
    step = np.diff(key)
    all_in = np.logical_and.accumulate(inside[:-1], axis=1)
    return np.array([step[all_in[:, k]].sum() * rows.h for k in range(len(merged))])
