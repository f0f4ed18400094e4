"""Map layers for the demand views (issue 15): uncovered streets, workplaces, capacity (E2SFCA)
and communities counted in part.

Like every other layer, they go into the page as JSON (:mod:`geo.maps._payload`) and
``sc_map.js`` draws them and sets their text with ``textContent``: no script is built from data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ._layers import _num, shift
from ._layers import _str as _txt
from ._payload import feature_collection, layer_json, many_features

if TYPE_CHECKING:
    from ..coverage import CoverageResult
    from ..coverage.views import DemandViews

STREET = "#c2185b"
WORKPLACE = "#6a1b9a"
OVERLOADED = "#d50000"
NORMAL = "#2e7d32"
UNDERSERVED = "#ff6f00"

_T = {
    "zh": {
        "uncovered_streets": "未覆盖道路（户外劳动者）",
        "street": "道路",
        "class": "等级",
        "length": "长度",
        "main_road": "主干道",
        "workplaces": "工作地（职工）",
        "workplace": "工作地",
        "employees": "职工人数",
        "walk": "步行距离",
        "covered": "覆盖",
        "yes": "是",
        "no": "否",
        "capacity_layer": "站点容量（E2SFCA）",
        "underserved_layer": "服务不足社区（E2SFCA）",
        "site": "站点",
        "capacity": "容量",
        "ratio": "供需比（容量/人）",
        "overloaded": "超负荷",
        "underserved": "服务不足社区",
        "index": "可达性指数（1=平均）",
        "share_layer": "社区覆盖比例（按面积）",
        "community": "社区",
        "share": "覆盖人口比例",
        "m": "米",
        "lg_street": "未覆盖道路（粗线：主干道）",
        "lg_wp_in": "工作地（已覆盖）",
        "lg_wp_out": "工作地（未覆盖）",
        "lg_over": "超负荷站点（红圈；绿圈：正常）",
        "lg_under": "服务不足社区（橙色虚线圈）",
        "lg_share": "社区面：≥50%人口覆盖即为已覆盖",
    },
    "en": {
        "uncovered_streets": "Uncovered streets (outdoor workers)",
        "street": "Street",
        "class": "Class",
        "length": "Length",
        "main_road": "main road",
        "workplaces": "Workplaces (employees)",
        "workplace": "Workplace",
        "employees": "Employees",
        "walk": "Walk",
        "covered": "Covered",
        "yes": "yes",
        "no": "no",
        "capacity_layer": "Site capacity (E2SFCA)",
        "underserved_layer": "Underserved communities (E2SFCA)",
        "site": "Site",
        "capacity": "Capacity",
        "ratio": "Supply per person",
        "overloaded": "Overloaded",
        "underserved": "Underserved community",
        "index": "Access index (1 = average)",
        "share_layer": "Community covered share (by area)",
        "community": "Community",
        "share": "Covered share of people",
        "m": "m",
        "lg_street": "Uncovered street (thick: main road)",
        "lg_wp_in": "Workplace (covered)",
        "lg_wp_out": "Workplace (uncovered)",
        "lg_over": "Overloaded site (red ring; green: ok)",
        "lg_under": "Underserved community (orange dashed ring)",
        "lg_share": "Community area: covered when >= 50% of people are",
    },
}


def _t(lang: str, key: str) -> str:
    return _T.get(lang, _T["en"])[key]


def _points(geoms: np.ndarray) -> np.ndarray:
    g = np.asarray(geoms)
    return np.where(shapely.get_type_id(g) == 0, g, shapely.point_on_surface(g))


def demand_layers(
    res: CoverageResult, views: DemandViews, *, gcj: bool, lang: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """The demand views' map layers (JSON text) and their legend rows."""
    layers: list[str] = []
    legend: list[dict[str, Any]] = []
    if views.partial is not None:
        lay = _shares(res, gcj, lang)
        if lay:
            layers.append(lay)
            legend.append({"type": "sq", "colour": "#91cf60", "text": _t(lang, "lg_share")})
    if views.streets is not None and len(views.streets.uncovered):
        layers.append(_uncovered_streets(views, gcj, lang))
        legend.append(
            {"type": "line-sw", "border": STREET, "solid": True, "text": _t(lang, "lg_street")}
        )
    if views.workplaces is not None and len(views.workplaces.communities):
        layers.append(_workplaces(views.workplaces, gcj, lang))
        legend.append({"type": "dot", "colour": WORKPLACE, "text": _t(lang, "lg_wp_in")})
        legend.append(
            {"type": "dot", "colour": "#ffffff", "border": WORKPLACE, "text": _t(lang, "lg_wp_out")}
        )
    if views.access is not None:
        layers += _capacity(res, gcj, lang)
        legend.append(
            {"type": "dot", "colour": "#ffffff", "border": OVERLOADED, "text": _t(lang, "lg_over")}
        )
        legend.append(
            {
                "type": "dot",
                "colour": "#ffffff",
                "border": UNDERSERVED,
                "text": _t(lang, "lg_under"),
            }
        )
    return layers, legend


