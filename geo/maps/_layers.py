"""The map's layers as JSON (see :mod:`geo.maps._payload`); drawn by ``sc_map.js``.

Background layers (streets, water, names) are in :mod:`._bglayers`, colours, tolerances and
formatters in :mod:`._style`; both are re-exported here for the map's modules."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from .. import schema
from ._bglayers import background, street_labels, streets
from ._labels import kind_colour, label
from ._payload import (
    feature_collection,
    hex_size_for,
    hexagons,
    hexbin,
    layer_json,
)
from ._style import (
    BOUNDARY_SIMPLIFY_M,
    COARSE_DECIMALS,
    ISOCHRONE_SIMPLIFY_M,
    ISOCHRONE_SIMPLIFY_PER_EXTENT,
    LINE_DECIMALS,
    METRES_PER_DEGREE,
    NEIGHBOUR_COLOUR,
    PARK,
    POINT_DECIMALS,
    UNREACHABLE_COLOUR,
    WATER,
    _num,
    _str,
    degrees,
    display_tolerance_m,
    extent_m,
    shift,
)
from ._text import text

__all__ = [
    "NEIGHBOUR_COLOUR",
    "PARK",
    "UNREACHABLE_COLOUR",
    "WATER",
    "_num",
    "_str",
    "background",
    "boundaries_layer",
    "community_layer",
    "isochrone_layers",
    "proposal_layer",
    "shift",
    "site_layers",
    "street_labels",
    "streets",
]


# --- overlays -----------------------------------------------------------------------------


def boundaries_layer(b: gpd.GeoDataFrame, gcj: bool, lang: str) -> str:
    b = b.to_crs(4326)
    g = shapely.simplify(b.geometry.to_numpy(), degrees(BOUNDARY_SIMPLIFY_M))
    g = shift(g, gcj, LINE_DECIMALS)
    g = shapely.boundary(g)
    names = _str(b["county"]) if "county" in b else [""] * len(b)
    return layer_json(
        {
            "id": "boundary",
            "kind": "lines",
            "name": label(lang, "boundary"),
            "interactive": True,
            "tooltip": "n",
            "style": {"color": "#333", "weight": 2.5, "dashArray": "8 5", "fill": False},
        },
        feature_collection(g, {"n": names}),
    )


def level_key(s) -> float:
    return float(re.sub(r"[^0-9.]", "", str(s)) or 0)


def _simplify_large(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Isochrones of a very large map simplified further (part by part, topology kept), and
    the decimals to write them with."""
    tol = display_tolerance_m(ISOCHRONE_SIMPLIFY_M, extent_m(geoms), ISOCHRONE_SIMPLIFY_PER_EXTENT)
    if tol <= ISOCHRONE_SIMPLIFY_M:
        return geoms, LINE_DECIMALS
    parts, idx = shapely.get_parts(geoms, return_index=True)
    parts = shapely.simplify(parts, degrees(tol), preserve_topology=True)
    keep = ~shapely.is_empty(parts)
    out = shapely.multipolygons(parts[keep], indices=idx[keep], out=np.empty(len(geoms), object))
    out = np.where(pd.isna(out), shapely.MultiPolygon(), out)
    return out, COARSE_DECIMALS if tol >= 2 * (
        10**-COARSE_DECIMALS
    ) * METRES_PER_DEGREE else LINE_DECIMALS


def isochrone_layers(iso, gcj: bool, lang: str, main_level) -> list[str]:
    if iso is None or not len(iso):
        return []
    geoms, decimals = _simplify_large(iso.geometry.to_numpy())
    iso = iso.assign(geometry=geoms)
    out = []
    for level in sorted(iso["level"].unique(), key=level_key):
        sub = iso[iso["level"] == level]
        minutes = float(sub["minutes"].iloc[0])
        name = f"{label(lang, 'isochrone')} {minutes:g} {label(lang, 'minutes')}"
        out.append(
            layer_json(
                {
                    "id": f"iso_{level}",
                    "kind": "polygons",
                    "name": name,
                    "show": bool(level == main_level),
                    "style": {"weight": 1, "fillOpacity": 0.08},
                },
                feature_collection(
                    shift(sub.geometry.to_numpy(), gcj, decimals),
                    {"_c": [kind_colour(str(k)) for k in sub["kind"]]},
                ),
            )
        )
    return out


