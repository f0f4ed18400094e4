"""What a solver returns (:class:`Solution`) and the small helpers every model shares: the
coverage matrix as 0/1 CSR, a candidate's row, ranking chosen sites by what each adds, and a
tie rule that never depends on timing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class Solution:
    """Chosen candidates and how they were found.

    Attributes
    ----------
    selected
        Candidate indices, ranked: rank 1 adds the most on top of the existing sites, rank 2
        the most on top of those, and so on.
    gains
        What each ranked candidate adds (population newly covered, or weighted distance saved).
    objective
        Covered weight (MCLP, LSCP with a target), site count (LSCP) or total weighted cost
        (p-median), including what the existing sites already achieve.
    status
        ``optimal``, ``time_limit`` (best found, see ``gap``), ``heuristic``, ``infeasible``.
    gap
        Relative optimality gap (0 when proven optimal; from HiGHS or the greedy bound).
    bound
        Best bound on the objective.
    method
        ``milp``, ``exact`` (1-median by column sums) or ``greedy``.
    info
        Solver facts for the summary: the instance reduction before HiGHS, searches made.
    """

    selected: np.ndarray
    gains: np.ndarray
    objective: float
    status: str
    gap: float
    bound: float
    method: str
    solve_seconds: float
    messages: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @classmethod
    def nothing(cls, t0: float, objective: float = 0.0, *messages: str) -> Solution:
        """No new site needed (or possible): proven optimal at ``objective``."""
        return cls.optimal(np.zeros(0, np.int64), np.zeros(0), objective, t0, list(messages))

    @classmethod
    def optimal(
        cls,
        order: np.ndarray,
        gains: np.ndarray,
        value: float,
        t0: float,
        messages: list[str] | None = None,
        info: dict | None = None,
    ) -> Solution:
        """A proven optimum of the mixed-integer program at ``value`` (gap 0)."""
        return cls(
            order, gains, value, "optimal", 0.0, value, "milp", time.perf_counter() - t0,
            list(messages or []), dict(info or {}),
        )  # fmt: skip


def _as_csr(a) -> sp.csr_matrix:
    m = sp.csr_matrix(a, dtype=float)
    m.data[:] = 1.0
    m.eliminate_zeros()
    return m


def _row(a: sp.csr_matrix, j) -> np.ndarray:
    """Demands candidate ``j`` covers (CSR row indices without scipy's slicing overhead)."""
    return a.indices[a.indptr[j] : a.indptr[j + 1]]


def _rank_by_gain(a: sp.csr_matrix, w: np.ndarray, covered: np.ndarray, chosen: np.ndarray):
    """Order chosen candidates greedily by what each adds; return (order, gains)."""
    cov = covered.copy()
    left = list(chosen)
    order, gains = [], []
    while left:
        g = [float(w[_row(a, j)][~cov[_row(a, j)]].sum()) for j in left]
        b = int(np.argmax(g))
        j = left.pop(b)
        order.append(j)
        gains.append(g[b])
        cov[_row(a, j)] = True
    return np.array(order, np.int64), np.array(gains)


def _lowest_tied(f: np.ndarray, rel: float = 1e-9) -> int:
    """Index of the minimum, the lowest index among values tied within ``rel``."""
    m = float(np.min(f))
    return int(np.flatnonzero(f <= m + rel * abs(m) + 1e-9)[0])


def single_site_solution(
    best: int, objective: float, w, e, ok, t0: float, messages: list[str] | None = None
) -> Solution:
    """The :class:`Solution` of a 1-median whose candidate ``best`` costs ``objective``."""
    fin = ok & np.isfinite(e)
    before = float((w[fin] * e[fin]).sum())
    return Solution(
        np.array([best], np.int64),
        np.array([before - objective]),
        float(objective),
        "optimal",
        0.0,
        float(objective),
        "exact",
        time.perf_counter() - t0,
        list(messages or []),
    )
