"""One registry of output columns, and the per-record metrics that fill some of them.

Every column an output table writes is registered here once, with its machine name, dtype,
unit, Chinese and English header, number format and a one-line description. The CSV, XLSX,
GPKG and JSON writers, the map popups, the console summary and the README's outputs table
all read this registry, so a new column is one :func:`register` call (or one :func:`metric`).

Per-level columns (``covered_5min``, ``population_covered_15min_share`` ...) are registered
once as a pattern with a ``{level}`` placeholder and expand to the levels of a
:class:`~geo.config.Config` (:func:`level_columns`).

Adding a per-community metric takes one function and one decorator::

    @metric(column="walk_share_of_limit", dtype="float", unit="share", fmt="percent",
            zh="步行距离占限值比例", en="Walk as share of limit",
            doc="walk_distance_m divided by the coverage limit", needs=("walk_distance_m",))
    def walk_share_of_limit(communities, config):
        return communities["walk_distance_m"] / config.limit_m

It then appears in ``communities.csv``, ``coverage.xlsx``, ``audit.xlsx`` and the map popup.
Input columns the tool does not know (街道, 备注 ...) pass through every table unchanged.

This module imports nothing from ``geo`` but :mod:`geo.config` types, so every layer may use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .config import Config

__all__ = [
    "COLUMNS",
    "FORMATS",
    "METRICS",
    "TABLES",
    "Column",
    "Metric",
    "apply_metrics",
    "coerce",
    "column",
    "display_value",
    "format_value",
    "header",
    "headers",
    "level_columns",
    "metric",
    "order_columns",
    "popup_extra",
    "popup_rows",
    "register",
    "required_columns",
    "set_order",
    "short_header",
    "table_columns",
    "unregister",
]

#: Excel number formats by format key (the registry's ``fmt``).
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
) -> Column:
    """Register one output column (or a ``{level}`` pattern); returns it.

    ``optional`` columns are written only when a run produces them (the others are added,
    empty, to tables whose rows lack them, e.g. a failed county's summary row).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown number format {fmt!r} for column {name!r}: use {list(FORMATS)}")
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} for column {name!r}: use {list(UNITS)}")
    col = Column(name, dtype, unit, zh, en, fmt, doc, tuple(tables), popup, optional)
    COLUMNS[name] = col
    if col.is_pattern:
        rx = re.compile("^" + re.escape(name).replace(r"\{level\}", _LEVEL_RE) + "$")
        _PATTERNS[:] = [(r, c) for r, c in _PATTERNS if c.name != name] + [(rx, col)]
    for t in col.tables:
        TABLES.setdefault(t, [])
        if name not in TABLES[t]:
            TABLES[t].append(name)
    return col


def unregister(name: str) -> None:
    """Remove a column (and its metric); for tests that register toy metrics."""
    COLUMNS.pop(name, None)
    METRICS.pop(name, None)
    _PATTERNS[:] = [(r, c) for r, c in _PATTERNS if c.name != name]
    for cols in TABLES.values():
        if name in cols:
            cols.remove(name)


def column(name: str) -> Column | None:
    """The registered column ``name`` (a level pattern is expanded), or None."""
    if name in COLUMNS and not COLUMNS[name].is_pattern:
        return COLUMNS[name]
    for rx, col in _PATTERNS:
        m = rx.match(name)
        if m:
            return col.expand(m.group("level"))
    return None


def header(name: str, lang: str = "zh") -> str:
    """The column's header in ``lang``; an unknown (passed-through) column keeps its name."""
    col = column(name)
    return col.header(lang) if col is not None else name


def coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose registered columns have the registry's dtype (numbers as
    numbers, flags as booleans, text as text; empty cells stay empty), for typed writers such
    as GeoPackage. Unknown columns are unchanged."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        col = column(str(name))
        if col is None or name == "geometry":
            continue
        s = out[name]
        if col.dtype in ("float", "int"):
            out[name] = pd.to_numeric(s, errors="coerce")
        elif col.dtype == "bool" and s.dtype != bool:
            flags = s.map(_as_bool)
            if flags.notna().all():
                out[name] = flags.astype(bool)
        elif col.dtype == "str" and (s.dtype == object or pd.api.types.is_string_dtype(s)):
            out[name] = s.map(lambda v: "" if v is None or v != v else str(v))
    return out


