"""The layers of the static PNG map, drawn straight onto a matplotlib ``Axes`` in Web Mercator.

Each layer is a handful of artists built from shapely's coordinate arrays, projected with
numpy: all the lines of one style are one ``Line2D`` (NaN between lines), all the polygons of
one fill are one ``PathPatch`` (non-zero winding, so overlapping polygons of a kind are filled
once, like their union), and every symbol class is one ``scatter``. No GeoPandas plotting per
feature and no pyplot: this is what keeps ``map.png`` quick on big networks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from .._fonts import heading_weight
from ._labels import kind_colour, label
from ._layers import NEIGHBOUR_COLOUR, PARK, UNREACHABLE_COLOUR, WATER, street_labels
from ._text import text

#: Radius of the Web Mercator sphere (EPSG:3857), metres.
EARTH_RADIUS_M = 6_378_137.0
#: Web Mercator's latitude limit, degrees.
MAX_LAT_DEG = 85.051129
#: At most this many streets (the longest) are drawn.
MAX_STREET_EDGES = 60_000
#: Street names written on the PNG (the longest streets).
MAX_STREET_LABELS = 25
#: Above this many communities their dots are small and unoutlined, so they stay legible.
MANY_COMMUNITIES = 5000

STREET_COLOUR = "#b0b0b0"
RAIL_COLOUR = "#777"
WATERWAY_COLOUR = "#7fb2dd"
BOUNDARY_COLOUR = "#333"
PROPOSED_EDGE = "#ffeb3b"
PALACE_COLOUR = "#756bb1"
ISOCHRONE_ALPHA = 0.15
#: The walking areas' zorder: what lies below is drawn before them (see ``PngDraft``).
ISOCHRONE_ZORDER = 3


# --- projection and geometry -> artists ----------------------------------------------------


def mercator(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator (EPSG:3857) ``x, y`` in metres of WGS84 longitudes/latitudes in degrees."""
    lat = np.clip(np.asarray(lat, float), -MAX_LAT_DEG, MAX_LAT_DEG)
    x = EARTH_RADIUS_M * np.radians(np.asarray(lon, float))
    y = EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


def mercator_xy(lonlat: np.ndarray) -> np.ndarray:
    """``(n, 2)`` WGS84 coordinates to Web Mercator (NaN rows stay NaN)."""
    lonlat = np.asarray(lonlat, float).reshape(-1, 2)
    return np.column_stack(mercator(lonlat[:, 0], lonlat[:, 1]))


def lonlat_geoms(frame: Any) -> np.ndarray:
    """The geometries of a GeoDataFrame or GeoSeries in WGS84 (no CRS: taken as WGS84)."""
    crs = getattr(frame, "crs", None)
    if crs is not None and crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    return np.asarray(frame.geometry.to_numpy(), object)


def line_xy(lines: np.ndarray) -> np.ndarray:
    """``(n, 2)`` vertices of all lines (multi-part lines split), a NaN row between lines.
    Not simplified here: matplotlib simplifies such a path to the output's pixels as it draws
    it (``path.simplify``), so no tolerance in degrees or metres is needed."""
    parts = shapely.get_parts(np.asarray(lines, object))
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    cut = np.flatnonzero(np.diff(idx)) + 1
    return np.insert(coords, cut, np.nan, axis=0)


def polygon_path(polys: np.ndarray):
    """One matplotlib ``Path`` (Web Mercator) of all WGS84 polygons: shells clockwise and holes
    anticlockwise (``shapely.normalize``; Mercator keeps orientation), so with the non-zero fill
    rule overlaps are filled once and holes stay open: the fill of the polygons' union, without
    computing the union."""
    from matplotlib.path import Path

    parts = shapely.get_parts(np.asarray(polys, object))
    parts = shapely.normalize(parts[shapely.get_type_id(parts) == 3])
    coords, idx = shapely.get_coordinates(shapely.get_rings(parts), return_index=True)
    if not len(coords):
        return None
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    start = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    codes[start] = Path.MOVETO
    codes[np.r_[start[1:] - 1, len(coords) - 1]] = Path.CLOSEPOLY
    return Path(mercator_xy(coords), codes)


