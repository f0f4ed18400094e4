"""The column registry's core (re-exported by :mod:`geo.schema`, the module to import):
columns, their per-level patterns, per-table meanings, table orders and metrics."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .config import Config

FORMATS: dict[str, str] = {
    "text": "General",
    "int": "0",
    "thousands": "#,##0",
    "percent": "0.0%",
    "metres": "#,##0",
    "km": "#,##0.0",
    "minutes": "0.0",
    "seconds": "0.0",
    "coord": "0.000000",
    "decimal": "0.00",
    "ratio": "0.000",
    "bool": "General",
    "url": "General",
}

#: Units, with their Chinese and English names (for headers and the 说明 sheet).
UNITS: dict[str, tuple[str, str]] = {
    "": ("", ""),
    "m": ("米", "m"),
    "km": ("公里", "km"),
    "min": ("分钟", "min"),
    "s": ("秒", "s"),
    "people": ("人", "people"),
    "count": ("个", "count"),
    "share": ("比例(0-1)", "share 0-1"),
    "deg": ("度", "degrees"),
    "index": ("指数", "index"),
    "person_m": ("人·米", "person-m"),
}

_LEVEL_RE = r"(?P<level>\d+(?:\.\d+)?(?:min|m))"


@dataclass(frozen=True)
class Column:
    """One output column.

    ``name`` may hold a ``{level}`` placeholder (e.g. ``covered_{level}``): the column then
    stands for one column per walk level, and ``zh``/``en``/``doc`` may use ``{level_zh}`` and
    ``{level_en}`` (``5分钟``/``5 min``).
    """

    name: str
    dtype: str
    unit: str
    zh: str
    en: str
    fmt: str
    doc: str
    tables: tuple[str, ...] = ()
    popup: bool = False
    optional: bool = False

    @property
    def is_pattern(self) -> bool:
        return "{level}" in self.name

    def expand(self, level: str) -> Column:
        """The concrete column for one level (``5min``, ``15min``, ``1000m``)."""
        lz, le = level_text(level, "zh"), level_text(level, "en")

        def sub(s: str) -> str:
            return s.replace("{level_zh}", lz).replace("{level_en}", le).replace("{level}", level)

        return Column(
            sub(self.name), self.dtype, self.unit, sub(self.zh), sub(self.en), self.fmt,
            sub(self.doc), self.tables, self.popup, self.optional,
        )  # fmt: skip

    def header(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def number_format(self) -> str:
        return FORMATS[self.fmt]


@dataclass(frozen=True)
class Metric:
    """A pure per-record function ``fn(frame, config) -> Series`` that fills ``column``."""

    column: str
    fn: Callable[[pd.DataFrame, Config], Any]
    table: str = "communities"
    needs: tuple[str, ...] = ()


COLUMNS: dict[str, Column] = {}
METRICS: dict[str, Metric] = {}
_PATTERNS: list[tuple[re.Pattern[str], Column]] = []
#: Columns whose meaning in one table differs from the name's everywhere else:
#: {table: {name: Column}} (``streets``' ``covered_<level>`` is a share of length, not a flag).
TABLE_COLUMNS: dict[str, dict[str, Column]] = {}
_TABLE_PATTERNS: dict[str, list[tuple[re.Pattern[str], Column]]] = {}


def level_text(level: str, lang: str = "zh") -> str:
    """``15min`` → ``15分钟`` / ``15 min``; ``1000m`` → ``1000米`` / ``1000 m``."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(min|m)", level)
    if not m:
        return level
    n, u = m.groups()
    if lang == "zh":
        return n + ("分钟" if u == "min" else "米")
    return f"{n} {u}"


