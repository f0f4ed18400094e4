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
    title: str | None = None,
    tiles: bool = True,
    dpi: int = 150,
) -> dict[str, Any]:
    """Draw coverage as a PNG; returns ``path``, ``size_bytes`` and whether tiles were used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..outputs import _cjk_font
    from . import _classes, walk_time_colour

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
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(10, 10), dpi=dpi)
        import geopandas as gpd

        streets = gpd.GeoSeries(net.edge_lines(projected=False), crs=4326).to_crs(crs)
        streets.plot(ax=ax, color="#b0b0b0", linewidth=0.4, zorder=1)
        if boundaries is not None and len(boundaries):
            boundaries.to_crs(crs).boundary.plot(
                ax=ax, color="#333", linewidth=1.2, linestyle="--", zorder=2
            )
        iso = (
            res.isochrones(minutes=res.config.limit_m / res.config.metres_per_minute, by="kind")
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
        if len(c):
            classes = _classes(res)
            cols = [
                walk_time_colour(t, classes, o)
                for t, o in zip(c["walk_time_min"], c["off_network"], strict=True)
            ]
            pts = c.geometry.representative_point().to_crs(crs)
            ax.scatter(
                pts.x,
                pts.y,
                s=14,
                c=cols,
                edgecolors=np.where(c["covered"], "white", "black"),
                linewidths=0.6,
                zorder=4,
            )
        s = res.sites
        if len(s):
            for kind, grp in s.groupby(s["kind"].astype(str) if "kind" in s else "station"):
                p = grp.to_crs(crs).geometry
                ax.scatter(
                    p.x,
                    p.y,
                    s=60,
                    color=kind_colour(str(kind)),
                    edgecolors="white",
                    linewidths=1.2,
                    zorder=5,
                    label=label(lang, str(kind)),
                )
        if proposals is not None and len(proposals):
            p = proposals.to_crs(crs)
            ax.scatter(
                p.geometry.x,
                p.geometry.y,
                s=160,
                color="black",
                edgecolors="#ffeb3b",
                linewidths=1.5,
                zorder=6,
                label=label(lang, "proposed"),
            )
            for r, g in zip(p["rank"], p.geometry, strict=True):
                ax.annotate(
                    str(r),
                    (g.x, g.y),
                    color="#ffeb3b",
                    ha="center",
                    va="center",
                    fontsize=7,
                    fontweight="bold",
                    zorder=7,
                )
        if tiles:
            used_tiles = _try_tiles(ax)
        sm = res.summary
        ax.set_title(
            (title or label(lang, "title"))
            + "\n"
            + f"{label(lang, 'coverage')}: {100 * sm.get('population_covered_share', 0):.1f}%"
            f"  {label(lang, 'communities_covered')}: {sm.get('communities_covered')}/"
            f"{sm.get('communities')}",
            fontsize=11,
        )
        ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
        ax.set_axis_off()
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
    return {"path": str(path), "size_bytes": Path(path).stat().st_size, "tiles": used_tiles}


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
