"""``servicecircle audit --background FILE``: extra map background in every county map, as in
``coverage``; a changed background file redraws the maps instead of reusing the old result.

On the small generated inputs of tests/hostile_inputs.py (a street grid, three counties)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
import shapely
from hostile_inputs import audit_args, make_inputs

from geo.cli import main


def _labels(map_html) -> list[str]:
    page = map_html.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="sc-data">(.*?)</script>', page, re.S).group(1))
    layers = {x["id"]: x for x in data["layers"]}
    if "labels" not in layers:
        return []
    return [f["properties"]["text"] for f in layers["labels"]["data"]["features"]]


def _lakes(path, names: list[str], boxes: list) -> None:
    gpd.GeoDataFrame({"name": names}, geometry=boxes, crs=4326).to_file(path, driver="GeoJSON")


@pytest.fixture
def inputs(tmp_path):
    p = make_inputs(tmp_path / "in")
    c = gpd.read_file(p["boundaries"]).geometry.iloc[0].centroid
    near = shapely.box(c.x - 0.001, c.y - 0.001, c.x + 0.001, c.y + 0.001)
    far = shapely.box(c.x + 0.5, c.y, c.x + 0.501, c.y + 0.001)  # ~50 km away
    p["lakes"] = tmp_path / "lakes.geojson"
    _lakes(p["lakes"], ["近湖", "远湖"], [near, far])
    p["near"] = near
    return p


def _argv(p, out):
    argv = audit_args(p, out, "--workers", "1", "--background", str(p["lakes"]), "-q")
    argv.remove("--no-map")
    argv[argv.index("--all-counties")] = "--county"
    argv.insert(argv.index("--county") + 1, "甲区")
    return argv


def test_audit_map_draws_the_background_near_its_county(inputs, tmp_path):
    out = tmp_path / "out"
    assert main(_argv(inputs, out)) == 0
    (page,) = out.glob("counties/*/map.html")
    labels = _labels(page)
    assert "近湖" in labels
    assert "远湖" not in labels  # features far from the county stay out of its map
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_run"] == 1 and doc["counties_reused"] == 0

    assert main(_argv(inputs, out)) == 0  # same inputs and background: reused
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 1

    _lakes(inputs["lakes"], ["新湖"], [inputs["near"]])  # same path, new content
    assert main(_argv(inputs, out)) == 0
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 0
    assert "新湖" in _labels(next(out.glob("counties/*/map.html")))


def test_audit_without_background_draws_no_labels_from_it(inputs, tmp_path):
    out = tmp_path / "plain"
    argv = _argv(inputs, out)
    i = argv.index("--background")
    del argv[i : i + 2]
    assert main(argv) == 0
    (page,) = out.glob("counties/*/map.html")
    assert "近湖" not in _labels(page)
