"""Exact reduction of a covering instance before HiGHS (issue 13): empty and dominated
candidates out, demands covered by the same candidates merged. The optimum is unchanged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._solution import _as_csr


@dataclass
class Reduced:
    """A covering instance after exact reduction (see :func:`reduce_covering`).

    ``cand`` are the original indices of the kept candidates; ``a`` is kept candidates x merged
    demand groups; ``w`` the groups' summed weights; ``info`` the counts for the summary.
    """

    cand: np.ndarray
    a: sp.csr_matrix
    w: np.ndarray
    info: dict


def _merge_identical_rows(m: sp.csr_matrix) -> tuple[np.ndarray, int]:
    """Group label of every row of ``m`` (rows with the same non-zero columns share one)."""
    m = m.tocsr()
    m.sort_indices()
    keys: dict[bytes, int] = {}
    label = np.empty(m.shape[0], np.int64)
    ind, ptr = m.indices.astype(np.int64), m.indptr
    for i in range(m.shape[0]):
        label[i] = keys.setdefault(ind[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    return label, len(keys)


def _dominated(a: sp.csr_matrix, masks: list[np.ndarray] | None) -> np.ndarray:
    """Candidates whose cover is a subset of another's (ties: the higher index goes) that is
    eligible wherever they are."""
    size = np.diff(a.indptr)
    ov = (a @ a.T).tocoo()
    r, c = ov.row, ov.col
    dom = (r != c) & (ov.data >= size[r]) & ((size[c] > size[r]) | ((size[c] == size[r]) & (c < r)))
    for m in masks or []:
        m = np.asarray(m, bool)
        dom &= m[c] | ~m[r]
    out = np.zeros(a.shape[0], bool)
    out[r[dom]] = True
    return out


def reduce_covering(
    a: sp.csr_matrix, w: np.ndarray, k: int | None, masks: list[np.ndarray] | None = None
) -> Reduced:
    """Exact reductions of a covering instance (candidates x uncovered demands) before HiGHS.

    1. Candidates that cover nothing are dropped.
    2. *Dominated* candidates are dropped: ``j`` covers a subset of what ``j'`` covers (ties:
       the higher index goes) and ``j'`` is eligible wherever ``j`` is (``masks``). Any
       solution using ``j`` is matched or beaten by one using ``j'``. Skipped when fewer than
       ``k`` candidates would remain.
    3. Demands covered by exactly the same kept candidates are merged (weights add): they are
       covered together or not at all.

    The optimum (covered weight, or the fewest sites for set covering) is unchanged.
    """
    a = _as_csr(a)
    n_c, n_d = a.shape
    keep = np.diff(a.indptr) > 0
    if k is not None and keep.sum() < k:
        keep = np.ones(n_c, bool)
    n_empty = int(n_c - keep.sum())
    dominated = _dominated(a, masks)
    n_dom = 0
    if k is None or (keep & ~dominated).sum() >= k:
        n_dom = int((keep & dominated).sum())
        keep &= ~dominated
    cand = np.flatnonzero(keep)
    sub = a[cand]
    label, n_groups = _merge_identical_rows(sub.T.tocsr())
    wg = np.bincount(label, weights=w, minlength=n_groups)
    first = np.unique(label, return_index=True)[1]
    ag = sub[:, first]
    info = {
        "candidates": int(n_c),
        "candidates_kept": int(cand.size),
        "candidates_empty": n_empty,
        "candidates_dominated": n_dom,
        "demands": int(n_d),
        "demand_groups": int(n_groups),
    }
    return Reduced(cand, ag.tocsr(), wg, info)
