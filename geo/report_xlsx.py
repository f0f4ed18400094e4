"""Meeting-ready Excel workbooks (``coverage.xlsx``, ``gaps.xlsx``, ``audit.xlsx``).

Headers, number formats and the 说明 (notes) sheet come from the column registry
(:mod:`geo.schema`): Chinese headers and values by default (English with ``lang="en"``),
percents, thousands separators, metres without decimals, six-decimal coordinates, widths that
fit CJK text, a frozen header row, an autofilter on every table and hyperlinks for map paths
and map-app links. Text is cleaned of characters XML cannot hold and never runs as a formula.
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import re
import unicodedata
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from ._xlsx_bulk import BulkSheet, splice
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
_PX_PER_CHAR = 7  # Calibri 11: one character unit is 7 pixels wide
#: Sheets of at least this many cells are written column-wise (:mod:`geo._xlsx_bulk`).
_BULK_MIN_CELLS = 5_000


def clean_text(value: Any) -> Any:
    """Text without the control characters XML 1.0 forbids (other values unchanged)."""
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    return value


def _display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell_value(name: str, value: Any, lang: str, table: str | None = None) -> Any:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NaT or value is pd.NA:
        return None
    return clean_text(schema.display_value(name, value, lang, table))


def _link(name: str, value: Any, table: str | None = None) -> str | None:
    col = schema.column(name, table)
    if col is None or col.fmt != "url" or not isinstance(value, str) or not value:
        return None
    if value.startswith(("http://", "https://")):
        return value
    if ".." in Path(value).parts or Path(value).is_absolute():
        return None  # links stay inside the output folder
    return value


def _column_values(name: str, s: pd.Series, lang: str, table: str | None) -> list[Any]:
    """The cells of one column as the reader sees them (None for an empty cell).

    Numbers pass through with only empty cells changed; other columns are translated once per
    distinct value (是/否, Chinese kinds), not once per cell.
    """
    col = schema.column(name, table)
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else "O"
    if kind in "iuf" and (col is None or col.fmt != "bool"):
        arr = s.to_numpy()
        vals = arr.tolist()
        if kind == "f":
            for i in np.flatnonzero(~np.isfinite(arr)).tolist():
                vals[i] = None
        return vals
    memo: dict[Any, Any] = {}
    out = []
    vals = s.tolist()
    # Text of a column with no coded values and no flags is shown as it is (display_value
    # leaves it unchanged): cleaned only when the column holds a character XML cannot.
    plain = (col is None or col.fmt != "bool") and name not in schema.VALUES
    dirty = plain and _ILLEGAL_XML.search(" ".join(v for v in vals if v.__class__ is str))
    for v in vals:
        if plain and v.__class__ is str:
            out.append(_ILLEGAL_XML.sub("", v) if dirty else v)
            continue
        try:
            key = (v.__class__, v)
            shown = memo[key]
        except KeyError:
            shown = memo[key] = _cell_value(name, v, lang, table)
        except TypeError:  # unhashable
            shown = _cell_value(name, v, lang, table)
        out.append(shown)
    return out


class _Styles:
    """The workbook's cell formats, each created once (not once per cell)."""

    def __init__(self, wb: Any) -> None:
        self._wb = wb
        self._num: dict[str, Any] = {}
        self.quote = wb.add_format({"quote_prefix": True})
        self.link = wb.get_default_url_format()
        self.date = wb.add_format({"num_format": "yyyy-mm-dd h:mm:ss"})

    def number(self, fmt: str | None) -> Any:
        if not fmt or fmt == "General":
            return None
        if fmt not in self._num:
            self._num[fmt] = self._wb.add_format({"num_format": fmt})
        return self._num[fmt]


def _write_cell(ws: Any, r: int, c: int, v: Any, styles: _Styles, num: Any = None) -> None:
    """One cell by its Python type; text is always text (never a formula)."""
    if v is None:
        return
    if isinstance(v, str):
        if v:  # "" stays an empty cell, as Excel keeps it
            ws.write_string(r, c, v, styles.quote if v.startswith(_FORMULA_START) else None)
    elif isinstance(v, bool):
        ws.write_boolean(r, c, v)
    elif isinstance(v, int | float):
        ws.write_number(r, c, v, num)
    elif isinstance(v, _dt.datetime | _dt.date | _dt.time):
        ws.write_datetime(r, c, v, styles.date)
    else:
        ws.write_string(r, c, clean_text(str(v)))


def _write_url(ws: Any, r: int, c: int, value: str, url: str, styles: _Styles) -> None:
    target = url if url.startswith(("http://", "https://")) else "external:" + url
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # too long or too many: plain text instead
            rc = ws.write_url(r, c, target, styles.link, value)
    except ValueError:
        rc = -1
    if rc != 0:
        _write_cell(ws, r, c, value, styles)


