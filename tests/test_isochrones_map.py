"""Isochrones on very large maps: simplified by a share of the map's extent, small maps as before."""

from __future__ import annotations

import numpy as np
import shapely

from geo.maps import _layers, _style


def _wiggly_ring(cx: float, cy: float, r_deg: float, n: int = 400) -> shapely.Polygon:
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = r_deg * (1 + 0.00005 * np.sin(37 * a))  # wiggles of about 0.5 m: below any tolerance
    return shapely.Polygon(np.column_stack([cx + rr * np.cos(a), cy + rr * np.sin(a)]))


def test_small_map_isochrones_unchanged():
    geoms = np.array([_wiggly_ring(114.3, 30.6, 0.01), _wiggly_ring(114.35, 30.62, 0.01)])
    out, decimals = _layers._simplify_large(geoms)
    assert out is geoms and decimals == _style.LINE_DECIMALS


def test_large_map_isochrones_simplified_by_extent():
    # two isochrones 1.4 degrees apart (about 135 km): tolerance 27 m instead of 15 m
    geoms = np.array([_wiggly_ring(113.6, 30.6, 0.01), _wiggly_ring(115.0, 30.6, 0.01)])
    extent = _style.extent_m(geoms)
    assert 120_000 < extent < 150_000
    tol = _style.display_tolerance_m(
        _style.ISOCHRONE_SIMPLIFY_M, extent, _style.ISOCHRONE_SIMPLIFY_PER_EXTENT
    )
    assert tol > _style.ISOCHRONE_SIMPLIFY_M
    out, decimals = _layers._simplify_large(geoms)
    assert decimals == _style.COARSE_DECIMALS
    assert shapely.is_valid(out).all()
    assert (shapely.get_num_coordinates(out) < shapely.get_num_coordinates(geoms) / 2).all()
    # the shape stays: a 1.1 km circle simplified by 27 m loses at most 2 x 27 / 1100 of its area
    assert np.allclose(shapely.area(out), shapely.area(geoms), rtol=2 * tol / 1100)


def test_large_map_street_tolerance():
    assert _style.display_tolerance_m(3.3, 10_000, _style.STREET_SIMPLIFY_PER_EXTENT) == 3.3
    assert _style.display_tolerance_m(3.3, 140_000, _style.STREET_SIMPLIFY_PER_EXTENT) == 14.0
