"""The street index that describes proposals: junctions found with arrays equal the pandas
group-by they replace; the index is cached per network without keeping the network alive."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
from helpers import grid_network
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage.core import INDEX_CACHE
from geo.optimize._describe import StreetIndex, _junctions, describe_location


def _junctions_groupby(net, names, named):
    """The reference: the pandas group-by the index used before."""
    node = np.concatenate([net.edge_u[named], net.edge_v[named]])
    pairs = pd.DataFrame({"node": node, "name": np.concatenate([names[named]] * 2)})
    pairs = pairs.drop_duplicates()
    by_node = pairs.groupby("node")["name"].agg(lambda s: sorted(set(s)))
    junctions = by_node[by_node.map(len) >= 2]
    return junctions.index.to_numpy(), junctions.to_list()


class _Named:
    """A network's arrays with other street names."""

    def __init__(self, net, names):
        self.edge_u, self.edge_v = net.edge_u, net.edge_v
        self.names = np.asarray(names, dtype=object).astype(str)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    vocab=st.lists(
        st.text(alphabet="路街大道东西ab Z1-", min_size=0, max_size=4), min_size=1, max_size=8
    ),
)
def test_junctions_equal_groupby(seed, vocab):
    net = grid_network(6, 50.0, drop=0.2, seed=seed % 7)
    rng = np.random.default_rng(seed)
    vocab = [*vocab, "", "nan", "None"]
    g = _Named(net, [vocab[i] for i in rng.integers(0, len(vocab), net.n_edges)])
    names = g.names
    named = np.flatnonzero((names != "") & (names != "nan") & (names != "None"))
    nodes, lists = _junctions(g, names, named)
    want_nodes, want_lists = _junctions_groupby(g, names, named)
    assert np.array_equal(nodes, want_nodes)
    assert list(lists) == want_lists
    assert len(lists) == len(want_lists)
    assert lists[:] == want_lists
    assert all(type(x) is str for lst in lists for x in lst)


def test_index_cached_without_keeping_network():
    net = grid_network(6, 50.0, seed=1)
    object.__setattr__(
        net, "edge_name", np.array(["甲路", "乙路"] * (net.n_edges // 2 + 1))[: net.n_edges]
    )
    a = INDEX_CACHE.get(net, "street_index", StreetIndex)
    assert INDEX_CACHE.get(net, "street_index", StreetIndex) is a
    assert a.net is net
    lon, lat = float(net.lon[7]), float(net.lat[7])
    assert "甲路" in describe_location(a, lon, lat)
    ref = weakref.ref(net)
    del net, a
    gc.collect()
    assert ref() is None
