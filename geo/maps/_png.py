"""The map as a static PNG for slides and printed reports (matplotlib, no pyplot).

Tiles are drawn underneath when ``contextily`` is installed and the tile server answers;
otherwise the streets of the network are the (plain) background. The layers are drawn by
:mod:`geo.maps._png_layers`; this module lays out the page: frame, title, summary box, legend,
scale bar and north arrow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._fonts import heading_weight
from ..io import atomic_path
from . import _png_layers as layers
from ._labels import label
from ._pngfile import write_png
from ._summary import main_minutes, robust_bounds, run_classes, summary_box, summary_numbers
from ._text import run_title

if TYPE_CHECKING:
    from ..coverage import CoverageResult

logger = logging.getLogger(__name__)

#: Figure size in inches (square) and margins as figure fractions: fixed, so no
#: ``tight_layout`` pass is needed (the title sits in the top margin).
FIGSIZE_IN = 10.0
MARGINS = {"left": 0.015, "right": 0.985, "bottom": 0.015, "top": 0.955}


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
    Returns ``path``, ``size_bytes``, ``tiles``. (:class:`PngDraft` draws the same file in two
    steps, everything but the walking areas first.)
    """
    draft = PngDraft(res, lang=lang, proposals=proposals, boundaries=boundaries,
                     background=background, site_in_area=site_in_area, tiles=tiles, dpi=dpi,
                     prerender=False)  # fmt: skip
    return draft.finish(path, isochrones, title=title, summary=summary)


class PngDraft:
    """:func:`save_png` in two steps, for a process that has the run before its walking areas
    (the maps' child process of ``coverage``, while this one computes the isochrones).

    The constructor builds every artist that needs neither the walking areas nor the map's
    title and summary lines (background, streets, boundaries, communities, sites, proposals,
    names, legend, scale bar, north arrow) and, with ``prerender``, renders the layers below
    the walking areas (the frame, background, streets, boundaries) and keeps those pixels.
    :meth:`finish` adds the walking areas, the title and the summary box, puts the kept pixels
    back and draws everything above them in the order of one matplotlib draw, then writes the
    file (:mod:`geo.maps._pngfile`). The pixels are those of one ``savefig`` of the whole
    figure, with or without ``prerender`` (tests/test_png_draft.py compares them).
    """

    def __init__(
        self,
        res: CoverageResult,
        *,
        lang: str = "zh",
        proposals=None,
        boundaries=None,
        background=None,
        site_in_area=None,
        tiles: bool = True,
        dpi: int = 150,
        prerender: bool = True,
    ) -> None:
        import matplotlib

        self._res, self._proposals, self._site_in_area = res, proposals, site_in_area
        self._done = False
        self._lang, self._rc = _font(lang)
        lang = self._lang
        b = robust_bounds(res, boundaries)
        frame = _square_frame(b)
        # the walking areas (zorder ISOCHRONE_ZORDER) and the summary box come in finish(),
        # after the artists of higher zorders: the draw sorts by zorder, and no other artist
        # of the axes has theirs, so the order of one draw stays the same
        with matplotlib.rc_context(self._rc):  # a Figure of its own: pyplot is untouched
            self._fig, ax = _figure(dpi)
            self._ax = ax
            handles = layers.draw_background(ax, background, lang)
            layers.draw_streets(ax, res.network)
            handles += layers.draw_boundaries(ax, boundaries, lang)
            handles += layers.draw_communities(ax, res, run_classes(res), lang)
            handles += layers.draw_sites(ax, res.sites, site_in_area, lang)
            handles += layers.draw_proposals(ax, proposals, lang)
            layers.draw_labels(ax, res.network, background, frame)
            _set_frame(ax, frame)
            self.tiles = _try_tiles(ax) if tiles else False
            _legend(ax, handles, lang)
            _scale_bar(ax, frame, b, lang)
            _north_arrow(ax)
            self._below = self._render_below() if prerender else None

    def finish(
        self,
        path: str | Path,
        isochrones=None,
        *,
        title: str | None = None,
        summary: list[dict] | None = None,
    ) -> dict[str, Any]:
        """Add the walking areas (computed per kind when omitted), the ``title`` and the
        ``summary`` lines (as in :func:`save_png`) and write the PNG (atomically); returns
        ``path``, ``size_bytes``, ``tiles``. Once per draft."""
        import matplotlib

        if self._done:
            raise RuntimeError("PngDraft.finish() was already called; make a new draft")
        self._done = True
        res, lang = self._res, self._lang
        if isochrones is None:
            isochrones = res.isochrones(minutes=main_minutes(res), by="kind")
        lines = summary or _default_summary(res, lang, self._proposals, self._site_in_area)
        with matplotlib.rc_context(self._rc):
            layers.draw_isochrones(self._ax, isochrones, res.config.main_level)
            _title_and_summary(self._ax, title or run_title(lang, main_minutes(res)), lines)
            if self._below is None:
                self._fig.canvas.draw()  # what savefig draws
            else:
                self._draw_above(self._below)
            with atomic_path(path) as tmp:
                _write_png(self._fig, tmp)
        return {"path": str(path), "size_bytes": Path(path).stat().st_size, "tiles": self.tiles}

    def _layers(self, above: bool) -> list:
        """The visible artists drawn after the walking areas (``above``), or before them."""
        ax = self._ax
        out = [
            a
            for a in ax.get_children()
            if a is not ax.patch
            and a.get_visible()
            and (a.get_zorder() >= layers.ISOCHRONE_ZORDER) == above
        ]
        return out if above else [self._fig.patch, ax.patch, *out]

    def _render_below(self):
        """Render the layers below the walking areas and return their pixels; lay out the
        texts above them (matplotlib keeps each text's size, for the same renderer)."""
        from matplotlib.legend import Legend
        from matplotlib.text import Text

        canvas = self._fig.canvas
        above = self._layers(above=True)
        with _hidden(above):
            canvas.draw()
        renderer = canvas.get_renderer()
        for a in above:
            if isinstance(a, Text | Legend):
                a.get_window_extent(renderer)
        return canvas.copy_from_bbox(self._fig.bbox)

    def _draw_above(self, below) -> None:
        """The kept pixels, then every artist above them, as one ``Figure.draw`` orders them."""
        renderer = self._fig.canvas.get_renderer()  # the same renderer (size, dpi) every time
        renderer.restore_region(below)
        with _hidden(self._layers(above=False)):
            self._fig.draw(renderer)


@contextmanager
def _hidden(artists: list) -> Iterator[None]:
    for a in artists:
        a.set_visible(False)
    try:
        yield
    finally:
        for a in artists:
            a.set_visible(True)


def _write_png(fig, path: Path) -> None:
    """The canvas's pixels, with the dpi and ``Software`` text ``savefig`` would write
    (:mod:`geo.maps._pngfile`: twice as quick as Pillow's encoder, a smaller file)."""
    import matplotlib

    software = f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/"
    write_png(path, fig.canvas.buffer_rgba(), dpi=fig.dpi, software=software)


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


def _title_and_summary(ax, title: str, lines: list[dict]) -> None:
    """The title and the summary box (top left)."""
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


def _legend(ax, handles: list, lang: str) -> None:
    """The legend (bottom left)."""
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
