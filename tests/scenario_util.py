"""Shared by the scenario tests and benchmarks/scenario.py: drive window.servicecircle and
check its answers against the Python engine."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.coverage import compute_coverage


def near_streets(net, n: int, rng, jitter_m: float = 150.0, **cols) -> gpd.GeoDataFrame:
    """Random points around street vertices (a real network's bbox is mostly empty)."""
    i = rng.integers(0, net.geom_lon.size, n)
    k = 1 / 111_195.0
    lon = net.geom_lon[i] + rng.uniform(-jitter_m, jitter_m, n) * k / np.cos(np.radians(30.5))
    lat = net.geom_lat[i] + rng.uniform(-jitter_m, jitter_m, n) * k
    return gpd.GeoDataFrame(cols, geometry=shapely.points(lon, lat), crs=4326)


def page_sites(d) -> list[dict]:
    return d.execute_script("return window.servicecircle.sites()")


def sites_frame(sites: list[dict]) -> gpd.GeoDataFrame:
    """The open sites of the page as a GeoDataFrame the Python engine reads."""
    open_ = [s for s in sites if s["open"]]
    return gpd.GeoDataFrame(
        {
            "site_id": [s["id"] for s in open_],
            "name": [s["name"] for s in open_],
            "kind": [s["kind"] for s in open_],
        },
        geometry=shapely.points([s["lon"] for s in open_], [s["lat"] for s in open_]),
        crs=4326,
    )


def compare_with_python(d, net, comms, cfg, tol_m: float = 1.0) -> dict:
    """Every community's distance and covered flag in the page against compute_coverage."""
    sites = page_sites(d)
    js = d.execute_script("return window.servicecircle.communities()")
    res = compute_coverage(net, sites_frame(sites), comms, config=cfg, redundancy=False)
    py = res.communities
    bound = max(cfg.levels.values())
    assert [c["community_id"] for c in js] == py["community_id"].tolist()
    jd = np.array([np.nan if c["walk_distance_m"] is None else c["walk_distance_m"] for c in js])
    pd_ = py["walk_distance_m"].to_numpy(float)
    within = np.isfinite(pd_) & (pd_ <= bound)
    # within the bound: same distance; beyond it the page reports none
    assert np.all(np.isfinite(jd[within])), "page lost a community within the walk limit"
    err = np.abs(jd[within] - pd_[within])
    assert err.size == 0 or err.max() <= tol_m, f"max difference {err.max():.3f} m"
    beyond = ~within
    assert np.all(np.isnan(jd[beyond]) | (jd[beyond] > bound - tol_m))
    jc = np.array([c["covered"] for c in js])
    pc = py["covered"].to_numpy(bool)
    assert np.array_equal(jc, pc), f"{int((jc != pc).sum())} covered flags differ"
    return {
        "max_err_m": float(err.max()) if err.size else 0.0,
        "compared": int(within.sum()),
        "covered": int(pc.sum()),
        "summary": res.summary,
    }


def scripted_edits(rng, net, n: int, site_ids: list[str]) -> list[tuple]:
    """A reproducible mix of adds, moves, closes and reopens (ids of new sites are N1, N2...)."""
    spots = near_streets(net, n, rng, jitter_m=300.0)
    ops: list[tuple] = []
    closed: list[str] = []
    new = 0
    ids = list(site_ids)
    kinds = ["station", "integrated", "cultural_palace", "partner"]
    for i in range(n):
        r = i % 6
        lon, lat = float(spots.geometry.iloc[i].x), float(spots.geometry.iloc[i].y)
        if r in (0, 3) or not ids:
            new += 1
            ops.append(("addSite", lon, lat, kinds[i % 4]))
            ids.append(f"N{new}")
        elif r in (1, 4):
            ops.append(("moveSite", ids[int(rng.integers(len(ids)))], lon, lat))
        elif r == 2:
            sid = ids.pop(int(rng.integers(len(ids))))
            closed.append(sid)
            ops.append(("closeSite", sid))
        else:
            if closed:
                sid = closed.pop(0)
                ids.append(sid)
                ops.append(("reopenSite", sid))
            else:
                new += 1
                ops.append(("addSite", lon, lat, "station"))
                ids.append(f"N{new}")
    return ops


def apply(d, op: tuple) -> float:
    """Run one edit in the page; returns its update time in ms as the page measured it."""
    name, *args = op
    return d.execute_script(
        "const s = window.servicecircle; s[arguments[0]](...arguments[1]); return s.lastUpdateMs;",
        name,
        list(args),
    )