def _uncovered_streets(views: DemandViews, gcj: bool, lang: str) -> str:
    u = views.streets.uncovered
    main = u["main_road"].to_numpy(bool)
    cls = [
        f"{h}{' · ' + _t(lang, 'main_road') if mr else ''}"
        for h, mr in zip(_txt(u["highway"]), main, strict=True)
    ]
    km, main_km = u["length_m"].sum() / 1000, u.loc[main, "length_m"].sum() / 1000
    return layer_json(
        {
            "id": "uncovered_streets",
            "kind": "lines",
            "name": f"{_t(lang, 'uncovered_streets')}: {km:,.1f} km "
            f"({_t(lang, 'main_road')} {main_km:,.1f} km)",
            "interactive": True,
            "tooltip": "n",
            "fields": [
                ["n", _t(lang, "street")],
                ["c", _t(lang, "class")],
                ["l", _t(lang, "length")],
            ],
            "style": {"color": STREET, "opacity": 0.85, "weight": 2.5},
        },
        many_features(
            shift(shapely.simplify(u.geometry.to_numpy(), 0.00002), gcj, 6),
            {
                "n": _txt(u["name"]),
                "c": cls,
                "l": _metres(u["length_m"].to_numpy(float), _t(lang, "m")),
                "_w": np.where(main, 5.0, 2.5).tolist(),
            },
        ),
    )


def _metres(values: np.ndarray, unit: str) -> list[str]:
    """``f"{_num(x)} {unit}"`` for every value, without a call per value."""
    ok = np.isfinite(values)
    return [
        f"{x:,.0f} {unit}" if k else f"— {unit}" for x, k in zip(values.tolist(), ok, strict=True)
    ]


def _workplaces(wres: CoverageResult, gcj: bool, lang: str) -> str:
    c = wres.communities
    cov = c["covered"].to_numpy(bool)
    return layer_json(
        {
            "id": "workplaces",
            "kind": "points",
            "name": f"{_t(lang, 'workplaces')} ({int(cov.sum())} / {len(c)})",
            "interactive": True,
            "tooltip": "n",
            "fields": [
                ["n", _t(lang, "workplace")],
                ["e", _t(lang, "employees")],
                ["d", _t(lang, "walk")],
                ["v", _t(lang, "covered")],
            ],
            "style": {"color": WORKPLACE, "weight": 2, "fillOpacity": 0.9, "keepColor": True},
        },
        feature_collection(
            shift(_points(c.geometry.to_numpy()), gcj, 6),
            {
                "n": _txt(c["name"]),
                "e": [_num(x) for x in c["population"]],
                "d": [f"{_num(x)} {_t(lang, 'm')}" for x in c["walk_distance_m"]],
                "v": np.where(cov, _t(lang, "yes"), _t(lang, "no")).tolist(),
                "_c": np.where(cov, WORKPLACE, "#ffffff").tolist(),
                "_r": np.clip(np.sqrt(c["population"].to_numpy(float)) / 4, 3, 12).tolist(),
            },
        ),
    )