def _write_column(
    ws: Any, j: int, name: str, vals: list[Any], fmt: str | None, styles: _Styles, table: str | None
) -> None:
    num = styles.number(fmt)
    links = schema.column(name, table)
    is_url = links is not None and links.fmt == "url"
    # XlsxWriter's public writers only: its undecorated private ones save ~5% of the workbook's
    # CPU, not worth depending on a library's internals.
    write_number = ws.write_number
    write_string = ws.write_string
    for i, v in enumerate(vals, start=1):
        if v is None:
            continue
        cls = v.__class__
        if cls is float or cls is int:
            write_number(i, j, v, num)
        elif is_url and isinstance(v, str) and (url := _link(name, v, table)):
            _write_url(ws, i, j, v, url, styles)
        elif cls is str:
            if v:  # "" stays an empty cell, as Excel keeps it
                write_string(i, j, v, styles.quote if v.startswith(_FORMULA_START) else None)
        else:
            _write_cell(ws, i, j, v, styles, num)


def _width(head: str, vals: list[Any], fmt: str | None) -> int:
    """Column width that fits the header and the first rows (CJK counts two)."""
    width = _display_width(head)
    distinct: dict[Any, None] = {}
    for v in vals[: _WIDTH_SAMPLE - 1]:
        if v is not None:
            try:
                distinct[(v.__class__, v)] = None
            except TypeError:  # unhashable: measured as it is
                width = max(width, _display_width(_shown(v, fmt)))
    for text in {_shown(v, fmt) for _, v in distinct}:
        width = max(width, _display_width(text))
    return max(_MIN_WIDTH, min(_MAX_WIDTH, width + 2))


def _set_width(ws: Any, j: int, width: float) -> None:
    """Column ``j``'s width in Excel character units, stored exactly (7 pixels a unit)."""
    ws.set_column_pixels(j, j, round(width * _PX_PER_CHAR))


def _write_sheet(
    ws: Any,
    df: pd.DataFrame,
    lang: str,
    styles: _Styles,
    table: str | None = None,
    bulk: BulkSheet | None = None,
) -> None:
    """One table on one sheet: headers, values, formats, widths, frozen header, filter.

    With ``bulk``, the columns it can hold (all but links and values Excel has no type for)
    are written column-wise by it instead of cell by cell by XlsxWriter.
    """
    names = [str(c) for c in df.columns]
    heads = schema.headers(names, lang, table)
    for j, name in enumerate(names):
        col = schema.column(name, table)
        fmt = col.number_format if col is not None else None
        head = clean_text(heads[name])
        ws.write_string(0, j, head)
        s = df.iloc[:, j]
        vals = _column_values(name, s, lang, table)
        if bulk is None or not _bulk_column(bulk, j, col, s, vals, styles.number(fmt)):
            _write_column(ws, j, name, vals, fmt, styles, table)
        _set_width(ws, j, _width(heads[name], vals, fmt))
    ws.freeze_panes(1, 0)
    if names:
        ws.autofilter(0, 0, len(df), len(names) - 1)


def _write_sheet_head(
    ws: Any, df: pd.DataFrame, lang: str, styles: _Styles, table: str, sheet: Any
) -> None:
    """:func:`_write_sheet` for a sheet whose data rows are already rendered
    (:class:`geo._xlsx_parts.PartsSheet`): ``df`` holds the table's first rows only (enough for
    the widths); the header, formats (made in the same order), widths, frozen header and
    filter are written as :func:`_write_sheet` writes them."""
    names = [str(c) for c in df.columns]
    heads = schema.headers(names, lang, table)
    for j, name in enumerate(names):
        col = schema.column(name, table)
        fmt = col.number_format if col is not None else None
        ws.write_string(0, j, clean_text(heads[name]))
        sheet.share(j, ws.str_table._get_shared_string_index)
        vals = _column_values(name, df.iloc[: _WIDTH_SAMPLE - 1, j], lang, table)
        num = styles.number(fmt)
        sheet.number_format(fmt, num._get_xf_index() if num is not None else None)
        _set_width(ws, j, _width(heads[name], vals, fmt))
    ws.freeze_panes(1, 0)
    if names:
        ws.autofilter(0, 0, sheet.nrows, len(names) - 1)


