"""Read tables and vector files as they come from offices in China.

- CSV encodings: UTF-8, GB18030 (covers GBK/GB2312) or Big5 only, unless ``encoding`` is given;
  rows that needed replacement characters are named.
- Spreadsheets with title rows above the header: the header row is detected.
- Excel: choose the worksheet by name or index; a damaged workbook is a one-line error.
- Vector files: a GeoPackage with several layers needs ``layer``; a shapefile whose parts
  disagree on the record count (a half-copied file) is refused.
"""

from __future__ import annotations

import csv
import io
import logging
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from ._columns import HEADER_ALIASES, PAIR_ALIASES, norm_header

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".parquet"}
#: Encodings tried, in order, when none is given.
ALLOWED_ENCODINGS = ("utf-8", "gb18030", "big5")
#: Rows searched for the header below title rows.
HEADER_SEARCH_ROWS = 15
_KNOWN = {norm_header(a) for aliases in HEADER_ALIASES.values() for a in aliases} | {
    norm_header(a) for a in PAIR_ALIASES
}


def _gb_share(text: str) -> float:
    """Share of CJK characters that are in GB2312 (common simplified Chinese)."""
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not cjk:
        return 1.0
    ok = 0
    for c in cjk:
        try:
            c.encode("gb2312")
            ok += 1
        except UnicodeEncodeError:
            pass
    return ok / len(cjk)


def detect_encoding(raw: bytes, *, file: str | Path | None = None) -> str:
    """The encoding of ``raw``: UTF-8, GB18030 or Big5, whichever decodes it cleanly.

    GB18030 decodes most Big5 bytes too, into rare characters; Big5 wins when it decodes and
    the GB18030 reading is mostly outside common simplified Chinese. When none decodes cleanly,
    the one needing fewest replacement characters is returned (the reader then names the rows).
    """
    sample = raw[:400_000]
    clean = []
    for enc in ALLOWED_ENCODINGS:
        try:
            clean.append((enc, sample.decode("utf-8-sig" if enc == "utf-8" else enc)))
        except UnicodeDecodeError:
            continue
    if clean:
        enc, text = clean[0]
        if enc == "gb18030" and _gb_share(text) < 0.8 and any(e == "big5" for e, _ in clean):
            return "big5"
        return enc
    counts = {e: sample.decode(e, errors="replace").count("\ufffd") for e in ALLOWED_ENCODINGS}
    return min(counts, key=lambda e: counts[e])


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    enc = encoding or detect_encoding(raw, file=path)
    try:
        text = raw.decode(enc)
    except LookupError as exc:
        raise InputError(
            "未知的编码 / unknown encoding",
            file=path,
            value=enc,
            fix="use --encoding utf-8, gb18030 or big5",
        ) from exc
    except UnicodeDecodeError as exc:
        if encoding:
            raise InputError(
                f"无法按 {enc} 解码 / cannot decode the file as {enc}",
                file=path,
                value=enc,
                fix="pass the right --encoding (e.g. gb18030 or utf-8), or re-save as CSV UTF-8",
            ) from exc
        text = raw.decode(enc, errors="replace")
    return text.lstrip("\ufeff"), enc


def _sniff_sep(text: str) -> str:
    first = next((ln for ln in text.split("\n") if ln.strip()), "")
    counts = {s: first.count(s) for s in ",\t;|"}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _header_index(cells: list[list[str]]) -> int:
    """Index of the header row: the first of the top rows naming two known fields."""
    for i, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
        if sum(norm_header(c) in _KNOWN for c in row if str(c).strip()) >= 2:
            return i
    return 0


def _frame(cells: list[list[str]], path: Path) -> pd.DataFrame:
    """A text frame from raw rows: header detected, blank rows dropped, row numbers kept."""
    width = max((len(r) for r in cells), default=0)
    cells = [list(r) + [""] * (width - len(r)) for r in cells]
    if not any(any(str(c).strip() for c in r) for r in cells):
        raise InputError("文件为空 / the file is empty", file=path, fix="export the table again")
    h = _header_index(cells)
    header, seen = [], set()
    for j, c in enumerate(cells[h]):
        name = str(c).strip() or f"列{j + 1}"
        while name in seen:
            name += "_2"
        seen.add(name)
        header.append(name)
    body = [[str(c).strip() for c in r] for r in cells[h + 1 :]]
    df = pd.DataFrame(body, columns=header, dtype=object)
    keep = np.array([any(v != "" for v in r) for r in body], dtype=bool)
    df = df[keep].reset_index(drop=True)
    df.attrs["rows"] = (np.flatnonzero(keep) + h + 2).tolist()
    if h:
        logger.info("%s: header found on row %d, below %d title row(s)", path.name, h + 1, h)
    return _non_empty(df, path)


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("文件为空 / the file is empty", file=path, fix="export the table again")
    text, enc = _decode(raw, path, encoding)
    logger.info("%s: read as %s", path.name, enc)
    try:
        cells = list(csv.reader(io.StringIO(text), delimiter=_sniff_sep(text)))
    except csv.Error as exc:
        raise InputError(
            f"不是有效的 CSV 表格 / not a valid CSV table ({exc})",
            file=path,
            fix="open it in Excel and save as CSV",
        ) from exc
    df = _frame(cells, path)
    df.attrs["encoding"] = enc
    return df, enc


