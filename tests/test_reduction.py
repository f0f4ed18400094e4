"""MCLP reduction before HiGHS (issue 13): merged demands, dominated candidates and forced
choices leave the optimum unchanged; the same inputs give the same plan."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.optimize import _core


def _brute(a: np.ndarray, w: np.ndarray, k: int, covered: np.ndarray) -> float:
    best = 0.0
    for combo in combinations(range(a.shape[0]), k):
        best = max(best, float(w[covered | a[list(combo)].any(axis=0)].sum()))
    return best


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 1_000_000),
    n_c=st.integers(2, 9),
    n_d=st.integers(1, 30),
    density=st.sampled_from([0.1, 0.3, 0.6]),
    k=st.integers(1, 4),
)
def test_reduction_preserves_the_optimum(seed, n_c, n_d, density, k):
    rng = np.random.default_rng(seed)
    a = rng.random((n_c, n_d)) < density
    # duplicates and subsets on purpose: the reductions must have something to do
    if n_c >= 3:
        a[1] = a[0]
        a[2] = a[0] & (rng.random(n_d) < 0.5)
    w = rng.integers(0, 50, n_d).astype(float)
    covered = rng.random(n_d) < 0.2
    k = min(k, n_c)
    red = _core.mclp(a, w, k, covered)
    raw = _core.mclp(a, w, k, covered, reduce=False)
    assert red.objective == pytest.approx(raw.objective)
    assert red.objective == pytest.approx(_brute(a, w, k, covered))
    assert len(red.selected) == k and len(set(red.selected.tolist())) == k
    # the reported value is what the chosen sites really cover
    assert red.objective == pytest.approx(float(w[covered | a[red.selected].any(axis=0)].sum()))


def test_reduction_counts_in_the_summary():
    a = np.array(
        [
            [1, 1, 0, 0, 0],  # dominated by candidate 1
            [1, 1, 1, 0, 0],
            [0, 0, 0, 1, 1],  # demands 3 and 4: identical candidate sets -> one group
            [0, 0, 0, 0, 0],  # covers nothing
        ],
        bool,
    )
    w = np.array([1.0, 2, 3, 4, 5])
    sol = _core.mclp(a, w, 1)
    r = sol.info["reduction"]
    assert r["candidates_dominated"] == 1 and r["candidates_empty"] == 1
    assert r["demand_groups"] == 2 and r["demands"] == 5
    assert list(sol.selected) == [2] and sol.objective == 9


def test_forced_choice_needs_no_solver():
    a = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], bool)
    sol = _core.mclp(a, np.array([1.0, 1, 1]), 2)
    assert sol.info["reduction"]["forced"] == 2
    assert sorted(sol.selected.tolist()) == [0, 2] and sol.objective == 3


def test_count_targets_respect_eligibility_when_reducing():
    # candidate 1 is dominated by 0, but only 1 is eligible for the count target
    a = np.array([[1, 1, 1], [1, 0, 0], [0, 0, 1]], bool)
    w = np.array([5.0, 5, 5])
    sol = _core.mclp(a, w, 1, min_counts=[(np.array([False, True, False]), 1)])
    assert list(sol.selected) == [1] and sol.objective == 5


def test_same_inputs_same_plan():
    rng = np.random.default_rng(5)
    dem, fac = rng.uniform(0, 8000, (1500, 2)), rng.uniform(0, 8000, (300, 2))
    a = sp.csr_matrix(np.hypot(*(fac[:, None, :] - dem[None, :, :]).transpose(2, 0, 1)) < 600)
    w = rng.integers(1, 1000, 1500).astype(float)
    runs = [_core.mclp(a, w, 12) for _ in range(2)]
    assert runs[0].selected.tolist() == runs[1].selected.tolist()
    assert runs[0].objective == runs[1].objective and runs[0].status == "optimal"


def test_node_limit_is_a_deterministic_stop():
    rng = np.random.default_rng(0)
    a = rng.random((120, 600)) < 0.03
    w = rng.integers(1, 1000, 600).astype(float)
    runs = [_core.mclp(a, w, 15, node_limit=1, time_limit=1e6) for _ in range(2)]
    assert runs[0].selected.tolist() == runs[1].selected.tolist()
    if runs[0].status != "optimal":
        assert runs[0].status == "node_limit"
        assert "deterministic work limit" in runs[0].messages[0]
