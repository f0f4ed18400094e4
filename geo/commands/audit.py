"""``servicecircle audit``: audit counties against the plan's targets, one folder per county
plus the combined tables; the exit code says whether every county ran and met its targets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .._safety import console
from ..audit import run_audit
from ..io import NoUsableRowsError, write_csv
from ._inputs import config, kv, load_kw
from ._views import demand_kw

#: The console table's columns (those the run has), ``{level}`` the run's main level.
CONSOLE_COLUMNS = (
    "county", "status", "sites", "sites_integrated", "integrated_shortfall",
    "has_cultural_palace", "communities", "communities_covered_{level}",
    "population_covered_{level}_share", "proposed_sites",
)  # fmt: skip


def cmd_audit(a: argparse.Namespace) -> int:
    if not a.county and not a.all_counties:
        raise SystemExit("error: name counties with --county NAME|CODE ..., or pass --all-counties")
    cfg = config(a, verbose=not a.quiet)
    try:
        res = _run_audit(a, cfg)
    except NoUsableRowsError as exc:  # every row rejected: still write the rejects table
        write_csv(exc.result.rejects, Path(a.out) / "rejects.csv")
        raise
    return _audit_report(a, res, cfg.main_level)


def _run_audit(a: argparse.Namespace, cfg):
    return run_audit(
        network=a.network,
        sites=a.sites,
        communities=a.communities,
        boundaries=a.boundaries,
        out=a.out,
        counties=None if a.all_counties else a.county,
        config=cfg,
        crs=a.crs,
        boundary_crs=a.boundary_crs,
        lang=a.lang,
        workers=a.workers,
        scheduler=a.scheduler,
        force=a.force,
        integrated_target=a.integrated_target,
        coverage_target=a.coverage_target,
        write_maps=not a.no_map,
        scenario=a.scenario,
        load_kw={
            **{k: v for k, v in load_kw(a).items() if k != "crs"},
            "kinds": kv(a.kind, "--kind") or None,
            "columns": kv(a.col, "--col") or None,
            "allow_unknown_kinds": a.allow_unknown_kinds,
            "max_population": a.max_population,
        },
        new_sites=a.new_sites,
        build_kw={"crs": a.network_crs},
        workplaces=a.workplaces,
        demand=demand_kw(a),
        background=a.background,
    )


def _audit_report(a: argparse.Namespace, res, level: str = "15min") -> int:
    """The console report; returns the exit code (3 failures, 1 targets missed, else 0)."""
    s = res.summary
    cols = [c.format(level=level) for c in CONSOLE_COLUMNS]
    cols = [c for c in cols if c in s.columns]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(console(s[cols].to_string(index=False)))
    failed = s[s["status"] != "ok"]
    for _, r in failed.iterrows():
        print(console(f"FAILED {r['county']}: {r['error']}"))
    _print_notes(res.report, a.lang == "zh")
    for w in res.report.get("reports_failed", []):
        print(console(f"FAILED to write {w['file']}: {w['error']}"))
    print(
        f"outputs: {res.out} (summary.csv, audit.xlsx, layers.gpkg, summary.json, "
        "counties/*/map.html)"
    )
    bad_reports = [w["file"] for w in res.report.get("reports_failed", [])]
    if _print_failures(failed, len(s), bad_reports):
        return 3
    if a.fail_on_target and not res.targets_met:
        print(
            console("targets missed (--fail-on-target): " + ", ".join(res.report["targets_missed"]))
        )
        return 1
    return 0


def _print_notes(report: dict, zh: bool) -> None:
    """Sites outside every county, and counties reused from an earlier run."""
    outside = report.get("sites_outside_counties", [])
    if outside:
        print(
            f"{len(outside)} 个站点不在任何区县内（见 summary.json）"
            if zh
            else f"{len(outside)} site(s) lie outside every county (listed in summary.json)"
        )
    if report.get("counties_reused"):
        n = report["counties_reused"]
        print(
            f"沿用上次运行的 {n} 个区县结果（输入、路网和参数均相同；--force 重新计算）"
            if zh
            else f"reused {n} county result(s) from a previous run "
            "(same inputs, network and settings; --force recomputes them)"
        )


def _print_failures(failed: pd.DataFrame, counties: int, bad_reports: list[str]) -> bool:
    """The failed counties and unwritten reports on stderr; True when there are any."""
    if len(failed):
        print(
            console(
                f"error: {len(failed)} of {counties} counties failed (excluded from the combined "
                "tables; see FAILED above and counties/*/error.txt): "
                + ", ".join(failed["county"].astype(str))
            ),
            file=sys.stderr,
        )
    if bad_reports:
        print(
            console(
                f"error: could not write {', '.join(bad_reports)} (the other reports were "
                "written; see the messages above)"
            ),
            file=sys.stderr,
        )
    return bool(len(failed) or bad_reports)
