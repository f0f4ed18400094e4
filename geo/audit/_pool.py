"""Run county tasks in local worker processes that die with their parent, and survive the loss
of one worker.

Each worker is a long-lived ``spawn`` process fed one task at a time through a pipe, so the
parent always knows which county a worker was running. When a worker disappears (the
out-of-memory killer, a crash), its county is retried once on a fresh worker, then reported as
failed; the other counties carry on. Workers watch their parent: on Linux the kernel kills them
when the parent dies (``PR_SET_PDEATHSIG``), and everywhere a watchdog thread exits the worker
within a second of the parent's death.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from typing import Any

logger = logging.getLogger(__name__)

#: How many times a county runs before a lost worker counts as the county's failure.
MAX_ATTEMPTS = 2

#: glibc's own ceilings for its sliding thresholds (64-bit): memory blocks above the mmap
#: threshold are mapped from the kernel one by one; the heap is trimmed above the trim one.
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MALLOC_TUNED: list[bool] = []


def undo_malloc_trim() -> bool:
    """Give glibc's allocator its usual thresholds back in a worker started with
    ``MALLOC_TRIM_THRESHOLD_`` set (Dask's nanny sets 65,536 by default, to hand memory back to
    the system). That setting also pins the mmap threshold at 128 KiB, so every NumPy
    temporary above 128 KiB is mapped and unmapped again, page by page: a county audit took
    20-35% longer (a 5-county province: 18.4 s -> 22.5 s). Sets the mmap threshold to 32 MiB
    (glibc's own ceiling) and the trim threshold to twice that, once per process; returns
    whether it did. Linux/glibc only; elsewhere, or without the variable, nothing changes."""
    if _MALLOC_TUNED or not os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return False
    _MALLOC_TUNED.append(True)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_MAX)
        )
    except (OSError, AttributeError):  # not glibc
        return False
    if ok:
        logger.info(
            "MALLOC_TRIM_THRESHOLD_=%s in this worker: malloc thresholds set back to glibc's "
            "(mmap %d MiB), as small ones slow the county audits down",
            os.environ["MALLOC_TRIM_THRESHOLD_"],
            MMAP_THRESHOLD_MAX >> 20,
        )
    return ok


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when ``parent_pid`` does (Linux prctl, plus a watchdog)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


#: What a new worker runs first: ask the kernel for SIGKILL when the parent dies *before*
#: importing anything heavy (geopandas & co. take seconds on a busy machine), then serve tasks.
_BOOT = """
import ctypes, os, signal
try:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
except (OSError, AttributeError):
    pass
if os.getppid() != parent_pid:
    os._exit(1)
from geo.audit._pool import _worker
_worker(conn, parent_pid, func_name)
"""


def _worker(conn: Connection, parent_pid: int, func_name: str) -> None:
    import importlib

    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    module, _, name = func_name.partition(":")
    func = getattr(importlib.import_module(module), name)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        i, task = msg
        try:
            row = func(task)
        except Exception as exc:  # func should not raise; if it does, the county fails alone
            row = {
                "county": getattr(task, "county", ""),
                "code": getattr(task, "code", ""),
                "folder": getattr(task, "folder", ""),
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}",
            }
        conn.send((i, row))


def _lost_row(task: Any, exitcode: int | None, attempts: int) -> dict[str, Any]:
    how = (
        f"killed by signal {-exitcode}"
        if exitcode is not None and exitcode < 0
        else f"exit code {exitcode}"
    )
    hint = " (SIGKILL: often the out-of-memory killer)" if exitcode == -signal.SIGKILL else ""
    return {
        "county": task.county,
        "code": task.code,
        "folder": getattr(task, "folder", ""),
        "status": "error",
        "error": f"worker process lost {attempts} times ({how}{hint}); re-run this county "
        "with fewer --workers or more memory",
        "attempts": attempts,
    }


def run_in_workers(
    func: Callable[[Any], dict[str, Any]],
    tasks: Iterable[Any],
    n_workers: int,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    size: Callable[[Any], float] | None = None,
) -> list[dict[str, Any]]:
    """``[func(t) for t in tasks]`` in ``n_workers`` processes, in completion order.

    ``tasks`` may be a generator that makes each task as it goes (issue 13: the audit clips a
    county's network piece, then yields its task): a task is dispatched as soon as it arrives
    and a worker is free, and between two tasks taken from ``tasks`` the finished workers get
    new ones, so no worker waits for more than the making of one task. Workers are started as
    tasks arrive, at most ``n_workers``. Among the waiting tasks the largest by ``size`` goes
    first (a retried one before all). ``func`` must not raise (county audits return an error
    row instead). A task whose worker is lost is retried once; then its row says so with
    ``status = "error"``. (Workers are never started before their task: one lost holds a
    county, and is retried as such.)
    """
    pool = _Pool(func, n_workers, on_done, size)
    incoming = iter(tasks)
    try:
        while True:
            task = next(incoming, _END) if incoming is not None else _END
            if task is _END:
                incoming = None
            else:
                pool.add(task)
            pool.dispatch()
            if incoming is not None:  # take what is done now, then make the next task
                pool.collect(wait(pool.waitables(), 0))
            elif len(pool.results) < len(pool.tasks):
                pool.collect(wait(pool.waitables()))
            else:
                break
    finally:
        pool.shutdown()
    for r in pool.results:
        r.setdefault("attempts", 1)
    return pool.results


_END = object()


class _Pool:
    """The workers of :func:`run_in_workers`: who runs which task, what is left, what came back."""

    def __init__(
        self,
        func: Callable[[Any], dict[str, Any]],
        n_workers: int,
        on_done: Callable[[dict[str, Any]], None] | None,
        size: Callable[[Any], float] | None = None,
    ) -> None:
        import multiprocessing as mp

        self.ctx = mp.get_context("spawn")
        self.func_name = f"{func.__module__}:{func.__qualname__}"
        self.n_workers, self.on_done, self.size = n_workers, on_done, size
        self.tasks: list[Any] = []
        self.sizes: list[float] = []
        self.pending: list[int] = []
        self.retry: deque[int] = deque()
        self.attempts: list[int] = []
        self.results: list[dict[str, Any]] = []
        self.busy: dict[Connection, tuple[Any, int | None]] = {}  # conn -> (process, task index)

    def add(self, task: Any) -> None:
        """A new task: waits for a worker, started now if fewer than ``n_workers`` run."""
        self.tasks.append(task)
        self.sizes.append(float(self.size(task)) if self.size is not None else 0.0)
        self.attempts.append(0)
        self.pending.append(len(self.tasks) - 1)
        idle = sum(1 for _, cur in self.busy.values() if cur is None)
        if idle < self._waiting() and len(self.busy) < self.n_workers:
            self.spawn()

    def _waiting(self) -> int:
        return len(self.pending) + len(self.retry)

    def _next(self) -> int:
        """The task to run next: a retried one, else the largest waiting (the first on ties)."""
        if self.retry:
            return self.retry.popleft()
        best = max(range(len(self.pending)), key=lambda k: (self.sizes[self.pending[k]], -k))
        return self.pending.pop(best)

    def spawn(self) -> None:
        parent, child = self.ctx.Pipe()
        env = {"conn": child, "parent_pid": os.getpid(), "func_name": self.func_name}
        # target=exec (a builtin): unpickling it in the child imports nothing from geo
        p = self.ctx.Process(target=exec, args=(_BOOT, env), daemon=True, name="county-worker")
        p.start()
        child.close()
        self.busy[parent] = (p, None)

    def waitables(self) -> list[Any]:
        return list(self.busy) + [p.sentinel for p, _ in self.busy.values()]

    def finish(self, row: dict[str, Any]) -> None:
        self.results.append(row)
        if self.on_done is not None:
            self.on_done(row)

    def dispatch(self) -> None:
        """Give each idle worker the next pending task."""
        for conn, (p, cur) in list(self.busy.items()):
            if cur is None and self._waiting():
                i = self._next()
                self.attempts[i] += 1
                self.busy[conn] = (p, i)
                try:
                    conn.send((i, self.tasks[i]))
                except (BrokenPipeError, OSError):
                    pass  # the worker is gone: its sentinel reports it in collect()

    def collect(self, ready: list[Any]) -> None:
        """Take the rows that came back; retry or fail the task of a worker that died."""
        for conn, (p, cur) in list(self.busy.items()):
            got = (conn in ready or p.sentinel in ready) and self._receive(conn, p)
            if p.sentinel in ready and not p.is_alive():
                p.join()
                conn.close()
                del self.busy[conn]
                if cur is not None and not got:
                    self._lost(cur, p.exitcode)
                if self._waiting() and len(self.busy) < self.n_workers:
                    self.spawn()

    def _receive(self, conn: Connection, p: Any) -> bool:
        """Every row waiting on ``conn``; True when there was one."""
        got = False
        try:
            while conn.poll():
                i, row = conn.recv()
                row["attempts"] = self.attempts[i]
                self.finish(row)
                self.busy[conn] = (p, None)
                got = True
        except (EOFError, OSError):
            pass
        return got

    def _lost(self, i: int, exitcode: int | None) -> None:
        county = self.tasks[i].county
        if self.attempts[i] < MAX_ATTEMPTS:
            logger.warning(
                "worker for county %s was lost (exit code %s); retrying it", county, exitcode
            )
            self.retry.append(i)
        else:
            logger.error("worker for county %s was lost again; marking it failed", county)
            self.finish(_lost_row(self.tasks[i], exitcode, self.attempts[i]))

    def shutdown(self) -> None:
        """Ask every worker to stop; kill the ones still alive after 5 s."""
        for conn in self.busy:
            try:
                conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for p, _ in self.busy.values():
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
