"""Province batch benchmark (issue 13): a whole-province audit, every county, end to end.

    python benchmarks/province.py --json                       # generated province, --scale 0.05
    python benchmarks/province.py --scale 1.0 --json           # the issue's full size (heavy)
    python benchmarks/province.py --network P.osm.pbf --boundaries cnmaps:湖北省 \\
        --sites S.csv --communities C.csv --json

The generated province is a grid of square counties, each a jittered street grid written as an
OSM PBF (so parsing is measured too). ``--scale 1`` is the issue's size: 103 counties of about
30,000 street nodes (3.1 M), 30,000 communities and 3,750 sites; every count scales linearly
with ``--scale`` (counties at least 2). The generated PBF holds street nodes only, not the
issue's 15 M OSM nodes (buildings and other nodes, which the walk filter skips).

Prints one JSON object: ``counties``, ``total_s``, ``peak_rss_mb`` (this process and the
largest worker), ``slowest_county_s``, ``stage_totals_s`` (parse, index, clip, load, coverage,
optimise, files, isochrones, map, reports) and the sizes.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

LON0, LAT0 = 111.0, 30.0  # western Hubei
M_PER_DEG = 111_195.0
INPUTS_JSON = "generated_inputs.json"  # what --keep reuses on the next run
FULL = {"counties": 103, "county_nodes": 30_000, "communities": 30_000, "sites": 3_750}


def generate(out: Path, scale: float, seed: int = 1, spacing_m: float = 90.0) -> dict:
    """Write ``province.osm.pbf``, ``counties.geojson``, ``sites.csv``, ``communities.csv``."""
    import geopandas as gpd
    import osmium
    import shapely

    rng = np.random.default_rng(seed)
    n_cty = max(2, round(FULL["counties"] * scale))
    side = int(np.ceil(np.sqrt(FULL["county_nodes"])))  # nodes per county side
    cols = int(np.ceil(np.sqrt(n_cty)))
    rows = int(np.ceil(n_cty / cols))
    nx_, ny_ = cols * side, rows * side
    dlat = spacing_m / M_PER_DEG
    dlon = spacing_m / (M_PER_DEG * np.cos(np.radians(LAT0)))
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny_))
    lon = LON0 + ii * dlon + rng.normal(0, 0.05 * dlon, ii.shape)
    lat = LAT0 + jj * dlat + rng.normal(0, 0.05 * dlat, jj.shape)
    # only the cells of existing counties carry streets
    cty = (jj // side) * cols + (ii // side)
    alive = cty < n_cty
    node_id = np.arange(nx_ * ny_, dtype=np.int64).reshape(ny_, nx_) + 1
    pbf = out / "province.osm.pbf"
    t0 = time.perf_counter()
    n_nodes = n_ways = 0
    with osmium.SimpleWriter(str(pbf)) as w:
        for y in range(ny_):
            for x in np.flatnonzero(alive[y]):
                w.add_node(
                    osmium.osm.mutable.Node(
                        id=int(node_id[y, x]), location=(float(lon[y, x]), float(lat[y, x]))
                    )
                )
                n_nodes += 1
        wid = 1
        kinds = np.array(["residential", "service", "footway", "tertiary", "living_street"])
        # streets along rows and columns, cut into ways of 1-12 blocks, some links missing
        for horiz in (True, False):
            lines = range(ny_) if horiz else range(nx_)
            for k in lines:
                ids = node_id[k, :] if horiz else node_id[:, k]
                ok = alive[k, :] if horiz else alive[:, k]
                pos = 0
                n = ids.size
                while pos < n - 1:
                    step = int(rng.integers(1, 13))
                    seg = np.arange(pos, min(pos + step, n - 1) + 1)
                    pos = seg[-1]
                    if not ok[seg].all() or rng.random() < 0.1:
                        continue
                    tags = {"highway": str(kinds[rng.integers(0, kinds.size)])}
                    if rng.random() < 0.5:
                        tags["name"] = f"路{wid}"
                    w.add_way(osmium.osm.mutable.Way(id=wid, nodes=ids[seg].tolist(), tags=tags))
                    wid += 1
                    n_ways += 1
    write_s = time.perf_counter() - t0
    # county squares
    polys, names = [], []
    for c in range(n_cty):
        cy, cx = divmod(c, cols)
        x0, y0 = LON0 + (cx * side - 0.5) * dlon, LAT0 + (cy * side - 0.5) * dlat
        polys.append(shapely.box(x0, y0, x0 + side * dlon, y0 + side * dlat))
        names.append(f"模拟县{c + 1:03d}")
    bnd = gpd.GeoDataFrame(
        {"name": names, "adcode": [f"42{c + 1:04d}" for c in range(n_cty)]},
        geometry=polys,
        crs=4326,
    )
    bnd.to_file(out / "counties.geojson", driver="GeoJSON")
    n_comm = max(20 * n_cty, round(FULL["communities"] * scale))
    n_site = max(12 * n_cty, round(FULL["sites"] * scale))
    pick = rng.choice(np.flatnonzero(alive.ravel()), n_comm + n_site, replace=False)
    plon = lon.ravel()[pick] + rng.normal(0, 0.3 * dlon, pick.size)
    plat = lat.ravel()[pick] + rng.normal(0, 0.3 * dlat, pick.size)
    kinds_zh = rng.choice(
        ["爱心驿站", "会·站·家一体化", "工人文化宫", "融合共建"], n_site, p=[0.6, 0.3, 0.02, 0.08]
    )
    pd.DataFrame(
        {
            "编号": [f"S{i:05d}" for i in range(n_site)],
            "名称": [f"{k}{i}号" for i, k in enumerate(kinds_zh)],
            "类型": kinds_zh,
            "经度": plon[:n_site].round(6),
            "纬度": plat[:n_site].round(6),
        }
    ).to_csv(out / "sites.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "编号": [f"C{i:05d}" for i in range(n_comm)],
            "名称": [f"社区{i}" for i in range(n_comm)],
            "人口": rng.integers(800, 12_000, n_comm),
            "经度": plon[n_site:].round(6),
            "纬度": plat[n_site:].round(6),
        }
    ).to_csv(out / "communities.csv", index=False, encoding="utf-8-sig")
    info = {
        "scale": scale,
        "seed": seed,
        "counties": n_cty,
        "street_nodes": n_nodes,
        "ways": n_ways,
        "communities": n_comm,
        "sites": n_site,
        "pbf_mb": round(pbf.stat().st_size / 1e6, 1),
        "pbf_write_s": round(write_s, 1),
        "network": str(pbf),
        "boundaries": str(out / "counties.geojson"),
        "sites_file": str(out / "sites.csv"),
        "communities_file": str(out / "communities.csv"),
    }
    info["generate_s"] = round(time.perf_counter() - t0, 1)  # PBF + boundaries + points
    (out / INPUTS_JSON).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return info


def generated(out: Path, scale: float, seed: int = 1) -> dict:
    """The inputs already generated in ``out`` for this scale and seed, else generate them."""
    f = out / INPUTS_JSON
    if f.exists():
        info = json.loads(f.read_text(encoding="utf-8"))
        files = ("network", "boundaries", "sites_file", "communities_file")
        if (
            info.get("scale") == scale
            and info.get("seed") == seed
            and all(Path(info[k]).exists() for k in files)
        ):
            return {**info, "reused": True}
    return {**generate(out, scale, seed), "reused": False}


def run(
    network,
    boundaries,
    sites,
    communities,
    out: Path,
    workers: int,
    maps: bool,
    scheduler=None,
    force: bool = True,
    folder: str = "audit",
    use_cache: bool = False,
) -> dict:
    from geo.audit import run_audit

    cfg = _config(out, use_cache)
    t0 = time.perf_counter()
    res = run_audit(
        network=network,
        sites=sites,
        communities=communities,
        boundaries=boundaries,
        out=out / folder,
        config=cfg,
        workers=workers,
        scheduler=scheduler,
        write_maps=maps,
        force=force,
    )
    total = time.perf_counter() - t0
    doc = json.loads((out / folder / "summary.json").read_text(encoding="utf-8"))
    s = res.summary
    ok = s[s["status"] == "ok"]
    if not force:  # a re-audit: counties whose inputs did not change were reused, not run
        t_wall = time.time() - total  # (their result.json is older than this run)
        res_json = [out / folder / "counties" / f / "result.json" for f in ok["folder"]]
        ok = ok[[p.stat().st_mtime >= t_wall for p in res_json]]
    return {
        "counties": len(s),
        "counties_ok": len(s[s["status"] == "ok"]),
        "counties_run": len(ok),
        "total_s": round(total, 1),
        "slowest_county_s": round(float(ok["seconds"].max()), 2) if len(ok) else None,
        "slowest_county": str(ok.loc[ok["seconds"].idxmax(), "county"]) if len(ok) else None,
        "stage_totals_s": doc.get("stage_seconds", {}),
        "scaling_model": scaling_model(ok, doc.get("stage_seconds", {})),
        "palace_proposals": int(ok["palace_proposal_lon"].notna().sum()),
        "solver_fallbacks": [x for x in s.get("solver_fallback", pd.Series()).dropna()],
    }


def _config(out: Path, use_cache: bool):
    from geo.config import Config

    return Config(cache_dir=out / "cache", use_cache=use_cache).replace(
        minutes=15.0, thresholds_min=(5.0, 10.0, 15.0)
    )


def cached_network_run(paths: tuple, out: Path, workers: int, maps: bool, scheduler) -> dict:
    """A new audit (a fresh output folder, every county run) of a province audited before: the
    network cache under ``out`` holds the counties' pieces (made first, untimed, by
    ``geo.audit._inputs.prepare_networks`` into another folder, unless already there), so the
    audit neither parses nor clips."""
    from geo._safety import folder_names
    from geo.audit import read_boundaries, select_counties
    from geo.audit._inputs import prepare_networks

    cfg = _config(out, True)
    t0 = time.perf_counter()
    chosen = select_counties(read_boundaries(paths[1]), None).copy()
    chosen["folder"] = folder_names(zip(chosen["county"], chosen["code"], strict=True))
    prepare_networks(paths[0], chosen, out / "audit_warm", cfg)
    warm = round(time.perf_counter() - t0, 1)
    shutil.rmtree(out / "audit_cached", ignore_errors=True)
    res = run(*paths, out, workers, maps, scheduler, force=False, folder="audit_cached",
              use_cache=True)  # fmt: skip
    pieces = list((out / "cache" / "pieces").glob("*.npz"))
    mb = sum(p.stat().st_size for p in pieces) / 1e6
    return {**res, "warm_up_s": warm, "cached_pieces": len(pieces), "cached_pieces_mb": round(mb)}


def edited_sites(sites: str, out: Path, share: float = 0.05, seed: int = 2) -> Path:
    """The sites file with ``share`` of its rows removed (seeded): a planner's edited list."""
    df = pd.read_csv(sites, encoding="utf-8-sig", dtype=str)
    keep = np.random.default_rng(seed).random(len(df)) >= share
    path = out / "sites_edited.csv"
    df[keep].to_csv(path, index=False, encoding="utf-8-sig")
    return path


