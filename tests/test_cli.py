"""The command-line contracts: demo, network, coverage, map; bad input exits with a message."""

from __future__ import annotations

import json
import subprocess
import sys

import networkx as nx
import osmnx as ox
import pandas as pd
import pytest
from conftest import REAL_NETWORKS, ROOT, need_shared

from geo.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    cache = tmp_path_factory.mktemp("cache")
    r = run_cli("demo", "--out", str(out), "--cache-dir", str(cache))
    assert r.returncode == 0, r.stderr
    # Chinese by default, and it says plainly that this is a demonstration, not Hubei data
    assert "方法演示" in r.stdout and "非湖北实际数据" in r.stdout
    assert "建议新增 5 处" in r.stdout and "proposed" not in r.stdout
    return out


def test_demo_writes_contract_files(demo_out):
    for f in (
        "communities.csv",
        "summary.json",
        "map.html",
        "rejects.csv",
        "sites.csv",
        "isochrones.geojson",
    ):
        assert (demo_out / f).stat().st_size > 0, f
    c = pd.read_csv(demo_out / "communities.csv", encoding="utf-8-sig")
    for col in ("community_id", "nearest_site_id", "walk_distance_m", "covered", "off_network"):
        assert col in c.columns
    s = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    assert s["demo"] is True and s["main_level"] == "5min"
    assert s["communities"] == len(c)
    assert 0 < s["population_covered_share"] < 1  # the demo shows gaps
    assert s["metric_crs"] == "EPSG:32635"


