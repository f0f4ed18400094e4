"""Big workbook sheets built piece by piece while an audit still runs (issue 13).

A province's audit.xlsx is about 1 M cells, nearly all in the combined county tables. Each
county's rows are rendered here as soon as the county is done (:func:`render_chunk`): the same
``<c>`` elements :class:`geo._xlsx_bulk.BulkSheet` writes, with three things left open, since
they are known only when every county is in: the row number (``ROW``), the quote-prefix
format's index (``QUOTE``) and each number format's index (one mark per format). After the
last county, :class:`PartsSheet` fills them in, county after county in the table's order, and
its sheet part is spliced into XlsxWriter's workbook as a bulk sheet's is
(:func:`geo._xlsx_bulk.splice`): the same XML the all-at-once path writes.

A county whose rows hold anything the column-wise writer does not (a hyperlink column, a date,
a text that needs one of XlsxWriter's shared strings) gets no chunk (None): its table is then
written the all-at-once way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from ._xlsx_bulk import _CELL, _DIMENSION, BulkSheet, _column_index, _letters

__all__ = ["Chunk", "PartsSheet", "render_chunk"]

#: Marks left in a chunk's XML (control characters never reach a sheet's XML as they are:
#: text holding one goes to the shared strings, which a chunk refuses).
ROW = "\x01"
QUOTE = "\x02"
SST = "\x05"  # a link cell's shared-string index
LINK = "\x06"  # the link format's index
_SST_B = SST.encode()
_ROW_B = ROW.encode()
_FORMAT_MARKS = [chr(c) for c in range(0x10, 0x20)]


class _NeedsShared(Exception):
    """A text that only XlsxWriter's shared strings can hold."""


def _no_shared(text: str) -> int:
    raise _NeedsShared(text)


@dataclass
class Chunk:
    """One county's rows of one table: each row's XML (UTF-8) cut where its number goes (None
    for a row without a cell), for these columns, dtypes and language."""

    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    lang: str
    rows: list[list[bytes] | None]
    #: Link columns (hyperlinks): each one's texts, in row order (cells with one only).
    texts: dict[int, list[str]] = field(default_factory=dict)
    #: Rows with links: (cell's column letters, its link target XML-escaped), by column.
    links: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def fits(self, kind: tuple[tuple[str, ...], tuple[str, ...]], nrows: int, lang: str) -> bool:
        """Whether the chunk is what the combined table (its columns and dtypes: ``kind``,
        :func:`table_kind`) would give."""
        return (
            self.lang == lang
            and len(self.rows) == nrows
            and self.columns == kind[0]
            and self.dtypes == kind[1]
        )


def table_kind(frame: pd.DataFrame) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A table's columns and dtypes, as a chunk keeps them."""
    return tuple(str(c) for c in frame.columns), tuple(str(t) for t in frame.dtypes)


def _format_mark(fmt: str | None, marks: dict[str, str]) -> str | None:
    """The mark standing for number format ``fmt``'s index (None: no format, as
    ``report_xlsx._Styles.number`` gives none)."""
    if not fmt or fmt == "General":
        return None
    if fmt not in marks:
        if len(marks) >= len(_FORMAT_MARKS):
            raise _NeedsShared(fmt)  # more formats than marks: written the all-at-once way
        marks[fmt] = _FORMAT_MARKS[len(marks)]
    return marks[fmt]


