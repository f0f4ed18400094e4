"""The 1-median (p-median with p = 1, e.g. where a county's first cultural palace should go),
solved exactly without a mixed-integer program and without a dense distance matrix.

With one new site the p-median has no interaction between choices: candidate ``j`` costs
``f(j) = sum_i w_i min(e_i, d(j, i))`` (``e_i`` = walk to the nearest existing site), so the
answer is the candidate with the smallest weighted column sum. :func:`one_median` computes those
sums **exactly**, in blocks of candidate searches (memory: one block of node distances), and
skips candidates that cannot win: every candidate gets a lower bound from straight-line
distances and from *landmarks* (``|d(L, i) - d(L, j)| <= d(i, j)`` for a few peripheral
nodes ``L``), candidates are searched in order of their bound, and the search stops as soon as
the next bound reaches the best exact sum found. Ties go to the lowest candidate index, so the
answer never depends on timing or machine load.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .._errors import SolverError
from ..coverage.core import Snap, augment_graph, endpoint_costs, same_edge_pairs
from ..network import Network
from ._solution import _lowest_tied

logger = logging.getLogger(__name__)

#: Straight-line bounds are scaled by this (UTM scale factor and rounding keep a true walk at
#: least 99% of the projected straight line between the snapped points plus both legs).
_EUCLID_SLACK = 0.99
#: Node distances held at once while searching (float64 values): about 40 MB.
_BLOCK_VALUES = 5_000_000
_LANDMARKS = 8
_REL_TIE = 1e-9
_INFEASIBLE = "p-median infeasible: some demand reaches no candidate and has no existing site"


def _point_component(net: Network, snap: Snap) -> np.ndarray:
    lab = net.component_labels
    out = np.full(len(snap), -1, np.int64)
    on = snap.edge >= 0
    out[on] = lab[net.edge_u[snap.edge[on]]]
    return out


def _landmarks(net: Network, n: int = _LANDMARKS) -> np.ndarray:
    """Peripheral nodes of the largest piece, one per compass direction."""
    lab = net.component_labels
    main = np.flatnonzero(lab == 0)
    x, y = np.asarray(net.lon)[main], np.asarray(net.lat)[main]
    x = (x - x.mean()) * np.cos(np.radians(y.mean()))
    y = y - y.mean()
    angles = np.arange(n) * (2 * np.pi / n)
    picks = [main[int(np.argmax(np.cos(a) * x + np.sin(a) * y))] for a in angles]
    return np.unique(np.asarray(picks, np.int64))


def _point_dist(dnode: np.ndarray, snap_u, snap_v, cu, cv) -> np.ndarray:
    """Distances (rows: sources) from node distances to points on edges."""
    return np.minimum(dnode[:, snap_u] + cu, dnode[:, snap_v] + cv)


@dataclass
class _Instance:
    """A 1-median instance in arrays: who takes part, the feasible candidates, and the
    on-network communities' edge ends."""

    w: np.ndarray  # community weights
    e: np.ndarray  # walk (m) to the nearest existing site, inf where none
    use: np.ndarray  # communities that take part
    off: np.ndarray  # communities without a usable snap
    ion: np.ndarray  # on-network communities that take part
    cc: np.ndarray  # each candidate's connected piece (-1: off the network)
    pc: np.ndarray  # each community's connected piece
    feasible: np.ndarray  # candidates sharing a piece with every community that must be served

    @property
    def base_off(self) -> float:
        """Weighted walk of the off-network communities that keep their existing site."""
        fixed = np.where(np.isfinite(self.e), self.e, 0.0)
        return float((self.w * fixed)[self.use & self.off].sum())


def _instance(net: Network, cand: Snap, comm: Snap, w, existing, off_network) -> _Instance:
    """Who takes part (as in the MILP: a community reached by an existing site or by some
    candidate), and which candidates are feasible (they share a connected piece with every
    community that has no existing site)."""
    w = np.asarray(w, float)
    e = np.full(len(comm), np.inf) if existing is None else np.asarray(existing, float)
    off = comm.edge < 0
    if off_network is not None:
        off = off | np.asarray(off_network, bool)
    cc = _point_component(net, cand)
    pc = _point_component(net, comm)
    cand_pieces = np.unique(cc[cand.edge >= 0])
    use = np.isfinite(w) & (np.isfinite(e) | (~off & np.isin(pc, cand_pieces)))
    must_pieces = np.unique(pc[use & ~np.isfinite(e)])
    if must_pieces.size > 1:
        feasible = np.zeros(len(cand), bool)
    elif must_pieces.size == 1:
        feasible = (cc == must_pieces[0]) & (cand.edge >= 0)
    else:
        feasible = cand.edge >= 0
    if not feasible.any():
        raise SolverError(_INFEASIBLE)
    ion = np.flatnonzero(use & ~off)
    return _Instance(w, e, use, off, ion, cc, pc, feasible)


