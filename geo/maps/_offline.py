"""Make a folium page self-contained: inline Leaflet and jQuery from installed packages.

folium loads Leaflet, jQuery, Bootstrap and Font Awesome from foreign CDNs, which are often
unreachable from Chinese government networks. servicecircle's maps use only Leaflet (circle
markers, div icons and GeoJSON, no icon fonts) and jQuery (folium's popups), so the offline page
inlines Leaflet's JS and CSS (its images as data URIs) from ``xstatic-leaflet`` and jQuery from
``xstatic-jquery``, and drops the other CDN links.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from .._errors import OptionalDependencyError

_TAG = re.compile(
    r'<script[^>]+src="(https?://[^"]+)"[^>]*>\s*</script>|'
    r'<link[^>]+href="(https?://[^"]+)"[^>]*/?>'
)


def _xstatic_dir(name: str) -> Path:
    import importlib

    try:
        mod = importlib.import_module(f"xstatic.pkg.{name}")
    except ImportError as exc:
        raise OptionalDependencyError(
            f"offline maps need the package 'xstatic-{name}'; install it with: "
            f"pip install xstatic-{name}"
        ) from exc
    return Path(mod.BASE_DIR)


def _leaflet_dir() -> Path:
    return _xstatic_dir("leaflet")


def jquery_js() -> str:
    return (_xstatic_dir("jquery") / "jquery.min.js").read_text(encoding="utf-8")


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and its CSS with images embedded as data URIs."""
    base = _leaflet_dir()
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def embed(m: re.Match) -> str:
        img = base / m.group(1)
        if not img.exists():
            return m.group(0)
        data = base64.b64encode(img.read_bytes()).decode()
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\((images/[^)]+\.png)\)", embed, css)
    return js, css


def inline_assets(html: str) -> str:
    """Replace CDN ``<script>``/``<link>`` tags with inline Leaflet; drop the rest.

    Raises
    ------
    RuntimeError
        If an external script other than folium's defaults remains (the page would break).
    """
    js, css = leaflet_assets()
    js = js.replace("</script", "<\\/script")
    jq = jquery_js().replace("</script", "<\\/script")
    done = {"js": False, "css": False}

    def repl(m: re.Match) -> str:
        url = m.group(1) or m.group(2)
        if "leaflet@" in url and url.endswith("leaflet.js"):
            done["js"] = True
            return f"<script>{js}</script>"
        if "leaflet@" in url and url.endswith("leaflet.css"):
            done["css"] = True
            return f"<style>{css}</style>"
        if "jquery" in url:
            return f"<script>{jq}</script>"
        if any(k in url for k in ("bootstrap", "awesome", "fontawesome")):
            return ""
        raise RuntimeError(f"offline map would still load {url}; it cannot be inlined")

    out = _TAG.sub(repl, html)
    if not (done["js"] and done["css"]):
        raise RuntimeError("the map page has no Leaflet tags to inline")
    return out
