"""The whole job a user waits for: ``servicecircle coverage`` with its map, against the
osmnx-tutorial pipeline a user would otherwise write, both from a cold Python process.

    python benchmarks/endtoend.py --network PATH --sites N --communities M --json

Inputs are generated (fixed seed) as CSV files a user would have: sites and communities
scattered around random street nodes. Then, each in a fresh subprocess (Python start-up and
imports included, median of ``--repeat`` runs):

* **ours**: ``python -m geo coverage --network PATH --sites ... --communities ... --out ...``
  with a fresh network cache (``ours_total_s``), and again with the cache warm
  (``ours_total_cached_s``); and, in this process, the time of each stage (``ours_*_s``);
* **osmnx pipeline** (``osmnx_pipeline_s``): the graph (``graph_from_xml`` for OSM XML,
  ``load_graphml`` for GraphML, pyrosm's walking network + ``to_graph`` for a PBF, which
  osmnx cannot read), ``nearest_nodes``, ``nx.ego_graph`` per site and level with convex-hull
  polygons, a spatial join of communities in the polygons, and a folium map of the polygons.

``ratio_whole_job`` = osmnx pipeline / ours (cold cache).

Fairness of the osmnx side (Helsinki PBF, 200 sites, 3,014 communities; each pair run one
after the other under the same heavy load, 4 to 6.8 on 2 cores): pyrosm's walking network
(2,459 nodes, 6,634 edges) against the same PBF written as OSM XML with only the ways osmnx's
``walk`` filter keeps, read by ``graph_from_xml`` (bidirectional: 2,455 nodes, 6,532 edges).
Both find the same 2,927 covered communities; whole pipeline 62.8 / 60.9 s (PBF) against
52.4 / 56.3 s (XML), and 30.0 s (PBF) against 39.0 s (XML, one-way) in an earlier pair: the
same within the noise. Most of either run (80%) is the 600 ``ego_graph`` calls. The XML file
comes from ``benchmarks/osm_walk_xml.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

OSMNX = r"""
import sys, time
t0 = time.perf_counter()
import geopandas as gpd, networkx as nx, numpy as np, osmnx as ox, pandas as pd, shapely, folium
path, sites_csv, comms_csv, out, limits = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
limits = [float(v) for v in limits.split(",")]
if path.endswith(".pbf"):
    import pyrosm
    osm = pyrosm.OSM(path)
    nodes, edges = osm.get_network(network_type="walking", nodes=True)
    G = osm.to_graph(nodes, edges, graph_type="networkx")
elif path.endswith(".graphml"):
    G = ox.load_graphml(path)
else:
    G = ox.graph_from_xml(path, bidirectional=True, retain_all=True)  # walking: both ways
Gp = ox.project_graph(G)
crs = Gp.graph["crs"]
sites = pd.read_csv(sites_csv)
comms = pd.read_csv(comms_csv)
sp = gpd.GeoSeries(gpd.points_from_xy(sites.lon, sites.lat), crs=4326).to_crs(crs)
cp = gpd.GeoDataFrame(comms, geometry=gpd.points_from_xy(comms.lon, comms.lat), crs=4326).to_crs(crs)
centres = ox.distance.nearest_nodes(Gp, sp.x.to_numpy(), sp.y.to_numpy())
U = Gp.to_undirected()
rows = []
for lim in limits:
    for i, c in enumerate(centres):
        sub = nx.ego_graph(U, c, radius=lim, distance="length")
        pts = shapely.multipoints([(d["x"], d["y"]) for _, d in sub.nodes(data=True)])
        rows.append({"site": i, "limit_m": lim, "geometry": pts.convex_hull})
