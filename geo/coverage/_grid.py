"""Fast isochrone polygons: rasterise the reached street pieces, contour the distance field.

Valhalla's approach, adapted to keep the street-corridor shape of :mod:`.isochrones`' exact
method (each reached street piece buffered by ``street_buffer_m``):

1. Every edge is sampled every ``0.75 x cell`` metres (once per network). A site's walk
   distance at each sample follows from the distances of the edge's two end nodes (and, on the
   site's own edge, the direct walk); the exact points where the walk runs out are added as
   extra samples, so partly reached edges end where they should.
2. The reached samples are written into a local grid around the site (``cell`` metres), each
   grid cell remembering one sample's exact coordinates. One Euclidean distance transform
   gives every grid node its nearest reached cell; the distance to that cell's *sample* is the
   node's distance to the reached streets (sub-cell accurate).
3. Marching squares (contourpy) draws the ``street_buffer_m`` contour of that field: the
   outline of the buffered street pieces, holes included. Nothing is drawn where no reached
   street is within the buffer, so polygons never jump a river or railway.

Sites of one group (a kind) whose grids overlap share one grid, which gives their union
directly. Polygons are for display and area statistics only.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..network import Network
from ..network import concat_ranges as _ranges

#: Default grid cell in metres (display tolerance: about 1% of a 50 m corridor's area).
CELL_M = 10.0
#: Largest grid (cells) drawn at once; bigger clusters get a coarser cell.
MAX_CELLS = 6_000_000
SAMPLE_FACTOR = 0.75

_CACHE: weakref.WeakKeyDictionary[Network, dict[Any, Any]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class EdgeSamples:
    """Points every ``spacing`` metres along every edge (sorted by edge, then ``t``)."""

    ptr: np.ndarray  # (E+1,) samples of edge e: ptr[e]:ptr[e+1]
    t: np.ndarray  # metres from the edge's u end (network length units)
    x: np.ndarray
    y: np.ndarray
    skey: np.ndarray  # sample t shifted per edge (ekey) so that it increases across edges
    vt: np.ndarray  # per geometry vertex: metres from its edge's u end
    vkey: np.ndarray  # vt shifted per edge so that it increases across all edges
    ekey: np.ndarray  # (E,) the shift of each edge


def edge_samples(net: Network, spacing: float) -> EdgeSamples:
    """Samples along every edge, cached per network and spacing."""
    cache = _CACHE.setdefault(net, {})
    key = ("samples", float(spacing))
    if key in cache:
        return cache[key]  # type: ignore[no-any-return]
    xy = net.geom_xy
    off = net.geom_offsets
    n_e = net.n_edges
    counts = np.diff(off)
    vedge = np.repeat(np.arange(n_e), counts)
    step = np.zeros(xy.shape[0])
    step[1:] = np.hypot(*(xy[1:] - xy[:-1]).T)
    step[off[:-1]] = 0.0
    cum = np.cumsum(step)
    proj = cum - np.repeat(cum[off[:-1]], counts)  # projected metres from the edge start
    plen = proj[off[1:] - 1]
    scale = np.divide(net.length, plen, out=np.zeros(n_e), where=plen > 0)
    vt = proj * scale[vedge]
    ekey = np.concatenate([[0.0], np.cumsum(net.length + 1.0)[:-1]])
    vkey = ekey[vedge] + vt
    is_start = np.ones(xy.shape[0], bool)
    is_start[off[1:] - 1] = False
    a = np.flatnonzero(is_start)
    seg_len = step[a + 1]
    n = np.maximum(np.ceil(seg_len / spacing).astype(np.int64), 1)
    seg = np.repeat(a, n)
    frac = (np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
    last = off[1:] - 1
    sx = np.concatenate([xy[seg, 0] + frac * (xy[seg + 1, 0] - xy[seg, 0]), xy[last, 0]])
    sy = np.concatenate([xy[seg, 1] + frac * (xy[seg + 1, 1] - xy[seg, 1]), xy[last, 1]])
    st = np.concatenate([vt[seg] + frac * (vt[seg + 1] - vt[seg]), net.length])
    se = np.concatenate([vedge[seg], np.arange(n_e)])
    order = np.lexsort((st, se))
    ptr = np.zeros(n_e + 1, np.int64)
    np.cumsum(np.bincount(se, minlength=n_e), out=ptr[1:])
    st, se = st[order], se[order]
    out = EdgeSamples(ptr, st, sx[order], sy[order], ekey[se] + st, vt, vkey, ekey)
    cache[key] = out
    return out


def point_at(net: Network, es: EdgeSamples, e: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Coordinates (metric) of the points ``t`` metres along edges ``e``; shape (K, 2)."""
    off = net.geom_offsets
    i = np.searchsorted(es.vkey, es.ekey[e] + t, side="right") - 1
    i = np.clip(i, off[e], off[e + 1] - 2)
    span = es.vt[i + 1] - es.vt[i]
    f = np.clip(np.divide(t - es.vt[i], span, out=np.zeros_like(t), where=span > 0), 0.0, 1.0)
    xy = net.geom_xy
    return xy[i] + f[:, None] * (xy[i + 1] - xy[i])