def draw_lines(ax, lines: np.ndarray, **style: Any) -> None:
    """All WGS84 ``lines`` as one ``Line2D`` in Web Mercator."""
    xy = mercator_xy(line_xy(lines))
    if len(xy):
        ax.plot(xy[:, 0], xy[:, 1], **style)


def draw_polygons(ax, polys: np.ndarray, **style: Any) -> None:
    """All WGS84 polygons as one ``PathPatch`` in Web Mercator. Added with ``add_artist``, not
    ``add_patch``: the frame is set by the caller, and ``add_patch``'s data-limit update walks
    every vertex in Python (seconds for a county's walking areas)."""
    from matplotlib.patches import PathPatch

    path = polygon_path(polys)
    if path is not None:
        ax.add_artist(PathPatch(path, **style))


def _point_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mercator ``x, y`` of points (a point on the surface of any other geometry)."""
    p = np.asarray(geoms, object)
    p = np.where(shapely.get_type_id(p) == 0, p, shapely.point_on_surface(p))
    return mercator(shapely.get_x(p), shapely.get_y(p))


def _dot(colour: str, text_: str, edge: str = "#666", size: float = 6, marker: str = "o"):
    from matplotlib.lines import Line2D

    return Line2D([], [], marker=marker, ls="", markersize=size, markerfacecolor=colour,
                  markeredgecolor=edge, label=text_)  # fmt: skip


# --- layers, bottom to top -----------------------------------------------------------------


def draw_background(ax, background, lang: str) -> list:
    """Water and parks (fills), rivers and railways (lines); returns their legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if background is None or not len(background):
        return []
    geoms = lonlat_geoms(background)
    kinds = background["bg"].astype(str).to_numpy()
    tid = shapely.get_type_id(geoms)
    poly, line = np.isin(tid, (3, 6)), np.isin(tid, (1, 5))
    handles: list = []
    for k, colour in (("water", WATER), ("park", PARK)):
        sel = (kinds == k) & poly
        if sel.any():
            draw_polygons(ax, geoms[sel], facecolor=colour, edgecolor="none", lw=0, zorder=0.5)
            handles.append(Patch(color=colour, label=text(lang, k)))
    draw_lines(ax, geoms[(kinds == "water") & line], color=WATERWAY_COLOUR, lw=1.2, zorder=0.6)
    rail = (kinds == "rail") & line
    if rail.any():
        draw_lines(ax, geoms[rail], color=RAIL_COLOUR, lw=0.8, ls="--", zorder=0.7)
        handles.append(Line2D([], [], color=RAIL_COLOUR, ls="--", label=text(lang, "rail")))
    return handles


def draw_streets(ax, net) -> None:
    """The network's streets (the longest :data:`MAX_STREET_EDGES`), thin grey."""
    xy = mercator_xy(street_xy(net))
    if len(xy):
        ax.plot(xy[:, 0], xy[:, 1], color=STREET_COLOUR, lw=0.4, zorder=1)


def street_xy(net) -> np.ndarray:
    """:func:`line_xy` of the drawn streets (all edges, or the longest
    :data:`MAX_STREET_EDGES`), read straight from the network's vertex arrays: no shapely
    lines are built (issue 13)."""
    n = net.n_edges
    edges = np.argsort(-net.length)[:MAX_STREET_EDGES] if n > MAX_STREET_EDGES else np.arange(n)
    take, counts = net.edge_vertices(edges)
    xy = np.column_stack([net.geom_lon[take], net.geom_lat[take]])
    cut = np.cumsum(counts)[:-1]
    cut = cut[(cut > 0) & (cut < len(xy))]
    cut = np.unique(cut)  # edges without vertices add no break
    return np.insert(xy, cut, np.nan, axis=0)


def draw_boundaries(ax, boundaries, lang: str) -> list:
    from matplotlib.lines import Line2D

    if boundaries is None or not len(boundaries):
        return []
    rings = shapely.boundary(lonlat_geoms(boundaries))
    draw_lines(ax, rings, color=BOUNDARY_COLOUR, lw=1.4, ls="--", zorder=2)
    return [Line2D([], [], color=BOUNDARY_COLOUR, ls="--", label=label(lang, "boundary"))]