def community_layer(res, gcj: bool, lang: str, classes, colour_fn, max_points: int):
    """Communities coloured by walk time; above ``max_points`` aggregated into hexagons.

    Returns (layer text, note or None).
    """
    c = res.communities
    if not len(c):
        return None, None
    pts = np.asarray(c.geometry.to_numpy())
    pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
    t = c["walk_time_min"].to_numpy(float)
    off = c["off_network"].to_numpy(bool)
    cov = c["covered"].to_numpy(bool)
    if len(c) > max_points:
        return _hex_layer(res, pts, cov, gcj, lang, max_points)
    colours = [colour_fn(a, classes, b) for a, b in zip(t, off, strict=True)]
    status = np.where(
        off,
        label(lang, "off_network"),
        np.where(cov, label(lang, "covered"), label(lang, "uncovered")),
    )
    mins = label(lang, "minutes")
    props = {
        "n": _str(c["name"]) if "name" in c else [""] * len(c),
        "p": [_num(p) for p in c["population"]],
        "d": [f"{_num(d)} {label(lang, 'metres')}" for d in c["walk_distance_m"]],
        "t": [f"{_num(x, 1)} {mins}" for x in t],
        "s": _str(c["nearest_site_name"]) if "nearest_site_name" in c else [""] * len(c),
        "st": status.tolist(),
        "_c": colours,
        "_e": np.where(cov, "#ffffff", "#000000").tolist(),
        "_w": np.where(cov, 1, 2).tolist(),
    }
    fields = [
        ["n", label(lang, "name")],
        ["p", label(lang, "population")],
        ["d", label(lang, "walk_distance")],
        ["t", label(lang, "walk_time")],
        ["s", label(lang, "nearest_site")],
        ["st", label(lang, "covered")],
    ]
    for i, name in enumerate(schema.popup_extra("communities", c.columns)):  # metrics
        props[f"x{i}"] = [schema.format_value(name, v, lang) for v in c[name]]
        fields.append([f"x{i}", schema.header(name, lang)])
    return (
        layer_json(
            {
                "id": "communities",
                "kind": "points",
                "name": f"{label(lang, 'communities')} ({len(c):,})",
                "interactive": True,
                "tooltip": "n",
                "fields": fields,
                "style": {"radius": 5, "fillOpacity": 0.9, "keepColor": True},
            },
            feature_collection(shift(pts, gcj, POINT_DECIMALS), props),
        ),
        None,
    )


#: Hexagon colours by the share of population covered: (lowest share, colour), best first.
_SHARE_COLOURS = ((0.999, "#1a9850"), (0.8, "#91cf60"), (0.5, "#fee08b"), (0.2, "#fc8d59"))


def _share_colour(share: float) -> str:
    return next((c for lo, c in _SHARE_COLOURS if share >= lo), "#d73027")


