"""The workbook writer as it was before the XlsxWriter rewrite (openpyxl, cell by cell), kept
as the oracle for tests/test_report_xlsx.py: the fast writer must give the same cells, number
formats, links, widths, frozen header and filter. Only the per-table lookup (``table``) is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geo import schema
from geo.report_xlsx import (
    _FORMULA_START,
    _MAX_WIDTH,
    _MIN_WIDTH,
    _PARAM_NAMES,
    _WIDTH_SAMPLE,
    NOTES_SHEET,
    SHEETS,
    _cell_value,
    _display_width,
    _link,
    _shown,
    clean_text,
)


def _write_sheet(ws: Any, df: pd.DataFrame, lang: str, table: str | None) -> None:
    from openpyxl.utils import get_column_letter

    names = [str(c) for c in df.columns]
    heads = schema.headers(names, lang, table)
    ws.append([clean_text(heads[n]) for n in names])
    cols = [schema.column(n, table) for n in names]
    fmts = [c.number_format if c else None for c in cols]
    for rec in df.itertuples(index=False, name=None):
        ws.append([_cell_value(n, v, lang, table) for n, v in zip(names, rec, strict=True)])
    for j, name in enumerate(names, start=1):
        letter = get_column_letter(j)
        width = _display_width(heads[name])
        for i, cell in enumerate(ws[letter][1:], start=2):
            if isinstance(cell.value, str):
                if cell.value.startswith(_FORMULA_START):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                url = _link(name, cell.value, table)
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
        for name, head, unit, doc in schema.describe([str(c) for c in df.columns], lang, key):
            ws.append([sheet, clean_text(head), clean_text(name), unit, clean_text(doc)])
    for letter, width in zip("ABCDE", (22, 26, 30, 10, 80), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def write_workbook_reference(
    tables: Mapping[str, pd.DataFrame], path: str | Path, *, lang: str = "zh", params=None
) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for key, df in tables.items():
        frame = pd.DataFrame(df).drop(columns="geometry", errors="ignore")
        _write_sheet(
            wb.create_sheet(SHEETS.get(key, (key, key))[0 if lang == "zh" else 1]), frame, lang, key
        )
    _write_notes(wb.create_sheet(NOTES_SHEET[0 if lang == "zh" else 1]), tables, params or {}, lang)
    wb.save(path)
    return Path(path)


def workbook_differences(a: str | Path, b: str | Path, *, max_report: int = 20) -> list[str]:
    """Every difference a reader could see between two workbooks, opened with openpyxl:
    sheet names, cell values and types, number formats, text-not-formula, hyperlink targets,
    column widths, the frozen header and the filter. Empty when they are the same."""
    from openpyxl import load_workbook

    wa, wb_ = load_workbook(a), load_workbook(b)
    out: list[str] = []
    if wa.sheetnames != wb_.sheetnames:
        return [f"sheets {wa.sheetnames} != {wb_.sheetnames}"]
    for sa, sb in zip(wa.worksheets, wb_.worksheets, strict=True):
        t = sa.title
        if (sa.freeze_panes, sa.auto_filter.ref) != (sb.freeze_panes, sb.auto_filter.ref):
            out.append(
                f"{t}: frozen/filter {sa.freeze_panes, sa.auto_filter.ref} != "
                f"{sb.freeze_panes, sb.auto_filter.ref}"
            )
        rows = max(sa.max_row, sb.max_row)
        cols = max(sa.max_column, sb.max_column)
        for r in range(1, rows + 1):
            for c in range(1, cols + 1):
                ca, cb = sa.cell(r, c), sb.cell(r, c)
                va, vb = ca.value, cb.value
                same = va == vb and (type(va) is type(vb) or {type(va), type(vb)} <= {int, float})
                if not same:
                    out.append(f"{t}!{ca.coordinate}: {va!r} != {vb!r}")
                fa = ca.number_format if va is not None else "General"
                fb = cb.number_format if vb is not None else "General"
                if fa != fb:
                    out.append(f"{t}!{ca.coordinate}: format {fa!r} != {fb!r}")
                if ca.data_type == "f" or cb.data_type == "f":
                    out.append(f"{t}!{ca.coordinate}: a formula")
                if bool(ca.quotePrefix) != bool(cb.quotePrefix):
                    out.append(f"{t}!{ca.coordinate}: quote prefix differs")
                la, lb = _target(ca), _target(cb)
                if la != lb:
                    out.append(f"{t}!{ca.coordinate}: link {la!r} != {lb!r}")
        wa_, wb2 = _widths(sa), _widths(sb)
        for c in range(1, cols + 1):
            if abs(wa_.get(c, 13.0) - wb2.get(c, 13.0)) > 1e-9:
                out.append(f"{t}: column {c} width {wa_.get(c)} != {wb2.get(c)}")
    return out[:max_report]


def _target(cell: Any) -> str | None:
    """A hyperlink's target; a relative file link's folders written with / or with \\ (as
    Excel itself stores them) are the same link."""
    return cell.hyperlink.target.replace("\\", "/") if cell.hyperlink else None


def _widths(ws: Any) -> dict[int, float]:
    """{column number: width}; a <col> range (adjacent columns of one width) counts for each."""
    out: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.customWidth or dim.width != 13:
            for c in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
                out[c] = dim.width
    return out
