"""What a county's audit depends on: its clipped network piece (built once from the source, then
reused while its key holds) and the key of its inputs, so that a finished county is reused only
when nothing it depends on has changed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from .._errors import NetworkError
from .._memory import big_arrays_in_heap
from .._safety import inside
from ..config import Config
from ._county import CountyTask

#: Bump when a county's stored result would differ for the same inputs (new columns, fixes), so
#: that results from older versions are recomputed instead of reused.
RESULT_SCHEMA_VERSION = 2


def _blake(*parts: object) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x1f")
    return h.hexdigest()


def _source_hash(source) -> str:
    from ..network import file_hash

    p = Path(str(source))
    return file_hash(p) if p.is_file() else str(source)


def prepare_networks(
    source,
    boundaries: gpd.GeoDataFrame,
    out: Path,
    cfg: Config,
    force: bool = False,
    timings: dict | None = None,
    **build_kw,
) -> dict[str, tuple[str, str]]:
    """Build the source network once, then save each county's clipped piece (plus buffer).

    ``boundaries`` needs a ``folder`` column (from :func:`geo._safety.folder_names`). Returns
    ``{folder: (npz path, key)}`` where ``key`` hashes the source file's content, the build
    options and the county's polygon: a piece is rebuilt whenever its key changes. A county
    whose clip fails maps to ``("error: ...", "")``. :func:`iter_networks` gives the same
    pieces one by one, as they are made.
    """
    return dict(iter_networks(source, boundaries, out, cfg, force, timings, **build_kw))


def iter_networks(
    source,
    boundaries: gpd.GeoDataFrame,
    out: Path,
    cfg: Config,
    force: bool = False,
    timings: dict | None = None,
    announce: bool = False,
    **build_kw,
) -> Iterator[tuple[Any, Any]]:
    """``(folder, (npz path, key))`` of every county, each as soon as its piece exists (issue
    13: a county's audit can start while the next piece is clipped).

    Pieces whose key holds come first, without building the source network (those in this
    folder, then those that the network cache keeps from an audit into another folder, unless
    ``force``); then the network
    is built and indexed once and the other pieces are clipped and saved, the largest county
    first (:meth:`geo.network.EdgeClipper.estimate`, so that a big county never starts last).
    ``timings`` gets ``parse``, ``index`` and ``clip`` (seconds per folder) as they happen.
    With ``announce``, ``(None, None)`` comes just before the network is built: pieces will
    follow (the workers can get ready meanwhile).
    """
    from ..io import atomic_path, write_json
    from ..network import seal, store_piece

    if str(source) == "online":
        for r in boundaries.itertuples():
            yield r.folder, ("online", _blake("online", shapely.to_wkb(r.geometry)))
        return
    src = _source_hash(source)  # read once: the pieces' keys and the cache entry
    ready, todo = _pieces_kept(src, boundaries, out, cfg, force, build_kw)
    yield from ready
    if cfg.use_cache and not force:  # pieces clipped by an earlier audit into another folder
        todo = yield from _cached_pieces(todo, cfg)
    if not todo:
        return
    if announce:
        yield None, None
    t0 = time.perf_counter()
    clipper, t1, store = _clipper(source, src, boundaries, cfg, build_kw)
    tm = timings if timings is not None else {}
    tm["parse"] = round(t1 - t0, 3)
    tm["index"] = round(time.perf_counter() - t1, 3)
    tm.setdefault("clip", {})
    todo.sort(key=lambda t, c=clipper: -c.estimate(t[1]))  # stable: ties keep the order
    keep_pieces = cfg.use_cache
    for name, geom, p, key in todo:
        t = time.perf_counter()
        try:
            piece = clipper.clip(geom, cfg.clip_buffer_m)
        except NetworkError as exc:
            yield name, (f"error: {exc}", "")
            continue
        with atomic_path(p) as tmp:
            piece.save_npz(tmp)
            if cfg.use_cache:
                seal(tmp)
        write_json({"key": key}, p.with_suffix(".json"))
        if keep_pieces:  # until the cache cannot take one (warned once)
            keep_pieces = store_piece(p, cfg.cache_dir, key)
        tm["clip"][name] = round(time.perf_counter() - t, 3)
        yield name, (str(p), key)
    del clipper  # its index (a quarter of a gigabyte on a province) before the store
    if store is not None:  # the workers are busy with the counties meanwhile
        store()


def _pieces_kept(src: str, boundaries: gpd.GeoDataFrame, out: Path, cfg: Config, force: bool,
                 build_kw: dict) -> tuple[list, list]:  # fmt: skip
    """The pieces in ``out`` whose key holds (``(folder, (npz path, key))``), and the others
    to make (``(folder, geometry, npz path, key)``); ``src`` is the source's hash; with
    ``force``, none is kept."""
    ready, todo = [], []
    for r in boundaries.itertuples():
        p = inside(out, "networks", f"{r.folder}.npz")
        key = _blake(src, build_kw, cfg.clip_buffer_m, shapely.to_wkb(r.geometry))
        kf = p.with_suffix(".json")
        old = json.loads(kf.read_text(encoding="utf-8")).get("key") if kf.exists() else None
        if force or not p.exists() or old != key:
            todo.append((r.folder, r.geometry, p, key))
        else:
            ready.append((r.folder, (str(p), key)))
    return ready, todo


def _cached_pieces(todo: list, cfg: Config) -> Generator[tuple[Any, Any], None, list]:
    """Yield the pieces of ``todo`` that the network cache holds (an audit of the same source
    and county into another folder clipped them: same key), each copied into this folder once
    its checksum holds; return the others, to clip. A new audit of a province audited before
    then neither parses nor clips (issue 13)."""
    from ..io import atomic_path, write_json
    from ..network import cached_piece

    rest = []
    for name, geom, p, key in todo:
        data = cached_piece(cfg.cache_dir, key)
        if data is None:
            rest.append((name, geom, p, key))
            continue
        with atomic_path(p) as tmp:
            tmp.write_bytes(data)
        write_json({"key": key}, p.with_suffix(".json"))
        yield name, (str(p), key)
    return rest


def _clipper(source, src: str, boundaries: gpd.GeoDataFrame, cfg: Config, build_kw: dict):
    """The source network's :class:`~geo.network.EdgeClipper`, the perf_counter when the
    network was ready (before its index), and what stores the network in the cache after the
    last piece (None: nothing to store)."""
    from ..network import (
        EdgeClipper,
        ProjectedWithoutCRS,
        build_for_clipping,
        build_network,
        cache_entry,
        cached_network,
        source_kind,
        store_network,
    )

    # the source hashed once: a cached network is loaded, any other is built without the
    # cache and stored after the last piece, not before the first
    entry = cache_entry(source, config=cfg, source_hash=src, **build_kw)
    full = cached_network(entry) if entry is not None else None
    later = entry is not None and full is None
    keep = None  # the edges kept of a network built here (small pieces are left out of clips)
    with big_arrays_in_heap():  # the parse's big temporaries reuse memory (geo._memory)
        try:
            if full is None and source_kind(source) in ("osm", "graphml", "lines"):
                full, keep = build_for_clipping(source, config=cfg, **build_kw)
            elif full is None:
                full = build_network(source, config=cfg.replace(use_cache=False), **build_kw)
        except ProjectedWithoutCRS as exc:  # suggest the EPSG code for the counties' longitude
            raise exc.with_longitude(float(boundaries.geometry.union_all().centroid.x)) from None
        built_at = time.perf_counter()
        clipper = EdgeClipper(full, keep=keep)  # edge index built once for every county
    if not later:
        return clipper, built_at, None
    net, e = full, entry
    return (
        clipper,
        built_at,
        lambda: store_network(net, e, edges=keep),
    )


def piece_size(network: str) -> int:
    """A county's size for ordering its task (largest first): its network piece's bytes, 0
    when it has no file (``online``)."""
    try:
        return os.path.getsize(network)
    except OSError:
        return 0


def _frame_bytes(df: pd.DataFrame) -> bytes:
    """A stable digest of a (Geo)DataFrame's rows, geometry included."""
    if not len(df):
        return b"empty" + ",".join(map(str, df.columns)).encode()
    plain = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    h = pd.util.hash_pandas_object(plain.astype(str), index=False).to_numpy().tobytes()
    geom = b"".join(shapely.to_wkb(df.geometry.to_numpy())) if "geometry" in df else b""
    return ",".join(map(str, plain.columns)).encode() + h + geom


def _input_key(task: CountyTask, network_key: str) -> str:
    """Hash of everything a county's result depends on (see RESULT_SCHEMA_VERSION): its rows,
    its network piece, its polygon, every parameter, and the content of files named by them."""
    frames, params = [], {}
    for f in dataclasses.fields(task):
        v = getattr(task, f.name)
        if f.name in ("network", "out_dir", "input_key", "folder", "config", "background"):
            continue
        if isinstance(v, pd.DataFrame):
            frames.append(_frame_bytes(v))
        elif f.name == "boundary":
            frames.append(shapely.to_wkb(v))
        else:
            params[f.name] = v
    for k, v in dict(task.demand or {}).items():  # e.g. a buildings file: its content counts
        if isinstance(v, (str, Path)) and Path(v).is_file():
            params[f"demand.{k}.content"] = _source_hash(v)
        elif isinstance(v, pd.DataFrame):  # buildings / main roads read into frames: all rows
            frames.append(k.encode() + _frame_bytes(v))
    params["demand"] = {
        k: v for k, v in dict(task.demand or {}).items() if not isinstance(v, pd.DataFrame)
    }
    if task.background:  # only the map depends on them: their names and content count
        params["background"] = [(str(p), _source_hash(p)) for p in task.background]
    skip = ("verbose", "cache_dir", "use_cache")
    cfg = {f.name: getattr(task.config, f.name) for f in dataclasses.fields(task.config)}
    cfg = {k: v for k, v in cfg.items() if k not in skip}
    return _blake(RESULT_SCHEMA_VERSION, network_key, params, cfg, *frames)
