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
