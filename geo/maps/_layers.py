"""The map's layers as JSON (see :mod:`geo.maps._payload`); drawn by ``sc_map.js``."""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import crs as _crs
from .. import schema
from ._labels import kind_colour, label
from ._payload import (
    feature_collection,
    hex_size_for,
    hexagons,
    hexbin,
    layer_json,
)
from ._text import text

NEIGHBOUR_COLOUR = "#9e9e9e"
UNREACHABLE_COLOUR = "#7f7f7f"
WATER = "#a9cfee"
PARK = "#cfe8c4"
MAJOR_HIGHWAYS = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
}


def shift(geoms: np.ndarray, gcj: bool, decimals: int = 6) -> np.ndarray:
    """Shift to GCJ-02 for Amap tiles if asked, and round (5 decimals ~ 1 m) to keep files small."""

    def fn(c: np.ndarray) -> np.ndarray:
        if gcj:
            c = np.column_stack(_crs.wgs84_to_gcj02(c[:, 0], c[:, 1]))
        return np.round(c, decimals)

    return shapely.transform(np.asarray(geoms), fn)


def _num(x: Any, nd: int = 0) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "" if x is None else str(x)
    return "—" if not np.isfinite(v) else f"{v:,.{nd}f}"


def _str(col) -> list[str]:
    return ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in col]


# --- background ---------------------------------------------------------------------------


def streets(net, gcj: bool, lang: str, max_edges: int) -> list[str]:
    """Street centre-lines, simplified edge by edge (fast) and rounded to ~1 m, major/minor."""
    lines = net.edge_lines(projected=False)
    order = np.arange(lines.size)
    if lines.size > max_edges:  # keep the longest streets
        order = np.argsort(-net.length)[:max_edges]
        lines = lines[order]
    lines = shapely.simplify(lines, 0.00003)  # per geometry: vectorised, ~0.2 s for 60k edges
    lines = shift(lines, gcj, 5)
    hw = np.asarray(net.edge_highway, dtype=object)[order].astype(str)
    major = np.isin(hw, list(MAJOR_HIGHWAYS))
    out = []
    for key, mask, style in (
        ("streets_minor", ~major, {"color": "#b5b5b5", "weight": 1, "opacity": 0.8}),
        ("streets_major", major, {"color": "#8c8c8c", "weight": 2.2, "opacity": 0.9}),
    ):
        if mask.any():
            geom = shapely.multilinestrings(lines[mask])
            out.append(
                layer_json(
                    {"id": key, "kind": "background", "name": text(lang, key), "style": style},
                    feature_collection(np.array([geom])),
                )
            )
    return out


def street_labels(net, gcj: bool, max_labels: int = 1500) -> tuple[np.ndarray, list, list]:
    """One label per street name at the middle of its longest edge; long streets at lower zoom."""
    names = np.asarray(net.edge_name, dtype=object)
    if not names.size:
        return np.array([], object), [], []
    names = np.array(["" if n is None else str(n).strip() for n in names], dtype=object)
    ok = (names != "") & (names != "nan")
    if not ok.any():
        return np.array([], object), [], []
    df = pd.DataFrame({"name": names[ok], "len": net.length[ok], "i": np.flatnonzero(ok)})
    total = df.groupby("name")["len"].sum().sort_values(ascending=False)
    best = df.loc[df.groupby("name")["len"].idxmax()].set_index("name").loc[total.index]
    best = best.iloc[:max_labels]
    lines = net.edge_lines(projected=False)[best["i"].to_numpy()]
    pts = shift(shapely.line_interpolate_point(lines, 0.5, normalized=True), gcj, 5)
    rank = np.arange(len(best))
    zoom = np.where(rank < 40, 14, np.where(rank < 200, 15, 16))
    return pts, list(best.index), zoom.tolist()