def _hex_layer(res, pts, cov, gcj, lang, limit):
    net = res.network
    x, y = net.project(shapely.get_x(pts), shapely.get_y(pts))
    x, y = np.asarray(x, float), np.asarray(y, float)
    size = hex_size_for(x, y)
    key, centres = hexbin(x, y, size)
    uk, inv = np.unique(key, return_inverse=True)
    pop = res.communities["population"].to_numpy(float)
    pop = np.where(np.isfinite(pop), pop, 0.0)
    n = np.bincount(inv, minlength=uk.size)
    p = np.bincount(inv, weights=pop, minlength=uk.size)
    pc = np.bincount(inv, weights=pop * cov, minlength=uk.size)
    first = np.zeros(uk.size, np.int64)
    first[inv[::-1]] = np.arange(inv.size)[::-1]
    polys = hexagons(centres[first], size)
    from pyproj import Transformer

    back = Transformer.from_crs(net.metric_crs, 4326, always_xy=True)

    def to_ll(c):
        lon, lat = back.transform(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])

    polys = shift(shapely.transform(polys, to_ll), gcj, LINE_DECIMALS)
    share = np.where(p > 0, pc / np.maximum(p, 1e-9), cov[first].astype(float))
    cols = [_share_colour(v) for v in share]
    note = text(lang, "hex_note", n=len(pts), limit=limit, size=size)
    return (
        layer_json(
            {
                "id": "communities",
                "kind": "polygons",
                "name": f"{label(lang, 'communities')} ({len(pts):,}) · {text(lang, 'hex_cell')}",
                "interactive": True,
                "fields": [
                    ["c", text(lang, "hex_count")],
                    ["p", label(lang, "population")],
                    ["s", text(lang, "hex_share")],
                ],
                "style": {"weight": 0.5, "fillOpacity": 0.6, "color": "#666", "keepColor": True},
            },
            feature_collection(
                polys,
                {
                    "c": [f"{v:,}" for v in n],
                    "p": [_num(v) for v in p],
                    "s": [f"{100 * v:.1f}%" for v in share],
                    "_c": cols,
                },
            ),
        ),
        note,
    )


def _site_popup(s, kinds, lang: str) -> tuple[dict, list]:
    """Popup values of every site, and the popup's fields."""
    props = {
        "n": _str(s["name"]) if "name" in s else [""] * len(s),
        "k": [label(lang, k) for k in kinds],
        "a": _str(s["address"]) if "address" in s else [""] * len(s),
        "cc": [_num(v) for v in s.get("communities_served", pd.Series(np.zeros(len(s))))],
        "ps": [_num(v) for v in s.get("population_served", pd.Series(np.zeros(len(s))))],
    }
    fields = [
        ["n", label(lang, "name")],
        ["k", label(lang, "kind")],
        ["a", label(lang, "address")],
        ["cc", label(lang, "communities_covered")],
        ["ps", label(lang, "population")],
    ]
    return props, fields


def site_layers(
    res, gcj: bool, lang: str, in_area: np.ndarray | None, only_neighbours: bool = False
) -> list[str]:
    """One layer per site kind, plus neighbouring-county sites in grey (``in_area`` False).

    ``only_neighbours``: just the grey layer, in a pane above other markers (when the scenario
    editor draws the sites itself, this keeps the neighbours visibly grey)."""
    s = res.sites
    if not len(s):
        return []
    kinds = s["kind"].astype(str).to_numpy() if "kind" in s else np.full(len(s), "station")
    others = sorted(set(kinds))
    pts = shift(s.geometry.to_numpy(), gcj, POINT_DECIMALS)
    inside = np.ones(len(s), bool) if in_area is None else np.asarray(in_area, bool)
    props_all, fields = _site_popup(s, kinds, lang)
    out = []
    groups = [(k, inside & (kinds == k), kind_colour(k, others), label(lang, k)) for k in others]
    if only_neighbours:
        groups = []
    if (~inside).any():
        groups.append(("neighbour", ~inside, NEIGHBOUR_COLOUR, text(lang, "neighbour")))
    for key, mask, colour, name in groups:
        idx = np.flatnonzero(mask)
        if not idx.size:
            continue
        props = {k: [v[i] for i in idx] for k, v in props_all.items()}
        out.append(
            layer_json(
                {
                    "id": f"sites_{key}",
                    "kind": "points",
                    "name": f"{name} ({idx.size})",
                    "interactive": True,
                    "tooltip": "n",
                    "fields": fields,
                    "pane": "scTop" if only_neighbours else None,
                    "style": {
                        "radius": 8 if key != "neighbour" else 6,
                        "color": "#fff",
                        "weight": 2,
                        "fillColor": colour,
                        "fillOpacity": 1.0,
                        "keepColor": True,
                    },
                },
                feature_collection(pts[idx], props),
            )
        )
    return out


