"""The built-up share measured along rows against the GEOS union of the buffered streets."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from conftest import REAL_NETWORKS, need_shared
from helpers import network_from_edges
from test_streets import _frames

from geo import crs as _crs
from geo.config import Config
from geo.coverage import _builtup, compute_coverage
from geo.coverage._snap import edge_lines
from geo.coverage.isochrones import built_up_share
from geo.network import build_network


def _geos_share(res, iso, area=None) -> dict:
    """The reference (the computation before the row method): one union of buffered streets."""
    net = res.network
    built = shapely.union_all(
        shapely.buffer(edge_lines(net), res.config.street_buffer_m, quad_segs=4)
    )
    if area is not None:
        built = shapely.intersection(
            built, _crs.transform_geometry(area, lambda x, y: net.project(x, y))
        )
    total = shapely.area(built)
    out = {}
    for level, grp in iso.to_crs(net.metric_crs).groupby("level"):
        within = shapely.area(shapely.intersection(built, shapely.union_all(grp.geometry.values)))
        out[level] = {"built_up_km2": total / 1e6, "within_km2": within / 1e6}
        out[level]["share"] = within / total
    return out


@pytest.fixture(scope="module")
def optics():
    path = need_shared(REAL_NETWORKS["optics_valley"])
    cfg = Config(use_cache=False)
    net = build_network(path, config=cfg)
    sites, comms = _frames(net, np.random.default_rng(11), 12, 60, kinds=("station", "partner"))
    return compute_coverage(net, sites, comms, config=cfg)


@pytest.mark.parametrize("area_kind", ["none", "box", "rotated"])
def test_share_matches_geos_on_real_streets(optics, area_kind):
    res = optics
    iso = res.isochrones(by="kind")
    assert iso["level"].nunique() == 3
    lon, lat = res.network.lon, res.network.lat
    cx, cy = float(np.median(lon)), float(np.median(lat))
    area = {
        "none": None,
        "box": shapely.box(cx - 0.02, cy - 0.01, cx + 0.015, cy + 0.012),
        "rotated": shapely.Polygon(
            [(cx - 0.03, cy), (cx, cy - 0.012), (cx + 0.025, cy + 0.002), (cx, cy + 0.014)]
        ),
    }[area_kind]
    new = built_up_share(res, iso, area=area)
    ref = _geos_share(res, iso, area=area)
    assert list(new) == list(ref)
    for level in ref:
        assert 0.05 < ref[level]["share"] < 0.999
        assert abs(new[level]["share"] - ref[level]["share"]) <= 0.005, level
        # the areas themselves agree to within 1% (GEOS's 16-sided ends are a little smaller)
        for k in ("built_up_km2", "within_km2"):
            assert new[level][k] == pytest.approx(ref[level][k], rel=0.01), (level, k)


def test_single_street_area_is_exact():
    # one 1 km street at 30 degrees: its 50 m buffer is a 1000 x 100 m rectangle and a disk
    ang = np.radians(30)
    xy = np.array([[0.0, 0.0], [1000 * np.cos(ang), 1000 * np.sin(ang)]])
    net = network_from_edges(xy, [(0, 1)])
    (x0, y0), (x1, y1) = net.geom_xy.min(axis=0), net.geom_xy.max(axis=0)
    rows = _builtup.Rows((x0 - 200, y0 - 200, x1 + 200, y1 + 200), _builtup.ROW_M)
    area = _builtup.measure(rows, [_builtup.corridor(net, 50.0, rows)])[0]
    length = float(np.hypot(*np.diff(net.geom_xy, axis=0)[0]))
    assert area == pytest.approx(2 * 50.0 * length + np.pi * 50.0**2, rel=0.003)
    # cut by a polygon with a hole: only the part inside counts
    ring = shapely.box(x0 - 200, y0 - 200, x0 + 500, y1 + 200)
    hole = shapely.box(x0 + 100, y0, x0 + 200, y0 + 300)
    poly = shapely.Polygon(ring.exterior.coords, [hole.exterior.coords])
    both = _builtup.measure(
        rows,
        [
            _builtup.corridor(net, 50.0, rows),
            _builtup.polygons(np.array([poly]), rows),
        ],
    )
    exact = shapely.intersection(
        shapely.buffer(shapely.LineString(net.geom_xy), 50.0, quad_segs=64), poly
    )
    assert both[1] == pytest.approx(exact.area, rel=0.003)
    assert both[1] < both[0]


def test_blocks_give_the_same_area(optics, monkeypatch):
    res = optics
    iso = res.isochrones(by="kind")
    whole = built_up_share(res, iso)
    monkeypatch.setattr(_builtup, "BLOCK", 5_000)
    assert built_up_share(res, iso) == whole
