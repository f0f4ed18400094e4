"""The ``servicecircle`` command line (also ``python -m geo``).

* :mod:`geo.cli._options`: the options several commands share, each declared once, with
  defaults from :class:`geo.config.Config`;
* :mod:`geo.cli._parsers`: one parser builder per command;
* :func:`main`: parse, check, run the command (from :mod:`geo.commands`, imported only then) and
  turn errors into exit codes.

Parsing imports nothing heavy, so ``--help`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

from .._checks import check_args, lock_folder
from .._errors import ServiceCircleError
from .._safety import ConsoleFormatter, OutLock, console
from ._parsers import COMMANDS, Command

__all__ = ["COMMANDS", "Command", "build_parser", "main"]

logger = logging.getLogger("geo")


def build_parser() -> argparse.ArgumentParser:
    """The ``servicecircle`` parser: one sub-parser per command (see :data:`COMMANDS`)."""
    p = argparse.ArgumentParser(
        prog="servicecircle",
        description="Walking access to trade-union service sites (15分钟职工服务圈).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return p


def _fail(message: object, code: int, verbose: bool) -> int:
    """Print one line (control characters escaped) and, with -v, the traceback."""
    if verbose:
        import traceback

        traceback.print_exc()
    line = " ".join(str(message).split("\n"))
    print(console(f"error: {line}"), file=sys.stderr)
    return code


def _logging(*, quiet: bool, verbose: bool) -> None:
    """Errors only with -q, progress with -v, else warnings; control characters escaped."""
    level = logging.ERROR if quiet else (logging.INFO if verbose else logging.WARNING)
    fmt = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt)
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.StreamHandler) and type(h.formatter) is logging.Formatter:
            h.setFormatter(ConsoleFormatter(fmt))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Exit codes: 0 done, 1 unexpected error or ``--fail-on-target`` missed,
    2 bad input or arguments (one line says what and how to fix it; ``-v`` adds the traceback),
    3 some counties (or report files) failed, 130 interrupted.

    Called as the program (``argv`` None: the console script, ``python -m geo``), the process
    ends right after: the objects the run made are frozen out of the garbage collector's way
    first (:func:`gc.freeze`), so that Python's exit does not walk them all again (0.3 s of a
    Helsinki coverage run); so are those the command's imports made, before it runs. Called
    with ``argv`` (tests, notebooks) nothing changes.
    """
    try:
        return _main(argv)
    finally:
        if argv is None:
            gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    a = build_parser().parse_args(argv)
    a.freeze_imports = argv is None  # the program: see Command
    verbose = bool(getattr(a, "verbose", False))
    _logging(quiet=bool(getattr(a, "quiet", False)), verbose=verbose)
    try:
        check_args(a)
        folder = lock_folder(a)
        if folder is None:
            return int(a.func(a) or 0)
        with OutLock(folder):
            return int(a.func(a) or 0)
    except ServiceCircleError as exc:
        return _fail(exc, 2, verbose)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a read-only or full disk, a missing folder
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(
            f"{where}{exc.strerror or exc}. Fix: check that the output folder (--out) exists, "
            "is writable and has free space, and that the input files are readable",
            2,
            verbose,
        )
    except Exception as exc:
        return _fail(
            f"unexpected {type(exc).__name__}: {exc}. Fix: check the inputs; run again with -v "
            "for the traceback and report it if the inputs look right",
            1,
            verbose,
        )
