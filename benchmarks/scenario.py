"""Scenario mode: map size and update time per edit in headless Chromium.

For a network (a real file, or a generated county of --nodes nodes), builds the coverage map
with scenario mode on, opens it in headless Chromium from file://, and runs --edits scripted
edits (adds, moves, closes, reopens) through window.servicecircle. Reports the page's own
update time per edit (engine + recolouring + isochrone + panel, measured in the page with
performance.now()), the round trip per edit as seen from Python, the page's load time and the
file size.

    python benchmarks/scenario.py --network ../shared/data/wuhan/roads_central/WHroad.shp
    python benchmarks/scenario.py --nodes 50000 --shape-points 3 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def densify(net, k: int, seed: int = 0):
    """Give every straight edge ``k`` intermediate shape points (slightly off the line), as
    real streets have, so the embedded geometry is as large as a real county's."""
    from geo.network import Network, haversine_m

    if k <= 0:
        return net
    rng = np.random.default_rng(seed)
    off = net.geom_offsets
    a, b = off[:-1], off[1:] - 1
    f = np.linspace(0, 1, k + 2)
    lon = net.geom_lon[a, None] + (net.geom_lon[b] - net.geom_lon[a])[:, None] * f
    lat = net.geom_lat[a, None] + (net.geom_lat[b] - net.geom_lat[a])[:, None] * f
    wig = rng.normal(0, 2e-5, (lon.shape[0], k))
    lon[:, 1:-1] += wig
    lat[:, 1:-1] -= wig
    length = haversine_m(lon[:, :-1], lat[:, :-1], lon[:, 1:], lat[:, 1:]).sum(axis=1)
    return Network(
        node_id=net.node_id, lon=net.lon, lat=net.lat, edge_u=net.edge_u, edge_v=net.edge_v,
        length=length, geom_offsets=np.arange(net.n_edges + 1, dtype=np.int64) * (k + 2),
        geom_lon=lon.ravel(), geom_lat=lat.ravel(), edge_osmid=net.edge_osmid,
        edge_highway=net.edge_highway, edge_name=net.edge_name, meta=dict(net.meta),
    )  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", default=None, help="a real network file")
    p.add_argument("--nodes", type=int, default=50_000, help="generated county size")
    p.add_argument("--shape-points", type=int, default=3, help="generated: points per edge")
    p.add_argument("--communities", type=int, default=1500)
    p.add_argument("--sites", type=int, default=300)
    p.add_argument("--edits", type=int, default=100)
    p.add_argument("--screenshot", default=None, help="PNG of the panel after the edits")
    p.add_argument("--keep", default=None, help="keep the HTML map here")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)

    from scenario_util import near_streets, scripted_edits
    from test_maps_browser import _driver

    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import make_map, save_map
    from geo.network import build_network

    out: dict = {}
    t0 = time.perf_counter()
    if a.network:
        net = build_network(a.network, config=Config())
        out["network"] = a.network
    else:
        from _common import street_grid

        net = densify(street_grid(a.nodes, spacing_m=90.0, seed=1), a.shape_points)
        out["network"] = f"generated {a.nodes} nodes, {a.shape_points} shape points per edge"
    out["nodes"], out["edges"], out["geometry_points"] = (
        net.n_nodes, net.n_edges, int(net.geom_lon.size)
    )  # fmt: skip
    out["build_s"] = round(time.perf_counter() - t0, 2)
    rng = np.random.default_rng(5)
    comms = near_streets(net, a.communities, rng)
    comms["community_id"] = [f"C{i}" for i in range(len(comms))]
    comms["name"] = [f"社区{i}" for i in range(len(comms))]
    comms["population"] = rng.integers(500, 8000, len(comms)).astype(float)
    sites = near_streets(net, a.sites, rng)
    sites["name"] = [f"站点{i}" for i in range(len(sites))]
    sites["kind"] = rng.choice(["station", "integrated", "partner"], len(sites))
    t0 = time.perf_counter()
    res = compute_coverage(net, sites, comms, config=Config())
    out["coverage_s"] = round(time.perf_counter() - t0, 2)
    tmp = Path(a.keep or tempfile.mkdtemp()) / "scenario_map.html"
    t0 = time.perf_counter()
    m = make_map(res, basemap="none", offline=True, scenario=True, title="方案推演 · 基准")
    info = save_map(m, tmp)
    out["map_write_s"] = round(time.perf_counter() - t0, 2)
    out["map_bytes"] = info["size_bytes"]
    out["map_mb"] = round(info["size_bytes"] / 1e6, 2)
    d = _driver()
    try:
        t0 = time.perf_counter()
        d.get(tmp.as_uri())
        d.implicitly_wait(5)
        assert d.execute_script("return !!window.servicecircle"), "scenario mode did not start"
        out["page_open_s"] = round(time.perf_counter() - t0, 2)
        out["scenario_init_ms"] = round(d.execute_script("return window.servicecircle.loadMs"), 1)
        t1 = time.perf_counter()
        while not d.execute_script("return window.servicecircle.backgroundDone"):
            if time.perf_counter() - t1 > 120:
                raise RuntimeError("the page's background drawing did not finish")
            time.sleep(0.1)
        out["background_done_ms"] = round(
            d.execute_script("return window.servicecircle.initMarks.background"), 1
        )
        ids = [s["id"] for s in d.execute_script("return window.servicecircle.sites()")]
        ops = scripted_edits(np.random.default_rng(9), net, a.edits, ids)
        page_ms, wall_ms, paint_ms, parts = [], [], [], []
        d.set_script_timeout(30)
        for op in ops:
            t = time.perf_counter()
            name, *args = op
            # the edit, then two animation frames: the recoloured map has been painted
            r = d.execute_async_script(
                """const done = arguments[arguments.length - 1];
                const s = window.servicecircle, t0 = performance.now();
                s[arguments[0]](...arguments[1]);
                const upd = s.lastUpdateMs, br = s.lastBreakdown;
                requestAnimationFrame(() => requestAnimationFrame(
                    () => done([upd, performance.now() - t0, br])));""",
                name,
                list(args),
            )
            page_ms.append(r[0])
            paint_ms.append(r[1])
            parts.append(r[2])
            wall_ms.append(1000 * (time.perf_counter() - t))
        # the floor: two animation frames with no edit at all, on the same page and load
        floor = [
            d.execute_async_script(
                """const done = arguments[arguments.length - 1], t0 = performance.now();
                requestAnimationFrame(() => requestAnimationFrame(
                    () => done(performance.now() - t0)));"""
            )
            for _ in range(30)
        ]
        out["frame_floor_ms_median"] = round(float(np.median(floor)), 1)
        out["frame_floor_ms_p95"] = round(float(np.percentile(floor, 95)), 1)
        if a.screenshot:
            d.save_screenshot(a.screenshot)
    finally:
        d.quit()
    pm, wm, fm = np.array(page_ms), np.array(wall_ms), np.array(paint_ms)
    out["edits"] = len(ops)
    out["update_ms_median"] = round(float(np.median(pm)), 1)
    out["update_ms_p95"] = round(float(np.percentile(pm, 95)), 1)
    out["update_ms_max"] = round(float(pm.max()), 1)
    for k in ("engine", "recolour", "isochrone", "panel"):
        out[f"{k}_ms_median"] = round(float(np.median([x[k] for x in parts])), 1)
    out["to_paint_ms_median"] = round(float(np.median(fm)), 1)
    out["to_paint_ms_p95"] = round(float(np.percentile(fm, 95)), 1)
    out["roundtrip_ms_median"] = round(float(np.median(wm)), 1)
    out["roundtrip_ms_p95"] = round(float(np.percentile(wm, 95)), 1)
    if a.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
