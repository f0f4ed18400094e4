"""The county map reuses the audit's isochrones where it would draw the same polygons, and draws
exactly what it drew before (the same polygons, levels and layers)."""

from __future__ import annotations

import dataclasses
import re

import pytest
import shapely
from test_audit_row import task  # noqa: F401 (the module's fixture)

import geo.coverage.isochrones as iso_mod
import geo.maps._png_layers as png_layers
from geo.audit._county import compute_county, county_row
from geo.audit._write import write_map
from geo.config import MAX_SITE_ISOCHRONES
from geo.maps import main_minutes


def _spy(monkeypatch):
    seen: dict[str, list] = {"computed": [], "png": []}
    compute, draw = iso_mod.isochrones, png_layers.draw_isochrones

    def isochrones(res, **kw):
        seen["computed"].append(kw)
        return compute(res, **kw)

    def draw_isochrones(ax, iso, level=None):
        seen["png"].append(iso)
        return draw(ax, iso, level)

    monkeypatch.setattr(iso_mod, "isochrones", isochrones)
    monkeypatch.setattr(png_layers, "draw_isochrones", draw_isochrones)
    return seen


def _same_polygons(a, b) -> None:
    assert list(a["kind"]) == list(b["kind"]) and list(a["level"]) == list(b["level"])
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 1e-9).all()


def _iso_layers(html: str) -> list[str]:
    return sorted(set(re.findall(r'"id":"(iso_[^"]+)"', html)))


@pytest.mark.parametrize("scenario", [None, False])
def test_map_reuses_the_audits_isochrones(task, tmp_path, monkeypatch, scenario):  # noqa: F811
    t = dataclasses.replace(task, write_map=True, scenario=scenario, out_dir=str(tmp_path))
    result = compute_county(t)
    res = result.coverage
    assert len(result.isochrones) and len(res.sites) <= MAX_SITE_ISOCHRONES
    seen = _spy(monkeypatch)
    write_map(result, county_row(result), tmp_path)
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    (png_iso,) = seen["png"]
    if scenario is None:  # the what-if page: no isochrone layers, the PNG draws the audit's
        assert _iso_layers(html) == [] and "scenario" in html
        assert seen["computed"] == [] and png_iso is result.isochrones
        before = iso_mod.isochrones(res, minutes=main_minutes(res), by="kind")  # what it drew
        _same_polygons(png_iso, before)
    else:  # the static map draws every level per site, and the PNG those
        assert seen["computed"] == [{}]
        assert _iso_layers(html) == ["iso_10min", "iso_15min", "iso_5min"]
        assert set(png_iso["level"]) == {"5min", "10min", "15min"} and "site_id" in png_iso
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
