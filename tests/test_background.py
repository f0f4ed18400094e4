"""Outputs written by forked child processes (geo._background, issue 13): results and errors
come back, nothing is left running, and the files are the same as when written in sequence."""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import sys
import threading
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import grid_network, random_points

from geo import _background, _maps_job, outputs
from geo._errors import InputError, ServiceCircleError
from geo.cli import main
from geo.config import Config
from geo.coverage import compute_coverage
from geo.network import save_graphml
from geo.outputs import write_coverage_outputs

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")


@pytest.fixture
def forking(monkeypatch) -> list[int]:
    """The pids of the children forked during the test. Other tests in this process leave
    idle daemon threads (Dask's offload pool), and can_fork() then refuses, as it should in the
    command; these tests check the forked path itself, so they fork anyway."""
    monkeypatch.setattr(_background, "can_fork", lambda: True)
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


def _reaped(pids: list[int]) -> bool:
    """Every child forked here has been waited for (no zombie, none still running)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return bool(pids)


def _raise_input_error(path: str) -> None:
    raise InputError("cannot write here", file=path, fix="choose another --out")


class _Unpicklable(Exception):
    def __init__(self, a, b) -> None:  # pickling calls cls(*args): one argument fails
        super().__init__(f"{a} and {b}")
        self.lock = threading.Lock()


def _raise_unpicklable() -> None:
    raise _Unpicklable("one", "two")


def _add(a: int, b: int = 0) -> tuple[int, int]:
    return a + b, os.getpid()


@needs_fork
def test_child_returns_the_result_from_another_process(forking):
    job = _background.start(_add, 2, b=3, what="sum")
    assert job.forked
    value, pid = job.result()
    assert value == 5 and pid != os.getpid()
    assert _reaped(forking)


@needs_fork
def test_waiting_job_gets_its_input_and_a_cancelled_one_ends_quietly(forking):
    job = _background.start(_add, 2, wait_input=True, prepare=lambda: None)
    job.send({"b": 40})
    assert job.result()[0] == 42
    idle = _background.start(_add, 1, wait_input=True)
    idle.close()  # this process stopped before the map existed: the child writes nothing
    assert idle.result() is None
    assert _reaped(forking)


@needs_fork
def test_errors_in_the_child_are_raised_here_with_their_message(forking):
    job = _background.start(_raise_input_error, "/x/coverage.xlsx")
    with pytest.raises(ServiceCircleError, match="cannot write here.*choose another --out"):
        job.result()
    job = _background.start(_raise_unpicklable)
    with pytest.raises(RuntimeError, match="_Unpicklable: one and two"):
        job.result()
    job = _background.start(_add, 1, prepare=lambda: 1 / 0)  # an error while preparing
    with pytest.raises(ZeroDivisionError):
        job.result()
    assert _reaped(forking)


class _Recorder:
    """A writer that gets its input in parts: what ``early`` saw, then every input."""

    def __init__(self) -> None:
        self.early: list[list[str]] = []

    def receive(self, **part) -> None:
        self.early.append(sorted(part))

    def finish(self, **inputs) -> tuple[list[list[str]], list[str], int]:
        return self.early, sorted(inputs), os.getpid()


def _timeout(*_) -> None:
    raise TimeoutError("send() waited for the busy child")


@needs_fork
def test_input_in_parts_reaches_early_and_never_blocks_this_process(forking):
    gate_r, gate_w = os.pipe()

    def busy() -> None:  # the child is busy (importing) until this process has sent a part
        os.read(gate_r, 1)  # far larger than a pipe holds

    rec = _Recorder()
    job = _background.start(rec.finish, wait_input=True, prepare=busy, early=rec.receive)
    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(30)  # a send that waits for the child would wait forever: fail instead
    try:
        job.send({"big": b"x" * 4_000_000, "a": 1}, last=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.write(gate_w, b"1")
    job.send({"b": 2})
    early, names, pid = job.result()
    assert early == [["a", "big"]] and names == ["a", "b", "big"] and pid != os.getpid()
    here = _background.start(rec.finish, wait_input=True, early=rec.receive, parallel=False)
    here.send({"a": 1}, last=False)
    here.send({"b": 2})
    assert here.result()[:2] == ([], ["a", "b"])  # here, nothing runs meanwhile
    stopped = _background.start(rec.finish, wait_input=True, early=rec.receive)
    stopped.send({"a": 1}, last=False)
    stopped.close()  # this process stopped before the last part: the child writes nothing
    assert stopped.result() is None
    for fd in (gate_r, gate_w):
        os.close(fd)
    assert _reaped(forking)


@needs_fork
def test_a_big_part_is_handed_over_while_the_child_reads_nothing(forking, monkeypatch):
    """The parts lie in a file in memory the child shares; the pipe says only where: a send
    of megabytes returns even while the child's reader is held (a pipe holds 64 KB)."""
    gate_r, gate_w = os.pipe()
    read = _background._Parts._read

    def held(self, *fds) -> None:  # in the child: read nothing until the gate opens
        os.read(gate_r, 1)
        read(self, *fds)

    monkeypatch.setattr(_background._Parts, "_read", held)
    rec = _Recorder()
    job = _background.start(rec.finish, wait_input=True, early=rec.receive)
    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(20)
    try:
        job.send({"big": b"x" * 8_000_000}, last=False)
        job.send({"more": np.arange(1_000_000)})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.write(gate_w, b"1")
    assert job.result()[:2] == ([["big"]], ["big", "more"])
    for fd in (gate_r, gate_w):
        os.close(fd)
    assert _reaped(forking)


