"""Province/county reports: summary.csv, audit.xlsx (one sheet per table), layers.gpkg and
summary.json, gathered from the per-county folders."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .. import schema
from ..config import Config
from ..io import atomic_path, safe_frame, write_csv, write_json
from ..report_xlsx import parameters, write_workbook

if TYPE_CHECKING:
    from .._spawned import Spawned

logger = logging.getLogger(__name__)

#: The county summary's columns for the default levels (the registry's ``summary`` table,
#: :mod:`geo.schema`; other levels follow the run's config).
SUMMARY_COLUMNS = schema.required_columns("summary", Config().levels)


#: The files of a county that the combined reports read (``isochrones`` is a GeoJSON file).
COUNTY_FILES = ("uncovered", "proposed_sites", "palace_proposal", "marginal_gain", "communities",
                "uncovered_main_roads", "workplaces", "sites", "isochrones")  # fmt: skip


def read_county_file(out: Path, county: str, name: str) -> pd.DataFrame | None:
    """One of a county's COUNTY_FILES, or None when it has none."""
    if name == "isochrones":
        g = out / "counties" / county / "isochrones.geojson"
        return gpd.read_file(g) if g.exists() else None
    p = out / "counties" / county / f"{name}.csv"
    return pd.read_csv(p, encoding="utf-8-sig", dtype={"code": str}) if p.exists() else None


def _gather(
    out: Path, name: str, counties: list[str], pre: dict | None = None, layout: list | None = None
) -> pd.DataFrame:
    """The counties' ``name`` files in one table; ``pre`` holds files already read (while
    the other counties ran: :class:`geo.audit._stream.Preloader`), the others are read now.
    ``layout`` gets (county, rows, whether it was in ``pre``) for each file joined."""
    frames = []
    for c in counties:
        df = (pre or {}).get((c, name))
        was_read = df is not None
        if df is None:
            df = read_county_file(out, c, name)
        if df is not None:
            frames.append(df)
            if layout is not None:
                layout.append((c, len(df), was_read))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The county rows in the registry's order; every required column present."""
    df = pd.DataFrame(rows)
    levels = sorted(
        {
            c[len("communities_covered_") :]
            for c in df.columns
            if c.startswith("communities_covered_")
        }
    ) or list(Config().levels)
    return schema.order_columns(df, "summary", levels=levels, add_missing=True)


def write_excel(
    tables: dict[str, pd.DataFrame],
    path: Path,
    lang: str,
    params: dict | None = None,
    prepared: dict | None = None,
) -> Path:
    """One sheet per table (:func:`geo.report_xlsx.write_workbook`), and a 说明 sheet when
    ``params`` are given (``prepared``: rows already rendered, :mod:`geo.audit._book`)."""
    return write_workbook(
        tables, path, lang=lang, params=params, notes=params is not None, prepared=prepared
    )


def _xml_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Characters XLSX cannot hold (``\\v``, ESC, ...) shown as ``\\x0b`` instead of failing.

    Each text column is searched once, its texts joined (the province's 1 M cells took 1.3 s
    value by value); only a column that holds such a character is fixed value by value."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def fix(v):
        if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v):
            return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", v)
        return v

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            texts = "\n".join(v for v in out[c].tolist() if isinstance(v, str))
            if ILLEGAL_CHARACTERS_RE.search(texts):  # "\n" itself is allowed
                out[c] = out[c].map(fix)
    return out