def _sheet_arg(sheet: str | int | None) -> str | int:
    if sheet is None:
        return 0
    if isinstance(sheet, int):
        return sheet
    return int(sheet) if str(sheet).strip().isdigit() else str(sheet)


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, XML errors from a damaged file
        raise InputError(
            f"工作簿无法打开，可能已损坏或不完整 / cannot open the workbook ({type(exc).__name__}); "
            "it may be damaged or truncated",
            file=path,
            fix="open it in Excel or WPS and save it again (or export CSV UTF-8)",
        ) from exc
    want = _sheet_arg(sheet)
    names = book.sheet_names
    if (isinstance(want, int) and not 0 <= want < len(names)) or (
        isinstance(want, str) and want not in names
    ):
        raise InputError(
            "没有这个工作表 / no such worksheet",
            file=path,
            value=sheet,
            fix=f"name one with --sheet NAME|INDEX (0 = first): {', '.join(names)}",
        )
    try:
        raw = pd.read_excel(book, sheet_name=want, header=None, dtype=str).fillna("")
    except Exception as exc:
        raise InputError(
            f"cannot read the worksheet ({type(exc).__name__})",
            file=path,
            value=sheet,
            fix="open it in Excel or WPS and save it again",
        ) from exc
    return _frame(raw.to_numpy().tolist(), path)


def _check_shapefile(path: Path) -> None:
    """Refuse a shapefile whose .shp/.shx/.dbf disagree on the number of records."""
    shx, dbf = path.with_suffix(".shx"), path.with_suffix(".dbf")
    counts = {}
    if shx.exists():
        counts[".shx"] = (shx.stat().st_size - 100) // 8
    if dbf.exists():
        with dbf.open("rb") as f:
            head = f.read(12)
        if len(head) == 12:
            n, hlen, rlen = (*struct.unpack("<I", head[4:8]), *struct.unpack("<HH", head[8:12]))
            counts[".dbf"] = n
            have = (dbf.stat().st_size - hlen) // max(rlen, 1)
            if have < n:
                counts[".dbf (data present)"] = have
    if shx.exists():
        size = path.stat().st_size
        with shx.open("rb") as f:
            f.seek(100 + 8 * (counts[".shx"] - 1)) if counts[".shx"] else None
            last = f.read(8)
        if len(last) == 8:
            off, ln = struct.unpack(">ii", last)
            if (off + 4 + ln) * 2 > size:
                counts[".shp (data present)"] = -1
    if len(set(counts.values())) > 1:
        raise InputError(
            "Shapefile 各部分的记录数不一致(复制不完整?) / the shapefile's parts disagree on the "
            "number of records (truncated copy?)",
            file=path,
            value={k: v for k, v in counts.items() if v >= 0} or "the .shp data ends early",
            fix="copy the .shp, .shx and .dbf again, completely",
        )


def _read_vector(path: Path, encoding: str | None, layer: str | int | None):
    import geopandas as gpd
    import pyogrio

    if path.suffix.lower() == ".shp":
        _check_shapefile(path)
    if path.suffix.lower() == ".gpkg" and layer is None:
        try:
            layers = [str(x[0]) for x in pyogrio.list_layers(path)]
        except Exception:
            layers = []
        if len(layers) > 1:
            raise InputError(
                f"GeoPackage 有 {len(layers)} 个图层 / the GeoPackage has {len(layers)} layers",
                file=path,
                value=layers,
                fix=f"choose one with --layer NAME (one of: {', '.join(layers)})",
            )
    kwargs = {"encoding": encoding} if encoding else {}
    if layer is not None:
        kwargs["layer"] = layer
    try:
        gdf = gpd.read_file(path, **kwargs)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(
            f"无法读取矢量文件 / cannot read the vector file ({exc})",
            file=path,
            fix="check that the file (and, for a shapefile, its .shx/.dbf/.prj) is complete",
        ) from exc
    gdf.attrs["rows"] = list(range(1, len(gdf) + 1))
    return _non_empty(gdf, path)


def read_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    layer: str | int | None = None,
) -> tuple[pd.DataFrame, str | None, bool]:
    """Read a CSV, Excel or vector file into a frame of text cells.

    Returns
    -------
    frame, encoding, is_vector
        The data (a GeoDataFrame for vector files, cells as text otherwise), the text encoding
        used (None for Excel), and whether the file carried geometries. ``frame.attrs["rows"]``
        holds each row's number as a spreadsheet shows it (feature number for vector files).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            "找不到文件 / file not found", file=path, fix="check the path and file name"
        )
    if path.is_dir():
        raise InputError(
            "这是文件夹，不是文件 / this is a folder, not a file",
            file=path,
            fix="name the file itself",
        )
    try:
        return _read_any(path, encoding, sheet, layer)
    except OSError as exc:  # permissions, a file vanishing, a broken disk
        raise InputError(
            f"cannot read the file ({exc.strerror or exc})",
            file=path,
            fix="check that the file is readable and complete",
        ) from exc


def _read_any(path: Path, encoding, sheet, layer) -> tuple[pd.DataFrame, str | None, bool]:
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        df, enc = _read_csv(path, encoding)
        return df, enc, False
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet), None, False
    if suffix == ".xls":
        raise InputError(
            "不支持旧版 .xls 工作簿 / old .xls workbooks are not supported",
            file=path,
            fix="open it in Excel or WPS and save as .xlsx (or CSV UTF-8)",
        )
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, encoding, layer), encoding, True
    raise InputError(
        "unsupported file type",
        file=path,
        value=suffix,
        fix="use CSV, Excel (.xlsx), GeoJSON, GeoPackage or Shapefile",
    )


def _non_empty(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    if len(df) == 0:
        raise InputError(
            "只有表头，没有数据行 / the file has a header but no data rows",
            file=path,
            fix="check that you exported the right sheet or layer (--sheet, --layer)",
        )
    rows = df.attrs.get("rows")
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["rows"] = rows
    return df
