"""Online tile basemaps for the HTML map (the vector background needs none)."""

from __future__ import annotations

from typing import Any, Literal

import folium

from ._labels import label

Basemap = Literal["osm", "amap", "tianditu", "none"]
BASEMAPS: dict[str, dict[str, Any]] = {
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "© OpenStreetMap contributors",
        "gcj02": False,
    },
    "amap": {
        "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
        "&style=8&x={x}&y={y}&z={z}",
        "attr": "© 高德地图 AutoNavi",
        "subdomains": "1234",
        "gcj02": True,
    },
    "tianditu": {
        "tiles": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attr": "© 天地图 Tianditu",
        "subdomains": "01234567",
        "gcj02": False,
    },
}


def check_basemap(basemap: str) -> None:
    if basemap not in ("osm", "amap", "tianditu", "none"):
        raise ValueError(f"basemap must be osm, amap, tianditu or none, not {basemap!r}")


def add_tiles(m: folium.Map, basemap: str, key: str, lang: str) -> None:
    """The basemap's tile layer (and Tianditu's label layer); Tianditu needs ``key``."""
    spec = BASEMAPS[basemap]
    if basemap == "tianditu" and not key:
        raise ValueError(
            "the Tianditu basemap needs a key: pass --tianditu-key or set "
            "TIANDITU_KEY (free from console.tianditu.gov.cn)"
        )
    kw = {"subdomains": spec["subdomains"]} if "subdomains" in spec else {}
    name = f"{label(lang, 'basemap')}: {basemap}"
    folium.TileLayer(
        spec["tiles"].replace("{key}", key), attr=spec["attr"], name=name, max_zoom=19,
        sc_name=name, **kw,
    ).add_to(m)  # fmt: skip
    if "labels" in spec:
        folium.TileLayer(
            spec["labels"].replace("{key}", key), attr=spec["attr"], name="labels",
            overlay=True, **kw,
        ).add_to(m)  # fmt: skip
