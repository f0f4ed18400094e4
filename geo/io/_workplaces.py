"""Workplaces as a second demand layer: enterprises, industrial parks, markets, logistics hubs.

Loaded and validated exactly like communities (Chinese headers, GCJ-02/BD-09, rejects), with the
number of employees (``employees``, 职工人数, 从业人员, ...) in place of the population.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .._errors import InputError
from ._columns import match_headers, norm_header
from ._points import LoadResult, read_points
from ._read import read_table

#: Headers recognised as a workplace's number of employees, in order of preference.
EMPLOYEE_HEADERS = ("employees", "employee", "workers", "职工人数", "职工数", "员工人数",
                    "员工数", "从业人员", "从业人数", "从业人员数", "就业人数", "在岗职工",
                    "在岗职工数", "人数")  # fmt: skip

#: Extra headers recognised as a workplace's name.
NAME_HEADERS = (
    "单位名称",
    "企业名称",
    "单位",
    "企业",
    "园区名称",
    "市场名称",
    "workplace",
    "company",
)


def _first(headers, aliases) -> str | None:
    by_norm = {norm_header(c): str(c) for c in headers if str(c) != "geometry"}
    return next((by_norm[norm_header(h)] for h in aliases if norm_header(h) in by_norm), None)


def _workplace_columns(path: Path, columns, encoding, sheet) -> dict[str, str]:
    """Column choices for :func:`read_points`: the employees column as ``population``, and a
    name column among :data:`NAME_HEADERS` when the usual name headers are absent."""
    cols = dict(columns or {})
    emp = cols.pop("employees", None) or cols.pop("population", None)
    if emp is not None and "name" in cols:
        cols["population"] = emp
        return cols
    df, _, _ = read_table(path, encoding=encoding, sheet=sheet)
    emp = emp or _first(df.columns, EMPLOYEE_HEADERS)
    if emp is None:
        raise InputError(
            "no employees column found in the workplaces file",
            file=path,
            value=[str(c) for c in df.columns if str(c) != "geometry"],
            fix="name the column employees (or 职工人数/从业人员), or choose it with "
            "--col employees=HEADER",
        )
    cols["population"] = emp
    if "name" not in cols and not match_headers(df.columns, cols).get("name"):
        name = _first(df.columns, NAME_HEADERS)
        if name is not None:
            cols["name"] = name
    return cols


def load_workplaces(
    path: str | Path,
    *,
    crs: object = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    boundary: object = None,
    fix_swapped: bool = False,
) -> LoadResult:
    """Load workplaces (企业, 园区, 市场, 物流园) with their number of employees.

    Parameters are as for :func:`geo.io.load_communities`; ``columns`` may name the employees
    column as ``{"employees": "HEADER"}``. The data has ``workplace_id``, ``name``,
    ``employees``, ``county``, ``address``, ``lon``, ``lat``, ``row`` and the file's other
    columns.
    """
    path = Path(path)
    cols = _workplace_columns(path, columns, encoding, sheet)
    res = read_points(
        path,
        "community",
        crs=crs,
        columns=cols,
        encoding=encoding,
        sheet=sheet,
        boundary=boundary,
        fix_swapped=fix_swapped,
    )
    data = res.data.rename(columns={"community_id": "workplace_id", "population": "employees"})
    # generated ids say W (workplace), not C (community)
    auto = data["workplace_id"] == "C" + data["row"].astype(str)
    data.loc[auto, "workplace_id"] = "W" + data.loc[auto, "row"].astype(str)
    data["name"] = data["name"].where(
        ~(auto & (data["name"] == "C" + data["row"].astype(str))), data["workplace_id"]
    )
    rej = res.rejects.copy()
    if len(rej):
        gen = rej["id"].astype(str) == "C" + rej["row"].astype(str)
        rej.loc[gen, "id"] = "W" + rej.loc[gen, "row"].astype(str)
        rej["name"] = rej["name"].where(
            ~gen | (rej["name"].astype(str) != "C" + rej["row"].astype(str)), rej["id"]
        )
        for col in ("reason", "fix"):
            rej[col] = (
                rej[col]
                .astype(str)
                .str.replace("population", "employees")
                .str.replace("人口", "职工人数")
            )
    return LoadResult(
        data=data,
        rejects=rej,
        encoding=res.encoding,
        source=res.source,
        columns={**res.columns, "employees": cols["population"]},
    )
