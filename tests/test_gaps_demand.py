"""``gaps --demand streets`` (and mixed demand) against a brute-force optimum on small instances."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from helpers import grid_network
from test_streets import _frames

from geo._errors import InputError
from geo.config import Config
from geo.coverage import compute_coverage, snap_frame
from geo.coverage.core import nearest_sites
from geo.coverage.streets import class_weights, covered_length, station_snap
from geo.optimize._demand import parse_demand, propose_mixed

CLASSES = np.array(["primary", "secondary", "residential", "footway"], dtype=object)


def _instance(seed, n_cand=9):
    net = grid_network(7, 150.0, drop=0.2, seed=seed)
    rng = np.random.default_rng(seed)
    net = dataclasses.replace(net, edge_highway=CLASSES[rng.integers(0, 4, net.n_edges)])
    cfg = Config(minutes=4, thresholds_min=(4.0,), use_cache=False)
    sites, comms = _frames(net, rng, 2, 25)
    cands, _ = _frames(net, rng, n_cand, 1)
    cands["kind"] = "partner"
    res = compute_coverage(net, sites, comms, config=cfg, redundancy=False)
    return net, cfg, res, cands


def _street_value(res, cand_gdf, chosen, weights):
    """Weighted street km within the limit of existing stations + chosen candidates, computed
    from one multi-source search over all of them (independent of the segment instance)."""
    net = res.network
    st = station_snap(res)
    cs = snap_frame(net, cand_gdf.iloc[list(chosen)], "candidates")
    allsnap = type(st)(
        **{
            f.name: np.concatenate([getattr(st, f.name), getattr(cs, f.name)])
            for f in dataclasses.fields(st)
        }
    )
    cov = covered_length(net, nearest_sites(net, allsnap), allsnap, res.config.limit_m)
    return float((cov * class_weights(net.edge_highway, weights)).sum() / 1000)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_streets_demand_is_the_brute_force_optimum(seed):
    net, cfg, res, cands = _instance(seed)
    sw = {"primary": 3.0, "secondary": 2.0}
    k = 2
    prop = propose_mixed(
        res,
        k=k,
        demand={"streets": 1.0},
        street_weights=sw,
        candidates=cands,
        candidates_only=True,
        curve=False,
    )
    cand = prop.candidates
    assert len(cand) >= 6
    vals = {c: _street_value(res, cand, c, sw) for c in itertools.combinations(range(len(cand)), k)}
    best = max(vals.values())
    # the proposals' coordinates are rounded to 6 decimals: match each to its candidate
    px, py = prop.sites.geometry.x.to_numpy(), prop.sites.geometry.y.to_numpy()
    cx, cy = cand["lon"].to_numpy(), cand["lat"].to_numpy()
    chosen = tuple(
        sorted(int(np.argmin(np.hypot(cx - x, cy - y))) for x, y in zip(px, py, strict=True))
    )
    assert len(set(chosen)) == k
    assert prop.summary["status"] == "optimal"
    assert vals[chosen] == pytest.approx(best, rel=1e-9, abs=1e-9)
    # the segment instance measures exactly what the direct computation measures
    assert prop.summary["street_km_weighted_after"] == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert prop.summary["street_km_weighted_before"] == pytest.approx(
        _street_value(res, cand, (), sw), rel=1e-9, abs=1e-9
    )
    # a choice that is not optimal exists, so the test can fail
    assert min(vals.values()) < best - 1e-6


def test_mixed_demand_weights_and_layers():
    net, cfg, res, cands = _instance(7)
    rng = np.random.default_rng(0)
    wp, _ = _frames(net, rng, 15, 1)
    wp = wp.rename(columns={"site_id": "community_id"})
    wp["population"] = rng.integers(10, 500, len(wp)).astype(float)
    wres = compute_coverage(net, res.sites, wp, config=cfg, redundancy=False)
    demand = parse_demand("residents,workplaces,streets", "1,1,0.5")
    prop = propose_mixed(
        res, k=3, demand=demand, workplaces=wres, candidates=cands, candidates_only=True
    )
    s = prop.summary
    assert s["weights"] == {"residents": 1.0, "workplaces": 1.0, "streets": 0.5}
    for layer in ("residents", "workplaces", "streets"):
        assert s[f"{layer}_share_after"] >= s[f"{layer}_share_before"]
    cols = {"newly_covered_population", "newly_covered_employees", "newly_covered_street_km"}
    assert cols <= set(prop.sites.columns)
    # brute force over every 3-subset of the weighted sum of shares
    cand = prop.candidates
    pop = res.communities["population"].to_numpy()
    emp = wres.communities["population"].to_numpy()
    tot_s = _street_value(res, cand, range(len(cand)), {}) * 0 + float(net.length.sum() / 1000)

    def objective(chosen):
        sites = gpd.GeoDataFrame(
            {"site_id": [f"n{i}" for i in chosen], "kind": "station"},
            geometry=cand.geometry.iloc[list(chosen)].to_numpy(),
            crs=4326,
        )
        import pandas as pd

        allsites = gpd.GeoDataFrame(
            pd.concat([res.sites[["site_id", "kind", "geometry"]], sites]), crs=4326
        )
        r2 = compute_coverage(
            net,
            allsites,
            res.communities[["community_id", "population", "geometry"]],
            config=cfg,
            redundancy=False,
        )
        w2 = compute_coverage(net, allsites, wp, config=cfg, redundancy=False)
        return (
            pop[r2.communities["covered"].to_numpy()].sum() / pop.sum()
            + emp[w2.communities["covered"].to_numpy()].sum() / emp.sum()
            + 0.5 * _street_value(res, cand, chosen, {}) / tot_s
        )

    vals = [objective(c) for c in itertools.combinations(range(len(cand)), 3)]
    got = s["residents_share_after"] + s["workplaces_share_after"] + 0.5 * s["streets_share_after"]
    assert got == pytest.approx(max(vals), abs=2e-4)  # shares are rounded to 4 decimals
    assert prop.curve["covered_share"].is_monotonic_increasing


def test_parse_demand_errors():
    assert parse_demand("streets", None) == {"streets": 1.0}
    with pytest.raises(InputError, match="--demand"):
        parse_demand("residents,people", None)
    with pytest.raises(InputError, match="--weights"):
        parse_demand("residents,streets", "1")
    with pytest.raises(InputError, match="workplaces"):
        net, cfg, res, cands = _instance(1)
        propose_mixed(res, k=1, demand={"workplaces": 1.0})
    assert shapely  # keep the import for the helpers above


@pytest.mark.parametrize("seed", [5, 6])
def test_streets_demand_inside_an_area_is_the_brute_force_optimum(seed):
    from geo.coverage.streets import (
        area_intervals,
        covered_intervals,
        intersect_intervals,
        union_length,
    )

    net, cfg, res, cands = _instance(seed, n_cand=10)
    lon0, lat0 = np.median(net.lon), np.median(net.lat)
    area = shapely.box(lon0 - 0.004, lat0 - 0.0035, lon0 + 0.0045, lat0 + 0.003)
    prop = propose_mixed(res, k=2, demand={"streets": 1.0}, candidates=cands,
                         candidates_only=True, boundary=area, curve=False)  # fmt: skip
    cand = prop.candidates
    inside = area_intervals(net, area)
    assert union_length(inside, net.n_edges).sum() < net.length.sum() * 0.9

    def value(chosen):
        st = station_snap(res)
        cs = snap_frame(net, cand.iloc[list(chosen)], "candidates")
        both = type(st)(**{f.name: np.concatenate([getattr(st, f.name), getattr(cs, f.name)])
                           for f in dataclasses.fields(st)})  # fmt: skip
        iv = covered_intervals(net, nearest_sites(net, both), both, cfg.limit_m)
        return float(union_length(intersect_intervals(iv, inside), net.n_edges).sum() / 1000)

    vals = {c: value(c) for c in itertools.combinations(range(len(cand)), 2)}
    assert prop.summary["street_km_weighted_after"] == pytest.approx(max(vals.values()), abs=1e-9)
    assert prop.summary["street_km_weighted_before"] == pytest.approx(value(()), abs=1e-9)
    assert min(vals.values()) < max(vals.values()) - 1e-6
