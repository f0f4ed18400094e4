"""Big sheets written column-wise (geo._xlsx_bulk): the same workbook as XlsxWriter's cell by
cell writing gives, on random frames (every kind of value, registry columns with number formats,
link columns), as openpyxl and pandas read them back."""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from xlsx_reference import workbook_differences

import geo.report_xlsx as rx

TRICKY = ["_x0041_", "a_x00e9_b", " lead", "trail ", "a\r\nb", "\t", "=SUM(A1)", "-3", "&amp;"]
TEXT = (
    st.text(
        alphabet=st.sampled_from(list("ab 中文=+-@&<>_x0041\t\n\r'\u3000\""))
        | st.characters(exclude_categories=("Cs",)),  # XlsxWriter cannot write a lone surrogate
        max_size=8,
    ).map(rx.clean_text)
    | st.sampled_from(TRICKY)
    | st.builds(  # Excel's 32,767 UTF-16 units: cut as XlsxWriter cuts
        lambda ch, n, tail: ch * n + tail,
        st.sampled_from(["中", "a", "\U0001f600", "_x0041_"]),
        st.integers(16380, 16390),
        st.sampled_from(["", " ", "x"]),
    )
)
# Finite floats up to 1e300: XlsxWriter's "{:.16G}" rounds the largest doubles up to inf (in
# both paths; pandas then fails to read the cell).
FLOATS = (
    st.floats(min_value=-1e300, max_value=1e300)
    | st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 0.1 + 0.2, 1e16, 1e-5, 5e-324, 1e300])
    | st.sampled_from([123456789012345.67, 2.0**53 + 1, 1e-300])
)
INTS = st.integers(-(2**62), 2**62) | st.integers(-5, 5)
MIXED = st.none() | TEXT | st.booleans() | st.integers(-(10**20), 10**20) | FLOATS
URLS = st.none() | st.sampled_from(
    ["https://uri.amap.com/marker?a=1&b=中", "map.html", "../up.html", "", "=x", "a b"]
)


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 25))

    def col(strategy):
        return draw(st.lists(strategy, min_size=n, max_size=n))

    df = pd.DataFrame(
        {
            "population": np.array(col(INTS), dtype=np.int64),
            "walk_distance_m": np.array(col(FLOATS), dtype=np.float64),
            "lon": np.array(col(FLOATS), dtype=np.float64),
            "covered_share": np.array(col(FLOATS), dtype=np.float64),
            "covered": pd.Series(col(st.none() | st.booleans() | st.sampled_from([0, 1, "True"]))),
            "flag": np.array(col(st.booleans()), dtype=bool),
            "nearest_site_kind": col(st.none() | st.sampled_from(["station", "partner", "?"])),
            "name": col(st.none() | TEXT),
            "备注": pd.Series(col(MIXED), dtype=object),
            "count": np.array(col(st.integers(0, 3)), dtype=np.uint8),
            "share": np.array(col(st.floats(width=32, allow_nan=True)), dtype=np.float32),
        }
    )
    if draw(st.booleans()):
        df["amap_url"] = col(URLS)
    keep = draw(st.lists(st.sampled_from(list(df.columns)), min_size=1, unique=True))
    return df[keep]


def _write(tables: dict, path: Path, min_cells: int, lang: str) -> Path:
    with (
        mock.patch.object(rx, "_BULK_MIN_CELLS", min_cells),
        mock.patch.object(rx, "splice", wraps=rx.splice) as spliced,
    ):
        rx.write_workbook(tables, path, lang=lang, params={"walk_speed_kmh": 4.0})
    assert spliced.called == (min_cells <= 1)  # the path under test was the one taken
    return path


def _parts(path: Path) -> dict[str, str]:
    """Each sheet's <dimension> ref, autofilter and frozen pane, as written."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = z.read(name).decode()
                out[name] = re.findall(r"<dimension [^>]*>|<autoFilter [^>]*>|<pane [^>]*>", xml)
    return out


def _cell_types(path: Path) -> list:
    wb = load_workbook(path)
    return [
        (ws.title, ws.dimensions, c.coordinate, c.data_type, c.number_format, c.style_id > 0)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]


@given(df=frames(), other=frames(), lang=st.sampled_from(["zh", "en"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bulk_sheets_equal_cell_by_cell(df, other, lang):
    tables = {"communities": df, "odd table": other}
    with tempfile.TemporaryDirectory() as tmp:
        cells = _write(tables, Path(tmp) / "cells.xlsx", 10**12, lang)
        bulk = _write(tables, Path(tmp) / "bulk.xlsx", 1, lang)
        assert workbook_differences(cells, bulk, max_report=5) == []
        assert _cell_types(cells) == _cell_types(bulk)
        assert _parts(cells) == _parts(bulk)


def test_big_table_round_trip_through_pandas(tmp_path):
    """A 6,000-row community table (bulk path by default): opens in openpyxl and pandas, every
    value back, links kept on the link column, the dimension and filter over all rows."""
    rng = np.random.default_rng(1)
    n = 6000
    df = pd.DataFrame(
        {
            "community_id": [f"C{i}" for i in range(n)],
            "name": rng.choice(["花桥社区", " lead", "trail ", "a&b<c>", "=1+1", ""], n),
            "population": rng.integers(0, 10**6, n),
            "lon": rng.random(n) * 180,
            "covered": rng.random(n) < 0.5,
            "amap_url": [f"https://uri.amap.com/marker?position={i}" for i in range(n)],
        }
    )
    df.loc[3, "lon"] = np.nan
    path = rx.write_workbook({"communities": df}, tmp_path / "big.xlsx", notes=False)
    with zipfile.ZipFile(path) as z:
        assert 't="inlineStr"' in z.read("xl/worksheets/sheet1.xml").decode()
    ws = load_workbook(path)["社区"]
    assert ws.dimensions == f"A1:F{n + 1}" and ws.auto_filter.ref == f"A1:F{n + 1}"
    assert ws.cell(n + 1, 6).hyperlink.target.endswith(f"={n - 1}")
    back = pd.read_excel(path, dtype={"社区编号": str})
    assert back["社区编号"].tolist() == df["community_id"].tolist()
    assert back["名称"].fillna("").tolist() == df["name"].tolist()
    assert back["人口"].tolist() == df["population"].tolist()
    # 16 significant digits, as XlsxWriter writes every number
    lon = [float(f"{v:.16G}") for v in df["lon"]]
    assert np.array_equal(back["经度(WGS84)"].to_numpy(), lon, equal_nan=True)
    assert back["是否覆盖"].tolist() == ["是" if c else "否" for c in df["covered"]]
    first_formula = df.index[df["name"] == "=1+1"][0] + 2
    assert ws.cell(first_formula, 2).quotePrefix and ws.cell(first_formula, 2).value == "=1+1"
