"""Meeting-ready Excel workbooks (``coverage.xlsx``, ``gaps.xlsx``, ``audit.xlsx``).

Headers, number formats and the 说明 (notes) sheet come from the column registry
(:mod:`geo.schema`): Chinese headers and values by default (English with ``lang="en"``),
percents, thousands separators, metres without decimals, six-decimal coordinates, widths that
fit CJK text, a frozen header row, an autofilter on every table and hyperlinks for map paths
and map-app links. Text is cleaned of characters XML cannot hold and never runs as a formula.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .io import atomic_path

logger = logging.getLogger(__name__)

__all__ = ["SHEETS", "clean_text", "parameters", "write_workbook"]

#: Sheet names (Chinese, English) of the tables a workbook may hold.
SHEETS: dict[str, tuple[str, str]] = {
    "summary": ("汇总", "Summary"),
    "communities": ("社区", "Communities"),
    "uncovered": ("未覆盖社区", "Uncovered"),
    "sites": ("站点", "Sites"),
    "proposed_sites": ("建议新增站点", "Proposed sites"),
    "palace_proposal": ("文化宫建议", "Palace proposals"),
    "marginal_gain": ("边际收益", "Marginal gain"),
    "candidates": ("候选点", "Candidates"),
    "streets": ("道路", "Streets"),
    "uncovered_main_roads": ("未覆盖主干道", "Uncovered main roads"),
    "workplaces": ("工作地", "Workplaces"),
    "rejects": ("问题数据", "Rejects"),
}
NOTES_SHEET = ("说明", "Notes")

#: Characters an XML 1.0 document cannot hold (openpyxl raises IllegalCharacterError).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@")
_MAX_WIDTH, _MIN_WIDTH, _WIDTH_SAMPLE = 50, 6, 2000


def clean_text(value: Any) -> Any:
    """Text without the control characters XML 1.0 forbids (other values unchanged)."""
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    return value


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell_value(name: str, value: Any, lang: str) -> Any:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NaT:
        return None
    return clean_text(schema.display_value(name, value, lang))


def _link(name: str, value: Any) -> str | None:
    col = schema.column(name)
    if col is None or col.fmt != "url" or not isinstance(value, str) or not value:
        return None
    if value.startswith(("http://", "https://")):
        return value
    if ".." in Path(value).parts or Path(value).is_absolute():
        return None  # links stay inside the output folder
    return value


def _write_sheet(ws: Any, df: pd.DataFrame, lang: str) -> None:
    """One table on one sheet: headers, values, formats, widths, frozen header, filter."""
    from openpyxl.utils import get_column_letter

    names = [str(c) for c in df.columns]
    heads = schema.headers(names, lang)
    ws.append([clean_text(heads[n]) for n in names])
    fmts = [schema.column(n).number_format if schema.column(n) else None for n in names]
    for rec in df.itertuples(index=False, name=None):
        ws.append([_cell_value(n, v, lang) for n, v in zip(names, rec, strict=True)])
    for j, name in enumerate(names, start=1):
        letter = get_column_letter(j)
        width = _display_width(heads[name])
        for i, cell in enumerate(ws[letter][1:], start=2):
            if isinstance(cell.value, str):
                if cell.value.startswith(_FORMULA_START):
                    cell.data_type = "s"  # text that looks like a formula stays text
                    cell.quotePrefix = True
                url = _link(name, cell.value)
                if url:
                    cell.hyperlink = url
                    cell.style = "Hyperlink"
            elif fmts[j - 1] and fmts[j - 1] != "General" and cell.value is not None:
                cell.number_format = fmts[j - 1]
            if i <= _WIDTH_SAMPLE and cell.value is not None:
                width = max(width, _display_width(_shown(cell.value, fmts[j - 1])))
        ws.column_dimensions[letter].width = max(_MIN_WIDTH, min(_MAX_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    if names:
        ws.auto_filter.ref = ws.dimensions


def _shown(value: Any, fmt: str | None) -> str:
    if isinstance(value, float) and fmt in ("#,##0", "0.0%"):
        return f"{value:,.1f}"
    return str(value)


def parameters(
    config: Any = None, network: Mapping[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """The run's parameters for the 说明 sheet: speed, minutes, levels, network, CRS, date,
    tool version (plus ``extra`` keys, e.g. input files)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("servicecircle")
    except PackageNotFoundError:
        ver = "unknown"
    out: dict[str, Any] = {}
    if config is not None:
        out["walk_speed_kmh"] = config.walk_speed_kmh
        out["minutes"] = config.minutes
        out["limit_m"] = round(config.limit_m, 1)
        out["levels"] = ", ".join(config.levels)
        out["max_snap_m"] = config.max_snap_m
    for k, v in (network or {}).items():
        if k in ("source", "nodes", "edges", "length_km", "metric_crs", "crs"):
            out[f"network_{k}" if not k.startswith("network") else k] = v
    out.update({k: v for k, v in extra.items() if v is not None})
    out["date"] = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    out["tool_version"] = f"servicecircle {ver}"
    return out


