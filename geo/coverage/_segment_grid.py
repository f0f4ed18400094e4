"""The grid of street segments that snapping searches, and the exact nearest-segment search.

Edges are broken into straight segments, and every segment is listed in the cells of a uniform
grid (:data:`CELL_M` metres) that it passes through. A point first measures the segments of
its own cell; that distance ``d`` bounds the answer, so it then reads only the cells nearer
than ``d`` in a block of cells around it, widening the block until every cell outside it is
farther than the best distance found. The result equals a brute-force search over all
segments; everything is array work in NumPy, float64. Used by :mod:`geo.coverage._snap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..network import Network, concat_ranges

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Side of a grid cell, in metres: a city-centre cell then lists a handful of segments.
CELL_M = 70.0
#: At most this many grid cells (the cell grows beyond :data:`CELL_M` for very large areas,
#: so the grid's pointer array stays under ~32 MB).
MAX_CELLS = 1 << 22
#: Candidate (point, segment) pairs measured at once; more are split into batches (memory).
_PAIR_BATCH = 2_000_000
#: The block grows one cell a side up to this half-width, then doubles its growth.
_GROW_FROM = 2
#: Points whose block of cells would pass this half-width (cells) go on on a grid of cells
#: :data:`_COARSE` times larger (points far from any street: fewer, larger cells to read).
_FINE_MAX_H = 8
_COARSE = 16
#: Relative and absolute slack (metres) on the geometric bounds, against rounding.
_REL = 1e-9
_ABS_M = 1e-9


@dataclass(frozen=True)
class SegmentIndex:
    """Straight segments of every edge (metric CRS, metres) and a grid of cells listing them.

    Attributes
    ----------
    ax, ay, dx, dy : float64 (S,)
        Segment start and direction (end minus start), metres.
    seg_len : float64 (S,)
        Segment length, metres (projected).
    seg_edge : int64 (S,)
        The edge each segment belongs to.
    seg_along : float64 (S,)
        Projected metres from the edge's start to the segment's start.
    edge_proj_len : float64 (E,)
        Projected length of every edge, metres.
    cell_m : float
        Side of a grid cell, metres.
    x0, y0 : float
        Grid origin (lower-left corner), metres.
    nx, ny : int
        Grid columns and rows; cell ``(col, row)`` has the flat number ``row * nx + col``.
    cell_ptr : int64 (nx * ny + 1,)
        Cell ``k`` lists the entries ``cell_ptr[k]:cell_ptr[k + 1]``.
    cell_seg : int64 (K,)
        The segment of each entry (each segment once per cell it passes through).
    ent_ax, ent_ay, ent_dx, ent_dy, ent_l2 : float64 (K,)
        The entry's segment start, direction and squared length (1.0 for a zero-length
        segment), copied in cell order so that a scan reads memory in order.
    """

    ax: FloatArray
    ay: FloatArray
    dx: FloatArray
    dy: FloatArray
    seg_len: FloatArray
    seg_edge: IntArray
    seg_along: FloatArray
    edge_proj_len: FloatArray
    cell_m: float
    x0: float
    y0: float
    nx: int
    ny: int
    cell_ptr: IntArray
    cell_seg: IntArray
    ent_ax: FloatArray
    ent_ay: FloatArray
    ent_dx: FloatArray
    ent_dy: FloatArray
    ent_l2: FloatArray

    @cached_property
    def coarse(self) -> SegmentIndex:
        """The same segments on a grid of cells :data:`_COARSE` times larger (built on first
        use, for points far from any street)."""
        s = {k: getattr(self, k) for k in _SEGMENT_FIELDS}
        return SegmentIndex(**s, **_grid(s, self.cell_m * _COARSE))


_SEGMENT_FIELDS = ("ax", "ay", "dx", "dy", "seg_len", "seg_edge", "seg_along", "edge_proj_len")


def _segments(net: Network) -> dict[str, np.ndarray]:
    """The straight segments of every edge and where they sit along it."""
    xy = net.geom_xy
    off = net.geom_offsets
    counts = np.diff(off)
    is_start = np.ones(xy.shape[0], bool)
    is_start[off[1:] - 1] = False
    a = np.flatnonzero(is_start)
    ax, ay = xy[a, 0], xy[a, 1]
    dx, dy = xy[a + 1, 0] - ax, xy[a + 1, 1] - ay
    seg_len = np.hypot(dx, dy)
    seg_edge = np.repeat(np.arange(net.n_edges), counts - 1)
    csum = np.cumsum(seg_len)
    first = np.r_[0, np.cumsum(counts - 1)[:-1]]
    edge_start_sum = np.where(
        counts > 1,
        csum[np.minimum(first, csum.size - 1)] - seg_len[np.minimum(first, seg_len.size - 1)],
        0.0,
    )
    return {
        "ax": ax,
        "ay": ay,
        "dx": dx,
        "dy": dy,
        "seg_len": seg_len,
        "seg_edge": seg_edge,
        "seg_along": csum - seg_len - edge_start_sum[seg_edge],
        "edge_proj_len": np.bincount(seg_edge, weights=seg_len, minlength=net.n_edges),
    }


def _grid(s: dict[str, np.ndarray], cell_m: float = 0.0) -> dict[str, Any]:
    """List every segment in the grid cells it passes through.

    Segments are cut into pieces no longer than a cell, and each piece is listed in every cell
    its bounding box touches (a superset of the cells it crosses; duplicates are removed).
    """
    ax, ay, dx, dy, seg_len = s["ax"], s["ay"], s["dx"], s["dy"], s["seg_len"]
    n_seg = seg_len.size
    bx, by = ax + dx, ay + dy
    x0, y0 = float(min(ax.min(), bx.min())), float(min(ay.min(), by.min()))
    w = float(max(ax.max(), bx.max())) - x0
    h = float(max(ay.max(), by.max())) - y0
    cell = cell_m or max(CELL_M, float(np.sqrt(w * h / MAX_CELLS)))
    nx, ny = int(w // cell) + 1, int(h // cell) + 1
    n_piece = np.maximum(np.ceil(seg_len / cell).astype(np.int64), 1)
    piece_seg = np.repeat(np.arange(n_seg), n_piece)
    k = np.arange(piece_seg.size) - np.repeat(np.cumsum(n_piece) - n_piece, n_piece)
    n_of = n_piece[piece_seg]
    f0, f1 = k / n_of, (k + 1) / n_of
    pax, pay, pdx, pdy = ax[piece_seg], ay[piece_seg], dx[piece_seg], dy[piece_seg]
    xa, xb = pax + f0 * pdx, pax + f1 * pdx
    ya, yb = pay + f0 * pdy, pay + f1 * pdy

    def cells(lo: FloatArray, org: float, n: int) -> IntArray:
        return np.clip(np.floor((lo - org) / cell), 0, n - 1).astype(np.int64)

    cx0, cx1 = cells(np.minimum(xa, xb), x0, nx), cells(np.maximum(xa, xb), x0, nx)
    cy0, cy1 = cells(np.minimum(ya, yb), y0, ny), cells(np.maximum(ya, yb), y0, ny)
    # a piece touches at most a few cells a side (2, or 3 through rounding): one pass per offset
    keys = []
    for ox in range(int((cx1 - cx0).max()) + 1):
        for oy in range(int((cy1 - cy0).max()) + 1):
            cx, cy = cx0 + ox, cy0 + oy
            # a piece shares the cells around its start with the piece before it: list those once
            again = np.zeros(cx.size, bool)
            again[1:] = (k[1:] > 0) & (cx[1:] <= cx1[:-1]) & (cx[1:] >= cx0[:-1])
            again[1:] &= (cy[1:] <= cy1[:-1]) & (cy[1:] >= cy0[:-1])
            use = (cx <= cx1) & (cy <= cy1) & ~again
            keys.append((cy[use] * nx + cx[use]) * np.int64(n_seg) + piece_seg[use])
    key = np.sort(np.concatenate(keys))
    key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key
    cell_of, seg = key // n_seg, key % n_seg
    ptr = np.zeros(nx * ny + 1, np.int64)
    np.cumsum(np.bincount(cell_of, minlength=nx * ny), out=ptr[1:])
    l2 = dx * dx + dy * dy
    return {
        "cell_m": cell,
        "x0": x0,
        "y0": y0,
        "nx": nx,
        "ny": ny,
        "cell_ptr": ptr,
        "cell_seg": seg,
        "ent_ax": ax[seg],
        "ent_ay": ay[seg],
        "ent_dx": dx[seg],
        "ent_dy": dy[seg],
        "ent_l2": np.where(l2 > 0, l2, 1.0)[seg],
    }


def build_segment_index(net: Network) -> SegmentIndex:
    """Segments of every edge of ``net`` and their grid (metres, metric CRS)."""
    s = _segments(net)
    return SegmentIndex(**s, **_grid(s))


@dataclass
class _Search:
    """Per-point state of a nearest-segment search (``best`` metres, ``seg`` index)."""

    x: FloatArray
    y: FloatArray
    col: IntArray
    row: IntArray
    best: FloatArray
    seg: IntArray


def _block_ranges(
    ix: SegmentIndex,
    st: _Search,
    pts: IntArray,
    rows: tuple[IntArray, IntArray],
    cols: tuple[IntArray, IntArray],
) -> tuple[IntArray, IntArray, IntArray]:
    """Entry ranges of the cells in rows ``rows`` and columns ``cols`` (per point, inclusive)
    that lie nearer than the point's best distance: rows are trimmed to the disc, then each
    row's columns. Returns ``(point, start, count)``, grouped by point in ``pts`` order."""
    c = ix.cell_m
    x, y, best = st.x[pts], st.y[pts], st.best[pts]
    reach = best * (1 + _REL) + _ABS_M  # inf while nothing was found
    clo, chi = np.maximum(cols[0], 0), np.minimum(cols[1], ix.nx - 1)
    lo, hi = np.maximum(rows[0], 0), np.minimum(rows[1], ix.ny - 1)
    fin = np.isfinite(reach)
    if fin.any():
        # rows within the disc at the columns' nearest x: |gap_y| < sqrt(reach^2 - gap_x^2)
        gx = np.maximum(np.maximum(ix.x0 + clo * c - x, x - (ix.x0 + (chi + 1) * c)), 0.0)
        w = np.sqrt(np.maximum(reach * reach - gx * gx, 0.0)) * (1 + _REL) + _ABS_M
        w = np.where(fin, w, 0.0)
        lo = np.where(fin, np.maximum(lo, np.floor((y - w - ix.y0) / c)), lo)
        hi = np.where(fin, np.minimum(hi, np.floor((y + w - ix.y0) / c)), hi)
        hi = np.where(fin & (gx >= reach), lo - 1, hi)  # the columns are beyond the disc
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    nr = np.where(chi >= clo, np.maximum(hi - lo + 1, 0), 0)
    which = np.repeat(np.arange(pts.size), nr)
    rr = lo[which] + concat_ranges(np.zeros(pts.size, np.int64), nr)
    px, py, reach_r = x[which], y[which], reach[which]
    gap = np.maximum(np.maximum(ix.y0 + rr * c - py, py - (ix.y0 + (rr + 1) * c)), 0.0)
    half = np.sqrt(np.maximum(reach_r * reach_r - gap * gap, 0.0)) * (1 + _REL) + _ABS_M
    fh = np.isfinite(reach_r)
    hw = np.where(fh, half, 0.0)
    a = np.where(fh, np.maximum(clo[which], np.floor((px - hw - ix.x0) / c)), clo[which])
    b = np.where(fh, np.minimum(chi[which], np.floor((px + hw - ix.x0) / c)), chi[which])
    start, count = _cells_range(ix, rr * ix.nx, a.astype(np.int64), b.astype(np.int64))
    return which, start, count


