"""What a plan achieves against the county's targets: the marginal-gain curve (covered
population against the number of new sites) and a kind's count target (e.g. at least ten
integrated sites per county)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..coverage import CoverageResult
from . import _core


def marginal_gain_curve(
    a, w, covered, k_max: int, *, exact: bool = True, time_limit: float = 20.0
) -> pd.DataFrame:
    """Covered population against the number of new sites, 0..k_max (exact MCLP per k when
    ``exact``, else the nested greedy sequence)."""
    w = np.asarray(w, float)
    total = float(w.sum())
    base = float(w[np.asarray(covered, bool)].sum())
    rows = [{"new_sites": 0, "covered_population": base, "method": "existing"}]
    k_max = min(k_max, a.shape[0])
    if exact:
        for k in range(1, k_max + 1):
            sol = _core.mclp(a, w, k, covered, time_limit=time_limit)
            rows.append(
                {
                    "new_sites": k,
                    "covered_population": sol.objective,
                    "method": f"{sol.method}:{sol.status}",
                }
            )
    else:
        g = _core.greedy_mclp(a, w, k_max, covered)
        cum = base + np.cumsum(g.gains)
        rows += [
            {"new_sites": i + 1, "covered_population": float(c), "method": "greedy"}
            for i, c in enumerate(cum)
        ]
    df = pd.DataFrame(rows)
    df["covered_share"] = df["covered_population"] / total if total else 0.0
    df["added_population"] = df["covered_population"].diff().fillna(0.0)
    return df[["new_sites", "covered_population", "covered_share", "added_population", "method"]]


def count_target(
    res: CoverageResult, target: tuple[str, int], n_coverage: int, existing: int | None = None
) -> dict:
    """How many new sites a kind's count target needs, and how many beyond coverage's.

    ``existing`` overrides the count of that kind among ``res.sites`` (an audit counts only the
    sites inside the county, while ``res.sites`` also holds neighbours within walking reach).
    """
    kind, n = target
    if existing is not None:
        have = int(existing)
    else:
        have = int((res.sites["kind"].astype(str) == kind).sum()) if "kind" in res.sites else 0
    short = max(0, n - have)
    return {
        "kind": kind,
        "target": n,
        "existing": have,
        "shortfall": short,
        "sites_for_coverage": n_coverage,
        "sites_for_count_only": max(0, short - n_coverage),
        "total_new_sites": max(short, n_coverage),
        "note": f"the {n_coverage} coverage sites can be built as {kind}; "
        f"{max(0, short - n_coverage)} more are needed for the count alone",
    }
