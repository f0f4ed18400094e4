"""Safe output paths, input protection, a run lock and console escaping (issue 11).

* :func:`clean_part` / :func:`folder_names` build file and folder names from data strings
  (county names, codes): no separators, no ``..``, no control characters, at most 255 bytes,
  and distinct names for distinct counties.
* :func:`inside` checks that a path resolves inside ``--out``; every writer builds its paths
  through it.
* :func:`refuse_overwrite` stops a run that would write over one of its own input files.
* :class:`OutLock` keeps two runs from writing into one ``--out`` at the same time.
* :func:`console` escapes control characters (``\\v``, ESC...) before text reaches a terminal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import time
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ._errors import InputError

logger = logging.getLogger(__name__)

#: Longest file or folder name most filesystems accept, in bytes (ext4, NTFS, APFS).
MAX_NAME_BYTES = 255
#: Longest name built from data: room is left for suffixes (``.npz``, ``.json``) and for the
#: temporary names of atomic writes (``.<name>.npz.XXXXXXXX.npz``).
MAX_DATA_NAME_BYTES = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f\\/:*?"<>|\s\u200b-\u200f\u202a-\u202e\u2066-\u2069]+')
_SHAPE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _short_hash(*parts: object) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=4).hexdigest()


def _clip_bytes(text: str, limit: int) -> str:
    b = text.encode("utf-8")
    if len(b) <= limit:
        return text
    return b[:limit].decode("utf-8", errors="ignore")


def clean_part(text: object, *, fallback: str = "_", max_bytes: int = MAX_DATA_NAME_BYTES) -> str:
    """One path component made from a data string.

    Separators, reserved characters (``\\ / : * ? " < > |``), whitespace, control and
    direction-override characters become ``_``; leading and trailing dots and underscores go
    (so ``..`` and ``.`` cannot name a parent folder); the result is at most ``max_bytes``
    bytes of UTF-8 (200, well within the 255-byte limit of filesystems), with a short hash of the original when it had to be shortened.
    """
    raw = "" if text is None else str(text)
    s = _UNSAFE.sub("_", unicodedata.normalize("NFKC", raw)).strip("._ ")
    s = re.sub(r"_+", "_", s) or fallback
    if len(s.encode("utf-8")) > max_bytes:
        tag = "~" + _short_hash(raw)
        s = _clip_bytes(s, max_bytes - len(tag)) + tag
    return s


def folder_name(county: object, code: object = "") -> str:
    """``<code>_<county>`` (or just the county when it has no code), from cleaned parts."""
    name = clean_part(county, fallback="county")
    c = clean_part(code, fallback="") if code not in (None, "") else ""
    if c and c != name:
        c = _clip_bytes(c, 64)
        name = f"{c}_{name}"
    return clean_part(name, fallback="county")


def folder_names(pairs: Iterable[tuple[object, object]]) -> list[str]:
    """Distinct folder names for ``(county, code)`` pairs, in order.

    Names that clean to the same text (``江汉 区`` and ``江汉_区``, or one county listed twice)
    get a short hash of the original, then a counter, so that no county writes into another's
    folder. Comparison ignores case, as Windows and macOS filesystems do.
    """
    pairs = list(pairs)
    base = [folder_name(n, c) for n, c in pairs]
    count: dict[str, int] = {}
    for b in base:
        count[b.lower()] = count.get(b.lower(), 0) + 1
    out: list[str] = []
    seen: set[str] = set()
    for (n, c), b in zip(pairs, base, strict=True):
        name = b
        if count[b.lower()] > 1:
            tag = "~" + _short_hash(n, c)
            name = _clip_bytes(b, MAX_DATA_NAME_BYTES - len(tag) - 4) + tag
        k, i = name, 2
        while k.lower() in seen:
            k = f"{name}~{i}"
            i += 1
        seen.add(k.lower())
        out.append(k)
    return out


def inside(out: str | Path, *parts: str) -> Path:
    """``out / parts...``, checked to resolve inside ``out`` (symbolic links followed).

    Raises
    ------
    InputError
        When the path would leave ``out`` (``..``, an absolute part, a link pointing out).
    """
    root = Path(os.path.realpath(out))
    p = Path(out).joinpath(*parts)
    real = Path(os.path.realpath(p))
    if real != root and root not in real.parents:
        raise InputError(
            "refusing to write outside the output folder",
            file=str(p),
            value=str(real),
            fix=f"output names must stay inside --out {out}; remove '..', '/' or links from "
            "the names",
        )
    return p


def _expand(inputs: Iterable[object]) -> list[Path]:
    files = []
    for x in inputs:
        if x is None or not str(x):
            continue
        p = Path(str(x))
        files.append(p)
        if p.suffix.lower() == ".shp":
            files += [p.with_suffix(ext) for ext in _SHAPE_SIDECARS]
    return [Path(os.path.realpath(p)) for p in files if p.exists()]


def refuse_overwrite(
    targets: Iterable[str | Path],
    inputs: Iterable[object],
    *,
    flag: str = "--out",
    folders: Iterable[str | Path] = (),
) -> None:
    """Stop before any output in ``targets`` (or under ``folders``) would replace an input.

    Raises
    ------
    InputError
        Naming the input and the option to change.
    """
    ins = _expand(inputs)
    for t in targets:
        real = Path(os.path.realpath(t))
        for i in ins:
            if real == i:
                raise InputError(
                    "refusing to overwrite an input file",
                    file=str(t),
                    fix=f"choose another {flag} (this path is one of the run's inputs)",
                )
    for f in folders:
        root = Path(os.path.realpath(f))
        for i in ins:
            if root in i.parents:
                raise InputError(
                    "refusing to write into a folder holding an input file",
                    file=str(i),
                    fix=f"move the input out of {f}, or choose another {flag}",
                )


def check_out_dir(out: str | Path, flag: str = "--out") -> Path:
    """``out`` as a folder to write into: an existing file there is an error, not a crash."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(
            "the output must be a folder, but a file of that name exists",
            file=str(p),
            fix=f"give {flag} a folder name (new or existing), not a file",
        )
    return p


