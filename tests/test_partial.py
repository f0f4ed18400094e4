"""Large communities counted in part, against a brute-force point-by-point computation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import REAL_NETWORKS, need_shared
from oracle import oracle_nearest
from test_streets import _frames

from geo.config import Config
from geo.coverage import compute_coverage
from geo.coverage.core import snap_points
from geo.coverage.partial import apply_area_coverage, partial_coverage
from geo.network import build_network


def _squares(net, rng, n, size_range=(150.0, 900.0)):
    """Square-ish (rotated) polygons around random network nodes, WGS84."""
    nodes = rng.choice(net.n_nodes, n, replace=False)
    polys = []
    inv = net._to_metric
    for k in nodes:
        cx, cy = net.xy[k]
        h = rng.uniform(*size_range) / 2
        sq = shapely.affinity.rotate(
            shapely.box(cx - h, cy - h * 0.7, cx + h, cy + h * 0.7), rng.uniform(0, 90)
        )
        x, y = np.asarray(sq.exterior.coords).T
        lon, lat = inv.transform(x, y, direction="INVERSE")
        polys.append(shapely.Polygon(np.column_stack([lon, lat])))
    return gpd.GeoDataFrame(
        {
            "community_id": [f"C{i}" for i in range(n)],
            "population": rng.integers(500, 9000, n).astype(float),
        },
        geometry=polys,
        crs=4326,
    )


def _brute(res, spacing, poly_m, buildings_m=None, levels_fa=None):
    """Share of each community's people within the main limit, point by point with networkx."""
    net, lim = res.network, res.config.limit_m
    sites = res.site_snap.take(res.usable_sites)
    shares = []
    owner = {}
    if buildings_m is not None:  # a building in overlapping communities goes to the first
        for k, b in enumerate(buildings_m):
            r = b.representative_point()
            owner[k] = next((i for i, g in enumerate(poly_m) if g.contains(r)), None)
    for ci, g in enumerate(poly_m):
        pts, w = [], []
        if buildings_m is not None:
            for k, (b, fa) in enumerate(zip(buildings_m, levels_fa, strict=True)):
                r = b.representative_point()
                if owner[k] == ci:
                    pts.append((r.x, r.y))
                    w.append(fa)
        if not pts:
            x0, y0, x1, y1 = g.bounds
            for i in range(int(np.floor(x0 / spacing)), int(np.ceil(x1 / spacing))):
                for j in range(int(np.floor(y0 / spacing)), int(np.ceil(y1 / spacing))):
                    p = shapely.Point((i + 0.5) * spacing, (j + 0.5) * spacing)
                    if g.contains(p):
                        pts.append((p.x, p.y))
                        w.append(1.0)
        if not pts:
            r = g.point_on_surface()
            pts, w = [(r.x, r.y)], [1.0]
        xy = np.array(pts)
        snap = snap_points(net, xy[:, 0], xy[:, 1])
        d = oracle_nearest(net, sites, snap)
        d[~(snap.leg <= res.config.max_snap_m)] = np.inf
        w = np.array(w)
        shares.append(float((w * (d <= lim + 1e-6)).sum() / w.sum()))
    return np.array(shares)


