"""Write one output file in a fresh Python process (spawned, not forked) while this one goes on.

:mod:`geo._background` forks, which is safe only while no other thread runs; an audit's parent
has threads (a Dask client, the local pool's feeder, the reports' preloader), so its reports
were written one after another after the last county. :func:`spawn` starts a new interpreter
at once (its imports run while the counties do); :meth:`Spawned.send` hands it the writer's
keyword arguments, pickled through its standard input, and :meth:`Spawned.result` waits for the
writer's return value or raises its exception, also pickled. The pipes are private to this
process and its child: nothing else can write what the child unpickles.

When a child cannot be started (no process slot, no interpreter), the writer runs in this
process at :meth:`~Spawned.send`, as it did before. A child that never gets its input (this
process stopped on an error) ends without writing anything.

Run as ``python -m geo._spawned module:function [module to import first]`` by :func:`spawn`
only.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["Spawned", "spawn"]


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class Spawned:
    """A writer in a spawned child (or, when none could be started, run here at ``send``)."""

    def __init__(
        self, target: str, *, what: str, prepare: str | None = None, part: str | None = None
    ) -> None:
        self.target = target
        self.part_target = part
        #: The keys of the parts the writer got (:meth:`part`).
        self.parts_sent: set[Any] = set()
        self.what = what
        self._value: Any = None
        self._done = False
        self._proc: subprocess.Popen | None = None
        here = str(Path(__file__).resolve().parents[1])  # the directory holding this ``geo``
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [here, *filter(None, [os.environ.get("PYTHONPATH")])])}  # fmt: skip
        args = [sys.executable, "-m", "geo._spawned", target, prepare or "", part or ""]
        try:
            self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          env=env)  # fmt: skip
        except OSError as exc:
            logger.info("could not start a process for %s (%s); writing it here", what, exc)

    @property
    def spawned(self) -> bool:
        """Whether the writer runs in a child process."""
        return self._proc is not None

    def part(self, payload: Any, key: Any = None) -> None:
        """Hand the child one part of its input before :meth:`send`: ``part`` (see
        :func:`spawn`) runs on it there at once. ``key`` goes to :attr:`parts_sent` when it
        was handed over; a part the child cannot take is left out (the writer does without)."""
        if self.part_target is None or self._done:
            return
        if self._proc is None:
            try:
                _resolve(self.part_target)(payload)
            except Exception as exc:
                logger.debug("%s: part not taken (%s)", self.what, exc)
                return
        else:
            assert self._proc.stdin is not None
            try:
                pickle.dump((_PART, payload), self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:  # result() tells what happened
                logger.debug("%s: could not send a part (%s)", self.what, exc)
                return
        self.parts_sent.add(key)

    def send(self, **kw: Any) -> None:
        """Give the writer its keyword arguments: the child starts writing (or it runs here)."""
        if self._proc is None:
            self._value = _resolve(self.target)(**kw)
            self._done = True
            return
        assert self._proc.stdin is not None
        try:
            pickle.dump(kw, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.close()
        except (BrokenPipeError, OSError) as exc:  # the child died first: result() says how
            logger.debug("%s: could not send the input (%s)", self.what, exc)

    def result(self) -> Any:
        """What the writer returned; raises its exception, or RuntimeError when the child
        ended without an answer (killed, out of memory)."""
        if self._proc is None:
            if not self._done:
                raise RuntimeError(f"{self.what}: result() before send()")
            return self._value
        assert self._proc.stdout is not None
        data = self._proc.stdout.read()
        code = self._proc.wait()
        self._proc = None
        self._done = True
        try:
            status, value = pickle.loads(data)
        except Exception:
            raise RuntimeError(
                f"the process writing {self.what} ended without an answer (exit code {code})"
            ) from None
        if status == "error":
            raise value
        self._value = value
        return value

    def close(self) -> None:
        """End a child whose result was not asked for (it has written nothing)."""
        if self._proc is not None:
            for f in (self._proc.stdin, self._proc.stdout):
                if f is not None and not f.closed:
                    f.close()  # end-of-file: a child still waiting for its input exits
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


def spawn(
    target: str, *, what: str, prepare: str | None = None, part: str | None = None
) -> Spawned:
    """Start a child that will run ``target`` (``"module:function"``) on the keyword arguments
    given to :meth:`Spawned.send`. ``prepare``: a module the child imports while it waits;
    ``part``: the function (``"module:function"``) the child runs on each
    :meth:`Spawned.part` as it comes. ``what`` names the output in messages."""
    return Spawned(target, what=what, prepare=prepare, part=part)


#: Marks a part (:meth:`Spawned.part`) in the child's input.
_PART = "geo._spawned:part"


def _input(part: str) -> Any:
    """The writer's keyword arguments, after running ``part`` on each part before them."""
    take = _resolve(part) if part else None
    while True:
        msg = pickle.load(sys.stdin.buffer)
        if not (isinstance(msg, tuple) and len(msg) == 2 and msg[0] == _PART):
            return msg
        try:
            if take is not None:
                take(msg[1])
        except Exception as exc:  # the writer does without it
            logger.warning("%s: %s", part, exc)


def _child(target: str, prepare: str = "", part: str = "") -> int:
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a writer's prints must not mix with the answer
    if prepare:
        importlib.import_module(prepare)
    try:
        kw = _input(part)
    except EOFError:  # the parent stopped before sending anything: write nothing
        return 0
    try:
        answer: tuple[str, Any] = ("ok", _resolve(target)(**kw))
    except Exception as exc:
        answer = ("error", exc)
    try:
        blob = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle: its type and message
        blob = pickle.dumps(("error", RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")))
    out.write(blob)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:4]))
