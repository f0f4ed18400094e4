"""Small generated audit inputs for the reliability tests (issue 11): a street grid saved as
``.npz``, three rectangular counties side by side, sites and communities as CSV. Every audit on
them takes about a second per county."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from helpers import grid_network, metres_to_lonlat

#: County names and codes, west to east; each county is 600 m wide.
COUNTIES = [("甲区", "420001"), ("乙区", "420002"), ("丙区", "420003")]
WIDTH_M = 600.0


def make_inputs(
    folder: Path,
    *,
    names: list[tuple[str, str]] | None = None,
    n_sites: int = 12,
    n_comms: int = 36,
    seed: int = 3,
) -> dict[str, Path]:
    """Write network.npz, counties.geojson, sites.csv and communities.csv into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    names = names or COUNTIES
    k = len(names)
    n = int(k * WIDTH_M / 100) + 1
    net = grid_network(n=n, spacing=100.0, seed=seed)
    net.save_npz(folder / "network.npz")
    polys = []
    for i in range(k):
        x0, x1 = i * WIDTH_M - (50 if i == 0 else 0), (i + 1) * WIDTH_M - (0 if i < k - 1 else -50)
        lon, lat = metres_to_lonlat(np.array([x0, x1]), np.array([-50.0, (n - 1) * 100 + 50]))
        polys.append(shapely.box(lon[0], lat[0], lon[1], lat[1]))
    gpd.GeoDataFrame(
        {"name": [a for a, _ in names], "adcode": [b for _, b in names]},
        geometry=polys,
        crs=4326,
    ).to_file(folder / "counties.geojson", driver="GeoJSON")
    rng = np.random.default_rng(seed)
    span_x, span_y = k * WIDTH_M - 40, (n - 1) * 100.0 - 40
    sx, sy = rng.uniform(20, span_x, n_sites), rng.uniform(20, span_y, n_sites)
    cx, cy = rng.uniform(20, span_x, n_comms), rng.uniform(20, span_y, n_comms)
    slon, slat = metres_to_lonlat(sx, sy)
    clon, clat = metres_to_lonlat(cx, cy)
    kinds = ["爱心驿站", "会·站·家一体化", "工人文化宫"]
    pd.DataFrame(
        {
            "编号": [f"S{i:03d}" for i in range(n_sites)],
            "名称": [f"站点{i}" for i in range(n_sites)],
            "类型": [kinds[i % 3] for i in range(n_sites)],
            "经度": slon.round(6),
            "纬度": slat.round(6),
        }
    ).to_csv(folder / "sites.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "编号": [f"C{i:03d}" for i in range(n_comms)],
            "名称": [f"社区{i}" for i in range(n_comms)],
            "人口": rng.integers(500, 5000, n_comms),
            "经度": clon.round(6),
            "纬度": clat.round(6),
        }
    ).to_csv(folder / "communities.csv", index=False, encoding="utf-8-sig")
    return {
        "network": folder / "network.npz",
        "boundaries": folder / "counties.geojson",
        "sites": folder / "sites.csv",
        "communities": folder / "communities.csv",
    }


def audit_args(p: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """``servicecircle audit`` arguments over every generated county."""
    return [
        "audit",
        "--network",
        str(p["network"]),
        "--sites",
        str(p["sites"]),
        "--communities",
        str(p["communities"]),
        "--boundaries",
        str(p["boundaries"]),
        "--all-counties",
        "--no-map",
        "--out",
        str(out),
        *extra,
    ]
