"""The change map: communities gained (green) and lost (red), sites added, moved and closed.
Imported only when a map is written (it loads folium)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from ..maps import escape_text, save_map
from ._tables import CHANGE_ZH

if TYPE_CHECKING:
    from ._result import CompareResult


def write_change_map(cmp: CompareResult, path: Path, *, lang: str = "zh") -> Path:
    """compare_map.html: :func:`change_map` saved as one offline file."""
    save_map(change_map(cmp, lang=lang), path)
    return path


#: At most this many streets (the longest) are drawn as the map's background.
MAX_STREETS = 60_000
#: Edge-by-edge simplification of the background streets, in degrees (about 3 m).
STREET_SIMPLIFY_DEG = 0.00003
#: Site change -> marker colour.
SITE_COLOURS = {"added": "#1a9850", "moved": "#3182bd", "closed": "#d73027"}


def change_map(cmp: CompareResult, *, lang: str = "zh"):
    """Communities gained (green) and lost (red), sites added, moved (old → new) and closed."""
    c = cmp.all_communities.dropna(subset=["lon", "lat"])
    centre = [float(c["lat"].mean()), float(c["lon"].mean())] if len(c) else [30.55, 114.3]
    m = folium.Map(
        location=centre, zoom_start=13, tiles=None, prefer_canvas=True, control_scale=False
    )
    _metric_scale(m)
    zh = lang == "zh"
    net = cmp.meta.get("network")
    if net is not None and net.n_edges:  # the streets as a light background (offline)
        _streets(m, net, zh)
    _communities(m, c, zh)
    for kind, col in SITE_COLOURS.items():
        sub = cmp.sites[cmp.sites["change"] == kind]
        if len(sub):
            _site_group(sub, kind, col, zh).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    _title(m, zh)
    if len(c):
        m.fit_bounds([[c["lat"].min(), c["lon"].min()], [c["lat"].max(), c["lon"].max()]])
    return m


def _streets(m: folium.Map, net, zh: bool) -> None:
    lines = net.edge_lines(projected=False)
    if lines.size > MAX_STREETS:
        lines = lines[np.argsort(-net.length)[:MAX_STREETS]]
    streets = gpd.GeoDataFrame(
        # simplified edge by edge: one simplify of a huge MultiLineString takes minutes
        geometry=[shapely.multilinestrings(shapely.simplify(lines, STREET_SIMPLIFY_DEG))],
        crs=4326,
    )
    folium.GeoJson(
        streets,
        name="道路网" if zh else "streets",
        style_function=lambda _f: {"color": "#9e9e9e", "weight": 1, "opacity": 0.7},
        interactive=False,
    ).add_to(m)


def _communities(m: folium.Map, c, zh: bool) -> None:
    """One layer each for unchanged, gained and lost communities (tooltip: name, walks)."""
    styles = {
        "": ("#bdbdbd", 3, "未变化" if zh else "unchanged"),
        "gained": ("#1a9850", 7, "新覆盖社区" if zh else "newly covered"),
        "lost": ("#d73027", 7, "失去覆盖社区" if zh else "lost coverage"),
    }
    for key, (col, r, name) in styles.items():
        sub = c[c["change"] == key]
        if not len(sub):
            continue
        g = gpd.GeoDataFrame(
            {
                "n": sub["name"].astype(str).map(escape_text).to_numpy(),
                "d": [
                    f"{_fmt_m(x)} → {_fmt_m(y)}"
                    for x, y in zip(
                        sub["walk_distance_m_before"], sub["walk_distance_m_after"], strict=True
                    )
                ],
            },
            geometry=shapely.points(sub["lon"].to_numpy(float), sub["lat"].to_numpy(float)),
            crs=4326,
        )
        folium.GeoJson(
            g,
            name=f"{name} ({len(sub)})",
            marker=folium.CircleMarker(
                radius=r, weight=1, color="#fff", fill=True, fill_opacity=0.9
            ),
            style_function=lambda _f, col=col: {"fillColor": col},
            tooltip=folium.GeoJsonTooltip(["n", "d"], labels=False),
        ).add_to(m)


def _site_group(sub, kind: str, col: str, zh: bool) -> folium.FeatureGroup:
    """The sites of one change kind; a moved site has a dashed line from its old place."""
    fg = folium.FeatureGroup(name=f"{CHANGE_ZH[kind] if zh else kind} ({len(sub)})")
    for r in sub.itertuples():
        at = (r.lat_before, r.lon_before) if kind == "closed" else (r.lat_after, r.lon_after)
        if kind == "moved":
            folium.PolyLine(
                [(r.lat_before, r.lon_before), (r.lat_after, r.lon_after)],
                color=col,
                weight=3,
                dash_array="6 4",
            ).add_to(fg)
        folium.CircleMarker(
            at,
            radius=9,
            color="#000" if kind != "closed" else col,
            weight=3,
            fill=True,
            fill_color=col if kind != "closed" else "#bdbdbd",
            fill_opacity=1.0,
            tooltip=folium.Tooltip(escape_text(f"{CHANGE_ZH[kind]} · {r.name}")),
        ).add_to(fg)
    return fg


def _title(m: folium.Map, zh: bool) -> None:
    """The legend line at the top left (a fixed text, escaped all the same)."""
    title = (
        "方案对比：社区 绿=新覆盖、红=失去覆盖、灰=未变化；站点 黑框绿=新增、蓝=移动（虚线自原址）、"
        "红圈=关闭"
        if zh
        else "Before/after: communities green gained, red lost, grey unchanged; sites "
        "black-ringed green added, blue moved (dashed from the old place), red ring closed"
    )
    m.get_root().html.add_child(
        Element(
            "<div style='position:fixed;z-index:9999;top:10px;left:55px;max-width:520px;"
            "background:#fff;"
            "padding:6px 10px;border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.4);"
            f"font:14px sans-serif'>{escape_text(title)}</div>"
        )
    )


def _metric_scale(m) -> None:
    """A scale bar in metres and kilometres only (folium's own also shows miles and feet)."""
    scale = MacroElement()
    scale._template = Template(  # a fixed template: no data reaches this script
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false, position: 'bottomleft'})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    m.add_child(scale)


def _fmt_m(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    return "—" if not np.isfinite(v) else f"{v:,.0f} m"
