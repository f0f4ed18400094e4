"""Who the sites serve: the three demand views of one run, side by side.

* **residents** — communities (the point method, or ``community_coverage="area"`` for the
  covered share of each polygon's people, see :mod:`geo.coverage.partial`);
* **outdoor workers on the streets** — street km within a walk of a station
  (:mod:`geo.coverage.streets`);
* **workers at their workplaces** — employees within the walk (``workplaces``);

plus, when sites carry a ``capacity``, the E2SFCA scores (:mod:`geo.coverage.access`).

:func:`demand_views` returns the run with the extra columns added (``covered_share``,
``e2sfca``, ``underserved`` per community; ``capacity``, ``supply_demand_ratio``,
``overloaded`` per site) and the summary keys (``street_km_covered_<level>``,
``street_km_covered_share_<level>``, ...), and a :class:`DemandViews` holding each view's
tables; :meth:`DemandViews.write` writes ``streets.csv``, ``uncovered_streets.geojson`` and
``workplaces.csv``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .access import AccessResult, Decay, e2sfca
from .partial import GRID_SPACING_M, PartialCoverage, apply_area_coverage, partial_coverage
from .streets import STATION_KINDS, StreetCoverage, main_road_mask, street_coverage

if TYPE_CHECKING:
    from . import CoverageResult

logger = logging.getLogger(__name__)

__all__ = ["DemandViews", "demand_views"]

#: The columns of ``streets.csv``: the contract first, then the covered metres per level.
STREET_COLUMNS = ("edge_id", "name", "highway", "length_m", "walk_time_min_to_station")


@dataclass(frozen=True, eq=False)
class DemandViews:
    """The demand views of one run (each None when not computed)."""

    streets: StreetCoverage | None = None
    workplaces: CoverageResult | None = None
    access: AccessResult | None = None
    partial: PartialCoverage | None = None

    def summary(self, main_level: str) -> dict[str, Any]:
        """JSON-ready keys for ``summary.json``."""
        out: dict[str, Any] = {}
        if self.streets is not None:
            s = self.streets.summary
            out.update({k: v for k, v in s.items() if k != "by_class"})
            out["streets_by_class"] = s["by_class"]
        if self.workplaces is not None:
            w = self.workplaces.summary
            out["workplaces"] = {
                "workplaces": w["communities"],
                "employees": w["population"],
                "workplaces_off_network": w["communities_off_network"],
                "levels": {
                    lv: {
                        "workplaces_covered": v["communities_covered"],
                        "employees_covered": v["population_covered"],
                        "employees_share": v["population_share"],
                    }
                    for lv, v in w["levels"].items()
                },
            }
            out["employees_covered_share"] = w["levels"][main_level]["population_share"]
        if self.access is not None:
            out["e2sfca"] = self.access.summary
        return out

    def lines(self, lang: str, main_level: str) -> list[str]:
        """Short summary lines for the map's summary box."""
        zh = lang == "zh"
        mins = main_level.replace("min", " 分钟" if zh else " min")
        out = []
        if self.streets is not None:
            s = self.streets.summary
            share = 100 * s.get(f"street_km_covered_share_{main_level}", 0.0)
            unc = s.get(f"main_road_km_uncovered_{main_level}", 0.0)
            out.append(
                f"道路覆盖（户外劳动者，{mins}）: {share:.1f}%，未覆盖主干道 {unc:,.1f} 公里"
                if zh
                else f"Streets within {mins} of a station: {share:.1f}%; uncovered main roads "
                f"{unc:,.1f} km"
            )
        if self.workplaces is not None:
            w = self.workplaces.summary
            lv = w["levels"][main_level]
            out.append(
                f"职工覆盖（工作地，{mins}）: {100 * lv['population_share']:.1f}%"
                f"（{lv['population_covered']:,.0f} / {w['population']:,.0f} 人）"
                if zh
                else f"Employees within {mins}: {100 * lv['population_share']:.1f}% "
                f"({lv['population_covered']:,.0f} / {w['population']:,.0f})"
            )
        if self.access is not None:
            a = self.access.summary
            out.append(
                f"容量可达性 E2SFCA: 超负荷站点 {a['overloaded_sites']} 个，服务不足社区 "
                f"{a['underserved_communities']} 个"
                if zh
                else f"Capacity (E2SFCA): {a['overloaded_sites']} overloaded sites, "
                f"{a['underserved_communities']} underserved communities"
            )
        if self.partial is not None:
            out.append(
                "社区按面积计覆盖（≥50% 人口在步行范围内）"
                if zh
                else "Communities counted by area (covered when ≥ 50% of people are)"
            )
        return out

    def street_table(self) -> pd.DataFrame:
        """``streets.csv``: contract columns, then ``covered_<level>`` (covered share of the
        edge, 0-1) and ``covered_m_<level>`` per level."""
        e = self.streets.edges
        lv = [c for c in e.columns if c.startswith("covered_") and not c.startswith("covered_m_")]
        cm = [c for c in e.columns if c.startswith("covered_m_")]
        return pd.DataFrame(e[[*STREET_COLUMNS, *lv, "main_road", *cm]])

    def write(self, out: str | Path) -> dict[str, Path]:
        """Write ``streets.csv``, ``uncovered_streets.geojson`` and ``workplaces.csv``."""
        from ..io import write_csv, write_geojson

        out = Path(out)
        paths: dict[str, Path] = {}
        if self.streets is not None:
            paths["streets"] = write_csv(self.street_table(), out / "streets.csv")
            unc = self.streets.uncovered
            if len(unc):
                paths["uncovered_streets"] = write_geojson(
                    gpd.GeoDataFrame(unc), out / "uncovered_streets.geojson"
                )
            paths["uncovered_main_roads"] = write_csv(
                uncovered_main_roads(self), out / "uncovered_main_roads.csv"
            )
        if self.workplaces is not None:
            paths["workplaces"] = write_csv(
                workplace_table(self.workplaces), out / "workplaces.csv"
            )
        return paths


