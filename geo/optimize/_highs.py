"""Running HiGHS (``scipy.optimize.milp`` / ``linprog``) the same way for every model: a
deterministic node limit with the wall-clock limit as a safety net only, the LP relaxation
first (an integral LP optimum needs no branching), and messages that say which limit stopped
the solver."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import milp

_STATUS = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}

#: Branch-and-bound nodes HiGHS may explore: a deterministic work limit (the same answer on
#: any machine, under any load), unlike the wall-clock ``time_limit`` kept as a safety net.
NODE_LIMIT = 20_000


def _milp(c, integrality, bounds, constraints, time_limit, gap, node_limit=NODE_LIMIT):
    """Solve with HiGHS; return ``(result, status, gap, dual bound)``.

    ``status`` tells the deterministic ``node_limit`` apart from the ``time_limit``.
    """
    t0 = time.perf_counter()
    res = milp(
        c,
        integrality=integrality,
        bounds=bounds,
        constraints=constraints,
        options={
            "time_limit": float(time_limit),
            "mip_rel_gap": float(gap),
            "node_limit": int(node_limit),
            "disp": False,
        },
    )
    status = _STATUS.get(res.status, "error")
    msg = str(getattr(res, "message", "")).lower()
    if res.status in (1, 4) and "limit" in msg:
        # scipy reports HiGHS's node limit as "solution limit" (status 4) or an iteration
        # limit: tell it apart from the time limit (the node limit is deterministic)
        hit_time = "time" in msg or time.perf_counter() - t0 >= 0.98 * float(time_limit)
        status = "time_limit" if hit_time else "node_limit"
    mip_gap = getattr(res, "mip_gap", None)
    dual = getattr(res, "mip_dual_bound", None)
    return res, status, (0.0 if status == "optimal" else mip_gap), dual


def _linprog_rows(cons) -> tuple[list, list, list, list]:
    """``LinearConstraint``s as ``linprog``'s ``A_ub x <= b_ub`` and ``A_eq x = b_eq`` rows."""
    rows_ub, b_ub, rows_eq, b_eq = [], [], [], []
    for con in cons:
        A = sp.csr_matrix(con.A)
        lo = np.broadcast_to(np.asarray(con.lb, float), (A.shape[0],))
        hi = np.broadcast_to(np.asarray(con.ub, float), (A.shape[0],))
        eq = lo == hi
        if eq.any():
            rows_eq.append(A[np.flatnonzero(eq)])
            b_eq.append(hi[eq])
        up = ~eq & np.isfinite(hi)
        if up.any():
            rows_ub.append(A[np.flatnonzero(up)])
            b_ub.append(hi[up])
        down = ~eq & np.isfinite(lo)
        if down.any():
            rows_ub.append(-A[np.flatnonzero(down)])
            b_ub.append(-lo[down])
    return rows_ub, b_ub, rows_eq, b_eq


def _integral_lp(c, cons, n_x: int, time_limit: float) -> np.ndarray | None:
    """Solve the LP relaxation (HiGHS interior point + crossover, deterministic); return the
    chosen candidates when its optimal vertex is integral in ``x`` (then it is optimal for the
    integer program too), else None."""
    from scipy.optimize import linprog

    rows_ub, b_ub, rows_eq, b_eq = _linprog_rows(cons)
    try:
        r = linprog(
            c,
            A_ub=sp.vstack(rows_ub, format="csr") if rows_ub else None,
            b_ub=np.concatenate(b_ub) if b_ub else None,
            A_eq=sp.vstack(rows_eq, format="csr") if rows_eq else None,
            b_eq=np.concatenate(b_eq) if b_eq else None,
            bounds=(0, 1),
            method="highs-ipm",
            options={"time_limit": float(time_limit)},
        )
    except ValueError:
        return None
    if r.status != 0 or r.x is None:
        return None
    x = r.x[:n_x]
    if np.any((x > 1e-7) & (x < 1 - 1e-7)):
        return None
    return np.flatnonzero(x > 0.5)


def _stopped_message(status: str, node_limit: int, time_limit: float, gap) -> str:
    g = f"{float(gap):.2%}" if gap is not None and np.isfinite(gap) else "unknown"
    if status == "node_limit":
        return (
            f"HiGHS stopped at its deterministic work limit ({node_limit:,} nodes) with a gap of "
            f"{g}: the best plan found is returned (the same on any machine)"
        )
    return (
        f"HiGHS stopped at the {time_limit:g} s time limit with a gap of {g}: this result may "
        "differ on a faster or less loaded machine; raise the time limit (--time-limit)"
    )
