"""Map and report labels in Chinese (default) and English."""

from __future__ import annotations

from .. import schema

#: Map labels that name an output column: their text is the registry's header (geo.schema),
#: without the unit (the map shows the unit with the value).
COLUMN_LABELS = {
    "name": "name", "kind": "kind", "address": "address", "population": "population",
    "rank": "rank", "gain": "newly_covered_population", "county": "county",
    "walk_distance": "walk_distance_m", "walk_time": "walk_time_min",
    "nearest_site": "nearest_site_name", "integrated_target": "integrated_target",
}  # fmt: skip

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "15分钟职工服务圈 步行可达性",
        "demo_title": "方法演示（赫尔辛基开放数据，非湖北实际数据）",
        "site": "服务站点", "sites": "服务站点",
        "communities": "社区", "community": "社区", "covered": "已覆盖", "uncovered": "未覆盖",
        "off_network": "远离道路", "proposed": "建议新增站点", "isochrone": "步行范围", "boundary": "区县边界",
        "streets": "道路网", "minutes": "分钟", "metres": "米",
        "coverage": "人口覆盖率", "communities_covered": "覆盖社区", "shortfall": "缺口", "palace": "工人文化宫",
        "yes": "有", "no": "无", "legend": "图例", "walk_time_legend": "步行时间（分钟）",
        "over": "超过", "unreachable": "不可达", "summary": "概况",
        "basemap": "底图", "vector_basemap": "矢量底图（离线）",
    },
    "en": {
        "title": "15-minute worker service circle: walking access",
        "demo_title": "Method demonstration (Helsinki open data, not Hubei data)",
        "site": "Site", "sites": "Sites", "communities": "Communities",
        "community": "Community", "covered": "covered", "uncovered": "uncovered",
        "off_network": "far from streets", "proposed": "Proposed new sites", "isochrone": "Walking area",
        "boundary": "County boundary", "streets": "Streets", "minutes": "min",
        "metres": "m", "coverage": "Population covered", "communities_covered":
        "Communities covered",
        "shortfall": "shortfall", "palace": "Cultural palace", "yes": "yes", "no": "no",
        "legend": "Legend", "walk_time_legend": "Walk time (min)", "over": "over",
        "unreachable": "unreachable", "summary": "Summary",
        "basemap": "Basemap", "vector_basemap": "Vector background (offline)",
    },
}  # fmt: skip

KIND_COLOURS = {
    "station": "#e6550d",
    "integrated": "#3182bd",
    "cultural_palace": "#756bb1",
    "partner": "#00838f",
}
_EXTRA_COLOURS = ["#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


def label(lang: str, key: str) -> str:
    """The label for ``key`` in ``lang`` (falls back to English, then the key); column
    labels come from the registry (:data:`COLUMN_LABELS`), and so do the site kinds' names
    (``schema.VALUES["kind"]``), so the map and the tables name a kind alike."""
    if key in COLUMN_LABELS:
        return schema.short_header(COLUMN_LABELS[key], lang)
    if key in schema.VALUES["kind"]:
        return str(schema.display_value("kind", key, lang))
    return LABELS.get(lang, LABELS["en"]).get(key) or LABELS["en"].get(key, key)


def kind_colour(kind: str, others: list[str] | None = None) -> str:
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    others = sorted(others or [kind])
    return _EXTRA_COLOURS[others.index(kind) % len(_EXTRA_COLOURS)] if kind in others else "#555"
