"""The county summary row (issue 9.2): computed by a pure ``county_row(result)`` from the same
coverage summary the ``coverage`` command reports, apart from the writers that make the files.

On the small generated inputs of tests/hostile_inputs.py (a street grid, three counties)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hostile_inputs import COUNTIES, make_inputs

from geo.audit import read_boundaries
from geo.audit._boundaries import assign_county
from geo.audit._county import CountyTask, audit_county, compute_county, county_row
from geo.config import Config
from geo.coverage import summarise
from geo.io import BUILTIN_KINDS, load_communities, load_sites

LEVELS = ("5min", "10min", "15min")


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> CountyTask:
    d = tmp_path_factory.mktemp("row")
    p = make_inputs(d / "in", n_sites=12, n_comms=60)
    bnd = read_boundaries(p["boundaries"])
    s, c = load_sites(p["sites"]).data, load_communities(p["communities"]).data
    s["county"], c["county"] = assign_county(s, bnd), assign_county(c, bnd)
    name, code = COUNTIES[0]
    (out := d / "out").mkdir()
    return CountyTask(
        county=name,
        code=code,
        boundary=bnd.loc[bnd["county"] == name].geometry.iloc[0],
        network=str(p["network"]),
        sites=s.reset_index(drop=True),
        communities=c[c["county"] == name].reset_index(drop=True),
        config=Config().replace(minutes=15.0, thresholds_min=(5.0, 10.0, 15.0), walk_speed_kmh=1.0),
        out_dir=str(out),
        integrated_target=3,
        write_map=False,
    )


@pytest.fixture(scope="module")
def result(task):
    return compute_county(task)


def test_computing_and_the_row_write_nothing(task, result):
    row = county_row(result)
    assert row == county_row(result)  # the same result gives the same row
    assert not any(p.is_file() for p in Path(task.out_dir).rglob("*"))


def test_row_numbers_are_the_coverage_summary_and_the_communities(task, result):
    row = county_row(result)
    c = result.coverage.communities
    pop = c["population"].to_numpy(float)
    again = summarise(c, result.coverage.sites, task.config, result.coverage.network)
    assert row["communities"] == len(c) == again["communities"]
    assert row["population"] == pytest.approx(pop.sum())
    for level in LEVELS:
        cov = c[f"covered_{level}"].to_numpy(bool)
        assert row[f"communities_covered_{level}"] == int(cov.sum())
        assert row[f"population_covered_{level}"] == pytest.approx(pop[cov].sum())
        assert row[f"population_covered_{level}_share"] == round(pop[cov].sum() / pop.sum(), 4)
        assert (
            row[f"population_covered_{level}_share"] == again["levels"][level]["population_share"]
        )
    assert row["uncovered_communities"] == int((~c["covered"]).sum())
    assert row["off_network_communities"] == int(c["off_network"].sum())
    mine = task.sites[task.sites["county"] == task.county]
    assert row["sites"] == len(mine)
    for k in BUILTIN_KINDS:
        assert row[f"sites_{k}"] == int((mine["kind"] == k).sum())
    assert row["integrated_shortfall"] == max(0, 3 - row["sites_integrated"])
    assert row["targets_met"] == (
        row["integrated_shortfall"] == 0
        and row["has_cultural_palace"]
        and row["uncovered_communities"] == 0
    )


def test_row_follows_the_proposals(result):
    row = county_row(result)
    assert row["uncovered_communities"] > 0, "the fixture should leave a gap"
    assert row["proposed_sites"] == len(result.gaps.sites) > 0
    assert row["population_covered_after"] == result.gaps.summary["covered_population_after"]
    none = county_row(dataclasses.replace(result, gaps=None))
    assert none["proposed_sites"] == 0 and none["proposal_status"] == "not needed"
    assert none["population_covered_after"] == none["population_covered_15min"]
    failed = county_row(dataclasses.replace(result, palace_error="no candidate"))
    assert failed["palace_proposal_error"] == "no candidate"
    assert "palace_proposal_lon" not in failed
    fallback = dataclasses.replace(
        result.gaps, summary={**result.gaps.summary, "status": "time_limit", "method": "greedy"}
    )
    noted = county_row(dataclasses.replace(result, gaps=fallback))
    assert noted["solver_fallback"].startswith(f"{result.task.county}: gap sites: greedy:")


def test_the_audit_stores_this_row_plus_its_files_and_timings(task, result):
    stored = audit_county(task)
    assert stored["status"] == "ok", stored.get("error")
    row = county_row(result)
    extra = {"folder", "status", "error", "seconds", "input_key"}
    assert {
        k: v for k, v in stored.items() if k not in extra and not k.startswith("seconds_")
    } == row
    for stage in ("load", "coverage", "optimise", "files", "isochrones", "map"):
        assert stored[f"seconds_{stage}"] >= 0.0
    folder = next(iter(Path(task.out_dir, "counties").iterdir()))
    names = {p.name for p in folder.iterdir()}
    assert {"communities.csv", "uncovered.csv", "sites.csv", "result.json"} <= names
    assert "map.html" not in names and np.isfinite(stored["seconds"])