def render_chunk(df: pd.DataFrame, table: str, lang: str, marks: dict[str, str]) -> Chunk | None:
    """The rows of ``df`` (one county's part of ``table``, already made XML-safe) as
    :func:`geo.report_xlsx.write_workbook` writes them column-wise; None when a column must be
    written by XlsxWriter. ``marks`` maps number formats to their marks (shared by every chunk
    of a workbook)."""
    from .report_xlsx import _column_values

    frame = pd.DataFrame(df).drop(columns="geometry", errors="ignore")
    names = [str(c) for c in frame.columns]
    if not names:
        return None
    bulk = BulkSheet(0, len(frame), len(names), QUOTE, _no_shared)  # type: ignore[arg-type]
    bulk._rows = [ROW] * len(frame)
    texts: dict[int, list[str]] = {}
    links: dict[int, list[tuple[str, str]]] = {}
    try:
        for j, name in enumerate(names):
            col = schema.column(name, table)
            if col is not None and col.fmt == "url":
                got = _link_cells(_letters(j), _column_values(name, frame.iloc[:, j], lang, table))
                if got is None:
                    return None
                bulk.columns[j], texts[j], targets = got
                for i, t in targets:
                    links.setdefault(i, []).append((_letters(j), t))
                continue
            mark = _format_mark(col.number_format if col is not None else None, marks)
            s = frame.iloc[:, j]
            kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else "O"
            if kind in "iuf" and (col is None or col.fmt != "bool"):
                bulk.numbers(j, s.to_numpy(), mark)  # type: ignore[arg-type]
            elif not bulk.values(j, _column_values(name, s, lang, table), mark):  # type: ignore[arg-type]
                return None
    except _NeedsShared:
        return None
    lines = map("".join, zip(*(bulk.columns[j] for j in range(len(names))), strict=True))
    rows = [
        f'<row r="{ROW}">{line}</row>'.encode().split(_ROW_B) if line else None for line in lines
    ]
    return Chunk(*table_kind(frame), lang, rows, texts, links)


def _link_cells(letters: str, vals: list) -> tuple[list[str], list[str], list] | None:
    """A link column's cells as XlsxWriter's ``write_url`` writes them (a shared string in
    the link format; the hyperlink and its relationship come in :class:`PartsSheet`), its
    texts and (row, target) of its links; None unless every value is empty or a web link
    XlsxWriter takes as it is (no anchor, within Excel's length)."""
    from xlsxwriter.url import Url

    cells, texts, targets = [], [], []
    for i, v in enumerate(vals):
        if v is None or v == "":
            cells.append("")
            continue
        if (
            v.__class__ is not str
            or not v.startswith(("http://", "https://"))
            or "#" in v
            or len(v.encode("utf-16-le")) > 2 * 2079
        ):
            return None
        cells.append(f'<c r="{letters}{ROW}" s="{LINK}" t="s"><v>{SST}</v></c>')
        texts.append(v)
        targets.append((i, _attribute(Url._escape_url(v))))
    return cells, texts, targets


def _attribute(text: str) -> str:
    """``text`` escaped as XlsxWriter escapes an attribute's value."""
    return (
        text.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "&#xA;")
    )


