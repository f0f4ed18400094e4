"""Big workbook sheets written column-wise (:func:`geo.report_xlsx.write_workbook`).

XlsxWriter writes the workbook's structure: styles, headers, widths, frozen header, filter,
and the cells of the columns it must write itself (hyperlinks, dates, odd values). The other
columns of a big sheet become ``<c>`` elements here, one list per column (each distinct text
escaped once, each number formatted as XlsxWriter formats it: ``{:.16G}``), and after XlsxWriter
has closed the workbook they are spliced, row by row with its own cells, into the sheet's
``<sheetData>`` (:func:`splice`). Text is an inline string (``t="inlineStr"``, as XlsxWriter
writes text in its constant-memory mode), or one of XlsxWriter's shared strings when it needs
an ``_xHHHH_`` escape; numbers, booleans, empty cells, number formats and the quote prefix are
those XlsxWriter gives the same values. Two private XlsxWriter calls are used, both checked by
tests/test_report_xlsx_bulk.py: a format's ``_get_xf_index()`` (its ``s=`` index, assigned so
that styles.xml holds it) and the shared-string table's ``_get_shared_string_index``.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BulkSheet", "splice"]

_FORMULA_START = ("=", "+", "-", "@")
# Text XlsxWriter escapes (xmlwriter.re_control_chars_1/2: a literal "_xHHHH_", a control
# character) and its rule for xml:space="preserve" (utility._preserve_whitespace).
_ESCAPED = re.compile("_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")
_SPECIAL = re.compile(r"[\x00-\x1f&<>]|_x|^\s|\s$")  # text that needs one of the above
_STRMAX = 32767  # Excel's longest text, in UTF-16 units
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"[^>]*?(?:/>|>.*?</c>)', re.S)
_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')


def _letters(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_index(letters: str) -> int:
    j = 0
    for ch in letters:
        j = j * 26 + ord(ch) - 64
    return j - 1


def _text(value: str, style: str, shared: Callable[[str], int]) -> str:
    """The rest of a text cell after ``<c r="A1"``, as XlsxWriter escapes text."""
    if len(value) <= _STRMAX // 2 and not _SPECIAL.search(value):
        return f'{style} t="inlineStr"><is><t>{value}</t></is></c>'
    if len(value) > _STRMAX // 2 and len(value.encode("utf-16-le", "surrogatepass")) > _STRMAX:
        units, cut = 0, len(value)
        for i, ch in enumerate(value):
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > _STRMAX:
                cut = i
                break
        value = value[:cut]
    if _ESCAPED.search(value) or _CONTROL.search(value):
        # Text XlsxWriter escapes as _xHHHH_ goes to its shared strings, which readers (openpyxl,
        # so pandas) unescape; inline strings they read as written.
        return f'{style} t="s"><v>{shared(value)}</v></c>'
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(value) else ""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{style} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _tail(value: Any, num: str, quote: str, shared: Callable[[str], int]) -> str | None:
    """The rest of one cell after ``<c r="A1"`` ("" for an empty cell), the way
    ``report_xlsx._write_column`` has XlsxWriter write it; None for a value XlsxWriter must
    write itself (a date, a list, an odd number)."""
    cls = value.__class__
    if value is None:
        return ""
    if cls is str:
        style = quote if value.startswith(_FORMULA_START) else ""
        return _text(value, style, shared) if value else ""
    if cls is bool:
        return f' t="b"><v>{int(value)}</v></c>'
    if cls is int or (cls is float and math.isfinite(value)):
        try:
            return f"{num}><v>{value:.16G}</v></c>"
        except OverflowError:  # an int no float holds: XlsxWriter's own error
            return None
    return None


class BulkSheet:
    """The column-wise cells of one big sheet (worksheet number ``index``, 1-based), its data
    rows 2 .. ``nrows`` + 1 and ``ncols`` columns; ``quote_xf`` the quote-prefix format's index,
    ``shared`` the index of a text in XlsxWriter's shared strings."""

    def __init__(
        self, index: int, nrows: int, ncols: int, quote_xf: int, shared: Callable[[str], int]
    ) -> None:
        self.shared = shared
        self.part = f"xl/worksheets/sheet{index}.xml"
        self.nrows, self.ncols = nrows, ncols
        self.quote = f' s="{quote_xf}"'
        self._rows = [str(i) for i in range(2, nrows + 2)]
        self.columns: dict[int, list[str]] = {}

    def numbers(self, j: int, arr: np.ndarray, num_xf: int | None) -> None:
        """A numeric column (ints or floats; NaN and inf are empty cells)."""
        pre, mid = f'<c r="{_letters(j)}', '"' + (f' s="{num_xf}"' if num_xf else "") + "><v>"
        cells = [
            f"{pre}{r}{mid}{v:.16G}</v></c>" for r, v in zip(self._rows, arr.tolist(), strict=True)
        ]
        if arr.dtype.kind == "f":
            for i in np.flatnonzero(~np.isfinite(arr)).tolist():
                cells[i] = ""
        self.columns[j] = cells

    def values(self, j: int, vals: Sequence[Any], num_xf: int | None) -> bool:
        """A column of prepared values (text, booleans, numbers, None); False, and nothing
        kept, when one of them is for XlsxWriter to write."""
        num = f' s="{num_xf}"' if num_xf else ""
        pre = f'<c r="{_letters(j)}'
        if set(map(type, vals)) <= {str, type(None)}:  # text: each distinct value once
            codes, uniques = pd.factorize(np.asarray(vals, dtype=object))
            texts = [_text(u, self.quote if u.startswith(_FORMULA_START) else "", self.shared) if u else ""
                     for u in uniques.tolist()] + [""]  # fmt: skip
            self.columns[j] = [
                f'{pre}{r}"{texts[c]}' if texts[c] else ""
                for r, c in zip(self._rows, codes.tolist(), strict=True)
            ]
            return True
        memo: dict[tuple[type, Any], str] = {}
        tails: list[str] = []
        for v in vals:
            try:
                key = (v.__class__, v)
                tail = memo[key]
            except KeyError:
                got = _tail(v, num, self.quote, self.shared)
                if got is None:
                    return False
                tail = memo[key] = got
            except TypeError:  # unhashable: a list, a dict
                return False
            tails.append(tail)
        self.columns[j] = [
            f'{pre}{r}"{t}' if t else "" for r, t in zip(self._rows, tails, strict=True)
        ]
        return True

    def sheet_xml(self, xml: str) -> str:
        """XlsxWriter's sheet part with this sheet's column-wise cells spliced in."""
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)  # no cell of its own
        start = xml.index("<sheetData")
        end = xml.index("</sheetData>")
        body = xml[start:end]
        cols = {j: [""] + c for j, c in self.columns.items()}
        for j in range(self.ncols):
            cols.setdefault(j, [""] * (self.nrows + 1))
        for m in _CELL.finditer(body):
            cols[_column_index(m.group(1))][int(m.group(2)) - 1] = m.group(0)
        lines = list(map("".join, zip(*(cols[j] for j in range(self.ncols)), strict=True)))
        rows = [f'<row r="{i}">{line}</row>' for i, line in enumerate(lines, start=1) if line]
        last = len(lines)
        while last and not lines[last - 1]:
            last -= 1
        ref = "A1" if last <= 1 and self.ncols <= 1 else f"A1:{_letters(self.ncols - 1)}{last}"
        head = _DIMENSION.sub(f'<dimension ref="{ref}"/>', xml[:start], count=1)
        return head + "<sheetData>" + "".join(rows) + xml[end:]