def workplace_table(wres: CoverageResult) -> pd.DataFrame:
    """Per workplace: id, name, employees, walk distance and covered flags."""
    c = wres.communities
    cols = ["community_id", "name", "population", "county", "nearest_site_id", "nearest_site_name",
            "snap_distance_m", "walk_distance_m", "walk_time_min", "covered", "off_network"]  # fmt: skip
    levels = [k for k in c.columns if k.startswith("covered_")]
    out = pd.DataFrame(c[[k for k in cols if k in c.columns] + levels])
    pts = c.geometry.representative_point()
    out.insert(3, "lon", pts.x.round(6))
    out.insert(4, "lat", pts.y.round(6))
    for k in ("snap_distance_m", "walk_distance_m"):
        out[k] = out[k].round(1)
    out["walk_time_min"] = out["walk_time_min"].round(2)
    return out.rename(columns={"community_id": "workplace_id", "population": "employees"})


def workplace_coverage(
    res: CoverageResult, workplaces: gpd.GeoDataFrame, *, redundancy: bool = False
) -> CoverageResult:
    """Coverage of workplaces (``employees`` as the weight) by the same sites and network."""
    from . import compute_coverage

    w = workplaces.rename(columns={"workplace_id": "community_id", "employees": "population"})
    # the sites as loaded (the result's table has coverage columns added; geometry is the same)
    sites = res.sites[
        [c for c in res.sites.columns if c in ("site_id", "name", "kind", "geometry")]
    ]
    return compute_coverage(res.network, sites, w, config=res.config, redundancy=redundancy)


