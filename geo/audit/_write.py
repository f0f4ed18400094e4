"""Write one county's files and map from its computed :class:`~geo.audit._county.CountyResult`.

Nothing here computes a figure: the tables come from the result, the map's numbers from the
county's summary row (:func:`geo.audit._county.county_row`), so the map and the spreadsheet
agree.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..io import write_csv, write_geojson

if TYPE_CHECKING:
    from ._county import CountyResult

#: Degrees around a county's network within which ``--background`` features are drawn (as for
#: the network's own OSM background, :func:`geo.network.background_for`).
BACKGROUND_PAD_DEG = 0.01
#: The proposed palace's name on the map.
PALACE_NAME = {"zh": "工人文化宫（建议）", "en": "Cultural palace (proposed)"}


def write_tables(result: CountyResult, folder: Path) -> None:
    """communities.csv, uncovered.csv, proposed_sites.csv, marginal_gain.csv,
    palace_proposal.csv, sites.csv and the demand views' tables, each with the county."""
    from ..outputs import community_table, proposal_table

    county = result.task.county
    ct_df = _with_county(community_table(result.coverage), county)
    write_csv(ct_df, folder / "communities.csv")
    unc = ct_df[~ct_df["covered"]].sort_values("walk_distance_m", ascending=False)
    write_csv(unc, folder / "uncovered.csv")
    if result.gaps is not None:
        write_csv(_with_county(proposal_table(result.gaps), county), folder / "proposed_sites.csv")
        write_csv(_with_county(result.gaps.curve.copy(), county), folder / "marginal_gain.csv")
    if result.palace is not None:
        write_csv(
            _with_county(proposal_table(result.palace), county), folder / "palace_proposal.csv"
        )
    s = pd.DataFrame(result.coverage.sites.drop(columns="geometry"))
    s["in_county"] = result.in_county
    write_csv(s, folder / "sites.csv")
    result.views.write(folder)  # streets.csv, uncovered_main_roads.csv, workplaces.csv


def write_isochrones(result: CountyResult, folder: Path) -> None:
    """isochrones.geojson (the main level's walk areas by kind), when there are any."""
    iso = result.isochrones
    if iso is not None and len(iso):
        write_geojson(_with_county(iso.copy(), result.task.county), folder / "isochrones.geojson")


def write_map(result: CountyResult, row: dict[str, Any], folder: Path) -> str:
    """map.html and map.png; returns the map's path relative to the audit's output folder."""
    from ..maps import make_map, save_map, save_png

    task, res = result.task, result.coverage
    bnd = gpd.GeoDataFrame({"county": [task.county]}, geometry=[task.boundary], crs=4326)
    props = _map_proposals(result)
    m = make_map(
        res,
        lang=task.lang,
        basemap="none",
        offline=True,
        boundaries=bnd,
        proposals=None if props is None else gpd.GeoDataFrame(props, crs=4326),
        summary_lines=[target_line(row, task.lang)],
        views=result.views,
        scenario=task.scenario,
        input_crs=task.input_crs,
        **_map_kwargs(result, row),
    )
    save_map(m, folder / "map.html")
    rel = str((folder / "map.html").relative_to(Path(task.out_dir)))
    save_png(res, folder / "map.png", tiles=False, **_png_kwargs(result, m._sc_png))
    return rel


def _png_kwargs(result: CountyResult, png: dict[str, Any]) -> dict[str, Any]:
    """The map's PNG options. When the HTML map drew no isochrones (the what-if page draws its
    own), the PNG would compute the main level's by kind: the very polygons the audit already
    computed for isochrones.geojson, so it gets those."""
    from ..maps import main_minutes

    res, cfg = result.coverage, result.task.config
    same = main_minutes(res) == cfg.limit_m / cfg.metres_per_minute
    if png.get("isochrones") is None and result.isochrones is not None and same:
        png = {**png, "isochrones": result.isochrones}
    return png


def _map_kwargs(result: CountyResult, row: dict[str, Any]) -> dict[str, Any]:
    """The county's map options (:func:`geo.maps.county_map_kwargs`), with the ``--background``
    files' features near the county added to the network's own background."""
    from ..maps import county_map_kwargs

    task, res = result.task, result.coverage
    kw = county_map_kwargs(res, row, task.county, result.in_county, result.gaps, task.lang)
    if task.background:
        lon, lat = np.asarray(res.network.lon), np.asarray(res.network.lat)
        pad = BACKGROUND_PAD_DEG
        box = (lon.min() - pad, lat.min() - pad, lon.max() + pad, lat.max() + pad)
        extra = [_read_background(p).cx[box[0] : box[2], box[1] : box[3]] for p in task.background]
        parts = [g for g in [kw.get("background"), *extra] if g is not None and len(g)]
        kw["background"] = (
            gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326) if parts else None
        )
    return kw


def _read_background(path: str) -> gpd.GeoDataFrame:
    """A ``--background`` file, read once per worker process while it is unchanged (every county
    map takes its part)."""
    st = Path(path).stat()
    return _read_background_cached(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _read_background_cached(path: str, _mtime_ns: int, _size: int) -> gpd.GeoDataFrame:
    from ..network import read_vector_background

    return read_vector_background(path)


def _map_proposals(result: CountyResult) -> pd.DataFrame | None:
    """The gap sites, then the proposed palace (rank 0), or None when there are neither."""
    props = result.gaps.sites if result.gaps is not None else None
    if result.palace is not None:
        extra = result.palace.sites.assign(
            name=PALACE_NAME["zh" if result.task.lang == "zh" else "en"]
        )
        extra["rank"] = 0
        props = extra if props is None else pd.concat([props, extra], ignore_index=True)
    return props


def target_line(row: dict[str, Any], lang: str) -> str:
    """The map's one-line verdict on the county's targets."""
    if lang == "zh":
        palace = "有" if row["has_cultural_palace"] else "无（已给出建议位置）"
        return (
            f"会站家: {row['sites_integrated']}/{row['integrated_target']}，缺口 "
            f"{row['integrated_shortfall']}；工人文化宫: {palace}；建议新增站点 "
            f"{row['proposed_sites']} 个"
        )
    palace = "yes" if row["has_cultural_palace"] else "none (location proposed)"
    return (
        f"Integrated sites: {row['sites_integrated']}/{row['integrated_target']}, "
        f"shortfall {row['integrated_shortfall']}; cultural palace: {palace}; "
        f"proposed new sites: {row['proposed_sites']}"
    )


def _with_county(df: pd.DataFrame, county: str) -> pd.DataFrame:
    """``df`` with a ``county`` column (first when new), set in place."""
    if "county" in df.columns:
        df["county"] = county
    else:
        df.insert(0, "county", county)
    return df
