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
from ..network._model import _ranges

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
    out = EdgeSamples(ptr, st[order], sx[order], sy[order], vt, vkey, ekey)
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
    """Per-site walk distances at street samples, and the points where each level ends.

    Rows are sorted by site; ``*_ptr`` give each site's slice.
    """

    q_ptr: np.ndarray
    q: np.ndarray  # sample index
    d: np.ndarray  # walk distance (m) from the site to the sample
    end_ptr: np.ndarray
    end_xy: np.ndarray  # (K, 2) points where a level's walk runs out (or edge ends inside it)
    end_level: np.ndarray  # which level (index into limits) the end point belongs to
    leg_ptr: np.ndarray
    leg_xy: np.ndarray  # samples of the straight access leg, site point to street


def site_features(
    net: Network,
    es: EdgeSamples,
    reach_site: np.ndarray,
    reach_node: np.ndarray,
    reach_dist: np.ndarray,
    n_sites: int,
    snap_edge: np.ndarray,
    snap_t: np.ndarray,
    snap_leg: np.ndarray,
    snap_xy: np.ndarray,
    site_xy: np.ndarray,
    limits: np.ndarray,
    spacing: float,
) -> SiteFeatures:
    """Distances along every street sample each site reaches (``reach`` at ``max(limits)``)."""
    n_e = net.n_edges
    length = net.length
    # node -> incident edges (side 0: edge's u end, side 1: v end)
    ends = np.concatenate([net.edge_u, net.edge_v])
    order = np.argsort(ends, kind="stable")
    inc_ptr = np.zeros(net.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(ends, minlength=net.n_nodes), out=inc_ptr[1:])
    inc_edge = order % n_e
    inc_side = order // n_e
    chunk = max(1, 4_000_000 // max(n_e, 1))
    site_ptr = np.searchsorted(reach_site, np.arange(n_sites + 1))
    qs, ds, q_cnt = [], [], np.zeros(n_sites, np.int64)
    end_xy, end_lv, end_site = [], [], []
    lim_max = float(limits.max())
    for c0 in range(0, n_sites, chunk):
        c1 = min(n_sites, c0 + chunk)
        r0, r1 = site_ptr[c0], site_ptr[c1]
        rs, rn, rd = reach_site[r0:r1] - c0, reach_node[r0:r1], reach_dist[r0:r1]
        cnt = inc_ptr[rn + 1] - inc_ptr[rn]
        flat = _ranges(inc_ptr[rn], cnt)
        es_ = np.repeat(rs, cnt)
        ee = inc_edge[flat]
        side = inc_side[flat]
        dd = np.repeat(rd, cnt)
        du = np.full((c1 - c0, n_e), np.inf)
        dv = np.full((c1 - c0, n_e), np.inf)
        du[es_[side == 0], ee[side == 0]] = dd[side == 0]
        dv[es_[side == 1], ee[side == 1]] = dd[side == 1]
        ls = np.arange(c1 - c0)
        own = snap_edge[c0:c1]
        ok = own >= 0
        lo, own_ok = ls[ok], own[ok]
        st, sl = snap_t[c0:c1][ok], snap_leg[c0:c1][ok]
        du[lo, own_ok] = np.minimum(du[lo, own_ok], sl + st)
        dv[lo, own_ok] = np.minimum(dv[lo, own_ok], sl + length[own_ok] - st)
        ps, pe = np.nonzero(np.isfinite(du) | np.isfinite(dv))
        a, b = du[ps, pe], dv[ps, pe]
        # samples of every touched edge
        n_q = es.ptr[pe + 1] - es.ptr[pe]
        q = _ranges(es.ptr[pe], n_q)
        qs_site = np.repeat(ps, n_q)
        tq = es.t[q]
        lq = length[np.repeat(pe, n_q)]
        d = np.minimum(np.repeat(a, n_q) + tq, np.repeat(b, n_q) + lq - tq)
        # the site's own edge: the direct walk along it
        is_own = np.repeat(pe == np.where(ok, own, -2)[ps], n_q)
        if is_own.any():
            s_of = qs_site[is_own] + c0
            d[is_own] = np.minimum(d[is_own], snap_leg[s_of] + np.abs(tq[is_own] - snap_t[s_of]))
        keep = d <= lim_max + spacing  # one sample past the end keeps the edge's direction
        qs.append(q[keep])
        ds.append(d[keep])
        q_cnt[c0:c1] = np.bincount(qs_site[keep], minlength=c1 - c0)
        # where each level's walk runs out along each edge
        for li, lim in enumerate(limits):
            lim = float(lim)
            le = length[pe]
            cand_t = np.concatenate([lim - a, le - (lim - b)])
            cand_i = np.concatenate([np.arange(pe.size)] * 2)
            is_o = pe == np.where(ok, own, -2)[ps]
            if is_o.any():
                io = np.flatnonzero(is_o)
                so = ps[io] + c0
                rem = lim - snap_leg[so]
                cand_t = np.concatenate([cand_t, snap_t[so] - rem, snap_t[so] + rem])
                cand_i = np.concatenate([cand_i, io, io])
            # ends at the edge's end nodes are samples already
            fin = (cand_t > 0.0) & (cand_t < le[cand_i])
            cand_t, cand_i = cand_t[fin], cand_i[fin]
            dt = np.minimum(a[cand_i] + cand_t, b[cand_i] + le[cand_i] - cand_t)
            own_i = is_o[cand_i]
            if own_i.any():
                so = ps[cand_i[own_i]] + c0
                dt[own_i] = np.minimum(dt[own_i], snap_leg[so] + np.abs(cand_t[own_i] - snap_t[so]))
            good = dt <= lim + 1e-6
            cand_t, cand_i = cand_t[good], cand_i[good]
            end_xy.append(point_at(net, es, pe[cand_i], cand_t))
            end_lv.append(np.full(cand_i.size, li, np.int64))
            end_site.append(ps[cand_i] + c0)
    q_all = np.concatenate(qs) if qs else np.zeros(0, np.int64)
    d_all = np.concatenate(ds) if ds else np.zeros(0)
    q_ptr = np.concatenate([[0], np.cumsum(q_cnt)])
    e_site = np.concatenate(end_site) if end_site else np.zeros(0, np.int64)
    e_xy = np.concatenate(end_xy) if end_xy else np.zeros((0, 2))
    e_lv = np.concatenate(end_lv) if end_lv else np.zeros(0, np.int64)
    o = np.argsort(e_site, kind="stable")
    end_ptr = np.searchsorted(e_site[o], np.arange(n_sites + 1))
    # access legs: site point to its snapped point
    leg_len = np.hypot(*(site_xy - snap_xy).T)
    leg_len = np.where(np.isfinite(leg_len), leg_len, 0.0)
    n_leg = np.ceil(leg_len / spacing).astype(np.int64) + 1
    ls = np.repeat(np.arange(n_sites), n_leg)
    f = (np.arange(ls.size) - np.repeat(np.cumsum(n_leg) - n_leg, n_leg)) / np.repeat(
        np.maximum(n_leg - 1, 1), n_leg
    )
    leg_xy = site_xy[ls] + f[:, None] * (snap_xy[ls] - site_xy[ls])
    leg_ptr = np.concatenate([[0], np.cumsum(n_leg)])
    return SiteFeatures(q_ptr, q_all, d_all, end_ptr, e_xy[o], e_lv[o], leg_ptr, leg_xy)


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
        None,
        corner_mask=True,
        line_type=contourpy.LineType.SeparateCode,
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
        quad_as_tri=False,
        z_interp=contourpy.ZInterp.Linear,
    )  # the class directly: contour_generator() spends 30% in masking a field with no NaN
    pts, offs, outer = gen.filled(-1.0, width)
    if pts[0] is None:
        return np.zeros((0, 2)), np.zeros(1, np.int64), np.zeros(1, np.int64)
    return pts[0], offs[0].astype(np.int64), outer[0].astype(np.int64)


