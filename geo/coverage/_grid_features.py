"""The reached street pieces of grid isochrones, as features a grid can hold.

A feature is a straight piece of street (a geometry segment of an edge, cut where the walk
runs out) together with one point on it that says which grid cell holds it. Each segment has
one feature per grid cell it passes through (:class:`StreetCells`, once per network and cell
size), so a grid cell's nearest feature cell gives a segment whose distance is measured
exactly: straight streets are drawn to the centimetre whatever the cell.

:func:`owner_rows` lists what every *owner* (a site, or all sites of a kind) reaches;
:func:`level_features` turns that into the features of one walk limit, for all owners at once
(array work, no loop over sites).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..network import Network
from ..network import concat_ranges as _ranges

#: Largest owners x nodes table of distances kept dense (else partners are not looked up).
_DENSE_MAX = 8_000_000

_CACHE: weakref.WeakKeyDictionary[Network, dict[Any, Any]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class StreetCells:
    """One point per (geometry segment, grid cell) the segment passes through, for every edge
    (sorted by edge, then by metres ``t`` from the edge's ``u`` end, so also by segment).

    Each point holds its grid cell ``(cx, cy)`` (``floor(x / cell)``) and its whole segment:
    start ``(ax, ay)`` relative to ``origin``, vector ``(dx, dy)`` and ``il2`` = 1 / its
    squared length (0 for a point), in float32 (centimetres over a 150 km network)."""

    cell: float
    origin: tuple[float, float]
    ptr: np.ndarray  # (E+1,) points of edge e: ptr[e]:ptr[e+1]
    seg_ptr: np.ndarray  # (V+1,) points of the segment starting at vertex i: seg_ptr[i]:[i+1]
    key: np.ndarray  # t shifted per edge (ekey) so that it increases across edges
    seg: np.ndarray  # geometry segment: index of its first vertex in ``net.geom_xy``
    cx: np.ndarray
    cy: np.ndarray
    ax: np.ndarray
    ay: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    il2: np.ndarray
    vt: np.ndarray  # per geometry vertex: metres from its edge's u end
    vkey: np.ndarray  # vt shifted per edge (ekey)
    ekey: np.ndarray  # (E,) the shift of each edge


def street_cells(net: Network, cell: float) -> StreetCells:
    """:class:`StreetCells` of ``net`` for ``cell`` metre grid cells (cached per network)."""
    cache = _CACHE.setdefault(net, {})
    key = ("cells", float(cell))
    if key not in cache:
        cache[key] = _street_cells(net, float(cell))
    return cache[key]  # type: ignore[no-any-return]


def _street_cells(net: Network, cell: float) -> StreetCells:
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
    # points every half cell along every segment, and every edge's last vertex (one more
    # point on its last segment), in edge order, then along the edge
    is_start = np.ones(xy.shape[0], bool)
    is_start[off[1:] - 1] = False
    a = np.flatnonzero(is_start)
    n = np.maximum(np.ceil(step[a + 1] / (0.5 * cell)).astype(np.int64), 1)
    m = n + ~is_start[a + 1]  # the segment that ends its edge gets its end point too
    seg = np.repeat(a, m)
    frac = (np.arange(seg.size) - np.repeat(np.cumsum(m) - m, m)) / np.repeat(n, m)
    px = xy[seg, 0] + frac * (xy[seg + 1, 0] - xy[seg, 0])
    py = xy[seg, 1] + frac * (xy[seg + 1, 1] - xy[seg, 1])
    pt = vt[seg] + frac * (vt[seg + 1] - vt[seg])
    cx = np.floor(px / cell).astype(np.int32)
    cy = np.floor(py / cell).astype(np.int32)
    # one point per (segment, cell) run: the first
    keep = np.ones(seg.size, bool)
    keep[1:] = (seg[1:] != seg[:-1]) | (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
    seg, pt, cx, cy = seg[keep], pt[keep], cx[keep], cy[keep]
    se = vedge[seg]
    ptr = np.zeros(n_e + 1, np.int64)
    np.cumsum(np.bincount(se, minlength=n_e), out=ptr[1:])
    origin = (
        float(np.floor(xy[:, 0].min() / cell) * cell),
        float(np.floor(xy[:, 1].min() / cell) * cell),
    )
    ax, ay = xy[seg, 0] - origin[0], xy[seg, 1] - origin[1]
    dx, dy = xy[seg + 1, 0] - xy[seg, 0], xy[seg + 1, 1] - xy[seg, 1]
    f4 = np.float32
    return StreetCells(
        cell,
        origin,
        ptr,
        np.searchsorted(seg, np.arange(xy.shape[0] + 1)),
        ekey[se] + pt,
        seg,
        cx,
        cy,
        ax.astype(f4),
        ay.astype(f4),
        dx.astype(f4),
        dy.astype(f4),
        _inv(dx, dy).astype(f4),
        vt,
        ekey[vedge] + vt,
        ekey,
    )


def _segment_at(net: Network, sc: StreetCells, e: np.ndarray, t: np.ndarray):
    """The geometry segment of edges ``e`` that holds the points ``t`` metres along them, and
    those points' coordinates."""
    off = net.geom_offsets
    i = np.searchsorted(sc.vkey, sc.ekey[e] + t, side="right") - 1
    i = np.clip(i, off[e], off[e + 1] - 2)
    span = sc.vt[i + 1] - sc.vt[i]
    f = np.clip(np.divide(t - sc.vt[i], span, out=np.zeros_like(t), where=span > 0), 0.0, 1.0)
    xy = net.geom_xy
    p = xy[i] + f[:, None] * (xy[i + 1] - xy[i])
    return i, p[:, 0], p[:, 1]


@dataclass(frozen=True)
class OwnerRows:
    """What each owner reaches, as (owner, edge, side, metres) rows sorted by owner.

    A row says the owner reaches the edge's ``u`` end (side 0) or ``v`` end (side 1) after
    ``dist`` metres (for an owner of several sites: the nearest of them); at a limit of ``L``
    metres it walks ``L - dist`` metres into the edge from that end. Each site's own edge is
    walked directly from its snapped point, and its straight access leg is drawn too.
    """

    n_owners: int
    owner: np.ndarray
    edge: np.ndarray
    side: np.ndarray
    dist: np.ndarray
    partner: np.ndarray  # the owner's distance to the edge's other end (inf: not reached)
    site_owner: np.ndarray  # (S,)
    own_edge: np.ndarray  # (S,) -1 when off the network
    own_t: np.ndarray
    own_leg: np.ndarray  # (S,) metres from the site to its snapped point
    leg_a: np.ndarray  # (S, 2) site point
    leg_b: np.ndarray  # (S, 2) snap point


def owner_rows(
    net: Network,
    reach: tuple[np.ndarray, np.ndarray, np.ndarray],
    site_owner: np.ndarray,
    n_owners: int,
    snap: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    site_xy: np.ndarray,
) -> OwnerRows:
    """Rows of edge ends reached by every owner; ``reach`` = (site, node, dist) at the largest
    limit, sorted by site; ``snap`` = (edge, t, leg, xy) per site."""
    site, node, dist = reach
    n_n = net.n_nodes
    site_owner = np.asarray(site_owner, np.int64)
    key = site_owner[site] * n_n + node
    best = None
    if n_owners * n_n <= _DENSE_MAX:  # the owners' distance to every node, for partners
        best = np.full(n_owners * n_n, np.inf)
        np.minimum.at(best, key, dist)
    if not np.array_equal(site_owner, np.arange(site_owner.size)):
        # several sites per owner: the nearest of them per node
        if best is None:
            order = np.lexsort((dist, key))
            first = np.ones(order.size, bool)
            first[1:] = key[order][1:] != key[order][:-1]
            k, d = key[order][first], dist[order][first]
        else:
            k = np.flatnonzero(np.isfinite(best))
            d = best[k]
        own, node, dist = k // n_n, k % n_n, d
    else:
        own = site_owner[site]
    n_e = net.n_edges
    ends = np.concatenate([net.edge_u, net.edge_v])
    by_node = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[by_node], np.arange(n_n + 1))
    cnt = ptr[node + 1] - ptr[node]
    inc = by_node[_ranges(ptr[node], cnt)]
    r_own = np.repeat(own, cnt)
    edge, side = inc % n_e, (inc >= n_e).astype(np.int8)
    if best is None:
        partner = np.full(edge.size, np.inf)
    else:  # the owner's distance to the edge's other end
        partner = best[r_own * n_n + np.where(side == 0, net.edge_v[edge], net.edge_u[edge])]
    s_edge, s_t, s_leg, s_xy = snap
    return OwnerRows(
        n_owners,
        r_own,
        edge,
        side,
        np.repeat(dist, cnt),
        partner,
        site_owner,
        np.where(np.isfinite(s_leg), s_edge, -1),
        np.asarray(s_t, float),
        np.asarray(s_leg, float),  # inf off the network: nothing drawn
        np.where(np.isfinite(site_xy), site_xy, s_xy),
        np.asarray(s_xy, float),
    )