def test_with_another_thread_running_the_writer_runs_here():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not _background.can_fork()
        job = _background.start(_add, 1, b=1)
        assert not job.forked and job.result() == (2, os.getpid())
        waiting = _background.start(_add, 1, wait_input=True)
        waiting.send({"b": 2})  # runs here, at send
        assert waiting.result()[0] == 3
    finally:
        stop.set()
        t.join()
    job = _background.start(_add, 1, parallel=False)
    assert not job.forked


def _run(tmp_path, name: str, parallel: bool, early_maps: bool = False):
    net = grid_network(8, spacing=150.0)
    rng = np.random.default_rng(3)
    sites = random_points(net, 6, rng, kind=["station"] * 6)
    sites["site_id"] = [f"S{i}" for i in range(len(sites))]
    comms = random_points(net, 40, rng, population=rng.integers(100, 900, 40))
    comms["community_id"] = [f"C{i}" for i in range(len(comms))]
    res = compute_coverage(net, sites, comms, config=Config(use_cache=False))
    out = tmp_path / name
    maps = outputs.start_maps() if early_maps else None  # as the command: before the run
    write_coverage_outputs(res, out, map_kwargs={"lang": "zh", "scenario": None},
                           workbook="coverage.xlsx", parallel=parallel,
                           maps_job=maps)  # fmt: skip
    return out


def _cells(path):
    wb = openpyxl.load_workbook(path)
    cells = {}
    for ws in wb.worksheets:
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        cells[ws.title] = [r for r in rows if r[0] not in ("生成时间", "Generated")]
    return cells


@needs_fork
@pytest.mark.parametrize("early_maps", [False, True])
def test_parallel_outputs_are_the_sequential_ones(forking, tmp_path, early_maps):
    seq = _run(tmp_path, "seq", parallel=False)
    par = _run(tmp_path, "par", parallel=True, early_maps=early_maps)
    files = sorted(p.name for p in seq.iterdir())
    assert files == sorted(p.name for p in par.iterdir())  # no temporary file left over
    assert {"coverage.xlsx", "map.png", "map.html", "summary.json"} <= set(files)
    for name in files:
        a, b = (seq / name).read_bytes(), (par / name).read_bytes()
        if name == "coverage.xlsx":
            assert _cells(seq / name) == _cells(par / name)
            assert len(zipfile.ZipFile(par / name).namelist()) > 3
        elif name == "map.html":  # folium numbers its elements at random, run to run
            ids = re.compile(rb"[0-9a-f]{32}")
            assert ids.sub(b"x", a) == ids.sub(b"x", b)
        else:
            assert a == b, name
    s = json.loads((par / "summary.json").read_text(encoding="utf-8"))
    assert s["map"]["file"] == "map.html" and s["map"]["png"]["file"] == "map.png"
    assert _reaped(forking)


def _cli_args(tmp_path) -> list[str]:
    net = grid_network(6, spacing=120.0)
    save_graphml(net, tmp_path / "g.graphml")
    rng = np.random.default_rng(0)
    pick = rng.choice(net.lon.size, 12, replace=False)
    pd.DataFrame({"name": [f"站{i}" for i in range(3)], "kind": "爱心驿站",
                  "lon": net.lon[pick[:3]], "lat": net.lat[pick[:3]]}).to_csv(
        tmp_path / "s.csv", index=False)  # fmt: skip
    pd.DataFrame({"name": [f"社区{i}" for i in range(9)], "population": 1000,
                  "lon": net.lon[pick[3:]] + 0.0003, "lat": net.lat[pick[3:]]}).to_csv(
        tmp_path / "c.csv", index=False)  # fmt: skip
    return ["coverage", "--network", str(tmp_path / "g.graphml"), "--sites",
            str(tmp_path / "s.csv"), "--communities", str(tmp_path / "c.csv"), "--no-cache",
            "--crs", "wgs84", "--out", str(tmp_path / "out")]  # fmt: skip