def _capacity(res: CoverageResult, gcj: bool, lang: str) -> list[str]:
    """The sites' capacity layer, then (when any) the underserved communities' layer."""
    under = _underserved(res, gcj, lang)
    return [_capacity_sites(res, gcj, lang)] + ([under] if under is not None else [])


def _capacity_sites(res: CoverageResult, gcj: bool, lang: str) -> str:
    s = res.sites
    cap = s["capacity"].to_numpy(float)
    ratio = s["supply_demand_ratio"].to_numpy(float)
    keep = np.isfinite(ratio) | (cap > 0)
    s, cap, ratio = s[keep], cap[keep], ratio[keep]
    over = s["overloaded"].to_numpy(bool)
    return layer_json(
        {
            "id": "capacity",
            "kind": "points",
            "name": f"{_t(lang, 'capacity_layer')} ({_t(lang, 'overloaded')} {int(over.sum())})",
            "interactive": True,
            "tooltip": "n",
            "fields": [
                ["n", _t(lang, "site")],
                ["k", _t(lang, "capacity")],
                ["r", _t(lang, "ratio")],
                ["o", _t(lang, "overloaded")],
            ],
            "style": {"fill": False, "opacity": 0.9},
        },
        feature_collection(
            shift(_points(s.geometry.to_numpy()), gcj, 6),
            {
                "n": _txt(s["name"]) if "name" in s else [""] * len(s),
                "k": [_num(x) for x in cap],
                "r": [_num(x, 4) for x in ratio],
                "o": np.where(over, _t(lang, "yes"), _t(lang, "no")).tolist(),
                "_e": np.where(over, OVERLOADED, NORMAL).tolist(),
                "_w": np.where(over, 3.5, 1.2).tolist(),
                "_r": np.clip(4 + np.sqrt(np.maximum(cap, 0)), 6, 22).tolist(),
            },
        ),
    )


def _underserved(res: CoverageResult, gcj: bool, lang: str) -> str | None:
    c = res.communities
    under = c["underserved"].to_numpy(bool) & ~c["off_network"].to_numpy(bool)
    if not under.any():
        return None
    cu = c[under]
    return layer_json(
        {
            "id": "underserved",
            "kind": "points",
            "name": f"{_t(lang, 'underserved_layer')} ({int(under.sum())})",
            "interactive": True,
            "tooltip": "n",
            "fields": [["n", _t(lang, "underserved")], ["i", _t(lang, "index")]],
            "style": {
                "fill": False,
                "color": UNDERSERVED,
                "dashArray": "3 3",
                "radius": 9,
                "weight": 2,
            },
        },
        feature_collection(
            shift(_points(cu.geometry.to_numpy()), gcj, 6),
            {"n": _txt(cu["name"]), "i": [_num(x, 2) for x in cu["e2sfca_index"]]},
        ),
    )


def _shares(res: CoverageResult, gcj: bool, lang: str) -> str | None:
    c = res.communities
    poly = np.isin(shapely.get_type_id(c.geometry.to_numpy()), [3, 6])
    if not poly.any():
        return None
    cp = c[poly]
    share = cp["covered_share"].to_numpy(float)
    colour = np.select(
        [share >= 0.999, share >= 0.5, share > 0], ["#1a9850", "#91cf60", "#fc8d59"], "#d73027"
    )
    return layer_json(
        {
            "id": "covered_share",
            "kind": "polygons",
            "name": _t(lang, "share_layer"),
            "interactive": True,
            "tooltip": "n",
            "fields": [["n", _t(lang, "community")], ["s", _t(lang, "share")]],
            "style": {"weight": 1, "fillOpacity": 0.25},
        },
        feature_collection(
            shift(shapely.simplify(cp.geometry.to_numpy(), 0.00002), gcj, 6),
            {
                "n": _txt(cp["name"]),
                "s": [f"{100 * x:.0f}%" for x in share],
                "_c": colour.tolist(),
            },
        ),
    )