_PARAM_NAMES = {
    "walk_speed_kmh": ("步行速度(公里/小时)", "Walking speed (km/h)"),
    "minutes": ("步行时间(分钟)", "Walk time (min)"),
    "limit_m": ("覆盖距离(米)", "Coverage limit (m)"),
    "levels": ("统计层级", "Levels"),
    "max_snap_m": ("最大距道路距离(米)", "Largest distance to a street (m)"),
    "network_source": ("路网来源", "Network source"),
    "network_nodes": ("路网节点数", "Network nodes"),
    "network_edges": ("路网路段数", "Network edges"),
    "network_length_km": ("路网长度(公里)", "Network length (km)"),
    "network_metric_crs": ("计算坐标系", "Metric CRS"),
    "output_crs": ("输出坐标系", "Output coordinates"),
    "input_crs": ("输入坐标系", "Input coordinates"),
    "date": ("生成时间", "Date"),
    "tool_version": ("工具版本", "Tool version"),
}


def _write_notes(ws: Any, tables: Mapping[str, pd.DataFrame], params: Mapping, lang: str) -> None:
    zh = lang == "zh"
    ws.append(["参数" if zh else "Parameter", "值" if zh else "Value"])
    for k, v in params.items():
        name = _PARAM_NAMES.get(k, (k, k))[0 if zh else 1]
        ws.append([clean_text(name), clean_text(v if isinstance(v, int | float) else str(v))])
    ws.append([])
    ws.append(
        ["工作表", "列名", "字段名", "单位", "说明"]
        if zh
        else ["Sheet", "Header", "Field", "Unit", "Description"]
    )
    for key, df in tables.items():
        sheet = SHEETS.get(key, (key, key))[0 if zh else 1]
        for name, head, unit, doc in schema.describe([str(c) for c in df.columns], lang):
            ws.append([sheet, clean_text(head), clean_text(name), unit, clean_text(doc)])
    for letter, width in zip("ABCDE", (22, 26, 30, 10, 80), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    lang: str = "zh",
    params: Mapping[str, Any] | None = None,
    notes: bool = True,
) -> Path:
    """Write one sheet per table and a 说明 sheet (parameters and every column's definition)
    to ``path``, atomically. ``lang`` ``zh`` (default) or ``en`` chooses headers and values."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for key, df in tables.items():
        frame = pd.DataFrame(df).drop(columns="geometry", errors="ignore")
        title = _sheet_title(SHEETS.get(key, (key, key))[0 if lang == "zh" else 1], used)
        _write_sheet(wb.create_sheet(title), frame, lang)
    if notes:
        ws = wb.create_sheet(_sheet_title(NOTES_SHEET[0 if lang == "zh" else 1], used))
        _write_notes(ws, tables, params or {}, lang)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", clean_text(str(name)))[:31] or "sheet"
    base, i = title, 2
    while title in used:
        title = f"{base[:28]}_{i}"
        i += 1
    used.add(title)
    return title