def _bulk_column(
    bulk: BulkSheet, j: int, col: Any, s: pd.Series, vals: list[Any], num: Any
) -> bool:
    """Column ``j`` handed to the column-wise writer; False when XlsxWriter must write it
    (hyperlinks, dates, values Excel has no type for)."""
    if col is not None and col.fmt == "url":
        return False
    # The xf index XlsxWriter gives the format (assigned now, so styles.xml holds it).
    num_xf = num._get_xf_index() if num is not None else None
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else "O"
    if kind in "iuf" and (col is None or col.fmt != "bool"):
        bulk.numbers(j, s.to_numpy(), num_xf)
        return True
    return bulk.values(j, vals, num_xf)


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


def _write_notes(
    ws: Any, tables: Mapping[str, pd.DataFrame], params: Mapping, lang: str, styles: _Styles
) -> None:
    zh = lang == "zh"
    rows: list[list[Any]] = [["参数" if zh else "Parameter", "值" if zh else "Value"]]
    for k, v in params.items():
        name = _PARAM_NAMES.get(k, (k, k))[0 if zh else 1]
        rows.append([clean_text(name), clean_text(v if isinstance(v, int | float) else str(v))])
    rows.append([])
    rows.append(
        ["工作表", "列名", "字段名", "单位", "说明"]
        if zh
        else ["Sheet", "Header", "Field", "Unit", "Description"]
    )
    for key, df in tables.items():
        sheet = SHEETS.get(key, (key, key))[0 if zh else 1]
        for name, head, unit, doc in schema.describe([str(c) for c in df.columns], lang, key):
            rows.append([sheet, clean_text(head), clean_text(name), unit, clean_text(doc)])
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            _write_cell(ws, i, j, v, styles)
    for j, width in enumerate((22, 26, 30, 10, 80)):
        _set_width(ws, j, width)
    ws.freeze_panes(1, 0)


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    lang: str = "zh",
    params: Mapping[str, Any] | None = None,
    notes: bool = True,
    prepared: Mapping[str, Any] | None = None,
) -> Path:
    """Write one sheet per table and a 说明 sheet (parameters and every column's definition)
    to ``path``, atomically. ``lang`` ``zh`` (default) or ``en`` chooses headers and values.

    Written with XlsxWriter: every cell format is made once per workbook and each column's
    values are prepared at once (Helsinki run, 7,300 rows on five sheets: 0.6 s of CPU against
    2.2 s for openpyxl cell by cell; `benchmarks/workbook.py`).

    ``prepared``: tables whose data rows are already rendered
    (:class:`geo._xlsx_parts.PartsSheet`); their frame in ``tables`` may hold only the first
    rows (the widths' sample).
    """
    import xlsxwriter

    used: set[str] = set()
    bulks: list[Any] = []  # BulkSheet or PartsSheet
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "remove_timezone": True})
    try:
        styles = _Styles(wb)
        for key, df in tables.items():
            frame = pd.DataFrame(df).drop(columns="geometry", errors="ignore")
            title = _sheet_title(SHEETS.get(key, (key, key))[0 if lang == "zh" else 1], used)
            ws = wb.add_worksheet(title)
            bulk = None
            sheet = (prepared or {}).get(key)
            # links only after a sheet whose links gave the link format its index
            if sheet is not None and (
                not sheet.nlinks or any(w.hyperlinks for w in wb.worksheets()[:-1])
            ):  # rows rendered before (geo._xlsx_parts)
                sheet.bind(len(wb.worksheets()), styles.quote._get_xf_index(), styles.link)
                bulks.append(sheet)
                _write_sheet_head(ws, frame, lang, styles, key, sheet)
                continue
            if frame.size >= _BULK_MIN_CELLS and len(frame.columns):
                n = len(wb.worksheets())
                quote = styles.quote._get_xf_index()
                shared = wb.str_table._get_shared_string_index
                bulk = BulkSheet(n, len(frame), len(frame.columns), quote, shared)
                bulks.append(bulk)
            _write_sheet(ws, frame, lang, styles, key, bulk)
        if notes:
            ws = wb.add_worksheet(_sheet_title(NOTES_SHEET[0 if lang == "zh" else 1], used))
            _write_notes(ws, tables, params or {}, lang, styles)
    finally:
        wb.close()
    with atomic_path(path) as tmp:
        if bulks:
            splice(buf.getvalue(), bulks, tmp)
        else:
            Path(tmp).write_bytes(buf.getvalue())
    return Path(path)


def _sheet_title(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, no apostrophe at either end, at most 31
    characters, unique regardless of case."""
    title = re.sub(r"[\[\]:*?/\\]", "_", clean_text(str(name)))[:31].strip("'") or "sheet"
    base, i = title, 2
    while title.casefold() in used:
        title = f"{base[:28]}_{i}"
        i += 1
    used.add(title.casefold())
    return title
