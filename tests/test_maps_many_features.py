"""The uncovered-streets layer's FeatureCollection (each distinct value encoded once) is the very
text of the generic :func:`geo.maps._payload.feature_collection`."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from conftest import REAL_NETWORKS, need_shared
from test_streets import _frames

from geo.config import Config
from geo.coverage import compute_coverage
from geo.coverage.views import demand_views
from geo.maps import _demand
from geo.maps._payload import feature_collection
from geo.network import build_network


def test_same_text_as_feature_collection_for_awkward_values():
    geoms = np.array(
        [shapely.Point(1, 2), None, shapely.LineString([(0, 0), (1, 1)]), shapely.Point(3, 4)] * 2,
        dtype=object,
    )
    props = {
        "n": ['a "quoted" 名', "</script>", None, "", "a", "a", "\u2028x", float("nan")],
        "v": [1, True, 1.0, 0.0, -0.0, np.float64(2.5), np.int64(7), float("inf")],
        "w": [np.nan, 1, 1, True, False, 0, None, "1"],
        "f": [1.5, float("nan"), np.nan, 2.5, 1.5, float("inf"), -float("inf"), 1e300],
        "s": ["路1", "x", "路1", "", '"', "\\", "路1", "y"],
    }
    assert _demand.many_features(geoms, props) == feature_collection(geoms, props)
    assert _demand.many_features(geoms[:0], {"n": []}) == feature_collection(geoms[:0], {"n": []})
    assert _demand.many_features(geoms, {}) == feature_collection(geoms, {})
    with pytest.raises(ValueError, match="'n'"):
        _demand.many_features(geoms, {"n": [1]})


def test_metres_text_as_before():
    vals = np.array([0.0, 12.34, 1234.5, 98765.4, np.nan, np.inf, -3.6])
    assert _demand._metres(vals, "米") == [f"{_demand._num(x)} 米" for x in vals]


def test_uncovered_streets_layer_on_real_streets():
    path = need_shared(REAL_NETWORKS["optics_valley"])
    cfg = Config(use_cache=False)
    net = build_network(path, config=cfg)
    sites, comms = _frames(net, np.random.default_rng(5), 4, 40)
    res, views = demand_views(compute_coverage(net, sites, comms, config=cfg), streets=True)
    u = views.streets.uncovered
    assert len(u) > 50
    for lang, gcj in (("zh", False), ("en", True)):
        text = _demand._uncovered_streets(views, gcj, lang)
        geoms = _demand.shift(shapely.simplify(u.geometry.to_numpy(), 0.00002), gcj, 6)
        props = {
            "n": _demand._txt(u["name"]),
            "c": [
                f"{h}{' · ' + _demand._t(lang, 'main_road') if m else ''}"
                for h, m in zip(_demand._txt(u["highway"]), u["main_road"], strict=True)
            ],
            "l": [f"{_demand._num(x)} {_demand._t(lang, 'm')}" for x in u["length_m"]],
            "_w": np.where(u["main_road"].to_numpy(bool), 5.0, 2.5).tolist(),
        }
        assert text.endswith(',"data":' + feature_collection(geoms, props) + "}")