#: A feature's segment: start (relative to the origin), vector, 1 / squared length.
SEGMENT_FIELDS = ("ax", "ay", "dx", "dy", "il2")
_FIELDS = ("cx", "cy", *SEGMENT_FIELDS)


@dataclass(frozen=True)
class Part:
    """Features sorted by owner: owner ``o`` has ``ptr[o]:ptr[o + 1]``; fields as in
    :class:`StreetCells`."""

    ptr: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    ax: np.ndarray
    ay: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    il2: np.ndarray


@dataclass(frozen=True)
class Features:
    """Features of one limit: the street points of whole reached segments (indices into
    :class:`StreetCells`), and the others (segments cut where walks run out, the sites' own
    edges and access legs) appended after them; ``cols`` holds both, by field name."""

    cols: dict[str, np.ndarray]
    main_ptr: np.ndarray  # owner o: main[main_ptr[o]:main_ptr[o + 1]]
    main: np.ndarray
    extra_ptr: np.ndarray  # owner o: cols[...][extra_ptr[o]:extra_ptr[o + 1]]

    @property
    def n_owners(self) -> int:
        return int(self.main_ptr.size - 1)

    def take(self, o: int) -> np.ndarray:
        """Owner ``o``'s features (indices into ``cols``)."""
        q = self.main[self.main_ptr[o] : self.main_ptr[o + 1]]
        return np.concatenate([q, np.arange(self.extra_ptr[o], self.extra_ptr[o + 1])])


