"""Find an installed CJK font for matplotlib figures (PNG maps, the marginal-gain plot).

Nothing here touches matplotlib's backend: figures are drawn on :class:`matplotlib.figure.Figure`
objects with an Agg canvas, so a notebook user's plotting backend is never switched.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["CJK_FAMILIES", "cjk_font"]

#: Font files registered with matplotlib when present but not yet in its cache.
CJK_FILES = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "DroidSansFallbackFull.ttf",
    "msyh.ttc",
    "simhei.ttf",
)
#: Family-name fragments of fonts that cover Chinese, in order of preference.
CJK_FAMILIES = (
    "WenQuanYi",
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
)


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed CJK font (registering known font files matplotlib has not cached),
    or None when there is none (callers then label in English)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    have = any(k in n for n in names for k in ("WenQuanYi", "Noto Sans CJK", "Droid Sans"))
    if not have:
        for path in font_manager.findSystemFonts():
            if Path(path).name in CJK_FILES:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):
                    continue
    for f in font_manager.fontManager.ttflist:
        if any(k in f.name for k in CJK_FAMILIES):
            return str(f.name)
    return None


@functools.lru_cache(maxsize=1)
def heading_weight() -> str:
    """``"bold"`` when the PNG's font (:func:`cjk_font`, else DejaVu Sans) has a bold face,
    else ``"normal"``: matplotlib would draw the regular face anyway, after a warning on the
    user's console (WenQuanYi Micro Hei ships no bold)."""
    from matplotlib import font_manager

    font = cjk_font()
    if font is None:
        return "bold"
    weights = [
        font_manager.weight_dict.get(f.weight, f.weight)
        for f in font_manager.fontManager.ttflist
        if f.name == font
    ]
    bold = any(isinstance(w, int) and w >= 600 for w in weights)
    return "bold" if bold else "normal"
