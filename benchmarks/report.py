"""Render benchmarks/RESULTS.md from the JSON written by the benchmark scripts.

make bench            # runs every benchmark into benchmarks/out/ and renders RESULTS.md
python benchmarks/report.py
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
#: Everything in RESULTS.md from this line on is kept when the file is re-rendered.
KEEP_MARKER = "<!-- kept by report.py: sections below are written from other scripts' output -->"


def load(name):
    p = OUT / f"{name}.json"
    if not p.exists():
        return None
    last = p.read_text().strip().splitlines()[-1]
    return json.loads(last[last.index("{") :])  # older runs: pandana progress before the JSON


def fmt(x, nd=3):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    return f"{x:,.{nd}f}" if isinstance(x, float) else f"{x:,}"


def coverage_section(name, d, targets):
    if d is None:
        return [f"*{name}: not run*", ""]
    rows = [
        ("ours: nearest-site coverage, snapping included", d["ours_nearest_s"], "1.0"),
        ("  of which snapping (index build + sites + communities)", d["ours_snap_s"], ""),
        (
            "  of which graph search (one multi-source Dijkstra + point distances)",
            d["ours_dijkstra_s"],
            "1.0 (search)",
        ),
        (
            "networkx multi_source_dijkstra (same sources, osmnx MultiDiGraph)",
            d["networkx_multisource_s"],
            f"{d['ratio_networkx']} x our search",
        ),
        (
            f"osmnx-tutorial ego_graph per site + union"
            f"{' (timed on ' + str(d['ego_graph_sites_timed']) + ' sites, scaled)' if d['ego_graph_extrapolated'] else ''}",
            d["ego_graph_s"],
            f"{d['ratio_ego_graph']} x our search",
        ),
        (
            "pandana (network build + CH precompute + nearest_pois)",
            d["pandana_s"],
            f"{d['ratio_pandana']} x our search" if d.get("ratio_pandana") else "—",
        ),
        ("ours: per-site reach for every site", d["ours_reach_s"], ""),
        ("(network preparation, once per network: projection + CSR)", d.get("network_prep_s"), ""),
    ]
    lines = [
        f"### {name}",
        "",
        f"{d['nodes']:,} nodes, {d['edges']:,} edges, {d['sites']:,} sites, "
        f"{d['communities']:,} communities, limit {d['limit_m']:.0f} m. "
        f"Largest |ours - networkx| over all nodes: {d['max_abs_diff_m']:.2e} m; "
        f"nodes reached by one but not the other: {d['unreached_mismatch']}. "
        f"Peak memory: ours {d['ours_peak_rss_mb']:,.0f} MB (after our steps), whole "
        f"process {d['peak_rss_mb']:,.0f} MB.",
        "",
        "| method | seconds | ratio |",
        "|---|---:|---:|",
    ]
    lines += [f"| {a} | {fmt(b)} | {c} |" for a, b, c in rows]
    lines += ["", *targets(d), ""]
    return lines


def main() -> None:
    wuhan, big = load("coverage_wuhan"), load("coverage_1m")
    opt, nets, maps = load("optimize"), load("networks"), load("maps")
    L = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, 2 cores, 24 GB, Python {platform.python_version()}. "
        "The sections down to the marker comment are rendered by `python benchmarks/report.py` "
        "from the JSON the scripts printed (`benchmarks/out/`, not committed), measured with "
        "nothing else running; the hand-written sections after the marker state their own date "
        "and load, and the first of them holds the latest issue-13 figures.",
        "",
        "Reproduce everything with `make bench`, or one by one:",
        "",
        "```bash",
        "python benchmarks/coverage.py --network ../shared/data/wuhan/roads_central/WHroad.shp "
        "--sites 300 --json",
        "python benchmarks/coverage.py --nodes 1000000 --sites 2000 --ego-sample 200 "
        "--pandana-timeout 600 --json",
        "python benchmarks/optimize.py --json",
        "python benchmarks/networks.py --json",
        "python benchmarks/maps.py --json",
        "```",
        "",
        "## Coverage engine (issue 3)",
        "",
        '"Our search" is the like-for-like part: one multi-source Dijkstra from the snapped '
        "sites plus the community distances. The peers do no edge snapping at all, so the "
        "ratios compare their graph search with ours; our whole job (with the snapping of "
        "every site and community onto edges) is the first row.",
        "",
    ]

    def t_wuhan(d):
        return [
            f"Targets: networkx ≥ 20x → **{d['ratio_networkx']}x** "
            f"({'met' if d['ratio_networkx'] >= 20 else 'missed'}); ego_graph ≥ 100x → "
            f"**{d['ratio_ego_graph']}x** "
            f"({'met' if d['ratio_ego_graph'] >= 100 else 'missed'})."
        ]

    def t_big(d):
        return [
            f"Targets: nearest-site coverage with snapping < 2 s → **{d['ours_nearest_s']:.2f} s** "
            f"({'met' if d['ours_nearest_s'] < 2 else 'missed'}); per-site reach < 10 s → "
            f"**{d['ours_reach_s']:.2f} s** ({'met' if d['ours_reach_s'] < 10 else 'missed'}) "
            f"using < 2 GB → **{d['ours_peak_rss_mb']:,.0f} MB** peak "
            f"({'met' if d['ours_peak_rss_mb'] < 2048 else 'missed'}); networkx ≥ 20x → "
            f"**{d['ratio_networkx']}x** ({'met' if d['ratio_networkx'] >= 20 else 'missed'}); "
            f"ego_graph ≥ 100x → **{d['ratio_ego_graph']}x** "
            f"({'met' if d['ratio_ego_graph'] >= 100 else 'missed'})."
        ]

    L += coverage_section("(a) Real central-Wuhan road network (WHroad.shp)", wuhan, t_wuhan)
    L += coverage_section(
        "(b) Generated street-like network, 1,000,000 nodes, 2,000 sites", big, t_big
    )
    L += [
        "## Optimiser (issue 4)",
        "",
        "Ours: HiGHS through `scipy.optimize.milp`. spopt: pulp + CBC (spopt's default), "
        "same cost matrices, same objective values required.",
        "",
        "| instance | model | ours (s) | spopt + CBC (s) | speed-up | same objective |",
        "|---|---|---:|---:|---:|---|",
    ]
    if opt:
        for r in opt["instances"]:
            L.append(
                f"| {r['instance']} | {r['model']} | {fmt(r['ours_s'])} | "
                f"{fmt(r['spopt_cbc_s'])} | {fmt(r['speedup'], 1)} | "
                f"{r['same_objective']} |"
            )
        b = opt["large"]
        L += [
            "",
            f"Large instance, {b['instance']} ({b['nonzeros']:,} coverage pairs): exact "
            f"MILP **{b['milp_s']:.1f} s**, status {b['milp_status']}, gap {b['milp_gap']}; "
            f"lazy greedy {b['greedy_s']:.2f} s reaching {100 * b['greedy_vs_milp']:.2f}% of "
            f"the optimum. Peak memory {opt['peak_rss_mb']:,.0f} MB.",
            "",
        ]
    L += [
        "## Networks: load time, memory, cache (issue 2)",
        "",
        "Each figure from a fresh process (build = parse + noding + cleaning + CSR; the "
        "cache reload includes the CSR). Timing starts after Python's imports; peak MB is the "
        "whole process, of which about 130 MB is the imported libraries. pyrosm returns an "
        "unsimplified network (a node at every vertex), hence its larger counts.",
        "",
        "| source | nodes | edges | build (s) | peak MB | cache reload (s) | speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    if nets:
        for k, v in nets["networks"].items():
            L.append(
                f"| {k} | {fmt(v.get('nodes'))} | {fmt(v.get('edges'))} | "
                f"{fmt(v.get('seconds'))} | {fmt(v.get('peak_rss_mb'), 0)} | "
                f"{fmt(v.get('cache_reload_seconds'))} | {fmt(v.get('cache_speedup'), 1)} |"
            )
        L += [
            "",
            "PBF reader choice (walk network of the same file):",
            "",
            "| file | reader | seconds | peak MB | nodes | edges |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for f, rr in nets["pbf_readers"].items():
            for reader, v in rr.items():
                L.append(
                    f"| {f} | {reader} | {fmt(v.get('seconds'))} | "
                    f"{fmt(v.get('peak_rss_mb'), 0)} | {fmt(v.get('nodes'))} | "
                    f"{fmt(v.get('edges'))} |"
                )
        L.append("")
    L += ["## Maps (issue 5)", ""]
    if maps:
        L += [
            f"Offline map of the largest real network ({Path(maps['network']).name}: "
            f"{maps['nodes']:,} nodes, {maps['edges']:,} edges) with {maps['sites']:,} "
            f"generated sites and {maps['communities']:,} communities: "
            f"**{maps['size_mb']} MB**, built and written in {maps['build_and_write_s']} s; "
            f"headless Chromium (network off) loads it in {maps['browser_load_s']} s "
            f"(DOMContentLoaded {maps['dom_content_loaded_ms']} ms, load event "
            f"{maps['load_event_ms']} ms).",
            "",
        ]
    L += scenario_section()
    # sections written by hand below the marker (measured by other scripts) are kept
    path = HERE / "RESULTS.md"
    if path.exists() and KEEP_MARKER in (old := path.read_text(encoding="utf-8")):
        L += ["", old[old.index(KEEP_MARKER) :].rstrip("\n")]
    path.write_text("\n".join(L) + "\n", encoding="utf-8")
    print("wrote", HERE / "RESULTS.md")


def scenario_section() -> list[str]:
    """Scenario mode (issue 14): benchmarks/scenario.py, one JSON per network."""
    runs = [(p.stem, json.loads(p.read_text())) for p in sorted(OUT.glob("scenario_*.json"))]
    if not runs:
        return []
    L = [
        "## Scenario mode in the offline map (issue 14)",
        "",
        "`python benchmarks/scenario.py --network FILE --json` (real) and `python "
        "benchmarks/scenario.py --nodes 50000 --shape-points 3 --json` (generated county): 300 "
        "sites, 1,500 communities, 100 scripted edits (add, move, close, reopen) through "
        "`window.servicecircle` in headless Chromium from file://. *update* = the page's own "
        "time per edit (engine + recolouring + isochrone + panel); *to paint* = until two "
        "animation frames later (the recoloured map is on screen; includes waiting for the "
        "frame; *frame floor* = the same two frames with no edit). *usable after* = the page's "
        "API and panel are ready; the street background and baseline walking areas are drawn "
        "after that in 30 ms slices (*background done*). Target: update ≤ 200 ms and map ≤ 8 MB "
        "for a 50k-node county.",
        "",
        "| network | nodes | edges | map MB | update median / p95 (ms) | to paint median / "
        "p95 (ms) | frame floor median (ms) | usable after (ms) | background done (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, d in runs:
        L.append(
            f"| {Path(str(d['network'])).name} | {d['nodes']:,} | {d['edges']:,} | "
            f"{d['map_mb']} | {d['update_ms_median']} / {d['update_ms_p95']} | "
            f"{d['to_paint_ms_median']} / {d['to_paint_ms_p95']} | "
            f"{d.get('frame_floor_ms_median', '')} | {d['scenario_init_ms']} | "
            f"{d.get('background_done_ms', '')} |"
        )
    return [*L, ""]


if __name__ == "__main__":
    main()