@needs_fork
def test_cli_writes_the_workbook_in_a_child_and_stops_on_its_error(
    forking, tmp_path, monkeypatch, capsys
):
    import geo.report_xlsx as rx

    real = rx.write_workbook
    pids = tmp_path / "pids.txt"

    def spy(*args, **kw):
        pids.write_text(f"{os.getpid()} {os.nice(0)}")
        return real(*args, **kw)

    monkeypatch.setattr(rx, "write_workbook", spy)
    args = _cli_args(tmp_path)
    assert main(args) == 0
    pid, niceness = map(int, pids.read_text().split())
    assert pid != os.getpid()  # written by another process
    assert niceness == min(os.nice(0) + outputs.WORKBOOK_NICE, 19)  # gives way to the map
    assert (tmp_path / "out" / "coverage.xlsx").stat().st_size > 0
    assert (tmp_path / "out" / "map.png").stat().st_size > 0

    def broken(tables, path, **kw):
        raise InputError("the disk refused the workbook", file=path, fix="free some space")

    monkeypatch.setattr(rx, "write_workbook", broken)
    out2 = tmp_path / "out2"
    assert main([*args[:-1], str(out2)]) == 2
    err = capsys.readouterr().err
    assert "the disk refused the workbook" in err and "free some space" in err
    assert not (out2 / "coverage.xlsx").exists() and not (out2 / "summary.json").exists()
    assert not list(out2.glob(".*"))  # no temporary file, no lock left behind
    assert _reaped(forking)


@needs_fork
def test_map_background_read_by_a_child_is_the_same(forking, tmp_path):
    import argparse

    from geo.commands._views import background, start_background
    from geo.demo import demo_pbf
    from geo.network import build_network

    net = build_network(demo_pbf(), config=Config(use_cache=False))
    a = argparse.Namespace(background=None)
    job = start_background(net, a)
    assert job.forked
    got = job.result()
    want = background(net, a)
    assert len(want) > 100 and set(want["bg"]) >= {"water", "park"}
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry"))
    )
    assert got.crs == want.crs
    assert list(got.geometry.to_wkb()) == list(want.geometry.to_wkb())
    assert _reaped(forking)


def _niceness() -> int:
    return os.nice(0)


@needs_fork
def test_a_nice_job_runs_at_a_lower_priority_and_this_process_does_not(forking):
    here = os.nice(0)
    job = _background.start(_niceness, nice=5, what="niceness")
    assert job.forked and job.result() == min(here + 5, 19)
    assert _background.start(_niceness, what="niceness").result() == here
    assert os.nice(0) == here
    assert _reaped(forking)


class _Recording(_background.Job):
    """A maps' job run here that keeps what it was sent."""

    def __init__(self) -> None:
        writer = _maps_job._Maps()
        super().__init__(writer.write, (), {}, wait_input=True, what="maps")
        self.sent: list[dict] = []

    def send(self, inputs, *, last: bool = True) -> None:
        self.sent.append(inputs)
        super().send(inputs, last=last)


def test_the_maps_job_gets_the_run_without_the_reach_it_never_uses(tmp_path):
    net = grid_network(6, spacing=150.0)
    rng = np.random.default_rng(5)
    sites = random_points(net, 4, rng, kind=["station"] * 4)
    comms = random_points(net, 20, rng, population=rng.integers(100, 900, 20))
    res = compute_coverage(net, sites, comms, config=Config(use_cache=False))
    assert res._cache  # the redundancy's reach, kept for the isochrones
    job = _Recording()
    write_coverage_outputs(res, tmp_path / "o", map_kwargs={"lang": "zh", "scenario": None},
                           maps_job=job)  # fmt: skip
    run = job.sent[0]["res"]
    assert run._cache == {} and run.communities is res.communities  # no copy of the tables
    assert res._cache  # the caller's run keeps it
    assert (tmp_path / "o" / "map.png").exists()


def test_map_png_is_finished_from_the_main_level_alone(tmp_path):
    """The maps' job finishes map.png as soon as the main level's walking areas come (the
    page draws its own): the same file as drawn at the end with every level."""
    net = grid_network(7, spacing=150.0)
    rng = np.random.default_rng(9)
    sites = random_points(net, 5, rng, kind=["station"] * 5)
    comms = random_points(net, 30, rng, population=rng.integers(100, 900, 30))
    res = outputs.with_metrics(compute_coverage(net, sites, comms, config=Config(use_cache=False)))
    main: list = []
    iso = res.isochrones(on_level=lambda lv, f: main.append(f) if lv == res.config.main_level
                         else None)  # fmt: skip
    kw = {"lang": "zh", "scenario": None}
    for name in ("early", "end"):
        (tmp_path / name).mkdir()
        run = {"res": res, "out": tmp_path / name, "map_kwargs": kw, "proposal": None,
               "views": None}  # fmt: skip
        job = _maps_job._Maps()
        job.early(**run)
        if name == "early":
            job.early(main_isochrones=main[0])
            assert (tmp_path / name / "map.png").exists()  # before the other levels came
        info = job.write(iso)
        assert info["png"]["file"] == "map.png"
    assert (tmp_path / "early" / "map.png").read_bytes() == (
        tmp_path / "end" / "map.png"
    ).read_bytes()


_PREPARED: list[bool] = []


def _note_collector() -> None:
    _PREPARED.append(gc.isenabled())


def _collector_states() -> tuple[list[bool], bool]:
    return list(_PREPARED), gc.isenabled()


@needs_fork
def test_the_child_prepares_with_the_collector_off(forking):
    """prepare (the child's imports) runs with no garbage collection; the writer with it."""
    job = _background.start(_collector_states, wait_input=True, prepare=_note_collector)
    job.send({})
    assert job.result() == ([False], True)
    assert gc.isenabled() and _PREPARED == []  # this process: unchanged
