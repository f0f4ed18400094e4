"""The validated non-coordinate fields of a site or community table (:data:`FIELDS`), and the
rows of one file with the rejects found so far.

Each field has one validator; adding a validated field (``capacity`` for sites, ``employees``
for workplaces) is one entry in :data:`FIELDS` plus its header aliases in
:data:`geo.io._columns.HEADER_ALIASES`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._columns import kind_of
from ._messages import reject_frame, reject_row
from ._values import clean_text, parse_number

Role = Literal["site", "community"]

#: Largest plausible capacity of one site (people served at once) and workforce of one place.
MAX_CAPACITY = 100_000.0
MAX_EMPLOYEES = 1_000_000.0

# --- the field table ---------------------------------------------------------------------------


@dataclass
class _Ctx:
    """What validators need: the lookup tables and limits of this load."""

    role: Role
    lang: str
    table: dict[str, str]
    default_kind: str
    maxima: dict[str, float]
    allow_unknown_kinds: bool
    mapping: dict[str, dict[str, Any]] = field(default_factory=dict)


Issue = tuple[int, str, dict[str, Any]]  # (row index, message code, parameters incl. value)
Validator = Callable[[np.ndarray, "_Ctx"], tuple[np.ndarray, list[Issue]]]


@dataclass(frozen=True)
class Field:
    """One validated input field: its name, the roles that read it, its validator, and the
    value used when the file has no such column (None: leave the column out)."""

    name: str
    roles: tuple[str, ...]
    validate: Validator
    default: Callable[[_Ctx], Any] | None = None


def _text_field(raw: np.ndarray, ctx: _Ctx) -> tuple[np.ndarray, list[Issue]]:
    return raw, []


def _count_field(name: str, flag: str, *, required: bool) -> Validator:
    """A validator for a count (people, places): a number >= 0 and <= the field's maximum."""

    def validate(raw: np.ndarray, ctx: _Ctx) -> tuple[np.ndarray, list[Issue]]:
        vals = np.array([parse_number(v) for v in raw], dtype=float)
        cap = ctx.maxima.get(name, np.inf)
        issues: list[Issue] = []
        for i in np.flatnonzero(~(np.isfinite(vals) & (vals >= 0) & (vals <= cap))):
            if raw[i] == "":
                if required:
                    issues.append((int(i), "missing_number", {"field": name, "value": ""}))
                continue
            code = "too_large" if np.isfinite(vals[i]) and vals[i] > cap else "bad_number"
            issues.append(
                (int(i), code, {"field": name, "value": raw[i], "max": cap, "flag": flag})
            )
        return vals, issues

    return validate


def _kind_field(raw: np.ndarray, ctx: _Ctx) -> tuple[np.ndarray, list[Issue]]:
    kinds = np.empty(len(raw), dtype=object)
    for label, count in Counter(raw).items():
        if label == "":
            kind, how = ctx.default_kind, "default"
        else:
            kind, how = kind_of(label, ctx.table)
        if kind is None and ctx.allow_unknown_kinds:
            kind, how = label, "unknown:kept"
        ctx.mapping[label or "(空)"] = {"kind": kind, "count": int(count), "how": how}
        kinds[raw == label] = kind
    return kinds, []


#: Every validated non-coordinate field, in output order.
FIELDS: tuple[Field, ...] = (
    Field("kind", ("site",), _kind_field, default=lambda c: c.default_kind),
    Field(
        "population",
        ("community",),
        _count_field("population", "--max-population", required=True),
        default=lambda c: 1.0,
    ),
    Field("capacity", ("site",), _count_field("capacity", "max_capacity=", required=False)),
    Field("employees", ("community",), _count_field("employees", "max_employees=", required=False)),
    Field("county", ("site", "community"), _text_field, default=lambda c: ""),
    Field("address", ("site", "community"), _text_field, default=lambda c: ""),
)


# --- rows and rejects --------------------------------------------------------------------------


class _Rows:
    """The rows of one file: ids, names, spreadsheet row numbers, and the rejects so far."""

    def __init__(self, path: Path, rows: np.ndarray, ids: np.ndarray, names: np.ndarray, lang):
        self.path, self.rows, self.ids, self.names, self.lang = path, rows, ids, names, lang
        self.records: list[dict[str, Any]] = []
        self.bad = np.zeros(len(rows), bool)

    def reject(self, i: int, column: str, code: str, **params: Any) -> None:
        if self.bad[i]:
            return
        value = params.pop("value", "")
        self.records.append(
            reject_row(
                file=self.path,
                row=int(self.rows[i]),
                rid=self.ids[i],
                name=self.names[i],
                column=column,
                value=value,
                code=code,
                lang=self.lang,
                **params,
            )
        )
        self.bad[i] = True

    def frame(self) -> pd.DataFrame:
        return reject_frame(self.records).sort_values("row", kind="stable").reset_index(drop=True)


def _texts(df: pd.DataFrame, header: str | None) -> np.ndarray:
    if header is None:
        return np.full(len(df), "", dtype=object)
    return np.array([clean_text(v) for v in df[header].to_numpy()], dtype=object)
