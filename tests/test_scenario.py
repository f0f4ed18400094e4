"""Scenario mode in the page without a browser: budget rule, encodings, data never as code."""

from __future__ import annotations

import json
import re

import numpy as np
from helpers import grid_network, random_points

from geo.config import Config
from geo.coverage import compute_coverage
from geo.maps import _scenario, make_map, save_map

XSS = "</script><script>alert(1)</script>"


def _res():
    net = grid_network(10, 100.0, seed=1)
    rng = np.random.default_rng(1)
    sites = random_points(net, 4, rng, kind=["station"] * 4, name=[XSS] * 4)
    comms = random_points(net, 30, rng, name=[XSS] * 30)
    return compute_coverage(net, sites, comms, config=Config(minutes=5))


def _data(page: str) -> dict:
    m = re.search(r"<script type='application/json' id='sc-scenario-data'>(.*?)</script>", page)
    assert m
    return json.loads(m.group(1))


def test_on_embeds_json_not_code(tmp_path):
    res = _res()
    path = tmp_path / "m.html"
    save_map(make_map(res, basemap="none", scenario=True), path)
    page = path.read_text(encoding="utf-8")
    assert XSS not in page and "<script>alert" not in page  # only escaped forms
    d = _data(page)
    assert d["communities"]["name"][0] == XSS  # intact as data
    assert d["network"]["n_edges"] == res.network.n_edges
    assert d["limit_m"] == res.config.limit_m and d["max_snap_m"] == res.config.max_snap_m


def test_auto_off_above_budget_says_how_to_turn_it_on(tmp_path, monkeypatch):
    res = _res()
    monkeypatch.setattr(_scenario, "SCENARIO_BUDGET_BYTES", 10_000)
    path = tmp_path / "m.html"
    save_map(make_map(res, basemap="none", scenario=None), path)
    d = _data(path.read_text(encoding="utf-8"))
    assert set(d) == {"notice"}
    assert "--scenario" in d["notice"] and "未开启" in d["notice"]
    monkeypatch.setattr(_scenario, "SCENARIO_BUDGET_BYTES", 50_000_000)
    save_map(make_map(res, basemap="none", scenario=None), path)
    assert "network" in _data(path.read_text(encoding="utf-8"))


def test_varints_round_trip():
    rng = np.random.default_rng(0)
    vals = np.concatenate([rng.integers(-(2**40), 2**40, 500), [0, -1, 1, 127, 128, -64]])
    z = _scenario.zigzag(vals)
    raw = np.frombuffer(_scenario.varint_bytes(z), np.uint8)
    out, p = [], 0
    while p < raw.size:
        v, sh = 0, 0
        while True:
            b = int(raw[p])
            p += 1
            v |= (b & 0x7F) << sh
            sh += 7
            if not b & 0x80:
                break
        out.append((v >> 1) ^ -(v & 1))
    assert out == vals.tolist()