def check_out_file(out: str | Path, suffixes: tuple[str, ...], flag: str = "--out") -> Path:
    """``out`` as a file to write: an existing folder, or a wrong extension, is an error."""
    p = Path(out)
    if p.is_dir():
        raise InputError(
            "the output must be a file, but it is a folder",
            file=str(p),
            fix=f"give {flag} a file name ending in {' or '.join(suffixes)}, e.g. "
            f"{p / ('map' + suffixes[0])}",
        )
    return p


# --- run lock ---------------------------------------------------------------------------------

LOCK_NAME = ".servicecircle.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) holds nothing
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class OutLock:
    """A lock file in ``--out``: a second run into the same folder is refused.

    A lock left by a process that no longer exists (on this host) is taken over.
    """

    def __init__(self, out: str | Path) -> None:
        self.path = Path(out) / LOCK_NAME
        self.mine = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        )

    def __enter__(self) -> OutLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._check_holder()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.mine)
            return self
        raise InputError(
            "could not take the lock file", file=str(self.path), fix="delete it and retry"
        )

    def _check_holder(self) -> None:
        try:
            held = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            held = {}
        pid, host = int(held.get("pid") or 0), held.get("host")
        if pid and (host != socket.gethostname() or _alive(pid)):
            since = time.strftime("%H:%M:%S", time.localtime(held.get("started", 0)))
            raise InputError(
                f"another servicecircle run (pid {pid} on {host}, since {since}) is writing "
                "to this output folder",
                file=str(self.path.parent),
                fix=f"wait for it to finish or choose another --out; if no run is active, "
                f"delete {self.path}",
            )
        logger.warning("taking over the stale lock %s (pid %s is gone)", self.path, pid or "?")
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def __exit__(self, *exc: object) -> None:
        try:
            if self.path.read_text(encoding="utf-8") == self.mine:
                self.path.unlink()
        except OSError:
            pass


# --- console ----------------------------------------------------------------------------------

_CONSOLE_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def console(text: object) -> str:
    """``text`` with control and direction-override characters shown as escapes (``\\x1b``).

    Newlines and tabs stay; anything that could move the cursor, recolour or clear the
    terminal, or reverse the text, is made visible instead.
    """

    def esc(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _CONSOLE_BAD.sub(esc, str(text))


class ConsoleFormatter(logging.Formatter):
    """A log formatter whose output passes through :func:`console`."""

    def format(self, record: logging.LogRecord) -> str:
        return console(super().format(record))
