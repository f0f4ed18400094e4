"""Hostile text, faults and bad input (issue 11): paths stay inside --out, inputs are never
overwritten, a tampered cache or a stale result is never trusted, failures exit non-zero with one
line, two runs never share an --out, and workers neither outlive nor sink the audit.

All on small generated inputs (tests/hostile_inputs.py): a street grid and three counties."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import pytest
import shapely
from conftest import ROOT
from helpers import metres_to_lonlat
from hostile_inputs import COUNTIES, audit_args, make_inputs

from geo._errors import InputError
from geo.audit import run_audit
from geo.cli import main


@pytest.fixture
def inputs(tmp_path):
    return make_inputs(tmp_path / "in")


def _audit(p, out, **kw):
    kw.setdefault("workers", 1)
    kw.setdefault("write_maps", False)
    return run_audit(
        network=p["network"],
        sites=p["sites"],
        communities=p["communities"],
        boundaries=kw.pop("boundaries", p["boundaries"]),
        out=out,
        **kw,
    )


def _boundaries(p, rows, path):
    g = gpd.read_file(p["boundaries"]).iloc[: len(rows)].copy()
    g["name"] = [a for a, _ in rows]
    g["adcode"] = [b for _, b in rows]
    g.to_file(path, driver="GeoJSON")
    return path


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert "Traceback" not in err, err
    assert len(errors) == 1, err
    return errors[0]


# --- 2. paths never leave --out ---------------------------------------------------------------


MAX_NAME_BYTES = 255  # ext4, NTFS, APFS


def test_folder_names_are_clean_distinct_and_short():
    from geo._safety import clean_part, folder_names

    pairs = [("江汉 区", ""), ("江汉_区", ""), ("..", ""), (".", ""), ("江汉区", "../../etc")]
    pairs += [("甲区", "1"), ("甲区", "1"), ("A/B", "/tmp/x/PWNED"), ("区" * 84, "420001")]
    pairs += [("ESC\x1b[31m\x0bname", ""), ("\u202eevil", "")]
    names = folder_names(pairs)
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert "/" not in n and "\\" not in n and n not in (".", "..") and not n.startswith(".")
        assert len(n.encode()) <= MAX_NAME_BYTES
        assert not any(ord(c) < 32 or 0x202A <= ord(c) <= 0x202E for c in n)
    assert clean_part("..") == "_" and clean_part("a/../b") == "a_.._b"


def test_county_codes_cannot_write_outside_out(inputs, tmp_path):
    target = tmp_path / "PWNED"
    rows = [("甲区", str(target)), ("..", "../../escape"), ("区" * 84 + "x", "420003")]
    b = _boundaries(inputs, rows, tmp_path / "evil.geojson")
    out = tmp_path / "out"
    before = _files(tmp_path) - _files(out)
    res = _audit(inputs, out, boundaries=b)
    assert res.summary["status"].eq("ok").all(), res.summary["error"].tolist()
    assert not target.exists() and not list(tmp_path.glob("PWNED*"))
    assert not (tmp_path / "escape").exists()
    assert _files(tmp_path) - _files(out) == before  # nothing new outside --out
    folders = [p for p in (out / "counties").iterdir()]
    assert len(folders) == 3
    for f in folders:
        assert len(f.name.encode()) <= MAX_NAME_BYTES
        assert (f / "result.json").exists()


def test_colliding_county_names_get_distinct_folders(inputs, tmp_path):
    b = _boundaries(inputs, [("江汉 区", ""), ("江汉_区", ""), ("..", "")], tmp_path / "c.geojson")
    res = _audit(inputs, tmp_path / "out", boundaries=b)
    folders = sorted(p.name for p in (tmp_path / "out" / "counties").iterdir())
    assert len(folders) == 3, folders
    assert res.summary["status"].eq("ok").all()
    assert res.summary["communities"].sum() == 36  # each county's own rows, none overwritten


# --- 3. inputs are never overwritten ------------------------------------------------------------


def test_outputs_never_overwrite_inputs(inputs, capsys):
    d = inputs["sites"].parent
    snapshot = {p: p.read_bytes() for p in d.iterdir()}
    cov = ["--network", str(inputs["network"]), "--sites", str(inputs["sites"])]
    cov += ["--communities", str(inputs["communities"]), "--no-cache"]
    cases = [
        ["coverage", *cov, "--no-map", "--out", str(d)],
        ["map", *cov, "--offline", "--out", str(inputs["sites"])],
        ["network", "--source", str(inputs["network"]), "--out", str(inputs["network"])],
        audit_args(inputs, d),
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        line = _one_error_line(capsys.readouterr().err)
        assert "refusing to" in line and "input" in line
    assert {p: p.read_bytes() for p in d.iterdir()} == snapshot


# --- 4. tampered cache ----------------------------------------------------------------------------


def test_tampered_cache_is_rebuilt(tmp_path, caplog):
    from geo.config import Config
    from geo.network import Network, build_network

    grid = Network.load_npz(make_inputs(tmp_path / "in")["network"])
    roads = tmp_path / "roads.geojson"
    gpd.GeoDataFrame(geometry=grid.edge_lines(projected=False), crs=4326).to_file(roads)
    cfg = Config(cache_dir=tmp_path / "cache")
    net = build_network(roads, config=cfg)
    entry = next((tmp_path / "cache").glob("*.npz"))
    length = next(k for k in ("edge_length", "length") if hasattr(net, k))
    real = getattr(net, length).copy()

    # 1) rewritten with shortened streets (a "100% covered" cache), no checksum
    with np.load(entry, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays[length] = arrays[length] * 0 + 1.0
    with open(entry, "wb") as fh:
        np.savez(fh, **arrays)
    again = build_network(roads, config=cfg)
    np.testing.assert_allclose(getattr(again, length), real)
    assert "ignoring cache file" in caplog.text

    # 2) one byte flipped inside an array, checksum left in place
    data = bytearray(entry.read_bytes())
    i = data.find(b"\x93NUMPY", data.find(length.encode())) + 200
    data[i] ^= 0xFF
    entry.write_bytes(bytes(data))
    caplog.clear()
    np.testing.assert_allclose(getattr(build_network(roads, config=cfg), length), real)
    assert "checksum" in caplog.text

    # 3) a pickled object array is never loaded
    arrays[length] = np.array([object()] * len(real), dtype=object)
    with open(entry, "wb") as fh:
        np.savez(fh, **arrays)
    np.testing.assert_allclose(getattr(build_network(roads, config=cfg), length), real)


# --- 5. stale results ---------------------------------------------------------------------------


def test_changed_inputs_or_settings_are_recomputed(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = audit_args(inputs, out, "--workers", "1", "-q")
    assert main(argv) == 0
    first = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")

    # same everything: reused, and said so
    assert main(argv) == 0
    assert "沿用上次运行的 3 个区县结果" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["counties_reused"] == 3

    # a slower walk: every county recomputed
    assert main([*argv, "--speed-kmh", "1"]) == 0
    slow = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 0 and doc["walk_speed_kmh"] == 1
    assert (slow["population_covered_15min_share"] < first["population_covered_15min_share"]).all()

    # one community's population changed: only its county recomputed
    c = pd.read_csv(inputs["communities"], encoding="utf-8-sig")
    c.loc[int(np.argmin(c["经度"])), "人口"] += 1
    c.to_csv(inputs["communities"], index=False, encoding="utf-8-sig")
    assert main([*argv, "--speed-kmh", "1"]) == 0
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 2 and doc["counties_run"] == 1

    # a different integrated target: recomputed
    assert main([*argv, "--speed-kmh", "1", "--integrated-target", "3"]) == 0
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 0
    assert all(r["integrated_target"] == 3 for r in doc["rows"])


# --- 6. control characters ----------------------------------------------------------------------


def test_control_characters_never_break_the_audit(inputs, tmp_path):
    c = pd.read_csv(inputs["communities"], encoding="utf-8-sig")
    c.loc[0, "名称"] = "社区\x0b\x1b[2J\x1b[31mRED"
    c.to_csv(inputs["communities"], index=False, encoding="utf-8-sig")
    s = pd.read_csv(inputs["sites"], encoding="utf-8-sig")
    s.loc[0, "名称"] = "站\x1b]0;pwned\x07点"
    s.to_csv(inputs["sites"], index=False, encoding="utf-8-sig")
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "geo", *audit_args(inputs, out, "--workers", "1")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert "\x1b" not in r.stdout + r.stderr and "\x0b" not in r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    for f in ("summary.csv", "summary.json", "layers.gpkg", "rejects.csv", "communities.csv"):
        assert (out / f).exists(), (f, r.stderr)
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["reports_failed"] == [] and r.returncode == 0, r.stderr
    sheets = pd.read_excel(out / "audit.xlsx", sheet_name=None)
    text = " ".join(str(v) for df in sheets.values() for v in df.to_numpy().ravel())
    assert "社区\\x0b\\x1b[2J" in text  # shown, not dropped
    from geo._safety import console

    assert console("a\x1bb\x0bc\u202ed\n") == "a\\x1bb\\x0bc\\u202ed\n"


def test_one_failing_writer_does_not_stop_the_others(inputs, tmp_path, monkeypatch):
    import geo.audit._report as rep

    def boom(*a, **k):
        raise ValueError("simulated writer failure")

    monkeypatch.setattr(rep, "write_excel", boom)
    res = _audit(inputs, tmp_path / "out")
    assert [w["file"] for w in res.report["reports_failed"]] == ["audit.xlsx"]
    for f in ("summary.csv", "summary.json", "layers.gpkg", "rejects.csv"):
        assert (tmp_path / "out" / f).exists()


# --- 7. failed counties ------------------------------------------------------------------------


def test_failed_county_is_excluded_and_exits_3(inputs, tmp_path, monkeypatch, capsys):
    import geo.audit._write as county

    real = county.write_csv

    def full_disk(df, path):
        if "乙区" in str(path) and Path(path).name == "uncovered.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(df, path)

    monkeypatch.setattr(county, "write_csv", full_disk)
    out = tmp_path / "out"
    assert main(audit_args(inputs, out, "--workers", "1", "--speed-kmh", "1")) == 3
    err = capsys.readouterr().err
    assert "1 of 3 counties failed" in err and "乙区" in err
    comm = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    assert set(comm["county"]) == {"甲区", "丙区"}  # the partial CSV of 乙区 is not merged
    xl = pd.read_excel(out / "audit.xlsx", sheet_name=None)
    assert "乙区" not in set(xl["社区"]["区县"])
    summary = xl["汇总"].set_index("区县")
    assert summary.loc["乙区", "状态"] in ("error", "失败")
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [r["county"] for r in doc["counties_failed"]] == ["乙区"]


def test_all_counties_failing_exits_3(inputs, tmp_path, capsys):
    g = gpd.read_file(inputs["boundaries"])
    g["geometry"] = g.geometry.translate(0.5, 0)  # far from the streets and the points
    g.to_file(tmp_path / "far.geojson", driver="GeoJSON")
    p = {**inputs, "boundaries": tmp_path / "far.geojson"}
    assert main(audit_args(p, tmp_path / "out", "--workers", "1")) == 3
    assert "3 of 3 counties failed" in capsys.readouterr().err
    assert (tmp_path / "out" / "summary.json").exists()


# --- 8. lock ---------------------------------------------------------------------------------


def test_second_run_into_same_out_is_refused(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir()
        (out / ".servicecircle.lock").write_text(
            json.dumps({"pid": holder.pid, "host": os.uname().nodename, "started": time.time()})
        )
        assert main(audit_args(inputs, out, "--workers", "1")) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "another servicecircle run" in line and str(holder.pid) in line
        assert not (out / "summary.csv").exists()
        cov = ["coverage", "--network", str(inputs["network"]), "--sites", str(inputs["sites"])]
        cov += ["--communities", str(inputs["communities"]), "--no-map", "--out", str(out)]
        assert main(cov) == 2
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale and taken over
    assert main(audit_args(inputs, out, "--workers", "1")) == 0
    assert not (out / ".servicecircle.lock").exists()
    from geo._safety import OutLock

    with OutLock(out):
        with pytest.raises(InputError, match="another servicecircle run"):
            with OutLock(out):
                pass


# --- 9. workers --------------------------------------------------------------------------------


def _workers(parent: psutil.Process) -> list[psutil.Process]:
    out = []
    for c in parent.children():
        try:
            cmd = " ".join(c.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in cmd and "resource_tracker" not in cmd:
            out.append(c)
    return out


def _start_audit(inputs, out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "geo", *audit_args(inputs, out, "--workers", "2", *extra)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for(fn, timeout=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_killed_worker_county_is_retried(inputs, tmp_path):
    proc = _start_audit(inputs, tmp_path / "out")
    parent = psutil.Process(proc.pid)
    first = _wait_for(lambda: _workers(parent))[0]
    first.kill()  # as the out-of-memory killer would, while it holds a county
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "BrokenProcessPool" not in stderr and "Traceback" not in stderr
    s = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig")
    assert s["status"].eq("ok").all() and sorted(s["attempts"]) == [1, 1, 2]
    assert (tmp_path / "out" / "audit.xlsx").exists()


def test_county_whose_worker_keeps_dying_fails_alone(inputs, tmp_path):
    proc = _start_audit(inputs, tmp_path / "out")
    parent = psutil.Process(proc.pid)
    initial = _wait_for(lambda: w if len(w := _workers(parent)) == 2 else None)
    known = {w.pid for w in initial}
    initial[0].kill()
    # the replacement worker takes the same county first: kill it too
    new = _wait_for(lambda: [w for w in _workers(parent) if w.pid not in known])
    new[0].kill()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr
    s = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig")
    bad = s[s["status"] != "ok"]
    assert len(bad) == 1 and "worker process lost 2 times" in bad["error"].iloc[0]
    assert (s["status"] == "ok").sum() == 2
    for f in ("audit.xlsx", "summary.json", "layers.gpkg"):
        assert (tmp_path / "out" / f).exists()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_die_with_their_parent(inputs, tmp_path, sig):
    proc = _start_audit(inputs, tmp_path / "out")
    parent = psutil.Process(proc.pid)
    workers = _wait_for(lambda: w if len(w := _workers(parent)) == 2 else None)
    pids = [w.pid for w in workers]
    os.kill(proc.pid, sig)
    proc.wait(timeout=10)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10 and not all(_gone(p) for p in pids):
        time.sleep(0.1)
    alive = [p for p in pids if not _gone(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent by 10 s"


# --- 10/12. one-line errors ----------------------------------------------------------------------


def _cov(p, *extra):
    return [
        "coverage",
        "--network",
        str(p["network"]),
        "--sites",
        str(p["sites"]),
        "--communities",
        str(p["communities"]),
        "--no-map",
        "--no-cache",
        *extra,
    ]


def _gaps(p, *extra):
    return ["gaps", *_cov(p)[1:], "--new-sites", "1", *extra]


def _bad_inputs(p, d: Path) -> dict[str, Path]:
    from geo.network import Network

    (d / "bad.osm").write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="abc" lon="114.3"/>'
        '<node id="2" lat="30.5" lon="114.31"/><way id="3"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="residential"/></way></osm>',
        encoding="utf-8",
    )
    (d / "bad.graphml").write_text("this is not xml", encoding="utf-8")
    (d / "bad.npz").write_bytes(b"PK\x03\x04garbage" * 10)
    lines = gpd.GeoDataFrame(
        geometry=Network.load_npz(p["network"]).edge_lines(projected=False), crs=4326
    )
    lines.to_crs(32650).to_file(d / "utm.shp")
    (d / "utm.prj").unlink()
    (d / "adir").mkdir()
    (d / "afile").write_text("x", encoding="utf-8")
    return {k: d / v for k, v in [("osm", "bad.osm"), ("gml", "bad.graphml")]} | {
        "npz": d / "bad.npz",
        "utm": d / "utm.shp",
        "dir": d / "adir",
        "file": d / "afile",
    }


@pytest.mark.parametrize(
    "case, expect",
    [
        ("speed0", "--speed-kmh must be a number greater than zero"),
        ("speed_nan", "--speed-kmh must be"),
        ("grid0", "--grid-spacing-m must be a number greater than zero"),
        ("kindcount", "--min-kind-count takes KIND=N"),
        ("county", "--county matches more than one county"),
        ("osm", "not a readable OSM file"),
        ("utm", "EPSG:4547"),
        ("gml", "not a readable GraphML file"),
        ("npz", "not a readable network .npz file"),
        ("map_dir", "must be a file, but it is a folder"),
        ("cov_file", "must be a folder"),
        ("readonly", "--out"),
        ("audit_speed0", "--speed-kmh must be"),
    ],
)
def test_one_line_errors(inputs, tmp_path, capsys, case, expect):
    bad = _bad_inputs(inputs, tmp_path)
    out = str(tmp_path / "o")
    argv = {
        "speed0": _cov(inputs, "--speed-kmh", "0", "--out", out),
        "speed_nan": _cov(inputs, "--speed-kmh", "nan", "--out", out),
        "grid0": _gaps(inputs, "--grid-spacing-m", "0", "--out", out),
        "kindcount": _gaps(inputs, "--min-kind-count", "integrated=x", "--out", out),
        "county": [
            x
            for x in audit_args(
                {
                    **inputs,
                    "boundaries": _boundaries(
                        inputs,
                        [("江汉区", "1"), ("江夏区", "2"), ("江岸区", "3")],
                        tmp_path / "j.geojson",
                    ),
                },
                Path(out),
            )
            if x != "--all-counties"
        ]
        + ["--county", "江"],
        "osm": _cov({**inputs, "network": bad["osm"]}, "--out", out),
        "utm": _cov({**inputs, "network": bad["utm"]}, "--out", out),
        "gml": _cov({**inputs, "network": bad["gml"]}, "--out", out),
        "npz": _cov({**inputs, "network": bad["npz"]}, "--out", out),
        "map_dir": ["map", *_cov(inputs)[1:-2], "--offline", "--out", str(bad["dir"])],
        "cov_file": _cov(inputs, "--out", str(bad["file"])),
        "readonly": _cov(inputs, "--out", "/proc/servicecircle-test/out"),
        "audit_speed0": audit_args(inputs, Path(out), "--speed-kmh", "0"),
    }[case]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert expect in line, line
    if case == "county":
        assert all(n in line for n in ("江汉区", "江夏区", "江岸区"))
        assert not (tmp_path / "o" / "counties").exists()


def test_verbose_shows_the_traceback(inputs, tmp_path, capsys):
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    argv = _cov({**inputs, "network": tmp_path / "bad.npz"}, "--out", str(tmp_path / "o"), "-v")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error:")


def test_self_intersecting_boundary_is_repaired(inputs, tmp_path, caplog):
    lon, lat = metres_to_lonlat(np.array([0, 1800, 1800, 0]), np.array([0, 1800, 0, 1800]))
    bowtie = shapely.Polygon(list(zip(lon, lat, strict=True)))
    assert not bowtie.is_valid
    gpd.GeoDataFrame({"name": ["bowtie"]}, geometry=[bowtie], crs=4326).to_file(
        tmp_path / "bowtie.geojson", driver="GeoJSON"
    )
    out = tmp_path / "o"
    assert (
        main(_cov(inputs, "--boundary", str(tmp_path / "bowtie.geojson"), "--out", str(out))) == 0
    )
    assert "repaired 1 self-intersecting boundary" in caplog.text
    # in the audit, too
    g = gpd.read_file(inputs["boundaries"])
    g.loc[0, "geometry"] = bowtie
    g.to_file(tmp_path / "b.geojson", driver="GeoJSON")
    res = _audit(inputs, tmp_path / "a", boundaries=tmp_path / "b.geojson")
    assert res.summary["status"].eq("ok").all()


def test_unreachable_scheduler_fails_fast_naming_it(inputs, tmp_path, capsys):
    pytest.importorskip("distributed")
    t0 = time.monotonic()
    rc = main(audit_args(inputs, tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9"))
    assert rc == 2 and time.monotonic() - t0 < 10
    line = _one_error_line(capsys.readouterr().err)
    assert "tcp://127.0.0.1:9" in line and "within 5 s" in line


def test_county_with_a_250_byte_name(inputs, tmp_path):
    name = "区" * 83 + "x"
    assert len(name.encode()) == 250
    b = _boundaries(inputs, [(name, "420001"), *COUNTIES[1:]], tmp_path / "long.geojson")
    res = _audit(inputs, tmp_path / "o", boundaries=b)
    assert res.summary["status"].eq("ok").all()
    assert res.summary["county"].iloc[0] == name


def test_dask_worker_lost_mid_task_is_retried_by_dask(inputs, tmp_path):
    """On Dask, a lost worker's county is rescheduled by Dask (the nanny restarts the worker);
    the audit finishes with every county and its reports. (A regression guard: Dask did this
    before issue 11 too; what is new is that a task Dask gives up on fails only its county.)"""
    import threading

    distributed = pytest.importorskip("distributed")
    me = psutil.Process()
    old = {c.pid for c in me.children(recursive=True)}
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        res: dict = {}

        def run():
            res["r"] = _audit(inputs, tmp_path / "out", scheduler=cluster.scheduler_address)

        t = threading.Thread(target=run)
        t.start()
        _wait_for(
            lambda: any(ts.state == "processing" for ts in list(cluster.scheduler.tasks.values()))
        )
        workers = [w for w in _workers(me) if w.pid not in old]
        assert len(workers) == 1
        workers[0].kill()
        t.join(240)
    assert res["r"].summary["status"].eq("ok").all()
    assert (tmp_path / "out" / "audit.xlsx").exists()