def register(
    name: str,
    dtype: str,
    unit: str,
    zh: str,
    en: str,
    fmt: str,
    doc: str,
    tables: Iterable[str] = (),
    *,
    popup: bool = False,
    optional: bool = False,
    per_table: bool = False,
) -> Column:
    """Register one output column (or a ``{level}`` pattern); returns it.

    ``optional`` columns are written only when a run produces them (the others are added,
    empty, to tables whose rows lack them, e.g. a failed county's summary row).
    ``per_table`` gives ``name`` its own meaning in ``tables`` only (a contract name that
    means something else there); everywhere else the name keeps its general entry.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown number format {fmt!r} for column {name!r}: use {list(FORMATS)}")
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} for column {name!r}: use {list(UNITS)}")
    col = Column(name, dtype, unit, zh, en, fmt, doc, tuple(tables), popup, optional)
    if per_table:
        if not col.tables:
            raise ValueError(f"per_table column {name!r} needs its tables")
        for t in col.tables:
            TABLE_COLUMNS.setdefault(t, {})[name] = col
            _add_pattern(_TABLE_PATTERNS.setdefault(t, []), col)
    else:
        COLUMNS[name] = col
        _add_pattern(_PATTERNS, col)
    for t in col.tables:
        TABLES.setdefault(t, [])
        if name not in TABLES[t]:
            TABLES[t].append(name)
    return col


def _add_pattern(patterns: list[tuple[re.Pattern[str], Column]], col: Column) -> None:
    if col.is_pattern:
        rx = _pattern_re(col.name)
        patterns[:] = [(r, c) for r, c in patterns if c.name != col.name] + [(rx, col)]


def _pattern_re(name: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(name).replace(r"\{level\}", _LEVEL_RE) + "$")


def unregister(name: str) -> None:
    """Remove a column (and its metric); for tests that register toy metrics."""
    COLUMNS.pop(name, None)
    METRICS.pop(name, None)
    _PATTERNS[:] = [(r, c) for r, c in _PATTERNS if c.name != name]
    for t, cols in TABLE_COLUMNS.items():
        cols.pop(name, None)
        pats = _TABLE_PATTERNS.get(t, [])
        pats[:] = [(r, c) for r, c in pats if c.name != name]
    for names in TABLES.values():
        if name in names:
            names.remove(name)


def _lookup(
    name: str, exact: dict[str, Column], patterns: list[tuple[re.Pattern[str], Column]]
) -> Column | None:
    if name in exact and not exact[name].is_pattern:
        return exact[name]
    for rx, col in patterns:
        m = rx.match(name)
        if m:
            return col.expand(m.group("level"))
    return None


def column(name: str, table: str | None = None) -> Column | None:
    """The registered column ``name`` (a level pattern is expanded), or None.

    With ``table``, a meaning registered for that table only (``per_table``) comes first.
    """
    if table is not None and table in TABLE_COLUMNS:
        col = _lookup(name, TABLE_COLUMNS[table], _TABLE_PATTERNS.get(table, []))
        if col is not None:
            return col
    return _lookup(name, COLUMNS, _PATTERNS)


def entry(table: str, name: str) -> Column:
    """The registered entry (pattern unexpanded) behind ``name`` in ``table``'s order."""
    return TABLE_COLUMNS.get(table, {}).get(name) or COLUMNS[name]


def entries() -> Iterator[tuple[Column, tuple[str, ...]]]:
    """Every registered entry with the tables it describes; a name's per-table meanings come
    right after its general entry."""
    per_table: dict[str, list[Column]] = {}
    for cols in TABLE_COLUMNS.values():
        for col in cols.values():
            if all(c is not col for c in per_table.setdefault(col.name, [])):
                per_table[col.name].append(col)
    for col in COLUMNS.values():
        own = [t for t in TABLES if col.name in TABLES[t]]
        yield col, tuple(t for t in own if col.name not in TABLE_COLUMNS.get(t, {}))
        yield from ((c, c.tables) for c in per_table.pop(col.name, []))
    for cols_ in per_table.values():
        yield from ((c, c.tables) for c in cols_)


def header(name: str, lang: str = "zh", table: str | None = None) -> str:
    """The column's header in ``lang``; an unknown (passed-through) column keeps its name."""
    col = column(name, table)
    return col.header(lang) if col is not None else name


def short_header(name: str, lang: str = "zh", table: str | None = None) -> str:
    """The header without its unit suffix (``步行距离(米)`` → ``步行距离``), for places that show
    the unit with the value (map popups, legends)."""
    head = header(name, lang, table)
    return re.sub(r"\s*[(（][^()（）]*[)）]$", "", head) or head


def headers(names: Iterable[str], lang: str = "zh", table: str | None = None) -> dict[str, str]:
    """``{name: header}`` for renaming a frame (of ``table``); headers are made unique."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for n in names:
        h = header(n, lang, table)
        while h in seen:
            h = f"{h} ({n})"
        seen.add(h)
        out[n] = h
    return out


def level_columns(pattern: str, config: Config | Iterable[str]) -> list[str]:
    """The concrete names of a ``{level}`` pattern for a config's levels (ascending)."""
    levels = config.levels if hasattr(config, "levels") else config
    return [pattern.replace("{level}", lv) for lv in levels]


