"""Header and value vocabularies: Chinese and English column names, and site kinds."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

#: Standard field -> accepted headers (compared after lower-casing and removing spaces,
#: underscores, brackets and units). The first match in the file wins.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "站点编号", "社区编号", "代码", "编码", "code", "fid", "objectid", "uid",
           "序号", "no", "siteid", "communityid"),
    "name": ("name", "名称", "站点名称", "社区名称", "阵地名称", "驿站名称", "名字", "title",
             "sitename", "communityname"),
    "kind": ("kind", "type", "类型", "类别", "站点类型", "阵地类型", "category", "sitekind"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "东经", "x", "gcjlng", "bdlng", "wgslng",
            "gcjlon", "bdlon", "wgslon", "gcj02经度", "高德经度", "经度高德", "百度经度",
            "经度百度", "经度gcj02", "经度bd09", "lon_gcj02", "lon_bd09"),
    "lat": ("lat", "latitude", "纬度", "北纬", "y", "gcjlat", "bdlat", "wgslat", "gcj02纬度",
            "高德纬度", "纬度高德", "百度纬度", "纬度百度", "纬度gcj02", "纬度bd09", "lat_gcj02",
            "lat_bd09"),
    "population": ("population", "pop", "人口", "人口数", "常住人口", "户籍人口", "职工人数",
                   "人数", "weight", "权重"),
    "capacity": ("capacity", "容量", "接待能力", "座位数", "床位数"),
    "employees": ("employees", "workers", "员工人数", "从业人数", "职工数", "就业人数"),
    "county": ("county", "district", "区县", "县区", "所属区县", "区", "县", "区县名称"),
    "address": ("address", "addr", "地址", "详细地址", "所在地址", "位置"),
}  # fmt: skip

#: The built-in site kinds and the official labels that map to them (compared normalised).
KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "station": ("station", "爱心驿站", "户外劳动者爱心驿站", "户外劳动者服务站点", "户外劳动者服务站",
                "户外劳动者驿站", "职工驿站", "工会驿站", "驿站", "服务站点", "服务站",
                "outdoorstation", "reststation"),
    "integrated": ("integrated", "会站家", "会·站·家", "会站家一体化", "会·站·家一体化",
                   "职工之家", "一体化", "一体化阵地", "integratedsite"),
    "cultural_palace": ("cultural_palace", "culturalpalace", "工人文化宫", "职工文化宫", "文化宫",
                        "workersculturalpalace", "palace"),
    "partner": ("partner", "融合共建", "融合共建点", "共建", "共建点", "candidate"),
}  # fmt: skip

#: Rules for labels not in the alias table, tried in order: a label containing the text maps to
#: the kind (e.g. "江岸区总工会爱心驿站" -> station). Integrated and palace come first, because
#: their labels may also contain 驿站.
KIND_RULES: tuple[tuple[str, str], ...] = (
    ("文化宫", "cultural_palace"),
    ("会站家", "integrated"),
    ("一体化", "integrated"),
    ("职工之家", "integrated"),
    ("融合共建", "partner"),
    ("共建", "partner"),
    ("驿站", "station"),
    ("服务站", "station"),
)

BUILTIN_KINDS: tuple[str, ...] = tuple(KIND_ALIASES)

#: Headers of one column holding "lon,lat" (split into the two coordinates).
PAIR_ALIASES: tuple[str, ...] = ("经纬度", "坐标", "经纬度坐标", "坐标经纬度", "lnglat", "lonlat",
                                 "location", "coordinates", "coords", "gps坐标", "高德坐标",
                                 "百度坐标")  # fmt: skip

_STRIP = re.compile(r"[\s_\-·.:：()（）\[\]【】/]|度|°|\(deg\)")


def norm_header(h: object) -> str:
    """Normalise a header or label for matching (lower case, no spaces, brackets or units)."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", str(h)).strip().lower())


def match_headers(
    headers: Iterable[object], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map standard field names to the file's own headers.

    Parameters
    ----------
    headers
        The file's column names.
    overrides
        Explicit ``{field: header}`` choices, e.g. ``{"lon": "GCJ经度"}``; they win.

    Returns
    -------
    dict
        ``{field: header}`` for every field found.
    """
    headers = [h for h in headers if str(h) != "geometry"]
    found: dict[str, str] = {}
    taken: set[str] = set()
    for field, header in (overrides or {}).items():
        found[field] = header
        taken.add(header)
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(norm_header(h), str(h))
    for field, aliases in HEADER_ALIASES.items():
        if field in found:
            continue
        for alias in aliases:
            h = by_norm.get(norm_header(alias))
            if h is not None and h not in taken:
                found[field] = h
                taken.add(h)
                break
    return found


def kind_of(label: str, table: Mapping[str, str]) -> tuple[str | None, str]:
    """The kind of a label and how it was found: ``alias``/``user`` (table), ``rule``, or None.

    ``table`` is from :func:`kind_lookup`; user entries there win over the rules.
    """
    key = norm_header(label)
    if key in table:
        return table[key], "table"
    for text, kind in KIND_RULES:
        if text in key:
            return kind, f"rule:含'{text}'"
    return None, "unknown"


def kind_lookup(extra: Mapping[str, str] | Iterable[str] | None = None) -> dict[str, str]:
    """Label -> kind table: the built-in kinds plus user-defined ones.

    ``extra`` is either a list of new kind names (each maps to itself) or a mapping
    ``{label: kind}``, e.g. ``{"法律援助站": "legal_aid"}``.
    """
    table = {norm_header(a): k for k, aliases in KIND_ALIASES.items() for a in aliases}
    if extra:
        items = extra.items() if isinstance(extra, Mapping) else ((k, k) for k in extra)
        for label, kind in items:
            table[norm_header(label)] = str(kind)
            table[norm_header(kind)] = str(kind)
    return table
