"""The registry's values in the reader's language (re-exported by :mod:`geo.schema`): typed
frames for GeoPackage, 是/否 and Chinese codes, values with units for popups and the console,
the popup fields, the 说明 sheet's rows and the README's column table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._schema_registry import TABLES, UNITS, column, entries, entry, header

if TYPE_CHECKING:
    import pandas as pd


def coerce(frame: pd.DataFrame, table: str | None = None) -> pd.DataFrame:
    """A copy of ``frame`` whose registered columns have the registry's dtype (numbers as
    numbers, flags as booleans, text as text; empty cells stay empty), for typed writers such
    as GeoPackage. Unknown columns are unchanged."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        col = column(str(name), table)
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


def display_value(name: str, value: Any, lang: str = "zh", table: str | None = None) -> Any:
    """A cell's value for readers: 是/否 for booleans, Chinese words for coded values
    (``milp:optimal`` → ``milp:最优``); numbers and unknown text unchanged."""
    col = column(name, table)
    if isinstance(value, bool) or (col is not None and col.fmt == "bool" and _is_boolish(value)):
        b = _as_bool(value)
        if b is None:
            return value
        return ("是" if b else "否") if lang == "zh" else ("yes" if b else "no")
    codes = VALUES.get(name)
    if codes is None or not isinstance(value, str):
        return value
    i = 0 if lang == "zh" else 1
    if name in _SPLIT_VALUES:
        return ":".join(codes[p][i] if p in codes else p for p in value.split(":"))
    return codes[value][i] if value in codes else value


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


def format_value(name: str, value: Any, lang: str = "zh", table: str | None = None) -> str:
    """A value as text for popups and the console, with its unit (``1,234 米``, ``59.2%``)."""
    col = column(name, table)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    shown = display_value(name, value, lang, table)
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
    names += [n for n in TABLES.get(table, []) if entry(table, n).popup and n not in names]
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


def describe(
    names: Iterable[str], lang: str = "zh", table: str | None = None
) -> Iterator[tuple[str, str, str, str]]:
    """``(name, header, unit, description)`` for each column of ``table`` (the 说明 sheet)."""
    for n in names:
        col = column(n, table)
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
    for col, in_tables in entries():
        name = col.name.replace("{level}", "<level>")
        zh = col.zh.replace("{level_zh}", "<级别>")
        tables = ", ".join(t for t in in_tables if t != "uncovered")
        doc = col.doc.replace("{level_en}", "<level>").replace("|", "/")
        lines.append(f"| `{name}` | {zh} | {col.unit or '—'} | {col.fmt} | {tables} | {doc} |")
    return "\n".join(lines) + "\n"
