"""The optimiser: spopt's published San Francisco optima, random cross-checks with spopt,
existing sites kept open, count targets, and bad input."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo._errors import SolverError
from geo.optimize import _core


@pytest.fixture(scope="module")
def sf():
    """spopt's San Francisco instance, built exactly as spopt's own tests build it."""
    pytest.importorskip("spopt")
    d = resources.files("spopt") / "tests" / "test_locate" / "data"
    nd = pd.read_csv(d / "SF_network_distance_candidateStore_16_censusTract_205_new.csv")
    cost = nd.pivot_table(values="distance", index="DestinationName", columns="name").to_numpy()
    demand = pd.read_csv(d / "SF_demand_205_centroid_uniform_weight.csv").sort_values("NAME")
    w = demand["POP2000"].to_numpy(float)
    assert cost.shape == (205, 16)
    return cost.T, w  # candidates x demands


def test_sf_lscp_5000m_needs_8_facilities(sf):
    cost, _ = sf
    sol = _core.lscp(cost <= 5000)
    assert sol.status == "optimal" and len(sol.selected) == 8 and sol.objective == 8


def test_sf_mclp_5000m_p4_covers_875247(sf):
    cost, w = sf
    sol = _core.mclp(cost <= 5000, w, 4)
    assert sol.status == "optimal" and sol.gap == 0
    assert sol.objective == 875_247
    assert len(sol.selected) == 4 and sol.gains.sum() == 875_247
    assert np.all(np.diff(sol.gains) <= 0)  # ranked by what each adds


def test_sf_pmedian_p4_objective(sf):
    cost, w = sf
    sol = _core.pmedian(cost, w, 4)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(2_848_268_129.7, abs=0.1)


def test_sf_greedy_bound_brackets_optimum(sf):
    cost, w = sf
    g = _core.greedy_mclp(cost <= 5000, w, 4)
    assert g.objective <= 875_247 <= g.bound
    assert g.objective >= (1 - 1 / np.e) * 875_247


def test_existing_sites_stay_open(sf):
    cost, w = sf
    a = cost <= 5000
    existing = 2  # pretend store 2 exists: its demand is already covered
    covered = a[existing]
    sol = _core.mclp(np.delete(a, existing, axis=0), w, 3, covered)
    # same as choosing 4 with the existing one forced in
    assert sol.objective == pytest.approx(max_cover_with(a, w, forced=existing, k=4), abs=1e-6)


def max_cover_with(a, w, forced, k):
    from itertools import combinations

    others = [j for j in range(a.shape[0]) if j != forced]
    return max(w[a[[forced, *c]].any(axis=0)].sum() for c in combinations(others, k - 1))


def test_count_target_constraint():
    a = np.array([[1, 1, 1, 0], [0, 0, 0, 1], [0, 1, 0, 1]], bool)
    w = np.array([10, 10, 10, 1.0])
    free = _core.mclp(a, w, 1)
    assert list(free.selected) == [0]
    forced = _core.mclp(a, w, 1, min_counts=[(np.array([False, True, True]), 1)])
    assert list(forced.selected) == [2] and forced.objective == 11


def test_bad_inputs_get_clear_messages():
    a = np.array([[1, 0], [0, 1]], bool)
    w = np.array([5.0, 7.0])
    with pytest.raises(SolverError, match="only 2 candidates.*--new-sites"):
        _core.mclp(a, w, 3)
    with pytest.raises(SolverError, match="cannot be reached.*at most 50.0%"):
        _core.lscp(np.array([[1, 0], [0, 0]], bool), np.array([5.0, 5.0]), target_share=0.9)
    nothing = _core.mclp(np.zeros((2, 2), bool), w, 1)
    assert "no candidate covers" in nothing.messages[0]


def test_time_limit_falls_back_with_gap():
    rng = np.random.default_rng(0)
    a = rng.random((400, 3000)) < 0.01
    w = rng.integers(1, 1000, 3000).astype(float)
    sol = _core.mclp(a, w, 40, time_limit=0.05)
    assert sol.status in ("time_limit", "optimal", "heuristic")
    assert sol.bound >= sol.objective - 1e-6 and len(sol.selected) == 40
    big = _core.mclp(a, w, 40, max_vars=100)
    assert big.method == "greedy" and "lazy greedy" in big.messages[0]
    assert 0 <= big.gap < 1


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_random_instances_match_spopt(seed, k):
    spopt = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    rng = np.random.default_rng(seed)
    n_c, n_d = int(rng.integers(5, 12)), int(rng.integers(10, 40))
    cost = rng.uniform(0, 3000, (n_d, n_c))
    w = rng.integers(1, 500, n_d).astype(float)
    r = 1200.0
    solver = pulp.PULP_CBC_CMD(msg=False)
    ref = spopt.MCLP.from_cost_matrix(cost, w, r, k).solve(solver)
    ours = _core.mclp(cost.T <= r, w, k)
    assert ours.objective == pytest.approx(pulp.value(ref.problem.objective))
    pm = spopt.PMedian.from_cost_matrix(cost, w, k).solve(solver)
    assert _core.pmedian(cost.T, w, k).objective == pytest.approx(
        pulp.value(pm.problem.objective), rel=1e-9
    )
    if (cost <= r).any(axis=1).all():
        ls = spopt.LSCP.from_cost_matrix(cost, r).solve(solver)
        assert len(_core.lscp(cost.T <= r).selected) == pytest.approx(
            pulp.value(ls.problem.objective)
        )
