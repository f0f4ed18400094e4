"""The province's county tasks as a stream (issue 13): each county's audit starts as soon as its
network piece is saved, while this process clips the next ones, instead of after every clip.

:func:`county_tasks` yields the tasks to run (largest piece first, as :func:`iter_networks`
clips them) and keeps the rows of counties that need no run (reused, no network);
:func:`run_tasks` runs the stream on local workers, on Dask, or here, and times the run.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ._county import CountyTask, audit_county
from ._inputs import piece_size

logger = logging.getLogger(__name__)


def county_tasks(
    nets: Iterable[tuple[str, tuple[str, str]]],
    make_task: Callable[[str, tuple[str, str]], CountyTask | dict[str, Any]],
    previous: Callable[[str], dict],
    rows: list[dict],
    on_reused: Callable[[dict], Any] | None = None,
) -> Iterator[CountyTask | None]:
    """The tasks to run, one per county piece of ``nets`` as it comes.

    ``make_task(folder, net)`` gives the county's task, or its error row (no network);
    ``previous(folder)`` its stored result ({} with --force). Error rows and results reused
    (same input key) go to ``rows`` (reused ones to ``on_reused`` too); the other tasks are
    yielded. A ``None`` folder (the network is about to be built: pieces follow) is passed on
    as ``None``.
    """
    for folder, net in nets:
        if folder is None:
            yield None
            continue
        task = make_task(folder, net)
        if isinstance(task, dict):  # no network for this county
            rows.append(task)
            continue
        prev = previous(folder)
        if prev.get("status") == "ok" and prev.get("input_key") == task.input_key:
            rows.append(prev)
            if on_reused is not None:
                on_reused(prev)
        else:
            yield task


def _task_size(task: CountyTask) -> float:
    return float(piece_size(task.network))


def run_tasks(
    tasks: Iterable[CountyTask | None],
    workers: int | None,
    client,
    on_row: Callable[[dict], Any] | None = None,
    stats: dict | None = None,
) -> list[dict]:
    """Every task's row, in completion order. ``tasks`` may be a generator: each task runs as
    soon as it is made. ``stats`` gets ``first_task`` (perf_counter when the first task was
    made), ``end`` and ``slots`` (workers, or Dask threads): see :func:`idle_seconds`. A
    ``None`` in ``tasks`` (more are coming) starts the Dask workers' imports."""
    st = stats if stats is not None else {}
    stream = _stamped(tasks, st)
    if client is not None:
        return _run_dask(stream, client, on_row, st)
    n = workers or os.cpu_count() or 1
    real = (t for t in stream if t is not None)
    # peek one task ahead: a single task runs here, as before streaming, not in a new process
    head = list(itertools.islice(real, 1 if n <= 1 else 2))
    local = itertools.chain(head, real)
    try:
        if n <= 1 or len(head) <= 1:
            st["slots"] = 1
            out = []
            for t in local:
                out.append(audit_county(t))
                if on_row is not None:
                    on_row(out[-1])
            return out
        from ._pool import run_in_workers

        rows = run_in_workers(
            audit_county,
            local,
            n,
            on_done=on_row,
            size=_task_size,
        )
        st["slots"] = min(n, len(rows))  # workers start with their first task
        return rows
    finally:
        st["end"] = time.perf_counter()


def _stamped(tasks: Iterable[CountyTask | None], st: dict) -> Iterator[CountyTask | None]:
    for t in tasks:
        if t is not None:
            st.setdefault("first_task", time.perf_counter())
        yield t


def warm_imports() -> None:
    """Import what a county's audit imports on first use (about 1.5 s of a new worker), so a
    Dask worker does it while the parent builds the network, not in its first county. (Local
    workers start with their first task: see :func:`geo.audit._pool.run_in_workers`.)"""
    import importlib

    for m in ("coverage", "coverage.views", "coverage.isochrones", "optimize", "outputs",
              "maps", "audit._write"):  # fmt: skip
        importlib.import_module(f"geo.{m}")


def _run_dask(stream: Iterator[CountyTask | None], client, on_row, st: dict) -> list[dict]:
    """Submit each task as it comes (the largest piece at the highest priority); Dask retries
    a task once on a lost worker; a task it gives up on becomes its county's error row."""
    import distributed

    done = distributed.as_completed()
    task_of, warm = {}, []
    try:
        st["slots"] = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
    except Exception:  # an old scheduler without the field: idle time unknown
        st["slots"] = 0
    for t in stream:
        if t is None:  # the network is being built: every worker imports meanwhile
            warm = [
                client.submit(warm_imports, pure=False, workers=[w], priority=2**62)
                for w in client.scheduler_info()["workers"]
            ]
            continue
        f = client.submit(audit_county, t, pure=False, retries=1, priority=_task_size(t))
        task_of[f.key] = t
        done.add(f)
    rows = []
    for f in done if task_of else ():
        try:
            rows.append(f.result())
        except Exception as exc:  # KilledWorker after Dask's own retries, a lost worker
            t = task_of[f.key]
            rows.append(
                {
                    "county": t.county,
                    "code": t.code,
                    "folder": t.folder,
                    "status": "error",
                    "error": f"Dask task failed: {type(exc).__name__}: {exc}",
                }
            )
        if on_row is not None:
            on_row(rows[-1])
    st["end"] = time.perf_counter()
    client.cancel(warm)
    return rows


def idle_seconds(rows: list[dict], st: dict) -> float | None:
    """Worker time not spent in county audits between the first task and the last row:
    slots x that wall time - the counties' own seconds (workers' start-up included)."""
    if "first_task" not in st or not st.get("slots"):
        return None
    wall = st["end"] - st["first_task"]
    busy = sum(float(r.get("seconds") or 0.0) for r in rows)
    return round(max(0.0, st["slots"] * wall - busy), 3)


class Preloader:
    """Reads each finished county's files for the combined reports (COUNTY_FILES) in a thread
    of this process while the other counties run, instead of all of them after the last one
    (issue 13: about 3 s of a 103-county province). ``add(row)`` as rows come back;
    ``files()`` waits for the reads and gives ``{(folder, name): frame}``. A file it could not
    read is left out: the reports read it again, and meet its error there as before.
    ``feed(folder, files)`` gets each county's files once read (:func:`geo.audit._book.feed`);
    what it gives back is kept with the files."""

    def __init__(self, out: Path, feed: Callable[[str, dict], Any] | None = None) -> None:
        self.out = out
        self.feed = feed
        self.got: dict[tuple[str, str], Any] = {}
        self.queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._read, name="county-files", daemon=True)
        self.thread.start()

    def add(self, row: dict) -> None:
        if row.get("status") == "ok" and row.get("folder"):
            self.queue.put(str(row["folder"]))

    def _read(self) -> None:
        from ._report import COUNTY_FILES, read_county_file

        while (folder := self.queue.get()) is not None:
            mine: dict[str, Any] = {}
            for name in COUNTY_FILES:
                try:
                    df = read_county_file(self.out, folder, name)
                except Exception as exc:  # read again (and reported) by the reports
                    logger.debug("could not preload %s of %s: %s", name, folder, exc)
                    continue
                if df is not None:
                    self.got[(folder, name)] = mine[name] = df
            if self.feed is not None:
                try:
                    self.got.update(self.feed(folder, mine) or {})
                except Exception as exc:  # the workbook does without it
                    logger.debug("could not hand over %s: %s", folder, exc)

    def files(self) -> dict[tuple[str, str], Any]:
        self.queue.put(None)
        self.thread.join()
        return self.got
