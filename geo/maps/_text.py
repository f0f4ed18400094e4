"""Map-only labels not in the shared label table (kept here so the maps own their wording)."""

from __future__ import annotations

from ._labels import label

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "neighbour": "邻县站点",
        "neighbour_note": "邻县站点：计入覆盖，不计入本区县目标",
        "palace_proposed": "建议工人文化宫位置",
        "location": "位置",
        "coordinates": "坐标",
        "open_amap": "在高德地图中打开",
        "amap": "高德地图",
        "proposal_id": "编号",
        "hex_note": "社区数 {n:,} 超过 {limit:,}：按六边形（半径 {size:,.0f} 米）汇总显示",
        "hex_cell": "六边形汇总",
        "hex_share": "覆盖人口比例",
        "hex_count": "社区数",
        "before_after": "新增{k}处 → 覆盖率由{a:.1f}%升至{b:.1f}%",
        "sites_in_area": "本区县站点",
        "neighbour_count": "另有邻县站点 {n} 处（计入覆盖）",
        "water": "水系", "park": "公园绿地", "rail": "铁路/轨道", "background": "底图（离线）",
        "labels": "地名/路名", "streets_major": "主要道路", "streets_minor": "其他道路",
        "title": "{m:g}分钟职工服务圈 步行可达性",
        "unit_metres": "米",
    },
    "en": {
        "neighbour": "Neighbouring-county site",
        "neighbour_note": "Neighbouring-county sites: count for coverage, not for targets",
        "palace_proposed": "Proposed cultural palace",
        "location": "Location",
        "coordinates": "Coordinates",
        "open_amap": "open in Amap",
        "amap": "Amap",
        "proposal_id": "ID",
        "hex_note": "{n:,} communities (over {limit:,}): shown as hexagons (radius {size:,.0f} m)",
        "hex_cell": "Hexagon summary",
        "hex_share": "Population covered",
        "hex_count": "Communities",
        "before_after": "{k} new site(s) → coverage {a:.1f}% to {b:.1f}%",
        "sites_in_area": "Sites in the county",
        "neighbour_count": "plus {n} neighbouring-county site(s) (count for coverage)",
        "water": "Water", "park": "Parks", "rail": "Railways", "background": "Background (offline)",
        "labels": "Place and street names", "streets_major": "Main streets",
        "streets_minor": "Other streets",
        "title": "{m:g}-minute worker service circle: walking access",
        "unit_metres": "m",
    },
}  # fmt: skip


def text(lang: str, key: str, **fmt: object) -> str:
    """Map wording for ``key`` (falls back to the shared labels, then English)."""
    table = _TEXT.get(lang, _TEXT["en"])
    s = table.get(key) or _TEXT["en"].get(key)
    if s is None:
        return label(lang, key)
    return s.format(**fmt) if fmt else s


def run_title(lang: str, minutes: float) -> str:
    """The page title with the run's own walking time (a 5-minute run says 5 minutes)."""
    return text(lang, "title", m=float(minutes))
