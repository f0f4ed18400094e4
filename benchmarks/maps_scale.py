"""Map scale guard (issue 11.14): a map of very many communities stays small.

Generates N communities (default 1,000,000) and 2,000 sites on the largest real network
(Wuhan main roads), computes coverage, builds and writes the offline map, and reports the map
size, the time of each stage and the peak memory (RSS) of the whole run.

    python benchmarks/maps_scale.py --communities 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
NET = ROOT.parent / "shared" / "data" / "wuhan" / "roads_main" / "osmWHmainRoad.shp"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--network", default=str(NET))
    ap.add_argument("--communities", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import MAX_COMMUNITY_POINTS, make_map, save_map
    from geo.network import build_network

    rng = np.random.default_rng(5)
    out: dict = {"communities": a.communities, "sites": a.sites, "limit": MAX_COMMUNITY_POINTS}
    t0 = time.perf_counter()
    net = build_network(a.network, config=Config())
    n = a.communities + a.sites
    pick = rng.integers(0, net.n_nodes, n)
    jit = rng.normal(0, 0.0015, (n, 2))
    pts = shapely.points(net.lon[pick] + jit[:, 0], net.lat[pick] + jit[:, 1])
    sites = gpd.GeoDataFrame(
        {"kind": rng.choice(["station", "integrated", "partner"], a.sites)},
        geometry=pts[: a.sites],
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {"population": rng.integers(100, 5000, a.communities)},
        geometry=pts[a.sites :],
        crs=4326,
    )
    out["inputs_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    res = compute_coverage(net, sites, comms, config=Config())
    out["coverage_s"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_after_coverage_mb"] = round(peak_mb())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        m = make_map(res, scenario=False)
        out["make_map_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        info = save_map(m, Path(tmp) / "map.html")
        out["save_map_s"] = round(time.perf_counter() - t0, 1)
        out["map_mb"] = round(info["size_bytes"] / 1e6, 2)
        out["aggregated"] = any(
            x.get("key") == "aggregated" for x in m._sc_payload["meta"]["summary"]
        )
    out["peak_rss_mb"] = round(peak_mb())
    print(json.dumps(out) if a.json else json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(main())
