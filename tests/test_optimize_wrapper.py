"""The network-level optimiser: candidates, count targets, fallbacks and bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import grid_network

from geo._errors import SolverError
from geo.config import Config
from geo.coverage import compute_coverage
from geo.optimize import coverage_matrix, propose_sites
from geo.optimize._candidates import candidate_snap, generate_candidates
from geo.outputs import write_coverage_outputs


@pytest.fixture(scope="module")
def res():
    net = grid_network(14, 100.0, seed=11)
    sites = gpd.GeoDataFrame(
        {"site_id": ["a", "b"], "kind": ["integrated", "integrated"]},
        geometry=shapely.points(net.lon[[0, 15]], net.lat[[0, 15]]),
        crs=4326,
    )
    rng = np.random.default_rng(11)
    pick = rng.integers(0, net.n_nodes, 120)
    comms = gpd.GeoDataFrame(
        {
            "community_id": [f"c{i}" for i in range(120)],
            "population": rng.integers(10, 500, 120).astype(float),
        },
        geometry=shapely.points(net.lon[pick], net.lat[pick]),
        crs=4326,
    )
    far = gpd.GeoDataFrame(
        {"community_id": ["far"], "population": [1000.0]},
        geometry=[shapely.Point(net.lon[0] + 0.1, net.lat[0])],
        crs=4326,
    )
    comms = gpd.GeoDataFrame(pd.concat([comms, far], ignore_index=True), crs=4326)
    return compute_coverage(net, sites, comms, config=Config(max_distance_m=300))


def test_generated_candidates_and_matrix(res):
    cand = generate_candidates(res)
    assert set(cand["source"]) <= {"generated", "community"} and len(cand) > 10
    xy = np.column_stack(res.network.project(cand["lon"], cand["lat"]))
    from scipy.spatial import cKDTree

    assert not cKDTree(xy).query_pairs(14.9)  # deduplicated within 15 m
    a = coverage_matrix(res, candidate_snap(res, cand))
    assert a.shape == (len(cand), len(res.communities))
    far = int(np.flatnonzero(res.communities["community_id"] == "far")[0])
    assert a[:, far].nnz == 0  # off the network: nobody can cover it


def test_mclp_improves_and_ranks(res):
    p = propose_sites(res, k=3, model="mclp")
    assert p.summary["status"] == "optimal"
    gains = p.sites["newly_covered_population"].to_numpy()
    assert np.all(np.diff(gains) <= 1e-9)
    assert p.summary["covered_population_after"] == pytest.approx(
        p.summary["covered_population_before"] + gains.sum()
    )
    assert p.curve["covered_population"].iloc[-1] == pytest.approx(
        p.summary["covered_population_after"]
    )


def test_count_target_is_enforced(res):
    p = propose_sites(res, k=2, model="mclp", min_kind_count=("integrated", 6))
    assert len(p.sites) == 4  # 2 existing integrated + 4 new = 6
    assert p.sites["purpose"].tolist() == ["coverage", "coverage", "count", "count"]
    assert (p.sites["suggested_kind"] == "integrated").all()
    ct = p.summary["count_target"]
    assert ct["shortfall"] == 4 and ct["sites_for_count_only"] == 2


def test_infeasible_target_falls_back(res):
    p = propose_sites(res, model="lscp", target_share=1.0)
    assert any("cannot be reached" in m for m in p.summary["messages"])
    assert p.summary["covered_population_after"] == pytest.approx(p.summary["coverable_population"])


def test_missing_population_and_too_many_sites(res):
    bad = res.communities.copy()
    bad.loc[0, "population"] = np.nan
    from dataclasses import replace

    broken = replace(res, communities=bad)
    with pytest.raises(SolverError, match="missing or negative population"):
        propose_sites(broken, k=1)
    p = propose_sites(res, k=10_000, model="mclp", candidates_only=False, curve=False)
    assert any("exceeds the" in m for m in p.summary["messages"])


def test_models_are_dispatched_from_one_table(res, monkeypatch):
    """propose_sites finds each model in geo.optimize._MODELS: an unknown name is refused with
    the known ones listed, and a model added to the table is used with no other edit."""
    import geo.optimize as opt
    from geo.optimize import _core

    with pytest.raises(SolverError, match="unknown model 'median': use mclp, lscp, pmedian"):
        propose_sites(res, k=1, model="median", curve=False)

    def first_candidate(job):  # a toy model: always the first candidate
        a = job.matrix()
        order, gains = _core._rank_by_gain(a, job.w, job.covered, np.array([0]))
        return opt._Solved(_core.Solution.optimal(order, gains, float(gains.sum()), 0.0))

    monkeypatch.setitem(opt._MODELS, "first", opt._ModelSpec(first_candidate))
    p = propose_sites(res, k=1, model="first", curve=False)
    assert p.summary["model"] == "first" and len(p.sites) == 1
    assert p.sites["candidate_id"].iloc[0] == p.candidates["candidate_id"].iloc[0]
    assert p.sites["lon"].iloc[0] == pytest.approx(p.candidates["lon"].iloc[0])


def test_off_network_sites_go_to_rejects(res, tmp_path):
    net = res.network
    sites = gpd.GeoDataFrame(
        {"site_id": ["ok", "lost"], "name": ["ok", "lost"], "row": [2, 3], "kind": "station"},
        geometry=[
            shapely.Point(net.lon[5], net.lat[5]),
            shapely.Point(net.lon[5] + 0.2, net.lat[5]),
        ],
        crs=4326,
    )
    r = compute_coverage(net, sites, res.communities.iloc[:10])
    write_coverage_outputs(r, tmp_path, inputs={"sites": "s.csv"}, write_map=False)
    rej = pd.read_csv(tmp_path / "rejects.csv", encoding="utf-8-sig")
    assert rej["id"].tolist() == ["lost"] and rej["row"].tolist() == [3]
    assert rej["reason_code"].iloc[0] == "off_network" and rej["file"].iloc[0] == "s.csv"


def test_marginal_gain_axis_starts_at_zero(tmp_path, monkeypatch):
    """Issue 12: the gains chart's y-axis starts at 0% (a truncated axis exaggerates gains)."""
    import pandas as pd
    from matplotlib.figure import Figure

    from geo.outputs import plot_marginal_gain

    seen = {}
    original = Figure.savefig

    def spy(self, *args, **kwargs):
        seen["ylim"] = self.axes[0].get_ylim()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    curve = pd.DataFrame({"new_sites": [0, 1, 2, 3], "covered_share": [0.67, 0.81, 0.9, 0.95]})
    path = plot_marginal_gain(curve, tmp_path / "gain.png")
    assert path.stat().st_size > 0
    assert seen["ylim"][0] == 0 and seen["ylim"][1] >= 95
