"""write_geojson: the same features as GDAL's GeoJSON driver, coordinates exact."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.io import write_geojson


def _frame() -> gpd.GeoDataFrame:
    ring = [(114.3, 30.5), (114.31, 30.5), (114.31, 30.51), (114.3, 30.51)]
    hole = [(114.302, 30.502), (114.304, 30.502), (114.304, 30.504)]
    poly = shapely.Polygon(ring, [hole])
    multi = shapely.MultiPolygon([poly, shapely.box(114.4, 30.6, 114.41 + 1 / 3, 30.61)])
    return gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "name": ["工人文化宫", None, "=1+1"],
            "minutes": [5.0, np.nan, np.inf],
            "n": [1, 2, 3],
            "ok": [True, False, True],
        },
        geometry=[poly, multi, None],
        crs=4326,
    )


def test_same_features_as_gdal_and_exact_coordinates(tmp_path):
    g = _frame()
    ours = write_geojson(g, tmp_path / "ours.geojson")
    g.to_file(tmp_path / "gdal.geojson", driver="GeoJSON")
    a = gpd.read_file(ours)
    b = gpd.read_file(tmp_path / "gdal.geojson")
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.crs == b.crs
    assert shapely.equals_identical(a.geometry.values[:2], g.geometry.values[:2]).all()
    assert a.geometry.iloc[2] is None and b.geometry.iloc[2] is None


def test_layer_name_from_file_not_temp_name(tmp_path):
    out = write_geojson(_frame(), tmp_path / "isochrones.geojson")
    assert '"name": "isochrones"' in out.read_text(encoding="utf-8")
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left


def test_other_crs_kept(tmp_path):
    g = _frame().to_crs(32650)
    out = write_geojson(g, tmp_path / "utm.geojson")
    back = gpd.read_file(out)
    assert back.crs.to_epsg() == 32650
