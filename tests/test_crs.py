"""GCJ-02 / BD-09 against published reference points, and round trips within 0.5 m."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import crs
from geo._errors import CRSError
from geo.network import haversine_m

# (wgs lon, wgs lat, gcj lon, gcj lat) published in eviltransform's test suite
EVILTRANSFORM = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM)
def test_wgs_to_gcj_matches_published(wlon, wlat, glon, glat):
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert haversine_m(lon, lat, glon, glat)[0] < 0.01
    back = crs.gcj02_to_wgs84(glon, glat)
    assert haversine_m(*back, wlon, wlat)[0] < 0.5


def test_coordtransform_published_points():
    # wandergis/coordtransform (also used by hutool and coordtransform_rs tests)
    lon, lat = crs.wgs84_to_gcj02(116.404, 39.915)
    assert (lon[0], lat[0]) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    lon, lat = crs.gcj02_to_bd09(116.404, 39.915)
    assert (lon[0], lat[0]) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)
    # the published BD-09 -> GCJ-02 result uses the usual approximate inverse: ours is exact,
    # and agrees with it to a few centimetres
    lon, lat = crs.bd09_to_gcj02(116.404, 39.915)
    assert haversine_m(lon, lat, 116.39762729119315, 39.90865673957631)[0] < 0.5
    # gcoord's GCJ-02 -> WGS84 reference
    lon, lat = crs.gcj02_to_wgs84(123, 45)
    assert haversine_m(lon, lat, 122.99395597, 44.99804071)[0] < 0.5


@settings(max_examples=200, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 53.0))
def test_round_trips_within_half_a_metre(lon, lat):
    g = crs.wgs84_to_gcj02(lon, lat)
    w = crs.gcj02_to_wgs84(*g)
    assert haversine_m(*w, lon, lat)[0] < 0.5
    b = crs.wgs84_to_bd09(lon, lat)
    w2 = crs.bd09_to_wgs84(*b)
    assert haversine_m(*w2, lon, lat)[0] < 0.5


def test_outside_china_unchanged():
    lon, lat = crs.wgs84_to_gcj02([24.94, -74.0], [60.17, 40.7])
    assert np.allclose(lon, [24.94, -74.0]) and np.allclose(lat, [60.17, 40.7])


def test_utm_choice_and_parse():
    assert crs.utm_crs([114.3], [30.6]).to_epsg() == 32650  # Wuhan
    assert crs.utm_crs([121.5], [31.2]).to_epsg() == 32651  # Shanghai
    assert crs.parse_crs("Amap") == "gcj02"
    assert crs.parse_crs("EPSG:4326") == "wgs84"
    assert crs.parse_crs("EPSG:4490").to_epsg() == 4490
    with pytest.raises(CRSError, match="Fix: use wgs84"):
        crs.parse_crs("mars-ish")