def _inv(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    l2 = dx * dx + dy * dy
    return np.divide(1.0, l2, out=np.zeros_like(l2), where=l2 > 1e-12)


def _clipped(net: Network, sc: StreetCells, seg, t_lo, t_hi):
    """Geometry segments ``seg`` cut to metres ``t_lo..t_hi`` of their edge: ax, ay (relative
    to ``sc.origin``), dx, dy."""
    xy = net.geom_xy
    ta, tb = sc.vt[seg], sc.vt[seg + 1]
    span = tb - ta
    ok = span > 0
    fa = np.clip(np.divide(t_lo - ta, span, out=np.zeros_like(span), where=ok), 0.0, 1.0)
    fb = np.clip(np.divide(t_hi - ta, span, out=np.ones_like(span), where=ok), 0.0, 1.0)
    ax, ay = xy[seg, 0] - sc.origin[0], xy[seg, 1] - sc.origin[1]
    dx, dy = xy[seg + 1, 0] - xy[seg, 0], xy[seg + 1, 1] - xy[seg, 1]
    return ax + fa * dx, ay + fa * dy, (fb - fa) * dx, (fb - fa) * dy


def level_features(net: Network, sc: StreetCells, rows: OwnerRows, limit: float) -> Features:
    """Features of every owner at a walk limit of ``limit`` metres."""
    rem = limit - rows.dist
    length = net.length[rows.edge]
    # an edge walked whole from one end needs no row from the other
    partner_whole = limit - rows.partner >= length
    ok = (rem >= 0) & ~(partner_whole & ((rows.side == 1) | (rem < length)))
    e, side, rem, own, length = rows.edge[ok], rows.side[ok], rem[ok], rows.owner[ok], length[ok]
    lo, hi = sc.ptr[e], sc.ptr[e + 1]
    # edges walked in part: whole segments up to the cut, and the segment at the cut, cut
    p = np.flatnonzero(rem < length)
    pe, pside = e[p], side[p]
    cut = np.where(pside == 0, rem[p], length[p] - rem[p])
    cseg, px, py = _segment_at(net, sc, pe, cut)
    u = pside == 0
    ckey = sc.ekey[pe] + cut
    c_lo = np.where(u, sc.seg_ptr[cseg], np.searchsorted(sc.key, ckey, side="left"))
    c_hi = np.where(u, np.searchsorted(sc.key, ckey, side="right"), sc.seg_ptr[cseg + 1])
    hi[p[u]] = sc.seg_ptr[cseg[u]]
    lo[p[~u]] = sc.seg_ptr[cseg[~u] + 1]
    cnt = np.maximum(hi - lo, 0)
    row_ptr = np.searchsorted(own, np.arange(rows.n_owners + 1))
    m_ptr = np.concatenate([[0], np.cumsum(cnt)])[row_ptr]
    t_lo = np.where(u, 0.0, cut)
    t_hi = np.where(u, cut, length[p])
    cuts = (cseg, t_lo, t_hi, c_lo, np.maximum(c_hi - c_lo, 0), px, py, own[p])
    extra = _extra(net, sc, rows, limit, cuts)
    cols = {k: np.concatenate([getattr(sc, k), getattr(extra, k)]) for k in _FIELDS}
    return Features(cols, m_ptr, _ranges(lo, cnt), extra.ptr + sc.cx.size)


def _extra(net: Network, sc: StreetCells, rows: OwnerRows, limit: float, cuts) -> Part:
    """Segments cut where walks run out (at the cut point, and at the segment's street points
    before it), the sites' own edges (walked both ways from the snapped point; each of their
    street points with its segment cut to the walk) and access legs."""
    cseg, t_lo, t_hi, c_lo, c_cnt, px, py, cown = cuts
    s = np.flatnonzero(limit >= rows.own_leg)
    so = s[rows.own_edge[s] >= 0]
    oe = rows.own_edge[so]
    r = limit - rows.own_leg[so]
    ta = np.maximum(rows.own_t[so] - r, 0.0)
    tb = np.minimum(rows.own_t[so] + r, net.length[oe])
    o_lo = np.searchsorted(sc.key, sc.ekey[oe] + ta, side="left")
    o_cnt = np.maximum(np.searchsorted(sc.key, sc.ekey[oe] + tb, side="right") - o_lo, 0)
    oseg, ox, oy = _segment_at(net, sc, np.concatenate([oe, oe]), np.concatenate([ta, tb]))
    q = _ranges(np.concatenate([c_lo, o_lo]), np.concatenate([c_cnt, o_cnt]))
    # one row per feature: (segment, t range) and its cell
    nc, no = cseg.size, so.size
    rep = np.repeat(np.arange(nc + no), np.concatenate([c_cnt, o_cnt]))
    seg = np.concatenate([cseg, oseg, cseg[rep[rep < nc]], sc.seg[q[rep >= nc]]])
    o_site = rows.site_owner[so]
    row_lo = np.concatenate([t_lo, ta])
    row_hi = np.concatenate([t_hi, tb])
    row_own = np.concatenate([cown, o_site])
    ri = np.concatenate([np.arange(nc), nc + np.arange(no), nc + np.arange(no), rep])
    ax, ay, dx, dy = _clipped(net, sc, seg, row_lo[ri], row_hi[ri])
    cell = sc.cell
    fx = np.floor(np.concatenate([px, ox]) / cell).astype(np.int32)
    fy = np.floor(np.concatenate([py, oy]) / cell).astype(np.int32)
    lx, ly, lax, lay, ldx, ldy, lown = _legs(rows, s, sc)
    owner = np.concatenate([row_own[ri], lown])
    order = np.argsort(owner.astype(np.int16 if rows.n_owners < 2**15 else np.int64), kind="stable")
    dx, dy = np.concatenate([dx, ldx])[order], np.concatenate([dy, ldy])[order]
    f4 = np.float32
    return Part(
        np.searchsorted(owner[order], np.arange(rows.n_owners + 1)),
        np.concatenate([fx, sc.cx[q], lx])[order],
        np.concatenate([fy, sc.cy[q], ly])[order],
        np.concatenate([ax, lax])[order].astype(f4),
        np.concatenate([ay, lay])[order].astype(f4),
        dx.astype(f4),
        dy.astype(f4),
        _inv(dx, dy).astype(f4),
    )


def _legs(rows: OwnerRows, s: np.ndarray, sc: StreetCells):
    """Points every half cell along the access legs of sites ``s``, each holding its leg."""
    a, b = rows.leg_a[s], rows.leg_b[s]
    d = b - a
    n = np.ceil(np.hypot(d[:, 0], d[:, 1]) / (0.5 * sc.cell)).astype(np.int64) + 1
    k = np.repeat(np.arange(s.size), n)
    f = (np.arange(k.size) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(np.maximum(n - 1, 1), n)
    ax, ay, dx, dy = a[k, 0], a[k, 1], d[k, 0], d[k, 1]
    cx = np.floor((ax + f * dx) / sc.cell).astype(np.int32)
    cy = np.floor((ay + f * dy) / sc.cell).astype(np.int32)
    return cx, cy, ax - sc.origin[0], ay - sc.origin[1], dx, dy, rows.site_owner[s][k]
