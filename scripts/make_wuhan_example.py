"""Generate example sites and communities for an audit of the central Wuhan districts.

The streets and district boundaries are real (../shared/data); the sites and communities are
GENERATED near real street nodes, for demonstrating and testing the audit, not real facts.

    python scripts/make_wuhan_example.py --out example/wuhan
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ROADS = ROOT.parent / "shared" / "data" / "wuhan" / "roads_central" / "WHroad.shp"


def make(out: Path, n_sites: int = 120, n_comms: int = 900, seed: int = 42) -> dict[str, Path]:
    from geo.config import Config
    from geo.network import build_network

    rng = np.random.default_rng(seed)
    net = build_network(ROADS, config=Config())
    pick = rng.choice(net.n_nodes, n_sites + n_comms, replace=False)
    jitter = rng.normal(0, 0.0012, (pick.size, 2))
    lon, lat = net.lon[pick] + jitter[:, 0], net.lat[pick] + jitter[:, 1]
    kinds = rng.choice(
        ["station", "integrated", "cultural_palace", "partner"], n_sites, p=[0.55, 0.3, 0.03, 0.12]
    )
    label = {
        "station": "爱心驿站",
        "integrated": "会·站·家一体化",
        "cultural_palace": "工人文化宫",
        "partner": "融合共建",
    }
    sites = pd.DataFrame(
        {
            "编号": [f"S{i:04d}" for i in range(n_sites)],
            "名称": [f"{label[k]}{i}号" for i, k in enumerate(kinds)],
            "类型": [label[k] for k in kinds],
            "经度": lon[:n_sites].round(6),
            "纬度": lat[:n_sites].round(6),
        }
    )
    comms = pd.DataFrame(
        {
            "编号": [f"C{i:04d}" for i in range(n_comms)],
            "名称": [f"示例社区{i}" for i in range(n_comms)],
            "人口": rng.integers(800, 12000, n_comms),
            "经度": lon[n_sites:].round(6),
            "纬度": lat[n_sites:].round(6),
        }
    )
    # issue 15: site capacity (seats; a palace holds far more than a roadside station) and
    # workplaces with employees, from a separate random stream so the sites and communities
    # above stay as they were
    rng2 = np.random.default_rng(seed + 1)
    cap_range = {"station": (4, 13), "integrated": (20, 61), "cultural_palace": (300, 801),
                 "partner": (10, 31)}  # fmt: skip
    sites["容量"] = [int(rng2.integers(*cap_range[k])) for k in kinds]
    n_work = max(n_comms // 3, 1)
    wpick = rng2.choice(net.n_nodes, n_work, replace=False)
    wj = rng2.normal(0, 0.0012, (n_work, 2))
    wkind = rng2.choice(["企业", "产业园", "市场", "物流园"], n_work, p=[0.6, 0.1, 0.2, 0.1])
    work = pd.DataFrame(
        {
            "编号": [f"W{i:04d}" for i in range(n_work)],
            "单位名称": [f"示例{k}{i}" for i, k in enumerate(wkind)],
            "类别": wkind,
            "职工人数": rng2.integers(30, 3000, n_work),
            "经度": (net.lon[wpick] + wj[:, 0]).round(6),
            "纬度": (net.lat[wpick] + wj[:, 1]).round(6),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "sites": out / "sites.csv",
        "communities": out / "communities.csv",
        "workplaces": out / "workplaces.csv",
    }
    sites.to_csv(paths["sites"], index=False, encoding="utf-8-sig")
    comms.to_csv(paths["communities"], index=False, encoding="utf-8-sig")
    work.to_csv(paths["workplaces"], index=False, encoding="utf-8-sig")
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("example/wuhan"))
    ap.add_argument("--sites", type=int, default=120)
    ap.add_argument("--communities", type=int, default=900)
    a = ap.parse_args()
    print(make(a.out, a.sites, a.communities))
