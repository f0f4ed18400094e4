"""Reject reasons and fixes, in Chinese and English, and the one builder of reject rows.

Every reason has a machine ``code`` (stable, for scripts), a category (``error``, ``duplicate``
or ``out_of_area``) and a text per language. Fixes name only real command-line flags (checked
by a test against the parser).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

#: Columns of every rejects table (rejects.csv). ``category`` separates real errors from
#: duplicates and rows outside the study area; ``reason_code`` is a stable machine reason.
REJECT_COLUMNS = [
    "file", "row", "id", "name", "column", "value", "reason", "fix", "category", "reason_code",
]  # fmt: skip

ERROR, DUPLICATE, OUT_OF_AREA = "error", "duplicate", "out_of_area"

#: Sites or communities farther than this from every street are "far outside the network's
#: area" (sea, another province or continent), not merely off the network.
FAR_OUTSIDE_M = 20_000.0

#: code -> (category, zh reason, zh fix, en reason, en fix); ``{name}`` placeholders are filled
#: from the reject's parameters.
MESSAGES: dict[str, tuple[str, str, str, str, str]] = {
    "missing_coord": (ERROR, "缺少{label_zh}", "填写坐标，或删除该行",
                      "missing {label}", "fill in the coordinate or remove the row"),
    "bad_coord": (ERROR, "{label_zh}不是数字", "使用十进制度数(如 114.305)或度分秒(如 114°18'18\"E)",
                  "non-numeric {label}",
                  "use decimal degrees such as 114.305, or degrees-minutes-seconds"),
    "swapped": (ERROR, "经纬度填反了", "交换经度、纬度两列，或加 --fix-swapped 自动交换",
                "latitude and longitude are swapped",
                "swap the two columns, or pass --fix-swapped"),
    "out_of_range": (ERROR, "坐标超出范围", "经度应在 -180..180、纬度在 -90..90；若为投影坐标(米)，用 --crs EPSG:<代码> 说明",
                     "coordinate out of range",
                     "longitude must be within -180..180 and latitude within -90..90; "
                     "if these are projected metres, pass --crs EPSG:<code>"),
    "cannot_convert": (ERROR, "无法从 {crs} 转换坐标", "检查 --crs 是否与坐标一致",
                       "cannot convert from {crs}", "check that --crs matches the coordinates"),
    "duplicate_id": (ERROR, "编号重复(第 {first} 行已使用)", "每行使用不同的编号",
                     "duplicate id (first used on row {first})", "give every row its own id"),
    "duplicate_row": (DUPLICATE, "与第 {first} 行完全相同的重复行", "删除重复行",
                      "exact duplicate of row {first}", "remove the duplicate row"),
    "missing_number": (ERROR, "缺少{field_zh}", "填写{field_zh}(没有则填 0)",
                       "missing {field}", "fill in the {field} (0 if none)"),
    "bad_number": (ERROR, "{field_zh}应为不小于 0 的数", "改正该值",
                   "{field} must be a number, zero or more", "correct the value"),
    "too_large": (ERROR, "{field_zh}超过每行上限 {max:,.0f}", "改正该值；确属实情时用 {flag} 提高上限",
                  "{field} above the per-row maximum of {max:,.0f}",
                  "correct the value, or raise the maximum with {flag}"),
    "outside_boundary": (OUT_OF_AREA, "不在研究区域(边界)内", "属于相邻区县时无需处理；否则检查坐标及 --crs",
                         "outside the study boundary",
                         "nothing to do if it belongs to a neighbouring county; otherwise "
                         "check the coordinates and --crs"),
    "outside_counties": (OUT_OF_AREA, "不在任何区县边界内", "检查坐标及 --crs，或在边界文件中补上所缺区县",
                         "outside every county boundary",
                         "check the coordinates and --crs, or add the missing county to the "
                         "boundaries file"),
    "off_network": (ERROR, "距最近道路超过 {max_snap_m:.0f} 米(服务不到任何人)",
                    "检查坐标及 --crs，换用覆盖该处的路网，或调大 --max-snap-m",
                    "more than {max_snap_m:.0f} m from any street (serves no one)",
                    "check the coordinates and --crs, use a network that covers this area, or "
                    "raise --max-snap-m"),
    "far_outside": (OUT_OF_AREA, "远在路网范围之外(约 {km:,.0f} 公里)", "检查坐标(是否在海上或其他地区)及 --crs，或换用覆盖该处的路网",
                    "far outside the network's area (about {km:,.0f} km away)",
                    "check the coordinates (sea, another region?) and --crs, or use a network "
                    "that covers this place"),
    "no_geometry": (ERROR, "没有几何图形", "补全该要素的几何", "no geometry",
                    "add the feature's geometry"),
}  # fmt: skip

_FIELD_ZH = {"population": "人口", "capacity": "容量", "employees": "职工人数"}
_LABEL_ZH = {"longitude": "经度", "latitude": "纬度"}


def message(code: str, lang: str = "zh", **params: Any) -> tuple[str, str, str]:
    """``(category, reason, fix)`` for a reason code in ``lang`` (``zh`` or ``en``)."""
    cat, zr, zf, er, ef = MESSAGES[code]
    if "field" in params:
        params.setdefault("field_zh", _FIELD_ZH.get(params["field"], params["field"]))
    if "label" in params:
        params.setdefault("label_zh", _LABEL_ZH.get(params["label"], params["label"]))
    reason, fix = (zr, zf) if lang == "zh" else (er, ef)
    return cat, reason.format(**params), fix.format(**params)


def reject_row(
    *,
    file: object,
    row: object,
    rid: object,
    name: object,
    column: object,
    value: object,
    code: str,
    lang: str = "zh",
    **params: Any,
) -> dict[str, Any]:
    """One rejects-table row; the single builder every loader and writer uses."""
    cat, reason, fix = message(code, lang, **params)
    return {
        "file": str(file),
        "row": row,
        "id": rid,
        "name": name,
        "column": column,
        "value": value,
        "reason": reason,
        "fix": fix,
        "category": cat,
        "reason_code": code,
    }


def reject_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A rejects table with exactly :data:`REJECT_COLUMNS`."""
    return pd.DataFrame(list(rows), columns=REJECT_COLUMNS)


def describe_rejects(rejects: pd.DataFrame, lang: str = "zh") -> str:
    """One line that separates errors from duplicates and out-of-area rows."""
    cat = rejects["category"] if "category" in rejects else pd.Series(ERROR, index=rejects.index)
    cat = cat.fillna(ERROR)
    n = {c: int((cat == c).sum()) for c in (ERROR, DUPLICATE, OUT_OF_AREA)}
    if lang == "zh":
        return f"错误 {n[ERROR]} 行，重复 {n[DUPLICATE]} 行，区域外 {n[OUT_OF_AREA]} 行(见 rejects.csv)"
    return (
        f"{n[ERROR]} error row(s), {n[DUPLICATE]} duplicate(s), {n[OUT_OF_AREA]} outside the "
        "area (see rejects.csv)"
    )


def kind_mapping_line(mapping: Mapping[str, Mapping[str, Any]], lang: str = "zh") -> str:
    """Every site-kind label met and the kind it was counted as, in one line."""
    if not mapping:
        return ""
    head = "站点类型对应：" if lang == "zh" else "site kind labels:"
    items = [f"{lab}→{m['kind']} ({m['count']}, {m['how']})" for lab, m in mapping.items()]
    return head + " " + "; ".join(items)
