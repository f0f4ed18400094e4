"""Issue 13: a province's counties stream to the workers as their network pieces are clipped
(the first county runs while the parent clips the next), largest first; results, resumption,
--force and failing clips behave as with every piece clipped first. On the small generated
inputs of tests/hostile_inputs.py (three counties)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hostile_inputs import make_inputs

import geo.audit as audit_pkg
from geo._errors import NetworkError
from geo.audit import _pool, _stream, run_audit
from geo.config import Config
from geo.network import EdgeClipper

SEC = ["seconds", "map", "attempts"]  # wall times (and a pool's attempts): run-specific


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("in"))


def _audit(p, out, **kw):
    kw.setdefault("write_maps", False)
    # a cache of the test's own: county pieces cached by another test are not clipped again
    kw.setdefault("config", Config(cache_dir=Path(out).parent / ".cache").replace(
        minutes=15.0, thresholds_min=(5.0, 10.0, 15.0)))  # fmt: skip
    return run_audit(
        network=p["network"],
        sites=p["sites"],
        communities=p["communities"],
        boundaries=p["boundaries"],
        out=out,
        **kw,
    )


@pytest.fixture
def events(monkeypatch):
    """("clip", county polygon's min x) for every piece clipped, ("run", county) for every
    county task sent to a local worker, submitted to Dask or run in this process."""
    log: list[tuple[str, object]] = []
    clip = EdgeClipper.clip

    def logged_clip(self, area, buffer_m):
        log.append(("clip", round(shapely.bounds(area)[0], 6)))
        return clip(self, area, buffer_m)

    monkeypatch.setattr(EdgeClipper, "clip", logged_clip)
    dispatch = _pool._Pool.dispatch

    def logged_dispatch(self):
        before = {c: cur for c, (_, cur) in self.busy.items()}
        dispatch(self)
        for c, (_, cur) in self.busy.items():
            if cur is not None and before.get(c) != cur:
                log.append(("run", self.tasks[cur].county))

    monkeypatch.setattr(_pool._Pool, "dispatch", logged_dispatch)
    here = _stream.audit_county

    def logged_here(task):
        log.append(("run", task.county))
        return here(task)

    # local workers import the function by name: they run the real one (logged on dispatch)
    logged_here.__module__, logged_here.__qualname__ = here.__module__, here.__qualname__
    monkeypatch.setattr(_stream, "audit_county", logged_here)
    return log


def _kinds(log):
    return [k for k, _ in log]


def _dask(**kw):
    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, **kw
    )


def _last_clip_after_first_run(log):
    kinds = _kinds(log)
    assert kinds.count("clip") == 3, log
    last_clip = len(kinds) - 1 - kinds[::-1].index("clip")
    return kinds.index("run") < last_clip


@pytest.mark.parametrize("workers", [1, 2])
def test_first_county_runs_before_the_last_piece_is_clipped(inputs, tmp_path, events, workers):
    res = _audit(inputs, tmp_path / "out", workers=workers)
    assert res.summary["status"].eq("ok").all()
    assert _last_clip_after_first_run(events), events
    doc = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    st = doc["stage_seconds"]
    assert 0 < st["before_first_task"] and st["workers_idle"] >= 0
    assert st["clip"] == pytest.approx(res.summary["seconds_clip"].sum(), abs=0.01)
    assert (res.summary["seconds_clip"] > 0).all()


def test_first_county_is_submitted_to_dask_before_the_last_clip(
    inputs, tmp_path, events, monkeypatch
):
    distributed = pytest.importorskip("distributed")
    submit = distributed.Client.submit

    def logged_submit(self, func, *a, **kw):
        if a and hasattr(a[0], "county"):  # a county's task
            events.append(("run", a[0].county))
        else:  # the workers' imports while the parent builds the network
            events.append(("warm", func.__name__))
        return submit(self, func, *a, **kw)

    monkeypatch.setattr(distributed.Client, "submit", logged_submit)
    with _dask() as cluster:
        res = _audit(inputs, tmp_path / "out", scheduler=cluster.scheduler_address)
    assert res.summary["status"].eq("ok").all()
    assert _last_clip_after_first_run(events), events
    assert events[:3] == [("warm", "warm_imports")] * 2 + [("clip", events[2][1])]


def _outputs(out: Path) -> dict[str, object]:
    """Every county's files and the combined tables, wall times left out."""
    s = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    s = s.drop(columns=[c for c in s.columns if c.startswith("seconds") or c in SEC])
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("counties/*/*.csv"))}
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = [
        {k: v for k, v in r.items() if not k.startswith("seconds") and k not in SEC}
        for r in doc["rows"]
    ]
    return {"summary": s, "files": files, "rows": rows}