iso = gpd.GeoDataFrame(rows, crs=crs)
main = iso[iso["limit_m"] == max(limits)]
j = gpd.sjoin(cp, main, predicate="within", how="left")
covered = j.groupby(level=0)["site"].count() > 0
cp["covered"] = covered.reindex(cp.index, fill_value=False).to_numpy()
cp.drop(columns="geometry").to_csv(out + "/communities.csv", index=False)
m = folium.Map(location=[float(comms.lat.mean()), float(comms.lon.mean())], zoom_start=14)
folium.GeoJson(iso.to_crs(4326)).add_to(m)
m.save(out + "/map.html")
print(int(cp["covered"].sum()))
"""


def _inputs(network: str, n_sites: int, n_comms: int, folder: Path, seed: int) -> dict:
    from geo.config import Config
    from geo.network import build_network

    net = build_network(network, config=Config(use_cache=False))
    rng = np.random.default_rng(seed)
    pick = rng.choice(net.n_nodes, n_sites + n_comms, replace=n_sites + n_comms > net.n_nodes)
    j = rng.normal(0, 0.0003, (pick.size, 2))  # ~30 m
    lon, lat = net.lon[pick] + j[:, 0], net.lat[pick] + j[:, 1]
    kinds = rng.choice(["station", "integrated", "cultural_palace"], n_sites)
    s = folder / "sites.csv"
    c = folder / "communities.csv"
    with open(s, "w", encoding="utf-8") as fh:
        fh.write("site_id,name,kind,lon,lat\n")
        for i in range(n_sites):
            fh.write(f"S{i},site {i},{kinds[i]},{lon[i]:.7f},{lat[i]:.7f}\n")
    pop = rng.integers(200, 3000, n_comms)
    with open(c, "w", encoding="utf-8") as fh:
        fh.write("community_id,name,population,lon,lat\n")
        for i in range(n_comms):
            k = n_sites + i
            fh.write(f"C{i},community {i},{pop[i]},{lon[k]:.7f},{lat[k]:.7f}\n")
    return {"sites": s, "communities": c, "nodes": net.n_nodes, "edges": net.n_edges}


def _run(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return dt, r


def _stages(network: str, sites: Path, comms: Path, out: Path) -> dict:
    """Each stage of the coverage command, timed in this process (network built fresh)."""
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    from geo.config import Config
    from geo.coverage import compute_coverage, snap_frame
    from geo.io import load_communities, load_sites
    from geo.network import build_network
    from geo.outputs import write_coverage_outputs

    t["ours_imports_s"] = time.perf_counter() - t0
    cfg = Config(use_cache=False)
    t0 = time.perf_counter()
    net = build_network(network, config=cfg)
    _ = net.csr
    t["ours_network_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = load_sites(sites)
    c = load_communities(comms)
    t["ours_read_inputs_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    snap_frame(net, s.data, "sites")
    snap_frame(net, c.data, "communities")
    t["ours_snap_s"] = time.perf_counter() - t0  # index build included
    from geo.coverage.core import INDEX_CACHE

    INDEX_CACHE.clear(net)  # the coverage run below builds its own index again
    t0 = time.perf_counter()
    res = compute_coverage(net, s.data, c.data, config=cfg)
    t["ours_coverage_s"] = time.perf_counter() - t0  # snapping + search + reach pairs
    t0 = time.perf_counter()
    from geo.config import MAX_SITE_ISOCHRONES  # not geo.maps: its import is no isochrone cost

    iso = res.isochrones(by="site" if len(res.sites) <= MAX_SITE_ISOCHRONES else "kind")
    t["ours_isochrones_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_coverage_outputs(res, out / "tables", write_map=False, isochrones=False)
    t["ours_write_tables_s"] = time.perf_counter() - t0
    from geo.maps import make_map, save_map, save_png

    t0 = time.perf_counter()
    m = make_map(res, isochrones=iso, offline=True, basemap="none")
    info = save_map(m, out / "map.html", offline=True)
    t["ours_map_html_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    save_png(res, out / "map.png", **m._sc_png, tiles=False)  # as the command: the map's polygons
    t["ours_map_png_s"] = time.perf_counter() - t0
    t["ours_map_s"] = t["ours_map_html_s"] + t["ours_map_png_s"]
    t["map_mb"] = info["size_bytes"] / 1e6
    t["covered_communities"] = int(res.communities["covered"].sum())
    t["limits_m"] = list(cfg.levels.values())
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in t.items()}


def _old_isochrones(network: str, sites: Path, comms: Path) -> float:
    """The exact GEOS method (today's before this change), same run, for the baseline."""
    from geo.config import Config
    from geo.coverage import compute_coverage
    from geo.io import load_communities, load_sites
    from geo.network import build_network

    cfg = Config(use_cache=False)
    net = build_network(network, config=cfg)
    res = compute_coverage(net, load_sites(sites).data, load_communities(comms).data, config=cfg)
    t0 = time.perf_counter()
    res.isochrones(method="exact")
    return round(time.perf_counter() - t0, 3)


def _has_bytecode() -> bool:
    """Whether the imported geo package's modules have compiled bytecode (a run then loads it
    instead of compiling ~1 MB of source: 0.1-0.3 s of CPU across its processes)."""
    import importlib.util

    mods = list((ROOT / "geo").rglob("*.py"))
    return all(Path(importlib.util.cache_from_source(str(p))).exists() for p in mods)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--network", required=True)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--communities", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3, help="cold runs of each command (median)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-osmnx", action="store_true", help="skip the osmnx pipeline")
    ap.add_argument("--old-isochrones", action="store_true", help="also time method='exact'")
    ap.add_argument(
        "--bytecode",
        action="store_true",
        help="byte-compile geo first (python -m compileall), as pip install does; without it, "
        "where PYTHONDONTWRITEBYTECODE is set each run compiles geo's source again",
    )
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out: dict = {"network": a.network, "sites": a.sites, "communities": a.communities}
    if a.bytecode:
        _run([sys.executable, "-m", "compileall", "-q", str(ROOT / "geo")])
    out["geo_bytecode"] = _has_bytecode()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        inp = _inputs(a.network, a.sites, a.communities, tmp_p, a.seed)
        out.update(nodes=inp["nodes"], edges=inp["edges"])
        base = [sys.executable, "-m", "geo", "coverage", "--network", a.network]
        base += ["--sites", str(inp["sites"]), "--communities", str(inp["communities"])]
        cold, warm = [], []
        for i in range(a.repeat):
            cache = tmp_p / f"cache{i}"
            dt, _ = _run([*base, "--out", str(tmp_p / f"o{i}"), "--cache-dir", str(cache)])
            cold.append(dt)
            dt, _ = _run([*base, "--out", str(tmp_p / f"w{i}"), "--cache-dir", str(cache)])
            warm.append(dt)
        out["ours_total_s"] = round(statistics.median(cold), 3)
        out["ours_total_cached_s"] = round(statistics.median(warm), 3)
        t0 = time.perf_counter()
        _run([sys.executable, "-c", "import geo.cli, geo.commands.coverage"])
        out["ours_python_startup_s"] = round(time.perf_counter() - t0, 3)
        out.update(_stages(a.network, inp["sites"], inp["communities"], tmp_p / "stages"))
        if a.old_isochrones:
            out["old_isochrones_exact_s"] = _old_isochrones(
                a.network, inp["sites"], inp["communities"]
            )
        if not a.no_osmnx:
            lim = ",".join(f"{v:.3f}" for v in out["limits_m"])
            runs = []
            for i in range(a.repeat):
                d = tmp_p / f"ox{i}"
                d.mkdir()
                dt, r = _run(
                    [sys.executable, "-c", OSMNX, a.network, str(inp["sites"])]
                    + [str(inp["communities"]), str(d), lim]
                )
                runs.append(dt)
                out["osmnx_covered_communities"] = int(r.stdout.strip().splitlines()[-1])
            out["osmnx_pipeline_s"] = round(statistics.median(runs), 3)
            out["ratio_whole_job"] = round(out["osmnx_pipeline_s"] / out["ours_total_s"], 2)
    print(json.dumps(out) if a.json else json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