def test_network_command_writes_osmnx_graphml(tmp_path):
    from geo.demo import demo_pbf

    out = tmp_path / "walk.graphml"
    assert (
        main(
            [
                "network",
                "--source",
                str(demo_pbf()),
                "--out",
                str(out),
                "--cache-dir",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    G = ox.load_graphml(out)
    assert isinstance(G, nx.MultiDiGraph) and G.graph["crs"] == "epsg:4326"
    assert all(24 < d["x"] < 26 and 60 < d["y"] < 61 for _, d in G.nodes(data=True))


@pytest.mark.realdata
def test_coverage_command_on_real_roads(tmp_path, rng):
    roads = need_shared(REAL_NETWORKS["roads_central"])
    n_s, n_c = 40, 300
    lon = rng.uniform(114.25, 114.35, n_s + n_c)
    lat = rng.uniform(30.52, 30.62, n_s + n_c)
    sites = tmp_path / "sites.csv"
    pd.DataFrame(
        {
            "id": [f"S{i}" for i in range(n_s)],
            "name": "站点",
            "kind": "station",
            "lon": lon[:n_s],
            "lat": lat[:n_s],
        }
    ).to_csv(sites, index=False)
    comms = tmp_path / "communities.csv"
    df = pd.DataFrame(
        {
            "id": [f"C{i}" for i in range(n_c)],
            "name": "社区",
            "kind": "",
            "lon": lon[n_s:],
            "lat": lat[n_s:],
            "population": 1000,
        }
    )
    df["lat"] = df["lat"].astype(object)
    df.loc[3, "lat"] = "bad"
    df.to_csv(comms, index=False)
    out = tmp_path / "out"
    graphml = tmp_path / "roads.graphml"
    assert (
        main(
            [
                "network",
                "--source",
                str(roads),
                "--out",
                str(graphml),
                "--cache-dir",
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    rc = main(
        [
            "coverage",
            "--network",
            str(graphml),
            "--sites",
            str(sites),
            "--communities",
            str(comms),
            "--minutes",
            "10",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    assert rc == 0
    c = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    assert len(c) == n_c - 1
    rej = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")
    bad = rej[rej["reason_code"] == "bad_coord"]
    assert bad["row"].tolist() == [5] and bad["file"].iloc[0] == str(comms)
    # the other rejects are exactly the sites too far from any street to serve anyone
    st = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    far = rej[rej["reason_code"] != "bad_coord"]
    assert far["reason_code"].isin(["off_network", "far_outside"]).all()
    assert sorted(far["id"]) == sorted(st.loc[st["off_network"], "site_id"])
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["rejected_rows"] == len(rej) and s["main_level"] == "10min"
    cov = c["walk_distance_m"] <= 10 * 4000 / 60 + 1e-6
    assert (c["covered"] == (cov & ~c["off_network"])).all()


def test_bad_input_exits_2_with_message(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    from geo.demo import demo_pbf

    r = run_cli(
        "coverage",
        "--network",
        str(demo_pbf()),
        "--sites",
        str(empty),
        "--communities",
        str(empty),
        "--out",
        str(tmp_path / "o"),
    )
    assert r.returncode == 2
    assert "empty.csv" in r.stderr and "Fix:" in r.stderr and "Traceback" not in r.stderr


def test_gaps_command_contract(tmp_path, demo_out, capsys):
    inputs = demo_out / "inputs"
    from geo.demo import demo_pbf

    out = tmp_path / "gaps"
    rc = main(
        [
            "gaps",
            "--network",
            str(demo_pbf()),
            "--sites",
            str(inputs / "sites.csv"),
            "--communities",
            str(inputs / "communities.geojson"),
            "--candidates",
            str(inputs / "candidates.csv"),
            "--candidates-only",
            "--new-sites",
            "3",
            "--model",
            "mclp",
            "--max-distance-m",
            "300",
            "--cache-dir",
            str(tmp_path / "c"),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    said = capsys.readouterr().out  # the console is Chinese by default (--lang zh)
    assert "新增 3 处" in said and "覆盖人口" in said and "new site(s)" not in said
    p = pd.read_csv(out / "proposed_sites.csv", encoding="utf-8-sig")
    for col in ("rank", "candidate_id", "lon", "lat", "newly_covered_population"):
        assert col in p.columns
    assert p["rank"].tolist() == [1, 2, 3]
    cand = pd.read_csv(inputs / "candidates.csv", encoding="utf-8-sig")
    assert set(p["candidate_id"].astype(str)) <= set(cand["id"].astype(str))
    assert (p["source"] == "file").all()
    g = pd.read_csv(out / "marginal_gain.csv", encoding="utf-8-sig")
    assert list(g.columns[:2]) == ["new_sites", "covered_population"]
    assert g["new_sites"].tolist() == [0, 1, 2, 3]
    assert g["covered_population"].is_monotonic_increasing
    base = g["covered_population"].iloc[0]
    assert g["covered_population"].iloc[-1] == pytest.approx(
        base + p["newly_covered_population"].sum()
    )
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["proposal"]["status"] == "optimal" and s["proposal"]["gap"] == 0
    assert (out / "map.html").exists() and (out / "marginal_gain.png").exists()
    # LSCP and p-median through the same command
    for model in ("lscp", "pmedian"):
        o = tmp_path / model
        assert (
            main(
                [
                    "gaps",
                    "--network",
                    str(demo_pbf()),
                    "--sites",
                    str(inputs / "sites.csv"),
                    "--communities",
                    str(inputs / "communities.geojson"),
                    "--new-sites",
                    "2",
                    "--model",
                    model,
                    "--cache-dir",
                    str(tmp_path / "c"),
                    "--no-map",
                    "--out",
                    str(o),
                ]
            )
            == 0
        )
        assert len(pd.read_csv(o / "proposed_sites.csv", encoding="utf-8-sig")) >= 1


def test_demo_shows_proposals(demo_out):
    p = pd.read_csv(demo_out / "proposed_sites.csv", encoding="utf-8-sig")
    g = pd.read_csv(demo_out / "marginal_gain.csv", encoding="utf-8-sig")
    assert len(p) == 5 and len(g) == 6
    s = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    assert s["proposal"]["count_target"]["kind"] == "integrated"
    assert "sc-prop" in (demo_out / "map.html").read_text(encoding="utf-8")