def group_polygons(
    feats: SiteFeatures,
    es: EdgeSamples,
    groups: list[np.ndarray],
    level: int,
    limit: float,
    width: float,
    cell: float = CELL_M,
) -> np.ndarray:
    """One (Multi)Polygon per group of sites: the buffered street pieces they reach within
    ``limit`` metres (``level`` indexes the limits the features were built for)."""
    coords, rings, polys, multi = [], [0], [0], [0]
    n_pts = n_rings = 0
    for members in groups:
        fxs, fys, boxes = [], [], []
        for s in members:
            a, b = feats.q_ptr[s], feats.q_ptr[s + 1]
            q = feats.q[a:b][feats.d[a:b] <= limit + 1e-6]
            a, b = feats.end_ptr[s], feats.end_ptr[s + 1]
            ends = feats.end_xy[a:b][feats.end_level[a:b] == level]
            if q.size == 0 and ends.shape[0] == 0:
                continue
            a, b = feats.leg_ptr[s], feats.leg_ptr[s + 1]
            legs = feats.leg_xy[a:b]
            fx = np.concatenate([es.x[q], ends[:, 0], legs[:, 0]])
            fy = np.concatenate([es.y[q], ends[:, 1], legs[:, 1]])
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


def simplify(polys: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker without topology checks (10x faster on contour output), redone with
    them for any polygon that came out invalid."""
    out = shapely.simplify(polys, tolerance, preserve_topology=False)
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = shapely.simplify(polys[bad], tolerance, preserve_topology=True)
    return out
