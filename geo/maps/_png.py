"""The map as a static PNG for slides and printed reports (matplotlib, no pyplot).

Tiles are drawn underneath when ``contextily`` is installed and the tile server answers;
otherwise the streets of the network are the (plain) background. The layers are drawn by
:mod:`geo.maps._png_layers`; this module lays out the page: frame, title, summary box, legend,
scale bar and north arrow.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._fonts import heading_weight
from ..io import atomic_path
from . import _png_layers as layers
from ._labels import label
from ._summary import main_minutes, robust_bounds, run_classes, summary_box, summary_numbers
from ._text import run_title

if TYPE_CHECKING:
    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)

#: Figure size in inches (square) and margins as figure fractions: fixed, so no
#: ``tight_layout`` pass is needed (the title sits in the top margin).
FIGSIZE_IN = 10.0
MARGINS = {"left": 0.015, "right": 0.985, "bottom": 0.015, "top": 0.955}
#: zlib level of the PNG: 3 writes a map about a third faster than the default 6, and the file
#: is the same size within 1% (the map is mostly flat colour).
PNG_COMPRESS_LEVEL = 3


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
    and the HTML map show the same numbers. ``isochrones`` may be per site or per kind (the
    last level present is drawn, one fill per kind); computed per kind when omitted.
    Returns ``path``, ``size_bytes``, ``tiles``.
    """
    import matplotlib

    lang, rc = _font(lang)
    b = robust_bounds(res, boundaries)
    frame = _square_frame(b)
    if isochrones is None:
        isochrones = res.isochrones(minutes=main_minutes(res), by="kind")
    with matplotlib.rc_context(rc):  # a Figure of its own: the user's pyplot backend is untouched
        fig, ax = _figure(dpi)
        classes = run_classes(res)
        handles = layers.draw_background(ax, background, lang)
        layers.draw_streets(ax, res.network)
        handles += layers.draw_boundaries(ax, boundaries, lang)
        layers.draw_isochrones(ax, isochrones, res.config.main_level)
        handles += layers.draw_communities(ax, res, classes, lang)
        handles += layers.draw_sites(ax, res.sites, site_in_area, lang)
        handles += layers.draw_proposals(ax, proposals, lang)
        layers.draw_labels(ax, res.network, background, frame)
        _set_frame(ax, frame)
        used_tiles = _try_tiles(ax) if tiles else False
        lines = summary or _default_summary(res, lang, proposals, site_in_area)
        _decorate(ax, title or run_title(lang, main_minutes(res)), lines, handles, lang)
        _scale_bar(ax, frame, b, lang)
        _north_arrow(ax)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return {"path": str(path), "size_bytes": Path(path).stat().st_size, "tiles": used_tiles}


def _font(lang: str) -> tuple[str, dict[str, Any]]:
    """The label language (English when no CJK font is installed) and matplotlib rc."""
    from .._fonts import cjk_font

    font = cjk_font()
    if lang == "zh" and font is None:
        logger.warning(
            "no CJK font installed (e.g. apt-get install fonts-wqy-microhei); "
            "PNG labels fall back to English"
        )
        lang = "en"
    return lang, ({"font.sans-serif": [font, "DejaVu Sans"]} if font else {})


def _square_frame(b: np.ndarray) -> tuple[float, float, float, float]:
    """A square Web Mercator frame ``(x0, y0, x1, y1)`` around ``[minlon, minlat, maxlon,
    maxlat]`` (the figure is square)."""
    (x0, x1), (y0, y1) = layers.mercator([b[0], b[2]], [b[1], b[3]])
    half = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (float(cx - half), float(cy - half), float(cx + half), float(cy + half))


def _figure(dpi: int):
    """A square ``Figure`` on an Agg canvas (no pyplot) and its one ``Axes``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIGSIZE_IN, FIGSIZE_IN), dpi=dpi)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(**MARGINS)
    return fig, fig.add_subplot()


def _set_frame(ax, frame: tuple[float, float, float, float]) -> None:
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_color("#999")


def _default_summary(res, lang: str, proposals, site_in_area) -> list[dict[str, Any]]:
    return summary_box(summary_numbers(res, site_in_area), lang, proposals, None, 0, None)


def _decorate(ax, title: str, lines: list[dict], handles: list, lang: str) -> None:
    """Title, the summary box (top left) and the legend (bottom left)."""
    ax.set_title(title, fontsize=15, fontweight=heading_weight(), loc="left")
    ax.text(
        0.01,
        0.99,
        "\n".join(str(x["text"]) for x in lines),
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


def scale_length_m(width_m: float) -> float:
    """A round bar length (m) about a fifth of the map width: 1, 2 or 5 times a power of ten."""
    target = max(width_m / 5, 1.0)
    p = 10 ** np.floor(np.log10(target))
    return float(max(f * p for f in (1, 2, 5) if f * p <= target))


def scale_text(length_m: float, lang: str) -> str:
    if length_m >= 1000:
        return f"{length_m / 1000:g} km" if lang != "zh" else f"{length_m / 1000:g} 公里"
    return f"{length_m:g} m" if lang != "zh" else f"{length_m:g} 米"


def _scale_bar(ax, frame: tuple[float, float, float, float], b: np.ndarray, lang: str) -> None:
    """A metric scale bar in the lower right (Web Mercator stretched by 1/cos(latitude))."""
    x0, y0, x1, y1 = frame
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
        fontweight=heading_weight(),
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