def scaling_model(ok: pd.DataFrame, stages: dict, ns=(1, 2, 4, 8, 16, 32)) -> dict:
    """Projected wall time on N workers from this run's own measurements (a model, not a run):
    the parent's time before the first county (inputs, parse, index, first clip), the counties
    dispatched largest first as the parent clips them one after another (``seconds_clip``), each
    to the first free worker for its measured ``seconds``, then the reports. It ignores the
    scheduler's own cost and the slowdown of many workers sharing memory bandwidth; its value at
    the run's own N is printed beside the measured total to show how well it fits."""
    import heapq

    sec = ok["seconds"].to_numpy(float)
    clip = ok.get("seconds_clip", pd.Series(0.0, index=ok.index)).fillna(0.0).to_numpy(float)
    order = sorted(range(sec.size), key=lambda i: -sec[i])
    before = float(stages.get("before_first_task", 0.0))
    after = float(stages.get("reports", 0.0))
    ready = before + np.cumsum([clip[i] for i in order]) - (clip[order[0]] if order else 0.0)
    out: dict = {"before_first_task_s": before, "reports_s": after, "county_s": round(sec.sum(), 1)}
    for n in ns:
        free = [0.0] * n
        end = 0.0
        for k, i in enumerate(order):
            start = max(heapq.heappop(free), float(ready[k]))
            heapq.heappush(free, start + sec[i])
            end = max(end, start + sec[i])
        out[f"total_s_{n}"] = round(end + after, 1)
    for n in ns:
        out[f"speedup_{n}"] = round(out[f"total_s_{ns[0]}"] / out[f"total_s_{n}"], 2)
    for n in ns:  # speedup over N: 1.0 is linear
        out[f"efficiency_{n}"] = round(out[f"speedup_{n}"] / (n / ns[0]), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--scale", type=float, default=0.05, help="share of the issue's province")
    ap.add_argument("--network", help="an existing OSM PBF instead of the generated one")
    ap.add_argument("--boundaries", help="county boundaries (file or cnmaps:湖北省)")
    ap.add_argument("--sites")
    ap.add_argument("--communities")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-maps", action="store_true")
    ap.add_argument("--scheduler", help="run the counties on this Dask scheduler (tcp://HOST:PORT)")
    ap.add_argument(
        "--dask-workers",
        type=int,
        help="start a local Dask cluster of N single-threaded worker processes and run the "
        "counties on it (needs the dask extra: pip install 'servicecircle[dask]')",
    )
    ap.add_argument(
        "--rerun",
        action="store_true",
        help="then audit again with 5%% of the sites removed, without --force (a planner's "
        "re-audit: the counties' network pieces are reused, no parse), reported as 'rerun'",
    )
    ap.add_argument(
        "--cached-network",
        action="store_true",
        help="then audit again into a new folder, the counties' network pieces already in the "
        "network cache (made first, untimed): every county run, no parse, no clip; reported as "
        "'cached_network'",
    )
    ap.add_argument(
        "--keep",
        help="folder to keep the generated inputs and outputs in; a later run with the same "
        "--scale reuses the inputs found there (no regeneration)",
    )
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="province_"))
    tmp.mkdir(parents=True, exist_ok=True)
    if args.network:
        if not (args.boundaries and args.sites and args.communities):
            ap.error("--network needs --boundaries, --sites and --communities")
        gen = {"network": args.network}
        paths = (args.network, args.boundaries, args.sites, args.communities)
    else:
        gen = generated(tmp, args.scale)
        paths = (gen["network"], gen["boundaries"], gen["sites_file"], gen["communities_file"])
    cluster = None
    scheduler = args.scheduler
    if args.dask_workers:
        import dask
        from distributed import LocalCluster

        # as README recommends for county workers: the statistical profiler off (it samples the
        # running task's stack every 10 ms; county tasks took about 6% longer with it)
        dask.config.set({"distributed.worker.profile.enabled": False})
        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=args.dask_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        scheduler = cluster.scheduler_address
        cluster_start_s = round(time.perf_counter() - t0, 1)
    try:
        out = run(*paths, tmp, args.workers, not args.no_maps, scheduler)
        if args.rerun:
            edited = edited_sites(paths[2], tmp)
            again = (paths[0], paths[1], str(edited), paths[3])
            out["rerun"] = run(*again, tmp, args.workers, not args.no_maps, scheduler, force=False)
        if args.cached_network:
            out["cached_network"] = cached_network_run(
                paths, tmp, args.workers, not args.no_maps, scheduler
            )
    finally:
        if cluster is not None:
            cluster.close()  # before the peak RSS below: workers count once they have exited
    if scheduler:
        out["scheduler"] = scheduler
        out["dask_workers"] = args.dask_workers
        if cluster is not None:
            out["cluster_start_s"] = cluster_start_s
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        **out,
        "peak_rss_mb": round(max(self_mb, child_mb), 1),
        "peak_rss_parent_mb": round(self_mb, 1),
        "peak_rss_largest_worker_mb": round(child_mb, 1),
        "workers": args.workers,
        "maps": not args.no_maps,
        "input": {k: v for k, v in gen.items() if not k.endswith("_file")},
    }
    print(json.dumps(result, ensure_ascii=False) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
