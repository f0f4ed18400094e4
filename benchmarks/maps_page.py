"""Page-only map build time: make_map + save_map with precomputed per-kind isochrones
(Wuhan main roads, 2,000 generated sites, 5,000 communities), scenario mode off and auto.

    python benchmarks/maps_page.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
NET = ROOT.parent / "shared" / "data" / "wuhan" / "roads_main" / "osmWHmainRoad.shp"


def main() -> None:
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import make_map, save_map
    from geo.network import build_network

    rng = np.random.default_rng(3)
    net = build_network(NET, config=Config())
    pick = rng.choice(net.n_nodes, 7000, replace=False)
    j = rng.normal(0, 0.001, (pick.size, 2))
    pts = shapely.points(net.lon[pick] + j[:, 0], net.lat[pick] + j[:, 1])
    kinds = rng.choice(["station", "integrated", "cultural_palace", "partner"], 2000)
    sites = gpd.GeoDataFrame(
        {"kind": kinds, "name": [f"站点{i}" for i in range(2000)]}, geometry=pts[:2000], crs=4326
    )
    comms = gpd.GeoDataFrame(
        {"population": rng.integers(500, 9000, 5000)}, geometry=pts[2000:], crs=4326
    )
    res = compute_coverage(net, sites, comms, config=Config())
    iso = res.isochrones(by="kind", simplify_m=15.0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sc in (False, None):
            t = time.perf_counter()
            m = make_map(res, basemap="none", offline=True, isochrones=iso, scenario=sc)
            info = save_map(m, Path(tmp) / "map.html")
            out[f"scenario={sc}"] = {
                "seconds": round(time.perf_counter() - t, 2),
                "size_mb": round(info["size_bytes"] / 1e6, 2),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