def _cells_range(
    ix: SegmentIndex, base: IntArray, a: IntArray, b: IntArray
) -> tuple[IntArray, IntArray]:
    """Entry range ``(start, count)`` of the cells ``a..b`` of the rows starting at ``base``."""
    last = ix.nx - 1
    start = ix.cell_ptr[base + np.clip(a, 0, last)]
    end = ix.cell_ptr[base + np.clip(b, 0, last) + 1]
    return start, np.where(b >= a, end - start, 0)


def _measure(ix: SegmentIndex, st: _Search, pts: IntArray, h: IntArray, hp: IntArray) -> None:
    """Read the ring of cells between the blocks of half-width ``hp`` (read before; -1: none)
    and ``h`` around each point's own cell, and keep any nearer segment.

    The ring is read in four parts: the rows below and above the old block (full width), and
    the columns left and right of it in its rows; each part is trimmed to the cells nearer
    than the best distance found so far (which shrinks from part to part).
    """
    col, row = st.col[pts], st.row[pts]
    parts = (
        ((row - h, row - hp - 1), (col - h, col + h)),
        ((np.maximum(row + hp + 1, row - hp), row + h), (col - h, col + h)),
        ((row - hp, row + hp), (col - h, col - hp - 1)),
        ((row - hp, row + hp), (col + hp + 1, col + h)),
    )
    for rows, cols in parts:
        use = (rows[1] >= rows[0]) & (cols[1] >= cols[0])
        if use.all():
            _measure_part(ix, st, pts, rows, cols)
        elif use.any():
            k = np.flatnonzero(use)
            _measure_part(ix, st, pts[k], (rows[0][k], rows[1][k]), (cols[0][k], cols[1][k]))


