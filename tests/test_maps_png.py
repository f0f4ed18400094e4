"""The static PNG's building blocks: projection, union-by-winding fills, colours, labels."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pyproj import Transformer

from geo import schema
from geo.io import BUILTIN_KINDS
from geo.maps import escape_text, walk_classes, walk_time_colour
from geo.maps._labels import label
from geo.maps._png_layers import (
    community_colours,
    draw_isochrones,
    draw_polygons,
    line_xy,
    mercator,
    mercator_xy,
)


def test_mercator_matches_pyproj():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-179, 179, 500), rng.uniform(-80, 80, 500)
    x, y = mercator(lon, lat)
    ex, ey = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(x, ex, atol=1e-6)
    np.testing.assert_allclose(y, ey, atol=1e-6)
    xy = mercator_xy(np.array([[114.3, 30.5], [np.nan, np.nan], [114.4, 30.6]]))
    assert np.isnan(xy[1]).all()
    np.testing.assert_allclose(xy[2], mercator(114.4, 30.6))


def _render(polys, **style) -> np.ndarray:
    """Draw WGS84 polygons in a 0..10 degree square (shown in Web Mercator) at 100 x 100 px."""
    fig = Figure(figsize=(1, 1), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    (x0, x1), (y0, y1) = mercator([0, 10], [0, 10])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    draw_polygons(ax, np.asarray(polys, object), **style)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(int)


def _px(img: np.ndarray, lon: float, lat: float) -> np.ndarray:
    (x0, x), (y0, y) = mercator([0, lon], [0, lat])
    x1, y1 = mercator(10, 10)
    return img[int(100 * (1 - (y - y0) / (y1 - y0))), int(100 * (x - x0) / (x1 - x0))]


def test_overlapping_polygons_fill_once_and_holes_stay_open():
    """Per-site walking areas drawn as one path: the overlap is no darker than either area
    (their union's fill), a hole stays open unless another polygon covers it, and it does
    not depend on the rings' orientation in the input."""
    a = shapely.Polygon([(1, 1), (6, 1), (6, 6), (1, 6)], [[(2, 2), (3, 2), (3, 3), (2, 3)]])
    b = shapely.box(4, 4, 9, 9).reverse()  # opposite orientation to a's shell
    c = shapely.box(7.5, 1.5, 8.5, 2.5)
    img = _render([a, b, c], facecolor="blue", edgecolor="none", alpha=0.5)
    single, overlap = _px(img, 1.5, 1.5), _px(img, 5, 5)
    assert (single != 255).any()
    np.testing.assert_array_equal(single, overlap)
    np.testing.assert_array_equal(_px(img, 2.5, 2.5), [255, 255, 255])  # a's hole
    np.testing.assert_array_equal(_px(img, 8, 8), single)
    np.testing.assert_array_equal(_px(img, 8, 2), single)
    # a second polygon over a's hole fills it
    img = _render([a, shapely.box(2.2, 2.2, 2.8, 2.8)], facecolor="blue", alpha=0.5)
    np.testing.assert_array_equal(_px(img, 2.5, 2.5), single)


def test_line_xy_splits_lines_and_parts():
    lines = np.array(
        [
            shapely.LineString([(0, 0), (1, 1)]),
            shapely.MultiLineString([[(2, 2), (3, 3)], [(4, 4), (5, 5), (6, 6)]]),
        ],
        object,
    )
    xy = line_xy(lines)
    assert xy.shape == (9, 2)
    assert np.isnan(xy[[2, 5]]).all()
    assert np.isfinite(np.delete(xy, [2, 5], axis=0)).all()


def test_community_colours_equal_walk_time_colour():
    classes = walk_classes([3.0, 5.0, 10.0])
    minutes = np.array([0, 2.9, 3.0, 3.0 + 5e-10, 3.01, 5, 7, 10, 10.5, 99, np.inf, np.nan, 1])
    off = np.zeros(minutes.size, bool)
    off[-1] = True
    got = community_colours(minutes, off, classes)
    want = [walk_time_colour(m, classes, o) for m, o in zip(minutes, off, strict=True)]
    assert list(got) == want
    assert len(set(want)) == 5  # every class and the unreachable grey are exercised


def test_isochrones_draw_the_main_level_once_per_kind():
    fig = Figure()
    ax = fig.add_subplot()
    sq = [shapely.box(i, 0, i + 2, 2) for i in range(4)]
    iso = pd.DataFrame(
        {
            "kind": ["station", "station", "integrated", "station"],
            "level": ["5min", "5min", "5min", "10min"],
            "geometry": sq,
        }
    )
    draw_isochrones(ax, gpd.GeoDataFrame(iso, crs=4326), "5min")
    assert len(ax.patches) == 2  # station and integrated, 5 min only
    verts = sum(len(p.get_path().vertices) for p in ax.patches)
    assert verts == 3 * 5  # three squares, five vertices each (closed rings)
    ax2 = Figure().add_subplot()
    draw_isochrones(ax2, gpd.GeoDataFrame(iso, crs=4326), "15min")  # absent: the last level
    assert len(ax2.patches) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_kind_labels_come_from_the_registry(lang):
    i = 0 if lang == "zh" else 1
    for kind in BUILTIN_KINDS:
        assert label(lang, kind) == schema.VALUES["kind"][kind][i]
    assert label("zh", "integrated") == schema.display_value("kind", "integrated", "zh")


def test_escape_text_is_public_and_escapes_template_characters():
    s = escape_text("<b>`${x}`\\</b>")
    assert "<" not in s and "`" not in s and "$" not in s and "{" not in s and "\\" not in s
    assert escape_text(None) == ""


def test_png_reuses_the_maps_walking_areas_and_draws_them(tmp_path, monkeypatch):
    from helpers import grid_network
    from PIL import Image

    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.maps import make_map, save_png

    net = grid_network(10, 100.0, seed=4)
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B"], "kind": ["station", "integrated"]},
        geometry=shapely.points(net.lon[[11, 77]], net.lat[[11, 77]]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {"population": [10, 20, 30]},
        geometry=shapely.points(net.lon[[5, 50, 95]], net.lat[[5, 50, 95]]),
        crs=4326,
    )
    res = compute_coverage(net, sites, comms, config=Config(minutes=5))
    m = make_map(res)
    iso = m._sc_png["isochrones"]
    assert iso is not None and len(iso)

    def boom(*a, **k):
        raise AssertionError("the PNG computed the walking areas again")

    monkeypatch.setattr(type(res), "isochrones", boom)
    save_png(res, tmp_path / "a.png", **m._sc_png, tiles=False)
    save_png(res, tmp_path / "b.png", **{**m._sc_png, "isochrones": iso.iloc[:0]}, tiles=False)
    a = np.asarray(Image.open(tmp_path / "a.png").convert("RGB")).astype(int)
    b = np.asarray(Image.open(tmp_path / "b.png").convert("RGB")).astype(int)
    assert a.shape == b.shape
    assert (np.abs(a - b).sum(axis=-1) > 10).mean() > 0.05  # the tint covers a good part


def test_headings_ask_only_for_an_installed_weight(caplog):
    """WenQuanYi Micro Hei has no bold face: asking for one makes matplotlib print a findfont
    warning on the user's console (and draw the regular face anyway)."""
    import io
    import logging

    from matplotlib.figure import Figure

    from geo._fonts import cjk_font, heading_weight

    font = cjk_font()
    fig = Figure(figsize=(2, 1))
    fig.text(0.1, 0.5, "会站家 N", family=[font or "DejaVu Sans"], fontweight=heading_weight())
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        fig.savefig(io.BytesIO(), format="png")
    assert not [r for r in caplog.records if "Failed to find font weight" in r.getMessage()]