def background(
    bg: gpd.GeoDataFrame | None,
    net,
    gcj: bool,
    lang: str,
    max_edges: int,
    street_lines: bool = True,
):
    """Water, parks, railways, streets and names; returns (layer texts, legend rows)."""
    out: list[str] = []
    legend: list[dict] = []
    lab_pts: list = []
    lab_txt: list = []
    lab_kind: list = []
    lab_zoom: list = []
    if bg is not None and len(bg):
        bg = bg.to_crs(4326) if bg.crs is not None else bg
        kinds = bg["bg"].astype(str).to_numpy() if "bg" in bg else np.full(len(bg), "water")
        geoms = bg.geometry.to_numpy()
        polys = np.isin(shapely.get_type_id(geoms), [3, 6])
        linesm = np.isin(shapely.get_type_id(geoms), [1, 5])
        for key, mask, style in (
            (
                "water",
                (kinds == "water") & polys,
                {"color": "#7fb2dd", "weight": 0.5, "fillColor": WATER, "fillOpacity": 0.9},
            ),
            (
                "park",
                (kinds == "park") & polys,
                {"color": "#a5d196", "weight": 0.5, "fillColor": PARK, "fillOpacity": 0.8},
            ),
            (
                "waterway",
                (kinds == "water") & linesm,
                {"color": "#7fb2dd", "weight": 2, "opacity": 0.9},
            ),
            (
                "rail",
                (kinds == "rail") & linesm,
                {"color": "#777", "weight": 1.5, "dashArray": "5 3", "opacity": 0.8},
            ),
        ):
            if not mask.any():
                continue
            g = shift(shapely.simplify(geoms[mask], 0.00002, preserve_topology=True), gcj, 5)
            g = g[~shapely.is_empty(g)]
            name = text(lang, "water" if key == "waterway" else key)
            out.append(
                layer_json(
                    {"id": f"bg_{key}", "kind": "background", "name": name, "style": style},
                    feature_collection(g),
                )
            )
            if key in ("water", "park", "rail"):
                legend.append(
                    {
                        "type": "fill" if key != "rail" else "line-sw",
                        "colour": {"water": WATER, "park": PARK}.get(key, "#fff"),
                        "text": name,
                    }
                )
        names = bg["name"].fillna("").astype(str).to_numpy() if "name" in bg else None
        if names is not None:
            named = names != ""
            for k, kind, zoom in (
                ("water", "water", 13),
                ("park", "park", 15),
                ("place", "place", 13),
                ("district", "district", 11),
                ("suburb", "place", 12),
            ):
                m = named & (kinds == k)
                if not m.any():
                    continue
                g = geoms[m]
                # label polygons at an inside point, lines at their middle; big ones first
                area = shapely.area(g)
                order = np.argsort(-area)
                is_line = np.isin(shapely.get_type_id(g), [1, 5])
                pts = np.empty(len(g), dtype=object)
                if is_line.any():
                    pts[is_line] = shapely.line_interpolate_point(g[is_line], 0.5, normalized=True)
                if (~is_line).any():
                    pts[~is_line] = shapely.point_on_surface(g[~is_line])
                pts = pts[order]
                nm = names[m][order]
                _, first = np.unique(nm, return_index=True)
                first = np.sort(first)
                lab_pts.extend(shift(pts[first], gcj, 5))
                lab_txt.extend(nm[first].tolist())
                lab_kind.extend([kind] * first.size)
                lab_zoom.extend([zoom if i < 20 else zoom + 2 for i in range(first.size)])
    if street_lines:
        out.extend(streets(net, gcj, lang, max_edges))
    legend.append(
        {
            "type": "line-sw",
            "colour": "#fff",
            "border": "#8c8c8c",
            "solid": True,
            "text": label(lang, "streets"),
        }
    )
    sp, st, sz = street_labels(net, gcj)
    lab_pts.extend(sp)
    lab_txt.extend(st)
    lab_kind.extend(["street"] * len(st))
    lab_zoom.extend(sz)
    if lab_txt:
        out.append(
            layer_json(
                {"id": "labels", "kind": "labels", "name": text(lang, "labels")},
                feature_collection(
                    np.asarray(lab_pts, dtype=object),
                    {"text": lab_txt, "_k": lab_kind, "_z": lab_zoom},
                ),
            )
        )
    return out, legend


# --- overlays -----------------------------------------------------------------------------


def boundaries_layer(b: gpd.GeoDataFrame, gcj: bool, lang: str) -> str:
    b = b.to_crs(4326)
    g = shift(shapely.simplify(b.geometry.to_numpy(), 0.0001), gcj, 5)
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


def isochrone_layers(iso, gcj: bool, lang: str, main_level) -> list[str]:
    if iso is None or not len(iso):
        return []
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
                    shift(sub.geometry.to_numpy(), gcj, 5),
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
            feature_collection(shift(pts, gcj, 6), props),
        ),
        None,
    )


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

    polys = shift(shapely.transform(polys, to_ll), gcj, 5)
    share = np.where(p > 0, pc / np.maximum(p, 1e-9), cov[first].astype(float))
    cols = [
        "#1a9850"
        if s >= 0.999
        else "#91cf60"
        if s >= 0.8
        else "#fee08b"
        if s >= 0.5
        else "#fc8d59"
        if s >= 0.2
        else "#d73027"
        for s in share
    ]
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
    pts = shift(s.geometry.to_numpy(), gcj, 6)
    inside = np.ones(len(s), bool) if in_area is None else np.asarray(in_area, bool)
    props_all = {
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
    has_palace = False
    for i in range(len(p)):
        r = p.iloc[i]
        rank = int(r["rank"]) if "rank" in r and pd.notna(r["rank"]) else i + 1
        palace = rank == 0 or str(r.get("purpose", "")) == "cultural_palace"
        has_palace |= palace
        name = "" if pd.isna(r.get("name", "")) else str(r.get("name", ""))
        gx, gy = _crs.wgs84_to_gcj02(np.array([r["lon"]]), np.array([r["lat"]]))
        url = r.get("amap_url")
        if not (isinstance(url, str) and re.match(r"^https://(uri\.)?amap\.com/", url)):
            from urllib.parse import quote

            url = (
                f"https://uri.amap.com/marker?position={float(gx[0]):.6f},{float(gy[0]):.6f}"
                f"&name={quote(name or 'proposal', safe='')}&coordinate=gaode&callnative=0"
            )
        pid = r.get("proposal_id")
        rows["id"].append("" if pid is None or pd.isna(pid) else str(pid))
        rows["n"].append(name)
        loc = r.get("location_desc", "")
        rows["loc"].append("" if loc is None or pd.isna(loc) else str(loc))
        rows["xy"].append(_coords_text(r, lang))
        rows["g"].append(_num(r.get("newly_covered_population", np.nan)))
        # mixed demand (issue 15): street km and employees newly covered, when present
        sk, ne = r.get("newly_covered_street_km"), r.get("newly_covered_employees")
        rows["sk"].append("" if sk is None or pd.isna(sk) else _num(sk, 2))
        rows["ne"].append("" if ne is None or pd.isna(ne) else _num(ne))
        rows["url"].append(url)
        rows["ut"].append(text(lang, "open_amap"))
        rows["_label"].append(str(rank))
        rows["_palace"].append(bool(palace))
        tip = text(lang, "palace_proposed") if palace else f"{label(lang, 'proposed')} #{rank}"
        rows["_tip"].append(f"{tip} {name}".strip())
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
            feature_collection(shift(geo, gcj, 6), rows),
        ),
        has_palace,
    )
