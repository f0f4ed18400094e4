"""``servicecircle compare``: two site lists on one network, or two audit folders, county by
county (the tables and map come from :mod:`geo.compare`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..compare import OUTPUT_FILES, compare_audits, compare_sites
from ..io import load_communities, load_sites
from ..network import build_network
from ._inputs import config, kv

#: The two ways to call compare, for the usage error.
USAGE = (
    "error: give either --network N --communities C --before A.csv --after B.csv, "
    "or --before-audit DIR1 --after-audit DIR2"
)


def cmd_compare(a: argparse.Namespace) -> int:
    """`servicecircle compare`: two site lists on one network, or two audit folders."""
    sites_mode = any(x is not None for x in (a.before, a.after, a.network, a.communities))
    audit_mode = a.before_audit is not None or a.after_audit is not None
    if (
        sites_mode == audit_mode
        or (sites_mode and None in (a.before, a.after, a.network, a.communities))
        or (audit_mode and None in (a.before_audit, a.after_audit))
    ):
        print(USAGE, file=sys.stderr)
        return 2
    res = _sites(a) if sites_mode else compare_audits(a.before_audit, a.after_audit)
    out = Path(a.out)
    targets = {(out / f).resolve() for f in OUTPUT_FILES}
    for src in (a.before, a.after, a.communities):
        if src is not None and Path(src).resolve() in targets:
            print(f"error: --out {out} would overwrite the input {src}", file=sys.stderr)
            return 2
    res.write(out, lang=a.lang, write_map=not a.no_map)
    for r in res.counties.itertuples():
        print(
            f"{r.county}: {r.population_covered_15min_before:,.0f} -> "
            f"{r.population_covered_15min_after:,.0f} ({r.delta:+,.0f}); integrated "
            f"{r.sites_integrated_before} -> {r.sites_integrated_after}; communities "
            f"+{r.communities_gained} / -{r.communities_lost}"
        )
    print(f"outputs: {out}")
    return 0


def _sites(a: argparse.Namespace):
    """Compare two site lists on one network."""
    cfg = config(a)
    kinds = kv(a.kind, "--kind")
    kw = {"crs": a.crs, "encoding": a.encoding}
    before = load_sites(a.before, kinds=kinds, **kw)
    after = load_sites(a.after, kinds=kinds, **kw)
    comms = load_communities(a.communities, **kw)
    for f in (before, after, comms):
        if len(f.rejects):
            print(f"note: {f.source.name}: {len(f.rejects)} row(s) rejected", file=sys.stderr)
    net = build_network(a.network, config=cfg, crs=a.network_crs)
    return compare_sites(net, comms.data, before.data, after.data, config=cfg)