def _measure_part(
    ix: SegmentIndex,
    st: _Search,
    pts: IntArray,
    rows: tuple[IntArray, IntArray],
    cols: tuple[IntArray, IntArray],
) -> None:
    """Measure the segments in one part of the ring (see :func:`_measure`)."""
    n_rows = int(np.clip(rows[1] - rows[0] + 1, 0, ix.ny).sum())
    which, starts, count = (
        _block_ranges(ix, st, pts, rows, cols) if n_rows <= _PAIR_BATCH else (None, None, None)
    )
    if pts.size > 1 and (count is None or int(count.sum()) > _PAIR_BATCH):
        mid = pts.size // 2  # bounded memory: in halves
        for k in (slice(None, mid), slice(mid, None)):
            part = ((rows[0][k], rows[1][k]), (cols[0][k], cols[1][k]))
            _measure_part(ix, st, pts[k], *part)
        return
    if count is None:
        which, starts, count = _block_ranges(ix, st, pts, rows, cols)
    if int(count.sum()) == 0:
        return
    j = concat_ranges(starts, count)
    owner = np.repeat(which, count)
    qx, qy = st.x[pts].take(owner), st.y[pts].take(owner)
    ex, ey = ix.ent_ax.take(j), ix.ent_ay.take(j)
    edx, edy = ix.ent_dx.take(j), ix.ent_dy.take(j)
    # in place, in the order of _project: t = ((qx - ex) * edx + (qy - ey) * edy) / l2,
    # clipped; fx = qx - (ex + t * edx) (bit for bit the same numbers, fewer temporaries)
    t = np.subtract(qx, ex)
    t *= edx
    ty = np.subtract(qy, ey)
    ty *= edy
    t += ty
    t /= ix.ent_l2.take(j)
    np.clip(t, 0.0, 1.0, out=t)
    edx *= t
    edx += ex
    fx = np.subtract(qx, edx, out=qx)
    edy *= t
    edy += ey
    fy = np.subtract(qy, edy, out=qy)
    d2 = np.multiply(fx, fx, out=ex)
    d2 += np.multiply(fy, fy, out=ey)
    grp_start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    m2 = np.minimum.reduceat(d2, grp_start)
    # the exact (hypot) minimum is among the pairs whose squared distance is within rounding
    # of the smallest: measure those with hypot, as the brute force does
    size = np.diff(np.r_[grp_start, owner.size])
    near = np.flatnonzero(d2 <= np.repeat(m2 * (1 + 1e-9) + 1e-300, size))
    dn = np.hypot(fx[near], fy[near])
    by = owner[near]
    gs = np.flatnonzero(np.r_[True, by[1:] != by[:-1]])
    mn = np.minimum.reduceat(dn, gs)
    hit = np.flatnonzero(dn == np.repeat(mn, np.diff(np.r_[gs, by.size])))
    first = hit[np.r_[True, by[hit][1:] != by[hit][:-1]]]  # the first nearest in reading order
    gi = pts[by[first]]
    dist = dn[first]
    better = dist < st.best[gi]
    st.best[gi[better]] = dist[better]
    st.seg[gi[better]] = ix.cell_seg[j[near[first[better]]]]