def _same(a: dict, b: dict) -> None:
    pd.testing.assert_frame_equal(a["summary"], b["summary"])
    assert a["files"] == b["files"] and a["rows"] == b["rows"]


def test_streamed_results_equal_clipping_everything_first(inputs, tmp_path, monkeypatch):
    streamed = {}
    streamed["pool"] = _outputs(_audit(inputs, tmp_path / "pool", workers=2).out)
    with _dask() as cluster:
        d = _audit(inputs, tmp_path / "dask", scheduler=cluster.scheduler_address)
    streamed["dask"] = _outputs(d.out)
    # the old order: every piece clipped, then every task made, then run one by one
    orig = audit_pkg.iter_networks
    monkeypatch.setattr(audit_pkg, "iter_networks", lambda *a, **k: iter(list(orig(*a, **k))))
    seq = _outputs(_audit(inputs, tmp_path / "seq", workers=1).out)
    assert seq["summary"]["county"].tolist() == ["甲区", "乙区", "丙区"]
    assert len(seq["files"]) >= 6
    for got in streamed.values():
        _same(got, seq)


def test_resumption_never_clips_again_and_force_redoes_all(inputs, tmp_path, events):
    out = tmp_path / "out"
    _audit(inputs, out, workers=2)
    assert _kinds(events).count("clip") == 3
    events.clear()
    done = {p: p.stat().st_mtime_ns for p in out.glob("counties/*/result.json")}
    res = _audit(inputs, out, workers=2)
    assert events == []  # no piece clipped, no county run
    assert {p: p.stat().st_mtime_ns for p in out.glob("counties/*/result.json")} == done
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 3 and doc["stage_seconds"]["parse"] == 0
    assert (res.summary["seconds_clip"] == 0).all()

    # one county's result gone: only it runs, on its kept piece (no parse, no clip)
    gone = sorted(done)[1]
    gone.unlink()
    res = _audit(inputs, out, workers=2)
    assert _kinds(events) == ["run"] and res.summary["status"].eq("ok").all()
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 2 and doc["counties_run"] == 1
    assert doc["stage_seconds"]["parse"] == 0
    events.clear()

    res = _audit(inputs, out, workers=2, force=True)
    assert sorted(_kinds(events)) == ["clip"] * 3 + ["run"] * 3
    assert _last_clip_after_first_run(events)
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["counties_reused"] == 0 and doc["counties_run"] == 3


@pytest.fixture
def middle_clip_fails(inputs, monkeypatch):
    """The middle county's clip fails (as a county outside the network would)."""
    b = gpd.read_file(inputs["boundaries"])
    bad = b.loc[b["name"] == "乙区"].geometry.iloc[0]
    clip = EdgeClipper.clip

    def failing(self, area, buffer_m):
        if shapely.equals_exact(area, bad, tolerance=1e-9):
            raise NetworkError("no street within the county (test)")
        return clip(self, area, buffer_m)

    monkeypatch.setattr(EdgeClipper, "clip", failing)


@pytest.mark.parametrize("where", ["local", "dask"])
def test_failed_clip_fails_its_county_alone(inputs, tmp_path, middle_clip_fails, where):
    if where == "dask":
        with _dask() as cluster:
            res = _audit(inputs, tmp_path / "out", scheduler=cluster.scheduler_address)
    else:
        res = _audit(inputs, tmp_path / "out", workers=2)
    s = res.summary.set_index("county")
    assert s.loc["乙区", "status"] == "error"
    assert "no network for this county" in s.loc["乙区", "error"]
    assert "no street within the county (test)" in s.loc["乙区", "error"]
    assert (s.loc[["甲区", "丙区"], "status"] == "ok").all()
    assert res.summary["county"].tolist() == ["甲区", "乙区", "丙区"]
    assert (tmp_path / "out" / "audit.xlsx").exists()