def _coords_text(r, lang: str) -> str:
    parts = []
    for sys_, lab in (("gcj02", "GCJ-02"), ("bd09", "BD-09")):
        x, y = r.get(f"lon_{sys_}"), r.get(f"lat_{sys_}")
        if x is not None and y is not None and np.isfinite(float(x)) and np.isfinite(float(y)):
            parts.append(f"{lab} {float(x):.6f}, {float(y):.6f}")
    parts.append(f"WGS84 {float(r['lon']):.6f}, {float(r['lat']):.6f}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _amap_url(r, name: str) -> str:
    """The row's Amap link if it is one, else a marker link at its GCJ-02 position."""
    url = r.get("amap_url")
    if isinstance(url, str) and re.match(r"^https://(uri\.)?amap\.com/", url):
        return url
    from urllib.parse import quote

    gx, gy = _crs.wgs84_to_gcj02(np.array([r["lon"]]), np.array([r["lat"]]))
    return (
        f"https://uri.amap.com/marker?position={float(gx[0]):.6f},{float(gy[0]):.6f}"
        f"&name={quote(name or 'proposal', safe='')}&coordinate=gaode&callnative=0"
    )


def _text_or_blank(v) -> str:
    return "" if v is None or pd.isna(v) else str(v)


def _proposal_row(r, i: int, lang: str) -> dict:
    """One proposal's popup fields and marker properties."""
    rank = int(r["rank"]) if "rank" in r and pd.notna(r["rank"]) else i + 1
    palace = rank == 0 or str(r.get("purpose", "")) == "cultural_palace"
    name = _text_or_blank(r.get("name", ""))
    # mixed demand (issue 15): street km and employees newly covered, when present
    sk, ne = r.get("newly_covered_street_km"), r.get("newly_covered_employees")
    tip = text(lang, "palace_proposed") if palace else f"{label(lang, 'proposed')} #{rank}"
    return {
        "id": _text_or_blank(r.get("proposal_id")),
        "n": name,
        "loc": _text_or_blank(r.get("location_desc", "")),
        "xy": _coords_text(r, lang),
        "g": _num(r.get("newly_covered_population", np.nan)),
        "sk": "" if sk is None or pd.isna(sk) else _num(sk, 2),
        "ne": "" if ne is None or pd.isna(ne) else _num(ne),
        "url": _amap_url(r, name),
        "ut": text(lang, "open_amap"),
        "_label": str(rank),
        "_palace": bool(palace),
        "_tip": f"{tip} {name}".strip(),
    }


def proposal_layer(prop, gcj: bool, lang: str) -> tuple[str, bool]:
    """Numbered proposals (the palace with its own symbol); returns (layer, has palace)."""
    p = prop.to_crs(4326) if isinstance(prop, gpd.GeoDataFrame) and prop.crs else prop
    p = pd.DataFrame(p).reset_index(drop=True)
    geo = np.asarray(gpd.GeoSeries(p.geometry).to_numpy())
    p["lon"] = shapely.get_x(geo)
    p["lat"] = shapely.get_y(geo)
    rows: dict[str, list] = {
        k: []
        for k in ("id", "n", "loc", "xy", "g", "sk", "ne", "url", "ut", "_label", "_palace", "_tip")
    }
    for i in range(len(p)):
        for k, v in _proposal_row(p.iloc[i], i, lang).items():
            rows[k].append(v)
    has_palace = any(rows["_palace"])
    fields = [
        ["id", text(lang, "proposal_id")],
        ["n", label(lang, "name")],
        ["loc", text(lang, "location")],
        ["xy", text(lang, "coordinates")],
        ["g", label(lang, "gain")],
        ["sk", schema.header("newly_covered_street_km", lang)],
        ["ne", schema.header("newly_covered_employees", lang)],
        ["ut", text(lang, "amap"), "url"],
    ]
    return (
        layer_json(
            {
                "id": "proposals",
                "kind": "proposals",
                "name": f"{label(lang, 'proposed')} ({len(p) - int(sum(rows['_palace']))})"
                + (f" · {text(lang, 'palace_proposed')}" if has_palace else ""),
                "fields": fields,
                "palaceText": "宫" if lang == "zh" else "P",
            },
            feature_collection(shift(geo, gcj, POINT_DECIMALS), rows),
        ),
        has_palace,
    )
