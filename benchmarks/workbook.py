"""The meeting workbook alone: ``coverage.xlsx`` written by the XlsxWriter writer
(:func:`geo.report_xlsx.write_workbook`) against the openpyxl cell-by-cell writer it replaced
(``tests/xlsx_reference.py``), on the same tables, alternating in one process (imports warm),
and whether the two workbooks hold the same cells, formats, links and widths.

The tables are those of a finished ``coverage`` run (``--run DIR``: its CSVs and
``summary.json``, as :func:`geo.outputs._write_workbook` gathers them)::

    python -m geo coverage --network "$(python -c 'from geo.demo import demo_pbf; print(demo_pbf())')" \\
        --sites S.csv --communities C.csv --out /tmp/run
    python benchmarks/workbook.py --run /tmp/run --repeat 3 --json
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


def _time(fn, *args, **kw) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn(*args, **kw)
    return time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    from xlsx_reference import workbook_differences, write_workbook_reference

    from geo.report_xlsx import write_workbook

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", required=True, type=Path, help="a coverage run's output folder")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    tables = tables_of(a.run)
    params = {"walk_speed_kmh": 4.0}
    res: dict = {"rows": {k: len(v) for k, v in tables.items()}}
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "old.xlsx", Path(tmp) / "new.xlsx"
        write_workbook(tables, new, params=params)  # warm both writers' imports
        write_workbook_reference(tables, old, params=params)
        runs: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
        for _ in range(a.repeat):
            runs["old"].append(_time(write_workbook_reference, tables, old, params=params))
            runs["new"].append(_time(write_workbook, tables, new, params=params))
        for k, v in runs.items():
            res[f"{k}_cpu_s"] = round(statistics.median(c for c, _ in v), 3)
            res[f"{k}_wall_s"] = round(statistics.median(w for _, w in v), 3)
        res["speedup_cpu"] = round(res["old_cpu_s"] / res["new_cpu_s"], 2)
        res["differences"] = workbook_differences(old, new)
    print(json.dumps(res) if a.json else json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