def write_reports(
    out: Path,
    rows: list[dict],
    boundaries: gpd.GeoDataFrame,
    rejects: pd.DataFrame,
    outside: pd.DataFrame,
    meta: dict,
    lang: str,
    preloaded: dict | None = None,
    workbook_job: Spawned | None = None,
) -> dict:
    """Write the combined reports from the counties that succeeded (``preloaded``: the
    ``(folder, name)`` files of COUNTY_FILES already read, see :func:`_gather`).

    Failed counties are listed (summary table, ``counties_failed``) but their files never enter
    the combined tables. Each report file is written on its own: one that fails (an illegal
    character, a full disk) is logged and listed in ``reports_failed``, and the others are
    still written. ``workbook_job`` (:func:`start_workbook`) writes ``audit.xlsx`` in a child
    process while this one writes the CSV and GeoPackage files.
    """
    from .._safety import folder_name

    out = Path(out)
    ok_rows = [r for r in rows if r.get("status") == "ok"]
    names = [r.get("folder") or folder_name(r["county"], r.get("code", "")) for r in ok_rows]
    pre = preloaded or {}
    _add_summary_metrics(ok_rows, _gather(out, "communities", names, pre), meta)
    summary = summary_frame(rows)
    attempt = _Attempts()
    attempt("summary.csv", write_csv, summary, out / "summary.csv")
    layouts: dict[str, list] = {}
    combined = _combined_tables(out, names, attempt, pre, layouts)
    tables = {"summary": summary, **combined}
    if len(rejects):
        tables["rejects"] = rejects
    book: dict[str, Any] = {
        "tables": tables,
        "path": out / "audit.xlsx",
        "lang": lang,
        "params": parameters(
            None,
            walk_speed_kmh=meta.get("walk_speed_kmh"),
            network_source=meta.get("network"),
            sites=meta.get("sites"),
            communities=meta.get("communities"),
            boundaries=meta.get("boundaries"),
        ),
    }
    if workbook_job is not None:
        _handed_over(book, layouts, getattr(workbook_job, "parts_sent", set()))
        workbook_job.send(**book)  # written in the child while the files below are written here
    else:
        attempt("audit.xlsx", write_audit_workbook, **book)
    _write_combined_csvs(out, combined, attempt, pre, layouts)
    attempt("rejects.csv", write_csv, rejects, out / "rejects.csv")
    attempt("layers.gpkg", _write_gpkg, out, names, boundaries, tables, pre)
    if workbook_job is not None:
        attempt("audit.xlsx", workbook_job.result)
    doc = _summary_doc(summary, meta, outside)
    doc["reports_failed"] = attempt.failed
    attempt("summary.json", write_json, doc, out / "summary.json")
    doc["reports_failed"] = attempt.failed
    return doc


def _handed_over(book: dict, layouts: dict[str, list], sent: set) -> None:
    """The workbook's job for a child that has the counties' frames (:mod:`geo.audit._book`):
    each combined table made only of frames the child got is sent as its layout, not its
    rows (None), and every layout tells which counties' rows the child rendered already."""
    if not sent:
        return
    lays = {k: [(c, n, bool(was) and c in sent) for c, n, was in v] for k, v in layouts.items()}
    book["layouts"] = lays
    book["tables"] = {
        k: None if k in lays and all(h for _, _, h in lays[k]) else v
        for k, v in book["tables"].items()
    }


#: The county tables gathered into one table each (and a CSV each) for the whole run.
COMBINED_TABLES = ("uncovered", "proposed_sites", "palace_proposal", "marginal_gain",
                   "communities", "uncovered_main_roads", "workplaces")  # fmt: skip


class _Attempts:
    """Writes each report on its own: a failure is logged and listed in ``failed``."""

    def __init__(self) -> None:
        self.failed: list[dict] = []

    def __call__(self, name: str, fn, *args, **kw) -> None:
        try:
            fn(*args, **kw)
        except Exception as exc:
            self.note(name, exc)

    def note(self, name: str, exc: Exception) -> None:
        from .._safety import console

        logger.error("could not write %s: %s", name, console(exc))
        self.failed.append({"file": name, "error": f"{type(exc).__name__}: {exc}"})


def _combined_tables(
    out: Path, names: list[str], attempt: _Attempts, pre: dict | None = None,
    layouts: dict | None = None,
) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Each of COMBINED_TABLES gathered from the counties' folders (a table that cannot be
    read is listed as failed, and empty); ``layouts`` gets each table's layout (:func:`_gather`)."""
    tables = {}
    for key in COMBINED_TABLES:
        layout: list = []
        try:
            tables[key] = _gather(out, key, names, pre, layout)
            if layouts is not None:
                layouts[key] = layout
        except Exception as exc:
            attempt.failed.append({"file": f"{key}.csv", "error": f"{type(exc).__name__}: {exc}"})
            tables[key] = pd.DataFrame()
    return tables


def csv_parts(folder: str, frames: dict[str, pd.DataFrame]) -> dict[tuple[str, str], tuple]:
    """A county's rows of each combined CSV, written while the other counties run: keyed
    ``(folder, "csv:<table>")``, with the columns and dtypes they were written with."""
    out = {}
    for key, df in frames.items():
        text = safe_frame(df).to_csv(index=False, header=False)
        out[(folder, f"csv:{key}")] = (
            tuple(map(str, df.columns)),
            tuple(map(str, df.dtypes)),
            text,
        )
    return out


def _csv_from_parts(key: str, df: pd.DataFrame, layout: list, pre: dict) -> str | None:
    """The combined CSV's text from its counties' parts (:func:`csv_parts`), or None when one
    is missing or was written with other columns or dtypes than the combined table's."""
    cols, types = tuple(map(str, df.columns)), tuple(map(str, df.dtypes))
    if "geometry" in cols:
        return None
    texts = [safe_frame(df.iloc[:0]).to_csv(index=False)]
    for county, _, was_read in layout:
        part = pre.get((county, f"csv:{key}")) if was_read else None
        if part is None or part[0] != cols or part[1] != types:
            return None
        texts.append(part[2])
    return "".join(texts)


