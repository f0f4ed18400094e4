"""The scenario page's JavaScript engine, run with node (``node --test tests/js``).

Generated networks (parallel edges, zero-length edges, disconnected pieces, a community
exactly at the limit, random grids with holes) are solved by the Python engine here and
written to a cases file that the node test replays and compares.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network, metres_to_lonlat, network_from_edges, random_points

from geo.config import Config
from geo.coverage import compute_coverage
from geo.maps._scenario import encode_network

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")


def _pts(xy) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, float).reshape(-1, 2)
    lon, lat = metres_to_lonlat(xy[:, 0], xy[:, 1])
    return gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)


def _snap(sn) -> dict:
    return {
        "edge": sn.edge.tolist(),
        "t": np.nan_to_num(sn.t).tolist(),
        "leg": np.nan_to_num(sn.leg, nan=1e9).tolist(),
    }


def _case(name, net, sites, comms, cfg) -> dict:
    res = compute_coverage(net, sites, comms, config=cfg, redundancy=False)
    d = res.communities["walk_distance_m"].to_numpy(float)
    xy = lambda g: [[p.x, p.y] for p in g.geometry]  # noqa: E731
    return {
        "name": name,
        "network": encode_network(net),
        "utm_zone": int(net.metric_crs.to_epsg() % 100),
        "limit_m": cfg.limit_m,
        "max_snap_m": cfg.max_snap_m,
        "sites": xy(sites),
        "communities": xy(comms),
        "site_snap": _snap(res.site_snap.take(res.usable_sites)),
        "community_snap": _snap(res.community_snap),
        "expected": [None if not np.isfinite(x) else float(x) for x in d],
        "covered": res.communities["covered"].tolist(),
    }


def _cases() -> list[dict]:
    cfg = Config()  # 15 min at 4 km/h: 1000 m
    lim = cfg.limit_m
    out = []
    # parallel edges of different lengths between the same two nodes
    xy = np.array([[0, 0], [300, 0], [600, 0]], float)
    net = network_from_edges(xy, [(0, 1), (0, 1), (1, 0), (1, 2)], [500.0, 300.0, 900.0, 300.0])
    out.append(_case("parallel", net, _pts([[0, 5]]), _pts([[300, 8], [590, -4], [150, 3]]), cfg))
    # zero-length edges (two nodes at one place) on the way
    xy = np.array([[0, 0], [200, 0], [200, 0], [400, 0], [400, 0], [700, 0]], float)
    net = network_from_edges(
        xy, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)], [200.0, 0.0, 200.0, 0.0, 300.0]
    )
    out.append(_case("zero_length", net, _pts([[10, 2]]), _pts([[200, 1], [650, 3]]), cfg))
    # disconnected pieces: communities on the far piece are unreachable
    xy = np.array([[0, 0], [400, 0], [3000, 0], [3400, 0]], float)
    net = network_from_edges(xy, [(0, 1), (2, 3)])
    out.append(_case("disconnected", net, _pts([[50, 0]]), _pts([[300, 0], [3200, 0]]), cfg))
    # a community exactly at the limit (and one a centimetre beyond)
    xy = np.array([[0, 0], [600, 0], [600, 500], [600, 900]], float)
    net = network_from_edges(xy, [(0, 1), (1, 2), (2, 3)], [600.0, lim - 600.0, 500.0])
    out.append(
        _case("at_limit", net, _pts([[0, 0]]), _pts([[600, 500], [600, 500.01], [600, 520]]), cfg)
    )
    # random grids with holes, sites and communities spread around (some off the streets)
    for seed in range(4):
        rng = np.random.default_rng(seed)
        net = grid_network(14, 120.0, drop=0.25, seed=seed)
        sites = random_points(net, 5, rng, pad_deg=0.006)
        comms = random_points(net, 150, rng)
        out.append(_case(f"grid{seed}", net, sites, comms, cfg))
    return out


def test_cases_cover_the_edge_cases():
    cases = {c["name"]: c for c in _cases()}
    at = cases["at_limit"]
    assert at["covered"][:2] == [True, False]  # exactly at the limit counts, beyond does not
    assert cases["disconnected"]["expected"][1] is None
    assert any(x is not None and x > 1000 for c in cases.values() for x in c["expected"])


def test_node_engine_suite(tmp_path):
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node missing in CI: scripts/system-deps.sh should have installed nodejs")
        pytest.skip("node is not installed (apt-get install nodejs)")
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(_cases()), encoding="utf-8")
    env = {**os.environ, "SC_CASES": str(cases)}
    p = subprocess.run(
        [NODE, "--test", str(ROOT / "tests" / "js")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "# fail 0" in p.stdout and "# skipped 0" in p.stdout, p.stdout[-2000:]
    assert "# pass 10" in p.stdout