def demand_views(
    res: CoverageResult,
    *,
    streets: bool = True,
    station_kinds: tuple[str, ...] | None = STATION_KINDS,
    workplaces: gpd.GeoDataFrame | None = None,
    community_coverage: Literal["point", "area"] = "point",
    buildings: gpd.GeoDataFrame | None = None,
    grid_spacing_m: float = GRID_SPACING_M,
    decay: Decay = "gaussian",
    main_roads: gpd.GeoDataFrame | None = None,
    area=None,
) -> tuple[CoverageResult, DemandViews]:
    """Every demand view of a coverage run.

    Parameters
    ----------
    res
        Coverage of the residents by the sites.
    streets
        Compute street coverage (stations of ``station_kinds``).
    workplaces
        Workplaces from :func:`geo.io.load_workplaces` (``.data``).
    community_coverage
        ``"point"`` (default: one point per community) or ``"area"`` (covered share of each
        polygon community's people; 50% rule).
    buildings, grid_spacing_m
        Samples for the area method.
    decay
        E2SFCA distance decay (used when the sites have a ``capacity`` column).
    main_roads
        Main-road lines marking main roads on a network without street classes.
    area
        The county or study area (WGS84 polygon): street km count only inside it.

    Returns
    -------
    (CoverageResult, DemandViews)
        The run with the views' columns and summary keys added, and the views.
    """
    if community_coverage not in ("point", "area"):
        from .._errors import InputError

        raise InputError(
            "unknown community coverage method",
            column="--community-coverage",
            value=community_coverage,
            fix="use point (the default) or area",
        )
    part = None
    if community_coverage == "area":
        part = partial_coverage(res, buildings=buildings, spacing_m=grid_spacing_m)
        res = apply_area_coverage(res, part)
    mask = main_road_mask(res.network, main_roads) if main_roads is not None else None
    sc = street_coverage(res, kinds=station_kinds, main_roads=mask, area=area) if streets else None
    wres = workplace_coverage(res, workplaces) if workplaces is not None else None
    acc = e2sfca(res, decay=decay)
    views = DemandViews(sc, wres, acc, part)
    comms, sites = res.communities, res.sites
    if acc is not None:
        comms = comms.copy()
        for k in ("e2sfca", "e2sfca_index", "underserved"):
            comms[k] = acc.communities[k].to_numpy()
        sites = sites.copy()
        for k in ("capacity", "weighted_demand", "supply_demand_ratio", "overloaded"):
            sites[k] = acc.sites[k].to_numpy()
    summary = {**res.summary, **views.summary(res.config.main_level)}
    # the reach cache depends only on the network and the sites: share it
    out = dataclasses.replace(
        res, communities=comms, sites=sites, summary=summary, _cache=res._cache
    )
    return out, views


def county_row(views: DemandViews, res: CoverageResult) -> dict[str, Any]:
    """The demand-view columns of an audit's county row (flat, JSON-ready)."""
    lv = res.config.main_level
    row: dict[str, Any] = {}
    if views.streets is not None:
        s = views.streets.summary
        row["street_km"] = s["street_km"]
        row["main_road_km"] = s["main_road_km"]
        for level in res.config.levels:
            row[f"street_km_covered_{level}"] = s[f"street_km_covered_{level}"]
            row[f"street_km_covered_share_{level}"] = s[f"street_km_covered_share_{level}"]
        row[f"main_road_km_uncovered_{lv}"] = s[f"main_road_km_uncovered_{lv}"]
    if views.workplaces is not None:
        w = views.workplaces.summary
        row["workplaces"] = w["communities"]
        row["employees"] = w["population"]
        row[f"employees_covered_{lv}"] = w["levels"][lv]["population_covered"]
        row[f"employees_covered_{lv}_share"] = w["levels"][lv]["population_share"]
    if views.access is not None:
        a = views.access.summary
        row["overloaded_sites"] = a["overloaded_sites"]
        row["underserved_communities"] = a["underserved_communities"]
        row["underserved_population"] = a["underserved_population"]
    if views.partial is not None:
        row["population_covered_in_part"] = views.partial.summary["population_covered_in_part"]
    return row


def uncovered_main_roads(views: DemandViews) -> pd.DataFrame:
    """The uncovered main-road stretches as a table (with each stretch's midpoint)."""
    if views.streets is None:
        return pd.DataFrame()
    u = views.streets.uncovered
    u = u[u["main_road"].to_numpy(bool)]
    mid = shapely.line_interpolate_point(u.geometry.to_numpy(), 0.5, normalized=True)
    out = pd.DataFrame(u.drop(columns=["geometry", "main_road"]))
    out["lon"] = np.round(shapely.get_x(mid), 6)
    out["lat"] = np.round(shapely.get_y(mid), 6)
    return out.sort_values("length_m", ascending=False).reset_index(drop=True)
