"""Write one output file in a forked child process while this process goes on (command line).

The machine a county runs on has two cores or more, and a coverage run's outputs are
independent once the tables exist: the workbook needs only the CSV tables, the PNG only the
map's layers. :func:`start` forks a child that writes one of them; :meth:`Job.result` waits for
it and returns what the writer returned, or raises the writer's own exception (so a bad input
still stops the command with its message and exit code 2).

The child is forked only where that is safe: on Linux, with no other thread running in this
process (a lock held by another thread at the fork would stay locked in the child forever).
Anywhere else, or when the fork fails, the writer simply runs in this process, at the same point
as before. The child never returns into the caller's code: it ends with :func:`os._exit`, so
it runs no ``finally`` block, lock release or ``atexit`` handler of the command.

A job may wait for its input (``wait_input=True``): the child starts at once, runs ``prepare``
(e.g. imports matplotlib) while this process computes, and then waits until :meth:`Job.send`
gives it the rest of its keyword arguments (pickled into an anonymous in-memory file the child
shares, :func:`os.memfd_create`, the pipe carrying only where each part lies: a part of
megabytes is handed over at once, however busy the child is). A job that never gets its
input (this process stopped on an error) ends without writing anything.

A job may also get its input in parts: ``send(part, last=False)`` hands the child a part as
soon as it exists (``early(**part)`` runs on it in the child, e.g. to draw what needs no
isochrones) and the last ``send`` the rest. So a job can start before its input exists at
all (the command line starts the maps' child before loading the network: its imports run
meanwhile). A thread of the child reads the parts as they come, so this process never waits
on a full pipe while the child is busy.

A job whose output nobody waits for first (the workbook, while this process builds the
isochrones the map needs) may run at a lower priority (``nice``): on a busy two-core machine
the work the command's end waits for then gets the cores first, and the job uses what is left.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import queue
import struct
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from typing import Any

from ._errors import ServiceCircleError
from ._memory import imports_uncollected

logger = logging.getLogger(__name__)

__all__ = ["Job", "can_fork", "start"]

_OK, _ERROR, _CANCELLED = "ok", "error", "cancelled"
#: this process's ends of the pipes of jobs still running: a child forked later closes them, so
#: that closing one here is seen by the child it belongs to (end-of-file), not kept open by another
_OPEN_FDS: set[int] = set()


def can_fork() -> bool:
    """Whether a writer may run in a forked child here: Linux, and no other thread running."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def start(
    fn: Callable[..., Any],
    /,
    *args: Any,
    parallel: bool = True,
    wait_input: bool = False,
    prepare: Callable[[], object] | None = None,
    early: Callable[..., object] | None = None,
    what: str = "output",
    nice: int = 0,
    **kw: Any,
) -> Job:
    """Run ``fn(*args, **kw)`` in a forked child when ``parallel`` and :func:`can_fork`, else
    in this process (at once, or at the last :meth:`Job.send` when ``wait_input``).

    ``what`` names the output in messages (``coverage.xlsx``, ``map.png``). ``nice``: the
    child runs this much lower in the scheduler's priority (:func:`os.nice`; 0: the same).
    ``early(**part)`` runs in the child on each part sent with ``last=False`` (not when the
    writer runs here: nothing would run meanwhile).
    """
    if parallel and can_fork():
        try:
            return _Forked(fn, args, kw, wait_input=wait_input, prepare=prepare, early=early,
                           what=what, nice=nice)  # fmt: skip
        except OSError as exc:  # no memory or process slot for a child: write it here
            logger.info("could not start a process for %s (%s); writing it here", what, exc)
    return Job(fn, args, kw, wait_input=wait_input, what=what)


class Job:
    """A writer run in this process (the sequential fallback); see :func:`start`."""

    #: whether the writer runs in a child process
    forked = False

    def __init__(self, fn, args, kw, *, wait_input: bool, what: str) -> None:
        self.what = what
        self._call = (fn, args, kw)
        self._inputs: dict[str, Any] = {}
        self._value: Any = None
        self._done = False
        if not wait_input:
            self.send({})

    def send(self, inputs: dict[str, Any], *, last: bool = True) -> None:
        """Give a ``wait_input`` job (part of) the rest of its keyword arguments; the last part
        runs it (here)."""
        self._inputs.update(inputs)
        if last:
            fn, args, kw = self._call
            self._value = fn(*args, **kw, **self._inputs)
            self._done = True

    def result(self) -> Any:
        """What the writer returned (raises its exception)."""
        if not self._done:
            raise RuntimeError(f"{self.what}: result() before send()")
        return self._value

    def close(self) -> None:
        """Reap the child of a job whose result was not asked for (nothing to do here)."""