def short_header(name: str, lang: str = "zh") -> str:
    """The header without its unit suffix (``步行距离(米)`` → ``步行距离``), for places that show
    the unit with the value (map popups, legends)."""
    return re.sub(r"\s*[(（][^()（）]*[)）]$", "", header(name, lang)) or header(name, lang)


def headers(names: Iterable[str], lang: str = "zh") -> dict[str, str]:
    """``{name: header}`` for renaming a frame; headers are made unique."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for n in names:
        h = header(n, lang)
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
        col = COLUMNS[name]
        if col.is_pattern:
            rx = re.compile("^" + re.escape(name).replace(r"\{level\}", _LEVEL_RE) + "$")
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
        if not COLUMNS[name].optional:
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


# --- values in the reader's language ---------------------------------------------------------

_KINDS = {
    "station": ("爱心驿站", "Outdoor-worker station"),
    "integrated": ("会站家", "Integrated union site"),
    "cultural_palace": ("工人文化宫", "Workers' cultural palace"),
    "partner": ("融合共建点", "Partner point"),
}
_STATUS = {
    "optimal": "最优", "heuristic": "启发式", "time_limit": "达到时间上限", "feasible": "可行",
    "infeasible": "无可行解", "not needed": "无需新增", "existing": "现状", "greedy": "贪心",
    "milp": "精确求解", "ok": "完成", "error": "失败", "lscp": "最少站点覆盖",
    "mclp": "最大覆盖", "pmedian": "p-中位",
}  # fmt: skip

#: Column -> {machine value: (Chinese, English)}: kinds, sources, purposes, solver status,
#: reject categories. ``a:b`` values (``milp:optimal``) are translated part by part.
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "kind": _KINDS,
    "nearest_site_kind": _KINDS,
    "suggested_kind": _KINDS,
    "source": {
        "file": ("用户候选点", "user candidate"),
        "generated": ("路网生成", "generated"),
        "community": ("社区位置", "community location"),
    },
    "purpose": {"coverage": ("补覆盖", "coverage"), "count": ("补数量", "count target")},
    "category": {
        "error": ("错误", "error"),
        "duplicate": ("重复", "duplicate"),
        "out_of_area": ("区域外", "out of area"),
    },
    **{c: {k: (v, k) for k, v in _STATUS.items()} for c in ("status", "proposal_status", "method")},
}
_SPLIT_VALUES = {"status", "proposal_status", "method"}


def display_value(name: str, value: Any, lang: str = "zh") -> Any:
    """A cell's value for readers: 是/否 for booleans, Chinese words for coded values
    (``milp:optimal`` → ``milp:最优``); numbers and unknown text unchanged."""
    col = column(name)
    if isinstance(value, bool) or (col is not None and col.fmt == "bool" and _is_boolish(value)):
        b = _as_bool(value)
        if b is None:
            return value
        return ("是" if b else "否") if lang == "zh" else ("yes" if b else "no")
    table = VALUES.get(name)
    if table is None or not isinstance(value, str):
        return value
    i = 0 if lang == "zh" else 1
    if name in _SPLIT_VALUES:
        return ":".join(table[p][i] if p in table else p for p in value.split(":"))
    return table[value][i] if value in table else value


def _is_boolish(v: Any) -> bool:
    return _as_bool(v) is not None


def _as_bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "b":
        return bool(v)
    if isinstance(v, str) and v in {"True", "False", "true", "false"}:
        return v.lower() == "true"
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    return None


def format_value(name: str, value: Any, lang: str = "zh") -> str:
    """A value as text for popups and the console, with its unit (``1,234 米``, ``59.2%``)."""
    col = column(name)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    shown = display_value(name, value, lang)
    if col is None or (isinstance(shown, str) and not _is_number(shown)):
        return str(shown)
    try:
        x = float(shown)
    except (TypeError, ValueError):
        return str(shown)
    unit = UNITS.get(col.unit, ("", ""))[0 if lang == "zh" else 1]
    fmts = {
        "percent": f"{100 * x:.1f}%",
        "thousands": f"{x:,.0f}",
        "metres": f"{x:,.0f} {unit}",
        "km": f"{x:,.1f} {unit}",
        "minutes": f"{x:.1f} {unit}",
        "seconds": f"{x:.1f} {unit}",
        "coord": f"{x:.6f}",
        "decimal": f"{x:,.2f}",
        "ratio": f"{x:.3f}",
        "int": f"{x:.0f}",
    }
    return fmts.get(col.fmt, str(shown)).strip()


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


#: The community fields every popup shows, in order (then every popup metric).
POPUP_FIELDS: dict[str, tuple[str, ...]] = {
    "communities": (
        "name", "population", "walk_distance_m", "walk_time_min", "nearest_site_name", "covered",
    ),
    "sites": ("name", "kind", "address", "communities_served", "population_served"),
    "proposed_sites": (
        "proposal_id", "name", "location_desc", "newly_covered_population",
        "newly_covered_communities",
    ),
}  # fmt: skip


def popup_names(table: str = "communities", available: Iterable[str] | None = None) -> list[str]:
    """The columns a map popup of ``table`` shows: the base fields, then every registered
    column of the table marked ``popup`` (metrics are), limited to ``available``."""
    names = list(POPUP_FIELDS.get(table, ()))
    names += [n for n in TABLES.get(table, []) if COLUMNS[n].popup and n not in names]
    if available is not None:
        have = set(available)
        names = [n for n in names if n in have]
    return names


def popup_extra(table: str = "communities", available: Iterable[str] | None = None) -> list[str]:
    """The popup columns beyond the base fields (registered metrics and other ``popup``
    columns): what a map adds after its own fixed rows."""
    base = set(POPUP_FIELDS.get(table, ()))
    return [n for n in popup_names(table, available) if n not in base]


def popup_rows(
    record: Mapping[str, Any], table: str = "communities", lang: str = "zh"
) -> list[tuple[str, str]]:
    """``[(header, text), ...]`` for one record's map popup (values formatted with units)."""
    return [
        (header(n, lang), format_value(n, record.get(n), lang))
        for n in popup_names(table, record.keys())
    ]