def _write_csv_text(text: str, path: Path) -> None:
    """``text`` as write_csv writes a table: UTF-8 with a BOM, atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(text.encode("utf-8-sig"))


def _write_combined_csvs(
    out: Path, tables: dict[str, pd.DataFrame], attempt: _Attempts, pre: dict | None = None,
    layouts: dict | None = None,
) -> None:  # fmt: skip
    """Each non-empty combined table as ``<name>.csv``: joined from its counties' parts when
    they fit (:func:`csv_parts`), written as a whole otherwise."""
    for key, df in tables.items():
        if not len(df):
            continue
        layout = (layouts or {}).get(key)
        text = _csv_from_parts(key, df, layout, pre or {}) if layout else None
        if text is None:
            attempt(f"{key}.csv", write_csv, df, out / f"{key}.csv")
        else:
            attempt(f"{key}.csv", _write_csv_text, text, out / f"{key}.csv")


def write_audit_workbook(
    tables: dict[str, pd.DataFrame], path: Path, lang: str, params: dict
) -> Path:
    """audit.xlsx: one sheet per table (rejects made safe to open), characters XLSX cannot
    hold shown escaped (:func:`_xml_safe`). Run in a child process by :func:`start_workbook`."""
    return write_excel(
        {k: _xml_safe(safe_frame(v) if k == "rejects" else v) for k, v in tables.items()},
        path,
        lang,
        params,
    )


#: Audits of at least this many counties write audit.xlsx in a child process started with the
#: run (a province's 1 M cells: about 2 s of CPU); smaller workbooks are written in this process.
WORKBOOK_CHILD_MIN_COUNTIES = 20


def start_workbook(n_counties: int) -> Spawned | None:
    """The child that will write audit.xlsx (its imports run while the counties do), or None
    when the audit is small enough to write it here."""
    if n_counties < WORKBOOK_CHILD_MIN_COUNTIES:
        return None
    from .._spawned import spawn

    job = spawn("geo.audit._book:write_audit_workbook", what="audit.xlsx",
                prepare="geo.audit._book", part="geo.audit._book:add_county")  # fmt: skip
    return job if job.spawned else None


def _summary_doc(summary: pd.DataFrame, meta: dict, outside: pd.DataFrame) -> dict[str, Any]:
    """summary.json: the run's settings, the counties that failed or missed a target, the rows."""
    ok = summary[summary["status"] == "ok"]
    return {
        **meta,
        "counties": len(summary),
        "counties_ok": len(ok),
        "counties_failed": summary.loc[summary["status"] != "ok", ["county", "error"]].to_dict(
            "records"
        ),
        "targets_missed": ok.loc[~ok["targets_met"].astype(bool), "county"].tolist(),
        "sites_outside_counties": outside.to_dict("records"),
        "rows": summary.to_dict("records"),
    }


def _add_summary_metrics(rows: list[dict], communities: pd.DataFrame, meta: dict) -> None:
    """Each county row gains the registered summary metrics (:func:`geo.schema.metric` with
    ``table="summary"``), computed from that county's communities (in place)."""
    if not any(m.table == "summary" for m in schema.METRICS.values()) or not len(communities):
        return
    cfg = Config(walk_speed_kmh=meta.get("walk_speed_kmh") or Config().walk_speed_kmh)
    for r in rows:
        mine = communities[communities["county"].astype(str) == str(r["county"])]
        if len(mine):
            r.update(schema.apply_metrics(mine, cfg, "summary"))


def _write_gpkg(out: Path, names, boundaries, tables, pre: dict | None = None) -> None:
    layers = {"boundaries": boundaries[["county", "code", "geometry"]]}

    def pts(df):
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)

    for key in ("communities", "proposed_sites", "palace_proposal"):
        if len(tables.get(key, [])):
            layers[key] = pts(tables[key])
    sites = _gather(out, "sites", names, pre)
    if len(sites) and "lon" in sites:
        sites = sites.drop_duplicates("site_id") if "site_id" in sites else sites
        layers["sites"] = pts(sites)
    iso = _gather(out, "isochrones", names, pre)
    if len(iso):
        layers["isochrones_15min"] = gpd.GeoDataFrame(iso, crs=4326)
    with atomic_path(out / "layers.gpkg") as tmp:
        tmp.unlink()
        for name, gdf in layers.items():
            g = schema.coerce(gdf)  # the registry's types: numbers, flags, text
            for c in g.columns:
                if c != "geometry" and g[c].dtype == object:
                    g[c] = g[c].astype(str)
            g.to_file(tmp, layer=name, driver="GPKG")
