"""Solve-time benchmark: ours (HiGHS via scipy.optimize.milp) against spopt (pulp + CBC) on the
same instances, and ours on a generated 5,000-candidate x 20,000-community instance.

    python benchmarks/optimize.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb

from geo.optimize import _core


def sf_instance():
    d = resources.files("spopt") / "tests" / "test_locate" / "data"
    nd = pd.read_csv(d / "SF_network_distance_candidateStore_16_censusTract_205_new.csv")
    cost = nd.pivot_table(values="distance", index="DestinationName", columns="name").to_numpy()
    w = pd.read_csv(d / "SF_demand_205_centroid_uniform_weight.csv").sort_values("NAME")
    return cost, w["POP2000"].to_numpy(float)


def random_instance(n_d, n_c, seed):
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, 20_000, (n_d, 2))
    fac = rng.uniform(0, 20_000, (n_c, 2))
    cost = np.hypot(*(dem[:, None, :] - fac[None, :, :]).transpose(2, 0, 1)) * 1.3
    return cost, rng.integers(100, 5000, n_d).astype(float)


def time_spopt(cost, w, r, p, limit):
    import pulp
    from spopt.locate import LSCP, MCLP, PMedian

    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)
    out = {}

    def run(name, model):
        t0 = time.perf_counter()
        try:
            m = model.solve(solver)
        except RuntimeError:  # spopt raises when CBC stops at its time limit unsolved
            out[name] = (time.perf_counter() - t0, None, "not solved", True)
            return
        dt = time.perf_counter() - t0
        status = pulp.LpStatus[m.problem.status]
        out[name] = (dt, pulp.value(m.problem.objective), status, dt >= limit * 0.98)

    run("mclp", MCLP.from_cost_matrix(cost, w, r, p))
    run("pmedian", PMedian.from_cost_matrix(cost, w, p))
    if (cost <= r).any(axis=1).all():
        run("lscp", LSCP.from_cost_matrix(cost, r))
    return out


def time_ours(cost, w, r, p):
    out = {}
    t0 = time.perf_counter()
    s = _core.mclp(cost.T <= r, w, p)
    out["mclp"] = (time.perf_counter() - t0, s.objective)
    t0 = time.perf_counter()
    s = _core.pmedian(cost.T, w, p)
    out["pmedian"] = (time.perf_counter() - t0, s.objective)
    if (cost <= r).any(axis=1).all():
        t0 = time.perf_counter()
        s = _core.lscp(cost.T <= r)
        out["lscp"] = (time.perf_counter() - t0, s.objective)
    return out


def palace_instance(n_c: int, n_d: int, repeat: int = 1, baseline: bool = True) -> dict:
    """First cultural palace (p-median, p = 1) on a generated county street grid: the exact
    column-sum method against the MILP on the full distance matrix (the method before)."""
    import geopandas as gpd
    import shapely
    from _common import street_grid

    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.optimize import distance_matrix, existing_cost, propose_sites
    from geo.optimize._candidates import candidate_snap

    rng = np.random.default_rng(3)
    net = street_grid(30_000, seed=3)
    pick = rng.choice(net.n_nodes, n_d + 10, replace=False)
    lon, lat = net.lon[pick] + rng.normal(0, 2e-4, pick.size), net.lat[pick]
    sites = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(10)], "kind": ["station"] * 10},
        geometry=shapely.points(lon[:10], lat[:10]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {
            "community_id": [f"c{i}" for i in range(n_d)],
            "population": rng.integers(800, 12000, n_d).astype(float),
        },
        geometry=shapely.points(lon[10:], lat[10:]),
        crs=4326,
    )
    res = compute_coverage(net, sites, comms, config=Config(minutes=15.0))
    cp = rng.choice(net.n_nodes, n_c, replace=False)
    cand = gpd.GeoDataFrame(
        {"candidate_id": [f"k{i}" for i in range(n_c)], "name": [f"k{i}" for i in range(n_c)]},
        geometry=shapely.points(net.lon[cp], net.lat[cp]),
        crs=4326,
    )
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        p = propose_sites(
            res, k=1, model="pmedian", existing_kinds=["cultural_palace"], curve=False,
            candidates=cand, candidates_only=True,
        )  # fmt: skip
        times.append(time.perf_counter() - t0)
    t_exact = float(np.median(times))
    exact = {
        "instance": f"street grid {net.n_nodes:,} nodes, {len(p.candidates):,} candidates x "
        f"{n_d:,} communities",
        "exact_s": round(t_exact, 3),
        "exact_runs_s": [round(t, 3) for t in times],
        "exact_searched": p.summary["solver_info"]["exact_1_median"]["searched"],
        "exact_site": str(p.sites["candidate_id"].iloc[0]),
        "exact_objective": p.summary["objective"],
    }
    if not baseline:
        return exact
    t0 = time.perf_counter()
    snap = candidate_snap(res, p.candidates)
    cost = distance_matrix(res, snap)
    t_matrix = time.perf_counter() - t0
    w = res.communities["population"].to_numpy(float)
    t0 = time.perf_counter()
    m = _core.pmedian(cost, w, 1, existing_cost(res, ["cultural_palace"]), exact_one=False)
    t_milp = time.perf_counter() - t0
    return {
        **exact,
        "baseline_matrix_s": round(t_matrix, 2),
        "baseline_matrix_mb": round(cost.nbytes / 1e6, 1),
        "baseline_milp_s": round(t_milp, 2),
        "baseline_status": m.status,
        "same_objective": bool(abs(m.objective - p.summary["objective"]) <= 1e-6 * m.objective),
        "baseline_objective": m.objective,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--big-candidates", type=int, default=5000)
    ap.add_argument("--big-communities", type=int, default=20000)
    ap.add_argument("--big-k", type=int, default=50)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--cbc-time-limit", type=float, default=300.0)
    ap.add_argument("--no-baseline", action="store_true", help="skip the pre-issue-13 solve")
    ap.add_argument("--palace-candidates", type=int, default=2084)
    ap.add_argument("--palace-communities", type=int, default=937)
    ap.add_argument("--palace-only", action="store_true", help="only the palace, no MILP")
    ap.add_argument("--palace-repeat", type=int, default=1, help="palace calls (median)")
    args = ap.parse_args()
    if args.palace_only:
        pal = palace_instance(
            args.palace_candidates, args.palace_communities, args.palace_repeat, baseline=False
        )
        print(json.dumps({"palace": pal, "peak_rss_mb": round(peak_rss_mb(), 1)}))
        return
    rows = []
    instances = [("SF 205x16 (spopt)", *sf_instance(), 5000.0, 4)]
    for n_d, n_c in ((500, 50), (1000, 100)):
        instances.append((f"random {n_d}x{n_c}", *random_instance(n_d, n_c, 1), 2500.0, 10))
    for name, cost, w, r, p in instances:
        ours = time_ours(cost, w, r, p)
        try:
            ref = time_spopt(cost, w, r, p, args.cbc_time_limit)
        except ImportError:
            ref = {}
        for model, (t, obj) in ours.items():
            rt, robj, rstatus, hit = ref.get(model, (None, None, None, False))
            rows.append(
                {
                    "instance": name,
                    "model": model,
                    "ours_s": round(t, 3),
                    "spopt_cbc_s": None if rt is None else round(rt, 3),
                    "cbc_hit_time_limit": hit,
                    "speedup": None if rt is None else round(rt / t, 1),
                    "ours_objective": obj,
                    "spopt_objective": robj,
                    "same_objective": None
                    if robj is None
                    else bool(abs(obj - robj) <= 1e-6 * max(1.0, abs(robj))),
                }
            )
    # the large generated instance: sparse coverage, 5,000 x 20,000
    rng = np.random.default_rng(7)
    dem = rng.uniform(0, 40_000, (args.big_communities, 2))
    fac = rng.uniform(0, 40_000, (args.big_candidates, 2))
    from scipy.spatial import cKDTree

    pairs = cKDTree(fac).query_ball_point(dem, 1000.0)
    ii = np.repeat(np.arange(len(pairs)), [len(p) for p in pairs])
    jj = np.concatenate([np.asarray(p, np.int64) for p in pairs])
    import scipy.sparse as sp

    a = sp.csr_matrix(
        (np.ones(ii.size), (jj, ii)), shape=(args.big_candidates, args.big_communities)
    )
    w = rng.integers(100, 5000, args.big_communities).astype(float)
    t0 = time.perf_counter()
    s = _core.mclp(a, w, args.big_k, time_limit=args.time_limit)
    t_exact = time.perf_counter() - t0
    base = None
    if not args.no_baseline:
        # the solver before issue 13: no reduction, HiGHS branch-and-bound from the start
        t0 = time.perf_counter()
        b = _core.mclp(a, w, args.big_k, time_limit=args.time_limit, reduce=False, lp_first=False)
        base = {
            "baseline_milp_s": round(time.perf_counter() - t0, 2),
            "baseline_status": b.status,
            "baseline_objective": b.objective,
            "same_objective": bool(abs(b.objective - s.objective) <= 1e-6 * s.objective),
        }
    t0 = time.perf_counter()
    g = _core.greedy_mclp(a, w, args.big_k)
    t_greedy = time.perf_counter() - t0
    big = {
        "instance": f"generated {args.big_candidates}x{args.big_communities}, k={args.big_k}",
        "nonzeros": int(a.nnz),
        "milp_s": round(t_exact, 2),
        "milp_status": s.status,
        "milp_gap": s.gap,
        "milp_objective": s.objective,
        "greedy_s": round(t_greedy, 3),
        "greedy_objective": g.objective,
        "greedy_bound": g.bound,
        "greedy_vs_milp": round(g.objective / s.objective, 5),
        "reduction": s.info.get("reduction"),
        "lp_relaxation_integral": s.info.get("lp_relaxation_integral"),
        **(base or {}),
    }
    big["palace"] = palace_instance(
        args.palace_candidates, args.palace_communities, args.palace_repeat
    )
    out = {"instances": rows, "large": big, "peak_rss_mb": round(peak_rss_mb(), 1)}
    if args.json:
        print(json.dumps(out))
    else:
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
        print(json.dumps(big, indent=1))


if __name__ == "__main__":
    main()
