"""What the commands print: the headline figures, in Chinese (``--lang zh``) or English."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import schema
from ..io import kind_mapping_line


def print_kind_mapping(mapping: dict, lang: str = "zh") -> None:
    """Every site-kind label met and the kind it was counted as."""
    if mapping:
        print(kind_mapping_line(mapping, lang))


def median_text(m: float | None, uncovered: int, lang: str = "zh") -> str:
    """The median walk of uncovered communities, or why there is none."""
    if uncovered == 0:
        return "无" if lang == "zh" else "none"
    if m is None or not np.isfinite(m):
        return "不可达" if lang == "zh" else "unreachable"
    return f"{m:,.0f} 米" if lang == "zh" else f"{m:,.0f} m"


def print_views(views, main_level: str, lang: str = "zh") -> None:
    for line in views.lines(lang, main_level):
        print(line)


_CONSOLE = {
    "zh": {
        "head": "社区 {communities} 个  人口 {population:,.0f}  站点 {sites} 个",
        "level": "  {level:>6} 步行 ({limit:,.0f} 米) 内：{n:>6} 个社区，{pop:>12,.0f} 人 ({share:.1f}%)",
        "main": "主要标准 {level}：人口覆盖率 {pct:.1f}%；未覆盖社区 {n} 个(步行距离中位数 {med})",
        "off": "离路网过远(超过 {m:.0f} 米)：社区 {c} 个，站点 {s} 个",
        "rejects": "未使用的行：{n} 行：{line}",
        "out": "输出：{out}",
    },
    "en": {
        "head": "communities: {communities}  population: {population:,.0f}  sites: {sites}",
        "level": "  within {level:>6} ({limit:,.0f} m): {n:>6} communities, {pop:>12,.0f} people "
        "({share:.1f}%)",
        "main": "main level {level}: {pct:.1f}% of the population covered; {n} communities "
        "uncovered (median walk {med})",
        "off": "off network: {c} communities, {s} sites (more than {m:.0f} m from a street)",
        "rejects": "rejected rows: {n}: {line}",
        "out": "outputs: {out}",
    },
}  # fmt: skip


def print_summary(s: dict, out: Path | None = None, lang: str = "zh") -> None:
    """The run's headline figures on the console, in Chinese (``--lang zh``) or English."""
    t = _CONSOLE["zh" if lang == "zh" else "en"]
    print(t["head"].format(communities=s["communities"], population=s["population"],
                           sites=s["sites"]))  # fmt: skip
    for level, v in s["levels"].items():
        print(t["level"].format(level=schema.level_text(level, lang), limit=v["limit_m"],
                                n=v["communities_covered"],
                                pop=v["population_covered"],
                                share=100 * v["population_share"]))  # fmt: skip
    n_unc = s["communities"] - s["communities_covered"]
    med = median_text(s.get("uncovered_median_walk_m"), n_unc, lang)
    pct = 100 * s.get("population_covered_share", 0)
    main = schema.level_text(s["main_level"], lang)
    print(t["main"].format(level=main, pct=pct, n=n_unc, med=med))
    if s.get("communities_off_network") or s.get("sites_off_network"):
        print(t["off"].format(c=s["communities_off_network"], s=s["sites_off_network"],
                              m=s["max_snap_m"]))  # fmt: skip
    isl = s.get("network", {})
    if isl.get("islands_dropped"):
        n, km = isl["islands_dropped"], isl["island_km_dropped"]
        print(
            f"已去除 {n} 段与主路网不连通的零碎道路（共 {km:.2f} 公里；--keep-islands 可保留）"
            if lang == "zh"
            else f"dropped {n} small street pieces ({km:.2f} km) not connected to the rest "
            "(--keep-islands keeps them)"
        )
    for m in schema.METRICS.values():  # registered county-summary metrics
        if m.table == "summary" and m.column in s:
            print(
                f"{schema.header(m.column, lang)}: {schema.format_value(m.column, s[m.column], lang)}"
            )
    if s.get("rejected_rows"):
        print(t["rejects"].format(n=s["rejected_rows"], line=s.get("rejects_line", "")))
    if out:
        print(t["out"].format(out=out))


def print_mixed(s: dict) -> None:
    w = ", ".join(f"{k}={v:g}" for k, v in s["weights"].items())
    print(
        f"mclp on {'+'.join(s['demand'])} (weights {w}): {s['new_sites']} new site(s), status "
        f"{s['status']}, {s['solve_seconds']:.2f} s"
    )
    if s.get("street_weights"):
        print("street weights: " + ", ".join(f"{k}={v:g}" for k, v in s["street_weights"].items()))
    for layer in s["demand"]:
        note = (
            " (street km weighted by class)"
            if layer == "streets" and s.get("street_weights")
            else ""
        )
        print(
            f"  {layer}: {100 * s[f'{layer}_share_before']:.1f}% -> "
            f"{100 * s[f'{layer}_share_after']:.1f}% covered{note}"
        )
    for m in s.get("messages", []):
        print(f"note: {m}")