#: Column order of each output table: {table: [name or pattern ...]} (filled by register).
TABLES: dict[str, list[str]] = {}


def table_columns(table: str, levels: Iterable[str] | None = None) -> list[str]:
    """The registered columns of ``table`` in order, patterns expanded for ``levels``."""
    out: list[str] = []
    for name in TABLES.get(table, []):
        if "{level}" in name:
            out.extend(level_columns(name, list(levels or [])))
        else:
            out.append(name)
    return out


def set_order(table: str, names: Sequence[str]) -> None:
    """Put ``names`` first in ``table``'s column order (a contract's order), the rest after."""
    rest = [n for n in TABLES.get(table, []) if n not in names]
    TABLES[table] = [*names, *rest]


def order_columns(
    frame: pd.DataFrame,
    table: str,
    *,
    drop: Iterable[str] = (),
    levels: Iterable[str] | None = None,
    add_missing: bool = False,
) -> pd.DataFrame:
    """``frame`` with the registered columns of ``table`` first, in registry order, then every
    other column (input columns such as 街道 pass through unchanged), minus ``drop``.

    With ``add_missing``, registered non-optional columns the frame lacks are added empty
    (``{level}`` patterns for ``levels``).
    """
    drop = set(drop)
    present = [c for c in frame.columns if c not in drop]
    known: list[str] = []
    missing: dict[str, None] = {}
    for name in TABLES.get(table, []):
        col = entry(table, name)
        if col.is_pattern:
            rx = _pattern_re(name)
            found = [c for c in present if rx.match(c)]
            if add_missing and not col.optional:
                want = level_columns(name, list(levels or []))
                missing.update({c: None for c in want if c not in found})
                found += [c for c in want if c not in found]
            known.extend(sorted(found, key=_level_key))
        elif name in present:
            known.append(name)
        elif add_missing and not col.optional:
            missing[name] = None
            known.append(name)
    if missing:
        frame = frame.assign(**missing)
    seen = set(known)
    rest = [c for c in present if c not in seen]
    return frame[known + rest]


def required_columns(table: str, levels: Iterable[str]) -> list[str]:
    """The non-optional columns of ``table`` for ``levels``, in order."""
    out: list[str] = []
    for name in TABLES.get(table, []):
        if not entry(table, name).optional:
            out.extend(level_columns(name, list(levels)) if "{level}" in name else [name])
    return out


def _level_key(name: str) -> tuple[float, str]:
    m = re.search(r"(\d+(?:\.\d+)?)(min|m)", name)
    return (float(m.group(1)) if m else math.inf, name)


# --- metrics ----------------------------------------------------------------------------------


def metric(
    *,
    column: str,
    dtype: str = "float",
    unit: str = "",
    zh: str,
    en: str,
    fmt: str = "decimal",
    doc: str,
    table: str = "communities",
    needs: Sequence[str] = (),
    popup: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(frame, config) -> Series`` as the metric filling ``column`` of ``table``.

    Tables ``communities`` and ``sites`` are per record. ``summary`` metrics return one scalar
    per county (the audit's summary row and ``summary.json``). The column is registered for
    the table (and for ``uncovered`` too when it is a community metric).
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        tables = [table] + (["uncovered"] if table == "communities" else [])
        register(column, dtype, unit, zh, en, fmt, doc, tables, popup=popup)
        METRICS[column] = Metric(column, fn, table, tuple(needs))
        return fn

    return deco


def apply_metrics(frame: pd.DataFrame, config: Config, table: str = "communities") -> Any:
    """A copy of ``frame`` with every registered metric of ``table`` added (per record), or,
    for ``table='summary'``, ``{column: value}`` computed from the communities ``frame``.

    A metric whose ``needs`` are missing from ``frame`` is skipped.
    """
    todo = [m for m in METRICS.values() if m.table == table and all(n in frame for n in m.needs)]
    if table == "summary":
        return {m.column: _scalar(m.fn(frame, config)) for m in todo}
    if not todo:
        return frame
    out = frame.copy()
    for m in todo:
        value = m.fn(out, config)
        out[m.column] = value.to_numpy() if hasattr(value, "to_numpy") else value
    return out


def _scalar(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
