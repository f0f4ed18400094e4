"""audit.xlsx built while the counties run (issue 13).

The child process writing audit.xlsx (:func:`geo.audit._report.start_workbook`) is idle while
the counties run. Each county's combined-table files, once read by the parent's
:class:`~geo.audit._stream.Preloader`, are handed to it (:func:`feed`, :func:`add_county`) and
rendered there at once (:func:`geo._xlsx_parts.render_chunk`). After the last county the parent
sends what it sent before, except that a combined table made only of the frames already handed
over is sent as its layout (which counties, how many rows each): the child joins its own
copies, and writes each big table's sheet from the chunks (:func:`write_audit_workbook`),
rendering now only a county whose chunk is missing or does not fit the combined table (its
dtypes changed in the join, it was reused from a previous run). A table a chunk cannot hold
(hyperlinks, shared strings) is written the all-at-once way. The workbook is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .._xlsx_parts import Chunk, PartsSheet, render_chunk, table_kind

logger = logging.getLogger(__name__)

#: Per process (the child writes one workbook): each handed-over frame and its chunk, keyed
#: by (table, county folder), and the number formats' marks.
_FRAMES: dict[tuple[str, str], pd.DataFrame] = {}
_CHUNKS: dict[tuple[str, str], Chunk | None] = {}
_MARKS: dict[str, str] = {}

#: A layout: (county folder, rows, whether its frame was handed over) in the table's order.
Layout = list[tuple[str, int, bool]]


def feed(job: Any, lang: str) -> Callable[[str, dict[str, pd.DataFrame]], dict]:
    """What the Preloader calls with each county's files: hands the combined tables' frames to
    the child ``job`` (when there is one), and gives the county's part of each combined CSV
    (:func:`geo.audit._report.csv_parts`), kept with the files."""
    from ._report import COMBINED_TABLES, csv_parts

    def send(folder: str, frames: dict[str, pd.DataFrame]) -> dict:
        mine = {k: frames[k] for k in COMBINED_TABLES if k in frames}
        if job is not None:
            job.part((folder, lang, mine), key=folder)
        return csv_parts(folder, mine)

    return send


def add_county(payload: tuple[str, str, dict[str, pd.DataFrame]]) -> None:
    """One county's frames (in the child): kept, and rendered as sheet rows."""
    from ._report import _xml_safe

    folder, lang, frames = payload
    for key, df in frames.items():
        _FRAMES[(key, folder)] = df
        try:
            _CHUNKS[(key, folder)] = render_chunk(_xml_safe(df), key, lang, _MARKS)
        except Exception as exc:  # rendered again (or written all at once) at the end
            logger.debug("could not render %s of %s: %s", key, folder, exc)
            _CHUNKS[(key, folder)] = None


def joined(layout: Layout, key: str) -> pd.DataFrame:
    """The combined table of frames all handed over, joined as the parent joins them."""
    frames = [_FRAMES[(key, folder)] for folder, _, _ in layout]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _sheet(key: str, table: pd.DataFrame, layout: Layout, lang: str) -> PartsSheet | None:
    """The table's rows from the counties' chunks (a missing or unfit one rendered now from
    the table's rows), or None when one cannot be."""
    from ._report import _xml_safe

    chunks, at, sort = [], 0, table_kind(table)
    for folder, n, handed in layout:
        chunk = _CHUNKS.get((key, folder)) if handed else None
        if chunk is None or not chunk.fits(sort, n, lang):
            chunk = render_chunk(_xml_safe(table.iloc[at : at + n]), key, lang, _MARKS)
            if chunk is None:
                return None
        chunks.append(chunk)
        at += n
    if at != len(table):
        return None
    return PartsSheet(chunks, len(table.columns), _MARKS)


def prepared_sheets(
    tables: dict[str, pd.DataFrame], layouts: dict[str, Layout], lang: str
) -> dict[str, PartsSheet]:
    """The big tables (as big as :mod:`geo._xlsx_bulk` writes column-wise) that chunks hold."""
    from ..report_xlsx import _BULK_MIN_CELLS

    out = {}
    for key, layout in layouts.items():
        table = tables.get(key)
        if table is None or table.size < _BULK_MIN_CELLS or not len(table.columns):
            continue
        try:
            sheet = _sheet(key, table, layout, lang)
        except Exception as exc:  # written the all-at-once way
            logger.debug("%s: no prepared rows (%s)", key, exc)
            sheet = None
        if sheet is not None:
            out[key] = sheet
    return out


def clear() -> None:
    """Forget the handed-over frames (after the workbook is written)."""
    _FRAMES.clear()
    _CHUNKS.clear()
    _MARKS.clear()


def write_audit_workbook(
    tables: dict[str, pd.DataFrame | None],
    path: Path,
    lang: str,
    params: dict,
    layouts: dict[str, Layout] | None = None,
) -> Path:
    """audit.xlsx (:func:`geo.audit._report.write_audit_workbook`); a table sent as None is
    joined here from the frames handed over (``layouts``), and big tables are written from
    their chunks."""
    from ..io import safe_frame
    from ..report_xlsx import _WIDTH_SAMPLE
    from ._report import _xml_safe, write_excel

    try:
        lays = layouts or {}
        full = {k: joined(lays[k], k) if v is None else v for k, v in tables.items()}
        prepared = prepared_sheets(full, lays, lang)
        # a prepared sheet needs only the widths' sample, unless it has links: written all at
        # once when no sheet before it has any (report_xlsx.write_workbook)
        book = {
            k: _xml_safe(
                v.iloc[: _WIDTH_SAMPLE - 1]
                if k in prepared and not prepared[k].nlinks
                else (safe_frame(v) if k == "rejects" else v)
            )
            for k, v in full.items()
        }
        return write_excel(book, path, lang, params, prepared=prepared)
    finally:
        clear()
