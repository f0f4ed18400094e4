"""Interactive HTML maps for meetings (folium/Leaflet), offline by default.

:func:`make_map` draws a coverage run: one layer per site kind, isochrones per level,
communities coloured by walk time, proposed gap sites, county boundaries, a legend, a layer
control, a title and a summary box. Every piece of user text is HTML-escaped.
:func:`save_map` writes it, with Leaflet inlined (``offline=True``) so it opens with no network.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element

from .. import crs as _crs
from ..io import atomic_path
from . import _scenario
from ._labels import kind_colour, label
from ._offline import inline_assets

if TYPE_CHECKING:
    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)

__all__ = ["BASEMAPS", "make_map", "save_map", "save_png", "walk_time_colour"]

#: Above this many sites, isochrones are drawn unioned per kind instead of one per site, so a
#: county map with thousands of sites stays small (a few MB) and quick to open.
MAX_SITE_ISOCHRONES = 300

Basemap = Literal["osm", "amap", "tianditu", "none"]
BASEMAPS: dict[str, dict[str, Any]] = {
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "© OpenStreetMap contributors",
        "gcj02": False,
    },
    "amap": {
        "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
        "&style=8&x={x}&y={y}&z={z}",
        "attr": "© 高德地图 AutoNavi",
        "subdomains": "1234",
        "gcj02": True,
    },
    "tianditu": {
        "tiles": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attr": "© 天地图 Tianditu",
        "subdomains": "01234567",
        "gcj02": False,
    },
}
#: Colours of the walk-time classes, nearest first; the last is "beyond every level".
CLASS_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
UNREACHABLE = "#7f7f7f"


def walk_classes(level_minutes: list[float]) -> list[tuple[float, str]]:
    """(upper bound in minutes, colour) for communities, from the run's levels."""
    mins = sorted(level_minutes)[: len(CLASS_COLOURS) - 1]
    cols = CLASS_COLOURS[: len(mins)] + [CLASS_COLOURS[-1]]
    return list(zip([*mins, np.inf], cols, strict=True))


def walk_time_colour(
    minutes: float, classes: list[tuple[float, str]], off_network: bool = False
) -> str:
    if off_network or not np.isfinite(minutes):
        return UNREACHABLE
    return next(c for lim, c in classes if minutes <= lim + 1e-9)


def _esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _fmt(x: Any, nd: int = 0) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _esc(x)
    return "—" if not np.isfinite(v) else f"{v:,.{nd}f}"


def _shift(geoms: np.ndarray, gcj: bool, precision: int = 6) -> np.ndarray:
    """Shift to GCJ-02 for Amap tiles if asked, and round coordinates to keep files small."""

    def fn(c: np.ndarray) -> np.ndarray:
        if gcj:
            c = np.column_stack(_crs.wgs84_to_gcj02(c[:, 0], c[:, 1]))
        return np.round(c, precision)

    return shapely.transform(geoms, fn)


