"""Coverage-engine benchmark: ours against networkx, the osmnx-tutorial ego_graph approach and
pandana, on the same graph, sites and communities, in one process.

    python benchmarks/coverage.py --nodes 1000000 --sites 2000 --json
    python benchmarks/coverage.py --network ../shared/data/wuhan/roads_central/WHroad.shp \
        --sites 300 --json

Prints one JSON object (times in seconds) with ``ours_nearest_s``, ``networkx_multisource_s``,
``ego_graph_s``, ``pandana_s`` (null without pandana), ``ours_reach_s``, ``peak_rss_mb`` and
``max_abs_diff_m`` (ours against networkx, over every node), plus the ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, random_points_near, street_grid, timer

from geo.config import Config
from geo.coverage._snap import snap_points
from geo.coverage.core import nearest_sites, point_distances, site_reach
from geo.network import Network, build_network


def nx_graph_with_sources(net: Network, sites):
    """The graph a peer-tool user holds: the osmnx-style MultiDiGraph (``geo.to_networkx``,
    both directions, osmnx attributes), plus one node per site joined to its edge's ends."""
    from geo.network import to_networkx

    G = to_networkx(net)
    ids = net.node_id
    su, sv = ids[net.edge_u[sites.edge]], ids[net.edge_v[sites.edge]]
    cu = sites.leg + sites.t
    cv = sites.leg + net.length[sites.edge] - sites.t
    src = []
    for k in range(len(sites)):
        s = ("site", k)
        G.add_edge(s, int(su[k]), length=float(cu[k]))
        G.add_edge(s, int(sv[k]), length=float(cv[k]))
        src.append(s)
    return G, src


def _progress(out: dict) -> None:
    print(json.dumps({k: v for k, v in out.items()}), file=sys.stderr, flush=True)


def _pandana_child(npz: str, limit: float, q) -> None:
    import os

    # pandana's C++ core prints progress to stdout; keep our stdout a single JSON object
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    import pandana
    import pandas as pd

    z = np.load(npz)
    t0 = time.perf_counter()
    pn = pandana.Network(
        pd.Series(z["x"]),
        pd.Series(z["y"]),
        pd.Series(z["u"]),
        pd.Series(z["v"]),
        pd.DataFrame({"length": z["w"]}),
        twoway=True,
    )
    pn.precompute(limit)
    pn.set_pois("sites", limit, 1, pd.Series(z["sx"]), pd.Series(z["sy"]))
    pn.nearest_pois(limit, "sites", num_pois=1)
    q.put(time.perf_counter() - t0)


def _pandana(net, sx, sy, args):
    try:
        import pandana  # noqa: F401
    except ImportError:
        return None
    import multiprocessing as mp
    import tempfile

    keep = net.edge_u != net.edge_v
    with tempfile.TemporaryDirectory() as tmp:
        npz = str(Path(tmp) / "g.npz")
        np.savez(
            npz,
            x=net.xy[:, 0],
            y=net.xy[:, 1],
            u=net.edge_u[keep],
            v=net.edge_v[keep],
            w=net.length[keep],
            sx=sx,
            sy=sy,
        )
        q = mp.get_context("spawn").Queue()
        p = mp.get_context("spawn").Process(
            target=_pandana_child, args=(npz, args.limit_m, q), daemon=True
        )
        p.start()
        p.join(args.pandana_timeout)
        if p.is_alive():
            p.terminate()
            p.join()
            return f"> {args.pandana_timeout:.0f} (stopped)"
        return round(q.get(), 3) if not q.empty() else None


