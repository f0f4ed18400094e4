"""Issue 13: an audit's parent has threads, so audit.xlsx is written by a spawned child
(geo._spawned) while the parent writes the CSV and GeoPackage reports. The child's answer, its
errors, a child that dies or never gets its input, and the same workbook as written in process."""

from __future__ import annotations

import json
import time

import openpyxl
import pytest
from hostile_inputs import make_inputs

import geo.audit._report as report
from geo._spawned import spawn
from geo.audit import run_audit


def test_child_returns_the_writers_value():
    job = spawn("json:dumps", what="test")
    assert job.spawned
    job.send(obj={"社区": [1, 2.5]}, ensure_ascii=False)
    assert job.result() == '{"社区": [1, 2.5]}'


def test_child_raises_the_writers_exception():
    job = spawn("json:loads", what="test")
    job.send(s="{")
    with pytest.raises(json.JSONDecodeError, match="Expecting property name"):
        job.result()


def test_child_that_dies_is_an_error_naming_the_output():
    job = spawn("os:abort", what="audit.xlsx")
    job.send()
    with pytest.raises(RuntimeError, match=r"audit\.xlsx ended without an answer"):
        job.result()


def test_child_without_input_ends_without_running(tmp_path):
    flag = tmp_path / "ran"
    job = spawn("pathlib:Path.touch", what="test")  # would create the file if it ran
    proc = job._proc
    job.close()
    assert proc is not None and proc.returncode == 0 and not flag.exists()
    assert not job.spawned


def test_no_child_runs_the_writer_here(monkeypatch):
    import subprocess

    def fail(*a, **k):
        raise OSError("no process slot")

    monkeypatch.setattr(subprocess, "Popen", fail)
    job = spawn("json:dumps", what="test")
    assert not job.spawned
    job.send(obj=[1])
    assert job.result() == "[1]"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("in"))


def _audit(p, out, **kw):
    return run_audit(
        network=p["network"], sites=p["sites"], communities=p["communities"],
        boundaries=p["boundaries"], out=out, workers=1, write_maps=False, **kw,
    )  # fmt: skip


def _sheets(path) -> dict[str, list]:
    """Every sheet's values and number formats, without the run's wall times (用时 columns)
    and its date (生成时间)."""
    wb = openpyxl.load_workbook(path)
    got = {}
    for ws in wb.worksheets:
        rows = [[(c.value, c.number_format) for c in r] for r in ws.iter_rows()]
        timed = {i for i, (h, _) in enumerate(rows[0] if rows else []) if str(h).startswith("用时")}
        got[ws.title] = [
            [c for i, c in enumerate(r) if i not in timed] for r in rows if r[0][0] != "生成时间"
        ]
    return got


def test_audit_workbook_from_the_child_is_the_same(inputs, tmp_path, monkeypatch):
    here = _audit(inputs, tmp_path / "here")
    assert report.start_workbook(3) is None  # three counties: written in this process
    sent = []
    from geo import _spawned

    orig = _spawned.Spawned.send

    def spy(self, **kw):
        sent.append(self.spawned)
        return orig(self, **kw)

    monkeypatch.setattr(_spawned.Spawned, "send", spy)
    monkeypatch.setattr(report, "WORKBOOK_CHILD_MIN_COUNTIES", 1)
    child = _audit(inputs, tmp_path / "child")
    assert sent == [True]
    assert here.summary["status"].eq("ok").all() and child.summary["status"].eq("ok").all()
    a, b = _sheets(here.out / "audit.xlsx"), _sheets(child.out / "audit.xlsx")
    assert list(a) == list(b) and len(a["汇总"]) == 4
    for name in a:
        assert a[name] == b[name], name


@pytest.mark.parametrize("child", [False, True])
def test_a_workbook_that_cannot_be_written_is_listed_and_the_rest_written(
    inputs, tmp_path, monkeypatch, child
):
    if child:
        monkeypatch.setattr(report, "WORKBOOK_CHILD_MIN_COUNTIES", 1)
    out = tmp_path / "out"
    (out / "audit.xlsx").mkdir(parents=True)  # a folder in the way: the workbook cannot go there
    t0 = time.time()
    res = _audit(inputs, out)
    failed = res.report["reports_failed"]
    assert [f["file"] for f in failed] == ["audit.xlsx"], failed
    assert "Error" in failed[0]["error"]
    for name in ("summary.csv", "communities.csv", "layers.gpkg", "summary.json"):
        assert (out / name).stat().st_mtime >= t0 - 1, name
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["reports_failed"] == failed
