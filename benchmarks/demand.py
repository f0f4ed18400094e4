"""Time the demand views of issue 15 on a real network: street coverage, workplaces, E2SFCA,
partial coverage and the street/mixed-demand gap sites.

    python benchmarks/demand.py --network ../shared/data/wuhan/roads_central/WHroad.shp --json

Sites, communities (squares of 150-900 m) and workplaces are generated near real streets.
Figures are medians of ``--repeat`` runs; the machine is shared, so they vary with load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely


def _points(net, rng, n):
    e = rng.integers(0, net.n_edges, n)
    pts = shapely.line_interpolate_point(
        net.edge_lines(projected=False)[e], rng.random(n), normalized=True
    )
    return shapely.get_x(pts) + rng.normal(0, 3e-4, n), shapely.get_y(pts) + rng.normal(0, 3e-4, n)


def _squares(net, rng, n):
    nodes = rng.choice(net.n_nodes, n, replace=False)
    half = rng.uniform(75, 450, n)
    boxes = shapely.box(*(net.xy[nodes] - half[:, None]).T, *(net.xy[nodes] + half[:, None]).T)
    tr = net._to_metric
    return shapely.transform(
        boxes, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1], direction="INVERSE"))
    )


def _time(fn, repeat):
    ts, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--network", type=Path, required=True)
    ap.add_argument("--sites", type=int, default=300)
    ap.add_argument("--communities", type=int, default=2000)
    ap.add_argument("--workplaces", type=int, default=1000)
    ap.add_argument("--new-sites", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.coverage.partial import partial_coverage
    from geo.coverage.streets import street_coverage
    from geo.coverage.views import demand_views
    from geo.network import build_network
    from geo.optimize._demand import propose_mixed

    cfg = Config()
    net = build_network(a.network, config=cfg)
    rng = np.random.default_rng(0)
    lon, lat = _points(net, rng, a.sites)
    kinds = rng.choice(["station", "integrated", "cultural_palace"], a.sites, p=[0.6, 0.35, 0.05])
    sites = gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(a.sites)], "kind": kinds,
                              "capacity": rng.integers(4, 60, a.sites).astype(float)},
                             geometry=shapely.points(lon, lat), crs=4326)  # fmt: skip
    comms = gpd.GeoDataFrame({"community_id": [f"C{i}" for i in range(a.communities)],
                              "population": rng.integers(500, 9000, a.communities).astype(float)},
                             geometry=_squares(net, rng, a.communities), crs=4326)  # fmt: skip
    lon, lat = _points(net, rng, a.workplaces)
    wp = gpd.GeoDataFrame({"workplace_id": [f"W{i}" for i in range(a.workplaces)],
                           "employees": rng.integers(20, 3000, a.workplaces).astype(float)},
                          geometry=shapely.points(lon, lat), crs=4326)  # fmt: skip
    r = a.repeat
    out = {"network": str(a.network), "edges": net.n_edges, "street_km": round(float(net.length.sum()) / 1000, 1),
           "sites": a.sites, "communities": a.communities, "workplaces": a.workplaces}  # fmt: skip
    out["coverage_s"], res = _time(lambda: compute_coverage(net, sites, comms, config=cfg), r)
    out["street_coverage_s"], _ = _time(lambda: street_coverage(res), r)
    out["partial_grid_s"], part = _time(lambda: partial_coverage(res), r)
    out["partial_samples"] = len(part.samples)
    out["all_views_s"], (res2, views) = _time(lambda: demand_views(res, workplaces=wp), r)
    out["gaps_streets_s"], prop = _time(
        lambda: propose_mixed(res, k=a.new_sites, demand={"streets": 1.0}, curve=False), r
    )
    out["gaps_streets_status"] = prop.summary["status"]
    out["gaps_streets_candidates"] = prop.summary["candidates"]
    out["gaps_mixed_s"], prop = _time(
        lambda: propose_mixed(res, k=a.new_sites, workplaces=views.workplaces, curve=False,
                              demand={"residents": 1.0, "workplaces": 1.0, "streets": 0.5}), r
    )  # fmt: skip
    out["gaps_mixed_status"] = prop.summary["status"]
    out = {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}
    print(
        json.dumps(out, ensure_ascii=False)
        if a.json
        else "\n".join(f"{k}: {v}" for k, v in out.items())
    )


if __name__ == "__main__":
    main()