def test_waiting_tasks_run_largest_first():
    """One worker: the first task goes at once; the others wait and go largest first (a
    retried task would go before them)."""
    tasks = [[("id", i), ("size", s)] for i, s in enumerate([1, 5, 3, 9])]
    rows = _pool.run_in_workers(dict, iter(tasks), 1, size=lambda t: dict(t)["size"])
    assert [r["id"] for r in rows] == [0, 3, 1, 2]


def test_clips_go_largest_county_first(tmp_path):
    from helpers import grid_network, metres_to_lonlat

    from geo.audit._inputs import iter_networks
    from geo.config import Config

    net = grid_network(n=51, spacing=100.0, seed=1)
    net.save_npz(tmp_path / "net.npz")
    boxes = {"small": (0, 600), "large": (600, 3600), "mid": (3600, 4800)}
    geoms = []
    for x0, x1 in boxes.values():
        lon, lat = metres_to_lonlat([x0, x1], [0.0, 3000.0])
        geoms.append(shapely.box(lon[0], lat[0], lon[1], lat[1]))
    b = gpd.GeoDataFrame({"folder": list(boxes)}, geometry=geoms, crs=4326)
    clipper = EdgeClipper(net)
    sizes = [clipper.estimate(g) for g in geoms]
    assert sizes[1] > sizes[2] > sizes[0] > 0
    assert clipper.estimate(shapely.Polygon()) == 0
    order = [f for f, _ in iter_networks(tmp_path / "net.npz", b, tmp_path / "o", Config())]
    assert order == ["large", "mid", "small"]


def _reports(out: Path) -> dict[str, object]:
    """The combined report files: CSV bytes (summary.csv without its wall times, as in
    :func:`_outputs`) and every layer of layers.gpkg."""
    got: dict[str, object] = {
        p.name: p.read_bytes() for p in sorted(out.glob("*.csv")) if p.name != "summary.csv"
    }
    got["summary"] = _outputs(out)["summary"]
    for layer in gpd.list_layers(out / "layers.gpkg")["name"]:
        got[f"gpkg:{layer}"] = gpd.read_file(out / "layers.gpkg", layer=layer)
    return got


@pytest.mark.parametrize("workers", [1, 2])
def test_reports_from_files_read_during_the_run_are_the_same(
    inputs, tmp_path, monkeypatch, workers
):
    """The county files read while the other counties run (Preloader) make the same combined
    reports as reading them all after the last county."""
    seen = {}
    write = audit_pkg.write_reports

    def spy(*a, **kw):
        seen["pre"] = a[-1]
        return write(*a, **kw)

    monkeypatch.setattr(audit_pkg, "write_reports", spy)
    _audit(inputs, tmp_path / "pre", workers=workers, write_maps=True)
    names = {n for _, n in seen["pre"]}
    assert {"communities", "uncovered", "sites", "isochrones"} <= names
    assert {f for f, _ in seen["pre"]} == {p.name for p in (tmp_path / "pre/counties").iterdir()}
    monkeypatch.setattr(_stream.Preloader, "add", lambda self, row: None)
    _audit(inputs, tmp_path / "after", workers=workers, write_maps=True)
    assert seen["pre"] == {}
    a, b = _reports(tmp_path / "pre"), _reports(tmp_path / "after")
    assert a.keys() == b.keys() and "gpkg:isochrones_15min" in a
    for k in a:
        if isinstance(a[k], pd.DataFrame):
            pd.testing.assert_frame_equal(a[k], b[k])
        else:
            assert a[k] == b[k], k


