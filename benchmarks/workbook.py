"""The meeting workbook alone: ``coverage.xlsx`` written by the XlsxWriter writer
(:func:`geo.report_xlsx.write_workbook`) against the openpyxl cell-by-cell writer it replaced
(``tests/xlsx_reference.py``), on the same tables, alternating in one process (imports warm),
and whether the two workbooks hold the same cells, formats, links and widths.

"cells" is the same writer with every sheet written cell by cell by XlsxWriter (no column-wise
big sheets, :mod:`geo._xlsx_bulk`), "new" the writer as it is. ``--audit DIR`` takes the tables
of a province audit's ``audit.xlsx`` instead (its summary.csv and combined CSVs; add
``--no-openpyxl`` there: the old writer takes minutes on a million cells).

The tables are those of a finished ``coverage`` run (``--run DIR``: its CSVs and
``summary.json``, as :func:`geo.outputs._write_workbook` gathers them)::

    python -m geo coverage --network "$(python -c 'from geo.demo import demo_pbf; print(demo_pbf())')" \\
        --sites S.csv --communities C.csv --out /tmp/run
    python benchmarks/workbook.py --run /tmp/run --repeat 3 --json
    python benchmarks/workbook.py --audit /tmp/audit --no-openpyxl --repeat 3 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

TABLES = ("proposed_sites", "marginal_gain", "communities", "sites", "candidates", "streets",
          "uncovered_main_roads", "workplaces", "rejects")  # fmt: skip


def tables_of(run: Path) -> dict[str, pd.DataFrame]:
    """The workbook's tables of a finished run, as the coverage command gathers them."""
    from geo import schema
    from geo.outputs import summary_row

    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    out = {"summary": schema.order_columns(pd.DataFrame([summary_row(summary)]), "summary")}
    for key in TABLES:
        p = run / f"{key}.csv"
        if p.exists():
            df = pd.read_csv(p, encoding="utf-8-sig", dtype={"code": str})
            if len(df) or key != "rejects":
                out[key] = df
    return out


def tables_of_audit(audit: Path) -> dict[str, pd.DataFrame]:
    """The tables of a finished audit's ``audit.xlsx``, as its reports gather them."""
    from geo.audit._report import COMBINED_TABLES

    def read(p: Path) -> pd.DataFrame:
        return pd.read_csv(p, encoding="utf-8-sig", dtype={"code": str})

    out = {"summary": read(audit / "summary.csv")}
    for key in COMBINED_TABLES:
        p = audit / f"{key}.csv"
        out[key] = read(p) if p.exists() else pd.DataFrame()
    return out


def _cells(tables, path, **kw):
    """The writer with every sheet written cell by cell by XlsxWriter (before the bulk sheets)."""
    from unittest import mock

    import geo.report_xlsx as rx

    with mock.patch.object(rx, "_BULK_MIN_CELLS", float("inf")):
        return rx.write_workbook(tables, path, **kw)


def _time(fn, *args, **kw) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn(*args, **kw)
    return time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    from xlsx_reference import workbook_differences, write_workbook_reference

    from geo.report_xlsx import write_workbook

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=Path, help="a coverage run's output folder")
    src.add_argument("--audit", type=Path, help="a province audit's output folder")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-openpyxl", action="store_true", help="skip the old openpyxl writer")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    tables = tables_of(a.run) if a.run else tables_of_audit(a.audit)
    params = {"walk_speed_kmh": 4.0}
    res: dict = {"rows": {k: len(v) for k, v in tables.items()}}
    res["cells"] = sum(v.size for v in tables.values())
    writers = {"cells": _cells, "new": write_workbook}
    if not a.no_openpyxl:
        writers = {"old": write_workbook_reference, **writers}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: Path(tmp) / f"{k}.xlsx" for k in writers}
        for k, fn in writers.items():  # warm every writer's imports
            fn(tables, paths[k], params=params)
        runs: dict[str, list[tuple[float, float]]] = {k: [] for k in writers}
        for _ in range(a.repeat):
            for k, fn in writers.items():
                runs[k].append(_time(fn, tables, paths[k], params=params))
        for k, v in runs.items():
            res[f"{k}_cpu_s"] = round(statistics.median(c for c, _ in v), 3)
            res[f"{k}_wall_s"] = round(statistics.median(w for _, w in v), 3)
        res["speedup_cpu_cells_to_new"] = round(res["cells_cpu_s"] / res["new_cpu_s"], 2)
        res["differences_cells_new"] = workbook_differences(paths["cells"], paths["new"])
        if "old" in writers:
            res["speedup_cpu"] = round(res["old_cpu_s"] / res["new_cpu_s"], 2)
            res["differences"] = workbook_differences(paths["old"], paths["new"])
    print(json.dumps(res) if a.json else json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