def _lower_bounds(net: Network, cand: Snap, comm: Snap, inst: _Instance) -> tuple:
    """Each feasible candidate's lower bound on its objective: per community the larger of the
    straight-line bound (snapped points plus both legs) and the landmark bound, capped by the
    existing site's walk. Returns ``(feasible indices, bounds, landmarks used)``.

    The pairs are bounded in float32 (half the memory traffic of float64); every pair's bound
    is then lowered by :func:`_f32_slack` metres, more than float32 rounding can add, so each
    stays at or below its float64 value and no candidate that could win is skipped.
    """
    fidx = np.flatnonzero(inst.feasible)
    ion = inst.ion
    lm = _landmarks(net)
    dl = dijkstra(net.csr, directed=True, indices=lm)
    dl_c = _point_dist(dl, *endpoint_costs(net, cand.take(fidx)))  # (L, feasible candidates)
    dl_p = _point_dist(dl, *endpoint_costs(net, comm.take(ion)))  # (L, on-network communities)
    x0 = float(np.mean(cand.x[fidx])) if fidx.size else 0.0  # centred: float32 keeps cm
    y0 = float(np.mean(cand.y[fidx])) if fidx.size else 0.0
    cx, cy = cand.x[fidx] - x0, cand.y[fidx] - y0
    px, py = comm.x[ion] - x0, comm.y[ion] - y0
    slack = _f32_slack(dl_c, dl_p, cx, cy, px, py, cand.leg[fidx], comm.leg[ion])
    f32 = np.float32
    c32 = np.where(np.isfinite(dl_c), dl_c, np.nan).astype(f32)  # nan: no landmark bound
    p32 = np.where(np.isfinite(dl_p), dl_p, np.nan).astype(f32)
    cx, cy, cleg = cx.astype(f32), cy.astype(f32), cand.leg[fidx].astype(f32)
    px, py, pleg = px.astype(f32), py.astype(f32), comm.leg[ion].astype(f32)
    wn, en, piece = inst.w[ion], inst.e[ion], inst.pc[ion]
    one_piece = ion.size == 0 or bool(
        (piece == piece[0]).all() and (inst.cc[fidx] == piece[0]).all()
    )
    lb = np.empty(fidx.size)
    rows = max(1, _BLOCK_VALUES // max(1, ion.size))
    for s in range(0, fidx.size, rows):
        sl = slice(s, min(s + rows, fidx.size))
        b = np.hypot(cx[sl, None] - px[None, :], cy[sl, None] - py[None, :])
        b *= f32(_EUCLID_SLACK)
        b += cleg[sl, None]
        b += pleg[None, :]
        for k in range(lm.size):  # fmax skips nan: a landmark in another piece bounds nothing
            np.fmax(b, np.abs(c32[k, sl, None] - p32[k, None, :]), out=b)
        b -= f32(slack)
        cost = np.minimum(en[None, :], b)  # float64 from here
        if not one_piece:  # no walk between pieces: only the existing site serves
            cost = np.where(piece[None, :] != inst.cc[fidx[sl], None], en[None, :], cost)
        lb[sl] = cost @ wn
    return fidx, lb + inst.base_off, int(lm.size)


def _f32_slack(*arrays: np.ndarray) -> float:
    """Metres that cover float32 rounding in the pair bounds: 16 float32 steps at the largest
    magnitude involved (e.g. 12.5 cm for walks up to 100 km)."""
    big = max((float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in arrays), default=0.0)
    return float(16 * np.spacing(np.float32(2 * big + 1.0)))


class _Searcher:
    """Exact objectives of candidates, a block of searches at a time."""

    def __init__(self, net: Network, cand: Snap, comm: Snap, inst: _Instance) -> None:
        self.net, self.cand, self.inst = net, cand, inst
        self.ends = endpoint_costs(net, comm.take(inst.ion))
        self.same = same_edge_pairs(net, comm.take(inst.ion), cand)
        self.rowmap = np.full(len(cand), -1, np.int64)
        en = inst.e[inst.ion]
        # when every community has an existing site, no walk beyond the farthest of those
        # walks can count (min(e, d) = e there), so each search may stop at that distance
        self.limit = float(en.max()) if en.size and np.isfinite(en).all() else np.inf

    def objectives(self, js: np.ndarray) -> np.ndarray:
        """``sum_i w_i min(e_i, d(j, i))`` for candidates ``js`` (``inf``: a community that
        must be served is out of reach)."""
        net, inst = self.net, self.inst
        n = net.n_nodes
        aug = augment_graph(net.csr, *endpoint_costs(net, self.cand.take(js)))
        idx = np.arange(n, n + js.size)
        d = dijkstra(aug, directed=True, indices=idx, limit=self.limit)[:, :n]
        dp = _point_dist(d, *self.ends)  # (block, on-network communities)
        ip_all, js_all, dd_all = self.same
        self.rowmap[js] = np.arange(js.size)
        hit = self.rowmap[js_all] >= 0
        if hit.any():
            np.minimum.at(dp, (self.rowmap[js_all[hit]], ip_all[hit]), dd_all[hit])
        self.rowmap[js] = -1
        wn, en = inst.w[inst.ion], inst.e[inst.ion]
        val = np.minimum(en[None, :], dp)
        bad = (~np.isfinite(val)) & (wn[None, :] > 0) & ~np.isfinite(en)[None, :]
        part = np.where(np.isfinite(val), wn[None, :] * val, 0.0)
        # correctly rounded sums: a candidate's objective does not depend on its search block
        f = np.fromiter((math.fsum(r) for r in part), float, js.size) + inst.base_off
        f[bad.any(axis=1)] = np.inf
        return f


def _search(searcher: _Searcher, order: np.ndarray, lb_sorted: np.ndarray, n_c: int, n: int):
    """Exact sums in order of the bounds, until the next bound cannot beat (or tie) the best.
    Returns the objective of every candidate (``nan``: skipped) and how many were searched."""
    objective = np.full(n_c, np.nan)
    block = max(1, min(64, _BLOCK_VALUES // max(n, 1)))
    best, pos = np.inf, 0
    while pos < order.size:
        thr = best * (1 + _REL_TIE) + 1e-9
        if lb_sorted[pos] > thr:
            break  # no remaining candidate can beat (or tie) the best
        end = min(pos + (block if np.isfinite(best) else 1), order.size)  # first: 1 search
        end = pos + max(1, int(np.searchsorted(lb_sorted[pos:end], thr, side="right")))
        js = order[pos:end]
        f = searcher.objectives(js)
        objective[js] = f
        best = min(best, float(f.min()))
        pos = end
    return objective, pos


def one_median(
    net: Network,
    cand: Snap,
    comm: Snap,
    w: np.ndarray,
    existing: np.ndarray | None = None,
    *,
    off_network: np.ndarray | None = None,
) -> tuple[int, np.ndarray, dict]:
    """Exact 1-median on the network: the candidate minimising ``sum_i w_i min(e_i, d_ij)``.

    Parameters
    ----------
    net
        The walking network.
    cand, comm
        Snapped candidates and communities (points on edges).
    w
        Community weights (population), non-negative.
    existing
        Each community's walk (m) to its nearest existing site, ``inf`` where none.
    off_network
        Communities with no usable snap (left out, as in the p-median's distance matrix).

    Returns
    -------
    (best, objective, info)
        The chosen candidate index; the exact objective (weight x metres) of every searched
        candidate (``nan`` for those skipped by their bound, ``inf`` for those that leave a
        community with no site in reach); and ``{"searched", "skipped", "seconds"}``.

    Raises
    ------
    SolverError
        When no candidate reaches every community that has no existing site (the same case
        the p-median MILP reports as infeasible).
    """
    t0 = time.perf_counter()
    inst = _instance(net, cand, comm, w, existing, off_network)
    fidx, lb, n_landmarks = _lower_bounds(net, cand, comm, inst)
    order = fidx[np.lexsort((fidx, lb))]
    searcher = _Searcher(net, cand, comm, inst)
    objective, searched = _search(searcher, order, np.sort(lb), len(cand), net.n_nodes)
    objective[~inst.feasible] = np.inf
    if not np.isfinite(np.nan_to_num(objective, nan=np.inf)).any():
        raise SolverError(_INFEASIBLE)
    best_j = _lowest_tied(np.where(np.isnan(objective), np.inf, objective))
    info = {
        "searched": int(searched),
        "skipped": int(len(cand) - searched),
        "landmarks": n_landmarks,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    logger.info(
        "1-median: %d of %d candidates searched (%d skipped by their bound) in %.3f s",
        searched, len(cand), len(cand) - searched, info["seconds"],
    )  # fmt: skip
    return best_j, objective, info
