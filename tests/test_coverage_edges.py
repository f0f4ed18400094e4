"""Defined results for awkward inputs to the coverage engine."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network, network_from_edges

from geo._errors import CRSError, InputError
from geo.config import Config
from geo.coverage import compute_coverage


@pytest.fixture
def net():
    return grid_network(8, 100.0, seed=1)


def _pts(lon, lat, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(lon, lat), crs=4326)


def test_site_on_an_island_reaches_only_its_island():
    # two separate streets 3 km apart; one site on each side; communities on the first street
    xy = np.array([[0, 0], [300, 0], [3000, 0], [3300, 0]], float)
    net = network_from_edges(xy, [(0, 1), (2, 3)])
    sites = _pts(net.lon[[0, 2]], net.lat[[0, 2]], site_id=["main", "island"])
    comms = _pts(net.lon[[1, 3]], net.lat[[1, 3]])
    res = compute_coverage(net, sites, comms)
    assert res.communities["nearest_site_id"].tolist() == ["main", "island"]
    island = _pts([net.lon[2]], [net.lat[2]], site_id=["island"])
    res = compute_coverage(net, island, comms)
    first = res.communities.iloc[0]
    assert np.isnan(first["walk_distance_m"]) and not first["covered"]
    assert first["nearest_site_id"] == ""
    assert res.summary["unreachable_communities"] == 1
    assert res.sites["communities_served"].tolist() == [1]


def test_no_sites_at_all(net):
    empty = gpd.GeoDataFrame({"site_id": []}, geometry=[], crs=4326)
    comms = _pts(net.lon[:5], net.lat[:5], population=[10] * 5)
    res = compute_coverage(net, empty, comms)
    assert not res.communities["covered"].any()
    assert res.communities["walk_distance_m"].isna().all()
    assert res.summary["population_covered"] == 0 and res.summary["sites"] == 0
    assert len(res.isochrones()) == 0


def test_all_communities_off_network(net):
    sites = _pts(net.lon[:2], net.lat[:2])
    far = _pts(net.lon[:3] + 0.05, net.lat[:3])  # ~5 km east
    res = compute_coverage(net, sites, far, config=Config(max_snap_m=500))
    assert res.communities["off_network"].all()
    assert not res.communities["covered"].any()
    assert (res.communities["snap_distance_m"] > 4000).all()
    assert res.summary["communities_off_network"] == 3


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf")])
def test_zero_or_negative_threshold_rejected(bad):
    with pytest.raises(InputError, match="minutes must be a positive number.*Fix:"):
        Config(minutes=bad)
    with pytest.raises(InputError, match="max_distance_m"):
        Config(max_distance_m=bad)


def test_nan_and_empty_geometry(net):
    sites = gpd.GeoDataFrame(
        {"site_id": ["a", "b"]}, geometry=[shapely.Point(net.lon[0], net.lat[0]), None], crs=4326
    )
    comms = gpd.GeoDataFrame(
        {"community_id": ["x", "y", "z"]},
        geometry=[shapely.Point(net.lon[9], net.lat[9]), None, shapely.Point()],
        crs=4326,
    )
    res = compute_coverage(net, sites, comms)
    c = res.communities.set_index("community_id")
    assert c.loc["x", "covered"]
    assert c.loc["y", "off_network"] and c.loc["z", "off_network"]
    assert not c.loc["y", "covered"] and np.isnan(c.loc["y", "walk_distance_m"])
    assert res.sites["off_network"].tolist() == [False, True]


def test_sites_and_communities_in_different_crs(net):
    sites = _pts(net.lon[:3], net.lat[:3], site_id=["a", "b", "c"])
    comms = _pts(net.lon[10:20], net.lat[10:20])
    base = compute_coverage(net, sites, comms)
    utm = compute_coverage(net, sites.to_crs(32650), comms.to_crs(3857))
    assert np.allclose(
        base.communities["walk_distance_m"], utm.communities["walk_distance_m"], atol=1e-6
    )
    with pytest.raises(CRSError, match="have no CRS.*Fix:"):
        compute_coverage(net, sites.set_crs(None, allow_override=True), comms)


def test_levels_and_speed(net):
    sites = _pts(net.lon[:1], net.lat[:1])
    comms = _pts(net.lon, net.lat)
    res = compute_coverage(net, sites, comms, config=Config(walk_speed_kmh=6.0))
    d = res.communities["walk_distance_m"].to_numpy()
    for m in (5, 10, 15):
        assert (res.communities[f"covered_{m}min"] == (d <= m * 100 + 1e-6)).all()
    by_dist = compute_coverage(net, sites, comms, config=Config(max_distance_m=250))
    assert list(by_dist.summary["levels"]) == ["250m"]
    assert (by_dist.communities["covered"] == (d <= 250 + 1e-6)).all()
    assert res.communities["walk_time_min"].iloc[5] == pytest.approx(d[5] / 100)


def test_catchments_load_and_redundancy(net):
    sites = _pts(net.lon[[0, 63]], net.lat[[0, 63]], site_id=["sw", "ne"])
    comms = _pts(net.lon, net.lat, population=np.arange(64) + 1.0)
    res = compute_coverage(net, sites, comms, config=Config(max_distance_m=450))
    c, s = res.communities, res.sites
    served = c[c["covered"]].groupby("nearest_site_id")["population"].sum()
    assert s.set_index("site_id")["population_served"].to_dict() == served.to_dict()
    # redundancy counts every site within the limit, so it is at least 1 where covered
    assert (c.loc[c["covered"], "sites_within_reach"] >= 1).all()
    assert (c.loc[~c["covered"], "sites_within_reach"] == 0).all()
    assert (s["population_within_reach"] >= s["population_served"]).all()


def test_isochrones_follow_streets_and_keep_holes():
    # a ring of streets around a 600 m block: the block's middle is unreachable
    xy = np.array([[0, 0], [600, 0], [600, 600], [0, 600]], float)
    net = network_from_edges(xy, [(0, 1), (1, 2), (2, 3), (3, 0)])
    sites = _pts(net.lon[:1], net.lat[:1], site_id=["a"], kind=["station"])
    res = compute_coverage(
        net,
        sites,
        sites.rename(columns={"site_id": "community_id"}),
        config=Config(max_distance_m=2000, street_buffer_m=50),
    )
    iso = res.isochrones(minutes=None).to_crs(res.network.metric_crs)
    poly = iso.geometry.iloc[0]
    assert len(poly.interiors) == 1  # the hole in the block is kept
    centre = shapely.Point(*res.network.xy.mean(axis=0))
    assert not poly.contains(centre)
    hull = res.isochrones(method="convex").to_crs(res.network.metric_crs).geometry.iloc[0]
    assert hull.contains(centre) and hull.area > 1.5 * poly.area
