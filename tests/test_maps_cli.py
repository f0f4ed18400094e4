"""`servicecircle map`: offline by default, --online opt-in, rejects.csv, PNG and background."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REAL_NETWORKS, need_shared

from geo.cli import main


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    osm = need_shared(REAL_NETWORKS["optics_valley"])
    d = tmp_path_factory.mktemp("mapcli")
    rng = np.random.default_rng(8)
    n = 30
    lon, lat = rng.uniform(114.505, 114.535, n), rng.uniform(30.478, 30.491, n)
    pd.DataFrame(
        {"name": [f"站{i}" for i in range(4)], "kind": "爱心驿站", "lon": lon[:4], "lat": lat[:4]}
    ).to_csv(d / "sites.csv", index=False)
    c = pd.DataFrame(
        {"name": [f"社区{i}" for i in range(n - 4)], "population": 1000,
         "lon": lon[4:], "lat": lat[4:]}
    )  # fmt: skip
    c["lon"] = c["lon"].astype(object)
    c.loc[0, "lon"] = "not a number"  # one bad row -> rejects.csv
    c.to_csv(d / "communities.csv", index=False)
    args = ["--network", str(osm), "--sites", str(d / "sites.csv"), "--communities"]
    args += [str(d / "communities.csv"), "--cache-dir", str(d / "cache")]
    return d, args


def test_map_is_offline_by_default_and_writes_rejects(inputs, capsys):
    d, args = inputs
    out = d / "m" / "map.html"
    out.parent.mkdir()
    assert main(["map", *args, "--out", str(out), "--png", str(d / "m" / "map.png")]) == 0
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", page)
    rej = pd.read_csv(d / "m" / "rejects.csv", encoding="utf-8-sig")
    assert len(rej) >= 1
    assert "rejects.csv" in capsys.readouterr().out
    assert (d / "m" / "map.png").stat().st_size > 50_000
    data = re.search(r'id="sc-data">(.*?)</script>', page, re.S).group(1)
    ids = [x["id"] for x in json.loads(data)["layers"]]
    assert "bg_water" in ids and "labels" in ids  # the OSM file's own background
    # --offline is still accepted (a no-op)
    assert main(["map", *args, "--offline", "--out", str(d / "m" / "map2.html")]) == 0


def test_online_map_needs_the_flag(inputs):
    d, args = inputs
    out = d / "online.html"
    assert main(["map", *args, "--online", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org" in page and re.search(r'<script[^>]+src="https://', page)


def test_background_file_is_drawn(inputs, tmp_path):
    import geopandas as gpd
    import shapely

    d, args = inputs
    lake = tmp_path / "lake.geojson"
    gpd.GeoDataFrame(
        {"name": ["测试湖"]}, geometry=[shapely.box(114.51, 30.48, 114.515, 30.485)], crs=4326
    ).to_file(lake, driver="GeoJSON")
    out = tmp_path / "bg.html"
    assert main(["map", *args, "--background", str(lake), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="sc-data">(.*?)</script>', page, re.S).group(1))
    labels = next(x for x in data["layers"] if x["id"] == "labels")
    assert "测试湖" in [f["properties"]["text"] for f in labels["data"]["features"]]
