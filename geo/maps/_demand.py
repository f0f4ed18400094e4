"""Map layers for the demand views (issue 15): uncovered streets, workplaces, capacity (E2SFCA)
and communities counted in part. Called from :func:`geo.maps.make_map` when it is given
``views``; data goes in as GeoJSON properties (text escaped), never as script."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import shapely

if TYPE_CHECKING:
    from ..coverage import CoverageResult
    from ..coverage.views import DemandViews

_T = {
    "zh": {
        "uncovered_streets": "未覆盖道路（户外劳动者）",
        "street": "道路",
        "class": "等级",
        "length": "长度",
        "main_road": "主干道",
        "workplaces": "工作地（职工）",
        "employees": "职工人数",
        "walk": "步行距离",
        "covered": "覆盖",
        "yes": "是",
        "no": "否",
        "capacity_layer": "容量可达性（E2SFCA）",
        "site": "站点",
        "capacity": "容量",
        "ratio": "供需比（容量/人）",
        "overloaded": "超负荷站点",
        "underserved": "服务不足社区",
        "index": "可达性指数（1=平均）",
        "share_layer": "社区覆盖比例（按面积）",
        "share": "覆盖人口比例",
        "m": "米",
    },
    "en": {
        "uncovered_streets": "Uncovered streets (outdoor workers)",
        "street": "Street",
        "class": "Class",
        "length": "Length",
        "main_road": "main road",
        "workplaces": "Workplaces (employees)",
        "employees": "Employees",
        "walk": "Walk",
        "covered": "Covered",
        "yes": "yes",
        "no": "no",
        "capacity_layer": "Capacity access (E2SFCA)",
        "site": "Site",
        "capacity": "Capacity",
        "ratio": "Supply per person",
        "overloaded": "Overloaded site",
        "underserved": "Underserved community",
        "index": "Access index (1 = average)",
        "share_layer": "Community covered share (by area)",
        "share": "Covered share of people",
        "m": "m",
    },
}


def _t(lang: str, key: str) -> str:
    return _T.get(lang, _T["en"])[key]


def add_demand_layers(
    m: folium.Map, res: CoverageResult, views: DemandViews, *, gcj: bool, lang: str
) -> None:
    """Add one layer per demand view that has something to show."""
    if views.streets is not None and len(views.streets.uncovered):
        _uncovered_streets(m, views, gcj, lang)
    if views.workplaces is not None and len(views.workplaces.communities):
        _workplaces(m, views.workplaces, gcj, lang)
    if views.access is not None:
        _capacity(m, res, gcj, lang)
    if views.partial is not None:
        _shares(m, res, gcj, lang)
    _legend(m, views, lang)


_LEGEND = {
    "zh": {
        "title": "需求视角",
        "street": "未覆盖道路（粗线：主干道）",
        "wp_in": "工作地（已覆盖）",
        "wp_out": "工作地（未覆盖）",
        "over": "站点容量圈（红：超负荷，绿：正常）",
        "under": "服务不足社区（E2SFCA）",
        "share": "社区面：≥50%人口覆盖为已覆盖",
    },
    "en": {
        "title": "Demand views",
        "street": "Uncovered street (thick: main road)",
        "wp_in": "Workplace (covered)",
        "wp_out": "Workplace (uncovered)",
        "over": "Site capacity ring (red: overloaded, green: ok)",
        "under": "Underserved community (E2SFCA)",
        "share": "Community area: covered when >= 50% of people are",
    },
}


def _legend(m, views, lang):
    """A static legend for the demand layers (fixed labels only, no data text)."""
    from branca.element import Element

    t = _LEGEND.get(lang, _LEGEND["en"])
    rows = []
    if views.streets is not None:
        rows.append(
            f"<div><span style='display:inline-block;width:18px;height:4px;"
            f"background:#c2185b;vertical-align:middle;margin-right:6px'></span>{t['street']}</div>"
        )
    if views.workplaces is not None:
        dot = "display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;border:2px solid #6a1b9a;vertical-align:middle"
        rows.append(f"<div><span style='{dot};background:#6a1b9a'></span>{t['wp_in']}</div>")
        rows.append(f"<div><span style='{dot};background:#fff'></span>{t['wp_out']}</div>")
    if views.access is not None:
        ring = "display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:middle"
        rows.append(f"<div><span style='{ring};border:3px solid #d50000'></span>{t['over']}</div>")
        rows.append(
            f"<div><span style='{ring};border:2px dashed #ff6f00'></span>{t['under']}</div>"
        )
    if views.partial is not None:
        rows.append(
            f"<div><span style='display:inline-block;width:11px;height:11px;background:#91cf60;"
            f"margin-right:6px;vertical-align:middle'></span>{t['share']}</div>"
        )
    if not rows:
        return
    html = (
        "<div id='sc-demand-legend' class='sc-panel' style='bottom:25px;left:165px'>"
        f"<div style='font-weight:bold'>{t['title']}</div>{''.join(rows)}</div>"
    )
    m.get_root().html.add_child(Element(html))


def _uncovered_streets(m, views, gcj, lang):
    from . import _esc, _fmt, _shift

    u = views.streets.uncovered
    main = u["main_road"].to_numpy(bool)
    g = gpd.GeoDataFrame(
        {
            _t(lang, "street"): u["name"].map(_esc),
            _t(lang, "class"): [
                f"{_esc(h)}{' · ' + _t(lang, 'main_road') if mr else ''}"
                for h, mr in zip(u["highway"], main, strict=True)
            ],
            _t(lang, "length"): [f"{_fmt(x)} {_t(lang, 'm')}" for x in u["length_m"]],
            "_w": np.where(main, 5, 2.5),
        },
        geometry=_shift(shapely.simplify(u.geometry.to_numpy(), 0.00002), gcj),
        crs=4326,
    )
    fields = [c for c in g.columns if c not in ("_w", "geometry")]
    folium.GeoJson(
        g,
        name=f"{_t(lang, 'uncovered_streets')}: {u['length_m'].sum() / 1000:,.1f} km "
        f"({_t(lang, 'main_road')} {u.loc[main, 'length_m'].sum() / 1000:,.1f} km)",
        style_function=lambda f: {
            "color": "#c2185b",
            "weight": f["properties"]["_w"],
            "opacity": 0.85,
        },
        tooltip=folium.GeoJsonTooltip(fields),
    ).add_to(m)


def _workplaces(m, wres, gcj, lang):
    from . import _esc, _fmt, _shift

    c = wres.communities
    pts = np.asarray(c.geometry.to_numpy())
    pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
    cov = c["covered"].to_numpy(bool)
    g = gpd.GeoDataFrame(
        {
            _t(lang, "workplaces"): c["name"].map(_esc),
            _t(lang, "employees"): [_fmt(x) for x in c["population"]],
            _t(lang, "walk"): [f"{_fmt(x)} {_t(lang, 'm')}" for x in c["walk_distance_m"]],
            _t(lang, "covered"): np.where(cov, _t(lang, "yes"), _t(lang, "no")),
            "_c": np.where(cov, "#6a1b9a", "#ffffff"),
            "_r": np.clip(np.sqrt(c["population"].to_numpy(float)) / 4, 3, 12),
        },
        geometry=_shift(pts, gcj),
        crs=4326,
    )
    fields = [k for k in g.columns if not k.startswith("_") and k != "geometry"]
    folium.GeoJson(
        g,
        name=f"{_t(lang, 'workplaces')} ({int(cov.sum())} / {len(c)})",
        marker=folium.CircleMarker(radius=6, weight=2, fill=True),
        style_function=lambda f: {
            "fillColor": f["properties"]["_c"],
            "color": "#6a1b9a",
            "fillOpacity": 0.9,
            "radius": f["properties"]["_r"],
        },
        popup=folium.GeoJsonPopup(fields),
        tooltip=folium.GeoJsonTooltip(fields[:1], labels=False),
    ).add_to(m)


def _capacity(m, res, gcj, lang):
    from . import _esc, _fmt, _shift

    fg = folium.FeatureGroup(name=_t(lang, "capacity_layer"))
    s = res.sites
    has = np.isfinite(s["supply_demand_ratio"].to_numpy(float)) | (s["capacity"].to_numpy() > 0)
    s = s[has]
    over = s["overloaded"].to_numpy(bool)
    cap = s["capacity"].to_numpy(float)
    g = gpd.GeoDataFrame(
        {
            _t(lang, "site"): s["name"].map(_esc) if "name" in s else "",
            _t(lang, "capacity"): [_fmt(x) for x in cap],
            _t(lang, "ratio"): [_fmt(x, 4) for x in s["supply_demand_ratio"]],
            _t(lang, "overloaded"): np.where(over, _t(lang, "yes"), _t(lang, "no")),
            "_c": np.where(over, "#d50000", "#2e7d32"),
            "_w": np.where(over, 3.5, 1.2),
            "_r": np.clip(4 + np.sqrt(np.maximum(cap, 0)), 6, 22),
        },
        geometry=_shift(s.geometry.to_numpy(), gcj),
        crs=4326,
    )
    fields = [k for k in g.columns if not k.startswith("_") and k != "geometry"]
    folium.GeoJson(
        g,
        marker=folium.CircleMarker(radius=8, weight=3, fill=False),
        style_function=lambda f: {
            "color": f["properties"]["_c"],
            "radius": f["properties"]["_r"],
            "weight": f["properties"]["_w"],
            "fill": False,
        },
        tooltip=folium.GeoJsonTooltip(fields),
    ).add_to(fg)
    c = res.communities
    under = c["underserved"].to_numpy(bool) & ~c["off_network"].to_numpy(bool)
    if under.any():
        cu = c[under]
        pts = np.asarray(cu.geometry.to_numpy())
        pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
        gu = gpd.GeoDataFrame(
            {
                _t(lang, "underserved"): cu["name"].map(_esc),
                _t(lang, "index"): [_fmt(x, 2) for x in cu["e2sfca_index"]],
            },
            geometry=_shift(pts, gcj),
            crs=4326,
        )
        folium.GeoJson(
            gu,
            marker=folium.CircleMarker(radius=9, weight=2, fill=False, color="#ff6f00"),
            style_function=lambda _: {"color": "#ff6f00", "dashArray": "3 3", "fill": False},
            tooltip=folium.GeoJsonTooltip(list(gu.columns[:2])),
        ).add_to(fg)
    fg.add_to(m)


def _shares(m, res, gcj, lang):
    from . import _esc, _shift

    c = res.communities
    poly = np.isin(shapely.get_type_id(c.geometry.to_numpy()), [3, 6])
    if not poly.any():
        return
    cp = c[poly]
    share = cp["covered_share"].to_numpy(float)
    colour = np.select(
        [share >= 0.999, share >= 0.5, share > 0], ["#1a9850", "#91cf60", "#fc8d59"], "#d73027"
    )
    g = gpd.GeoDataFrame(
        {
            _t(lang, "share_layer"): cp["name"].map(_esc),
            _t(lang, "share"): [f"{100 * x:.0f}%" for x in share],
            "_c": colour,
        },
        geometry=_shift(shapely.simplify(cp.geometry.to_numpy(), 0.00002), gcj),
        crs=4326,
    )
    folium.GeoJson(
        g,
        name=_t(lang, "share_layer"),
        style_function=lambda f: {
            "color": f["properties"]["_c"],
            "fillColor": f["properties"]["_c"],
            "weight": 1,
            "fillOpacity": 0.25,
        },
        tooltip=folium.GeoJsonTooltip([k for k in g.columns if not k.startswith("_")][:2]),
    ).add_to(m)