def test_network_cache_is_written_after_the_last_clip(inputs, tmp_path, events, monkeypatch):
    """A source network not cached yet is parsed without the cache and stored after the last
    county's piece (nothing waits for it then); the stored entry is what build_network loads
    next time, equal to a fresh build."""
    import numpy as np

    import geo.network as gn
    from geo.config import Config

    store = gn.store_network

    def logged_store(net, entry, **kw):
        events.append(("store", entry.name))
        return store(net, entry, **kw)

    monkeypatch.setattr(gn, "store_network", logged_store)
    graphml = tmp_path / "network.graphml"  # a file the cache keeps (an .npz is not cached)
    gn.save_graphml(gn.build_network(inputs["network"]), graphml)
    inputs = {**inputs, "network": graphml}
    cfg = Config(cache_dir=tmp_path / "cache").replace(minutes=15.0, thresholds_min=(5.0, 10.0))
    entry = gn.cache_entry(inputs["network"], config=cfg)
    assert entry is not None and not entry.exists()
    res = _audit(inputs, tmp_path / "out", workers=1, config=cfg)
    assert res.summary["status"].eq("ok").all()
    kinds = _kinds(events)
    assert kinds.count("store") == 1 and kinds.index("store") > len(kinds) - 1 - kinds[::-1].index(
        "clip"
    ), events
    assert kinds.index("run") < kinds.index("store")  # the first county ran before the store
    assert entry.exists()
    loads = []
    monkeypatch.setattr(gn._cache, "load", lambda p, _l=gn._cache.load: loads.append(p) or _l(p))
    cached = gn.build_network(inputs["network"], config=cfg)
    fresh = gn.build_network(inputs["network"], config=cfg.replace(use_cache=False))
    assert loads == [entry]
    for k in ("node_id", "lon", "lat", "edge_u", "edge_v", "length", "geom_lon", "edge_name"):
        assert np.array_equal(getattr(cached, k), getattr(fresh, k)), k
    timeless = [{k: v for k, v in n.meta.items() if k != "build_seconds"} for n in (cached, fresh)]
    assert timeless[0] == timeless[1]  # islands dropped (build_for_clipping) recorded the same
    # a second audit (--force) loads the entry instead of parsing, and stores nothing
    events.clear()
    _audit(inputs, tmp_path / "out", workers=1, config=cfg, force=True)
    assert "store" not in _kinds(events) and loads[-1] == entry


def test_a_new_audit_folder_takes_the_pieces_from_the_cache(inputs, tmp_path, monkeypatch):
    """An audit of the same network and counties into another folder neither parses nor clips:
    the pieces come from the network cache (checksummed); a damaged one is clipped again, and
    --force clips every piece."""
    import geo.audit._inputs as inp
    import geo.network as gn
    from geo.config import Config

    graphml = tmp_path / "network.graphml"
    gn.save_graphml(gn.build_network(inputs["network"]), graphml)
    inputs = {**inputs, "network": graphml}
    cfg = Config(cache_dir=tmp_path / "cache").replace(minutes=15.0, thresholds_min=(5.0, 10.0))
    first = _audit(inputs, tmp_path / "a", workers=1, config=cfg)
    pieces = sorted((tmp_path / "cache" / "pieces").glob("*.npz"))
    assert len(pieces) == len(first.summary) > 1

    built = []
    real = inp._clipper
    monkeypatch.setattr(inp, "_clipper", lambda *a: built.append(a) or real(*a))
    second = _audit(inputs, tmp_path / "b", workers=1, config=cfg)
    assert built == []  # no parse, no clip
    cols = ["county", "status", "communities_covered_10min", "population_covered_10min",
            "uncovered_communities"]  # fmt: skip
    pd.testing.assert_frame_equal(first.summary[cols], second.summary[cols])
    for f in (tmp_path / "a" / "networks").glob("*.npz"):
        assert f.read_bytes() == (tmp_path / "b" / "networks" / f.name).read_bytes()

    with open(pieces[0], "r+b") as fh:  # one cached piece damaged: clipped again, with a warning
        fh.seek(200)
        fh.write(b"\0" * 8)
    third = _audit(inputs, tmp_path / "c", workers=1, config=cfg)
    assert len(built) == 1
    pd.testing.assert_frame_equal(first.summary[cols], third.summary[cols])
    _audit(inputs, tmp_path / "c", workers=1, config=cfg, force=True)
    assert len(built) == 2


def test_a_cache_that_cannot_take_pieces_warns_once(inputs, tmp_path, caplog):
    from geo.config import Config

    blocked = tmp_path / "cache"
    blocked.mkdir()
    (blocked / "pieces").write_text("a file where the pieces' folder would go")
    cfg = Config(cache_dir=blocked).replace(minutes=15.0, thresholds_min=(5.0, 10.0))
    res = _audit(inputs, tmp_path / "out", workers=1, config=cfg)
    assert res.summary["status"].eq("ok").all() and len(res.summary) > 1
    said = [r for r in caplog.records if "could not keep the network pieces" in r.getMessage()]
    assert len(said) == 1
