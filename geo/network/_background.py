"""A recognisable map background from the user's own OSM file (pyosmium), or any vector file.

:func:`read_background` reads, from the same ``.osm``/``.osm.pbf`` the walking network came
from, the features officials use to find their way: water areas (``natural=water``,
``water=*``, ``landuse=reservoir/basin``, ``waterway=riverbank``) and waterways (rivers,
canals, streams), parks and green spaces (``leisure=park/garden``, ``landuse=grass/forest``),
railways (rail, subway, light rail, tram), and the names of districts, suburbs and places.
Street names come from the network itself (``edge_name``), so road centre-line files give them
too.

libosmium picks the tagged objects before Python sees any (one pass without node locations);
node locations and pyosmium's area assembly then run only over the ways that can matter, and
not at all when the file has none. The file's features are cached in memory per process; each
map takes the ones in its own box.
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


#: Tag keys that can make a way, area or relation part of the background (see _area_class and
#: the ``way`` callback); objects without any of them are never looked at in Python.
_KEYS = ("waterway", "railway", "natural", "landuse", "water", "leisure", "boundary", "place")


@lru_cache(maxsize=2)
def _read_cached(path: str, _mtime: int, _size: int) -> gpd.GeoDataFrame:
    """The whole file's background, read once per process (audit workers reuse it across
    counties, each taking its own box).

    libosmium filters by tag key before Python sees anything. A first pass without node
    locations finds the candidate ways and the members of candidate relations; only when there
    are any does a second pass store node locations and assemble areas, for those ways alone
    (issue 13: a province with 3 million street nodes and no background took 18 s here)."""
    try:
        places, ways = _candidates(path)
        g = _assemble(path, ways) if ways else _frame(places)
    except RuntimeError as exc:
        raise NetworkError(f"{path}: cannot read the map background ({exc})") from exc
    logger.info(
        "%s: background %s",
        Path(path).name,
        g["bg"].value_counts().to_dict() if len(g) else "empty",
    )
    return g


def _key_filters():
    """C++ filters: nodes with a ``place`` tag; ways, areas and relations with a key of _KEYS."""
    import osmium

    nodes = osmium.filter.KeyFilter("place")
    nodes.enable_for(osmium.osm.NODE)
    others = osmium.filter.KeyFilter(*_KEYS)
    others.enable_for(osmium.osm.WAY | osmium.osm.AREA | osmium.osm.RELATION)
    return nodes, others


def _candidates(path: str) -> tuple[_Rows, set[int]]:
    """The named places, and the ids of the ways the background may need: ways with a key of
    _KEYS and the way members of relations with one (multipolygon rings are often untagged)."""
    import osmium

    rows = _Rows()
    ways: set[int] = set()
    nodes, others = _key_filters()
    for obj in osmium.FileProcessor(path).with_filter(nodes).with_filter(others):
        if obj.is_node():
            rows.place(obj)
        elif obj.is_way():
            ways.add(obj.id)
        elif obj.is_relation():
            ways.update(m.ref for m in obj.members if m.type == "w")
    return rows, ways


def _assemble(path: str, ways: set[int]) -> gpd.GeoDataFrame:
    """Places, waterways, railways and areas, the way pyosmium's SimpleHandler with areas and
    node locations would give them, with every way outside ``ways`` dropped before the node
    locations and the area assembler see it."""
    import osmium

    rows = _Rows()
    nodes, others = _key_filters()
    area = osmium.area.AreaManager()
    osmium.apply(osmium.io.Reader(path, osmium.osm.RELATION), others, area.first_pass_handler())
    keep = osmium.filter.IdFilter(ways)
    keep.enable_for(osmium.osm.WAY)
    lh = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    lh.ignore_errors()
    h = rows.handler()
    osmium.apply(
        osmium.io.Reader(path, osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION),
        keep,
        lh,
        area.second_pass_handler(nodes, others, h),
        nodes,
        others,
        h,
    )
    return _frame(rows)


class _Rows:
    """Background rows as they are read: kind, name and shape (WGS84)."""

    def __init__(self) -> None:
        import osmium

        self.bg: list[str] = []
        self.name: list[str] = []
        self.geom: list = []
        self.wkb = osmium.geom.WKBFactory()

    def add(self, kind: str, name: str, geom) -> None:
        self.bg.append(kind)
        self.name.append(name)
        self.geom.append(geom)

    def place(self, n) -> None:
        kind = _PLACES.get(n.tags.get("place", ""))
        name = n.tags.get("name", "")
        if kind and name and n.location.valid():
            self.add(kind, name, shapely.Point(n.location.lon, n.location.lat))

    def way(self, w) -> None:
        t = w.tags
        ww, rw = t.get("waterway"), t.get("railway")
        kind = "water" if ww in _WATERWAYS else "rail" if rw in _RAIL else None
        if kind is None or t.get("tunnel") in ("yes", "culvert"):
            return
        try:
            g = shapely.from_wkb(self.wkb.create_linestring(w))
        except Exception:  # a way with missing nodes (edge of the extract)
            return
        self.add(kind, t.get("name", ""), g)

    def area(self, a) -> None:
        kind = _area_class(a.tags)
        if kind is None:
            return
        try:
            g = shapely.from_wkb(self.wkb.create_multipolygon(a))
        except Exception:  # incomplete multipolygon at the edge of the extract
            return
        self.add(kind, a.tags.get("name", ""), g)

    def handler(self):
        """A pyosmium handler feeding these rows."""
        import osmium

        rows = self

        class H(osmium.SimpleHandler):
            def node(self, n):
                rows.place(n)

            def way(self, w):
                rows.way(w)

            def area(self, a):
                rows.area(a)

        return H()


def _frame(rows: _Rows) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame({"bg": rows.bg, "name": rows.name}, geometry=rows.geom, crs=4326)
    return g[~g.geometry.is_empty].reset_index(drop=True)


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
