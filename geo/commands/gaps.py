"""``servicecircle gaps``: propose new sites where they close most of the coverage gap."""

from __future__ import annotations

import argparse
from pathlib import Path

import shapely

from .. import schema
from .._errors import InputError
from ..coverage import compute_coverage
from ..coverage.streets import parse_street_weights
from ..io import load_sites, rejects_frame
from ..optimize import parse_demand, propose_mixed, propose_sites
from ..outputs import write_coverage_outputs
from ._console import print_mixed
from ._inputs import config, kv, load, load_kw, loaded, output_crs
from ._views import load_summary, map_kwargs, views


def cmd_gaps(a: argparse.Namespace) -> int:
    cfg = config(a)
    net, sites, comms, rejects, boundary = load(a, cfg)
    cands = _candidates(a, boundary)
    if cands is not None:
        rejects = rejects_frame(sites, comms, cands)
    res = compute_coverage(net, sites.data, comms.data, config=cfg)
    res, demand_views, rejects = views(a, res, boundary, rejects)
    area = shapely.union_all(boundary.geometry.values) if boundary is not None else None
    demand = parse_demand(a.demand, a.weights)
    if list(demand) != ["residents"]:  # issue 15: streets / workplaces / a weighted mix
        prop = _mixed_gaps(a, res, demand_views, demand, cands, area, sites, boundary)
    else:
        prop = _resident_gaps(a, res, cands, area, sites, boundary)
    out = Path(a.out)
    write_coverage_outputs(
        res,
        out,
        rejects=rejects,
        proposal=prop,
        write_map=not a.no_map,
        inputs={
            "sites": a.sites,
            "communities": a.communities,
            "network": a.network,
            "candidates": a.candidates,
        },
        map_kwargs=map_kwargs(a, net, sites, boundary),
        output_crs=output_crs(a, sites),
        extra_summary=load_summary(a, sites, rejects),
        views=demand_views,
        workbook="gaps.xlsx",
        parallel=True,  # workbook and maps in child processes where that is safe
    )
    s = prop.summary
    if "weights" in s:
        print_mixed(s)
        print(f"outputs: {out}")
        return 0
    _print_gaps(s, prop.sites, out, a.lang)
    return 0


def _candidates(a: argparse.Namespace, boundary):
    """The ``--candidates`` points (``None`` without them)."""
    if a.candidates:
        return loaded(
            load_sites, a.candidates, a.out, default_kind="partner", kinds=kv(a.kind, "--kind"),
            boundary=boundary, allow_unknown_kinds=a.allow_unknown_kinds, **load_kw(a),
        )  # fmt: skip
    if a.candidates_only:
        raise SystemExit("error: --candidates-only needs --candidates FILE")
    return None


def _counties(a: argparse.Namespace, boundary):
    """The polygons that name each proposal's county."""
    return a._boundaries_all if a._boundaries_all is not None else boundary


def _resident_gaps(a: argparse.Namespace, res, cands, area, sites, boundary):
    """The residents-only models: MCLP, LSCP or p-median."""
    target = None
    if a.min_kind_count:
        kind, _, n = a.min_kind_count.partition("=")
        target = (kind, int(n))
    return propose_sites(
        res,
        k=a.new_sites,
        model=a.model,
        target_share=a.target_share,
        min_kind_count=target,
        **_shared_kw(a, cands, area, sites, boundary),
    )


def _shared_kw(a: argparse.Namespace, cands, area, sites, boundary) -> dict:
    """Options both solvers take: candidates, search area, time limit and how proposals are
    named and placed."""
    return {
        "candidates": cands.data if cands else None,
        "candidates_only": a.candidates_only,
        "spacing_m": a.grid_spacing_m,
        "boundary": area,
        "time_limit": a.time_limit,
        "boundaries": _counties(a, boundary),
        "output_crs": output_crs(a, sites),
        "lang": a.lang,
    }


def _mixed_gaps(a, res, demand_views, demand, cands, area, sites, boundary):
    """Streets, workplaces or a weighted mix of demand layers (MCLP with ``--new-sites``)."""
    if a.model != "mclp" or a.new_sites is None:
        raise InputError(
            "--demand with streets or workplaces chooses a fixed number of sites",
            column="--demand",
            value=a.demand,
            fix="pass --new-sites K (the model is mclp)",
        )
    streets = demand_views.streets
    return propose_mixed(
        res,
        k=a.new_sites,
        demand=demand,
        workplaces=demand_views.workplaces,
        street_weights=parse_street_weights(a.street_weights),
        classes=None if streets is None else streets.edges["highway"].to_numpy(),
        **_shared_kw(a, cands, area, sites, boundary),
    )


def _print_gaps(s: dict, sites, out, lang: str) -> None:
    """The gaps console summary, in Chinese with ``--lang zh`` (the default)."""
    gap = 100 * (s["gap"] or 0)
    before, after = s["covered_population_before"], s["covered_population_after"]
    if lang == "zh":
        status = schema.display_value("proposal_status", s["status"], "zh")
        print(
            f"{s['model']}：新增 {s['new_sites']} 处，求解状态 {status}（最优性差距 {gap:.2f}%），"
            f"用时 {s['solve_seconds']:.2f} 秒；覆盖人口 {before:,.0f} → {after:,.0f}"
            f"（总人口 {s['population']:,.0f}）"
        )
    else:
        print(
            f"{s['model']}: {s['new_sites']} new site(s), status {s['status']} "
            f"(gap {gap:.2f}%), {s['solve_seconds']:.2f} s; covered population "
            f"{before:,.0f} -> {after:,.0f} of {s['population']:,.0f}"
        )
    for m in s.get("messages", []):
        print(("提示：" if lang == "zh" else "note: ") + str(m))
    for _, r in sites.iterrows():
        print(f"  {r['proposal_id']} {r['location_desc']}: +{r['newly_covered_population']:,.0f}")
    print(("输出：" if lang == "zh" else "outputs: ") + str(out))
