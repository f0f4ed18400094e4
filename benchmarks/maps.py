"""Map size and load time: an offline county map with generated sites on the largest real
network in ../shared/data (Wuhan main roads), opened in headless Chromium with no network.

    python benchmarks/maps.py --sites 2000 --communities 5000 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--network",
        default=str(ROOT.parent / "shared" / "data" / "wuhan" / "roads_main" / "osmWHmainRoad.shp"),
    )
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--communities", type=int, default=5000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import make_map, save_map
    from geo.network import build_network

    rng = np.random.default_rng(3)
    net = build_network(a.network, config=Config())
    pick = rng.choice(net.n_nodes, a.sites + a.communities, replace=False)
    j = rng.normal(0, 0.001, (pick.size, 2))
    pts = shapely.points(net.lon[pick] + j[:, 0], net.lat[pick] + j[:, 1])
    sites = gpd.GeoDataFrame(
        {
            "kind": rng.choice(["station", "integrated", "cultural_palace", "partner"], a.sites),
            "name": [f"站点{i}" for i in range(a.sites)],
        },
        geometry=pts[: a.sites],
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {"population": rng.integers(500, 9000, a.communities)}, geometry=pts[a.sites :], crs=4326
    )
    out = {
        "network": a.network,
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "sites": a.sites,
        "communities": a.communities,
    }
    t0 = time.perf_counter()
    res = compute_coverage(net, sites, comms, config=Config())
    out["coverage_s"] = round(time.perf_counter() - t0, 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.html"
        t0 = time.perf_counter()
        info = save_map(make_map(res, basemap="none", offline=True), path)
        out["build_and_write_s"] = round(time.perf_counter() - t0, 2)
        out["size_mb"] = round(info["size_bytes"] / 1e6, 2)
        from test_maps_browser import _driver

        d = _driver()
        try:
            t0 = time.perf_counter()
            d.get(path.as_uri())
            d.execute_script("return Object.values(window).filter(v => v instanceof L.Map).length")
            out["browser_load_s"] = round(time.perf_counter() - t0, 2)
            out["dom_content_loaded_ms"] = d.execute_script(
                "const t = performance.getEntriesByType('navigation')[0];"
                "return Math.round(t.domContentLoadedEventEnd);"
            )
            out["load_event_ms"] = d.execute_script(
                "const t = performance.getEntriesByType('navigation')[0];"
                "return Math.round(t.loadEventEnd);"
            )
        finally:
            d.quit()
    print(json.dumps(out) if a.json else json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
