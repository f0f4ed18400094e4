"""map.png in two steps (geo.maps._png.PngDraft, issue 13): the maps' child of ``coverage``
draws everything but the walking areas, the title and the summary box while this process
computes the isochrones, and finishes once they exist. The finished file must be the picture
one draw of the whole figure gives, pixel for pixel, and the PNG writer must round-trip."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network
from PIL import Image

from geo import _maps_job
from geo.config import Config
from geo.coverage import compute_coverage
from geo.maps import make_map, save_png
from geo.maps._png import PngDraft
from geo.maps._pngfile import write_png

_PASSED = ("lang", "proposals", "boundaries", "background", "site_in_area")


def _run():
    """A small run with every layer of the PNG: background fills, lines and named places
    (white halos), a boundary, walking areas of two kinds, communities, proposals."""
    net = grid_network(10, 100.0, seed=4)
    lon, lat = net.lon, net.lat
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B", "C"], "kind": ["station", "integrated", "station"]},
        geometry=shapely.points(lon[[11, 77, 40]], lat[[11, 77, 40]]),
        crs=4326,
    )
    comms = gpd.GeoDataFrame(
        {"population": [10, 20, 30, 40]},
        geometry=shapely.points(lon[[5, 50, 95, 99]], lat[[5, 50, 95, 99]]),
        crs=4326,
    )
    res = compute_coverage(net, sites, comms, config=Config(minutes=5, use_cache=False))
    x0, y0, x1, y1 = lon.min(), lat.min(), lon.max(), lat.max()
    dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
    background = gpd.GeoDataFrame(
        {"bg": ["water", "park", "rail", "place"], "name": ["湖", "Puisto", "", "Keskusta"]},
        geometry=[
            shapely.box(x0, y0, x0 + dx, y0 + dy),
            shapely.box(x1 - dx, y1 - dy, x1, y1),
            shapely.LineString([(x0, y1), (x1, y0)]),
            shapely.Point(x0 + 2 * dx, y0 + 2 * dy),
        ],
        crs=4326,
    )
    boundaries = gpd.GeoDataFrame(
        {"county": ["某区"]}, geometry=[shapely.box(x0, y0, x1, y1)], crs=4326
    )
    proposals = gpd.GeoDataFrame(
        {"rank": [1, 2], "newly_covered_population": [40, 10]},
        geometry=shapely.points(lon[[99, 90]], lat[[99, 90]]),
        crs=4326,
    )
    m = make_map(res, background=background, boundaries=boundaries, proposals=proposals)
    return res, m._sc_png


def _draw_at_once(draft: PngDraft, path) -> None:
    """The draft's finished figure drawn again by one matplotlib ``savefig`` (with the fonts
    the draft drew with)."""
    import matplotlib

    with matplotlib.rc_context(draft._rc):
        draft._fig.savefig(path)


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_the_draft_finishes_as_one_draw_of_the_whole_figure(tmp_path):
    res, kw = _run()
    draft = PngDraft(res, **{k: kw[k] for k in _PASSED}, tiles=False)
    assert draft._below is not None  # the layers below the walking areas are pixels already
    info = draft.finish(tmp_path / "a.png", kw["isochrones"], title=kw["title"],
                        summary=kw["summary"])  # fmt: skip
    assert info["size_bytes"] == (tmp_path / "a.png").stat().st_size and not info["tiles"]
    _draw_at_once(draft, tmp_path / "one.png")
    a, one = _pixels(tmp_path / "a.png"), _pixels(tmp_path / "one.png")
    assert a.shape == one.shape == (1500, 1500, 4)
    assert np.array_equal(a, one)
    assert len(np.unique(a.reshape(-1, 4), axis=0)) > 100  # streets, tints, texts: a picture
    # without a draft (save_png, and coverage when it cannot fork): the same file
    save_png(res, tmp_path / "b.png", **kw, tiles=False)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    with pytest.raises(RuntimeError, match="already called"):
        draft.finish(tmp_path / "c.png", kw["isochrones"])


def test_the_draft_without_walking_areas_leaves_them_out(tmp_path):
    res, kw = _run()
    draft = PngDraft(res, **{k: kw[k] for k in _PASSED}, tiles=False)
    draft._fig.canvas.draw()  # whatever was drawn on the canvas meanwhile is drawn over
    draft.finish(tmp_path / "a.png", kw["isochrones"].iloc[:0], title=kw["title"])
    _draw_at_once(draft, tmp_path / "one.png")
    assert np.array_equal(_pixels(tmp_path / "a.png"), _pixels(tmp_path / "one.png"))
    save_png(res, tmp_path / "b.png", **kw, tiles=False)
    assert not np.array_equal(_pixels(tmp_path / "a.png"), _pixels(tmp_path / "b.png"))


@pytest.mark.parametrize("scenario", [None, False])
def test_maps_job_finishes_what_it_prepared(tmp_path, monkeypatch, scenario):
    """What the forked maps child does (prepare, then write once the isochrones come) gives
    the files written in one go; it finishes its PNG draft instead of drawing the PNG again,
    and in scenario mode (the page draws its own walking areas) it made the page before."""
    import geo.maps

    res, kw = _run()
    iso = kw["isochrones"]
    map_kwargs = {"lang": "zh", "background": kw["background"], "boundaries": kw["boundaries"],
                  "scenario": scenario}  # fmt: skip
    seq, par = tmp_path / "seq", tmp_path / "par"
    seq.mkdir()
    par.mkdir()

    def run(out):
        return {"res": res, "out": out, "map_kwargs": map_kwargs, "proposal": None, "views": None}

    done = _maps_job._Maps(run(seq)).write(iso)
    job = _maps_job._Maps(run(par))
    job.prepare()
    assert (job._page is not None) == (scenario is None)
    real_png, real_map = geo.maps.save_png, _maps_job._make_map

    def again(*a, **k):
        raise AssertionError("drawn again instead of finishing what was prepared")

    monkeypatch.setattr(geo.maps, "save_png", again)
    if scenario is None:
        monkeypatch.setattr(_maps_job, "_make_map", again)
    assert job.write(iso) == done
    assert (par / "map.png").read_bytes() == (seq / "map.png").read_bytes()
    ids = re.compile(rb"[0-9a-f]{32}")  # folium numbers its elements at random
    html = [ids.sub(b"x", (d / "map.html").read_bytes()) for d in (seq, par)]
    assert html[0] == html[1]
    # a draft drawn with other options than the map gives is not used
    monkeypatch.setattr(_maps_job, "_make_map", real_map)
    (par / "map.png").unlink()
    job = _maps_job._Maps(run(par))
    job.prepare()
    job._png[0]["lang"] = "en"
    with pytest.raises(AssertionError, match="drawn again"):
        job.write(iso)
    monkeypatch.setattr(geo.maps, "save_png", real_png)
    job.write(iso)
    assert (par / "map.png").read_bytes() == (seq / "map.png").read_bytes()


def test_png_writer_round_trips_pixels_dpi_and_software(tmp_path):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    rgba[:10] = (255, 255, 255, 255)  # flat and noisy parts
    write_png(tmp_path / "x.png", rgba, dpi=150, software="servicecircle test")
    im = Image.open(tmp_path / "x.png")
    assert im.mode == "RGBA" and im.size == (53, 37)
    assert np.array_equal(np.asarray(im), rgba)
    assert im.info["Software"] == "servicecircle test"
    assert im.info["dpi"] == pytest.approx((150, 150), abs=0.05)  # whole pixels per metre
    with pytest.raises(ValueError, match="rgba"):
        write_png(tmp_path / "y.png", rgba[..., :3], dpi=150)