@pytest.fixture(scope="module")
def setup():
    path = need_shared(REAL_NETWORKS["optics_valley"])
    cfg = Config(minutes=10, thresholds_min=(5.0, 10.0), use_cache=False)
    net = build_network(path, config=cfg)
    rng = np.random.default_rng(11)
    sites, _ = _frames(net, rng, 6, 1)
    comms = _squares(net, rng, 12)
    res = compute_coverage(net, sites, comms, config=cfg, redundancy=False)
    poly_m = [
        shapely.transform(g, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
        for g in comms.geometry
    ]
    return res, poly_m


@pytest.mark.realdata
def test_grid_shares_match_brute_force(setup):
    res, poly_m = setup
    part = partial_coverage(res, spacing_m=50.0)
    want = _brute(res, 50.0, poly_m)
    np.testing.assert_allclose(part.communities["covered_share"].to_numpy(), want, atol=1e-9)
    assert ((want > 0) & (want < 1)).sum() >= 3, "instance has no partly covered community"
    assert (part.communities["sample_method"] == "grid").all()


@pytest.mark.realdata
def test_building_floor_area_weights_match_brute_force(setup):
    res, poly_m = setup
    net = res.network
    rng = np.random.default_rng(5)
    bm, levels = [], []
    for g in poly_m[:6]:  # buildings in half the communities; the rest fall back to the grid
        x0, y0, x1, y1 = g.bounds
        for _ in range(25):
            cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            bm.append(shapely.box(cx - 10, cy - 8, cx + 12, cy + 9))
            levels.append(int(rng.integers(1, 30)))
    inv = net._to_metric
    geoms = [
        shapely.transform(
            b, lambda c: np.column_stack(inv.transform(c[:, 0], c[:, 1], direction="INVERSE"))
        )
        for b in bm
    ]
    bld = gpd.GeoDataFrame({"building:levels": [str(v) for v in levels]}, geometry=geoms, crs=4326)
    part = partial_coverage(res, buildings=bld)
    # floor area from the footprints as the code sees them (reprojected back)
    bm2 = [
        shapely.transform(b, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
        for b in geoms
    ]
    fa = [b.area * lv for b, lv in zip(bm2, levels, strict=True)]
    want = _brute(res, 50.0, poly_m, bm2, fa)
    np.testing.assert_allclose(part.communities["covered_share"].to_numpy(), want, atol=1e-9)
    m = part.communities["sample_method"].to_numpy()
    assert (m[:6] == "buildings").all() and (m[6:] == "grid").sum() >= 4


@pytest.mark.realdata
def test_fifty_percent_rule_and_summary(setup):
    res, _ = setup
    part = partial_coverage(res)
    area = apply_area_coverage(res, part)
    share = part.communities["covered_share"].to_numpy()
    assert np.array_equal(area.communities["covered"].to_numpy(), share >= 0.5)
    pop = res.communities["population"].to_numpy()
    lv = res.config.main_level
    assert area.summary["population_covered"] == pytest.approx(pop[share >= 0.5].sum())
    assert area.summary["levels"][lv]["population_covered_in_part"] == pytest.approx(
        (pop * share).sum()
    )
    assert area.summary["population_covered_point_method"] == res.summary["population_covered"]
    # the point method is untouched
    assert "covered_share" not in res.communities


def test_point_communities_keep_one_sample():
    from helpers import grid_network

    net = grid_network(5, 100.0)
    rng = np.random.default_rng(1)
    sites, comms = _frames(net, rng, 2, 8)
    cfg = Config(minutes=3, thresholds_min=(3.0,), use_cache=False)
    res = compute_coverage(net, sites, comms, config=cfg, redundancy=False)
    part = partial_coverage(res)
    assert (part.communities["samples"] == 1).all()
    np.testing.assert_array_equal(
        part.communities["covered_share"].to_numpy() == 1.0, res.communities["covered"].to_numpy()
    )


@pytest.mark.realdata
def test_osm_source_buildings(setup):
    """The OSM file's own buildings weight the samples (homes only), checked by brute force."""
    from geo.coverage.partial import osm_buildings, residential

    res, poly_m = setup
    b = osm_buildings(REAL_NETWORKS["optics_valley"])
    assert b is not None and len(b) > 300  # 424 building areas in the extract
    assert osm_buildings(REAL_NETWORKS["roads_central"]) is None  # not an OSM file
    homes = residential(b)
    assert len(homes) <= len(b)
    part = partial_coverage(res, buildings=b)
    assert (part.communities["sample_method"] == "buildings").any()
    net = res.network
    bm = [shapely.transform(g, lambda c: np.column_stack(net.project(c[:, 0], c[:, 1])))
          for g in homes.geometry]  # fmt: skip
    lv = pd.to_numeric(homes["building:levels"], errors="coerce").fillna(1).to_numpy()
    lv = np.where(lv > 0, lv, 1)
    want = _brute(res, 50.0, poly_m, bm, [g.area * v for g, v in zip(bm, lv, strict=True)])
    np.testing.assert_allclose(part.communities["covered_share"].to_numpy(), want, atol=1e-9)