class _Forked(Job):
    """A writer in a forked child; results and exceptions come back pickled through a pipe."""

    forked = True

    def __init__(self, fn, args, kw, *, wait_input: bool, prepare, early, what: str,
                 nice: int) -> None:  # fmt: skip
        self.what = what
        self._done = False
        self._value = None
        self._input_w: int | None = None
        self._input_fh: Any = None
        self._store: int | None = None  # the in-memory file the input's parts go to
        self._stored = 0  # its length so far
        in_r = -1
        if wait_input:
            in_r, self._input_w = os.pipe()
            self._store = _memory_file()
        out_r, out_w = os.pipe()
        _flush()  # or text buffered here would be written twice, once by the child
        try:
            pid = os.fork()
        except OSError:
            for fd in (in_r, self._input_w, self._store, out_r, out_w):
                if fd is not None and fd >= 0:
                    os.close(fd)
            raise
        if pid == 0:  # the child: never returns
            _child(fn, args, kw, (in_r, self._store), self._input_w, out_r, out_w,
                   (prepare, early), nice)  # fmt: skip
        self.pid = pid
        os.close(out_w)
        if in_r >= 0:
            os.close(in_r)
        self._out_r: int | None = out_r
        _OPEN_FDS.update(fd for fd in (out_r, self._input_w, self._store) if fd is not None)

    def send(self, inputs: dict[str, Any], *, last: bool = True) -> None:
        if self._input_w is None:
            raise RuntimeError(f"{self.what}: send() to a job that takes no more input")
        if self._input_fh is None:
            self._input_fh = os.fdopen(self._input_w, "wb")
        data = pickle.dumps((last, inputs), protocol=pickle.HIGHEST_PROTOCOL)
        assert self._store is not None
        at, self._stored = self._stored, self._stored + len(data)
        _pwrite_all(self._store, data, at)
        try:
            self._input_fh.write(struct.pack("<QQ", at, len(data)))  # where the part lies
            self._input_fh.flush()
        except BrokenPipeError:  # the child already ended (an error in prepare): result() says
            last = True
        if last:
            self._close_input()

    def _close_input(self) -> None:
        fd, self._input_w = self._input_w, None
        fh, self._input_fh = self._input_fh, None
        store, self._store = self._store, None
        if store is not None:  # the child keeps its own descriptor until it has read all
            _OPEN_FDS.discard(store)
            os.close(store)
        if fd is None:
            return
        _OPEN_FDS.discard(fd)
        try:
            if fh is not None:
                fh.close()
            else:
                os.close(fd)
        except BrokenPipeError:
            pass

    def result(self) -> Any:
        if self._input_w is not None:
            self.close()
            raise RuntimeError(f"{self.what}: result() before send()")
        if not self._done:
            self._join()
        return self._value

    def close(self) -> None:
        """Cancel a job still waiting for its input, and reap the child (no zombie)."""
        if self._input_w is not None:
            self._close_input()  # the child reads end-of-file and ends without writing
        if not self._done:
            try:
                self._join()
            except BaseException as exc:  # this process's own error comes first
                logger.debug("%s: %s", self.what, exc)

    def _join(self) -> None:
        fd, self._out_r = self._out_r, None
        data = b""
        if fd is not None:
            _OPEN_FDS.discard(fd)
            with os.fdopen(fd, "rb") as fh:
                data = fh.read()
        _, status = os.waitpid(self.pid, 0)
        self._done = True
        code = os.waitstatus_to_exitcode(status)
        try:
            kind, value = pickle.loads(data)
        except Exception:  # killed before it could answer
            raise RuntimeError(
                f"the process writing {self.what} stopped without an answer (exit code {code})"
            ) from None
        if kind == _ERROR:
            raise value
        self._value = value


