"""Road centre-line files (geo.network.read_lines): the field table, motorways, the noding
argument and CRS handling, on small generated files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo._errors import InputError, NetworkError
from geo.network import ProjectedWithoutCRS, read_lines


def _roads(tmp_path, columns: dict, name="roads.gpkg", crs=4326):
    lines = [
        shapely.LineString([(114.30, 30.60), (114.32, 30.60)]),
        shapely.LineString([(114.31, 30.59), (114.31, 30.61)]),
        shapely.LineString([(114.30, 30.62), (114.32, 30.62)]),
    ]
    p = tmp_path / name
    gpd.GeoDataFrame(columns, geometry=lines, crs=crs).to_file(p)
    return p


def test_chinese_name_and_class_columns_reach_every_edge(tmp_path):
    p = _roads(
        tmp_path,
        {"道路名称": ["解放大道", None, "中山路"], "道路等级": ["主干路", "支路", "快速路"]},
    )
    net = read_lines(p)
    # the 快速路 (expressway) is not walkable: the crossing pair is left, split at the crossing
    assert net.n_edges == 4
    assert set(net.edge_highway) == {"主干路", "支路"}
    by_class = {h: set(net.edge_name[net.edge_highway == h]) for h in set(net.edge_highway)}
    assert by_class == {"主干路": {"解放大道"}, "支路": {""}}  # a missing name is "", not "None"
    assert net.meta["lines_read"] == 3


def test_files_without_name_or_class_give_empty_text(tmp_path):
    net = read_lines(_roads(tmp_path, {"id": [1, 2, 3]}), noding="vertices")
    assert net.n_edges == 3
    assert (net.edge_name == "").all() and (net.edge_highway == "").all()


def test_only_motorways_is_an_error_naming_the_file(tmp_path):
    p = _roads(tmp_path, {"highway": ["motorway", "高速公路", "expressway"]})
    with pytest.raises(NetworkError, match="no usable road lines"):
        read_lines(p)


def test_unknown_noding_names_the_argument_before_reading(tmp_path):
    with pytest.raises(InputError) as err:
        read_lines(tmp_path / "absent.shp", noding="junctions")
    assert "noding" in str(err.value) and "crossings" in str(err.value)


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_projected_metres_without_prj_suggest_an_epsg(tmp_path):
    p = tmp_path / "m.shp"
    g = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(38_500_000, 3_390_000), (38_500_500, 3_390_000)])]
    )
    g.to_file(p)
    with pytest.raises(ProjectedWithoutCRS, match="EPSG"):
        read_lines(p)


def test_gcj02_override_moves_the_nodes_to_wgs84(tmp_path):
    p = _roads(tmp_path, {"id": [1, 2, 3]})
    plain, shifted = read_lines(p), read_lines(p, crs="gcj02")
    assert plain.n_nodes == shifted.n_nodes
    d = np.hypot(plain.lon - shifted.lon, plain.lat - shifted.lat)
    assert (d > 1e-3).all() and (d < 1e-2).all()  # a few hundred metres, as GCJ-02 shifts
