"""The map as a static PNG for slides and printed reports (matplotlib).

Tiles are drawn underneath when ``contextily`` is installed and the tile server answers;
otherwise the streets of the network are the (plain) background.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..io import atomic_path
from ._labels import kind_colour, label

if TYPE_CHECKING:
    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)


def save_png(
    res: CoverageResult,
    path: str | Path,
    *,
    lang: str = "zh",
    isochrones=None,
    proposals=None,
    boundaries=None,
    background=None,
    site_in_area=None,
    summary: list[dict] | None = None,
    title: str | None = None,
    tiles: bool = True,
    dpi: int = 150,
) -> dict[str, Any]:
    """Draw coverage as a PNG for slides: title (county), summary, background, full legend,
    metric scale bar and north arrow; the extent comes from the boundary or a robust extent of
    the data, so an outlier never blanks it.

    ``summary`` is the map's summary lines (``make_map(...)._sc_png`` passes them) so the PNG
    and the HTML map show the same numbers. Returns ``path``, ``size_bytes``, ``tiles``.
    """
    import geopandas as gpd
    import matplotlib
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .._fonts import cjk_font as _cjk_font
    from . import _classes, _summary, main_minutes, robust_bounds, summary_numbers
    from . import walk_time_colour as wtc
    from ._layers import NEIGHBOUR_COLOUR, PARK, UNREACHABLE_COLOUR, WATER
    from ._text import run_title, text

    font = _cjk_font()
    if lang == "zh" and font is None:
        logger.warning(
            "no CJK font installed (e.g. apt-get install fonts-wqy-microhei); "
            "PNG labels fall back to English"
        )
        lang = "en"
    net = res.network
    crs = "EPSG:3857"
    rc = {"font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    used_tiles = False
    b = robust_bounds(res, boundaries)
    ext = gpd.GeoSeries(shapely.points([b[:2], b[2:]]), crs=4326).to_crs(crs)
    x0, y0, x1, y1 = ext.x[0], ext.y[0], ext.x[1], ext.y[1]
    # a square frame around the extent (the figure is square)
    half = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1, y0, y1 = cx - half, cx + half, cy - half, cy + half
    handles: list = []
    with matplotlib.rc_context(rc):  # a Figure of its own: the user's pyplot backend is untouched
        fig = Figure(figsize=(10, 10), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        if background is not None and len(background):
            bg = background.to_crs(crs)
            kinds = bg["bg"].astype(str)
            poly = bg.geom_type.isin(["Polygon", "MultiPolygon"])
            line = bg.geom_type.isin(["LineString", "MultiLineString"])
            for k, colour in (("water", WATER), ("park", PARK)):
                sel = bg[(kinds == k) & poly]
                if len(sel):
                    sel.plot(ax=ax, color=colour, linewidth=0, zorder=0.5)
                    handles.append(Patch(color=colour, label=text(lang, k)))
            sel = bg[(kinds == "water") & line]
            if len(sel):
                sel.plot(ax=ax, color="#7fb2dd", linewidth=1.2, zorder=0.6)
            sel = bg[(kinds == "rail") & line]
            if len(sel):
                sel.plot(ax=ax, color="#777", linewidth=0.8, linestyle="--", zorder=0.7)
                handles.append(Line2D([], [], color="#777", ls="--", label=text(lang, "rail")))
        lines = net.edge_lines(projected=False)
        if lines.size > 60_000:
            lines = lines[np.argsort(-net.length)[:60_000]]
        streets = gpd.GeoSeries(shapely.simplify(lines, 0.00003), crs=4326).to_crs(crs)
        streets.plot(ax=ax, color="#b0b0b0", linewidth=0.4, zorder=1)
        if boundaries is not None and len(boundaries):
            boundaries.to_crs(crs).boundary.plot(
                ax=ax, color="#333", linewidth=1.4, linestyle="--", zorder=2
            )
            handles.append(Line2D([], [], color="#333", ls="--", label=label(lang, "boundary")))
        iso = (
            res.isochrones(minutes=main_minutes(res), by="kind")
            if isochrones is None
            else isochrones
        )
        if len(iso):
            main = iso[iso["level"] == iso["level"].iloc[-1]] if "level" in iso else iso
            for kind, grp in main.groupby("kind"):
                grp.to_crs(crs).plot(
                    ax=ax,
                    color=kind_colour(str(kind)),
                    alpha=0.15,
                    edgecolor=kind_colour(str(kind)),
                    linewidth=0.6,
                    zorder=3,
                )
        c = res.communities
        classes = _classes(res)
        if len(c):
            cols = [
                wtc(t, classes, o)
                for t, o in zip(c["walk_time_min"], c["off_network"], strict=True)
            ]
            pts = c.geometry.representative_point().to_crs(crs)
            n = len(c)
            ax.scatter(
                pts.x,
                pts.y,
                s=14 if n < 5000 else 3,
                c=cols,
                edgecolors=np.where(c["covered"], "white", "black") if n < 5000 else "none",
                linewidths=0.6,
                zorder=4,
            )
        prev = 0.0
        for lim, col in classes:
            rng = f"{prev:g}–{lim:g}" if np.isfinite(lim) else f"> {prev:g}"
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    ls="",
                    markerfacecolor=col,
                    markeredgecolor="#666",
                    label=f"{label(lang, 'community')} {rng} {label(lang, 'minutes')}",
                )
            )
            prev = lim if np.isfinite(lim) else prev
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor=UNREACHABLE_COLOUR,
                markeredgecolor="#666",
                label=label(lang, "off_network"),
            )
        )
        s = res.sites
        if len(s):
            inside = (
                np.ones(len(s), bool) if site_in_area is None else np.asarray(site_in_area, bool)
            )
            kinds = s["kind"].astype(str).to_numpy() if "kind" in s else np.full(len(s), "station")
            p = s.to_crs(crs).geometry
            for kind in sorted(set(kinds[inside])):
                m = inside & (kinds == kind)
                ax.scatter(
                    p.x[m],
                    p.y[m],
                    s=60,
                    color=kind_colour(kind),
                    edgecolors="white",
                    linewidths=1.2,
                    zorder=5,
                    label=label(lang, kind),
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="o",
                        ls="",
                        markersize=8,
                        markerfacecolor=kind_colour(kind),
                        markeredgecolor="white",
                        label=f"{label(lang, kind)} ({int(m.sum())})",
                    )
                )
            if (~inside).any():
                ax.scatter(
                    p.x[~inside],
                    p.y[~inside],
                    s=40,
                    color=NEIGHBOUR_COLOUR,
                    edgecolors="white",
                    linewidths=1,
                    zorder=5,
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="o",
                        ls="",
                        markersize=7,
                        markerfacecolor=NEIGHBOUR_COLOUR,
                        markeredgecolor="white",
                        label=text(lang, "neighbour_note"),
                    )
                )
        if proposals is not None and len(proposals):
            p = gpd.GeoDataFrame(proposals, crs=getattr(proposals, "crs", None) or 4326).to_crs(crs)
            rank = (
                p["rank"].fillna(0).astype(int).to_numpy()
                if "rank" in p
                else np.arange(1, len(p) + 1)
            )
            pal = rank == 0
            if "purpose" in p:
                pal |= p["purpose"].astype(str).to_numpy() == "cultural_palace"
            g = p.geometry
            if (~pal).any():
                ax.scatter(
                    g.x[~pal],
                    g.y[~pal],
                    s=170,
                    color="black",
                    edgecolors="#ffeb3b",
                    linewidths=1.5,
                    zorder=6,
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="o",
                        ls="",
                        markersize=10,
                        markerfacecolor="black",
                        markeredgecolor="#ffeb3b",
                        label=label(lang, "proposed"),
                    )
                )
                for r, gg in zip(rank[~pal], g[~pal], strict=True):
                    ax.annotate(
                        str(r),
                        (gg.x, gg.y),
                        color="#ffeb3b",
                        ha="center",
                        va="center",
                        fontsize=7,
                        fontweight="bold",
                        zorder=7,
                    )
            if pal.any():
                ax.scatter(
                    g.x[pal],
                    g.y[pal],
                    s=220,
                    marker="s",
                    color="#756bb1",
                    edgecolors="white",
                    linewidths=1.5,
                    zorder=6,
                )
                handles.append(
                    Line2D(
                        [],
                        [],
                        marker="s",
                        ls="",
                        markersize=11,
                        markerfacecolor="#756bb1",
                        markeredgecolor="white",
                        label=text(lang, "palace_proposed"),
                    )
                )
        _labels_png(ax, net, background, crs, (x0, y0, x1, y1))
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        if tiles:
            used_tiles = _try_tiles(ax)
        lines_ = summary or _summary(
            summary_numbers(res, site_in_area), lang, proposals, None, 0, None
        )
        head = title or run_title(lang, main_minutes(res))
        ax.set_title(head, fontsize=15, fontweight="bold", loc="left")
        ax.text(
            0.01,
            0.99,
            "\n".join(str(x["text"]) for x in lines_),
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize=9,
            zorder=10,
            bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "#999", "boxstyle": "round"},
        )
        ax.legend(
            handles=handles,
            loc="lower left",
            fontsize=7.5,
            framealpha=0.92,
            title=label(lang, "legend"),
            title_fontsize=8,
        )
        _scale_bar(ax, x0, x1, y0, y1, b, lang)
        _north_arrow(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        for sp in ax.spines.values():
            sp.set_color("#999")
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    return {"path": str(path), "size_bytes": Path(path).stat().st_size, "tiles": used_tiles}


def _labels_png(ax, net, background, crs, frame, max_streets: int = 25) -> None:
    """Names a reader can orient by: the longest streets, named water, parks and places."""
    import geopandas as gpd
    import matplotlib.patheffects as pe
    import shapely

    from ._layers import street_labels

    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    box = shapely.box(*frame)
    pts, names, _ = street_labels(net, gcj=False, max_labels=max_streets)
    items = [(p, n, "#555", 7) for p, n in zip(pts, names, strict=True)]
    if background is not None and len(background) and "name" in background:
        bg = background[background["name"].fillna("").astype(str) != ""]
        bg = bg[bg["bg"].isin(["water", "park", "place", "suburb", "district"])]
        for (_, r), g in zip(bg.iterrows(), bg.geometry, strict=True):
            p = g.point_on_surface() if g.geom_type.endswith("Polygon") else g.centroid
            colour = {"water": "#2b6ca3", "park": "#3b7d3b"}.get(r["bg"], "#333")
            items.append((p, str(r["name"]), colour, 8 if r["bg"] in ("water", "park") else 9))
    if not items:
        return
    xy = gpd.GeoSeries([i[0] for i in items], crs=4326).to_crs(crs)
    seen: set[str] = set()
    for (_, text_, colour, size), p in zip(items, xy, strict=True):
        if text_ in seen or not box.contains(p):
            continue
        seen.add(text_)
        ax.text(p.x, p.y, text_, fontsize=size, color=colour, ha="center", va="center",
                zorder=8, path_effects=halo)  # fmt: skip


def scale_length_m(width_m: float) -> float:
    """A round bar length (m) about a fifth of the map width: 1, 2 or 5 times a power of ten."""
    target = max(width_m / 5, 1.0)
    p = 10 ** np.floor(np.log10(target))
    return float(max(f * p for f in (1, 2, 5) if f * p <= target))


def scale_text(length_m: float, lang: str) -> str:
    if length_m >= 1000:
        return f"{length_m / 1000:g} km" if lang != "zh" else f"{length_m / 1000:g} 公里"
    return f"{length_m:g} m" if lang != "zh" else f"{length_m:g} 米"


def _scale_bar(ax, x0, x1, y0, y1, b, lang):
    """A metric scale bar in the lower right (Web Mercator stretched by 1/cos(latitude))."""
    lat = np.deg2rad((b[1] + b[3]) / 2)
    k = 1 / np.cos(lat)  # mercator units per true metre
    width_m = (x1 - x0) / k
    length = scale_length_m(width_m)
    bx1 = x1 - 0.04 * (x1 - x0)
    bx0 = bx1 - length * k
    by = y0 + 0.04 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    ax.fill([bx0, bx1, bx1, bx0], [by, by, by + h, by + h], color="black", zorder=11)
    ax.fill(
        [bx0, (bx0 + bx1) / 2, (bx0 + bx1) / 2, bx0],
        [by, by, by + h, by + h],
        color="white",
        edgecolor="black",
        zorder=12,
    )
    ax.text(
        (bx0 + bx1) / 2,
        by + 1.8 * h,
        scale_text(length, lang),
        ha="center",
        va="bottom",
        fontsize=9,
        zorder=12,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
    )
    ax.text(bx0, by - 0.6 * h, "0", ha="center", va="top", fontsize=7, zorder=12)


def _north_arrow(ax):
    ax.annotate(
        "N",
        xy=(0.955, 0.975),
        xytext=(0.955, 0.895),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=13,
        fontweight="bold",
        zorder=12,
        arrowprops={"facecolor": "black", "width": 5, "headwidth": 14, "headlength": 14},
    )


def _try_tiles(ax) -> bool:
    try:
        import contextily as cx
    except ImportError:
        return False
    try:
        cx.add_basemap(ax, source=cx.providers.OpenStreetMap.Mapnik, zorder=0)
        return True
    except Exception as exc:  # no network, blocked tile server, ...
        logger.info("tiles unreachable (%s); plain background", type(exc).__name__)
        return False
