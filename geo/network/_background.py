"""A recognisable map background from the user's own OSM file (pyosmium), or any vector file.

:func:`read_background` reads, from the same ``.osm``/``.osm.pbf`` the walking network came
from, the features officials use to find their way: water areas (``natural=water``,
``water=*``, ``landuse=reservoir/basin``, ``waterway=riverbank``) and waterways (rivers,
canals, streams), parks and green spaces (``leisure=park/garden``, ``landuse=grass/forest``),
railways (rail, subway, light rail, tram), and the names of districts, suburbs and places.
Street names come from the network itself (``edge_name``), so road centre-line files give them
too.

This is a second pass over the file (pyosmium's area assembly needs its own two-pass reader);
for a city extract it takes about as long as reading the network. The file's features are
cached in memory per process; each map takes the ones in its own box.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .._errors import NetworkError

logger = logging.getLogger(__name__)

__all__ = ["background_for", "read_background", "read_vector_background"]

_WATER_AREA = {"natural": {"water", "bay", "wetland"}, "landuse": {"reservoir", "basin"},
               "waterway": {"riverbank", "dock"}}  # fmt: skip
_WATERWAYS = {"river", "canal", "stream", "drain"}
_PARK = {"leisure": {"park", "garden", "nature_reserve"},
         "landuse": {"grass", "forest", "recreation_ground", "village_green"},
         "natural": {"wood"}}  # fmt: skip
_RAIL = {"rail", "subway", "light_rail", "tram", "monorail", "narrow_gauge"}
_PLACES = {"city": "district", "district": "district", "borough": "district",
           "suburb": "suburb", "quarter": "suburb", "town": "place", "village": "place",
           "neighbourhood": "place", "locality": "place", "hamlet": "place"}  # fmt: skip


def _area_class(tags) -> str | None:
    for k, vals in _WATER_AREA.items():
        if tags.get(k) in vals:
            return "water"
    if "water" in tags and tags.get("natural") != "wetland":
        return "water"
    for k, vals in _PARK.items():
        if tags.get(k) in vals:
            return "park"
    if tags.get("boundary") == "administrative" and tags.get("admin_level") in ("6", "7", "8"):
        return "district"
    if tags.get("place") in _PLACES:
        return _PLACES[tags.get("place")]
    return None


def read_background(path: str | Path, bbox: tuple[float, float, float, float] | None = None):
    """Water, parks, railways and place names of an OSM file as a GeoDataFrame (WGS84).

    Parameters
    ----------
    path
        ``.osm`` (XML) or ``.osm.pbf`` file.
    bbox
        ``(minlon, minlat, maxlon, maxlat)``: keep only features that touch it.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``bg`` (``water``, ``park``, ``rail``, ``district``, ``suburb``, ``place``),
        ``name`` and geometry.
    """
    path = Path(path)
    st = path.stat()
    g = _read_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)
    if bbox is not None and len(g):
        g = g.iloc[g.sindex.query(shapely.box(*bbox), predicate="intersects")]
    return g.sort_index().reset_index(drop=True)


@lru_cache(maxsize=2)
def _read_cached(path: str, _mtime: int, _size: int) -> gpd.GeoDataFrame:
    """The whole file's background, read once per process (audit workers reuse it across
    counties, each taking its own box)."""
    import osmium

    rows_bg: list[str] = []
    rows_name: list[str] = []
    geoms: list = []
    wkb = osmium.geom.WKBFactory()

    class H(osmium.SimpleHandler):
        def node(self, n):
            kind = _PLACES.get(n.tags.get("place", ""))
            name = n.tags.get("name", "")
            if kind and name and n.location.valid():
                rows_bg.append(kind)
                rows_name.append(name)
                geoms.append(shapely.Point(n.location.lon, n.location.lat))

        def way(self, w):
            t = w.tags
            ww, rw = t.get("waterway"), t.get("railway")
            kind = "water" if ww in _WATERWAYS else "rail" if rw in _RAIL else None
            if kind is None or t.get("tunnel") in ("yes", "culvert"):
                return
            try:
                g = shapely.from_wkb(wkb.create_linestring(w))
            except Exception:  # a way with missing nodes (edge of the extract)
                return
            rows_bg.append(kind)
            rows_name.append(t.get("name", ""))
            geoms.append(g)

        def area(self, a):
            kind = _area_class(a.tags)
            if kind is None:
                return
            try:
                g = shapely.from_wkb(wkb.create_multipolygon(a))
            except Exception:  # incomplete multipolygon at the edge of the extract
                return
            rows_bg.append(kind)
            rows_name.append(a.tags.get("name", ""))
            geoms.append(g)

    try:
        H().apply_file(path, locations=True, idx="flex_mem")
    except RuntimeError as exc:
        raise NetworkError(f"{path}: cannot read the map background ({exc})") from exc
    g = gpd.GeoDataFrame({"bg": rows_bg, "name": rows_name}, geometry=geoms, crs=4326)
    g = g[~g.geometry.is_empty].reset_index(drop=True)
    logger.info(
        "%s: background %s",
        Path(path).name,
        g["bg"].value_counts().to_dict() if len(g) else "empty",
    )
    return g


def read_vector_background(path: str | Path, kind: str | None = None) -> gpd.GeoDataFrame:
    """Any vector file as background: ``kind`` (or a ``bg`` column, else ``water``) and names.

    A polygon layer from a planning institute (lakes, rivers) gives ``water`` by default; pass
    ``kind="park"`` or ``"rail"`` for others.
    """
    g = gpd.read_file(path)
    if g.crs is None:
        raise NetworkError(
            f"{path}: the background file has no coordinate system (.prj); add one, e.g. "
            "with ogr2ogr -a_srs EPSG:4326"
        )
    g = g.to_crs(4326)
    name_col = next((c for c in ("name", "名称", "NAME", "Name") if c in g.columns), None)
    out = gpd.GeoDataFrame(
        {
            "bg": kind or (g["bg"].astype(str) if "bg" in g else "water"),
            "name": g[name_col].fillna("").astype(str) if name_col else "",
        },
        geometry=g.geometry.to_numpy(),
        crs=4326,
    )
    return out[~out.geometry.is_empty & out.geometry.notna()].reset_index(drop=True)


def background_for(net, extra: list[str | Path] | None = None, pad_deg: float = 0.01):
    """The background of a network: its OSM source file's features (when it came from OSM and
    the file is still there) plus any ``extra`` vector files; ``None`` when there is nothing."""
    parts = []
    src = net.meta.get("source")
    if src and net.meta.get("source_kind") in ("osm-xml", "osm-pbf") and Path(src).exists():
        lon = np.asarray(net.lon)
        lat = np.asarray(net.lat)
        bbox = (
            float(lon.min()) - pad_deg,
            float(lat.min()) - pad_deg,
            float(lon.max()) + pad_deg,
            float(lat.max()) + pad_deg,
        )
        try:
            parts.append(read_background(src, bbox))
        except NetworkError as exc:
            logger.warning("no OSM background: %s", exc)
    for f in extra or []:
        parts.append(read_vector_background(f))
    parts = [p for p in parts if len(p)]
    if not parts:
        return None
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)