def _popup(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{k}</th><td>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table style='font-size:12px'>{body}</table>"


def make_map(
    res: CoverageResult,
    *,
    lang: str = "zh",
    basemap: Basemap = "osm",
    offline: bool = True,
    isochrones: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    summary_lines: list[str] | None = None,
    tianditu_key: str | None = None,
    max_street_edges: int = 60_000,
    views: Any = None,
    scenario: bool | None = False,
    input_crs: object = None,
) -> folium.Map:
    """Build the interactive map of a coverage run.

    Parameters
    ----------
    res
        The coverage result.
    lang
        ``"zh"`` (default) or ``"en"`` labels.
    basemap
        ``"osm"``, ``"amap"`` (GCJ-02 tiles: every overlay is shifted to GCJ-02 to line up),
        ``"tianditu"`` (needs ``tianditu_key`` or ``$TIANDITU_KEY``) or ``"none"``.
    offline
        Draw the street network and boundaries as a vector background that works with no
        network; tiles, if any, still show when reachable.
    isochrones
        Polygons from :meth:`CoverageResult.isochrones` (computed when omitted).
    proposals
        Proposed sites with ``rank`` and ``newly_covered_population`` (and ``lon``/``lat`` or
        point geometry).
    boundaries
        County boundaries (WGS84) with a ``county`` column.
    title, subtitle, summary_lines
        Page title and extra lines for the summary box (plain text; escaped).
    views
        Demand views (:func:`geo.coverage.views.demand_views`): adds their layers and lines.
    scenario
        What-if editor in the page (see :mod:`geo.maps._scenario`): True on, False off, None
        on when the map stays within the size budget (else the page says how to turn it on).
    input_crs
        The coordinate system of the input files (``wgs84``, ``gcj02``, ``bd09``), used for
        the scenario's CSV export.
    """
    import os

    if basemap not in ("osm", "amap", "tianditu", "none"):
        raise ValueError(f"basemap must be osm, amap, tianditu or none, not {basemap!r}")
    gcj = basemap == "amap"
    net = res.network
    comm = res.communities
    bounds = (
        comm.total_bounds
        if len(comm)
        else np.array([net.lon.min(), net.lat.min(), net.lon.max(), net.lat.max()])
    )
    centre = _shift(
        shapely.points([[(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2]]), gcj
    )[0]
    m = folium.Map(
        location=[centre.y, centre.x],
        zoom_start=14,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    if basemap != "none":
        spec = BASEMAPS[basemap]
        key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        if basemap == "tianditu" and not key:
            raise ValueError(
                "the Tianditu basemap needs a key: pass --tianditu-key or set "
                "TIANDITU_KEY (free from console.tianditu.gov.cn)"
            )
        kw = {"subdomains": spec["subdomains"]} if "subdomains" in spec else {}
        folium.TileLayer(
            spec["tiles"].replace("{key}", key),
            attr=spec["attr"],
            name=f"{label(lang, 'basemap')}: {basemap}",
            max_zoom=19,
            **kw,
        ).add_to(m)
        if "labels" in spec:
            folium.TileLayer(
                spec["labels"].replace("{key}", key),
                attr=spec["attr"],
                name="labels",
                overlay=True,
                **kw,
            ).add_to(m)
    scen = scenario is not False  # the scenario page draws streets from its own network
    if (offline or basemap == "none") and not scen:
        _add_streets(m, res, gcj, lang, max_street_edges)
    if boundaries is not None and len(boundaries):
        b = boundaries.to_crs(4326)
        g = gpd.GeoDataFrame(
            {"county": b["county"].map(_esc) if "county" in b else ""},
            geometry=_shift(shapely.simplify(b.geometry.to_numpy(), 0.0002), gcj),
            crs=4326,
        )
        folium.GeoJson(
            g,
            name=label(lang, "boundary"),
            style_function=lambda _: {
                "color": "#333",
                "weight": 2,
                "fill": False,
                "dashArray": "6 4",
            },
            tooltip=folium.GeoJsonTooltip(["county"], labels=False),
        ).add_to(m)
    big = len(res.sites) > MAX_SITE_ISOCHRONES
    if isochrones is None:
        main_only = {"minutes": [res.config.minutes]} if scen else {}  # keep within budget
        iso = (
            res.isochrones(by="kind", simplify_m=15.0, **main_only)
            if big
            else res.isochrones(**main_only)
        )
    else:
        iso = isochrones
    _add_isochrones(m, iso, gcj, lang, res.config.main_level)
    live = scen and _scenario.wants(m, res, scenario)
    if scen and not live and (offline or basemap == "none"):
        _add_streets(m, res, gcj, lang, max_street_edges)
    if not live:  # with scenario mode the page draws communities and sites itself
        _add_communities(m, res, gcj, lang)
        if big:
            _add_sites_layer(m, res, gcj, lang)
        else:
            _add_sites(m, res, gcj, lang)
    if proposals is not None and len(proposals):
        _add_proposals(m, proposals, gcj, lang)
    if views is not None:
        from ._demand import add_demand_layers

        add_demand_layers(m, res, views, gcj=gcj, lang=lang)
        summary_lines = [*(summary_lines or []), *views.lines(lang, res.config.main_level)]
    folium.LayerControl(collapsed=False).add_to(m)
    _add_panels(m, res, lang, title, subtitle, summary_lines)
    if scenario is not False:
        _scenario.add_scenario(m, res, on=live, lang=lang, gcj=gcj, input_crs=input_crs)
    sw = _shift(shapely.points([bounds[:2]]), gcj)[0]
    ne = _shift(shapely.points([bounds[2:]]), gcj)[0]
    m.fit_bounds([[sw.y, sw.x], [ne.y, ne.x]])
    return m


def _add_streets(m, res, gcj, lang, max_edges):
    net = res.network
    lines = net.edge_lines(projected=False)
    if lines.size > max_edges:  # keep the longest streets
        lines = lines[np.argsort(-net.length)[:max_edges]]
    merged = shapely.multilinestrings(shapely.simplify(lines, 0.00003))  # per edge: 300x faster
    g = gpd.GeoDataFrame(geometry=_shift(np.array([merged]), gcj, 5), crs=4326)
    folium.GeoJson(
        g,
        name=label(lang, "vector_basemap"),
        style_function=lambda _: {"color": "#9e9e9e", "weight": 1, "opacity": 0.7},
        interactive=False,
    ).add_to(m)


def _add_isochrones(m, iso, gcj, lang, main_level):
    if iso is None or not len(iso):
        return
    main = main_level
    for level in sorted(
        iso["level"].unique(), key=lambda s: float(re.sub(r"[^0-9.]", "", str(s)) or 0)
    ):
        sub = iso[iso["level"] == level]
        name = (
            f"{label(lang, 'isochrone')} {float(sub['minutes'].iloc[0]):g} {label(lang, 'minutes')}"
        )
        fg = folium.FeatureGroup(name=name, show=(level == main))
        g = gpd.GeoDataFrame(
            {"kind": sub["kind"].astype(str), "colour": [kind_colour(k) for k in sub["kind"]]},
            geometry=_shift(sub.geometry.to_numpy(), gcj),
            crs=4326,
        )
        folium.GeoJson(
            g,
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": 1,
                "fillOpacity": 0.07,
                "fillColor": f["properties"]["colour"],
            },
            interactive=False,
        ).add_to(fg)
        fg.add_to(m)


def _classes(res):
    cfg = res.config
    return walk_classes([lim / cfg.metres_per_minute for lim in cfg.levels.values()])


def _add_communities(m, res, gcj, lang):
    c = res.communities
    if not len(c):
        return
    pts = np.asarray(c.geometry.to_numpy())
    pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
    t = c["walk_time_min"].to_numpy(float)
    off = c["off_network"].to_numpy(bool)
    classes = _classes(res)
    colours = [walk_time_colour(a, classes, b) for a, b in zip(t, off, strict=True)]
    status = np.where(
        off,
        label(lang, "off_network"),
        np.where(c["covered"], label(lang, "covered"), label(lang, "uncovered")),
    )
    props = {
        label(lang, "name"): c["name"].map(_esc),
        label(lang, "population"): [_fmt(p) for p in c["population"]],
        label(lang, "walk_distance"): [
            f"{_fmt(d)} {label(lang, 'metres')}" for d in c["walk_distance_m"]
        ],
        label(lang, "walk_time"): [f"{_fmt(x, 1)} {label(lang, 'minutes')}" for x in t],
        label(lang, "nearest_site"): c["nearest_site_name"].map(_esc),
        label(lang, "covered"): status,
    }
    g = gpd.GeoDataFrame(
        {**props, "_c": colours, "_u": ~c["covered"].to_numpy(bool)},
        geometry=_shift(pts, gcj),
        crs=4326,
    )
    fields = list(props)
    folium.GeoJson(
        g,
        name=label(lang, "communities"),
        marker=folium.CircleMarker(radius=5, weight=1, fill=True, fill_opacity=0.85),
        style_function=lambda f: {
            "fillColor": f["properties"]["_c"],
            "color": "#000" if f["properties"]["_u"] else "#fff",
            "weight": 2 if f["properties"]["_u"] else 1,
        },
        popup=folium.GeoJsonPopup(fields),
        tooltip=folium.GeoJsonTooltip(fields[:1], labels=False),
    ).add_to(m)


def _add_sites(m, res, gcj, lang):
    s = res.sites
    if not len(s):
        return
    kinds = s["kind"].astype(str).to_numpy() if "kind" in s else np.full(len(s), "station")
    others = sorted(set(kinds))
    pts = _shift(s.geometry.to_numpy(), gcj)
    for kind in others:
        idx = np.flatnonzero(kinds == kind)
        fg = folium.FeatureGroup(name=f"{_esc(label(lang, kind))} ({idx.size})")
        colour = kind_colour(kind, others)
        for i in idx:
            r = s.iloc[i]
            rows = [
                (label(lang, "name"), _esc(r.get("name", ""))),
                (label(lang, "kind"), _esc(label(lang, kind))),
                (label(lang, "address"), _esc(r.get("address", ""))),
                (label(lang, "communities_covered"), _fmt(r.get("communities_served", 0))),
                (label(lang, "population"), _fmt(r.get("population_served", 0))),
            ]
            folium.CircleMarker(
                location=[pts[i].y, pts[i].x],
                radius=8,
                color="#fff",
                weight=2,
                fill=True,
                fill_color=colour,
                fill_opacity=1.0,
                popup=folium.Popup(_popup(rows), max_width=320),
                tooltip=folium.Tooltip(_esc(r.get("name", ""))),
            ).add_to(fg)
        fg.add_to(m)


def _add_sites_layer(m, res, gcj, lang):
    """Many sites: one GeoJSON layer per kind (far smaller than one marker object per site)."""
    s = res.sites
    kinds = s["kind"].astype(str).to_numpy() if "kind" in s else np.full(len(s), "station")
    others = sorted(set(kinds))
    pts = _shift(s.geometry.to_numpy(), gcj, 5)
    fields = [label(lang, "name"), label(lang, "kind"), label(lang, "population")]
    for kind in others:
        idx = np.flatnonzero(kinds == kind)
        sub = s.iloc[idx]
        g = gpd.GeoDataFrame(
            {
                fields[0]: sub.get("name", sub.index.astype(str)).map(_esc).to_numpy(),
                fields[1]: _esc(label(lang, kind)),
                fields[2]: [_fmt(x) for x in sub.get("population_served", np.zeros(idx.size))],
            },
            geometry=pts[idx],
            crs=4326,
        )
        colour = kind_colour(kind, others)
        folium.GeoJson(
            g,
            name=f"{_esc(label(lang, kind))} ({idx.size})",
            marker=folium.CircleMarker(
                radius=6, color="#fff", weight=1.5, fill=True, fill_color=colour, fill_opacity=1.0
            ),
            style_function=lambda _f, c=colour: {"fillColor": c},
            popup=folium.GeoJsonPopup(fields),
            tooltip=folium.GeoJsonTooltip(fields[:1], labels=False),
        ).add_to(m)


def _add_proposals(m, prop, gcj, lang):
    p = prop.to_crs(4326) if isinstance(prop, gpd.GeoDataFrame) and prop.crs else prop
    pts = _shift(np.asarray(p.geometry.to_numpy()), gcj)
    fg = folium.FeatureGroup(name=label(lang, "proposed"))
    for i in range(len(p)):
        r = p.iloc[i]
        rank = int(r.get("rank", i + 1))
        rows = [
            (label(lang, "rank"), str(rank)),
            (label(lang, "name"), _esc(r.get("name", ""))),
            (label(lang, "gain"), _fmt(r.get("newly_covered_population", np.nan))),
        ]
        icon = folium.DivIcon(
            html=f"<div class='sc-prop'>{rank}</div>", icon_size=(22, 22), icon_anchor=(11, 11)
        )
        folium.Marker(
            [pts[i].y, pts[i].x],
            icon=icon,
            popup=folium.Popup(_popup(rows), max_width=320),
            tooltip=folium.Tooltip(f"{label(lang, 'proposed')} #{rank}"),
        ).add_to(fg)
    fg.add_to(m)


def _add_panels(m, res, lang, title, subtitle, summary_lines):
    s = res.summary
    title = title or label(lang, "title")
    lines = [
        f"{label(lang, 'coverage')}: {100 * s.get('population_covered_share', 0):.1f}% "
        f"({_fmt(s.get('population_covered'))} / {_fmt(s.get('population'))})",
        f"{label(lang, 'communities_covered')}: {s.get('communities_covered')} / "
        f"{s.get('communities')}",
        f"{label(lang, 'sites')}: {s.get('sites')}",
    ]
    lines += list(summary_lines or [])
    body = "".join(f"<div>{_esc(x)}</div>" for x in lines)
    sub = f"<div style='font-size:12px;color:#a00'>{_esc(subtitle)}</div>" if subtitle else ""
    legend_rows = "".join(
        f"<div><span class='sc-dot' style='background:{kind_colour(k)}'></span>"
        f"{_esc(label(lang, k))}</div>"
        for k in ("station", "integrated", "cultural_palace", "partner")
    )
    prev = 0
    for lim, col in _classes(res):
        txt = f"{prev:g}–{lim:g}" if np.isfinite(lim) else f"&gt; {prev:g}"
        legend_rows += (
            f"<div><span class='sc-sq' style='background:{col}'></span>"
            f"{label(lang, 'community')} {txt} {label(lang, 'minutes')}</div>"
        )
        prev = lim if np.isfinite(lim) else prev
    legend_rows += (
        f"<div><span class='sc-sq' style='background:{UNREACHABLE}'></span>"
        f"{_esc(label(lang, 'off_network'))} / {_esc(label(lang, 'unreachable'))}"
        f"</div><div><span class='sc-prop' style='display:inline-block'>1</span> "
        f"{_esc(label(lang, 'proposed'))}</div>"
    )
    css = """<style>
.sc-panel{position:fixed;z-index:9999;background:rgba(255,255,255,.93);padding:8px 10px;
 border-radius:6px;box-shadow:0 1px 5px rgba(0,0,0,.4);font:13px/1.5 "Microsoft YaHei",
 "PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif}
.sc-dot{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:6px;
 border:1px solid #fff;vertical-align:middle}
.sc-sq{display:inline-block;width:11px;height:11px;margin-right:6px;vertical-align:middle}
.sc-prop{width:20px;height:20px;border-radius:50%;background:#000;color:#ffeb3b;
 font:bold 12px/20px sans-serif;text-align:center;border:2px solid #ffeb3b}
</style>"""
    panel = (
        f"{css}<div id='sc-title' class='sc-panel' style='top:10px;left:55px;max-width:420px'>"
        f"<div style='font-size:16px;font-weight:bold'>{_esc(title)}</div>{sub}{body}</div>"
        f"<div id='sc-legend' class='sc-panel' style='bottom:25px;left:10px'>"
        f"<div style='font-weight:bold'>{_esc(label(lang, 'legend'))}</div>{legend_rows}"
        f"</div>"
    )
    m.get_root().html.add_child(Element(panel))
    m.get_root().header.add_child(Element(f"<title>{_esc(title)}</title>"))


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> dict[str, Any]:
    """Write the map as one HTML file (atomically); with ``offline``, Leaflet is inlined.

    Returns
    -------
    dict
        ``path`` and ``size_bytes``.
    """
    page = m.get_root().render()
    if offline:
        page = inline_assets(page)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    size = Path(path).stat().st_size
    logger.info("wrote map %s (%.1f MB)", path, size / 1e6)
    return {"path": str(path), "size_bytes": size}


def save_png(*args, **kwargs):
    """A static PNG of the map; see :func:`geo.maps._png.save_png`."""
    from ._png import save_png as _save

    return _save(*args, **kwargs)
