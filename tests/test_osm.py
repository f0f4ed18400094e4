"""OSM reading: every edge carries the attributes of the way it lies on (issue 10, item 0)."""

from __future__ import annotations

import numpy as np
import pytest

from geo.demo import demo_pbf
from geo.network._osm import is_walkable, read_osm

osmium = pytest.importorskip("osmium")


#: every test twice: the compiled OPL parser and the NumPy path (conftest.opl_parser)
pytestmark = pytest.mark.usefixtures("opl_parser")


def _walkable_ways(path: str) -> dict[int, tuple[list[int], str, str, bool]]:
    """Independent reader: way id -> (node refs, highway, name, cut at the extract edge)."""

    class Ways(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.ways: dict[int, tuple[list[int], str, str, bool]] = {}

        def way(self, w) -> None:
            tags = {t.k: t.v for t in w.tags}
            if is_walkable(tags):
                cut = not all(n.location.valid() for n in w.nodes)
                refs = [n.ref for n in w.nodes]
                self.ways[w.id] = (refs, tags.get("highway", ""), tags.get("name", ""), cut)

    h = Ways()
    h.apply_file(path, locations=True)
    return h.ways


@pytest.fixture(scope="module")
def helsinki(opl_parser):
    path = str(demo_pbf())
    return _walkable_ways(path), read_osm(path)


def test_extract_has_cut_ways(helsinki):
    ways, _ = helsinki
    assert sum(w[3] for w in ways.values()) >= 35


def test_every_edge_carries_its_own_ways_attributes(helsinki):
    ways, net = helsinki
    wrong = []
    for e in range(net.n_edges):
        u, v = int(net.node_id[net.edge_u[e]]), int(net.node_id[net.edge_v[e]])
        way = ways.get(int(net.edge_osmid[e]))
        if (
            way is None
            or u not in way[0]
            or v not in way[0]
            or way[1] != net.edge_highway[e]
            or way[2] != net.edge_name[e]
        ):
            wrong.append(e)
    assert not wrong, f"{len(wrong)} of {net.n_edges} edges carry another way's attributes"


def test_laivasillankatu_example(helsinki):
    _, net = helsinki
    u, v = net.node_id[net.edge_u], net.node_id[net.edge_v]
    pair = {59628850, 311048101}
    hit = np.flatnonzero([{int(a), int(b)} == pair for a, b in zip(u, v, strict=True)])
    assert hit.size == 1
    assert int(net.edge_osmid[hit[0]]) == 7973129
    assert net.edge_name[hit[0]] == "Laivasillankatu"
