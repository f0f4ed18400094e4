"""The exact 1-median (a first cultural palace, issue 13): same answer as the p-median MILP,
from bounded searches, deterministic."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network
from hypothesis import given, settings
from hypothesis import strategies as st

from geo._errors import SolverError
from geo.config import Config
from geo.coverage import compute_coverage
from geo.optimize import _core, distance_matrix
from geo.optimize._candidates import candidate_snap, generate_candidates
from geo.optimize._median import one_median


def _instance(seed: int, n: int, drop: float, n_comm: int, palaces: int):
    rng = np.random.default_rng(seed)
    net = grid_network(n, 90.0, drop=drop, seed=seed)
    kinds = ["station"] * 3 + ["cultural_palace"] * palaces
    at = rng.integers(0, net.n_nodes, len(kinds))
    sites = gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(len(kinds))], "kind": kinds},
        geometry=shapely.points(net.lon[at] + 2e-5, net.lat[at]),
        crs=4326,
    )
    lon = rng.uniform(net.lon.min() - 0.001, net.lon.max() + 0.001, n_comm)
    lat = rng.uniform(net.lat.min() - 0.001, net.lat.max() + 0.001, n_comm)
    comms = gpd.GeoDataFrame(
        {
            "community_id": [f"c{i}" for i in range(n_comm)],
            "population": rng.integers(0, 900, n_comm).astype(float),
        },
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    return compute_coverage(net, sites, comms, config=Config(max_distance_m=250))


def _existing(res, kinds=("cultural_palace",)):
    from geo.optimize import _existing_cost

    return _existing_cost(res, list(kinds))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(5, 11),
    drop=st.sampled_from([0.0, 0.1, 0.25]),
    n_comm=st.integers(5, 80),
    palaces=st.integers(0, 2),
    kinds=st.sampled_from([("cultural_palace",), ("station", "cultural_palace")]),
)
def test_exact_one_median_equals_pmedian_milp(seed, n, drop, n_comm, palaces, kinds):
    """With every kind existing, most communities have a site, so the searches stop at the
    farthest existing walk (the ``limit`` path) whenever all of them have one."""
    res = _instance(seed, n, drop, n_comm, palaces)
    cand = generate_candidates(res)
    if len(cand) == 0:
        return
    snap = candidate_snap(res, cand)
    w = res.communities["population"].to_numpy(float)
    e = _existing(res, kinds)
    cost = distance_matrix(res, snap)
    try:
        milp = _core.pmedian(cost, w, 1, e, exact_one=False)
    except SolverError:
        with pytest.raises(SolverError, match="infeasible"):
            one_median(res.network, snap, res.community_snap, w, e,
                       off_network=res.communities["off_network"].to_numpy(bool))  # fmt: skip
        return
    dense = _core.pmedian(cost, w, 1, e)
    best, f, info = one_median(
        res.network, snap, res.community_snap, w, e,
        off_network=res.communities["off_network"].to_numpy(bool),
    )  # fmt: skip
    assert milp.status == "optimal" and dense.method == "exact"
    assert dense.objective == pytest.approx(milp.objective, rel=1e-9, abs=1e-6)
    assert f[best] == pytest.approx(milp.objective, rel=1e-9, abs=1e-6)
    # the chosen candidate's own column sum equals the objective (no guessing)
    assert _core.weighted_cost(cost, w, e, np.isfinite(e) | np.isfinite(cost).any(axis=0),
                               [best]) == pytest.approx(milp.objective, rel=1e-9, abs=1e-6)  # fmt: skip
    # searched candidates' sums are exact; skipped ones had a bound no better than the best
    searched = np.isfinite(f)
    ok = np.isfinite(e) | np.isfinite(cost).any(axis=0)
    for j in np.flatnonzero(searched)[:20]:
        assert f[j] == pytest.approx(_core.weighted_cost(cost, w, e, ok, [j]), rel=1e-9, abs=1e-6)
    assert best == dense.selected[0]  # same tie rule: lowest index among equal sums
    assert info["searched"] + info["skipped"] == len(cand)


def test_palace_via_propose_sites_skips_most_candidates_and_is_deterministic():
    from geo.optimize import propose_sites

    res = _instance(3, 24, 0.05, 400, 0)
    runs = [
        propose_sites(res, k=1, model="pmedian", existing_kinds=["cultural_palace"], curve=False)
        for _ in range(2)
    ]
    a, b = (r.summary for r in runs)
    assert a["method"] == "exact" and a["status"] == "optimal"
    info = a["solver_info"]["exact_1_median"]
    assert info["skipped"] > 0
    assert a["objective"] == b["objective"]
    assert runs[0].sites["lon"].iloc[0] == runs[1].sites["lon"].iloc[0]
    assert runs[0].sites["mean_walk_m_after"].iloc[0] > 0
    # the smallest weighted column sum of the full matrix (brute force over every candidate;
    # the MILP hits its time limit on this size, which is the point of the exact method)
    cand = runs[0].candidates
    cost = distance_matrix(res, candidate_snap(res, cand))
    w = res.communities["population"].to_numpy(float)
    e = _existing(res)
    ok = np.isfinite(e) | np.isfinite(cost).any(axis=0)
    brute = [_core.weighted_cost(cost, w, e, ok, [j]) for j in range(len(cand))]
    assert a["objective"] == pytest.approx(min(brute), rel=1e-12)


def test_dense_one_median_ties_go_to_lowest_index():
    cost = np.array([[2.0, 1.0], [1.0, 2.0], [5.0, 5.0]])
    w = np.array([1.0, 1.0])
    s = _core.pmedian(cost, w, 1)
    assert list(s.selected) == [0] and s.objective == 3.0 and s.method == "exact"


@pytest.mark.parametrize("seed", [3, 17, 41])
def test_palace_summary_without_full_matrix_equals_the_matrix(seed):
    """A 1-median builds no coverage matrix: which candidates cover an uncovered community,
    the coverable population and the chosen site's newly covered figures come from one
    search each. They must equal what the full matrix gives."""
    from geo.optimize import coverage_matrix, propose_sites

    res = _instance(seed, 12, 0.1, 150, 0)
    net = res.network
    rng = np.random.default_rng(seed)
    at = rng.choice(net.n_nodes, 60, replace=False)
    user = gpd.GeoDataFrame(
        {"site_id": [f"k{i}" for i in range(at.size)]},
        geometry=shapely.points(net.lon[at] + rng.normal(0, 3e-4, at.size), net.lat[at]),
        crs=4326,
    )
    p = propose_sites(res, k=1, model="pmedian", candidates=user, candidates_only=True,
                      existing_kinds=["cultural_palace"], curve=False)  # fmt: skip
    a = coverage_matrix(res, candidate_snap(res, p.candidates))
    w = res.communities["population"].to_numpy(float)
    cov = res.communities["covered"].to_numpy(bool)
    useless = int((np.asarray(a[:, ~cov].sum(axis=1)).ravel() == 0).sum())
    expected = [f"{useless} candidates cover no uncovered community"] if useless else []
    assert [m for m in p.summary["messages"] if "cover no" in m] == expected
    reach = np.asarray(a.sum(axis=0)).ravel() > 0
    assert p.summary["coverable_population"] == pytest.approx(float(w[cov | reach].sum()))
    ids = p.candidates["candidate_id"].to_numpy()  # the chosen candidate's row of the matrix
    (chosen,) = np.flatnonzero(ids == p.sites["candidate_id"].iloc[0])
    new = a[chosen].indices[~cov[a[chosen].indices]]
    assert p.sites["newly_covered_communities"].iloc[0] == new.size
    assert p.sites["newly_covered_population"].iloc[0] == pytest.approx(float(w[new].sum()))
    if seed != 3:  # these instances have candidates that cover no uncovered community
        assert useless > 0


@pytest.mark.parametrize("seed,palaces", [(5, 0), (8, 1)])
def test_lower_bounds_never_exceed_the_exact_objective(seed, palaces):
    """The float32 pair bounds (with their rounding slack) stay at or below every candidate's
    exact weighted walk, so pruning by them cannot skip the optimum."""
    from geo.optimize import _median

    res = _instance(seed, 16, 0.1, 200, palaces)
    cand = generate_candidates(res)
    snap = candidate_snap(res, cand)
    w = res.communities["population"].to_numpy(float)
    e = _existing(res)
    off = res.communities["off_network"].to_numpy(bool)
    inst = _median._instance(res.network, snap, res.community_snap, w, e, off)
    fidx, lb, _ = _median._lower_bounds(res.network, snap, res.community_snap, inst)
    cost = distance_matrix(res, snap)
    ok = np.isfinite(e) | np.isfinite(cost).any(axis=0)
    exact = np.array([_core.weighted_cost(cost, w, e, ok, [j]) for j in fidx])
    assert len(fidx) > 20
    assert (lb <= exact * (1 + 1e-12) + 1e-6).all()
    assert (lb > 0.5 * exact).mean() > 0.5  # and they are not trivially low


def test_candidates_that_cover_nothing_new_are_not_a_console_warning(caplog):
    """Some candidates covering no uncovered community is normal (the demo has 19): the note
    stays in the summary's messages but is logged at INFO, so the user's console shows no
    English WARNING line for it."""
    import logging

    from geo.optimize import propose_sites

    res = _instance(17, 12, 0.1, 150, 0)
    net = res.network
    rng = np.random.default_rng(17)
    at = rng.choice(net.n_nodes, 60, replace=False)
    user = gpd.GeoDataFrame(
        {"site_id": [f"k{i}" for i in range(at.size)]},
        geometry=shapely.points(net.lon[at] + rng.normal(0, 3e-4, at.size), net.lat[at]),
        crs=4326,
    )
    with caplog.at_level(logging.INFO, logger="geo.optimize"):
        p = propose_sites(res, k=1, model="mclp", candidates=user, candidates_only=True)
    notes = [m for m in p.summary["messages"] if m.endswith("cover no uncovered community")]
    assert notes
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert all(levels[m] == logging.INFO for m in notes)
