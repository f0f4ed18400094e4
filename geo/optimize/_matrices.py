"""What the models read from the network: the candidates x communities coverage matrix, the
walk-distance matrix for the p-median, each community's walk to its nearest existing site,
and two facts of the coverage matrix found with one search each (which candidates reach an
uncovered community, which communities some candidate reaches), so that a 1-median needs no
per-candidate searches for its summary."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ..coverage import CoverageResult
from ..coverage.core import (
    EPS_M,
    Snap,
    augment_graph,
    endpoint_costs,
    nearest_sites,
    point_distances,
    reach_pairs,
    same_edge_pairs,
    site_reach,
)

#: Candidates searched together by :func:`distance_matrix` (one block of node distances).
_DISTANCE_BLOCK = 64


def coverage_matrix(
    res: CoverageResult, cand_snap: Snap, limit_m: float | None = None
) -> sp.csr_matrix:
    """Candidates x communities 0/1 sparse matrix: 1 where the walk is within ``limit_m``.

    Parameters
    ----------
    res
        Coverage of the existing sites (its network, communities and walk limit).
    cand_snap
        Snapped candidates.
    limit_m
        Walk limit in metres (default the coverage's main level).
    """
    limit = res.config.limit_m if limit_m is None else limit_m
    reach = site_reach(res.network, cand_snap, limit)
    s, p, _ = reach_pairs(res.network, reach, cand_snap, res.community_snap)
    off = res.communities["off_network"].to_numpy()
    keep = ~off[p]
    return sp.csr_matrix(
        (np.ones(int(keep.sum())), (s[keep], p[keep])), shape=(len(cand_snap), len(res.communities))
    )


def reaches_any(res: CoverageResult, cand_snap: Snap, targets: np.ndarray) -> np.ndarray:
    """Which candidates reach at least one ``targets`` community within the walk limit.

    The same as ``coverage_matrix(res, cand_snap)[:, targets].sum(axis=1) > 0``, from one
    multi-source search out of the target communities (walks are symmetric) instead of one
    search per candidate. Distances are compared with the same tolerance (``EPS_M``); the
    search joins points to their edge with arcs of at least ``ZERO_LENGTH_M`` (1e-6 m) on the
    other side, so the two agree except for a walk within 1e-6 m of the limit.
    """
    limit = res.config.limit_m
    cs = res.community_snap
    off = res.communities["off_network"].to_numpy(bool)
    src = np.flatnonzero(np.asarray(targets, bool) & ~off & (cs.edge >= 0))
    if src.size == 0:
        return np.zeros(len(cand_snap), bool)
    sources = cs.take(src)
    field = nearest_sites(res.network, sources, limit=limit + EPS_M)
    dist, _ = point_distances(res.network, field, cand_snap, sources)
    return dist <= limit + EPS_M


def reached(res: CoverageResult, cand_snap: Snap) -> np.ndarray:
    """Which communities some candidate reaches within the walk limit.

    The same as ``coverage_matrix(res, cand_snap).sum(axis=0) > 0`` (up to 1e-6 m at the
    limit, see :func:`reaches_any`), from one multi-source search out of every candidate.
    """
    limit = res.config.limit_m
    on = np.flatnonzero(cand_snap.edge >= 0)
    if on.size == 0:
        return np.zeros(len(res.communities), bool)
    sources = cand_snap.take(on)
    field = nearest_sites(res.network, sources, limit=limit + EPS_M)
    dist, _ = point_distances(res.network, field, res.community_snap, sources)
    return (dist <= limit + EPS_M) & ~res.communities["off_network"].to_numpy(bool)


def distance_matrix(res: CoverageResult, cand_snap: Snap, max_m: float = np.inf) -> np.ndarray:
    """Candidates x communities walk distances, for the p-median.

    Parameters
    ----------
    res
        Coverage of the existing sites (its network and communities).
    cand_snap
        Snapped candidates.
    max_m
        Searches stop at this many metres.

    Returns
    -------
    numpy.ndarray
        float64 (candidates, communities) metres of walk, access legs included; ``inf``
        beyond ``max_m``, across network pieces and for off-network communities. Dense: one
        block of node distances (64 candidates) is held while searching.
    """
    net = res.network
    cs = res.community_snap
    on = cs.edge >= 0
    out = np.full((len(cand_snap), len(cs)), np.inf)
    u, v, cu, cv = endpoint_costs(net, cand_snap)
    pu, pv, pcu, pcv = endpoint_costs(net, cs.take(np.flatnonzero(on)))
    n = net.n_nodes
    for start in range(0, len(cand_snap), _DISTANCE_BLOCK):
        sl = slice(start, min(start + _DISTANCE_BLOCK, len(cand_snap)))
        k = sl.stop - sl.start
        aug = augment_graph(net.csr, u[sl], v[sl], cu[sl], cv[sl])
        d = dijkstra(aug, directed=True, indices=np.arange(n, n + k), limit=max_m)[:, :n]
        block = np.full((k, len(cs)), np.inf)
        block[:, on] = np.minimum(d[:, pu] + pcu, d[:, pv] + pcv)
        out[sl] = block
    # candidates and communities on the same edge walk straight along it
    ip, js, dd = same_edge_pairs(net, cs, cand_snap)
    near = dd <= max_m
    np.minimum.at(out, (js[near], ip[near]), dd[near])
    out[:, res.communities["off_network"].to_numpy()] = np.inf
    return out


def existing_cost(res: CoverageResult, kinds: list[str] | None) -> np.ndarray:
    """Each community's walk to its nearest existing site of some kinds (the p-median's
    ``existing_cost``: a new site only counts where it is closer).

    Parameters
    ----------
    res
        Coverage of the existing sites.
    kinds
        Site kinds that already serve, e.g. ``["cultural_palace"]``; None: every kind (then
        the coverage's own ``walk_distance_m``).

    Returns
    -------
    numpy.ndarray
        float64 (communities,) metres; ``inf`` where no such site is reachable.
    """
    if kinds is None:
        d = res.communities["walk_distance_m"].to_numpy(float)
        return np.where(np.isnan(d), np.inf, d)
    sk = res.sites["kind"].astype(str).to_numpy()[res.usable_sites]
    idx = np.flatnonzero(np.isin(sk, kinds))
    s = res.site_snap.take(res.usable_sites[idx])
    dist, _ = point_distances(res.network, nearest_sites(res.network, s), res.community_snap, s)
    return dist