class PartsSheet:
    """A sheet whose data rows are ``chunks`` (in the table's order), spliced into XlsxWriter's
    sheet part (which holds the header row only) by :func:`geo._xlsx_bulk.splice`."""

    def __init__(self, chunks: Sequence[Chunk], ncols: int, marks: dict[str, str]) -> None:
        self.chunks = list(chunks)
        self.ncols = ncols
        self.nrows = sum(len(c.rows) for c in self.chunks)
        self.marks = marks
        self.part = self.rels_part = ""
        self.fills: dict[str, str] = {}
        self.link_format: Any = None
        self.link_columns = sorted({j for c in self.chunks for j in c.texts})
        self.nlinks = sum(len(t) for c in self.chunks for t in c.texts.values())
        self.shared: dict[int, list[int]] = {}
        self.rels: bytes | None = None

    def bind(self, index: int, quote_xf: int, link_format: Any = None) -> None:
        """The sheet's number in the workbook (1-based), the quote-prefix format's index and
        the link format (its index is known after XlsxWriter writes the workbook)."""
        self.part = f"xl/worksheets/sheet{index}.xml"
        self.rels_part = f"xl/worksheets/_rels/sheet{index}.xml.rels"
        self.fills[QUOTE] = str(quote_xf)
        self.link_format = link_format

    def share(self, j: int, shared: Callable[[str], int]) -> None:
        """Column ``j``'s link texts into the shared strings, in row order, as
        ``write_url`` puts them (call right after the column's header)."""
        if j in self.link_columns:
            self.shared[j] = [shared(t) for c in self.chunks for t in c.texts.get(j, ())]

    def number_format(self, fmt: str | None, xf: int | None) -> None:
        """Number format ``fmt`` has index ``xf`` in this workbook."""
        if xf is not None and fmt in self.marks:
            self.fills[self.marks[fmt]] = str(xf)

    def sheet_xml(self, xml: str) -> bytes:
        """XlsxWriter's sheet part with the chunks' rows after its header row (UTF-8)."""
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
        start = xml.index("<sheetData")
        end = xml.index("</sheetData>")
        head = [""] * self.ncols
        for m in _CELL.finditer(xml[start:end]):
            if m.group(2) != "1":
                raise ValueError(f"{self.part}: a cell below the header ({m.group(0)[:40]})")
            head[_column_index(m.group(1))] = m.group(0)
        line = "".join(head)
        rows = [f'<row r="1">{line}</row>'.encode()] if line else []
        last = 1 if line else 0
        r = 1
        shared = {j: iter(v) for j, v in self.shared.items()}
        refs: list[str] = []
        rels: list[str] = []
        for chunk in self.chunks:
            for i, cut in enumerate(chunk.rows):
                r += 1
                if cut is not None:
                    row = str(r).encode().join(cut)
                    for letters, target in chunk.links.get(i, ()):
                        j = _column_index(letters)
                        row = row.replace(_SST_B, str(next(shared[j])).encode(), 1)
                        refs.append(f'<hyperlink ref="{letters}{r}" r:id="rId{len(refs) + 1}"/>')
                        rels.append(_REL.format(len(rels) + 1, target))
                    rows.append(row)
                    last = r
        if refs:
            xf = getattr(self.link_format, "xf_index", None)
            if xf is None:  # write_workbook gives links only after a sheet that used the format
                raise ValueError(f"{self.part}: the link format has no index")
            self.fills[LINK] = str(xf)
            self.rels = (_RELS_HEAD + "".join(rels) + "</Relationships>").encode()
            xml = _with_hyperlinks(xml, "<hyperlinks>" + "".join(refs) + "</hyperlinks>")
            end = xml.index("</sheetData>")
        body = _fill(b"".join(rows), self.fills)
        ref = "A1" if last <= 1 and self.ncols <= 1 else f"A1:{_letters(self.ncols - 1)}{last}"
        top = _DIMENSION.sub(f'<dimension ref="{ref}"/>', xml[:start], count=1)
        return (top + "<sheetData>").encode() + body + xml[end:].encode()


def _fill(body: bytes, fills: dict[str, str]) -> bytes:
    """The marks in ``body`` replaced by their values: in one pass when every value is one
    character (format indexes below 10, as an audit's are), else mark by mark."""
    if all(len(v) == 1 for v in fills.values()):
        table = bytes.maketrans("".join(fills).encode(), "".join(fills[m] for m in fills).encode())
        return body.translate(table)
    for mark, value in fills.items():
        if mark.encode() in body:
            body = body.replace(mark.encode(), value.encode())
    return body


_REL = (
    '<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/hyperlink" Target="{}" TargetMode="External"/>'
)
_RELS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships">'
)


def _with_hyperlinks(xml: str, links: str) -> str:
    """The sheet part with its <hyperlinks> where XlsxWriter writes them (after the filter,
    before the print options and page margins)."""
    end = xml.index("</sheetData>")
    for tag in ("<printOptions", "<pageMargins", "</worksheet>"):
        at = xml.find(tag, end)
        if at >= 0:
            return xml[:at] + links + xml[at:]
    raise ValueError("no place for the hyperlinks")
