"""Map data as JSON for ``sc_map.js``: features, safe script embedding, aggregation.

Data never becomes JavaScript or HTML source. Layers are GeoJSON FeatureCollections whose
properties are plain values; the page's own script (``sc_map.js``) reads them with
``JSON.parse`` and puts every string on the page with ``textContent``. The JSON sits in a
``<script type="application/json">`` element, with ``<``, ``>``, ``&``, U+2028 and U+2029
escaped so no value can close the element or start markup.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import shapely
from branca.element import Element

#: Above this many communities the map draws them aggregated into hexagons (count, population
#: and covered share per cell) instead of one marker each. 20,000 markers are ~4 MB of map and
#: still pan smoothly in Chromium; a million would be ~500 MB and freeze the page.
MAX_COMMUNITY_POINTS = 20_000
#: Aim for at most this many hexagons when aggregating.
TARGET_HEXAGONS = 4_000

_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class RawHTML(Element):
    """Page text added as is. branca's ``Element(text)`` compiles its text as a Jinja template,
    so data holding ``{{ ... }}`` would be evaluated while the page is built; this does not."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._raw = text

    def render(self, **kwargs: Any) -> str:
        return self._raw


def escape_text(x: Any) -> str:
    """Text safe both as HTML and inside a JavaScript template string (folium puts Tooltip and
    Popup text into backtick strings): HTML-escaped, and backtick, ``$``, backslash and braces
    as character references. For add-on layers that still use folium tooltips (``compare``);
    new layers pass data as JSON instead."""
    s = html.escape("" if x is None else str(x), quote=True)
    s = s.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
    return s.replace("{", "&#123;").replace("}", "&#125;")


def safe_json(text: str) -> str:
    """Escape a JSON text for a ``<script>`` element (no ``</script>``, ``<!--``, line seps)."""
    for a, b in _ESCAPES.items():
        text = text.replace(a, b)
    return text


def clean(v: Any) -> Any:
    """A JSON-able plain value: numpy scalars unwrapped, NaN/inf -> None."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        return v
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def feature_collection(geoms: np.ndarray, props: dict[str, Any] | None = None) -> str:
    """A GeoJSON FeatureCollection text; ``props`` maps a column name to a sequence (or scalar)."""
    geoms = np.asarray(geoms)
    n = len(geoms)
    cols: dict[str, list] = {}
    for k, v in (props or {}).items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            cols[k] = [clean(v)] * n
        else:
            vals = list(v)
            if len(vals) != n:
                raise ValueError(f"property {k!r} has {len(vals)} values for {n} features")
            cols[k] = [clean(x) for x in vals]
    gj = shapely.to_geojson(geoms) if n else np.array([], object)
    keys = list(cols)
    parts = []
    for i in range(n):
        if gj[i] is None:
            continue
        p = dumps({k: cols[k][i] for k in keys})
        parts.append(f'{{"type":"Feature","geometry":{gj[i]},"properties":{p}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def many_features(geoms: np.ndarray, props: dict[str, list[Any]]) -> str:
    """:func:`feature_collection`'s very text (a test checks), for layers of
    tens of thousands of features: each distinct property value is encoded once, not one
    ``json.dumps`` per feature."""
    geoms = np.asarray(geoms)
    n = len(geoms)
    cols = []
    for k, v in props.items():
        if len(v) != n:
            raise ValueError(f"property {k!r} has {len(v)} values for {n} features")
        key = dumps(k) + ":"
        cols.append([key + t for t in _encode_column(v)])
    gj = shapely.to_geojson(geoms) if n else np.array([], object)
    rows = zip(*cols, strict=True) if cols else ((),) * n
    parts = [
        f'{{"type":"Feature","geometry":{g},"properties":{{{",".join(p)}}}}}'
        for g, p in zip(gj, rows, strict=True)
        if g is not None
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _encode_column(v: list[Any]) -> list[str]:
    """``dumps(clean(x))`` for every value; each distinct one encoded once."""
    types = set(map(type, v))
    if types == {str} or (types == {float} and 0.0 not in v):  # one dict lookup per value
        texts = {x: dumps(clean(x)) for x in set(v)}
        return [texts[x] for x in v]
    done: dict[Any, str] = {}
    return [_encoded(x, done) for x in v]


def _encoded(x: Any, done: dict[Any, str]) -> str:
    """``dumps(clean(x))``, remembered per (type, value): ``1``, ``1.0`` and ``True`` differ."""
    if isinstance(x, float) and x == 0:  # 0.0 == -0.0, but their texts differ
        return dumps(clean(x))
    try:
        key = (type(x), x)
        text = done.get(key)
    except TypeError:  # not hashable
        return dumps(clean(x))
    if text is None:
        text = done[key] = dumps(clean(x))
    return text


def layer_json(spec: dict[str, Any], data: str) -> str:
    """One layer: its settings (names, styles, popup fields) and its FeatureCollection text."""
    head = dumps({k: clean(v) if not isinstance(v, (dict, list)) else v for k, v in spec.items()})
    return head[:-1] + ',"data":' + data + "}"


def payload_script(meta: dict[str, Any], layers: list[str], element_id: str = "sc-data") -> str:
    """The ``<script type="application/json">`` element that carries the whole map."""
    body = dumps(meta)[:-1] + ',"layers":[' + ",".join(layers) + "]}"
    return f'<script type="application/json" id="{element_id}">{safe_json(body)}</script>'


def round_coords(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def hexbin(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointy-top hexagon cell of each metric point: returns (cell key per point, centres xy).

    ``size`` is the hexagon's circumradius in metres.
    """
    q = (math.sqrt(3) / 3 * x - y / 3) / size
    r = (2 / 3 * y) / size
    # cube rounding
    cx, cz = q, r
    cy = -cx - cz
    rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
    dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
    fix_x = (dx > dy) & (dx > dz)
    fix_y = ~fix_x & (dy > dz)
    rx = np.where(fix_x, -ry - rz, rx)
    ry = np.where(fix_y, -rx - rz, ry)
    rz = np.where(~fix_x & ~fix_y, -rx - ry, rz)
    qi, ri = rx.astype(np.int64), rz.astype(np.int64)
    key = qi * 2_000_003 + ri
    centres = np.column_stack([size * math.sqrt(3) * (qi + ri / 2), size * 1.5 * ri])
    return key, centres


def hexagons(centres: np.ndarray, size: float) -> np.ndarray:
    """Polygons of pointy-top hexagons around metric ``centres`` (N, 2)."""
    ang = np.deg2rad(np.arange(6) * 60 + 30)
    ring = np.column_stack([np.cos(ang), np.sin(ang)]) * size
    coords = centres[:, None, :] + ring[None, :, :]
    coords = np.concatenate([coords, coords[:, :1]], axis=1)
    return shapely.polygons(coords)


def hex_size_for(x: np.ndarray, y: np.ndarray, target: int = TARGET_HEXAGONS) -> float:
    """A round hexagon radius (m) that gives about ``target`` cells over the points' extent."""
    w = float(np.nanpercentile(x, 99.5) - np.nanpercentile(x, 0.5)) or 1.0
    h = float(np.nanpercentile(y, 99.5) - np.nanpercentile(y, 0.5)) or 1.0
    raw = math.sqrt(w * h / (target * 2.6))
    for nice in (100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 20_000):
        if raw <= nice:
            return float(nice)
    return 50_000.0