def run(args) -> dict:
    rng = np.random.default_rng(args.seed)
    out: dict = {}
    if args.network:
        net = build_network(args.network, config=Config(use_cache=False))
        out["graph"] = str(args.network)
    else:
        net = street_grid(args.nodes, seed=args.seed)
        out["graph"] = f"generated street grid, {args.nodes} nodes requested"
    out.update(
        nodes=net.n_nodes,
        edges=net.n_edges,
        sites=args.sites,
        communities=args.communities,
        limit_m=args.limit_m,
    )
    sx, sy = random_points_near(net, args.sites, rng)
    cx, cy = random_points_near(net, args.communities, rng)
    # the network's array form: projected node and geometry coordinates and the CSR, built
    # once per network and reused by every run on it; timed separately
    t0 = time.perf_counter()
    _ = net.xy, net.geom_xy, net.csr
    out["network_prep_s"] = round(time.perf_counter() - t0, 4)

    # --- ours: snapping (index build included) + one multi-source Dijkstra + point distances
    net.__dict__.pop("_sc_edge_index", None)
    with timer(out, "ours_snap_s"):
        s_snap = snap_points(net, sx, sy)
        c_snap = snap_points(net, cx, cy)
    with timer(out, "ours_dijkstra_s"):
        field = nearest_sites(net, s_snap)
        dist, _ = point_distances(net, field, c_snap, s_snap)
    out["ours_nearest_s"] = round(out["ours_snap_s"] + out["ours_dijkstra_s"], 4)
    with timer(out, "ours_reach_s"):
        reach = site_reach(net, s_snap, args.limit_m)
    out["reach_pairs"] = len(reach)
    out["ours_peak_rss_mb"] = round(peak_rss_mb(), 1)
    _progress(out)

    # --- networkx multi-source Dijkstra on the same graph and sources
    import networkx as nx

    t0 = time.perf_counter()
    G, src = nx_graph_with_sources(net, s_snap)
    out["networkx_build_s"] = round(time.perf_counter() - t0, 3)
    with timer(out, "networkx_multisource_s"):
        nd = nx.multi_source_dijkstra_path_length(G, src, weight="length")
    ref = np.array([nd.get(int(i), np.inf) for i in net.node_id])
    fin = np.isfinite(ref)
    out["max_abs_diff_m"] = float(np.abs(field.dist[fin] - ref[fin]).max()) if fin.any() else 0.0
    out["unreached_mismatch"] = int((np.isfinite(field.dist) != fin).sum())

    # --- the osmnx-tutorial approach: ego_graph per site (at its nearest node), then the union
    k = len(src) if args.ego_sample is None else min(args.ego_sample, len(src))
    near = net.node_id[
        np.where(
            s_snap.t <= net.length[s_snap.edge] / 2,
            net.edge_u[s_snap.edge],
            net.edge_v[s_snap.edge],
        )
    ]
    t0 = time.perf_counter()
    covered: set = set()
    for i in range(k):
        sub = nx.ego_graph(G, int(near[i]), radius=args.limit_m, distance="length")
        covered.update(sub.nodes)
    t_ego = time.perf_counter() - t0
    out["ego_graph_sites_timed"] = k
    out["ego_graph_s"] = round(t_ego * len(src) / k, 3)
    out["ego_graph_extrapolated"] = k < len(src)
    _progress(out)

    _progress(out)
    # --- pandana (contraction hierarchies), network build included, in a child process so
    # that a build that runs for hours can be stopped at --pandana-timeout
    out["pandana_s"] = _pandana(net, sx, sy, args)

    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    o = out["ours_nearest_s"]
    srch = out["ours_dijkstra_s"]
    # like for like: the graph search from the same snapped sites (peers do no edge snapping)
    out["ratio_networkx"] = round(out["networkx_multisource_s"] / srch, 1)
    out["ratio_ego_graph"] = round(out["ego_graph_s"] / srch, 1)
    # the whole coverage job of ours (20,000 communities snapped too) against their search
    out["ratio_networkx_vs_whole_job"] = round(out["networkx_multisource_s"] / o, 1)
    out["ratio_ego_graph_vs_whole_job"] = round(out["ego_graph_s"] / o, 1)
    out["ratio_pandana"] = (
        round(out["pandana_s"] / srch, 1) if isinstance(out["pandana_s"], float) else None
    )
    out["covered_communities"] = int((dist <= args.limit_m).sum())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=100_000)
    p.add_argument("--sites", type=int, default=300)
    p.add_argument("--communities", type=int, default=20_000)
    p.add_argument("--network", type=Path, default=None, help="a real network instead")
    p.add_argument("--limit-m", type=float, default=1000.0)
    p.add_argument(
        "--ego-sample",
        type=int,
        default=None,
        help="time ego_graph on this many sites and extrapolate (default: all)",
    )
    p.add_argument(
        "--pandana-timeout",
        type=float,
        default=1800.0,
        help="stop pandana's build after this many seconds",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print only the JSON object")
    args = p.parse_args()
    out = run(args)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:>26}: {v}")


if __name__ == "__main__":
    main()
