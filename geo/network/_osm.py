"""OpenStreetMap XML and PBF files to a walking :class:`Network`, via pyosmium.

Both formats go through libosmium (C++), which reads a city PBF in well under a second with
memory proportional to the file; see ``benchmarks/RESULTS.md`` for the osmium/pyrosm comparison
that chose it. Ways are kept by osmnx's own pedestrian ("walk") filter, reproduced tag for tag
in :func:`is_walkable` (osmnx 2.1, ``_overpass._get_network_filter("walk")``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._errors import NetworkError
from ._model import Network, from_pieces

logger = logging.getLogger(__name__)

# osmnx's walk filter, as Overpass "!~" (unanchored regex must not match) conditions.
_WALK_EXCLUDE: dict[str, re.Pattern[str]] = {
    "area": re.compile("yes"),
    "access": re.compile("private"),
    "highway": re.compile(
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services"
    ),
    "foot": re.compile("no"),
    "service": re.compile("private"),
    "sidewalk": re.compile("separate"),
    "sidewalk:both": re.compile("separate"),
    "sidewalk:left": re.compile("separate"),
    "sidewalk:right": re.compile("separate"),
}


def is_walkable(tags: Mapping[str, str]) -> bool:
    """osmnx's pedestrian filter: a public ``highway`` a person may walk along.

    Excludes motorways, cycleways, areas, private access, ``foot=no``, construction and
    ways whose sidewalks are mapped separately (the sidewalk ways are used instead).
    """
    if "highway" not in tags:
        return False
    for key, pattern in _WALK_EXCLUDE.items():
        value = tags.get(key)
        if value is not None and pattern.search(value):
            return False
    return True


def read_osm(path: str | Path, *, meta: dict | None = None) -> Network:
    """Build the walking network of an OSM ``.osm`` (XML) or ``.osm.pbf`` file.

    Parameters
    ----------
    path
        The OSM file. Ways must be complete (every referenced node present), as in extracts
        from Geofabrik, the openstreetmap.org export or Overpass ``(._;>;);`` queries; vertices
        without a location split their way.
    meta
        Extra provenance stored on the network.
    """
    import osmium

    path = Path(path)
    fp = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    line_idx: list[int] = []
    osmids: list[int] = []
    highways: list[str] = []
    names: list[str] = []
    n_ways = n_missing = 0
    line = 0
    try:
        for way in fp:
            n_ways += 1
            tags = way.tags
            if not is_walkable(tags):
                continue
            run = 0
            for nd in way.nodes:
                loc = nd.location
                if not loc.valid():
                    n_missing += 1
                    if run >= 2:
                        line += 1
                    elif run:  # a lone in-extract vertex: drop it and its line's attributes
                        del refs[-run:], lons[-run:], lats[-run:], line_idx[-run:]
                        osmids.pop(), highways.pop(), names.pop()
                    run = 0
                    continue
                if run == 0:
                    osmids.append(way.id)
                    highways.append(tags.get("highway", ""))
                    names.append(tags.get("name", ""))
                refs.append(nd.ref)
                lons.append(loc.lon)
                lats.append(loc.lat)
                line_idx.append(line)
                run += 1
            if run >= 2:
                line += 1
            elif run:
                del refs[-run:], lons[-run:], lats[-run:], line_idx[-run:]
                osmids.pop(), highways.pop(), names.pop()
    except RuntimeError as exc:  # libosmium parse errors
        raise NetworkError(f"{path}: cannot read as OSM XML/PBF ({exc})") from exc
    if len(osmids) != line:  # one attribute row per kept line, in line order
        raise AssertionError(f"read_osm: {len(osmids)} attribute rows for {line} lines")
    if n_missing:
        logger.warning(
            "%s: %d way vertices have no location (outside the extract); their "
            "ways were split there",
            path.name,
            n_missing,
        )
    if not refs:
        raise NetworkError(
            f"{path}: no walkable streets found among {n_ways} highway ways; check that the "
            "file is an OSM extract of the right area"
        )
    refs_a = np.asarray(refs, np.int64)
    node_ids, first = np.unique(refs_a, return_index=True)
    lon_a, lat_a = np.asarray(lons), np.asarray(lats)
    info = {
        "source": str(path),
        "source_kind": "osm-pbf" if path.suffix == ".pbf" else "osm-xml",
        "ways_read": n_ways,
        "walk_filter": "osmnx 2.1 walk",
        **(meta or {}),
    }
    return from_pieces(
        node_ids,
        lon_a[first],
        lat_a[first],
        refs_a,
        np.asarray(line_idx, np.int64),
        np.asarray(osmids, np.int64),
        np.asarray(highways, object),
        np.asarray(names, object),
        info,
    )
