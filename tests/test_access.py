"""E2SFCA against pysal's ``access`` package on the same network cost matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REAL_NETWORKS, need_shared
from test_streets import _frames

from geo._errors import InputError
from geo.config import Config
from geo.coverage import compute_coverage
from geo.coverage.access import e2sfca, e2sfca_scores, site_capacity
from geo.coverage.core import reach_pairs
from geo.network import build_network

access = pytest.importorskip("access", reason="pip install access (the test extra)")


@pytest.fixture(scope="module")
def run():
    path = need_shared(REAL_NETWORKS["optics_valley"])
    cfg = Config(use_cache=False)
    net = build_network(path, config=cfg)
    rng = np.random.default_rng(3)
    sites, comms = _frames(net, rng, 15, 80, kinds=("station", "integrated"))
    sites["capacity"] = rng.integers(2, 60, len(sites)).astype(float)
    comms["population"] = rng.integers(200, 8000, len(comms)).astype(float)
    return compute_coverage(net, sites, comms, config=cfg), cfg


def _pysal(res, cfg, weight_fn):
    use = res.usable_sites
    s, p, d = reach_pairs(res.network, res.reach(), res.site_snap.take(use), res.community_snap)
    cost = pd.DataFrame({"origin": p, "dest": use[s], "cost": d})
    demand = pd.DataFrame(
        {
            "cid": np.arange(len(res.communities)),
            "pop": res.communities["population"].to_numpy(float),
        }
    )
    supply = pd.DataFrame(
        {"sid": np.arange(len(res.sites)), "cap": res.sites["capacity"].to_numpy(float)}
    )
    acc = access.Access(
        demand_df=demand,
        demand_value="pop",
        supply_df=supply,
        supply_value="cap",
        demand_index="cid",
        supply_index="sid",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    out = acc.enhanced_two_stage_fca(max_cost=cfg.limit_m, weight_fn=weight_fn)
    col = out.columns[0]
    return out[col].reindex(range(len(demand))).fillna(0.0).to_numpy()


@pytest.mark.realdata
def test_e2sfca_gaussian_default_equals_pysal_access(run):
    res, cfg = run
    ours = e2sfca(res)
    assert ours.summary["decay"] == "gaussian"
    theirs = _pysal(res, cfg, access.weights.gaussian(cfg.limit_m / 2))
    got = ours.communities["e2sfca"].to_numpy()
    assert (theirs > 0).sum() > 20 and (theirs == 0).any()  # a non-trivial instance
    np.testing.assert_allclose(got, theirs, rtol=1e-9, atol=0)
    # every site's capacity is shared out among the people in reach
    pop = res.communities["population"].to_numpy()
    reached = ours.sites["weighted_demand"].to_numpy() > 0
    assert (pop * got).sum() == pytest.approx(ours.sites["capacity"][reached].sum(), rel=1e-9)


@pytest.mark.realdata
def test_e2sfca_step_equals_pysal_access(run):
    res, cfg = run
    ours = e2sfca(res, decay="step")
    lv = sorted(cfg.levels.values())
    theirs = _pysal(res, cfg, access.weights.step_fn(dict(zip(lv, (1.0, 0.68, 0.22), strict=True))))
    np.testing.assert_allclose(ours.communities["e2sfca"].to_numpy(), theirs, rtol=1e-9, atol=0)


@pytest.mark.realdata
def test_overloaded_and_underserved(run):
    res, _ = run
    out = e2sfca(res)
    ref = out.summary["capacity_per_resident"]
    r = out.sites["supply_demand_ratio"].to_numpy()
    assert np.array_equal(out.sites["overloaded"].to_numpy(), np.isfinite(r) & (r < 0.5 * ref))
    unreached = ~res.communities["covered"].to_numpy()
    assert out.communities["underserved"].to_numpy()[unreached].all()


def test_e2sfca_hand_example():
    # two sites, three communities; W = 1 everywhere
    site = np.array([0, 0, 1])
    point = np.array([0, 1, 1])
    dist = np.zeros(3)
    score, ratio, wd = e2sfca_scores(
        site, point, dist, np.array([10.0, 30.0]), np.array([100.0, 300.0, 50.0]), np.ones_like
    )
    np.testing.assert_allclose(wd, [400, 300])
    np.testing.assert_allclose(ratio, [10 / 400, 30 / 300])
    np.testing.assert_allclose(score, [10 / 400, 10 / 400 + 30 / 300, 0.0])


def test_capacity_column_is_validated():
    df = pd.DataFrame({"site_id": ["a", "b"], "座位数": ["4", "x"], "row": [2, 3]})
    with pytest.raises(InputError, match="row 3"):
        site_capacity(df)
    assert site_capacity(pd.DataFrame({"site_id": ["a"]})) is None
    assert site_capacity(pd.DataFrame({"容量": ["1,200", 3]})).tolist() == [1200.0, 3.0]
