"""Read tables and vector files, detecting the text encoding of CSVs saved in China."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pandas as pd

from .._errors import InputError

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".parquet"}


def detect_encoding(raw: bytes, *, file: str | Path | None = None) -> str:
    """Guess the text encoding of ``raw``: UTF-8 first, then GB18030 (a superset of GBK and
    GB2312, what Excel in China writes), then charset-normalizer's best guess.

    Raises
    ------
    InputError
        If no encoding decodes the bytes.
    """
    for enc in ("utf-8-sig", "gb18030"):
        try:
            raw.decode(enc)
            return "utf-8" if enc == "utf-8-sig" else enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    if best is None or best.encoding is None:
        raise InputError(
            "cannot tell the text encoding",
            file=file,
            fix="save the file as 'CSV UTF-8' from Excel, or pass encoding='gb18030' "
            "(--encoding on the command line)",
        )
    return best.encoding


def _sniff_sep(text: str) -> str:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def read_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None
) -> tuple[pd.DataFrame, str | None, bool]:
    """Read a CSV, Excel or vector file into a frame of text cells.

    Returns
    -------
    frame, encoding, is_vector
        The data (a GeoDataFrame for vector files, cells as text otherwise), the text encoding
        used (None for Excel), and whether the file carried geometries.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path, fix="check the path and file name")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        raw = path.read_bytes()
        if not raw.strip():
            raise InputError("the file is empty", file=path, fix="export the table again")
        enc = encoding or detect_encoding(raw, file=path)
        try:
            text = raw.decode(enc)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"cannot decode the file as {enc}",
                file=path,
                value=enc,
                fix="pass the right encoding (e.g. gb18030 or utf-8), or re-save as CSV UTF-8",
            ) from exc
        text = text.lstrip("\ufeff")
        logger.info("%s: read as %s", path.name, enc)
        try:
            df = pd.read_csv(
                io.StringIO(text),
                sep=_sniff_sep(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
            )
        except pd.errors.ParserError as exc:
            raise InputError(
                f"not a valid CSV table ({exc})",
                file=path,
                fix="open it in Excel and save it again as CSV",
            ) from exc
        return _non_empty(df, path), enc, False
    if suffix in EXCEL_SUFFIXES:
        try:
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=str)
        except ValueError as exc:
            raise InputError(
                f"cannot read the worksheet ({exc})",
                file=path,
                value=sheet,
                fix="name an existing sheet with sheet= (--sheet)",
            ) from exc
        df = df.fillna("")
        return _non_empty(df, path), None, False
    if suffix == ".xls":
        raise InputError(
            "old .xls workbooks are not supported",
            file=path,
            fix="open it in Excel or WPS and save as .xlsx (or CSV UTF-8)",
        )
    if suffix in VECTOR_SUFFIXES:
        import geopandas as gpd

        kwargs = {"encoding": encoding} if encoding else {}
        try:
            gdf = gpd.read_file(path, **kwargs)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(
                f"cannot read the vector file ({exc})",
                file=path,
                fix="check that the file (and, for a shapefile, its .shx/.dbf/.prj) is complete",
            ) from exc
        return _non_empty(gdf, path), encoding, True
    raise InputError(
        "unsupported file type",
        file=path,
        value=suffix,
        fix="use CSV, Excel (.xlsx), GeoJSON, GeoPackage or Shapefile",
    )


def _non_empty(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    if len(df) == 0:
        raise InputError(
            "the file has a header but no data rows",
            file=path,
            fix="check that you exported the right sheet or layer",
        )
    df.columns = [str(c).strip() for c in df.columns]
    return df