def draw_isochrones(ax, iso, level: str | None = None) -> None:
    """The walking areas of ``level`` (else of the last level given), one translucent fill per
    site kind: the union of that kind's areas, as per-site polygons overlap without darkening.
    No outline: per-site outlines would criss-cross the area, and the union's own edge shows
    as the edge of the tint."""
    if iso is None or not len(iso):
        return
    main = iso
    if "level" in iso:  # the run's main level when present, else the last one
        levels = iso["level"].astype(str)
        main = iso[levels == (level if (levels == level).any() else levels.iloc[-1])]
    geoms = lonlat_geoms(main)
    kinds = main["kind"].astype(str).to_numpy() if "kind" in main else np.full(len(main), "")
    for kind in sorted(set(kinds)):
        colour = kind_colour(kind)
        draw_polygons(ax, geoms[kinds == kind], facecolor=colour, edgecolor="none",
                      alpha=ISOCHRONE_ALPHA, lw=0, zorder=ISOCHRONE_ZORDER)  # fmt: skip


def community_colours(minutes: Any, off_network: Any, classes: list[tuple[float, str]]):
    """The walk-time class colour of each community (vectorised :func:`walk_time_colour`)."""
    lims = np.array([lim for lim, _ in classes], float) + 1e-9
    cols = np.array([c for _, c in classes] + [UNREACHABLE_COLOUR], object)
    m = np.asarray(minutes, float)
    i = np.minimum(np.searchsorted(lims, m, side="left"), len(classes) - 1)
    i = np.where(np.asarray(off_network, bool) | ~np.isfinite(m), len(classes), i)
    return cols[i]


def rgba(names: Any) -> np.ndarray:
    """``(n, 4)`` RGBA of ``n`` colour names, each distinct name converted once: the values
    matplotlib would compute, but a collection given names converts them all again at every
    draw (3,000 communities: 12 ms)."""
    from matplotlib.colors import to_rgba_array

    u, inv = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    return to_rgba_array(list(u))[inv.ravel()]


def draw_communities(ax, res, classes: list[tuple[float, str]], lang: str) -> list:
    """Communities coloured by walk time (white ring: covered); returns the class legend."""
    c = res.communities
    if len(c):
        x, y = _point_xy(lonlat_geoms(c))
        few = len(c) < MANY_COMMUNITIES
        edges = np.where(c["covered"].to_numpy(bool), "white", "black") if few else "none"
        colours = community_colours(c["walk_time_min"], c["off_network"], classes)
        ax.scatter(x, y, s=14 if few else 3, c=rgba(colours), linewidths=0.6, zorder=4,
                   edgecolors=rgba(edges) if few else edges)  # fmt: skip
    handles, prev = [], 0.0
    for lim, col in classes:
        rng = f"{prev:g}–{lim:g}" if np.isfinite(lim) else f"> {prev:g}"
        handles.append(_dot(col, f"{label(lang, 'community')} {rng} {label(lang, 'minutes')}"))
        prev = lim if np.isfinite(lim) else prev
    handles.append(_dot(UNREACHABLE_COLOUR, label(lang, "off_network")))
    return handles


def draw_sites(ax, sites, site_in_area, lang: str) -> list:
    """Sites by kind (neighbouring-county sites grey); returns legend handles with counts."""
    if not len(sites):
        return []
    n = len(sites)
    inside = np.ones(n, bool) if site_in_area is None else np.asarray(site_in_area, bool)
    kinds = sites["kind"].astype(str).to_numpy() if "kind" in sites else np.full(n, "station")
    x, y = _point_xy(lonlat_geoms(sites))
    handles = []
    for kind in sorted(set(kinds[inside])):
        m = inside & (kinds == kind)
        ax.scatter(x[m], y[m], s=60, color=kind_colour(kind), edgecolors="white",
                   linewidths=1.2, zorder=5)  # fmt: skip
        name = f"{label(lang, kind)} ({int(m.sum())})"
        handles.append(_dot(kind_colour(kind), name, edge="white", size=8))
    if (~inside).any():
        ax.scatter(x[~inside], y[~inside], s=40, color=NEIGHBOUR_COLOUR, edgecolors="white",
                   linewidths=1, zorder=5)  # fmt: skip
        handles.append(_dot(NEIGHBOUR_COLOUR, text(lang, "neighbour_note"), "white", 7))
    return handles


