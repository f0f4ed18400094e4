"""The result of a comparison, its workbook and :func:`finish`, which builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import write_csv
from ..report_xlsx import write_workbook
from ._tables import CHANGE_ZH, SHEETS, SHEETS_EN, county_table, progress_table, site_changes


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Tables of a before/after comparison (see the module docstring)."""

    counties: pd.DataFrame
    communities: pd.DataFrame
    sites: pd.DataFrame
    progress: pd.DataFrame
    all_communities: pd.DataFrame = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "counties": self.counties,
            "progress": self.progress,
            "communities": self.communities,
            "sites": self.sites,
        }

    def _repr_html_(self) -> str:  # notebooks show the county table and the changes
        return (
            self.counties.to_html(index=False)
            + self.progress.to_html(index=False)
            + self.communities.head(50).to_html(index=False)
        )

    def write(self, out: str | Path, *, lang: str = "zh", write_map: bool = True) -> dict:
        """compare.csv, compare.xlsx, communities_changed.csv, site_changes.csv,
        target_progress.csv and compare_map.html inside ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "compare_csv": write_csv(self.counties, out / "compare.csv"),
            "communities_csv": write_csv(self.communities, out / "communities_changed.csv"),
            "sites_csv": write_csv(self.sites, out / "site_changes.csv"),
            "progress_csv": write_csv(self.progress, out / "target_progress.csv"),
        }
        paths["compare_xlsx"] = write_xlsx(self.tables(), out / "compare.xlsx", lang)
        if write_map:  # folium is imported only for the map
            from ._map import write_change_map

            paths["map"] = write_change_map(self, out / "compare_map.html", lang=lang)
        return paths


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path, lang: str) -> Path:
    """One sheet per table plus a 说明 sheet, headers and formats from the column registry
    (:mod:`geo.schema`), through the project's meeting-ready writer."""
    frames = {}
    for key, df in tables.items():
        frame = df.copy()
        if lang == "zh" and "change" in frame:
            frame["change"] = frame["change"].map(lambda x: CHANGE_ZH.get(x, x))
        frames[SHEETS[key] if lang == "zh" else SHEETS_EN[key]] = frame
    return write_workbook(frames, Path(path), lang=lang)


def finish(allc: pd.DataFrame, sb: pd.DataFrame, sa: pd.DataFrame, meta: dict) -> CompareResult:
    counties = county_table(allc, sb, sa)
    changed = allc[allc["change"] != ""]
    cols = ["county", "community_id", "name", "population", "change", "walk_distance_m_before",
            "walk_distance_m_after", "lon", "lat"]  # fmt: skip
    changed = changed[[c for c in cols if c in changed]].sort_values(
        ["county", "change", "community_id"]
    )
    return CompareResult(
        counties=counties,
        communities=changed.reset_index(drop=True),
        sites=site_changes(sb, sa),
        progress=progress_table(counties),
        all_communities=allc,
        meta=meta,
    )