def _margin(ix: SegmentIndex, st: _Search, pts: IntArray, h: IntArray) -> FloatArray:
    """Distance (m) from each point to the nearest side of its block that has cells beyond."""
    c = ix.cell_m
    col, row, x, y = st.col[pts], st.row[pts], st.x[pts], st.y[pts]
    inf = np.inf
    left = np.where(col - h > 0, x - (ix.x0 + (col - h) * c), inf)
    right = np.where(col + h < ix.nx - 1, ix.x0 + (col + h + 1) * c - x, inf)
    down = np.where(row - h > 0, y - (ix.y0 + (row - h) * c), inf)
    up = np.where(row + h < ix.ny - 1, ix.y0 + (row + h + 1) * c - y, inf)
    return np.minimum(np.minimum(left, right), np.minimum(down, up))


def _ring_search(ix: SegmentIndex, st: _Search, max_h: float) -> IntArray:
    """Ring search on ``ix`` for every point of ``st`` (see :func:`nearest_segments`).

    Returns the points left unproven because their block would pass ``max_h`` cells.
    """
    n = st.x.size
    outside = np.maximum.reduce(
        [-st.col, st.col - (ix.nx - 1), -st.row, st.row - (ix.ny - 1), np.zeros_like(st.col)]
    )
    h = outside  # half-width of the block read so far, per point
    hp = np.full(n, -1, np.int64)  # the block read before it (-1: none)
    step = np.ones(n, np.int64)
    todo = np.arange(n)
    left = [np.zeros(0, np.int64)]
    while todo.size:
        wide = h[todo] > max_h
        left.append(todo[wide])
        todo = todo[~wide]
        _measure(ix, st, todo, h[todo], hp[todo])
        m = _margin(ix, st, todo, h[todo])
        done = st.best[todo] <= m * (1 - _REL) - _ABS_M
        done |= np.isinf(m)  # the block covers the whole grid
        todo = todo[~done]
        hp[todo] = h[todo]
        h[todo] += step[todo]
        step[todo] = np.where(h[todo] >= _GROW_FROM, 2 * step[todo], 1)
    return np.concatenate(left)


