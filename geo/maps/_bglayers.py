"""The map's background layers: water, parks, railways, streets and their names."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._labels import label
from ._payload import feature_collection, layer_json
from ._style import (
    BACKGROUND_SIMPLIFY_M,
    LINE_DECIMALS,
    MAJOR_HIGHWAYS,
    PARK,
    STREET_SIMPLIFY_M,
    STREET_SIMPLIFY_PER_EXTENT,
    WATER,
    degrees,
    display_tolerance_m,
    extent_m,
    shift,
)
from ._text import text

#: Background shapes drawn as layers: (key, bg value, geometry type ids, style).
_SHAPES = (
    (
        "water",
        "water",
        (3, 6),
        {"color": "#7fb2dd", "weight": 0.5, "fillColor": WATER, "fillOpacity": 0.9},
    ),
    (
        "park",
        "park",
        (3, 6),
        {"color": "#a5d196", "weight": 0.5, "fillColor": PARK, "fillOpacity": 0.8},
    ),
    ("waterway", "water", (1, 5), {"color": "#7fb2dd", "weight": 2, "opacity": 0.9}),
    (
        "rail",
        "rail",
        (1, 5),
        {"color": "#777", "weight": 1.5, "dashArray": "5 3", "opacity": 0.8},
    ),
)
#: Named background features labelled: (bg value, label kind, zoom of the 20 biggest).
_NAMED = (
    ("water", "water", 13),
    ("park", "park", 15),
    ("place", "place", 13),
    ("district", "district", 11),
    ("suburb", "place", 12),
)


def streets(net, gcj: bool, lang: str, max_edges: int) -> list[str]:
    """Street centre-lines, simplified edge by edge (fast) and rounded to ~1 m, major/minor."""
    lines = net.edge_lines(projected=False)
    order = np.arange(lines.size)
    if lines.size > max_edges:  # keep the longest streets
        order = np.argsort(-net.length)[:max_edges]
        lines = lines[order]
    # per geometry: vectorised, ~0.2 s for 60k edges
    tol = display_tolerance_m(STREET_SIMPLIFY_M, extent_m(lines), STREET_SIMPLIFY_PER_EXTENT)
    lines = shapely.simplify(lines, degrees(tol))
    lines = shift(lines, gcj, LINE_DECIMALS)
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
    lines = net.edge_lines(projected=False, edges=best["i"].to_numpy())
    pts = shift(shapely.line_interpolate_point(lines, 0.5, normalized=True), gcj, LINE_DECIMALS)
    rank = np.arange(len(best))
    zoom = np.where(rank < 40, 14, np.where(rank < 200, 15, 16))
    return pts, list(best.index), zoom.tolist()


def _shape_layers(kinds, geoms, gcj: bool, lang: str) -> tuple[list[str], list[dict]]:
    """Water, parks, waterways and railways as layers, with their legend rows."""
    out: list[str] = []
    legend: list[dict] = []
    types = shapely.get_type_id(geoms)
    for key, bg_kind, type_ids, style in _SHAPES:
        mask = (kinds == bg_kind) & np.isin(types, type_ids)
        if not mask.any():
            continue
        g = shapely.simplify(geoms[mask], degrees(BACKGROUND_SIMPLIFY_M), preserve_topology=True)
        g = shift(g, gcj, LINE_DECIMALS)
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
    return out, legend


def _name_points(g: np.ndarray) -> np.ndarray:
    """Where to write a feature's name: lines at their middle, polygons at an inside point."""
    is_line = np.isin(shapely.get_type_id(g), [1, 5])
    pts = np.empty(len(g), dtype=object)
    if is_line.any():
        pts[is_line] = shapely.line_interpolate_point(g[is_line], 0.5, normalized=True)
    if (~is_line).any():
        pts[~is_line] = shapely.point_on_surface(g[~is_line])
    return pts


def _shape_names(bg, kinds, geoms, gcj: bool, labels: dict[str, list]) -> None:
    """Names of water, parks, places and districts, biggest first, appended to ``labels``."""
    if "name" not in bg:
        return
    names = bg["name"].fillna("").astype(str).to_numpy()
    named = names != ""
    for bg_kind, kind, zoom in _NAMED:
        m = named & (kinds == bg_kind)
        if not m.any():
            continue
        g = geoms[m]
        order = np.argsort(-shapely.area(g))
        pts = _name_points(g)[order]
        nm = names[m][order]
        _, first = np.unique(nm, return_index=True)
        first = np.sort(first)
        labels["pts"].extend(shift(pts[first], gcj, LINE_DECIMALS))
        labels["text"].extend(nm[first].tolist())
        labels["kind"].extend([kind] * first.size)
        labels["zoom"].extend([zoom if i < 20 else zoom + 2 for i in range(first.size)])


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
    labels: dict[str, list] = {"pts": [], "text": [], "kind": [], "zoom": []}
    if bg is not None and len(bg):
        bg = bg.to_crs(4326) if bg.crs is not None else bg
        kinds = bg["bg"].astype(str).to_numpy() if "bg" in bg else np.full(len(bg), "water")
        geoms = bg.geometry.to_numpy()
        out, legend = _shape_layers(kinds, geoms, gcj, lang)
        _shape_names(bg, kinds, geoms, gcj, labels)
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
    labels["pts"].extend(sp)
    labels["text"].extend(st)
    labels["kind"].extend(["street"] * len(st))
    labels["zoom"].extend(sz)
    if labels["text"]:
        out.append(
            layer_json(
                {"id": "labels", "kind": "labels", "name": text(lang, "labels")},
                feature_collection(
                    np.asarray(labels["pts"], dtype=object),
                    {"text": labels["text"], "_k": labels["kind"], "_z": labels["zoom"]},
                ),
            )
        )
    return out, legend
