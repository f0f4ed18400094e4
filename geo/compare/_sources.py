"""The two ways to compare: two site lists on one network (:func:`compare_sites`) and two
audit output folders (:func:`compare_audits`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .._errors import InputError
from ..config import Config
from ..coverage import as_network, compute_coverage
from ._result import CompareResult, finish
from ._tables import ALL, community_changes, main_level_of

logger = logging.getLogger("geo.compare")


def _sites_table(res) -> pd.DataFrame:
    s = res.sites
    g = s.geometry.to_crs(4326)
    return pd.DataFrame(
        {
            "site_id": (s["site_id"] if "site_id" in s else s.index).astype(str).to_numpy(),
            "kind": (s["kind"] if "kind" in s else pd.Series("station", s.index))
            .astype(str)
            .to_numpy(),
            "name": (s["name"] if "name" in s else s.index).astype(str).to_numpy(),
            "lon": g.x.to_numpy(),
            "lat": g.y.to_numpy(),
            "county": (s["county"].astype(str).replace("", ALL) if "county" in s else ALL),
        }
    )


def _comm_table(res, level: str) -> pd.DataFrame:
    c = res.communities
    pts = c.geometry.representative_point()
    county = c["county"].astype(str).replace("", ALL) if "county" in c else ALL
    return pd.DataFrame(
        {
            "county": county,
            "community_id": c["community_id"].astype(str),
            "name": c["name"].astype(str),
            "population": c["population"].astype(float),
            "lon": pts.x.round(6),
            "lat": pts.y.round(6),
            "walk_distance_m": c["walk_distance_m"],
            "covered": c[f"covered_{level}"].astype(bool),
        }
    )


def compare_sites(
    network: Any,
    communities: gpd.GeoDataFrame,
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    config: Config | None = None,
) -> CompareResult:
    """Coverage with the ``before`` sites against the ``after`` sites, on one network.

    Parameters
    ----------
    network
        A :class:`~geo.network.Network`, osmnx graph or source path (built once).
    communities, before, after
        GeoDataFrames as from :func:`geo.load_communities` / :func:`geo.load_sites`.
    config
        Walk time, speed and levels (the 15-minute level is compared when present).
    """
    cfg = config or Config()
    net = as_network(network, cfg)
    rb = compute_coverage(net, before, communities, config=cfg, redundancy=False)
    ra = compute_coverage(net, after, communities, config=cfg, redundancy=False)
    level = main_level_of(list(cfg.levels), cfg.main_level)
    allc = community_changes(_comm_table(rb, level), _comm_table(ra, level))
    sb, sa = _sites_table(rb), _sites_table(ra)
    for st in (sb, sa):
        _county_of_sites(st, allc)
    return finish(allc, sb, sa, {"level": level, "mode": "sites", "network": net})


def _county_of_sites(sites: pd.DataFrame, comms: pd.DataFrame) -> None:
    """Sites without a county (in place): the county of the nearest community, so that the
    per-county site counts are never silently zero when only the communities carry counties."""
    missing = sites["county"].astype(str) == ALL
    counties = comms["county"].astype(str)
    if not missing.any() or (counties == ALL).all() or not len(comms):
        return
    if counties.nunique() == 1:
        sites.loc[missing, "county"] = counties.iloc[0]
        return
    ok = comms["lon"].notna() & comms["lat"].notna()
    k = np.cos(np.radians(float(comms.loc[ok, "lat"].mean())))
    tree = cKDTree(np.column_stack([comms.loc[ok, "lon"] * k, comms.loc[ok, "lat"]]))
    _, j = tree.query(np.column_stack([sites.loc[missing, "lon"] * k, sites.loc[missing, "lat"]]))
    sites.loc[missing, "county"] = counties[ok].to_numpy()[j]
    logger.info(
        "%d site(s) have no county: each counted in the county of its nearest community",
        int(missing.sum()),
    )


def _flag(col: pd.Series) -> pd.Series:
    """A true/false column read back from CSV ("True" or "1" is true, any case)."""
    return col.astype(str).str.lower().isin(["true", "1"])


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError(
            f"{path.name} is missing in {path.parent}",
            value=str(path),
            fix="pass the output folders of two `servicecircle audit` runs",
        )
    return pd.read_csv(
        path, encoding="utf-8-sig", dtype={"code": str, "community_id": str, "site_id": str}
    )


def _audit_tables(folder: Path, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    comm = _read(folder / "communities.csv")
    flag = f"covered_{level}" if f"covered_{level}" in comm else "covered"
    c = pd.DataFrame(
        {
            "county": comm["county"].astype(str),
            "community_id": comm["community_id"].astype(str),
            "name": comm["name"].astype(str),
            "population": comm["population"].astype(float),
            "lon": comm["lon"],
            "lat": comm["lat"],
            "walk_distance_m": comm["walk_distance_m"],
            "covered": _flag(comm[flag]),
        }
    )
    frames = []
    for p in sorted((folder / "counties").glob("*/sites.csv")):
        s = pd.read_csv(p, encoding="utf-8-sig", dtype={"site_id": str})
        if "in_county" in s:
            s = s[_flag(s["in_county"])]
        county = s["county"].astype(str) if "county" in s else p.parent.name
        frames.append(
            pd.DataFrame(
                {
                    "site_id": s["site_id"].astype(str) if "site_id" in s else "",
                    "kind": s["kind"].astype(str),
                    "name": s["name"].astype(str),
                    "lon": s["lon"].astype(float),
                    "lat": s["lat"].astype(float),
                    "county": county,
                }
            )
        )
    sites = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["site_id", "kind", "name", "lon", "lat", "county"])
    )
    return c, sites


def compare_audits(
    before_dir: str | Path, after_dir: str | Path, *, level: str = "15min"
) -> CompareResult:
    """Compare two audit output folders (e.g. 2024 against 2025) county by county."""
    cb, sb = _audit_tables(Path(before_dir), level)
    ca, sa = _audit_tables(Path(after_dir), level)
    allc = community_changes(cb, ca)
    for col in ("name", "population", "lon", "lat"):  # communities only in the later audit
        if col in allc and f"{col}" in ca:
            fill = allc[["county", "community_id"]].merge(
                ca, on=["county", "community_id"], how="left"
            )[col]
            allc[col] = allc[col].fillna(pd.Series(fill.to_numpy(), index=allc.index))
    allc["population"] = allc["population"].fillna(0.0)
    return finish(allc, sb, sa, {"level": level, "mode": "audits"})
