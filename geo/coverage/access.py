"""Capacity-aware accessibility: the enhanced two-step floating catchment area (E2SFCA).

A station with 4 seats does not serve 20,000 people the way a palace does. When sites carry a
``capacity`` (seats, m², staff: any one unit, the same for all sites), E2SFCA (Luo & Qi 2009)
weighs each site's capacity against the demand in its walking catchment:

* step 1, per site ``j``: ``R_j = S_j / Σ_k P_k W(d_kj)`` over the communities ``k`` within
  the walk limit — the site's capacity per (distance-weighted) person in reach;
* step 2, per community ``i``: ``A_i = Σ_j R_j W(d_ij)`` over the sites within the limit —
  the capacity available to each of its residents.

``d`` is the walk distance along the network (access legs included), exactly the engine's
coverage distance, and nothing beyond the main walk limit counts. The decay ``W``:

* ``"gaussian"`` (the default): ``W(d) = exp(-d² / (2σ²))`` with ``σ = limit / 2``, so a site
  at the door counts fully, one at the limit counts ``exp(-2) ≈ 0.135``, and none beyond.
  This is pysal ``access``'s ``weights.gaussian(σ)`` cut at the limit.
* ``"step"``: Luo & Qi's weights 1, 0.68 and 0.22 on the three walk levels (within 5, 10 and
  15 min by default), as pysal ``access``'s ``weights.step_fn``.

Because ``Σ_i P_i A_i = Σ_j S_j`` (every site's capacity is shared out among the people in
reach), the reference value is the area's capacity per resident ``R̄ = Σ S / Σ P``. A site is
**overloaded** when its ``R_j`` is below :data:`OVERLOAD_FACTOR` × ``R̄`` (more than twice the
average demand per unit of capacity), and a community **underserved** when its ``A_i`` is
below :data:`UNDERSERVED_FACTOR` × ``R̄`` (zero when no site with capacity is in reach).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._errors import InputError
from ..io import norm_header
from .core import EPS_M, reach_pairs

if TYPE_CHECKING:
    from . import CoverageResult

__all__ = [
    "CAPACITY_HEADERS",
    "OVERLOAD_FACTOR",
    "STEP_WEIGHTS",
    "UNDERSERVED_FACTOR",
    "AccessResult",
    "decay_function",
    "e2sfca",
    "e2sfca_scores",
    "site_capacity",
]

Decay = Literal["gaussian", "step"]

#: Luo & Qi's (2009) E2SFCA step weights for the first, second and third travel-time zone.
STEP_WEIGHTS: tuple[float, ...] = (1.0, 0.68, 0.22)
#: A site is overloaded when its capacity per weighted person in reach is below this share of
#: the area's capacity per resident.
OVERLOAD_FACTOR = 0.5
#: A community is underserved when its E2SFCA score is below this share of the area's
#: capacity per resident.
UNDERSERVED_FACTOR = 0.5
#: Headers recognised as a site's capacity (when the loader has not named it ``capacity``).
CAPACITY_HEADERS = ("capacity", "容量", "服务容量", "接待能力", "座位数", "座位", "床位数",
                    "面积", "建筑面积", "服务面积", "工作人员", "人员数", "seats")  # fmt: skip


def decay_function(
    decay: Decay, limit_m: float, levels_m: list[float] | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """The distance-decay weight ``W(d)`` for walk distances ``d`` in metres (0 beyond the limit).

    Parameters
    ----------
    decay
        ``"gaussian"`` (σ = limit / 2) or ``"step"`` (:data:`STEP_WEIGHTS` on ``levels_m``).
    limit_m
        The walk limit in metres.
    levels_m
        Step thresholds in metres, ascending (default: the limit split in three).
    """
    lim = float(limit_m) + EPS_M
    if decay == "gaussian":
        sigma = float(limit_m) / 2.0

        def gauss(d: np.ndarray) -> np.ndarray:
            d = np.asarray(d, float)
            return np.where(d <= lim, np.exp(-d * d / (2.0 * sigma**2)), 0.0)

        return gauss
    if decay == "step":
        th = sorted(levels_m) if levels_m else [limit_m / 3, 2 * limit_m / 3, limit_m]
        th = [t for t in th if t <= limit_m + EPS_M][-len(STEP_WEIGHTS) :]
        ws = STEP_WEIGHTS[: len(th)]

        def step(d: np.ndarray) -> np.ndarray:
            d = np.asarray(d, float)
            out = np.zeros(d.shape)
            for t, w in zip(reversed(th), reversed(ws), strict=True):
                out = np.where(d <= t + EPS_M, w, out)
            return out

        return step
    raise InputError(
        "unknown distance decay",
        column="decay",
        value=decay,
        fix="use 'gaussian' (the default) or 'step'",
    )


def e2sfca_scores(
    site: np.ndarray,
    point: np.ndarray,
    dist: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    weight: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E2SFCA on a sparse cost list.

    Parameters
    ----------
    site, point, dist
        One entry per (site, demand point) pair within the limit, distance in metres.
    capacity
        Supply per site (any unit), shape (S,).
    demand
        Demand per point (people), shape (P,).
    weight
        Decay ``W(d)``.

    Returns
    -------
    score, ratio, weighted_demand
        ``A_i`` per point (capacity per person), ``R_j`` per site (NaN where no demand is in
        reach), and ``Σ_k P_k W(d_kj)`` per site.
    """
    w = weight(dist)
    wd = np.bincount(site, weights=demand[point] * w, minlength=capacity.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(wd > 0, capacity / np.where(wd > 0, wd, 1.0), np.nan)
    r = np.nan_to_num(ratio, nan=0.0)
    score = np.bincount(point, weights=r[site] * w, minlength=demand.size)
    return score, ratio, wd


def site_capacity(sites: pd.DataFrame, column: str | None = None) -> np.ndarray | None:
    """Each site's capacity as floats, or None when the sites carry no capacity column.

    Raises :class:`InputError` naming the rows whose capacity is missing or not a number of
    zero or more: a partial capacity column would give wrong scores.
    """
    col = column
    if col is None:
        by_norm = {norm_header(c): c for c in sites.columns if c != "geometry"}
        col = next(
            (by_norm[norm_header(h)] for h in CAPACITY_HEADERS if norm_header(h) in by_norm), None
        )
    if col is None:
        return None
    raw = sites[col]
    val = pd.to_numeric(raw.astype(str).str.replace(",", "").str.strip(), errors="coerce")
    bad = ~np.isfinite(val.to_numpy(float)) | (val.to_numpy(float) < 0)
    if bad.any():
        i = np.flatnonzero(bad)
        ids = sites["site_id"].astype(str).to_numpy() if "site_id" in sites else sites.index
        rows = sites["row"].to_numpy() if "row" in sites else i + 2
        raise InputError(
            f"{bad.sum()} site(s) have no usable capacity (first: site {ids[i[0]]}, "
            f"row {rows[i[0]]}, value {raw.iloc[i[0]]!r})",
            column=str(col),
            fix="fill in a capacity of zero or more for every site (seats, m² or staff, the "
            "same unit for all), or remove the column to skip the capacity scores",
        )
    return val.to_numpy(float)


@dataclass(frozen=True, eq=False)
class AccessResult:
    """E2SFCA scores of one run.

    Attributes
    ----------
    communities
        ``community_id``, ``e2sfca`` (capacity per resident within reach, distance-weighted),
        ``e2sfca_index`` (score / area capacity per resident; 1 = average), ``underserved``.
    sites
        ``site_id``, ``capacity``, ``weighted_demand`` (people), ``supply_demand_ratio``
        (capacity per weighted person in reach), ``overloaded``.
    summary
        Decay, sigma or steps, the area's capacity per resident, counts of overloaded sites
        and underserved communities (and their population).
    """

    communities: pd.DataFrame
    sites: pd.DataFrame
    summary: dict[str, Any]


def e2sfca(
    res: CoverageResult,
    *,
    capacity: np.ndarray | None = None,
    decay: Decay = "gaussian",
    limit_m: float | None = None,
) -> AccessResult | None:
    """E2SFCA scores per community and per site (None when the sites carry no capacity).

    Parameters
    ----------
    res
        A coverage run.
    capacity
        Capacity per site (default: the sites' ``capacity`` column, see
        :func:`site_capacity`).
    decay
        ``"gaussian"`` (default, σ = limit / 2) or ``"step"`` (1 / 0.68 / 0.22 on the levels).
    limit_m
        Catchment in metres (default: the main walk limit).
    """
    cfg = res.config
    cap_all = site_capacity(res.sites) if capacity is None else np.asarray(capacity, float)
    if cap_all is None:
        return None
    lim = float(cfg.limit_m if limit_m is None else limit_m)
    weight = decay_function(decay, lim, [v for v in cfg.levels.values() if v <= lim + EPS_M])
    use = res.usable_sites
    s, p, d = reach_pairs(res.network, res.reach(lim), res.site_snap.take(use), res.community_snap)
    off = res.communities["off_network"].to_numpy(bool)
    keep = ~off[p] & (d <= lim + EPS_M)
    s, p, d = s[keep], p[keep], d[keep]
    pop = res.communities["population"].to_numpy(float)
    score, ratio, wd = e2sfca_scores(s, p, d, cap_all[use], pop, weight)
    total_pop = float(pop[~off].sum())
    ref = float(cap_all.sum() / total_pop) if total_pop else float("nan")
    under = score < UNDERSERVED_FACTOR * ref
    comm = pd.DataFrame(
        {
            "community_id": res.communities["community_id"].to_numpy(),
            "e2sfca": score,
            "e2sfca_index": score / ref if ref > 0 else np.nan,
            "underserved": under,
        }
    )
    sites = _site_table(res, cap_all, ratio, wd, ref)
    over = sites["overloaded"].to_numpy(bool)
    summary = {
        "decay": decay,
        "sigma_m": round(lim / 2, 1) if decay == "gaussian" else None,
        "limit_m": round(lim, 1),
        "capacity_total": float(cap_all.sum()),
        "capacity_per_resident": ref,
        "overloaded_sites": int(over.sum()),
        "underserved_communities": int((under & ~off).sum()),
        "underserved_population": float(pop[under & ~off].sum()),
        "overload_factor": OVERLOAD_FACTOR,
        "underserved_factor": UNDERSERVED_FACTOR,
    }
    return AccessResult(comm, sites, summary)


def _site_table(res: CoverageResult, cap_all, ratio, wd, ref: float) -> pd.DataFrame:
    """Per site (all rows of ``res.sites``): capacity, weighted demand, ratio, overloaded."""
    n, use = len(res.sites), res.usable_sites
    full_ratio = np.full(n, np.nan)
    full_ratio[use] = ratio
    full_wd = np.zeros(n)
    full_wd[use] = wd
    with np.errstate(invalid="ignore"):
        over = np.isfinite(full_ratio) & (full_ratio < OVERLOAD_FACTOR * ref)
    ids = (
        res.sites["site_id"].astype(str).to_numpy()
        if "site_id" in res.sites
        else res.sites.index.astype(str)
    )
    return pd.DataFrame(
        {
            "site_id": ids,
            "capacity": cap_all,
            "weighted_demand": full_wd,
            "supply_demand_ratio": full_ratio,
            "overloaded": over,
        }
    )