@dataclass(frozen=True)
class SiteFeatures:
    """What each site reaches, as (site, edge, side, metres) rows sorted by site.

    A row says the site reaches the edge's ``u`` end (side 0) or ``v`` end (side 1) after
    ``dist`` metres; at a level of ``L`` metres it walks ``L - dist`` metres into the edge from
    that end. The site's own edge is walked directly from the snapped point.
    """

    row_ptr: np.ndarray  # (S+1,)
    edge: np.ndarray
    side: np.ndarray
    dist: np.ndarray
    own_edge: np.ndarray  # (S,) -1 when off the network
    own_t: np.ndarray
    own_leg: np.ndarray
    leg_ptr: np.ndarray
    leg_xy: np.ndarray  # samples of the straight access leg, site point to street


def site_features(
    net: Network,
    reach_site: np.ndarray,
    reach_node: np.ndarray,
    reach_dist: np.ndarray,
    n_sites: int,
    snap_edge: np.ndarray,
    snap_t: np.ndarray,
    snap_leg: np.ndarray,
    snap_xy: np.ndarray,
    site_xy: np.ndarray,
    spacing: float,
) -> SiteFeatures:
    """Rows of edge ends reached by every site (``reach`` at the largest level)."""
    n_e = net.n_edges
    ends = np.concatenate([net.edge_u, net.edge_v])
    by_node = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[by_node], np.arange(net.n_nodes + 1))
    cnt = ptr[reach_node + 1] - ptr[reach_node]
    inc = by_node[_ranges(ptr[reach_node], cnt)]
    row_site = np.repeat(reach_site, cnt)  # reach is sorted by site, so rows are too
    row_ptr = np.searchsorted(row_site, np.arange(n_sites + 1))
    leg_len = np.hypot(*(site_xy - snap_xy).T)
    leg_len = np.where(np.isfinite(leg_len), leg_len, 0.0)
    n_leg = np.ceil(leg_len / spacing).astype(np.int64) + 1
    ls = np.repeat(np.arange(n_sites), n_leg)
    f = (np.arange(ls.size) - np.repeat(np.cumsum(n_leg) - n_leg, n_leg)) / np.repeat(
        np.maximum(n_leg - 1, 1), n_leg
    )
    leg_xy = site_xy[ls] + f[:, None] * (snap_xy[ls] - site_xy[ls])
    return SiteFeatures(
        row_ptr,
        inc % n_e,
        (inc >= n_e).astype(np.int8),
        np.repeat(reach_dist, cnt),
        np.where(np.isfinite(snap_leg), snap_edge, -1),
        snap_t,
        snap_leg,
        np.concatenate([[0], np.cumsum(n_leg)]),
        leg_xy,
    )


