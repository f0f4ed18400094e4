"""The network's array primitives against plain definitions (issue 13: the province parse was
sped up by computing each of them once, from one sort): adjacency, component labels kept
across :func:`drop_islands`, first-occurrence/inverse indices and segment lengths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from geo.network._model import (
    ZERO_LENGTH_M,
    Network,
    _consecutive_haversine_m,
    _edge_geometry,
    drop_islands,
    haversine_m,
    unique_first,
    unique_first_inverse,
)


def _network(n: int, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> Network:
    """Straight edges between nodes on a small grid (about 110 m apart)."""
    lon = 114.3 + (np.arange(n) % 7) * 0.001
    lat = 30.5 + (np.arange(n) // 7) * 0.001
    counts = np.full(u.size, 2)
    return Network(
        node_id=np.arange(n, dtype=np.int64) * 10 + 1,
        lon=lon,
        lat=lat,
        edge_u=u.astype(np.int64),
        edge_v=v.astype(np.int64),
        length=length.astype(float),
        geom_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
        geom_lon=np.column_stack([lon[u], lon[v]]).ravel(),
        geom_lat=np.column_stack([lat[u], lat[v]]).ravel(),
        edge_osmid=np.arange(u.size, dtype=np.int64),
        edge_highway=np.full(u.size, "footway", object),
        edge_name=np.full(u.size, "", object),
        meta={},
    )


@st.composite
def edge_lists(draw, max_nodes: int = 30):
    n = draw(st.integers(2, max_nodes))
    m = draw(st.integers(1, 3 * n))
    u = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    v = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    length = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.5, 3.0, 120.0, 1500.0]), min_size=m, max_size=m))
    )
    used = np.zeros(n, bool)
    used[u] = used[v] = True  # every node ends an edge, as in a parsed network
    remap = np.cumsum(used) - 1
    return int(used.sum()), remap[u], remap[v], length


@settings(max_examples=150, deadline=None)
@given(edge_lists())
def test_csr_is_the_shortest_edge_between_each_pair(case):
    n, u, v, length = case
    csr = _network(n, u, v, length).csr
    want: dict[tuple[int, int], float] = {}
    for a, b, w in zip(u.tolist(), v.tolist(), length.tolist(), strict=True):
        if a == b:
            continue  # self-loops never shorten a path
        for key in ((a, b), (b, a)):
            want[key] = min(want.get(key, np.inf), max(w, ZERO_LENGTH_M))
    coo = csr.tocoo()
    got = dict(
        zip(zip(coo.row.tolist(), coo.col.tolist(), strict=True), coo.data.tolist(), strict=True)
    )
    assert got == want
    assert csr.has_sorted_indices and csr.shape == (n, n)
    assert all(
        np.all(np.diff(csr.indices[a:b]) > 0)
        for a, b in zip(csr.indptr[:-1], csr.indptr[1:], strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(edge_lists(max_nodes=40))
def test_labels_carried_across_drop_islands_are_those_computed_again(case):
    n, u, v, length = case
    net = _network(n, u, v, length)
    out = drop_islands(net)
    again = _network(out.n_nodes, out.edge_u, out.edge_v, out.length)
    assert np.array_equal(out.component_labels, again.component_labels)
    _, raw = connected_components(again.csr, directed=False)
    # the same partition as scipy's, numbered by size (0 = the largest piece)
    pairs = {(int(r), int(c)) for r, c in zip(raw, out.component_labels, strict=True)}
    assert len(pairs) == len(set(raw.tolist())) == len(set(out.component_labels.tolist()))
    sizes = np.bincount(out.component_labels)
    assert np.all(np.diff(sizes) <= 0)


@given(
    st.lists(st.integers(-(2**40), 2**40), max_size=60) | st.lists(st.integers(0, 5), max_size=60)
)
def test_unique_first_inverse_is_numpys(values):
    a = np.array(values, dtype=np.int64)
    distinct, first, inverse = unique_first_inverse(a)
    want, want_first, want_inverse = np.unique(a, return_index=True, return_inverse=True)
    assert np.array_equal(distinct, want)
    assert np.array_equal(first, want_first)
    assert np.array_equal(inverse, want_inverse.ravel())
    assert np.array_equal(inverse, np.searchsorted(distinct, a))
    d2, f2 = unique_first(a)
    assert np.array_equal(d2, want) and np.array_equal(f2, want_first)


@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-89.9, 89.9)), min_size=1, max_size=50))
def test_consecutive_haversine_is_the_same_doubles(points):
    lon, lat = np.array(points, float).T
    got = _consecutive_haversine_m(lon, lat)
    want = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert got.tobytes() == want.tobytes()


@st.composite
def edge_runs(draw):
    """Edges over line vertices: (first vertex, vertex count >= 2) runs, node positions, and
    node coordinates."""
    n_nodes = draw(st.integers(2, 12))
    runs = draw(st.lists(st.integers(2, 6), min_size=1, max_size=25))
    pos = np.array(
        draw(st.lists(st.integers(0, n_nodes - 1), min_size=sum(runs), max_size=sum(runs)))
    )
    first = np.r_[0, np.cumsum(runs)[:-1]].astype(np.int64)
    lon = 114.0 + np.array(draw(st.lists(st.floats(0, 0.05), min_size=n_nodes, max_size=n_nodes)))
    lat = 30.0 + np.array(draw(st.lists(st.floats(0, 0.05), min_size=n_nodes, max_size=n_nodes)))
    return first, np.array(runs, np.int64), pos.astype(np.int64), lon, lat


@pytest.mark.parametrize("block", [1, 3, 1 << 16])
@settings(max_examples=60, deadline=None)
@given(edge_runs())
def test_edge_geometry_is_the_plain_definition(block, runs):
    import geo.network._model as model

    first, npts, pos, lon, lat = runs
    old, model.EDGE_BLOCK = model.EDGE_BLOCK, block
    try:
        glon, glat, offsets, length = _edge_geometry(first, npts, pos, lon, lat)
    finally:
        model.EDGE_BLOCK = old
    assert np.array_equal(offsets, np.r_[0, np.cumsum(npts)])
    for e, (f, n) in enumerate(zip(first, npts, strict=True)):
        at = pos[f : f + n]
        sl = slice(offsets[e], offsets[e + 1])
        assert glon[sl].tobytes() == lon[at].tobytes()
        assert glat[sl].tobytes() == lat[at].tobytes()
        total = 0.0  # the segments summed in order, as np.bincount over all edges does
        for d in haversine_m(lon[at][:-1], lat[at][:-1], lon[at][1:], lat[at][1:]):
            total += d
        assert length[e] == total


@settings(max_examples=150, deadline=None)
@given(edge_lists(max_nodes=40))
def test_labels_without_the_csr_are_those_from_it(case):
    """Labels come from the plain edge list unless the weighted CSR exists already: the same
    numbers either way (self-loops, parallel and zero-length edges included)."""
    n, u, v, length = case
    plain = _network(n, u, v, length)
    assert "csr" not in plain.__dict__
    labels = plain.component_labels
    assert "csr" not in plain.__dict__  # not built just for the labels
    weighted = _network(n, u, v, length)
    _ = weighted.csr
    assert np.array_equal(labels, weighted.component_labels)
    _, raw = connected_components(weighted.csr, directed=False)
    sizes = np.bincount(labels)
    assert np.all(np.diff(sizes) <= 0) and len(set(raw.tolist())) == sizes.size


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["footway", "residential", "", "步行街", "a,b=c%"]), max_size=20),
    # (NumPy's fixed-width text drops trailing NULs, in either layout)
    st.lists(st.text(st.characters(blacklist_characters="\x00"), max_size=6), max_size=20),
)
def test_npz_text_columns_round_trip_as_codes(tmp_path_factory, highway, name):
    """The text columns are stored as codes into their distinct values and come back as the
    same texts; a file that stores them as fixed-width text (older versions) still loads."""
    m = min(len(highway), len(name))
    n = 2 * m
    u, v = np.arange(0, n, 2), np.arange(1, n, 2)
    net = _network(n, u, v, np.full(m, 10.0))
    object.__setattr__(net, "edge_highway", np.array(highway[:m], object))
    object.__setattr__(net, "edge_name", np.array(name[:m], object))
    path = tmp_path_factory.mktemp("npz") / "net.npz"
    net.save_npz(path)
    with np.load(path) as z:
        assert "edge_name_codes" in z.files and "edge_name" not in z.files
    back = Network.load_npz(path)
    for k in ("edge_highway", "edge_name"):
        got = getattr(back, k)
        assert got.dtype == object and got.tolist() == [str(x) for x in getattr(net, k)]
    old = {k: getattr(net, k) for k in ("node_id", "lon", "lat", "edge_u", "edge_v", "length",
                                        "geom_offsets", "geom_lon", "geom_lat", "edge_osmid")}  # fmt: skip
    old["edge_highway"] = net.edge_highway.astype(str)
    old["edge_name"] = net.edge_name.astype(str)
    old["meta_json"] = np.array("{}")
    np.savez(path, **old)
    again = Network.load_npz(path)
    assert again.edge_name.tolist() == back.edge_name.tolist()
    assert again.edge_highway.tolist() == back.edge_highway.tolist()
