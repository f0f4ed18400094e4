"""geo.network.build_for_clipping (issue 13): the province audit clips its counties out of the
network as read, leaving the dropped pieces' edges out of each clip, instead of copying the whole
network without them first. Every clip must be the one the built network gives, meta included."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import metres_to_lonlat, network_from_edges

from geo.config import Config
from geo.network import EdgeClipper, Network, build_for_clipping, build_network, save_graphml
from geo.network._model import _ARRAYS


def _islands_graphml(tmp_path):
    """A 12 x 12 grid of 100 m blocks, a 4.8 km viaduct, and three short fragments (one of them
    inside the grid's box, one crossing its edge)."""
    n = 12
    xy = [(i * 100.0, j * 100.0) for j in range(n) for i in range(n)]
    edges = [(j * n + i, j * n + i + 1) for j in range(n) for i in range(n - 1)]
    edges += [(j * n + i, (j + 1) * n + i) for j in range(n - 1) for i in range(n)]
    for a, b in [((1500, 0), (6300, 0)), ((350, 350), (420, 390)), ((1150, 500), (1300, 520)),
                 ((-300, 1500), (-100, 1700))]:  # fmt: skip
        xy += [a, b]
        edges.append((len(xy) - 2, len(xy) - 1))
    net = network_from_edges(np.array(xy, float), edges)
    return save_graphml(net, tmp_path / "islands.graphml")


def _same(a, b) -> None:
    for k in _ARRAYS:
        assert np.array_equal(getattr(a, k), getattr(b, k)), k
    drop = ("build_seconds",)
    assert {k: v for k, v in a.meta.items() if k not in drop} == {
        k: v for k, v in b.meta.items() if k not in drop
    }
    assert list(a.meta) == list(b.meta)  # the same order in the piece's JSON
    assert a.metric_crs == b.metric_crs


@pytest.mark.parametrize(
    "options", [{}, {"keep_islands": True}, {"largest_component": True}], ids=str
)
def test_clips_equal_those_of_the_built_network(tmp_path, options):
    path = _islands_graphml(tmp_path)
    cfg = Config(cache_dir=tmp_path / "cache", use_cache=False)
    built = build_network(path, config=cfg, **options)
    raw, keep = build_for_clipping(path, config=cfg, **options)
    if options:
        assert ("islands_dropped" in built.meta) is False
    else:
        # under 1% of the grid's 26.4 km go; the viaduct and the 283 m fragment stay
        assert built.meta["islands_dropped"] == 2
    assert (keep is None) == bool(options.get("keep_islands"))
    _same(built, raw if keep is None else raw.select_edges(keep))
    classic, lazy = EdgeClipper(built), EdgeClipper(raw, keep=keep)
    rng = np.random.default_rng(3)
    for _ in range(25):
        x, y = rng.uniform(-400, 1600, 2)
        r = rng.uniform(50, 700)
        lon, lat = metres_to_lonlat(np.array([x - r, x + r]), np.array([y - r, y + r]))
        area = shapely.box(lon[0], lat[0], lon[1], lat[1])
        buf = float(rng.choice([0.0, 100.0, 400.0]))
        assert classic.estimate(area) == lazy.estimate(area)
        try:
            want = classic.clip(area, buf)
        except Exception as exc:  # an area with no street: the same error both ways
            with pytest.raises(type(exc)):
                lazy.clip(area, buf)
            continue
        _same(want, lazy.clip(area, buf))


def test_saving_the_kept_edges_writes_the_built_network(tmp_path):
    """The cache entry is written from the network as read and its kept edges, array by array
    (no copy of a province): the same file as saving the built network itself."""
    path = _islands_graphml(tmp_path)
    cfg = Config(cache_dir=tmp_path / "cache", use_cache=False)
    raw, keep = build_for_clipping(path, config=cfg)
    assert keep is not None and not keep.all()
    raw.save_npz(tmp_path / "lazy.npz", edges=keep)
    raw.select_edges(keep).save_npz(tmp_path / "copy.npz")
    assert (tmp_path / "lazy.npz").read_bytes() == (tmp_path / "copy.npz").read_bytes()
    loaded = Network.load_npz(tmp_path / "lazy.npz")
    _same(build_network(path, config=cfg), loaded)
    with np.load(tmp_path / "lazy.npz", allow_pickle=False) as z:  # a plain .npz
        assert z["node_id"].size == loaded.n_nodes