def reached_points(
    net: Network, es: EdgeSamples, feats: SiteFeatures, s: int, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of the street samples site ``s`` reaches within ``limit`` metres, then the
    exact points where its walk runs out, then its access leg (x and y arrays)."""
    a, b = feats.row_ptr[s], feats.row_ptr[s + 1]
    e, side, rem = feats.edge[a:b], feats.side[a:b], limit - feats.dist[a:b]
    ok = rem >= 0
    e, side, rem = e[ok], side[ok], rem[ok]
    length = net.length[e]
    lo_e, hi_e = es.ptr[e], es.ptr[e + 1]
    # side u: samples with t <= rem; side v: samples with t >= length - rem (whole edges need
    # no search: most rows at the larger levels)
    cut = np.where(side == 0, rem, length - rem)
    lo, hi = lo_e.copy(), hi_e.copy()
    pu = np.flatnonzero((rem < length) & (side == 0))
    pv = np.flatnonzero((rem < length) & (side == 1))
    if pu.size:
        hi[pu] = np.searchsorted(es.skey, es.ekey[e[pu]] + cut[pu], side="right")
    if pv.size:
        lo[pv] = np.searchsorted(es.skey, es.ekey[e[pv]] + cut[pv], side="left")
    part = rem < length
    e_end, t_end = e[part], cut[part]
    oe = int(feats.own_edge[s])
    if oe >= 0 and limit >= feats.own_leg[s]:
        r = limit - float(feats.own_leg[s])
        t0 = float(feats.own_t[s])
        ta, tb = max(t0 - r, 0.0), min(t0 + r, float(net.length[oe]))
        base = es.ekey[oe]
        lo = np.append(lo, np.searchsorted(es.skey, base + ta, side="left"))
        hi = np.append(hi, np.searchsorted(es.skey, base + tb, side="right"))
        e_end = np.append(e_end, [oe, oe])
        t_end = np.append(t_end, [ta, tb])
    q = _ranges(lo, np.maximum(hi - lo, 0))
    ends = point_at(net, es, e_end, t_end)
    la, lb = feats.leg_ptr[s], feats.leg_ptr[s + 1]
    legs = feats.leg_xy[la:lb] if limit >= feats.own_leg[s] else feats.leg_xy[:0]
    return (
        np.concatenate([es.x[q], ends[:, 0], legs[:, 0]]),
        np.concatenate([es.y[q], ends[:, 1], legs[:, 1]]),
    )


def _clusters(boxes: np.ndarray) -> list[np.ndarray]:
    """Groups of boxes (x0, y0, x1, y1) connected by overlap; merged until no groups overlap."""
    members = [np.array([i]) for i in range(len(boxes))]
    b = boxes.astype(float)
    while len(b) > 1:
        ov = (
            (b[:, None, 0] <= b[None, :, 2])
            & (b[None, :, 0] <= b[:, None, 2])
            & (b[:, None, 1] <= b[None, :, 3])
            & (b[None, :, 1] <= b[:, None, 3])
        )
        i, j = np.nonzero(ov)
        n, lab = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=ov.shape))
        if n == len(b):
            break
        members = [np.concatenate([members[k] for k in np.flatnonzero(lab == g)]) for g in range(n)]
        b = np.array(
            [
                [
                    b[lab == g, 0].min(),
                    b[lab == g, 1].min(),
                    b[lab == g, 2].max(),
                    b[lab == g, 3].max(),
                ]
                for g in range(n)
            ]
        )
    return members


def _contour(fx: np.ndarray, fy: np.ndarray, width: float, cell: float):
    """Outline (ragged coords, ring offsets, polygon offsets) of everything within ``width``
    metres of the feature points, on a grid of ``cell`` metres."""
    import contourpy

    pad = int(np.ceil(width / cell)) + 2
    x0, y0 = fx.min(), fy.min()
    w = int((fx.max() - x0) / cell) + 1 + 2 * pad
    h = int((fy.max() - y0) / cell) + 1 + 2 * pad
    if w * h > MAX_CELLS:
        cell *= float(np.sqrt(w * h / MAX_CELLS))
        pad = int(np.ceil(width / cell)) + 2
        w = int((fx.max() - x0) / cell) + 1 + 2 * pad
        h = int((fy.max() - y0) / cell) + 1 + 2 * pad
    ix = ((fx - x0) / cell).astype(np.int64) + pad
    iy = ((fy - y0) / cell).astype(np.int64) + pad
    lin = iy * w + ix
    mask = np.ones(h * w, bool)
    mask[lin] = False
    sx = np.empty(h * w)
    sy = np.empty(h * w)
    sx[lin] = fx
    sy[lin] = fy
    feat = ndimage.distance_transform_edt(
        mask.reshape(h, w), return_distances=False, return_indices=True
    )
    fi = (feat[0] * w + feat[1]).ravel()
    gx = x0 + (np.arange(w) - pad + 0.5) * cell
    gy = y0 + (np.arange(h) - pad + 0.5) * cell
    fi = fi.reshape(h, w)
    field = np.hypot(gx[None, :] - sx[fi], gy[:, None] - sy[fi])
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
    return pts[0], np.asarray(offs[0], np.int64), np.asarray(outer[0], np.int64)


def group_polygons(
    net: Network,
    feats: SiteFeatures,
    es: EdgeSamples,
    groups: list[np.ndarray],
    limit: float,
    width: float,
    cell: float = CELL_M,
) -> np.ndarray:
    """One MultiPolygon per group of sites: the street pieces they reach within ``limit``
    metres, buffered by ``width`` metres (empty when nothing is reached)."""
    coords, rings, polys, multi = [], [0], [0], [0]
    n_pts = n_rings = 0
    for members in groups:
        fxs, fys, boxes = [], [], []
        for s in members:
            fx, fy = reached_points(net, es, feats, int(s), limit)
            if fx.size == 0:
                continue
            fxs.append(fx)
            fys.append(fy)
            boxes.append([fx.min(), fy.min(), fx.max(), fy.max()])
        if fxs:
            bx = np.asarray(boxes)
            bx[:, :2] -= width + cell
            bx[:, 2:] += width + cell
            for cl in _clusters(bx) if len(fxs) > 1 else [np.array([0])]:
                p, o, g = _contour(
                    np.concatenate([fxs[i] for i in cl]),
                    np.concatenate([fys[i] for i in cl]),
                    width,
                    cell,
                )
                coords.append(p)
                rings.extend((o[1:] + n_pts).tolist())
                polys.extend((g[1:] + n_rings).tolist())
                n_pts += p.shape[0]
                n_rings += o.size - 1
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