def _start(
    ix: SegmentIndex, x: FloatArray, y: FloatArray, best: FloatArray, seg: IntArray
) -> _Search:
    col = np.floor((x - ix.x0) / ix.cell_m).astype(np.int64)
    row = np.floor((y - ix.y0) / ix.cell_m).astype(np.int64)
    return _Search(x, y, col, row, best, seg)


def nearest_segments(ix: SegmentIndex, x: FloatArray, y: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distance from every point to its nearest segment, and that segment (exact).

    Parameters
    ----------
    ix
        The network's segment grid (:func:`segment_index`).
    x, y : float64 (P,)
        Finite point coordinates, metres in the network's metric CRS.

    Returns
    -------
    dist : float64 (P,)
        Metres to the nearest segment (equal to a brute-force search over all segments).
    seg : int64 (P,)
        Its index in ``ix`` (``ix.seg_edge[seg]`` is the edge).

    Notes
    -----
    Starts with each point's own cell, then reads ever wider blocks of cells (1, 1, 2, 4, ...
    cells more on each side) while some cell outside the block could still hold a nearer
    segment. Points outside the grid start with the first block that reaches it. Points
    whose block passes ``_FINE_MAX_H`` cells (far from any street) go on in the same way on
    a coarse grid (:attr:`SegmentIndex.coarse`), starting from the best distance found.
    """
    n = x.size
    st = _start(ix, x, y, np.full(n, np.inf), np.full(n, -1, np.int64))
    far = _ring_search(ix, st, _FINE_MAX_H)
    if far.size:
        coarse = ix.coarse
        sc = _start(coarse, x[far], y[far], st.best[far], st.seg[far])
        _ring_search(coarse, sc, np.inf)
        st.best[far], st.seg[far] = sc.best, sc.seg
    return st.best, st.seg
