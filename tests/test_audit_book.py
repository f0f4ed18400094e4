"""audit.xlsx and the combined CSVs built county by county while the counties run (issue 13,
geo/audit/_book.py, geo/_xlsx_parts.py): the same files, byte for byte, as writing them all at
once after the last county, whatever order the counties come back in, with counties reused
from a previous run, dtypes that change in the join, and tables a chunk cannot hold."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import geo.report_xlsx as rx
from geo import _spawned, _xlsx_bulk
from geo.audit import _book
from geo.audit import _report as report

PARAMS = {"walk_speed_kmh": 4.0, "date": "2026-11-25 09:00"}


def _county(i: int, n: int, *, float_pop: bool = False, url: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(i)
    pop = rng.integers(0, 10**5, n)
    df = pd.DataFrame(
        {
            "county": f"县{i}",
            "community_id": [f"C{i}-{k}" for k in range(n)],
            "name": rng.choice(["花桥社区", " lead", "a&b<c>", "=1+1", "", "-3", "x"], n),
            "population": pop.astype(float) if float_pop else pop,
            "lon": rng.random(n) * 180,
            "walk_distance_m": np.where(rng.random(n) < 0.2, np.nan, rng.random(n) * 900),
            "covered": rng.random(n) < 0.5,
            "nearest_site_kind": rng.choice(["station", "partner", None], n),
        }
    )
    if url:
        df["amap_url"] = [f"https://uri.amap.com/marker?position={i},{k}" for k in range(n)]
    return df


def _tables(frames: dict[str, pd.DataFrame], order: list[str], maps: bool = False) -> dict:
    parts = [frames[c] for c in order]
    summary = pd.DataFrame({"county": order})
    if maps:  # the county maps' links (relative paths), as an audit's summary has
        summary["map"] = [f"counties/{c}/map.html" for c in order]
    return {"summary": summary, "communities": pd.concat(parts, ignore_index=True)}


def _zip(path: Path) -> list[tuple[str, bytes]]:
    """The workbook's parts in order (the creation time left out)."""
    with zipfile.ZipFile(path) as z:
        return [(n, z.read(n)) for n in z.namelist() if n != "docProps/core.xml"]


def _incremental(tmp: Path, frames, order, arrive, handed=None, lang="zh", maps=False) -> Path:
    """The workbook from counties handed over in ``arrive`` order (``handed``: those the
    child got; the others are rendered at the end, as a reused county is)."""
    _book.clear()
    handed = set(order) if handed is None else handed
    for c in arrive:
        if c in handed:
            _book.add_county((c, lang, {"communities": frames[c]}))
    layout = [(c, len(frames[c]), c in handed) for c in order]
    tables: dict = dict(_tables(frames, order, maps))
    if all(h for *_, h in layout):
        tables["communities"] = None  # joined in the child from what it got
    path = tmp / "inc.xlsx"
    _book.write_audit_workbook(tables, path, lang, PARAMS, layouts={"communities": layout})
    return path


def _at_once(tmp: Path, frames, order, lang="zh", maps=False) -> Path:
    path = tmp / "once.xlsx"
    report.write_audit_workbook(_tables(frames, order, maps), path, lang, PARAMS)
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_from_county_parts_is_the_same_in_any_arrival_order(tmp_path, lang):
    frames = {f"f{i}": _county(i, 40 + 7 * i) for i in range(6)}
    order = list(frames)
    arrive = order[:]
    random.Random(3).shuffle(arrive)
    with mock.patch.object(rx, "_BULK_MIN_CELLS", 100):
        rendered = []
        real = _book.PartsSheet

        def spy(*a, **kw):
            rendered.append(a[0])
            return real(*a, **kw)

        with mock.patch.object(_book, "PartsSheet", spy):
            inc = _incremental(tmp_path, frames, order, arrive, lang=lang)
        once = _at_once(tmp_path, frames, order, lang=lang)
    assert len(rendered) == 1 and len(rendered[0]) == len(order)  # the path under test
    assert _zip(inc) == _zip(once)
    assert _book._FRAMES == {} and _book._CHUNKS == {}  # forgotten after the workbook


def test_reused_county_and_changed_dtype_are_rendered_at_the_end(tmp_path):
    """A county the child never got (reused from a previous run) and one whose int column
    becomes float in the join (another county has a float there) are rendered from the
    combined table: the same workbook."""
    frames = {f"f{i}": _county(i, 50, float_pop=i == 2) for i in range(4)}
    order = list(frames)
    with mock.patch.object(rx, "_BULK_MIN_CELLS", 100):
        inc = _incremental(tmp_path, frames, order, order, handed={"f0", "f2", "f3"})
        once = _at_once(tmp_path, frames, order)
    assert _zip(inc) == _zip(once)


@pytest.mark.parametrize("maps", [False, True])
def test_table_with_links_is_the_same(tmp_path, maps):
    """Link columns (hyperlinks, their relationships, shared strings) from the parts: after a
    summary with map links (as an audit's), and written all at once without one (the link
    format's index is known only when a sheet before used it)."""
    frames = {f"f{i}": _county(i, 30 + i, url=True) for i in range(3)}
    frames["f1"].loc[[2, 5], "amap_url"] = [None, ""]  # no link there
    order = list(frames)
    with (
        mock.patch.object(rx, "_BULK_MIN_CELLS", 100),
        mock.patch.object(rx, "_WIDTH_SAMPLE", 10),  # more rows than the widths' sample
        mock.patch.object(_xlsx_bulk, "_add_rels", wraps=_xlsx_bulk._add_rels) as added,
    ):
        inc = _incremental(tmp_path, frames, order, order[::-1], maps=maps)
        assert added.called == maps  # the links from the parts
        once = _at_once(tmp_path, frames, order, maps=maps)
    got = _zip(inc)
    assert got == _zip(once)
    assert "xl/worksheets/_rels/sheet2.xml.rels" in dict(got)