def describe(names: Iterable[str], lang: str = "zh") -> Iterator[tuple[str, str, str, str]]:
    """``(name, header, unit, description)`` for each column (for the 说明 sheet)."""
    for n in names:
        col = column(n)
        if col is None:
            yield (
                n,
                n,
                "",
                "输入文件中的列，原样保留" if lang == "zh" else "input column, unchanged",
            )
        else:
            unit = UNITS[col.unit][0 if lang == "zh" else 1]
            yield n, col.header(lang), unit, col.doc


def markdown_table(lang: str = "zh") -> str:
    """The registry as a Markdown table (the README's column reference is generated from it;
    ``tests/test_schema.py`` checks they agree)."""
    lines = [
        "| column | 中文表头 | unit | format | tables | description |",
        "|---|---|---|---|---|---|",
    ]
    for col in COLUMNS.values():
        name = col.name.replace("{level}", "<level>")
        zh = col.zh.replace("{level_zh}", "<级别>")
        tables = ", ".join(t for t in TABLES if col.name in TABLES[t] and t != "uncovered")
        doc = col.doc.replace("{level_en}", "<level>").replace("|", "/")
        lines.append(f"| `{name}` | {zh} | {col.unit or '—'} | {col.fmt} | {tables} | {doc} |")
    return "\n".join(lines) + "\n"


from . import _schema_columns  # noqa: E402,F401  (registers every column)
