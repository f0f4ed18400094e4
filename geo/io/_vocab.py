"""Chinese headers and values for meeting tables (XLSX, ``--lang zh``).

CSV files keep English machine headers and values (scripts rely on them); workbooks show
Chinese: kinds, candidate sources, proposal purposes, solver status, reject categories and
yes/no, and coordinate headers that say which system each pair is in.
"""

from __future__ import annotations

import pandas as pd

#: Headers of columns the loaders and proposal descriptions add.
PLANNER_ZH: dict[str, str] = {
    "lon": "经度(WGS84)", "lat": "纬度(WGS84)",
    "lon_gcj02": "经度(高德/GCJ-02)", "lat_gcj02": "纬度(高德/GCJ-02)",
    "lon_bd09": "经度(百度/BD-09)", "lat_bd09": "纬度(百度/BD-09)",
    "palace_proposal_lon": "建议文化宫经度(WGS84)", "palace_proposal_lat": "建议文化宫纬度(WGS84)",
    "proposal_id": "建议编号", "location_desc": "位置描述", "county": "区县",
    "nearest_candidate_id": "最近候选点编号", "nearest_candidate_name": "最近候选点",
    "nearest_candidate_m": "距最近候选点(米)", "amap_url": "高德地图链接",
    "baidu_url": "百度地图链接", "newly_reached_population": "新增可达人口(人)",
    "weighted_distance_saved": "减少的人口加权步行距离(人·米)",
    "mean_walk_m_after": "建成后人口加权平均步行距离(米)", "purpose": "用途",
    "suggested_kind": "建议类型", "proposal_status": "求解状态", "category": "类别",
    "reason_code": "原因代码", "address": "地址", "row": "行号", "capacity": "容量",
    "employees": "职工人数",
}  # fmt: skip

_KINDS = {"station": "爱心驿站", "integrated": "会站家", "cultural_palace": "工人文化宫",
          "partner": "融合共建点"}  # fmt: skip
_STATUS = {
    "optimal": "最优", "heuristic": "启发式", "time_limit": "达到时间上限", "feasible": "可行",
    "infeasible": "无可行解", "not needed": "无需新增", "existing": "现状", "greedy": "贪心",
    "milp": "精确求解", "ok": "完成", "error": "失败",
}  # fmt: skip

#: Column -> {machine value: Chinese value}.
VALUES_ZH: dict[str, dict[str, str]] = {
    "kind": _KINDS,
    "nearest_site_kind": _KINDS,
    "suggested_kind": _KINDS,
    "source": {"file": "用户候选点", "generated": "路网生成", "community": "社区位置"},
    "purpose": {"coverage": "补覆盖", "count": "补数量"},
    "category": {"error": "错误", "duplicate": "重复", "out_of_area": "区域外"},
    "status": _STATUS,
    "proposal_status": _STATUS,
    "method": _STATUS,
}
_YES_NO = {True: "是", False: "否"}


def _status_text(value: object) -> object:
    """``milp:optimal`` -> ``精确求解:最优``; other values through :data:`_STATUS`."""
    if not isinstance(value, str):
        return value
    return ":".join(_STATUS.get(part, part) for part in value.split(":"))


def zh_values(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose known machine values are Chinese (booleans become 是/否)."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == bool:
            out[col] = s.map(_YES_NO)
        elif col in ("status", "proposal_status", "method"):
            out[col] = s.map(_status_text)
        elif col in VALUES_ZH:
            table = VALUES_ZH[col]
            out[col] = s.map(lambda v, t=table: t.get(v, v) if isinstance(v, str) else v)
    return out