def splice(data: bytes, sheets: Sequence[Any], path: str | Path) -> None:
    """Write the workbook ``data`` (XlsxWriter's zip) to ``path`` with the ``sheets``' parts
    (BulkSheet or :class:`geo._xlsx_parts.PartsSheet`) replaced by their spliced XML, deflated at level 1 (the province's 53 MB of sheet XML:
    0.2 s and 8.0 MB, against 0.7 s and 6.3 MB at zlib's default level 6)."""
    parts = {s.part: s for s in sheets}
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        infos = zin.infolist()
        for info in infos:
            for extra in [s for s in sheets if getattr(s, "rels", None) is not None]:
                if _comes_before(extra.rels_part, info.filename):
                    _add_rels(zout, extra, infos)
            raw = zin.read(info)
            sheet = parts.get(info.filename)
            if sheet is not None:
                xml = sheet.sheet_xml(raw.decode("utf-8"))
                raw = xml.encode("utf-8") if isinstance(xml, str) else xml
                zout.writestr(info, raw, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
            else:
                zout.writestr(info, raw)
        for extra in [s for s in sheets if getattr(s, "rels", None) is not None]:
            _add_rels(zout, extra, infos)


_SHEET_RELS = re.compile(r"xl/worksheets/_rels/sheet(\d+)\.xml\.rels")


def _comes_before(rels: str, name: str) -> bool:
    """Whether XlsxWriter puts sheet relationships ``rels`` before the part ``name``: the
    sheets' relationships in sheet order, before the document properties."""
    mine, other = _SHEET_RELS.fullmatch(rels), _SHEET_RELS.fullmatch(name)
    if other is not None and mine is not None:
        return int(other.group(1)) > int(mine.group(1))
    return name.startswith("docProps/")


def _add_rels(zout: zipfile.ZipFile, sheet: Any, infos: list[zipfile.ZipInfo]) -> None:
    """A sheet's hyperlink relationships (:class:`geo._xlsx_parts.PartsSheet`), stored as
    XlsxWriter stores such a part (once)."""
    like = next((i for i in infos if _SHEET_RELS.fullmatch(i.filename)), infos[0])
    info = zipfile.ZipInfo(sheet.rels_part, date_time=like.date_time)
    info.compress_type, info.external_attr = like.compress_type, like.external_attr
    info.create_system = like.create_system
    zout.writestr(info, sheet.rels)
    sheet.rels = None
