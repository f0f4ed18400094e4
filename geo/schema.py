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

A name may mean something else in one table: ``register(..., per_table=True)`` gives it that
table's own header, dtype, unit and format (``covered_<level>`` is a yes/no flag in
``communities.csv`` but the covered share of a segment's length in ``streets.csv``); look it up
with ``column(name, table)``.

This module is the registry's one public face; the code lives in ``_schema_registry`` (the
entries, tables and metrics), ``_schema_text`` (values, popups, the 说明 sheet, the README table)
and ``_schema_columns`` (every registered column). It imports nothing from ``geo`` but
:mod:`geo.config` types, so every layer may use it.
"""

from __future__ import annotations

from ._schema_registry import (
    COLUMNS,
    FORMATS,
    METRICS,
    TABLE_COLUMNS,
    TABLES,
    UNITS,
    Column,
    Metric,
    apply_metrics,
    column,
    entries,
    entry,
    header,
    headers,
    level_columns,
    level_text,
    metric,
    order_columns,
    register,
    required_columns,
    set_order,
    short_header,
    table_columns,
    unregister,
)
from ._schema_text import (
    POPUP_FIELDS,
    VALUES,
    coerce,
    describe,
    display_value,
    format_value,
    markdown_table,
    popup_extra,
    popup_names,
    popup_rows,
)

__all__ = [
    "COLUMNS",
    "FORMATS",
    "METRICS",
    "POPUP_FIELDS",
    "TABLES",
    "TABLE_COLUMNS",
    "UNITS",
    "VALUES",
    "Column",
    "Metric",
    "apply_metrics",
    "coerce",
    "column",
    "describe",
    "display_value",
    "entries",
    "entry",
    "format_value",
    "header",
    "headers",
    "level_columns",
    "level_text",
    "markdown_table",
    "metric",
    "order_columns",
    "popup_extra",
    "popup_names",
    "popup_rows",
    "register",
    "required_columns",
    "set_order",
    "short_header",
    "table_columns",
    "unregister",
]

from . import _schema_columns  # noqa: F401  (registers every column)