def test_chunk_refuses_shared_strings_and_links():
    marks: dict = {}
    ok = _book.render_chunk(_county(1, 5), "communities", "zh", marks)
    assert ok is not None and len(ok.rows) == 5
    linked = _book.render_chunk(_county(1, 5, url=True), "communities", "zh", marks)
    assert linked is not None and len(linked.links) == 5
    anchor = _county(1, 5, url=True).assign(amap_url="https://a.b/c#d")  # XlsxWriter's own
    assert _book.render_chunk(anchor, "communities", "zh", marks) is None
    odd = _county(1, 5).assign(name="a_x0041_b")  # XlsxWriter keeps it in its shared strings
    assert _book.render_chunk(odd, "communities", "zh", marks) is None


def test_workbook_parts_through_a_spawned_child(tmp_path):
    """Spawned.part: the child renders each part as it comes, then writes the workbook."""
    frames = {f"f{i}": _county(i, 30) for i in range(3)}
    order = list(frames)
    job = _spawned.spawn(
        "geo.audit._book:write_audit_workbook", what="audit.xlsx",
        prepare="geo.audit._book", part="geo.audit._book:add_county",
    )  # fmt: skip
    try:
        send = _book.feed(job, "zh")
        for c in order[::-1]:
            assert set(send(c, {"communities": frames[c], "sites": frames[c]})) == {
                (c, "csv:communities")
            }
        assert job.parts_sent == set(order)
        layout = [(c, len(frames[c]), True) for c in order]
        tables: dict = {**_tables(frames, order), "communities": None}
        job.send(tables=tables, path=tmp_path / "child.xlsx", lang="zh", params=PARAMS,
                 layouts={"communities": layout})  # fmt: skip
        job.result()
    finally:
        job.close()
    assert _zip(tmp_path / "child.xlsx") == _zip(_at_once(tmp_path, frames, order))


@pytest.mark.parametrize("mixed", [False, True])
def test_combined_csv_from_county_parts_is_the_same(tmp_path, mixed):
    """The combined CSVs joined from the counties' parts are the files write_csv writes; a
    part written with other dtypes (int in one county, float after the join) is not used."""
    frames = {f"f{i}": _county(i, 20, float_pop=mixed and i == 1) for i in range(3)}
    pre: dict = {}
    for c, df in frames.items():
        pre.update(report.csv_parts(c, {"communities": df}))
    table = pd.concat(list(frames.values()), ignore_index=True)
    layout = [(c, len(df), True) for c, df in frames.items()]
    attempt = report._Attempts()
    with mock.patch.object(report, "write_csv", wraps=report.write_csv) as whole:
        report._write_combined_csvs(
            tmp_path, {"communities": table}, attempt, pre, {"communities": layout}
        )
    assert whole.called == mixed  # int vs float in the join: the whole table written
    report.write_csv(table, tmp_path / "once.csv")
    assert (tmp_path / "communities.csv").read_bytes() == (tmp_path / "once.csv").read_bytes()
    assert attempt.failed == []


def test_reaudit_hands_reused_counties_over_while_the_others_run(tmp_path, monkeypatch):
    """A second audit of the same folder reuses every county: their files are read, and handed
    to the workbook's child, as they are found (county_tasks' on_reused), not after the last
    county; the reports are those of the first run."""
    from hostile_inputs import make_inputs
    from test_spawned import _sheets

    import geo.audit as audit_pkg

    p = make_inputs(tmp_path / "in")
    monkeypatch.setattr(report, "WORKBOOK_CHILD_MIN_COUNTIES", 1)  # the child, with parts
    seen: dict = {}
    write = audit_pkg.write_reports

    def spy(*a, **kw):
        seen["pre"], seen["job"] = a[7], kw["workbook_job"]
        return write(*a, **kw)

    monkeypatch.setattr(audit_pkg, "write_reports", spy)
    kw = {k: p[k] for k in ("network", "sites", "communities", "boundaries")}
    first = audit_pkg.run_audit(**kw, out=tmp_path / "out", write_maps=False)
    csvs = {f.name: f.read_bytes() for f in first.out.glob("*.csv") if f.name != "summary.csv"}
    book = _sheets(first.out / "audit.xlsx")
    again = audit_pkg.run_audit(**kw, out=tmp_path / "out", write_maps=False)
    assert again.report["counties_reused"] == len(first.summary) == 3
    folders = {f.name for f in (tmp_path / "out/counties").iterdir()}
    assert {f for f, _ in seen["pre"]} == folders  # read while the run went on
    assert seen["job"].parts_sent == folders  # and handed to the child
    assert {
        f.name: f.read_bytes() for f in again.out.glob("*.csv") if f.name != "summary.csv"
    } == csvs
    tables = {
        k: v for k, v in _sheets(again.out / "audit.xlsx").items() if k not in ("汇总", "说明")
    }
    assert tables == {k: v for k, v in book.items() if k not in ("汇总", "说明")}  # the summary's
    assert len(tables) >= 4  # clip times differ: 0 for a reused county


@pytest.mark.parametrize("fills", [{"\x02": "7", "\x10": "3"}, {"\x02": "12", "\x10": "3"}])
def test_marks_filled_in_one_pass_or_one_by_one(fills):
    from geo._xlsx_parts import _fill

    body = '<c s="\x02"/><c s="\x10"/>中文<c s="\x10"/>'.encode()
    want = body
    for mark, value in fills.items():
        want = want.replace(mark.encode(), value.encode())
    assert _fill(body, fills) == want
