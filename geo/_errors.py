"""Exceptions raised by servicecircle.

Every message names what was wrong (the file, row, column or argument), the value found, and
what to do about it, so that a planner can fix the input without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ServiceCircleError(Exception):
    """Base class for every error servicecircle raises on purpose."""


class InputError(ServiceCircleError, ValueError):
    """A user-supplied file or value cannot be used.

    Parameters
    ----------
    problem
        What is wrong, in one sentence.
    file
        The file concerned, if any.
    row
        The row number as a spreadsheet shows it (header = row 1), if any.
    column
        The column concerned, if any.
    value
        The offending value, if any.
    fix
        What the user should do.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.value = value
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        msg = (": ".join([", ".join(where), self.problem]) if where else self.problem).rstrip(".")
        if self.value is not None:
            msg += f" (value: {self.value!r})"
        msg += "."
        if self.fix:
            msg += f" Fix: {self.fix}"
        return msg


class CRSError(InputError):
    """Coordinates are in an unknown or unusable coordinate reference system."""


class NetworkError(ServiceCircleError):
    """A walking network cannot be built, loaded or used."""


class SolverError(ServiceCircleError):
    """An optimisation model cannot be built or solved."""


class OptionalDependencyError(ServiceCircleError, ImportError):
    """An optional package needed for this feature is not installed."""


def import_optional(module: str, *, extra: str, feature: str) -> Any:
    """Import an optional dependency or explain how to install it.

    Parameters
    ----------
    module
        The module to import, e.g. ``"distributed"``.
    extra
        The servicecircle extra that installs it, e.g. ``"dask"``.
    feature
        What the user was trying to do, for the message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise OptionalDependencyError(
            f"{feature} needs the optional package {module!r}, which is not installed. "
            f"Install it with: pip install 'servicecircle[{extra}]'"
        ) from exc