def _palace_mask(proposals) -> tuple[np.ndarray, np.ndarray]:
    """(rank per proposal, True for the proposed cultural palace: rank 0 or its purpose)."""
    n = len(proposals)
    has_rank = "rank" in proposals
    rank = proposals["rank"].fillna(0).astype(int).to_numpy() if has_rank else np.arange(1, n + 1)
    pal = rank == 0
    if "purpose" in proposals:
        pal |= proposals["purpose"].astype(str).to_numpy() == "cultural_palace"
    return rank, pal


def draw_proposals(ax, proposals, lang: str) -> list:
    """Proposed sites (black dots with their rank) and the proposed cultural palace (square)."""
    if proposals is None or not len(proposals):
        return []
    rank, pal = _palace_mask(proposals)
    x, y = _point_xy(lonlat_geoms(proposals))
    handles = []
    if (~pal).any():
        ax.scatter(x[~pal], y[~pal], s=170, color="black", edgecolors=PROPOSED_EDGE,
                   linewidths=1.5, zorder=6)  # fmt: skip
        handles.append(_dot("black", label(lang, "proposed"), PROPOSED_EDGE, 10))
        for r, px, py in zip(rank[~pal], x[~pal], y[~pal], strict=True):
            ax.text(px, py, str(r), color=PROPOSED_EDGE, ha="center", va="center",
                    fontsize=7, fontweight=heading_weight(), zorder=7)  # fmt: skip
    if pal.any():
        ax.scatter(x[pal], y[pal], s=220, marker="s", color=PALACE_COLOUR, edgecolors="white",
                   linewidths=1.5, zorder=6)  # fmt: skip
        handles.append(_dot(PALACE_COLOUR, text(lang, "palace_proposed"), "white", 11, "s"))
    return handles


def _label_items(net, background) -> list[tuple[Any, str, str, float]]:
    """(WGS84 point, text, colour, font size) of the longest streets and named background."""
    pts, names, _ = street_labels(net, gcj=False, max_labels=MAX_STREET_LABELS)
    items = [(p, n, "#555", 7.0) for p, n in zip(pts, names, strict=True)]
    if background is None or not len(background) or "name" not in background:
        return items
    bg = background[background["name"].fillna("").astype(str) != ""]
    bg = bg[bg["bg"].isin(["water", "park", "place", "suburb", "district"])]
    geoms = lonlat_geoms(bg)
    poly = np.isin(shapely.get_type_id(geoms), (3, 6))
    at = np.where(poly, shapely.point_on_surface(geoms), shapely.centroid(geoms))
    for p, name, kind in zip(at, bg["name"].astype(str), bg["bg"].astype(str), strict=True):
        colour = {"water": "#2b6ca3", "park": "#3b7d3b"}.get(kind, "#333")
        items.append((p, name, colour, 8.0 if kind in ("water", "park") else 9.0))
    return items


def draw_labels(ax, net, background, frame: tuple[float, float, float, float]) -> None:
    """Names a reader can orient by: the longest streets, named water, parks and places (each
    name once, only inside the frame), with a white halo."""
    import matplotlib.patheffects as pe

    items = _label_items(net, background)
    if not items:
        return
    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    x, y = _point_xy(np.array([i[0] for i in items], object))
    inside = (x >= frame[0]) & (x <= frame[2]) & (y >= frame[1]) & (y <= frame[3])
    seen: set[str] = set()
    for (_, name, colour, size), px, py, ok in zip(items, x, y, inside, strict=True):
        if name in seen or not ok:
            continue
        seen.add(name)
        ax.text(px, py, name, fontsize=size, color=colour, ha="center", va="center",
                zorder=8, path_effects=halo)  # fmt: skip