def _child(fn, args, kw, input_fds: tuple[int, int | None], in_w: int | None, out_r: int,
           out_w: int, hooks, nice: int) -> None:  # fmt: skip
    """Run in the forked child: prepare, wait for the input, write, answer, ``os._exit``."""
    prepare, early = hooks
    in_r, store = input_fds
    code = 0
    try:
        if nice > 0:
            os.nice(nice)  # lowering one's own priority is always allowed
        gc.freeze()  # what the parent made is never collected here: no pass walks it again
        os.close(out_r)
        if in_w is not None:
            os.close(in_w)
        for fd in _OPEN_FDS:  # other jobs' pipes: theirs to close
            os.close(fd)
        answer: tuple[str, Any] = (_OK, None)
        try:
            parts = _Parts(in_r, store) if in_r >= 0 else None  # read from now on
            if prepare is not None:
                with imports_uncollected():  # prepare imports what the writer needs
                    prepare()
            inputs = _inputs(parts, early) if parts is not None else {}
            if inputs is None:  # the parent stopped before sending it all: nothing to write
                answer = (_CANCELLED, None)
            else:
                answer = (_OK, fn(*args, **kw, **inputs))
        except BaseException as exc:  # every error goes back to the parent
            code = 1
            answer = (_ERROR, _portable(exc))
        with os.fdopen(out_w, "wb") as fh:
            fh.write(_dumps(answer))
        _flush()
    finally:
        os._exit(code)


class _Parts:
    """The parts of a job's input, as they come: the parent's pipe says where each lies in the
    in-memory file (offset and length); a thread of the child reads them, so a part's pickle
    is read however busy the child is."""

    def __init__(self, fd: int, store: int | None) -> None:
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, args=(fd, store), daemon=True).start()

    def _read(self, fd: int, store: int | None) -> None:
        try:
            with os.fdopen(fd, "rb") as fh:
                while store is not None and len(head := fh.read(16)) == 16:
                    at, size = struct.unpack("<QQ", head)
                    self._queue.put(_pread_all(store, size, at))
        finally:
            if store is not None:
                os.close(store)
            self._queue.put(None)  # end of input

    def next(self) -> bytes | None:
        """The next part (pickled), or None at the end of the input."""
        return self._queue.get()


def _memory_file() -> int:
    """A descriptor of an anonymous file in memory (Linux), else of an unnamed temporary file;
    a forked child shares it."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("servicecircle-input")
    with tempfile.TemporaryFile() as fh:
        return os.dup(fh.fileno())


def _pwrite_all(fd: int, data: bytes, at: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n


def _pread_all(fd: int, size: int, at: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = os.pread(fd, size, at)
        if not chunk:
            raise EOFError("the input's part is shorter than announced")
        chunks.append(chunk)
        size, at = size - len(chunk), at + len(chunk)
    return b"".join(chunks)


def _inputs(parts: _Parts, early) -> dict[str, Any] | None:
    """Every part of the input, ``early`` run on each part but the last; None when the input
    ended before its last part (the parent stopped)."""
    inputs: dict[str, Any] = {}
    while (raw := parts.next()) is not None:
        last, part = pickle.loads(raw)
        inputs.update(part)
        if last:
            return inputs
        if early is not None:
            early(**part)
    return None


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling with the same type and message, else an error of the
    same family (ServiceCircleError keeps exit code 2, OSError keeps its file and reason)
    carrying the message; the child's traceback goes along as a note (shown with ``-v``)."""
    tb = "".join(traceback.format_exception(exc)).rstrip()
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is not type(exc) or str(back) != str(exc):
            raise TypeError("not the same exception after pickling")
    except Exception:  # unpicklable or lossy: rebuild a plain one
        back = _plain(exc)
    back.add_note(f"(in the process writing the output, pid {os.getpid()})\n{tb}")
    return back


def _plain(exc: BaseException) -> BaseException:
    msg = str(exc)
    if isinstance(exc, ServiceCircleError):
        return ServiceCircleError(msg)
    if isinstance(exc, OSError):
        return OSError(exc.errno, exc.strerror or msg, exc.filename)
    if isinstance(exc, KeyboardInterrupt):
        return KeyboardInterrupt()
    return RuntimeError(f"{type(exc).__name__}: {msg}")


def _dumps(answer: tuple[str, Any]) -> bytes:
    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a result that cannot travel back
        err = RuntimeError(f"the output was written but its result cannot be returned: {exc}")
        return pickle.dumps((_ERROR, err))


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
